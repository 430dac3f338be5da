"""mcpkit_http: serve mcpkit servers over Streamable HTTP and SSE, and mount them in web apps.

Installed with ``pip install 'mcpkit[http]'``; it registers the ``http`` and ``sse`` transports, so
``mcp.http_app(...)`` and ``mcp.run(transport="http")`` work. See docs/http.md.
"""

from mcpkit_http.app import MCPApp
from mcpkit_http.authorization import Authorization
from mcpkit_http.lifespan import combine_lifespans
from mcpkit_http.transports import HTTPTransport, SSETransport, UvicornTransport
from mcpkit_http.verifiers import (
    IntrospectionVerifier,
    JWTVerifier,
    StaticTokenVerifier,
    TokenVerificationUnavailable,
)

__all__ = [
    "Authorization",
    "HTTPTransport",
    "IntrospectionVerifier",
    "JWTVerifier",
    "MCPApp",
    "SSETransport",
    "StaticTokenVerifier",
    "TokenVerificationUnavailable",
    "UvicornTransport",
    "combine_lifespans",
]

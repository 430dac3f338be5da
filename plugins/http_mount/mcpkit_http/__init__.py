"""mcpkit_http: serve mcpkit servers over Streamable HTTP and SSE, and mount them in web apps.

Installed with ``pip install 'mcpkit[http]'``; it registers the ``http`` and ``sse`` transports, so
``mcp.http_app(...)`` and ``mcp.run(transport="http")`` work. See docs/http.md.
"""

from mcpkit_http.app import MCPApp
from mcpkit_http.lifespan import combine_lifespans
from mcpkit_http.transports import HTTPTransport, SSETransport, UvicornTransport

__all__ = ["HTTPTransport", "MCPApp", "SSETransport", "UvicornTransport", "combine_lifespans"]

"""mcpkit_openapi: MCP servers from OpenAPI documents (3.0, 3.1, Swagger 2.0), an mcpkit plugin.

``MCPKit.from_openapi(openapi_spec=..., client=httpx.AsyncClient(...))`` is the usual entry point;
:func:`convert` gives the components and a report without building a server.
"""

from mcpkit_openapi.errors import ConversionWarning, OpenAPIError
from mcpkit_openapi.source import Conversion, convert

__all__ = ["Conversion", "ConversionWarning", "OpenAPIError", "convert"]

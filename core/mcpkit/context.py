"""The request being served, for code running inside a tool or resource reader.

The server sets it around every ``tools/call`` and ``resources/read`` it handles. Outside a request
(or when a component is called directly with :meth:`mcpkit.MCPKit.call_tool`) there is none.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.context import ServerRequestContext


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The SDK's context of the request being served, and the names of headers the server forwards."""

    sdk: ServerRequestContext[Any, Any]
    forward_headers: frozenset[str]

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers of the HTTP request that carried this MCP request (empty over stdio)."""
        request = self.sdk.request
        headers = getattr(request, "headers", None)
        return headers if isinstance(headers, Mapping) else {}


_current: ContextVar[RequestContext | None] = ContextVar("mcpkit_request", default=None)


def current_request() -> RequestContext | None:
    """The request being served, or ``None`` outside one."""
    return _current.get()


def forwarded_headers() -> dict[str, str]:
    """The incoming HTTP headers this server is configured to forward to the API behind its tools.

    Only headers named in ``MCPKit(forward_headers=[...])`` (or ``MCPKIT_FORWARD_HEADERS``) are
    returned, lowercased; nothing is forwarded by default. Sources that call HTTP APIs add these to
    their outgoing requests.
    """
    request = _current.get()
    if request is None or not request.forward_headers:
        return {}
    return {name: value for name, value in request.headers.items() if name.lower() in request.forward_headers}


@contextmanager
def serving(sdk_context: ServerRequestContext[Any, Any], forward_headers: frozenset[str]) -> Iterator[None]:
    """Make ``sdk_context`` the current request for the duration of the block."""
    token = _current.set(RequestContext(sdk_context, forward_headers))
    try:
        yield
    finally:
        _current.reset(token)

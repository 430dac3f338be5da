"""Hook implementations of mcpkit_http: the ``http`` and ``sse`` transports."""

from __future__ import annotations

from mcpkit import hookimpl
from mcpkit.registry import Register
from mcpkit.transports import Transport
from mcpkit_http.transports import HTTPTransport, SSETransport


@hookimpl
def mcpkit_register_transports(register: Register[type[Transport]]) -> None:
    """Register ``http`` (Streamable HTTP) and ``sse``."""
    register("http", HTTPTransport)
    register("sse", SSETransport)

"""Transports: how a server is served. One method to implement, like httpx's transports.

Transports are registered by plugins through ``mcpkit_register_transports``; the kernel ships
``stdio``. The ``mcpkit-http`` plugin adds ``http`` (Streamable HTTP) and ``sse``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from mcp.server.stdio import stdio_server

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from mcpkit.server import MCPKit


class Transport(ABC):
    """Serves an :class:`~mcpkit.MCPKit` server. Options are constructor keyword arguments."""

    @abstractmethod
    async def serve(self, server: MCPKit) -> None:
        """Serve ``server`` until the transport closes or the task is cancelled."""


class ASGITransport(Transport):
    """A transport that can also hand out its ASGI application, for mounting in a web app.

    ASGI transports take the URL ``path`` the MCP endpoint is served at.
    """

    def __init__(self, *, path: str = "/mcp") -> None:
        self.path = path

    @abstractmethod
    def app(self, server: MCPKit) -> ASGIApp:
        """An ASGI application serving ``server``; it must carry a ``lifespan`` to be run by the host."""


class StdioTransport(Transport):
    """Serves one client over the process's standard input and output (what desktop clients launch)."""

    def __init__(self, **options: Any) -> None:
        if options:
            raise TypeError(f"the stdio transport takes no options, got: {', '.join(sorted(options))}")

    async def serve(self, server: MCPKit) -> None:
        """Serve until standard input closes."""
        lowlevel = server.lowlevel_server
        async with stdio_server() as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())

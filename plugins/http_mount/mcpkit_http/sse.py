"""The SSE endpoint (the older HTTP+SSE transport): a GET stream plus a path to POST messages to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from mcp.server import Server
from mcp.server.runner import serve_dual_era_loop
from mcp.server.sse import SseServerTransport
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpkit_http.app import Endpoint


class SSERunner:
    """One run of the SSE endpoint: the SDK's SSE transport and the server's entered lifespan."""

    def __init__(
        self,
        server: Server[Any],
        transport: SseServerTransport,
        security: TransportSecuritySettings,
        lifespan_state: Any,
    ) -> None:
        self._server = server
        self._transport = transport
        self._security = TransportSecurityMiddleware(security)
        self._lifespan_state = lifespan_state
        self.message = transport.handle_post_message
        """ASGI app receiving the messages a client POSTs."""

    async def stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI app of the GET stream: serves one client connection until it closes."""
        refusal = await self._security.validate_request(Request(scope, receive))
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        async with self._transport.connect_sse(scope, receive, send) as (read_stream, write_stream):
            await serve_dual_era_loop(
                self._server,
                read_stream,
                write_stream,
                lifespan_state=self._lifespan_state,
                init_options=self._server.create_initialization_options(),
            )


class SSEEndpoint(Endpoint[SSERunner]):
    """Serves the SSE stream at ``path`` (GET) and receives messages at ``message_path`` (POST)."""

    def __init__(
        self,
        server: Server[Any],
        *,
        path: str,
        message_path: str,
        security: TransportSecuritySettings,
        max_request_body_size: int,
    ) -> None:
        super().__init__()
        self._server = server
        self._path = path
        self._message_path = message_path
        self._security = security
        self._new_transport = partial(
            SseServerTransport,
            message_path,
            security_settings=security,
            max_request_body_size=max_request_body_size,
        )
        self._new_transport()  # the SDK validates the options now, rather than when the app starts

    @asynccontextmanager
    async def run(self) -> AsyncIterator[SSERunner]:
        """Enter the server's lifespan once for all connections, with a new SSE transport."""
        async with self._server.lifespan(self._server) as state:
            yield SSERunner(self._server, self._new_transport(), self._security, state)

    def routes(self, protect: Callable[[ASGIApp], ASGIApp]) -> list[BaseRoute]:
        """The GET stream route and the message mount."""
        return [
            Route(self._path, endpoint=protect(self.handler(lambda runner: runner.stream)), methods=["GET"]),
            Mount(self._message_path, app=protect(self.handler(lambda runner: runner.message))),
        ]

"""The Streamable HTTP endpoint, served by the SDK's session manager (a fresh one per lifespan run)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from mcp.server import Server
from mcp.server.streamable_http import EventStore
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from mcpkit_http.app import Endpoint


class StreamableHTTPEndpoint(Endpoint[StreamableHTTPSessionManager]):
    """Serves MCP at one path: POST for messages, GET for the server's stream, DELETE to end a session.

    Both protocol eras are served: the handshake era (with sessions, unless ``stateless``) and the
    sessionless 2026-07-28 protocol, chosen per request by the ``MCP-Protocol-Version`` header.
    """

    def __init__(
        self,
        server: Server[Any],
        *,
        path: str,
        security: TransportSecuritySettings,
        stateless: bool,
        json_response: bool,
        event_store: EventStore | None,
        retry_interval: int | None,
        session_idle_timeout: float | None,
        max_sessions: int | None,
        max_request_body_size: int,
    ) -> None:
        super().__init__()
        self._path = path
        self._event_store = event_store
        self._new_manager = partial(
            StreamableHTTPSessionManager,
            app=server,
            event_store=event_store,
            json_response=json_response,
            stateless=stateless,
            security_settings=security,
            retry_interval=retry_interval,
            session_idle_timeout=session_idle_timeout,
            max_request_body_size=max_request_body_size,
            max_sessions=max_sessions,
        )
        self._new_manager()  # the SDK validates the options now, rather than when the app starts

    @asynccontextmanager
    async def run(self) -> AsyncIterator[StreamableHTTPSessionManager]:
        """A new session manager, running until the lifespan ends (its sessions end with it)."""
        manager = self._new_manager()
        async with manager.run():
            yield manager

    def routes(self, protect: Callable[[ASGIApp], ASGIApp]) -> list[BaseRoute]:
        """One route at exactly the path (no redirect for POSTs when mounted). An event store with a
        ``wrap_endpoint(app)`` method wraps the endpoint, inside ``protect`` (a shared store uses it to
        keep streams per session and resume them on any replica: mcpkit_redis.RedisEventStore)."""
        handler = self.handler(lambda manager: manager.handle_request)
        wrap = getattr(self._event_store, "wrap_endpoint", None)
        return [Route(self._path, endpoint=protect(wrap(handler) if callable(wrap) else handler))]

"""The mountable MCP app, and the per-run machinery behind each of its endpoints.

The SDK's transport machinery (a Streamable HTTP session manager, an SSE transport) can start only
once. So an :class:`Endpoint` makes a fresh one, its *runner*, every time its lifespan runs, and
hands it to requests through the lifespan state: the same app can be started again, or by two
servers at once (two test clients), and its routes keep working when merged into another app.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Generic, TypeVar

from mcp_types import INTERNAL_ERROR
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpkit_http.lifespan import Lifespan

logger = logging.getLogger(__name__)

R = TypeVar("R")

LIFESPAN_NOT_RUNNING = (
    "the MCP app's lifespan is not running, so it cannot serve requests. Pass it to the app that "
    "serves it: FastAPI(lifespan=mcp_app.lifespan) or Starlette(lifespan=mcp_app.lifespan); "
    "to keep your own lifespan too, use "
    "lifespan=mcpkit_http.combine_lifespans(your_lifespan, mcp_app.lifespan)"
)


class Endpoint(ABC, Generic[R]):
    """An MCP endpoint whose runner (``R``) is created by each run of :meth:`lifespan`."""

    def __init__(self) -> None:
        self._state_key = f"mcpkit_http.runner.{id(self):x}"
        self._running: list[R] = []

    @abstractmethod
    def run(self) -> AbstractAsyncContextManager[R]:
        """Start a fresh runner, for one run of the lifespan."""

    @abstractmethod
    def routes(self, protect: Callable[[ASGIApp], ASGIApp]) -> list[BaseRoute]:
        """The endpoint's routes; ``protect`` wraps every ASGI app that serves MCP traffic."""

    @asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[dict[str, Any]]:
        """Run a fresh runner for as long as the host app runs; its state carries the runner."""
        async with self.run() as runner:
            self._running.append(runner)
            try:
                yield {self._state_key: runner}
            finally:
                self._running.remove(runner)

    def handler(self, select: Callable[[R], ASGIApp]) -> ASGIApp:
        """An ASGI app passing each request to ``select(runner)`` of the runner serving it."""
        return _Handler(self, select)

    def runner(self, scope: Scope) -> R | None:
        """The runner serving ``scope``: the one in its lifespan state, else the latest one started
        (for a host lifespan that enters ``mcp_app.lifespan`` but drops its state)."""
        state = scope.get("state")
        if isinstance(state, Mapping) and self._state_key in state:
            runner: R = state[self._state_key]
            return runner
        return self._running[-1] if self._running else None


class _Handler(Generic[R]):
    def __init__(self, endpoint: Endpoint[R], select: Callable[[R], ASGIApp]) -> None:
        self._endpoint = endpoint
        self._select = select

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runner = self._endpoint.runner(scope)
        if runner is None:
            logger.error("%s %s: %s", scope.get("method"), scope.get("path"), LIFESPAN_NOT_RUNNING)
            error = {"code": INTERNAL_ERROR, "message": LIFESPAN_NOT_RUNNING}
            body = {"jsonrpc": "2.0", "id": None, "error": error}
            await JSONResponse(body, status_code=500)(scope, receive, send)
            return
        await self._select(runner)(scope, receive, send)


class MCPApp(Starlette):
    """A Starlette app serving an MCP endpoint.

    Serve it directly, mount it (``app.mount("/analytics", mcp_app)``) or merge its ``routes`` into
    another app; in every case the serving app must run :attr:`lifespan`.
    """

    def __init__(
        self,
        *,
        routes: Sequence[BaseRoute],
        lifespan: Lifespan[Any],
        middleware: Sequence[Middleware] = (),
        debug: bool = False,
        well_known_routes: Sequence[BaseRoute] = (),
    ) -> None:
        super().__init__(debug=debug, routes=routes, middleware=middleware, lifespan=lifespan)
        self._lifespan = lifespan
        self._well_known_routes = list(well_known_routes)

    @property
    def lifespan(self) -> Lifespan[Any]:
        """The lifespan to run in the app that serves this one: ``FastAPI(lifespan=mcp_app.lifespan)``."""
        return self._lifespan

    @property
    def well_known_routes(self) -> list[BaseRoute]:
        """Routes to serve at the host's root (the protected resource metadata, with ``auth=``).
        When mounted, the lifespan adds them to the app that runs it; an app of your own can take
        them: ``FastAPI(routes=[*mcp_app.well_known_routes, ...])``."""
        return list(self._well_known_routes)

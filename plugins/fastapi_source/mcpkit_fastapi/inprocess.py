"""Serving an ASGI app in-process: its lifespan, and an httpx transport that calls it without a socket.

:class:`InProcessApp` runs the app's lifespan over the ASGI lifespan protocol, as uvicorn does (so
FastAPI's ``lifespan=``, startup/shutdown handlers and lifespan *state* all work). Each run has its own
state; the requests made during a run carry a shallow copy of it as ``scope["state"]`` (what
``request.state`` reads), as uvicorn does for every request.

:class:`AppTransport` is the httpx transport. The request's read timeout (``httpx.Timeout``) bounds
the wait for the response. While a run is active the app is called in a task of that run, so a
timeout also frees the caller from a synchronous endpoint stuck in a worker thread (a thread cannot
be cancelled: the endpoint is abandoned and finishes in the background, as behind a real server
whose client went away).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from anyio.abc import TaskGroup

from mcpkit import MCPKitError
from mcpkit.context import current_request

logger = logging.getLogger("mcpkit_fastapi")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

CLIENT_ADDRESS = ("127.0.0.1", 123)
"""The client address requests carry (what ``httpx.ASGITransport`` uses)."""


class AppLifespanError(MCPKitError, RuntimeError):
    """The app's lifespan failed to start or to shut down."""


@dataclass(eq=False)
class _Startup:
    """An app's lifespan starting in-process; its tasks see it in :data:`_STARTUPS` until it is done."""

    app: InProcessApp
    done: bool = False


_STARTUPS: ContextVar[tuple[_Startup, ...]] = ContextVar("mcpkit_fastapi_startups", default=())


@dataclass(eq=False)
class AppRun:
    """One run of the app's lifespan: the state it yielded, and the tasks its requests run in.

    ``server_state`` is the lifespan state of the MCP server run this app run belongs to: requests
    made while serving that run use this app run.
    """

    state: dict[str, Any]
    server_state: dict[str, Any]
    tasks: TaskGroup | None = field(default=None, repr=False)


class _LifespanProtocol:
    """Talks the ASGI lifespan protocol with an app, from the server's side."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.error: Exception | None = None
        self.supported = True
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](1)
        self._to_host, self._host_inbox = anyio.create_memory_object_stream[Message](1)
        # Shielded: the app shuts down gracefully even when the server run is cancelled (Ctrl+C).
        self._scope = anyio.CancelScope(shield=True)

    async def serve(self) -> None:
        """Run the app's lifespan handler (a task of its own) until it returns or :meth:`abort`."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}
        try:
            with self._scope:
                await self.app(scope, self._app_inbox.receive, self._to_host.send)
        except Exception as exc:
            self.error = exc
        finally:
            self._to_host.close()
            self._app_inbox.close()

    def abort(self) -> None:
        """Stop the app's lifespan handler without a shutdown (its startup did not complete)."""
        self._scope.cancel()

    async def startup(self) -> None:
        """Start the app; raises :class:`AppLifespanError` if its startup fails."""
        reply = await self._exchange("startup")
        if reply is None:
            # The app ended the protocol without an answer: like uvicorn, run without a lifespan.
            self.supported = False
            logger.info("the app does not support the ASGI lifespan protocol; running without it")
        elif reply["type"] != "lifespan.startup.complete":
            raise self._failure("start", reply)

    async def shutdown(self) -> None:
        """Shut the app down; raises :class:`AppLifespanError` if its shutdown fails."""
        if not self.supported:
            return
        reply = await self._exchange("shutdown")
        if reply is not None and reply["type"] != "lifespan.shutdown.complete":
            raise self._failure("shut down", reply)

    async def _exchange(self, event: str) -> Message | None:
        try:
            await self._to_app.send({"type": f"lifespan.{event}"})
            return await self._host_inbox.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError):  # the handler has returned
            return None

    def _failure(self, what: str, reply: Message) -> AppLifespanError:
        if self.error is not None:
            error = AppLifespanError(f"the app failed to {what}: {type(self.error).__name__}: {self.error}")
            error.__cause__ = self.error
            return error
        return AppLifespanError(f"the app failed to {what}: {reply.get('message') or reply['type']}")


class InProcessApp:
    """An ASGI app called in-process: lifespan runs and requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._runs: list[AppRun] = []

    @asynccontextmanager
    async def run(self) -> AsyncIterator[AppRun]:
        """Run the app's lifespan around the block (startup before, shutdown after).

        Requests still running when the block ends are cancelled (a synchronous endpoint's thread is
        waited for) before the app shuts down. Errors of the block pass through unchanged.
        """
        failure: Exception | None = None
        protocol = _LifespanProtocol(self.app)
        startup = _Startup(self)
        async with anyio.create_task_group() as lifespan_task:
            token = _STARTUPS.set((*_STARTUPS.get(), startup))
            try:
                lifespan_task.start_soon(protocol.serve)  # its task copies the context: it sees startup
            finally:
                _STARTUPS.reset(token)
            started = False
            try:
                await protocol.startup()
                started = True
            except Exception as exc:  # raised below, out of the task group's exception group
                failure = exc
            finally:
                startup.done = True
                if not started:
                    protocol.abort()
            if started:
                run = AppRun(state=protocol.state, server_state=dict(protocol.state))
                self._runs.append(run)
                try:
                    async with anyio.create_task_group() as run.tasks:
                        try:
                            yield run
                        except Exception as exc:
                            failure = exc
                        finally:
                            run.tasks.cancel_scope.cancel()
                finally:
                    self._runs.remove(run)
                    with anyio.CancelScope(shield=True):
                        try:
                            await protocol.shutdown()
                        except AppLifespanError as exc:
                            if failure is None:
                                failure = exc
                            else:
                                logger.error("%s", exc)
        if failure is not None:
            raise failure

    def starting_here(self) -> bool:
        """Whether the caller runs inside this app's lifespan while :meth:`run` starts it: the app's
        lifespan has come back to whatever called :meth:`run` (it serves the MCP server built from
        it, with ``lifespan=mcp_app.lifespan``)."""
        return any(startup.app is self and not startup.done for startup in _STARTUPS.get())

    def current_run(self) -> AppRun | None:
        """The run serving the current MCP request, else the latest run still active, else ``None``."""
        if not self._runs:
            return None
        request = current_request()
        if request is not None and request.sdk is not None:
            server_state = request.sdk.lifespan_context
            for run in self._runs:
                if run.server_state is server_state:
                    return run
        return self._runs[-1]

    async def handle(self, request: httpx.Request, state: dict[str, Any] | None) -> httpx.Response:
        """Send ``request`` to the app and collect the whole response.

        An exception the app lets escape is logged; the response is then what the app had sent, or
        an empty 500 if it had sent nothing (what a client of a real server would see).
        """
        body = await request.aread()
        url = request.url
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "server": (url.host, url.port),
            "client": CLIENT_ADDRESS,
            "root_path": "",
        }
        if state is not None:
            scope["state"] = state.copy()
        exchange = _Exchange(body, request.method != "HEAD")
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except Exception:
            logger.exception("the app raised while serving %s %s", request.method, url.path)
            exchange.finish()
        return httpx.Response(
            exchange.status or 500, headers=exchange.headers, content=b"".join(exchange.body), request=request
        )


class _Exchange:
    """The ``receive`` and ``send`` of one request: the whole body in, the whole response out."""

    def __init__(self, body: bytes, keep_body: bool) -> None:
        self._request_body: bytes | None = body
        self._keep_body = keep_body
        self._done: anyio.Event | None = None
        self.complete = False
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []

    async def receive(self) -> Message:
        if self._request_body is not None:
            body, self._request_body = self._request_body, None
            return {"type": "http.request", "body": body, "more_body": False}
        # Asked again (an app listening for a disconnect): the client goes once the response is done.
        if not self.complete:
            if self._done is None:
                self._done = anyio.Event()
            await self._done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif kind == "http.response.body":
            body = message.get("body", b"")
            if body and self._keep_body:
                self.body.append(body)
            if not message.get("more_body", False):
                self.finish()

    def finish(self) -> None:
        self.complete = True
        if self._done is not None:
            self._done.set()


class AppTransport(httpx.AsyncBaseTransport):
    """An httpx transport for an :class:`InProcessApp`: no socket, the app's lifespan state, real timeouts."""

    def __init__(self, app: InProcessApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Call the app; the request's read timeout bounds the wait (``httpx.ReadTimeout``)."""
        seconds = (request.extensions.get("timeout") or {}).get("read")
        run = self.app.current_run()
        state = None if run is None else run.state
        if seconds is None:
            return await self.app.handle(request, state)
        if run is None or run.tasks is None:
            with anyio.move_on_after(seconds):
                return await self.app.handle(request, state)
            raise _timed_out(request, seconds)
        return await _in_background(run.tasks, lambda: self.app.handle(request, state), seconds, request)


async def _in_background(
    tasks: TaskGroup, call: Callable[[], Awaitable[httpx.Response]], seconds: float, request: httpx.Request
) -> httpx.Response:
    """Await ``call()`` in a task of ``tasks``; after ``seconds`` stop waiting and cancel that task."""
    outcome: list[httpx.Response | Exception] = []
    done = anyio.Event()
    scope = anyio.CancelScope()

    async def run() -> None:
        try:
            with scope:
                outcome.append(await call())
        except Exception as exc:
            outcome.append(exc)
        finally:
            done.set()

    tasks.start_soon(run)
    try:
        with anyio.move_on_after(seconds):
            await done.wait()
    finally:
        if not done.is_set():
            scope.cancel()  # the app's task stops at its next checkpoint (a thread is left to finish)
    if not done.is_set():
        raise _timed_out(request, seconds)
    if not outcome:
        raise httpx.ReadError("the app's lifespan ended before it answered", request=request)
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


def _timed_out(request: httpx.Request, seconds: float) -> httpx.ReadTimeout:
    return httpx.ReadTimeout(f"the app did not answer within {seconds:g} s", request=request)

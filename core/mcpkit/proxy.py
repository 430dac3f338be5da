"""Proxies: a server serving another MCP server's components (:meth:`mcpkit.MCPKit.as_proxy`).

``MCPKit.as_proxy(target)`` connects to ``target``, an MCP server anywhere: a URL (Streamable HTTP),
a stdio command (a list of strings or ``StdioServerParameters``), an :class:`~mcpkit.MCPKit` (in
memory) or a :class:`~mcpkit.Client` of one of these (for SSE, headers or a protocol era). The proxy
is an ordinary :class:`~mcpkit.MCPKit`: the remote's tools, resources, resource templates and prompts
are components whose functions forward (completions included), so mounting, discovery search,
middleware, ``enable``/``disable`` and scopes apply to them as to any other.

- **Relays.** Progress, log messages, elicitation and sampling requests of the remote reach the
  proxy's own client through the request's :class:`~mcpkit.Context`, whatever protocol era either
  side speaks. A question asked in the 2026-07-28 protocol ends the round; the remote is called again
  with the answer (so, as in that protocol, code before a question may run more than once).
- **Sessions.** The proxy keeps up to ``max_sessions`` sessions with the remote while it is served
  (8; 1 for a stdio command, a single process), each serving one request at a time, so the remote's
  logs and questions reach the right client. Outside a serving run (a component called directly,
  a server imported with ``import_server``) a session is opened for each request.
- **In sync.** Components are loaded when the proxy starts serving, again before each of the
  proxy's own listings, and when the remote says its lists changed; the proxy's clients are told
  when something changed. A mounted proxy is not listed through itself: it follows the remote's
  change notifications (and reloads everything when the remote comes back).
- **Failures.** A remote that cannot be reached, drops the connection or does not answer within
  ``timeout`` gives an error naming it (a tool error result for calls, a protocol error otherwise);
  the next request connects again. A listing that fails serves the components last loaded (it fails
  when none ever were).
- **Bounds.** A message from the remote over HTTP is at most ``max_message_bytes``; a listing holds
  at most :data:`MAX_COMPONENTS` items of a kind in at most :data:`MAX_PAGES` pages; every request
  to the remote, questions included, ends within ``timeout``; connecting ends within
  ``connect_timeout``. A remote's component that cannot be served (an invalid name, a schema that
  cannot be served) is skipped and logged.

The proxy authenticates to the remote with what its target says (``Client(url, headers=...)``),
never with its own clients' credentials.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx2
import mcp_types as types
from anyio.abc import TaskGroup, TaskStatus
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import PromptsListChanged, ResourcesListChanged, ServerEvent, ToolsListChanged
from mcp.shared.uri_template import UriTemplate
from mcp_types import CONNECTION_CLOSED, INTERNAL_ERROR, INVALID_PARAMS, PARSE_ERROR
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel

from mcpkit.client import Client, ToolCallResult
from mcpkit.components import Resource, ResourceContent, ResourceTemplate, Tool
from mcpkit.context import AnswerT, Context, current_context
from mcpkit.elicitation import (
    InputRequired,
    MissingCapabilityError,
)
from mcpkit.exceptions import MCPKitError, SchemaError, ToolCallError, ToolError
from mcpkit.middleware import CallNext, Middleware, Request
from mcpkit.prompts import Prompt

if TYPE_CHECKING:
    from mcpkit.server import MCPKit

logger = logging.getLogger(__name__)

T = TypeVar("T")
ServerT = TypeVar("ServerT", bound="MCPKit")
Kind = Literal["tools", "resources", "prompts"]
KINDS: tuple[Kind, ...] = ("tools", "resources", "prompts")

DEFAULT_TIMEOUT = 60.0
"""Seconds a forwarded request (questions to the user included) may take."""
DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds connecting to the remote may take."""
DEFAULT_MAX_SESSIONS = 8
"""Sessions with the remote at most (one request each at a time); 1 for a stdio command."""
DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""Bytes one message from the remote over HTTP may take."""
MAX_COMPONENTS = 10_000
"""Items of one kind (tools, resources, resource templates, prompts) a remote may list."""
MAX_PAGES = 100
"""Pages one listing of the remote may take."""
RECONNECT_DELAYS = (0.5, 30.0)
"""The first and longest wait before connecting again to a remote that went away (doubling)."""
RELOAD_DELAY = 0.25
"""Seconds the proxy waits after the remote says something changed before reloading (a burst of
change notifications is one reload)."""
_SSE_READ_TIMEOUT = 300.0


class ProxyError(MCPKitError):
    """The proxied server could not be reached, dropped the connection, or did not answer in time."""


# The target: how to connect to the remote


@dataclass(frozen=True)
class _Remote:
    """How to connect to the proxied server: ``name`` says which in errors (never a credential);
    ``connect`` makes a new, unconnected client with the given handlers."""

    name: str
    connect: Callable[..., Client]
    stdio: bool


def _remote(target: Any, max_message_bytes: int, connect_timeout: float) -> _Remote:
    if isinstance(target, Client):  # connect the way it does
        return _remote_of(target.target, max_message_bytes, connect_timeout, **target.connect_options)
    return _remote_of(target, max_message_bytes, connect_timeout)


def _remote_of(
    target: Any,
    max_message_bytes: int,
    connect_timeout: float,
    mode: str = "auto",
    transport: str = "http",
    headers: Mapping[str, str] | None = None,
    auth: str | httpx2.Auth | None = None,
) -> _Remote:
    from mcpkit.server import MCPKit

    if isinstance(target, MCPKit | Server):
        name = f"{target.name!r} (in memory)"
        return _Remote(name, lambda **handlers: Client(target, mode=mode, **handlers), False)
    if isinstance(target, str):
        url, sent = target, dict(headers or {})
        if isinstance(auth, str):
            sent["Authorization"] = f"Bearer {auth}"
            auth = None
        if transport not in ("http", "sse"):
            raise ValueError(f"unknown client transport {transport!r}; valid choices: 'http', 'sse'")

        def connect_url(**handlers: Any) -> Client:
            stream = _http_transport(url, transport, sent, auth, max_message_bytes, connect_timeout)
            return Client(stream, mode=mode, **handlers)

        return _Remote(_url_name(url), connect_url, False)
    if isinstance(target, Sequence) and target and all(isinstance(part, str) for part in target):
        target = StdioServerParameters(command=target[0], args=list(target[1:]))
    if isinstance(target, StdioServerParameters):
        parameters = target
        name = f"stdio command {PurePath(parameters.command).name!r}"
        return _Remote(name, lambda **handlers: Client(parameters, mode=mode, **handlers), True)
    raise TypeError(
        "as_proxy needs a target it can connect to again: a URL, a stdio command (a list of strings or "
        f"StdioServerParameters), an MCPKit, or a Client of one of these; got {type(target).__name__}"
    )


def _url_name(url: str) -> str:
    """The URL without credentials, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else repr(url)


def _http_transport(
    url: str,
    transport: str,
    headers: dict[str, str],
    auth: httpx2.Auth | None,
    limit: int,
    connect_timeout: float,
) -> AbstractAsyncContextManager[Any]:
    """An SDK transport to ``url`` whose messages are bounded to ``limit`` bytes."""
    timeout = httpx2.Timeout(connect_timeout, read=_SSE_READ_TIMEOUT)

    def http_client(
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = timeout,
        auth: httpx2.Auth | None = auth,
    ) -> httpx2.AsyncClient:
        bounded = _BoundedBodies(httpx2.AsyncHTTPTransport(), limit)
        return httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth, transport=bounded)

    if transport == "sse":
        return sse_client(
            url, headers=headers, timeout=connect_timeout, auth=auth, httpx_client_factory=http_client
        )

    @asynccontextmanager
    async def connect() -> AsyncIterator[Any]:
        async with (
            http_client(headers) as http,
            streamable_http_client(url, http_client=http, max_sse_event_size=limit) as streams,
        ):
            yield streams

    return connect()


class _BoundedBodies(httpx2.AsyncBaseTransport):
    """Refuses a JSON response body longer than ``limit`` bytes (the SDK bounds SSE events)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        if response.headers.get("content-type", "").lower().startswith("application/json"):
            response.stream = _BoundedBody(response.stream, self._limit)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _BoundedBody(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self._inner:
            received += len(chunk)
            if received > self._limit:
                raise httpx2.StreamError(f"the response exceeds {self._limit:,} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


# Sessions with the remote


class _Connection:
    """One session with the remote, serving one proxy request at a time: what the remote sends during
    a request (logs, questions) goes to that request's client."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self.client = proxy.remote.connect(
            raise_on_error=False,
            log_handler=self._on_log,
            log_level="debug",
            elicitation_handler=self._on_elicit,
            sampling_handler=self._on_sample,
            message_handler=self._on_message,
        )
        self.alive = False
        self.broken = False
        self.reused = False
        """Whether the session served a request before this one."""
        self.closed = anyio.Event()
        self._stop = anyio.Event()
        self._context: Context | None = None
        self._scope: anyio.CancelScope | None = None
        self._interrupt: BaseException | None = None

    @property
    def usable(self) -> bool:
        return self.alive and not self.broken

    def close(self) -> None:
        """End the session (its task leaves the client)."""
        self._stop.set()

    async def serve(self, connect_timeout: float, *, task_status: TaskStatus[_Connection]) -> None:
        """The session's task: connect, report the connection started, hold it until closed or lost."""
        started = False
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + connect_timeout) as scope:
                async with self.client:
                    await self._prepare()
                    scope.deadline = math.inf
                    self.alive = started = True
                    task_status.started(self)
                    await self._stop.wait()
            if not started:
                raise TimeoutError(f"no answer within {connect_timeout:g} s")
        except Exception as exc:
            if not started:
                raise
            logger.info("the session with %s ended: %s", self.proxy.remote.name, _reason(exc))
        finally:
            self.alive = False
            self.closed.set()

    async def _prepare(self) -> None:
        """Ask a handshake-era remote for every log message (the proxy's clients choose their level)."""
        client = self.client
        if not uses_modern(client) and client.server_capabilities.logging is not None:
            await client.set_logging_level("debug")

    async def forward(self, context: Context | None, send: Callable[[Client], Awaitable[T]]) -> T:
        """``send(client)`` for the proxy request of ``context``, within the proxy's timeout."""
        name, timeout = self.proxy.remote.name, self.proxy.timeout
        self._context, self._interrupt = context, None
        try:
            with anyio.CancelScope() as self._scope:
                try:
                    with anyio.fail_after(timeout):
                        return await send(self.client)
                except TimeoutError:
                    self.broken = True
                    raise ProxyError(
                        f"the proxied server {name} did not answer within {timeout:g} s"
                    ) from None
                except MCPError as exc:
                    failure = _TRANSPORT_FAILURES.get(exc.error.code)
                    if failure is None:  # the remote's own answer
                        raise
                    self.broken = True
                    raise ProxyError(f"{failure.format(name)}: {exc.error.message}") from None
                except MCPKitError:
                    raise
                except Exception as exc:
                    self.broken = True
                    raise ProxyError(f"the proxied server {name} failed: {_reason(exc)}") from None
            # a relay cancelled the request: the proxy's client must answer first, or cannot
            assert self._interrupt is not None
            raise self._interrupt
        finally:
            self._context = self._scope = None

    # What the remote sends

    async def _on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        context = self._context
        if context is None:
            return
        try:
            await context.log(params.level, params.data, logger_name=params.logger)
        except Exception as exc:  # the proxy's client went away: the remote's request goes on
            logger.debug("could not relay a log message: %s", _reason(exc))

    async def _on_message(self, message: Any) -> None:
        for kind, notification in _CHANGES.items():
            if isinstance(message, notification):
                self.proxy.changed(kind)

    async def _on_elicit(self, params: types.ElicitRequestParams) -> types.ElicitResult:
        request = types.ElicitRequest(params=params.model_copy(update={"meta": None}))
        answer = await self._ask(request, types.ElicitResult)
        return answer if answer is not None else types.ElicitResult(action="cancel")

    async def _on_sample(self, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        request = types.CreateMessageRequest(params=params.model_copy(update={"meta": None}))
        answer = await self._ask(request, types.CreateMessageResult)
        if answer is None:
            raise MCPError(code=INTERNAL_ERROR, message="the request was cancelled")
        return answer

    async def _ask(
        self, request: types.ElicitRequest | types.CreateMessageRequest, result: type[AnswerT]
    ) -> AnswerT | None:
        """The answer of the proxy's client to the remote's question; ``None`` when the request must
        end first (a 2026-07-28 client answers in its next round; a client without the capability
        is refused) or is over."""
        context, scope = self._context, self._scope
        if context is None or context.sdk is None or scope is None:
            raise MCPError(code=INVALID_PARAMS, message="no request of the proxy is waiting for this answer")
        try:
            with anyio.fail_after(self.proxy.timeout):
                return await context.ask(request, result, "the proxied server's question")
        except (InputRequired, MissingCapabilityError) as interrupt:
            self._interrupt = interrupt
            scope.cancel()
            await anyio.lowlevel.checkpoint()  # where the question came in the request's own task
            return None


_TRANSPORT_FAILURES = {
    CONNECTION_CLOSED: "the connection to the proxied server {} failed",
    PARSE_ERROR: "the proxied server {} sent an answer that cannot be read",
}
"""Errors the SDK reports for a request the transport failed (not the remote's answers)."""

_CHANGES: dict[Kind, type[BaseModel]] = {
    "tools": types.ToolListChangedNotification,
    "resources": types.ResourceListChangedNotification,
    "prompts": types.PromptListChangedNotification,
}


def uses_modern(client: Client) -> bool:
    """Whether ``client`` speaks the 2026-07-28 protocol."""
    return client.protocol_version in MODERN_PROTOCOL_VERSIONS


class _Run:
    """The sessions of one serving run of the proxy (its lifespan), and the task watching the remote."""

    def __init__(self, proxy: Proxy, tasks: TaskGroup, max_sessions: int) -> None:
        self.proxy = proxy
        self.tasks = tasks
        self.idle: list[_Connection] = []
        self.slots = anyio.Semaphore(max_sessions)
        self.max_sessions = max_sessions
        self._stale: set[Kind] = set()
        self._wake = anyio.Event()

    def changed(self, kind: Kind) -> None:
        """The remote's ``kind`` changed: reload them soon (a burst of changes is one reload)."""
        self._stale.add(kind)
        self._wake.set()

    async def reload(self) -> None:
        """Reload what changed, each time something did (at most once per :data:`RELOAD_DELAY`),
        until the run ends."""
        while True:
            await self._wake.wait()
            await anyio.sleep(RELOAD_DELAY)  # the rest of a burst of changes
            self._wake = anyio.Event()
            kinds, self._stale = sorted(self._stale), set()
            await self.proxy.refresh_quietly(*kinds)

    async def open(self) -> _Connection:
        """A new session, its task in this run."""
        connection = _Connection(self.proxy)
        started: _Connection = await self.tasks.start(connection.serve, self.proxy.connect_timeout)
        return started

    @asynccontextmanager
    async def session(self) -> AsyncIterator[_Connection]:
        """An idle session (or a new one) for one request; waits for one while all are busy."""
        proxy = self.proxy
        with anyio.move_on_after(proxy.timeout) as waiting:
            await self.slots.acquire()
        if waiting.cancelled_caught:
            raise ProxyError(
                f"all {self.max_sessions} sessions with the proxied server {proxy.remote.name} "
                f"stayed busy for {proxy.timeout:g} s"
            )
        connection: _Connection | None = None
        try:
            while self.idle and connection is None:
                candidate = self.idle.pop()
                if candidate.usable:
                    connection = candidate
                else:
                    candidate.close()
            if connection is None:
                connection = await proxy.connect(self.open)
            yield connection
        finally:
            self.slots.release()
            if connection is not None:
                connection.reused = True
                if connection.usable:
                    self.idle.append(connection)
                else:
                    connection.close()

    async def watch(self, ready: anyio.Event) -> None:
        """Keep one session open, load everything whenever it connects (``ready`` is set after the
        first attempt), and follow the remote's change notifications until the run ends."""
        delay = RECONNECT_DELAYS[0]
        while True:
            try:
                connection = await self.open()
            except Exception as exc:
                logger.warning(
                    "cannot connect to the proxied server %s: %s", self.proxy.remote.name, _reason(exc)
                )
                ready.set()
                await anyio.sleep(delay)
                delay = min(delay * 2, RECONNECT_DELAYS[1])
                continue
            delay = RECONNECT_DELAYS[0]
            self.idle.append(connection)
            await self.proxy.refresh_quietly(*KINDS)
            ready.set()
            await self._follow(connection)
            connection.broken = True
            if connection in self.idle:
                self.idle.remove(connection)
                connection.close()
            await anyio.sleep(delay)

    async def _follow(self, connection: _Connection) -> None:
        """Until the session ends, pass on the remote's change events (a 2026-07-28 remote sends them
        on a ``subscriptions/listen`` stream; a handshake-era one on every session)."""
        capabilities = connection.client.server_capabilities
        wanted = {kind: _announces_changes(capabilities, kind) for kind in KINDS}
        if not uses_modern(connection.client) or not any(wanted.values()):
            await connection.closed.wait()
            return
        try:
            listening = connection.client.listen(
                tools=wanted["tools"], prompts=wanted["prompts"], resources=wanted["resources"]
            )
            async with listening as events:
                async for event in events:
                    kind = _EVENT_KINDS.get(type(event))
                    if kind is not None:
                        self.proxy.changed(kind)
        except Exception as exc:
            logger.info("listening to %s ended: %s", self.proxy.remote.name, _reason(exc))


def _announces_changes(capabilities: types.ServerCapabilities, kind: Kind) -> bool:
    declared = getattr(capabilities, kind)
    return bool(declared is not None and declared.list_changed)


_EVENT_KINDS: dict[type[ServerEvent], Kind] = {
    ToolsListChanged: "tools",
    ResourcesListChanged: "resources",
    PromptsListChanged: "prompts",
}


# The proxy


@dataclass
class _Loaded:
    """What the proxy serves of one kind of the remote's components, as the remote listed them."""

    done: int = 0
    wanted: int = 0
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    ever: bool = False


class Proxy:
    """What makes an :class:`~mcpkit.MCPKit` a proxy: the sessions with the remote, the components
    forwarding to it, and their reload."""

    def __init__(
        self,
        remote: _Remote,
        *,
        timeout: float,
        connect_timeout: float,
        max_sessions: int,
    ) -> None:
        self.remote = remote
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_sessions = max_sessions
        self.capabilities: types.ServerCapabilities | None = None
        """What the remote declared when last connected."""
        self._server: MCPKit | None = None
        self._runs: list[_Run] = []
        self._loaded = {kind: _Loaded() for kind in KINDS}
        self._served: dict[str, dict[str, Any]] = {"tool": {}, "resource": {}, "template": {}, "prompt": {}}

    @property
    def server(self) -> MCPKit:
        assert self._server is not None, "the proxy is not attached to a server"
        return self._server

    def attach(self, server: MCPKit) -> None:
        self._server = server

    # Serving runs

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Keep sessions with the remote while the block runs (the proxy's lifespan holds it)."""
        try:
            async with anyio.create_task_group() as tasks:
                run = _Run(self, tasks, self.max_sessions)
                self._runs.append(run)
                try:
                    ready = anyio.Event()
                    tasks.start_soon(run.watch, ready)
                    tasks.start_soon(run.reload)
                    with anyio.move_on_after(self.connect_timeout):
                        await ready.wait()
                    yield
                finally:
                    self._runs.remove(run)
                    tasks.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    async def connect(self, open_session: Callable[[], Awaitable[_Connection]]) -> _Connection:
        """A new session, or a :class:`ProxyError` naming the remote."""
        try:
            return await open_session()
        except Exception as exc:
            logger.warning("cannot connect to the proxied server %s: %s", self.remote.name, _reason(exc))
            raise ProxyError(
                f"cannot connect to the proxied server {self.remote.name}: {_reason(exc)}"
            ) from None

    async def request(
        self, send: Callable[[Client], Awaitable[T]], context: Context | None, *, again: bool = False
    ) -> T:
        """``send(client)`` on a session with the remote, for the proxy request of ``context`` (which
        gets the remote's logs and questions). With ``again`` (a request that may be sent twice), a
        session found broken by the request (one the remote dropped since it was last used) is
        replaced by a new one, once."""
        if not self._runs:
            return await self._request_alone(context, send)
        run = self._runs[0]
        while True:
            async with run.session() as connection:
                try:
                    return await connection.forward(context, send)
                except ProxyError:
                    if not (again and connection.reused and connection.broken):
                        raise
            again = False

    async def _request_alone(self, context: Context | None, send: Callable[[Client], Awaitable[T]]) -> T:
        """Outside a serving run: a session for this request only."""
        outcome: list[T] = []
        try:
            async with anyio.create_task_group() as tasks:
                run = _Run(self, tasks, 1)
                connection = await self.connect(run.open)
                try:
                    outcome.append(await connection.forward(context, send))
                finally:
                    connection.close()
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
        return outcome[0]

    # Keeping the components in sync

    def loaded_ever(self, kind: Kind) -> bool:
        """Whether the remote's ``kind`` were ever loaded."""
        return self._loaded[kind].ever

    def changed(self, kind: Kind) -> None:
        """The remote says its ``kind`` changed: reload them (in the serving run's task group)."""
        if self._runs:
            self._runs[0].changed(kind)

    async def refresh_quietly(self, *kinds: Kind) -> None:
        """Reload ``kinds``; a failure is logged (the components last loaded stay)."""
        for kind in kinds:
            try:
                await self.refresh(kind)
            except (ProxyError, MCPError) as exc:
                logger.warning("could not list the %s of %s: %s", kind, self.remote.name, exc)

    async def refresh(self, kind: Kind) -> None:
        """Reload the remote's ``kind`` (resources include templates). Reloads asked for while one
        runs are served by the next, which starts after them: one listing answers them all."""
        loaded = self._loaded[kind]
        loaded.wanted += 1
        ticket = loaded.wanted
        async with loaded.lock:
            if loaded.done >= ticket:
                return
            upto = loaded.wanted
            await self.request(lambda client: self._reload(client, kind), None, again=True)
            loaded.done = upto
            loaded.ever = True

    async def _reload(self, client: Client, kind: Kind) -> None:
        self.capabilities = capabilities = client.server_capabilities
        session = client.session
        if kind == "tools":
            tools = await self._every_page(session.list_tools, "tools") if capabilities.tools else []
            self._replace("tool", {tool.name: tool for tool in tools}, self._tool)
        elif kind == "prompts":
            prompts = await self._every_page(session.list_prompts, "prompts") if capabilities.prompts else []
            self._replace("prompt", {prompt.name: prompt for prompt in prompts}, self._prompt)
        else:
            resources: list[Any] = []
            templates: list[Any] = []
            if capabilities.resources:
                resources = await self._every_page(session.list_resources, "resources")
                templates = await self._every_page(session.list_resource_templates, "resource_templates")
            self._replace("resource", {str(r.uri): r for r in resources}, self._resource)
            self._replace("template", {t.uri_template: t for t in templates}, self._template)

    async def _every_page(self, fetch: Callable[..., Awaitable[Any]], items: str) -> list[Any]:
        found: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await fetch(params=types.PaginatedRequestParams(cursor=cursor))
            found.extend(getattr(page, items))
            if len(found) > MAX_COMPONENTS:
                raise ProxyError(f"{self.remote.name} lists more than {MAX_COMPONENTS:,} {items}")
            cursor = page.next_cursor
            if cursor is None:
                return found
        raise ProxyError(f"{self.remote.name} lists its {items} in more than {MAX_PAGES} pages")

    def _replace(self, kind: str, listed: Mapping[str, BaseModel], build: Callable[[Any], Any]) -> None:
        """Serve ``listed`` (the remote's components of ``kind``, by name or URI) instead of those
        served before: unchanged ones stay, and a component the server has of its own wins."""
        server = self.server
        table: dict[str, tuple[Mapping[str, Any], Callable[..., Any], Callable[[str], None]]] = {
            "tool": (server.tools, server.add_tool, server.remove_tool),
            "resource": (server.resources, server.add_resource, server.remove_resource),
            "template": (
                server.resource_templates,
                server.add_resource_template,
                server.remove_resource_template,
            ),
            "prompt": (server.prompts, server.add_prompt, server.remove_prompt),
        }
        own, add, remove = table[kind]
        served = self._served[kind]
        for key in [key for key in served if key not in listed]:
            del served[key]
            if key in own:
                remove(key)
        for key, item in listed.items():
            wire = item.model_dump(mode="json", by_alias=True, exclude_none=True)
            if served.get(key) == wire:
                continue
            if key in own and key not in served:
                logger.warning(
                    "%s lists the %s %r, which the proxy has of its own", self.remote.name, kind, key
                )
                continue
            try:
                add(build(item), replace_existing=True)
            except (ValueError, TypeError, SchemaError) as exc:
                logger.warning("%s lists a %s that cannot be served: %s", self.remote.name, kind, exc)
                if served.pop(key, None) is not None:
                    remove(key)
                continue
            served[key] = wire

    # Components that forward

    def _tool(self, listed: types.Tool) -> Tool:
        name = listed.name

        async def call(arguments: dict[str, Any]) -> types.CallToolResult:
            return await self.call_tool(name, arguments)

        return Tool(
            name=name,
            input_schema=dict(listed.input_schema),
            fn=call,
            description=listed.description,
            title=listed.title,
            output_schema=dict(listed.output_schema) if listed.output_schema is not None else None,
            annotations=listed.annotations,
            icons=listed.icons,
            meta=listed.meta,
        )

    def _resource(self, listed: types.Resource) -> Resource:
        uri = str(listed.uri)

        async def read() -> list[ResourceContent]:
            return await self.read_resource(uri)

        return Resource(
            uri=uri,
            name=listed.name,
            read=read,
            description=listed.description,
            title=listed.title,
            mime_type=listed.mime_type,
            icons=listed.icons,
            meta=listed.meta,
        )

    def _template(self, listed: types.ResourceTemplate) -> ResourceTemplate:
        uri_template = UriTemplate.parse(listed.uri_template)

        async def read(variables: dict[str, Any]) -> list[ResourceContent]:
            return await self.read_resource(uri_template.expand(variables))

        return ResourceTemplate(
            uri_template=listed.uri_template,
            name=listed.name,
            read=read,
            description=listed.description,
            title=listed.title,
            mime_type=listed.mime_type,
            icons=listed.icons,
            meta=listed.meta,
            completions=self._completers(
                types.ResourceTemplateReference(type="ref/resource", uri=listed.uri_template),
                uri_template.variable_names,
            ),
        )

    def _prompt(self, listed: types.Prompt) -> Prompt:
        name = listed.name

        async def get(arguments: dict[str, str]) -> types.GetPromptResult:
            return await self._protocol(lambda client: client.get_prompt(name, arguments))

        arguments = tuple(listed.arguments or ())
        return Prompt(
            name=name,
            fn=get,
            arguments=arguments,
            description=listed.description,
            title=listed.title,
            icons=listed.icons,
            meta=listed.meta,
            completions=self._completers(
                types.PromptReference(type="ref/prompt", name=name), [argument.name for argument in arguments]
            ),
        )

    def _completers(
        self, reference: types.PromptReference | types.ResourceTemplateReference, names: Sequence[str]
    ) -> dict[str, Any]:
        """Completers asking the remote, when it completes."""
        if self.capabilities is None or self.capabilities.completions is None:
            return {}
        ref = reference.name if isinstance(reference, types.PromptReference) else reference.uri

        def completer(argument: str) -> Callable[[str, Mapping[str, str]], Awaitable[list[str]]]:
            async def complete(typed: str, arguments: Mapping[str, str]) -> list[str]:
                others = {key: value for key, value in arguments.items() if key != argument}
                completion = await self._protocol(
                    lambda client: client.complete(ref, argument, typed, context=others or None)
                )
                return list(completion.values)

            return complete

        return {argument: completer(argument) for argument in names}

    # Forwarding

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        """Call the remote's tool ``name``; failures are tool errors naming the remote."""
        context = current_context()

        async def progress(progress: float, total: float | None, message: str | None) -> None:
            if context is not None:
                await context.report_progress(progress, total, message)

        async def call(client: Client) -> ToolCallResult:
            return await client.call_tool(name, arguments, progress_handler=progress)

        try:
            result = await self.request(call, context)
        except ProxyError as exc:
            raise ToolError(str(exc)) from None
        except ToolCallError as exc:  # a result the SDK refused (not matching the output schema)
            raise ToolError(f"the proxied server {self.remote.name} answered {exc}") from None
        except MissingCapabilityError:
            raise
        except MCPError as exc:
            if exc.error.code == INVALID_PARAMS:
                self.changed("tools")  # perhaps a tool the remote no longer has
            raise ToolError(
                f"the proxied server {self.remote.name} refused the call: {exc.error.message}"
            ) from None
        return types.CallToolResult(
            content=result.content,
            structured_content=result.structured_content,
            is_error=result.is_error,
            _meta=result.meta,
        )

    async def read_resource(self, uri: str) -> list[ResourceContent]:
        """The contents of the remote's resource ``uri``."""
        contents = await self._protocol(lambda client: client.read_resource(uri))
        items: list[ResourceContent] = []
        for item in contents:
            if isinstance(item, types.BlobResourceContents):
                try:
                    items.append(ResourceContent(base64.b64decode(item.blob, validate=True), item.mime_type))
                except binascii.Error:
                    raise MCPError(
                        code=INTERNAL_ERROR,
                        message=f"the proxied server {self.remote.name} sent invalid base64",
                    ) from None
            else:
                items.append(ResourceContent(item.text, item.mime_type))
        return items

    async def _protocol(self, send: Callable[[Client], Awaitable[T]]) -> T:
        """A forwarded request whose failures are protocol errors naming the remote."""
        try:
            return await self.request(send, current_context(), again=True)
        except ProxyError as exc:
            raise MCPError(code=INTERNAL_ERROR, message=str(exc)) from None


class _ReloadBeforeListing(Middleware):
    """Middleware of a proxy: reload the remote's components before each of the proxy's listings;
    when that fails, serve what was last loaded (fail if nothing ever was)."""

    def __init__(self, proxy: Proxy) -> None:
        self._proxy = proxy

    async def on_list_tools(self, request: Request, call_next: CallNext) -> Any:
        await self._reload("tools")
        return await call_next()

    async def on_list_resources(self, request: Request, call_next: CallNext) -> Any:
        await self._reload("resources")
        return await call_next()

    async def on_list_resource_templates(self, request: Request, call_next: CallNext) -> Any:
        await self._reload("resources")
        return await call_next()

    async def on_list_prompts(self, request: Request, call_next: CallNext) -> Any:
        await self._reload("prompts")
        return await call_next()

    async def _reload(self, kind: Kind) -> None:
        proxy = self._proxy
        try:
            await proxy.refresh(kind)
        except (ProxyError, MCPError) as exc:
            if not proxy.loaded_ever(kind):
                raise MCPError(code=INTERNAL_ERROR, message=f"listing the {kind} failed: {exc}") from None
            logger.warning("serving the %s last listed by %s: %s", kind, proxy.remote.name, exc)
            return
        # the remote was down when the others were first loaded: load them now
        await proxy.refresh_quietly(*(other for other in KINDS if not proxy.loaded_ever(other)))


def _reason(exc: BaseException) -> str:
    """What went wrong, briefly and without secrets: the first error of a group, its type, and the
    text of an OS or protocol error."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, OSError | MCPError | TimeoutError | ProxyError) and str(exc):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def build_proxy(
    cls: type[ServerT],
    target: Any,
    *,
    name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    max_sessions: int | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None,
    middleware: Sequence[object] = (),
    **server_options: Any,
) -> ServerT:
    """A ``cls`` serving the components of the MCP server ``target`` (see the module docstring)."""
    for option, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
        if not value > 0 or math.isinf(value):
            raise ValueError(f"{option} must be a positive number of seconds, got {value!r}")
    if max_message_bytes < 1 or (max_sessions is not None and max_sessions < 1):
        raise ValueError("max_sessions and max_message_bytes must be at least 1")
    remote = _remote(target, max_message_bytes, connect_timeout)
    sessions = max_sessions if max_sessions is not None else 1 if remote.stdio else DEFAULT_MAX_SESSIONS
    proxy = Proxy(remote, timeout=timeout, connect_timeout=connect_timeout, max_sessions=sessions)

    @asynccontextmanager
    async def serving(server: Any) -> AsyncIterator[Any]:
        async with proxy.running():
            if lifespan is None:
                yield {}
                return
            async with lifespan(server) as state:
                yield state

    reload = _ReloadBeforeListing(proxy)
    server = cls(name or "proxy", lifespan=serving, middleware=[*middleware, reload], **server_options)
    proxy.attach(server)
    return server

"""Change notifications: list changes, resource updates and resource subscriptions, in both eras.

Whenever components are added, removed, enabled or disabled while the server is serving, clients
are told (``notifications/{tools,resources,prompts}/list_changed``); ``mcp.notify_resource_updated(uri)``
tells the clients subscribed to ``uri``. Handshake-era clients (2024-11-05 .. 2025-11-25) get them on
their connection's own channel (the standalone stream of Streamable HTTP, stdio, SSE) after
``resources/subscribe`` for updates; 2026-07-28 clients get them on their ``subscriptions/listen``
streams, through a :class:`~mcp.server.subscriptions.SubscriptionBus` (in memory by default; a
shared bus fans events out across replicas). Every change goes through the bus, and each serving
process tells its own handshake-era clients what the bus brings: with a shared bus, a change made in
one replica reaches the clients of every replica, in both eras.

Changes are coalesced: a burst of additions sends one ``list_changed`` per kind. Delivery runs in a
task of the serving transport, never in the caller, so the calls that cause changes stay sync.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.from_thread
import anyio.lowlevel
import mcp_types as types
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    PromptsListChanged,
    ResourcesListChanged,
    ResourceUpdated,
    ServerEvent,
    SubscriptionBus,
    ToolsListChanged,
)
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcpkit.context import LOG_LEVEL_KEY, connection_of

if TYPE_CHECKING:
    from mcp.server import Server
    from mcp.server.connection import Connection
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

logger = logging.getLogger(__name__)

ListKind = Literal["tools", "resources", "prompts"]

SUBSCRIPTIONS_KEY = "mcpkit.subscriptions"
"""Where a connection keeps the URIs it subscribed to (its ``Connection.state``)."""

MAX_SUBSCRIPTIONS = 1000
"""Resource URIs one connection may subscribe to at once."""

MAX_URI_LENGTH = 4096
"""Characters of a subscribed URI at most."""

SEND_TIMEOUT = 5.0
"""Seconds one notification may take to hand to a client before that client is skipped."""

MAX_RECEIVED_UPDATES = 10_000
"""Resource updates the bus may bring before they are delivered; more are dropped (and logged)."""

_EVENTS: dict[ListKind, ServerEvent] = {
    "tools": ToolsListChanged(),
    "resources": ResourcesListChanged(),
    "prompts": PromptsListChanged(),
}
_KINDS: dict[type[ServerEvent], ListKind] = {type(event): kind for kind, event in _EVENTS.items()}


class Notifier:
    """Tracks the clients of one server and sends them change notifications."""

    def __init__(self, bus: SubscriptionBus | None = None) -> None:
        self.bus: SubscriptionBus = bus if bus is not None else InMemorySubscriptionBus()
        self.listen = ListenHandler(self.bus)
        """The ``subscriptions/listen`` handler (2026-07-28 clients)."""
        self._connections: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._pending_lists: set[ListKind] = set()
        self._pending_updates: dict[str, None] = {}
        self._received_lists: set[ListKind] = set()
        self._received_updates: dict[str, None] = {}
        self._runs: list[_Delivery] = []
        self._unsubscribe: Any = None

    def install(self, server: Server[Any]) -> None:
        """Serve ``logging/setLevel``, ``resources/(un)subscribe`` and ``subscriptions/listen`` on
        ``server``, and see every connection that sends a request."""
        server.add_request_handler("logging/setLevel", types.SetLevelRequestParams, self._on_set_level)
        server.add_request_handler("resources/subscribe", types.SubscribeRequestParams, self._on_subscribe)
        server.add_request_handler(
            "resources/unsubscribe", types.UnsubscribeRequestParams, self._on_unsubscribe
        )
        server.add_request_handler(
            "subscriptions/listen", types.SubscriptionsListenRequestParams, self.listen
        )
        server.middleware.append(self._see_connection)

    # Causes

    def lists_changed(self, *kinds: ListKind) -> None:
        """The listings of ``kinds`` changed: tell every client (coalesced; no-op when not serving)."""
        if self._runs:
            self._pending_lists.update(kinds)
            self._runs[0].wake()

    def resource_updated(self, uri: str) -> None:
        """The resource at ``uri`` changed: tell the clients subscribed to it."""
        if self._runs:
            self._pending_updates[uri] = None
            self._runs[0].wake()

    # Delivery

    @asynccontextmanager
    async def delivering(self) -> AsyncIterator[None]:
        """Deliver notifications while the block runs (the server's lifespan holds it). An error of
        the block passes through unchanged (not wrapped in an exception group)."""
        run = _Delivery(self, anyio.lowlevel.current_token())
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(run.serve)
                self._runs.append(run)
                if self._unsubscribe is None:
                    self._unsubscribe = self.bus.subscribe(self._received)
                try:
                    yield
                finally:
                    self._runs.remove(run)
                    if not self._runs:
                        self._unsubscribe, unsubscribe = None, self._unsubscribe
                        unsubscribe()
                    tasks.cancel_scope.cancel()
                    if self._runs and (self._pending_lists or self._pending_updates):
                        self._runs[0].wake()
        except BaseExceptionGroup as group:
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise

    async def flush(self) -> None:
        """Publish what is pending now, then send what the bus brought to this process's clients."""
        kinds, self._pending_lists = self._pending_lists, set()
        uris, self._pending_updates = list(self._pending_updates), {}
        for event in [*(_EVENTS[kind] for kind in sorted(kinds)), *map(ResourceUpdated, uris)]:
            try:
                await self.bus.publish(event)
            except Exception:
                logger.exception("publishing %s to the subscription bus failed", type(event).__name__)
        kinds, self._received_lists = self._received_lists, set()
        uris, self._received_updates = list(self._received_updates), {}
        for kind in sorted(kinds):
            await self._send(lambda connection, kind=kind: _send_list_changed(connection, kind))
        for uri in uris:
            await self._send(lambda connection, uri=uri: _send_updated(connection, uri))

    def _received(self, event: ServerEvent) -> None:
        """The bus's listener (sync, never raises): queue ``event`` for this process's clients."""
        if isinstance(event, ResourceUpdated):
            if len(self._received_updates) >= MAX_RECEIVED_UPDATES:
                logger.warning(
                    "too many resource updates pending; the update of %.200r is dropped", event.uri
                )
                return
            self._received_updates[event.uri] = None
        else:
            self._received_lists.add(_KINDS[type(event)])
        if self._runs:
            self._runs[0].wake()

    async def _send(self, send: Any) -> None:
        """Send to every tracked client at once, so a slow one delays nobody else."""

        async def one(connection: Connection) -> None:
            try:
                with anyio.fail_after(SEND_TIMEOUT):
                    await send(connection)
            except Exception as exc:  # a client gone or stuck: skip it, keep the others
                logger.debug("could not notify a client (%s); it is no longer tracked", exc)
                self._connections.discard(connection)

        async with anyio.create_task_group() as tasks:
            for connection in list(self._connections):
                tasks.start_soon(one, connection)

    # Handlers

    async def _see_connection(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """Middleware: remember each handshake-era connection that can take notifications."""
        connection = connection_of(ctx)
        if (
            connection is not None
            and connection.protocol_version not in MODERN_PROTOCOL_VERSIONS
            and connection.has_standalone_channel
        ):
            self._connections.add(connection)
        return await call_next(ctx)

    async def _on_set_level(
        self, ctx: ServerRequestContext[Any, Any], params: types.SetLevelRequestParams
    ) -> types.EmptyResult:
        connection = _require_connection(ctx, "logging/setLevel")
        connection.state[LOG_LEVEL_KEY] = params.level
        return types.EmptyResult()

    async def _on_subscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
    ) -> types.EmptyResult:
        connection = _require_connection(ctx, "resources/subscribe")
        uri = str(params.uri)
        if len(uri) > MAX_URI_LENGTH:
            raise MCPError(
                code=INVALID_PARAMS, message=f"a URI to subscribe to has at most {MAX_URI_LENGTH} characters"
            )
        subscriptions: set[str] = connection.state.setdefault(SUBSCRIPTIONS_KEY, set())
        if uri not in subscriptions and len(subscriptions) >= MAX_SUBSCRIPTIONS:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"a client may subscribe to at most {MAX_SUBSCRIPTIONS} resources",
            )
        subscriptions.add(uri)
        return types.EmptyResult()

    async def _on_unsubscribe(
        self, ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        connection = _require_connection(ctx, "resources/unsubscribe")
        connection.state.get(SUBSCRIPTIONS_KEY, set()).discard(str(params.uri))
        return types.EmptyResult()


class _Delivery:
    """One serving run's delivery task: wakes when something is pending and sends it."""

    def __init__(self, notifier: Notifier, token: Any) -> None:
        self._notifier = notifier
        self._token = token
        self._thread = threading.get_ident()
        self._wanted = anyio.Event()

    def wake(self) -> None:
        """Ask for delivery (from the event loop's thread or any other, such as a sync tool's)."""
        if threading.get_ident() == self._thread:
            self._wanted.set()
        else:
            anyio.from_thread.run_sync(self._wanted.set, token=self._token)

    async def serve(self) -> None:
        """Deliver what is pending each time :meth:`wake` is called, until cancelled."""
        while True:
            await self._wanted.wait()
            self._wanted = anyio.Event()
            await self._notifier.flush()


def _require_connection(ctx: ServerRequestContext[Any, Any], method: str) -> Connection:
    connection = connection_of(ctx)
    if connection is None:
        raise MCPError(code=INVALID_PARAMS, message=f"{method} needs a connection")
    return connection


async def _send_list_changed(connection: Connection, kind: ListKind) -> None:
    if kind == "tools":
        await connection.send_tool_list_changed()
    elif kind == "resources":
        await connection.send_resource_list_changed()
    else:
        await connection.send_prompt_list_changed()


async def _send_updated(connection: Connection, uri: str) -> None:
    if uri in connection.state.get(SUBSCRIPTIONS_KEY, ()):
        await connection.send_resource_updated(uri)

"""Resumable Streamable HTTP streams in Redis: a client that lost a stream resumes it on any replica.

The SDK stores each message it sends on a stream in the event store and replays those after the
``Last-Event-ID`` a reconnecting client gives. :class:`RedisEventStore` keeps them in Redis streams,
one per session and SSE stream, so that:

- the streams of different sessions never mix (the SDK names a stream by the request's JSON-RPC id,
  which every client chooses), and a session resumes only its own streams, with the credential that
  opened it;
- a client that reconnects to another replica (which does not hold its session) is answered from
  Redis: the events it missed, then those the session's replica goes on storing, until the answer of
  the request arrives or ``resume_wait`` seconds pass (the client then reconnects again).

For that it wraps the HTTP endpoint (the ``http`` transport calls :meth:`RedisEventStore.wrap_endpoint`
inside its authorization), which tells it the session of each request. Streams expire ``ttl`` seconds
after their last event and keep at most ``max_events_per_stream`` events.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage, jsonrpc_message_adapter
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpkit.identity import token_principal

logger = logging.getLogger(__name__)

SESSION_HEADER = "mcp-session-id"
LAST_EVENT_ID_HEADER = "last-event-id"
MAX_EVENT_ID_LENGTH = 256
"""Characters of a ``Last-Event-ID`` at most; a longer one is not looked up."""

UNSTORED = "0-0"
"""The Redis entry of an event that could not be stored (no event has it: nothing resumes from it)."""

_SESSION_ID = re.compile(r"[0-9A-Za-z_-]{1,128}")
_EVENT_ID = re.compile(r"([0-9A-Za-z_-]{1,128})\.([0-9a-f]{32})\.([0-9]{1,20}-[0-9]{1,20})")


@dataclass
class _Scope:
    """The session and credential of the requests of one HTTP exchange: the namespace of the streams
    whose events they store. An opening request learns its session from its response."""

    session: str | None
    owner: str
    fallback: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def namespace(self) -> str:
        return self.session or self.fallback


_current: ContextVar[_Scope | None] = ContextVar("mcpkit_redis.stream_scope", default=None)


class RedisEventStore(EventStore):
    """The events of Streamable HTTP streams in Redis, shared by every replica (module docstring)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "mcpkit:streams:",
        ttl: float = 3600.0,
        max_events_per_stream: int = 1000,
        resume_wait: float = 30.0,
        max_resumed_streams: int = 100,
    ) -> None:
        if not (ttl > 0 and resume_wait > 0 and max_events_per_stream >= 1 and max_resumed_streams >= 1):
            raise ValueError(
                "ttl, resume_wait, max_events_per_stream and max_resumed_streams must be positive"
            )
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.max_events_per_stream = max_events_per_stream
        self.resume_wait = resume_wait
        self.max_resumed_streams = max_resumed_streams
        self._unscoped = _Scope(session=None, owner="", fallback="unscoped")
        self._resumed = 0

    # The SDK's interface

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        """Append ``message`` (``None``: a priming event) to the stream ``stream_id`` of the session."""
        scope = _current.get()
        if scope is None:
            logger.warning("RedisEventStore is used outside the http transport: streams are not per session")
            scope = self._unscoped
        digest = hashlib.sha256(stream_id.encode()).hexdigest()[:32]
        data = "" if message is None else message.model_dump_json(by_alias=True, exclude_unset=True)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.xadd(
                    self._key(scope.namespace, digest),
                    {"s": stream_id, "o": scope.owner, "m": data},
                    maxlen=self.max_events_per_stream,
                    approximate=False,
                )
                pipe.pexpire(self._key(scope.namespace, digest), math.ceil(self.ttl * 1000))
                entry, _ = await pipe.execute()
        except (RedisError, OSError) as exc:  # the message is still sent; it cannot be replayed
            logger.warning(
                "an event could not be stored in Redis (%s); the stream cannot resume past it", exc
            )
            entry = UNSTORED
        return f"{scope.namespace}.{digest}.{_text(entry)}"

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        """Send the events of ``last_event_id``'s stream after it, if it is a stream of the session."""
        found = await self._find(last_event_id)
        if found is None:
            return None
        key, stream_id, after = found
        for event_id, data in await self._events_after(key, after):
            if data:
                await send_callback(EventMessage(jsonrpc_message_adapter.validate_json(data), event_id))
        return stream_id

    # The endpoint

    def wrap_endpoint(self, app: ASGIApp) -> ASGIApp:
        """``app`` (the Streamable HTTP endpoint, inside its authorization) with each request's
        session known to the store, and streams of sessions held elsewhere resumed from Redis."""
        return _Endpoint(app, self)

    # Inside

    def _key(self, namespace: str, digest: str) -> str:
        return f"{self.prefix}{namespace}:{digest}"

    async def _find(self, last_event_id: str) -> tuple[str, str, str] | None:
        """The Redis key, stream id and entry of ``last_event_id``, if it names an event of a stream
        of the current session stored with the current credential."""
        scope = _current.get()
        match = _EVENT_ID.fullmatch(last_event_id) if len(last_event_id) <= MAX_EVENT_ID_LENGTH else None
        if scope is None or match is None or match.group(1) != scope.namespace:
            return None
        key = self._key(match.group(1), match.group(2))
        entries: Any = await self.redis.xrange(key, min=match.group(3), max=match.group(3), count=1)
        if not entries:
            return None
        fields = entries[0][1]
        if _field(fields, "o") != scope.owner:
            return None
        return key, _field(fields, "s"), match.group(3)

    async def _events_after(self, key: str, after: str) -> list[tuple[str, str]]:
        """The (event id, message JSON) of the events of ``key`` after the entry ``after``."""
        entries: Any = await self.redis.xrange(key, min=f"({after}", count=self.max_events_per_stream)
        return self._events(key, entries)

    def _events(self, key: str, entries: list[Any]) -> list[tuple[str, str]]:
        """The (event id, message JSON) of Redis stream ``entries`` of ``key``."""
        namespace, digest = key[len(self.prefix) :].split(":", 1)
        return [(f"{namespace}.{digest}.{_text(entry)}", _field(fields, "m")) for entry, fields in entries]

    async def _follow(self, key: str, after: str, send: Send) -> None:
        """Send the events of ``key`` after ``after`` as SSE, and those stored later, until the answer
        of the stream's request or ``resume_wait`` seconds."""
        with anyio.move_on_after(self.resume_wait):
            events = await self._events_after(key, after)
            while True:
                for event_id, data in events:
                    after = event_id.rsplit(".", 1)[1]
                    if data:
                        frame = f"event: message\r\nid: {event_id}\r\ndata: {data}\r\n\r\n"
                        await send({"type": "http.response.body", "body": frame.encode(), "more_body": True})
                        if _is_answer(data):
                            return
                events = await self._events_after_blocking(key, after)

    async def _events_after_blocking(self, key: str, after: str) -> list[tuple[str, str]]:
        """Like :meth:`_events_after`, waiting up to a second for the first event."""
        found: Any = await self.redis.xread({key: after}, count=self.max_events_per_stream, block=1000)
        return [event for _, entries in found or [] for event in self._events(key, entries)]

    async def _resume(self, scope: _Scope, key: str, after: str, receive: Receive, send: Send) -> None:
        """Serve the resumed stream: an SSE response following the stream in Redis."""
        if self._resumed >= self.max_resumed_streams:
            await _plain(send, 503, b"too many resumed streams; retry later")
            return
        self._resumed += 1
        try:
            headers = [
                (b"content-type", b"text/event-stream"),
                (b"cache-control", b"no-cache, no-transform"),
                (SESSION_HEADER.encode(), (scope.session or "").encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_cancel_on_disconnect, receive, tasks.cancel_scope)
                await self._follow(key, after, send)
                tasks.cancel_scope.cancel()
            with anyio.CancelScope(shield=True):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._resumed -= 1


class _Endpoint:
    """The wrapped endpoint (see :meth:`RedisEventStore.wrap_endpoint`)."""

    def __init__(self, app: ASGIApp, store: RedisEventStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        session = headers.get(SESSION_HEADER)
        stream_scope = _Scope(session if session and _SESSION_ID.fullmatch(session) else None, _owner(scope))
        token = _current.set(stream_scope)
        try:
            last_event_id = headers.get(LAST_EVENT_ID_HEADER)
            if scope["method"] == "GET" and last_event_id and stream_scope.session:
                await self._get(stream_scope, last_event_id, scope, receive, send)
            else:
                await self.app(scope, receive, _learning_session(send, stream_scope))
        finally:
            _current.reset(token)

    async def _get(
        self, stream_scope: _Scope, last_event_id: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A reconnection: the SDK resumes the sessions of this replica; a session it does not hold
        (404) is resumed from Redis if the event is one of its streams."""
        held: list[Message] = []

        async def hold_not_found(message: Message) -> None:
            if held or (message["type"] == "http.response.start" and message["status"] == 404):
                held.append(message)
            else:
                await send(message)

        await self.app(scope, receive, hold_not_found)
        if not held:
            return
        try:
            found = await self.store._find(last_event_id)
        except (RedisError, OSError) as exc:
            logger.warning("a stream could not be looked up in Redis (%s)", exc)
            found = None
        if found is None:
            for message in held:
                await send(message)
            return
        key, _, after = found
        await self.store._resume(stream_scope, key, after, receive, send)


def _learning_session(send: Send, stream_scope: _Scope) -> Send:
    """``send``, noting the session an opening request's response names."""
    if stream_scope.session is not None:
        return send

    async def learn(message: Message) -> None:
        if message["type"] == "http.response.start" and stream_scope.session is None:
            session = Headers(raw=message.get("headers", [])).get(SESSION_HEADER)
            if session and _SESSION_ID.fullmatch(session):
                stream_scope.session = session
        await send(message)

    return learn


def _owner(scope: Scope) -> str:
    """The principal of the request's verified token (empty without one)."""
    token = getattr(scope.get("user"), "access_token", None)
    return token_principal(token) if isinstance(token, AccessToken) else ""


def _is_answer(data: str) -> bool:
    """Whether the message JSON ``data`` is a response or an error (which ends a request's stream)."""
    try:
        message: Any = json.loads(data)
    except ValueError:
        return False
    return (
        isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message)
    )


async def _cancel_on_disconnect(receive: Receive, cancel_scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    cancel_scope.cancel()


async def _plain(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _field(fields: Any, name: str) -> str:
    """The field ``name`` of a stream entry, whether the client decodes responses or not."""
    value = fields.get(name.encode(), fields.get(name, ""))
    return _text(value)

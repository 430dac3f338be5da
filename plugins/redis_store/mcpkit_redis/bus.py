"""Change notifications across replicas: a subscription bus over Redis pub/sub."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from mcp.server.subscriptions import InMemorySubscriptionBus, ServerEvent
from mcp.shared.subscriptions import event_from_wire, event_to_notification
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
"""Bytes of one message on the channel at most; longer ones are ignored."""

RECONNECT_DELAY = 1.0
"""Seconds between attempts to listen again after the connection to Redis is lost."""


class RedisSubscriptionBus:
    """A :class:`~mcp.server.subscriptions.SubscriptionBus` shared by every replica through the Redis
    channel ``channel``: an event published in one process reaches the listeners of all of them.

    Listeners of this process get its own events at once (without Redis); the others' through the
    channel, while this process has listeners. Pub/sub keeps nothing: an event published while a
    replica's connection to Redis is down does not reach that replica's clients.
    """

    def __init__(self, redis: Redis, *, channel: str = "mcpkit:events") -> None:
        self.redis = redis
        self.channel = channel
        self._origin = uuid.uuid4().hex
        self._local = InMemorySubscriptionBus()
        self._listeners = 0
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, event: ServerEvent) -> None:
        """Deliver ``event`` to this process's listeners, then to the other replicas'."""
        await self._local.publish(event)
        wire = event_to_notification(event, {}).model_dump(by_alias=True, mode="json", exclude_none=True)
        message = {"origin": self._origin, "method": wire["method"], "params": wire.get("params")}
        await self.redis.publish(self.channel, json.dumps(message))

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        """Register ``listener`` (sync, on the event loop); the first one starts listening to Redis."""
        unsubscribe_local = self._local.subscribe(listener)
        self._listeners += 1
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        done = False

        def unsubscribe() -> None:
            nonlocal done
            if done:
                return
            done = True
            unsubscribe_local()
            self._listeners -= 1
            if self._listeners == 0 and self._reader is not None:
                self._reader.cancel()
                self._reader = None

        return unsubscribe

    async def _read(self) -> None:
        """Pass the other replicas' events to this process's listeners, listening again when the
        connection to Redis is lost, until cancelled."""
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        event = self._event_of(message.get("data"))
                        if event is not None:
                            await self._local.publish(event)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                logger.warning("listening to Redis channel %r failed (%s); retrying", self.channel, exc)
            await asyncio.sleep(RECONNECT_DELAY)

    def _event_of(self, data: Any) -> ServerEvent | None:
        """The event a channel message announces, unless it is this process's own or malformed."""
        if not isinstance(data, bytes | str) or len(data) > MAX_MESSAGE_BYTES:
            return None
        try:
            message = json.loads(data)
        except ValueError:
            return None
        if not isinstance(message, dict) or message.get("origin") == self._origin:
            return None
        method, params = message.get("method"), message.get("params")
        if not isinstance(method, str) or not (params is None or isinstance(params, dict)):
            return None
        return event_from_wire(method, params)

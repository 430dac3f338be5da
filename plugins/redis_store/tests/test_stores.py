"""The Redis stores against a real Redis server, with replicas played by several servers in this
process (each with stores of its own on the same Redis): rate limits, cached results, change
notifications and resumable streams are shared, bounded, and kept apart where they must be."""

from __future__ import annotations

import json
import logging

import anyio
import httpx
import mcp_types as types
import pytest
import redis.asyncio
from mcp.server.subscriptions import ToolsListChanged
from mcp.shared.exceptions import MCPError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from mcpkit import Client, Context, MCPKit
from mcpkit.middleware_cache import ResultCache
from mcpkit.middleware_ratelimit import RATE_LIMITED, RateLimit
from mcpkit_redis import RedisCacheStore, RedisEventStore, RedisRateLimitStore, RedisSubscriptionBus
from plugins.redis_store.tests.conftest import free_port
from plugins.redis_store.tests.test_workers import HANDSHAKE, events, first_message, initialize
from tests.reliability import record
from tests.test_load import uvicorn_here
from tests.test_notifications import Inbox


def replica(redis_client, *middleware: object, bus: RedisSubscriptionBus | None = None) -> MCPKit:
    mcp = MCPKit("replica", middleware=middleware, subscription_bus=bus)
    runs = mcp.runs = {"lookup": 0}  # type: ignore[attr-defined]

    @mcp.tool(annotations=types.ToolAnnotations(read_only_hint=True))
    def lookup(sku: str) -> dict[str, object]:
        runs["lookup"] += 1
        return {"sku": sku, "made by": id(mcp)}

    @mcp.tool
    async def report(ctx: Context) -> str:
        await ctx.close_sse_stream()
        await anyio.sleep(0.05)
        return f"report for session {ctx.session_id}"

    return mcp


async def test_replicas_take_from_one_token_bucket(redis_client):
    def limit() -> RateLimit:
        return RateLimit(rate=0.001, burst=4, methods=["tools/call"], store=RedisRateLimitStore(redis_client))

    first, second = replica(redis_client, limit()), replica(redis_client, limit())
    outcomes: list[str] = []

    async def call(client: Client) -> None:
        try:
            await client.call_tool("lookup", {"sku": "a"})
            outcomes.append("ran")
        except MCPError as exc:
            outcomes.append(str(exc.error.code))

    async with Client(first) as one, Client(second) as two, anyio.create_task_group() as tasks:
        for number in range(40):
            tasks.start_soon(call, one if number % 2 else two)
    record("attacks", "40 concurrent calls over two replicas against one Redis bucket of 4: 4 ran", 40)
    assert sorted(outcomes) == [str(RATE_LIMITED)] * 36 + ["ran"] * 4
    [key] = await redis_client.keys("mcpkit:ratelimit:*")
    assert await redis_client.pttl(key) > 0  # the bucket expires once it would be full again


async def test_replicas_answer_from_one_cache(redis_client):
    first = replica(redis_client, ResultCache(ttl=60, store=RedisCacheStore(redis_client)))
    second = replica(redis_client, ResultCache(ttl=60, store=RedisCacheStore(redis_client)))
    async with Client(first) as one, Client(second) as two:
        made = (await one.call_tool("lookup", {"sku": "a"})).data
        assert (await two.call_tool("lookup", {"sku": "a"})).data == made
    assert (first.runs["lookup"], second.runs["lookup"]) == (1, 0)  # type: ignore[attr-defined]


async def test_the_redis_cache_is_bounded_and_expires(redis_client):
    store = RedisCacheStore(redis_client, max_entries=5)
    for number in range(40):
        await store.set(f"key-{number}", b"value", 60)
    keys = await redis_client.keys("mcpkit:cache:key-*")
    assert len(keys) == 5
    assert await store.get("key-39") == b"value"
    assert await store.get("key-0") is None
    await store.set("brief", b"value", 0.01)
    await anyio.sleep(0.1)
    assert await store.get("brief") is None
    record("attacks", "40 results into a Redis cache of 5 entries: 5 kept", 40)


async def test_a_change_reaches_handshake_era_clients_of_another_replica(redis_client):
    first = replica(redis_client, bus=RedisSubscriptionBus(redis_client))
    second = replica(redis_client, bus=RedisSubscriptionBus(redis_client))
    inbox = Inbox()
    async with Client(first) as changer, Client(second, mode="legacy", message_handler=inbox) as watcher:
        await watcher.subscribe_resource("reports://daily")
        await changer.list_tools()
        await anyio.sleep(0.1)  # both replicas are listening to the channel
        first.notify_resource_updated("reports://daily")
        await inbox.wait_for(1)
        first.add_tool(
            first.tools["lookup"].__class__(name="extra", input_schema={}, fn=first.tools["lookup"].fn)
        )
        await inbox.wait_for(2)
    assert inbox.methods == ["notifications/resources/updated", "notifications/tools/list_changed"]


async def test_the_bus_ignores_what_is_not_an_event_and_its_own_echo(redis_client):
    bus, other = RedisSubscriptionBus(redis_client), RedisSubscriptionBus(redis_client)
    seen: list[object] = []
    heard: list[object] = []
    unsubscribe, unsubscribe_other = bus.subscribe(seen.append), other.subscribe(heard.append)
    try:
        await anyio.sleep(0.1)
        for junk in [
            "{",
            "[]",
            json.dumps({"method": 3}),
            "x" * 70_000,
            json.dumps({"method": "tools/call"}),
        ]:
            await redis_client.publish(bus.channel, junk)
        await bus.publish(ToolsListChanged())
        with anyio.fail_after(5):
            while not heard:  # noqa: ASYNC110 (the listener is sync: it cannot await an event)
                await anyio.sleep(0.01)
        await anyio.sleep(0.1)
    finally:
        unsubscribe()
        unsubscribe_other()
    record("attacks", "malformed and oversized messages on the notification channel: ignored", 5)
    assert [type(event).__name__ for event in seen] == ["ToolsListChanged"]  # once, not echoed back
    assert [type(event).__name__ for event in heard] == ["ToolsListChanged"]


@pytest.mark.parametrize("decoding", [False, True], ids=["bytes", "decode_responses"])
async def test_streams_of_sessions_never_mix(redis_client, redis_server, decoding):
    client = redis.asyncio.Redis.from_url(redis_server, decode_responses=decoding)
    mcp = replica(client)
    async with (
        client,
        uvicorn_here(mcp, event_store=RedisEventStore(client)) as url,
        httpx.AsyncClient(timeout=30) as http,
    ):
        sessions, cuts = [], []
        for _ in range(2):  # two sessions, each calling with the JSON-RPC id 2
            opened = await http.post(url, headers=HANDSHAKE, json=initialize())
            session = {**HANDSHAKE, "mcp-session-id": opened.headers["mcp-session-id"]}
            call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "report"}}
            cuts.append(events((await http.post(url, headers=session, json=call)).text)[0]["id"])
            sessions.append(session)
        await anyio.sleep(0.2)  # both reports are stored
        mine = await first_message(http, url, {**sessions[1], "last-event-id": cuts[1]})
        theirs = await first_message(http, url, {**sessions[1], "last-event-id": cuts[0]})
    assert mine is not None
    assert (
        mine["result"]["structuredContent"]["result"] == f"report for session {sessions[1]['mcp-session-id']}"
    )
    assert theirs is None
    record("attacks", "a session resuming another session's stream (same request id): given nothing", 1)


async def test_the_event_store_outside_the_transport_warns(redis_client, caplog):
    store = RedisEventStore(redis_client)
    message = types.JSONRPCNotification(jsonrpc="2.0", method="notifications/progress")
    with caplog.at_level(logging.WARNING):
        event_id = await store.store_event("1", message)
    assert "outside the http transport" in caplog.text
    assert event_id.startswith("unscoped.")


async def test_a_session_works_on_while_redis_is_down(caplog):
    down = redis.asyncio.Redis(port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    mcp = replica(down)
    async with (
        uvicorn_here(mcp, event_store=RedisEventStore(down)) as url,
        Client(url, mode="legacy") as client,
    ):
        result = await client.call_tool("lookup", {"sku": "a"})
    await down.aclose()
    assert result.data["sku"] == "a"
    assert "could not be stored in Redis" in caplog.text
    record("attacks", "the event store's Redis unreachable during a session: calls still answered", 1)


async def test_a_replica_notifies_its_own_clients_while_redis_is_down(caplog):
    down = redis.asyncio.Redis(port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    mcp = replica(down, bus=RedisSubscriptionBus(down))
    inbox = Inbox()
    async with Client(mcp, mode="legacy", message_handler=inbox) as client:
        await client.list_tools()
        mcp.add_tool(mcp.tools["lookup"].__class__(name="extra", input_schema={}, fn=mcp.tools["lookup"].fn))
        await inbox.wait_for(1)
    await down.aclose()
    assert inbox.methods == ["notifications/tools/list_changed"]
    assert "publishing ToolsListChanged to the subscription bus failed" in caplog.text


def test_event_store_options_are_checked(redis_client):
    with pytest.raises(ValueError, match="must be positive"):
        RedisEventStore(redis_client, ttl=0)

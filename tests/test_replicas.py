"""Replicas sharing a subscription bus: a change made in one reaches the clients of the others, in both
protocol eras (here two servers in one process share an in-memory bus; plugins/redis_store/tests
runs real worker processes around Redis)."""

from __future__ import annotations

import anyio
from mcp.server.subscriptions import InMemorySubscriptionBus

from mcpkit import Client, MCPKit
from tests.test_notifications import Inbox


def replica(bus: InMemorySubscriptionBus) -> MCPKit:
    mcp = MCPKit("replicated", subscription_bus=bus)

    @mcp.tool
    def ping() -> str:
        return "pong"

    @mcp.resource("reports://daily")
    def daily() -> str:
        return "all quiet"

    return mcp


async def test_a_change_in_one_replica_reaches_handshake_era_clients_of_another():
    bus = InMemorySubscriptionBus()
    first, second = replica(bus), replica(bus)
    inbox = Inbox()
    async with (
        Client(first, mode="legacy") as changer,
        Client(second, mode="legacy", message_handler=inbox) as watcher,
    ):
        await watcher.subscribe_resource("reports://daily")
        await changer.list_tools()
        first.notify_resource_updated("reports://daily")
        await inbox.wait_for(1)
        first.add_tool(
            first.tools["ping"].__class__(name="extra", input_schema={}, fn=first.tools["ping"].fn)
        )
        await inbox.wait_for(2)
    assert inbox.methods == ["notifications/resources/updated", "notifications/tools/list_changed"]
    assert inbox.uris == ["reports://daily"]


async def test_a_change_in_one_replica_reaches_listen_streams_of_another():
    bus = InMemorySubscriptionBus()
    first, second = replica(bus), replica(bus)
    async with (
        Client(first) as changer,
        Client(second) as watcher,
        watcher.listen(tools=True) as events,
    ):
        await changer.list_tools()
        first.add_tool(
            first.tools["ping"].__class__(name="extra", input_schema={}, fn=first.tools["ping"].fn)
        )
        with anyio.fail_after(5):
            event = await anext(aiter(events))
    assert type(event).__name__ == "ToolsListChanged"


async def test_a_replica_alone_notifies_its_clients_once():
    bus = InMemorySubscriptionBus()
    mcp = replica(bus)
    inbox = Inbox()
    async with Client(mcp, mode="legacy", message_handler=inbox) as client:
        await client.list_tools()
        mcp.add_tool(mcp.tools["ping"].__class__(name="extra", input_schema={}, fn=mcp.tools["ping"].fn))
        await inbox.wait_for(1)
        await client.list_tools()
        await anyio.sleep(0.1)
    assert inbox.methods == ["notifications/tools/list_changed"]

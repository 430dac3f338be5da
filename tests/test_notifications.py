"""Change notifications, resource subscriptions and enable/disable, in memory and over stdio."""

from __future__ import annotations

import sys
import textwrap
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from mcpkit import Client, MCPKit
from mcpkit.notifications import MAX_SUBSCRIPTIONS, MAX_URI_LENGTH
from tests.reliability import record


class Inbox:
    """Collects what a server sends a client, and waits for it."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.uris: list[str] = []
        self._changed = anyio.Event()

    async def __call__(self, message: Any) -> None:
        if isinstance(message, types.ServerNotification):
            self.methods.append(message.method)
            params = getattr(message, "params", None)
            if isinstance(params, types.ResourceUpdatedNotificationParams):
                self.uris.append(str(params.uri))
            self._changed.set()
            self._changed = anyio.Event()

    async def wait_for(self, count: int, seconds: float = 5) -> list[str]:
        with anyio.fail_after(seconds):
            while len(self.methods) < count:
                await self._changed.wait()
        return self.methods


def make_server() -> MCPKit:
    mcp = MCPKit("changes")

    @mcp.tool(tags={"admin"})
    def purge() -> str:
        return "purged"

    @mcp.tool
    def add_helper(name: str) -> str:  # a sync tool: runs in a worker thread

        @mcp.tool(name=name)
        def helper() -> str:
            return "help"

        return f"added {name}"

    @mcp.resource("reports://daily")
    def daily() -> str:
        return "all quiet"

    @mcp.prompt(tags={"admin"})
    def audit() -> str:
        return "Audit everything."

    return mcp


async def test_capabilities_announce_what_is_sent():
    async with Client(make_server(), mode="legacy") as client:
        capabilities = client.server_capabilities
    assert capabilities.tools.list_changed
    assert capabilities.prompts.list_changed
    assert capabilities.resources.list_changed
    assert capabilities.resources.subscribe
    assert capabilities.logging is not None


async def test_list_changes_reach_handshake_era_clients():
    mcp = make_server()
    inbox = Inbox()
    async with Client(mcp, mode="legacy", message_handler=inbox) as client:
        assert (await client.call_tool("add_helper", {"name": "extra"})).text == "added extra"
        await inbox.wait_for(1)
        assert "extra" in [tool.name for tool in await client.list_tools()]
        mcp.disable(tags={"admin"})
        await inbox.wait_for(4)
        assert "purge" not in [tool.name for tool in await client.list_tools()]
        assert [prompt.name for prompt in await client.list_prompts()] == []
        mcp.remove_resource("reports://daily")
        await inbox.wait_for(5)
        assert await client.list_resources() == []
    assert inbox.methods == [
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed",
        "notifications/resources/list_changed",
        "notifications/tools/list_changed",
        "notifications/resources/list_changed",
    ]


async def test_a_burst_of_changes_is_one_notification_per_kind():
    mcp = make_server()
    inbox = Inbox()
    async with Client(mcp, mode="legacy", message_handler=inbox) as client:
        await client.list_tools()
        for number in range(200):
            mcp.add_tool(
                mcp.tools["purge"].__class__(name=f"t{number}", input_schema={}, fn=mcp.tools["purge"].fn)
            )
        await inbox.wait_for(1)
        await anyio.sleep(0.2)
        assert len(await client.list_tools()) == 202
    assert inbox.methods == ["notifications/tools/list_changed"]
    record("attacks", "200 tools added at once while serving: one list_changed sent", 200)


async def test_resource_updates_reach_only_subscribed_handshake_era_clients():
    mcp = make_server()
    inbox, bystander = Inbox(), Inbox()
    async with (
        Client(mcp, mode="legacy", message_handler=inbox) as client,
        Client(mcp, mode="legacy", message_handler=bystander) as other,
    ):
        await other.list_tools()
        await client.subscribe_resource("reports://daily")
        mcp.notify_resource_updated("reports://daily")
        mcp.notify_resource_updated("reports://weekly")
        await inbox.wait_for(1)
        await client.unsubscribe_resource("reports://daily")
        mcp.notify_resource_updated("reports://daily")
        mcp.add_prompt(mcp.prompts["audit"].__class__(name="second", fn=mcp.prompts["audit"].fn))
        await inbox.wait_for(2)
        await bystander.wait_for(1)
    assert inbox.uris == ["reports://daily"]
    assert inbox.methods == ["notifications/resources/updated", "notifications/prompts/list_changed"]
    assert bystander.methods == ["notifications/prompts/list_changed"]


async def test_2026_clients_listen_for_changes_and_updates():
    mcp = make_server()
    async with Client(mcp) as client, client.listen(tools=True, resource_uris=["reports://daily"]) as events:
        await client.call_tool("add_helper", {"name": "extra"})
        mcp.notify_resource_updated("reports://other")
        mcp.notify_resource_updated("reports://daily")
        received: list[str] = []
        with anyio.fail_after(5):
            async for event in events:
                received.append(type(event).__name__)
                if len(received) == 2:
                    break
    assert received == ["ToolsListChanged", "ResourceUpdated"]


async def test_subscriptions_are_bounded():
    mcp = make_server()
    async with Client(mcp, mode="legacy") as client:
        for number in range(MAX_SUBSCRIPTIONS):
            await client.subscribe_resource(f"reports://{number}")
        await client.subscribe_resource("reports://0")  # again: not a new one
        with pytest.raises(MCPError, match=f"at most {MAX_SUBSCRIPTIONS} resources"):
            await client.subscribe_resource("reports://one-too-many")
        with pytest.raises(MCPError, match="at most"):
            await client.subscribe_resource("reports://" + "x" * MAX_URI_LENGTH)
    record("attacks", f"{MAX_SUBSCRIPTIONS + 2} subscriptions from one client: refused past the bound")


def test_enable_and_disable_by_name_and_tag():
    mcp = make_server()
    mcp.disable("purge")
    assert "purge" not in mcp.enabled_tools
    assert "purge" in mcp.tools
    mcp.enable(tags={"admin"})
    assert "purge" in mcp.enabled_tools
    mcp.enable("audit", only=True)
    assert list(mcp.enabled_tools) == []
    assert mcp.is_enabled(mcp.prompts["audit"])
    assert not mcp.is_enabled(mcp.resources["reports://daily"])
    mcp.enable("reports://daily")
    assert mcp.is_enabled(mcp.resources["reports://daily"])
    with pytest.raises(ValueError, match="needs names or tags"):
        mcp.disable()
    with pytest.raises(TypeError, match="not the string"):
        mcp.disable(tags="admin")


async def test_notifications_over_stdio(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(
        textwrap.dedent(
            """
            from mcpkit import MCPKit

            mcp = MCPKit("stdio-changes")

            @mcp.tool
            def grow(name: str) -> str:
                mcp.tool(name=name)(lambda: "new")
                return "grown"

            @mcp.resource("reports://daily")
            def daily() -> str:
                return "quiet"

            @mcp.tool
            def touch() -> str:
                mcp.notify_resource_updated("reports://daily")
                return "touched"

            mcp.run()
            """
        )
    )
    inbox = Inbox()
    async with Client([sys.executable, str(script)], mode="legacy", message_handler=inbox) as client:
        await client.subscribe_resource("reports://daily")
        await client.call_tool("grow", {"name": "sprout"})
        await client.call_tool("touch")
        await inbox.wait_for(2, seconds=20)
        names = [tool.name for tool in await client.list_tools()]
    assert inbox.methods == ["notifications/tools/list_changed", "notifications/resources/updated"]
    assert "sprout" in names

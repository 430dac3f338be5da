"""Composition: mounting (live) and importing (a copy) servers under prefixes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from mcpkit import Client, Context, MCPKit
from mcpkit.middleware import CallNext, Middleware, Request


@pytest.fixture(params=["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
def mode(request):
    return request.param


class Stamp(Middleware):
    """Marks the results of the server it belongs to."""

    def __init__(self, mark: str) -> None:
        self.mark = mark

    async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
        result = await call_next()
        result["content"].append({"type": "text", "text": self.mark})
        return result


def billing_server() -> MCPKit:
    @asynccontextmanager
    async def lifespan(server: MCPKit) -> AsyncIterator[dict[str, Any]]:
        yield {"currency": "EUR"}

    billing = MCPKit("billing", lifespan=lifespan, middleware=[Stamp("billing")])

    @billing.tool
    async def refund(amount: int, ctx: Context) -> str:
        [terms] = await ctx.read_resource("invoices://terms")
        return f"refunded {amount} {ctx.lifespan_context['currency']} ({terms.text}, {ctx.server.name})"

    @billing.resource("invoices://terms")
    def terms() -> str:
        return "30 days"

    @billing.resource("invoices://{year}/{number}", completions={"year": ["2024", "2025"]})
    def invoice(year: str, number: str) -> str:
        return f"invoice {year}-{number}"

    @billing.prompt
    def dunning(customer: str) -> str:
        return f"Remind {customer} to pay."

    return billing


def gateway_server() -> MCPKit:
    gateway = MCPKit("gateway")

    @gateway.tool
    def status() -> str:
        return "ok"

    return gateway


async def test_a_mounted_server_is_served_under_its_prefix(mode):
    gateway = gateway_server()
    gateway.mount(billing_server(), prefix="billing")
    async with Client(gateway, mode=mode) as client:
        tools = [tool.name for tool in await client.list_tools()]
        resources = [str(r.uri) for r in await client.list_resources()]
        templates = [t.uri_template for t in await client.list_resource_templates()]
        prompts = [p.name for p in await client.list_prompts()]
        refunded = await client.call_tool("billing_refund", {"amount": 5})
        [invoice] = await client.read_resource("invoices://billing/2024/7")
        dunning = await client.get_prompt("billing_dunning", {"customer": "Ada"})
        years = await client.complete("invoices://billing/{year}/{number}", "year", "202")
    assert tools == ["status", "billing_refund"]
    assert resources == ["invoices://billing/terms"]
    assert templates == ["invoices://billing/{year}/{number}"]
    assert prompts == ["billing_dunning"]
    # The mounted server's own lifespan state, resources, Context and middleware.
    assert refunded.content[0].text == "refunded 5 EUR (30 days, billing)"
    assert refunded.content[-1].text == "billing"
    assert (str(invoice.uri), invoice.text) == ("invoices://billing/2024/7", "invoice 2024-7")
    assert dunning.messages[0].content.text == "Remind Ada to pay."
    assert years.values == ["2024", "2025"]


async def test_mounting_is_live_and_notifies_the_parents_clients():
    gateway, billing = gateway_server(), billing_server()
    gateway.mount(billing, prefix="billing")
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if (
            isinstance(message, types.ServerNotification)
            and message.method == "notifications/tools/list_changed"
        ):
            changed.set()

    async with Client(gateway, mode="legacy", message_handler=on_message) as client:
        await client.list_tools()

        @billing.tool
        def void(invoice: str) -> str:
            return f"voided {invoice}"

        with anyio.fail_after(5):
            await changed.wait()
        assert "billing_void" in [tool.name for tool in await client.list_tools()]
        assert (await client.call_tool("billing_void", {"invoice": "A1"})).content[0].text == "voided A1"
        billing.disable("void")
        assert "billing_void" not in [tool.name for tool in await client.list_tools()]
        with pytest.raises(MCPError, match="unknown tool"):
            await client.call_tool("billing_void", {"invoice": "A1"})


async def test_discovery_on_the_parent_searches_the_mounted_tools():
    gateway = MCPKit("gateway", discovery="search")
    gateway.mount(billing_server(), prefix="billing")
    async with Client(gateway) as client:
        found = await client.call_tool("search_tools", {"query": "refund an amount"})
        called = await client.call_tool("call_tool", {"name": "billing_refund", "arguments": {"amount": 2}})
    assert found.data["tools"][0]["name"] == "billing_refund"
    assert called.content[0].text.startswith("refunded 2 EUR")


def test_clashes_and_bad_prefixes_are_refused():
    gateway = gateway_server()
    first = MCPKit("first")
    first.tool(name="status")(lambda: "first")
    with pytest.raises(ValueError, match="'status' of 'first' clashes"):
        gateway.mount(first)
    with pytest.raises(ValueError, match="prefix 'bad prefix'"):
        gateway.mount(billing_server(), prefix="bad prefix")
    billing = billing_server()
    gateway.mount(billing, prefix="billing")
    with pytest.raises(ValueError, match="cycle"):
        billing.mount(gateway, prefix="gateway")
    with pytest.raises(ValueError, match="served already"):
        gateway.import_server(billing_server(), prefix="billing")
    long_name = MCPKit("long")
    long_name.tool(name="a_tool_name_that_is_long_enough_to_overflow")(lambda: "x")
    with pytest.raises(ValueError, match="not a valid MCP tool name"):
        gateway.mount(long_name, prefix="x" * 40)


async def test_import_copies_the_components_once():
    gateway, billing = gateway_server(), billing_server()
    gateway.import_server(billing, prefix="imported")

    @billing.tool
    def later() -> str:
        return "later"

    assert sorted(gateway.tools) == ["imported_refund", "status"]
    assert "imported_dunning" in gateway.prompts
    assert "invoices://imported/terms" in gateway.resources
    async with Client(gateway) as client:
        [terms] = await client.read_resource("invoices://imported/terms")
    assert terms.text == "30 days"


async def test_resource_updates_of_a_mounted_server_reach_the_parents_subscribers():
    gateway, billing = gateway_server(), billing_server()
    gateway.mount(billing, prefix="billing")
    updated = anyio.Event()
    uris: list[str] = []

    async def on_message(message: Any) -> None:
        if (
            isinstance(message, types.ServerNotification)
            and message.method == "notifications/resources/updated"
        ):
            uris.append(str(message.params.uri))
            updated.set()

    async with Client(gateway, mode="legacy", message_handler=on_message) as client:
        await client.subscribe_resource("invoices://billing/terms")
        billing.notify_resource_updated("invoices://terms")
        with anyio.fail_after(5):
            await updated.wait()
    assert uris == ["invoices://billing/terms"]

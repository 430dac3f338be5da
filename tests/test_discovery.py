"""Discovery mode: search_tools and call_tool over the real SDK client, in both protocol eras."""

from __future__ import annotations

import json

import pytest
from mcp.shared.exceptions import MCPError

from mcpkit import Client, MCPKit, Settings, Tool, hookimpl
from mcpkit.discovery import AUTO_THRESHOLD, DEFAULT_LIMIT
from mcpkit.plugins import get_plugin_host
from mcpkit.search import bm25_strategy, words


@pytest.fixture(params=["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
def mode(request):
    return request.param


def catalog(discovery="search", pinned=(), settings=None) -> tuple[MCPKit, list[str]]:
    mcp = MCPKit("shop", discovery=discovery, pinned_tools=pinned, settings=settings)
    calls: list[str] = []

    @mcp.tool
    def createInvoice(customer_id: str, amount_cents: int) -> dict:
        """Create a new invoice for a customer."""
        calls.append("createInvoice")
        return {"invoice": f"{customer_id}-{amount_cents}"}

    @mcp.tool
    def list_customers(limit: int = 10) -> list[str]:
        """List the customers of the shop."""
        return ["ada", "bob"][:limit]

    @mcp.tool(name="refunds.create")
    def refund(payment_id: str) -> str:
        """Refund a payment, fully."""
        return f"refunded {payment_id}"

    @mcp.resource("shop://about")
    def about() -> str:
        return "a shop"

    return mcp, calls


async def test_only_the_discovery_tools_are_listed(mode):
    mcp, _ = catalog(pinned=["list_customers"])
    async with Client(mcp, mode=mode) as client:
        tools = await client.list_tools()
        assert [t.name for t in tools] == ["search_tools", "call_tool", "list_customers"]
        listing = json.dumps(
            [t.model_dump(by_alias=True, exclude_none=True) for t in tools if t.name != "list_customers"]
        )
        assert len(listing) < 2000
        assert [r.uri for r in await client.list_resources()] == ["shop://about"]


async def test_search_returns_full_schemas_best_first(mode):
    mcp, _ = catalog()
    async with Client(mcp, mode=mode) as client:
        result = await client.call_tool(
            "search_tools", {"query": "give a customer their money back for a payment"}
        )
        found = result.data["tools"]
        assert found[0]["name"] == "refunds.create"
        assert found[0]["inputSchema"]["required"] == ["payment_id"]
        assert found[0]["description"] == "Refund a payment, fully."
        billing = await client.call_tool("search_tools", {"query": "invoice a customer", "limit": 1})
        assert [t["name"] for t in billing.data["tools"]] == ["createInvoice"]
        refused = await client.call_tool("search_tools", {"query": "x", "limit": 51}, raise_on_error=False)
        assert refused.is_error
        assert "51 is greater than the maximum of 50" in refused.text


async def test_a_search_that_matches_nothing_says_how_to_search_again(mode):
    mcp, _ = catalog()
    async with Client(mcp, mode=mode) as client:
        result = await client.call_tool("search_tools", {"query": "draw a picture of a cat"})
    assert result.data == {"tools": []}
    assert result.content[1].text.startswith("No tool matches 'draw a picture of a cat'. Search again")


async def test_call_tool_validates_then_passes_the_result_through(mode):
    mcp, calls = catalog()
    async with Client(mcp, mode=mode) as client:
        made = await client.call_tool(
            "call_tool", {"name": "createInvoice", "arguments": {"customer_id": "c1", "amount_cents": 500}}
        )
        assert made.structured_content == {"invoice": "c1-500"}
        bad = await client.call_tool(
            "call_tool", {"name": "createInvoice", "arguments": {"customer_id": "c1"}}, raise_on_error=False
        )
        assert bad.is_error
        assert "invalid arguments for tool 'createInvoice'" in bad.text
        assert "'amount_cents' is a required property" in bad.text
        assert calls == ["createInvoice"]
        unknown = await client.call_tool("call_tool", {"name": "createinvoice"}, raise_on_error=False)
        assert unknown.text == "unknown tool 'createinvoice'; did you mean 'createInvoice'?"
        itself = await client.call_tool("call_tool", {"name": "call_tool"}, raise_on_error=False)
        assert itself.text == "call_tool calls the server's tools, not 'call_tool' itself"


async def test_hidden_tools_stay_callable_by_name(mode):
    mcp, _ = catalog()
    async with Client(mcp, mode=mode) as client:
        assert (await client.call_tool("list_customers", {"limit": 1})).data == ["ada"]


async def test_auto_switches_on_above_the_threshold(mode):
    mcp = MCPKit("many", discovery="auto")
    for index in range(AUTO_THRESHOLD):
        mcp.add_tool(Tool(f"tool_{index}", {"type": "object"}, _noop))
    async with Client(mcp, mode=mode) as client:
        assert len(await client.list_tools()) == AUTO_THRESHOLD
        mcp.add_tool(Tool("one_more", {"type": "object"}, _noop, description="the last straw"))
        assert [t.name for t in await client.list_tools()] == ["search_tools", "call_tool"]
        found = await client.call_tool("search_tools", {"query": "straw"})
        assert [t["name"] for t in found.data["tools"]] == ["one_more"]


async def _noop(arguments):
    from mcpkit import ToolResult

    return ToolResult()


def test_discovery_tool_names_are_reserved_while_discovery_is_on():
    mcp = MCPKit("x", discovery="search")
    with pytest.raises(ValueError, match="'search_tools' is the name of a discovery tool"):
        mcp.add_tool(Tool("search_tools", {"type": "object"}, _noop))
    MCPKit("y").add_tool(Tool("search_tools", {"type": "object"}, _noop))  # fine when discovery is off


async def test_discovery_tools_do_not_exist_when_off():
    mcp, _ = catalog(discovery="off")
    async with Client(mcp) as client:
        assert len(await client.list_tools()) == 3
        with pytest.raises(MCPError, match="unknown tool 'search_tools'"):
            await client.call_tool("search_tools", {"query": "x"})


def test_settings_and_bad_modes(monkeypatch):
    monkeypatch.setenv("MCPKIT_DISCOVERY", "search")
    assert MCPKit("x").discovery.mode == "search"
    assert MCPKit("x", discovery="off").discovery.mode == "off"
    with pytest.raises(ValueError, match="discovery must be 'off', 'search' or 'auto'"):
        MCPKit("x", discovery="fuzzy")  # type: ignore[arg-type]


def test_words_split_names_and_stem():
    assert words("listRepoIssues") == ["list", "repo", "issu"]
    assert words("repos/create-fork") == ["repo", "creat", "fork"]
    assert words("GET /v1/payment_intents.json") == ["get", "v", "1", "payment", "intent", "json"]
    assert words("Refunding the payments") == ["refund", "payment"]
    assert words("HTTPServer") == ["http", "server"]


async def test_a_search_strategy_from_a_plugin():
    class Reverse:
        """Ranks tools by reversed name: silly, but plainly not the built-in one."""

        def __init__(self, documents):
            self.names = sorted((d.name for d in documents), reverse=True)

        def search(self, query, limit):
            return self.names[:limit]

    class Plugin:
        @hookimpl
        def mcpkit_register_search_strategies(self, register):
            register("reverse", Reverse)

    get_plugin_host().register(Plugin(), name="reverse-search")
    mcp = MCPKit("x", discovery="search", settings=Settings(search_strategy="reverse"))
    for name in ("alpha", "beta", "gamma"):
        mcp.add_tool(Tool(name, {"type": "object"}, _noop))
    async with Client(mcp) as client:
        found = await client.call_tool("search_tools", {"query": "anything", "limit": 2})
    assert [t["name"] for t in found.data["tools"]] == ["gamma", "beta"]


async def test_search_without_a_limit_returns_the_default_five(mode):
    mcp = MCPKit("widgets", discovery="search")
    for index in range(8):
        mcp.add_tool(Tool(f"widget_{index}", {"type": "object"}, _noop, description="Polish a widget."))
    async with Client(mcp, mode=mode) as client:
        everything = await client.call_tool("search_tools", {"query": "polish a widget", "limit": 8})
        assert len(everything.data["tools"]) == 8  # all eight match
        found = await client.call_tool("search_tools", {"query": "polish a widget"})
    assert DEFAULT_LIMIT == 5
    assert len(found.data["tools"]) == 5


async def test_the_index_is_built_once_and_again_only_when_the_tools_change(mode):
    built: list[int] = []

    def counting(documents):
        """The built-in ranking, counting how often an index is built and over how many tools."""
        built.append(len(documents))
        return bm25_strategy(documents)

    class Plugin:
        @hookimpl
        def mcpkit_register_search_strategies(self, register):
            register("counting", counting)

    get_plugin_host().register(Plugin(), name="counting-search")
    mcp, _ = catalog(settings=Settings(search_strategy="counting"))

    async def names(client, query):
        result = await client.call_tool("search_tools", {"query": query})
        return [t["name"] for t in result.data["tools"]]

    async with Client(mcp, mode=mode) as client:
        await client.list_tools()
        assert built == []  # listing needs no index
        assert "refunds.create" in await names(client, "refund a payment")
        assert "createInvoice" in await names(client, "invoice a customer")
        assert built == [3]  # one index, reused by the second search

        mcp.add_tool(Tool("ship_parcel", {"type": "object"}, _noop, description="Ship a parcel by courier."))
        assert (await names(client, "ship a parcel"))[:1] == ["ship_parcel"]
        assert await names(client, "courier") == ["ship_parcel"]
        assert built == [3, 4]

        mcp.remove_tool("ship_parcel")
        assert "ship_parcel" not in await names(client, "ship a parcel by courier")
        assert built == [3, 4, 3]

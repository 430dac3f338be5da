"""Large APIs end to end: discovery on a converted FastAPI app and on a corpus document, response
filters and bounded results over the in-memory client and over Streamable HTTP."""

from __future__ import annotations

import httpx
import pytest

from examples.ecommerce.app import create_app
from mcpkit import Client, MCPKit
from tests.locations import CORPUS
from tests.servers import over_http

GITHUB = CORPUS / "github-api.github.com.json"


@pytest.fixture
def shop():
    return create_app(":memory:", admin_token="secret")


async def test_discovery_on_a_converted_fastapi_app(shop):
    mcp = MCPKit.from_fastapi(app=shop, discovery="search", pinned_tools=["list_products_products_get"])
    async with Client(mcp) as client:
        assert [t.name for t in await client.list_tools()] == [
            "search_tools",
            "call_tool",
            "list_products_products_get",
        ]
        found = await client.call_tool("search_tools", {"query": "add a new product to the shop", "limit": 3})
        names = [t["name"] for t in found.data["tools"]]
        assert "create_product_products_post" in names
        made = await client.call_tool(
            "call_tool",
            {
                "name": "create_product_products_post",
                "arguments": {"name": "Desk", "price": 120, "category": "home"},
            },
        )
        assert made.data["name"] == "Desk"
        refused = await client.call_tool(
            "call_tool",
            {"name": "create_product_products_post", "arguments": {"name": "Desk"}},
            raise_on_error=False,
        )
        assert refused.is_error
        assert "'price' is a required property" in refused.text
        # Hidden tools stay callable by name.
        direct = await client.call_tool(
            "create_product_products_post", {"name": "Lamp", "price": 30, "category": "home"}
        )
        assert direct.data["name"] == "Lamp"


async def test_discovery_on_a_corpus_document():
    mcp = MCPKit.from_openapi(
        openapi_spec=GITHUB, client=httpx.AsyncClient(base_url="http://127.0.0.1:9"), discovery="auto"
    )
    assert len(mcp.tools) > 1000
    async with Client(mcp) as client:
        assert [t.name for t in await client.list_tools()] == ["search_tools", "call_tool"]
        found = await client.call_tool("search_tools", {"query": "create an issue in a repository"})
        assert "issues_create" in [t["name"] for t in found.data["tools"]]
        refused = await client.call_tool(
            "call_tool", {"name": "issues_create", "arguments": {"owner": "octocat"}}, raise_on_error=False
        )
        assert refused.is_error
        assert "'repo' is a required property" in refused.text


async def test_filters_and_bounds_over_streamable_http(shop):
    mcp = MCPKit.from_fastapi(app=shop, response_filter=True, max_response_bytes=400)
    async with Client(mcp) as client:
        for index in range(12):
            await client.call_tool(
                "create_product_products_post",
                {"name": f"Thing {index}", "price": index + 1, "category": "home"},
            )
    async with over_http(mcp) as url:
        async with Client(url) as client:  # the app's data lives as long as this server run
            for index in range(12):
                arguments = {"name": f"Thing {index}", "price": index + 1, "category": "home"}
                await client.call_tool("create_product_products_post", {**arguments, "response_filter": "id"})
        for mode in ("legacy", "auto"):
            async with Client(url, mode=mode) as client:
                too_big = await client.call_tool("list_products_products_get", raise_on_error=False)
                assert too_big.is_error
                assert "more than the 400 a result may carry" in too_big.text
                assert "pass response_filter" in too_big.text
                names = await client.call_tool(
                    "list_products_products_get",
                    {"response_filter": "[?starts_with(name, 'Thing')].name | [:3]"},
                )
                assert names.data == ["Thing 0", "Thing 1", "Thing 2"]

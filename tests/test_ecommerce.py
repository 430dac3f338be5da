"""Acceptance: a user walks through the bundled example shop, generated into an MCP server.

Everything goes through the public API (``MCPKit.from_fastapi``, ``mcpkit.Client``) against the real
example app (FastAPI + SQLite), in both protocol eras where it costs nothing.
"""

from __future__ import annotations

import base64
import copy
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from mcp.client.stdio import StdioServerParameters

from examples.ecommerce.app import DEFAULT_ADMIN_TOKEN, create_app
from examples.ecommerce.server import create_server
from mcpkit import Client, MCPKit, MCPType, RouteMap, ToolCallError
from tests.servers import example_process, free_port

ROOT = Path(__file__).resolve().parent.parent

MODES = ["auto", "legacy"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
TOOLS = {
    "list_products_products_get",
    "create_product_products_post",
    "get_product",
    "update_product",
    "delete_product",
    "upload_product_image",
    "get_product_image",
    "add_review",
    "store_stats",
}


def counted_app(calls: list[str]) -> FastAPI:
    """The example app, recording every request that reaches it."""
    app = create_app()

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        calls.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    return app


@pytest.mark.parametrize("mode", MODES)
async def test_generate_the_server_and_list_its_tools(mode):
    mcp = MCPKit.from_fastapi(app=create_app())
    async with Client(mcp, mode=mode) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    assert set(tools) == TOOLS
    get_product = tools["get_product"]
    assert get_product.description == "Get one product by id."
    assert get_product.input_schema["required"] == ["product_id"]
    assert get_product.output_schema is not None
    assert set(get_product.output_schema["properties"]) >= {"id", "name", "category", "price", "stock"}
    assert get_product.annotations is not None
    assert get_product.annotations.read_only_hint is True
    assert tools["delete_product"].annotations.destructive_hint is True  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_create_a_product_and_read_it_back(mode):
    async with Client(create_server(), mode=mode) as client:
        created = await client.call_tool(
            "create_product_products_post",
            {"name": "Keyboard", "category": "electronics", "price": 79.5, "stock": 3},
        )
        product = created.data
        assert product == {
            "id": product["id"],
            "name": "Keyboard",
            "category": "electronics",
            "price": 79.5,
            "stock": 3,
            "description": None,
            "has_image": False,
        }
        assert (await client.call_tool("get_product", {"product_id": product["id"]})).data == product
        updated = await client.call_tool("update_product", {"product_id": product["id"], "price": 69.0})
        assert updated.data == {**product, "price": 69.0}


@pytest.mark.parametrize("mode", MODES)
async def test_list_electronics_under_100(mode):
    async with Client(create_server(), mode=mode) as client:
        result = await client.call_tool(
            "list_products_products_get", {"category": "electronics", "max_price": 100}
        )
    products = result.data
    assert [p["name"] for p in products] == ["Wireless mouse", "USB-C hub", "Mechanical keyboard"]
    assert all(p["category"] == "electronics" and p["price"] <= 100 for p in products)


async def test_a_missing_product_is_a_tool_error_with_the_apis_404_detail():
    async with Client(create_server()) as client:
        missing = await client.call_tool("get_product", {"product_id": 999}, raise_on_error=False)
        assert missing.is_error
        assert missing.text == 'GET /products/999 returned 404 Not Found: {"detail":"Product 999 not found"}'
        with pytest.raises(ToolCallError, match="Product 999 not found"):
            await client.call_tool("delete_product", {"product_id": 999})


@pytest.mark.parametrize("mode", MODES)
async def test_delete_a_product_then_it_is_gone(mode):
    async with Client(create_server(), mode=mode, raise_on_error=False) as client:
        before = (await client.call_tool("list_products_products_get", {})).data
        assert 3 in [p["id"] for p in before]
        deleted = await client.call_tool("delete_product", {"product_id": 3})
        assert not deleted.is_error
        assert deleted.text == "DELETE /products/3 returned 204 No Content (no content)"
        missing = await client.call_tool("get_product", {"product_id": 3})
        assert missing.is_error
        assert missing.text == 'GET /products/3 returned 404 Not Found: {"detail":"Product 3 not found"}'
        after = (await client.call_tool("list_products_products_get", {})).data
        assert [p for p in before if p["id"] != 3] == after
        again = await client.call_tool("delete_product", {"product_id": 3})
        assert again.text == 'DELETE /products/3 returned 404 Not Found: {"detail":"Product 3 not found"}'


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"name": "Lamp", "category": "toys", "price": 10}, "'toys' is not one of ['electronics'"),
        ({"name": "Lamp", "category": "home", "price": "cheap"}, "price: 'cheap' is not of type 'number'"),
        (
            {"name": "Lamp", "category": "home", "price": 0},
            "price: 0 is less than or equal to the minimum of 0",
        ),
        ({"name": "Lamp", "category": "home"}, "'price' is a required property"),
        ({"name": "Lamp", "category": "home", "price": 5, "colour": "red"}, "('colour' was unexpected)"),
    ],
)
async def test_bad_arguments_are_refused_before_the_api_is_called(arguments, problem):
    calls: list[str] = []
    async with Client(MCPKit.from_fastapi(app=counted_app(calls))) as client:
        refused = await client.call_tool("create_product_products_post", arguments, raise_on_error=False)
        assert refused.is_error
        assert problem in refused.text
        assert calls == []
        await client.call_tool("list_products_products_get", {})
        assert calls == ["GET /products"]  # the same app, reached when the arguments are fine


@pytest.mark.parametrize("mode", MODES)
async def test_get_routes_become_resources_and_templates_read_through_the_client(mode):
    mcp = MCPKit.from_fastapi(
        app=create_app(),
        name="E-commerce MCP",
        route_maps=[
            RouteMap(methods=["GET"], pattern=r".*\{.*\}.*", mcp_type=MCPType.RESOURCE_TEMPLATE),
            RouteMap(methods=["GET"], pattern=r".*", mcp_type=MCPType.RESOURCE),
        ],
        httpx_client_kwargs={"headers": {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}},
    )
    assert set(mcp.tools) == TOOLS - {
        "list_products_products_get",
        "get_product",
        "get_product_image",
        "store_stats",
    }
    async with Client(mcp, mode=mode) as client:
        resources = {r.name: str(r.uri) for r in await client.list_resources()}
        templates = {t.name: t.uri_template for t in await client.list_resource_templates()}
        assert resources == {
            "list_products_products_get": "resource://list_products_products_get",
            "store_stats": "resource://store_stats",
        }
        assert templates == {
            "get_product": "resource://get_product/{product_id}",
            "get_product_image": "resource://get_product_image/{product_id}",
        }
        [catalogue] = await client.read_resource("resource://list_products_products_get")
        assert catalogue.mime_type == "application/json"
        assert '"name":"Wireless mouse"' in catalogue.text  # type: ignore[union-attr]
        [product] = await client.read_resource("resource://get_product/3")
        assert '"name":"4K monitor"' in product.text  # type: ignore[union-attr]
        [stats] = await client.read_resource("resource://store_stats")
        assert '"product_count":8' in stats.text  # type: ignore[union-attr]

        await client.call_tool("upload_product_image", {"product_id": 3, "image": _png_argument()})
        [image] = await client.read_resource("resource://get_product_image/3")
        assert (image.mime_type, base64.b64decode(image.blob)) == ("image/png", PNG)  # type: ignore[union-attr]


async def test_admin_stats_need_the_token_sent_through_httpx_client_kwargs():
    async with Client(create_server(admin_token=None), raise_on_error=False) as client:
        refused = await client.call_tool("store_stats")
        assert refused.is_error
        assert refused.text == 'GET /admin/stats returned 401 Unauthorized: {"detail":"Not authenticated"}'

    wrong = MCPKit.from_fastapi(
        app=create_app(), httpx_client_kwargs={"headers": {"Authorization": "Bearer guess"}}
    )
    async with Client(wrong, raise_on_error=False) as client:
        assert "403 Forbidden" in (await client.call_tool("store_stats")).text

    kwargs = {"headers": {"Authorization": f"Bearer {DEFAULT_ADMIN_TOKEN}"}}
    original = copy.deepcopy(kwargs)
    mcp = MCPKit.from_fastapi(app=create_app(), httpx_client_kwargs=kwargs)
    async with Client(mcp) as client:
        stats = (await client.call_tool("store_stats")).data
    assert stats["product_count"] == 8
    assert stats["products_per_category"] == {"books": 2, "clothing": 1, "electronics": 4, "home": 1}
    assert kwargs == original


async def test_a_python_tool_sits_beside_the_generated_ones():
    mcp = create_server()

    @mcp.tool
    async def cheapest(category: str) -> dict[str, Any]:
        """The cheapest product of a category, through the shop's own API."""
        result = await mcp.call_tool("list_products_products_get", {"category": category})
        return result.structured_content["result"][0]  # type: ignore[index,no-any-return]

    async with Client(mcp) as client:
        assert {tool.name for tool in await client.list_tools()} == TOOLS | {"cheapest"}
        assert (await client.call_tool("cheapest", {"category": "books"})).data["name"] == (
            "The Pragmatic Programmer"
        )


async def test_explicit_operation_ids_are_the_names_and_mcp_names_override_any():
    mcp = MCPKit.from_fastapi(
        app=create_app(),
        mcp_names={
            "list_products_products_get": "list_products",
            "get_product_products__product_id__get": "product",
        },
    )
    assert "store_stats" in mcp.tools  # operation_id="store_stats" in the app
    assert {"list_products", "product"} <= set(mcp.tools)
    assert not {"list_products_products_get", "get_product"} & set(mcp.tools)


@pytest.mark.parametrize("mode", MODES)
async def test_upload_a_picture_and_download_it_as_an_image(mode):
    async with Client(create_server(), mode=mode, raise_on_error=False) as client:
        uploaded = await client.call_tool("upload_product_image", {"product_id": 1, "image": _png_argument()})
        assert uploaded.data["has_image"] is True
        image = await client.call_tool("get_product_image", {"product_id": 1})
        [block] = image.content
        assert (block.type, block.mime_type, base64.b64decode(block.data)) == ("image", "image/png", PNG)  # type: ignore[union-attr]

        text = {
            "content": base64.b64encode(b"hello").decode(),
            "filename": "a.txt",
            "content_type": "text/plain",
        }
        refused = await client.call_tool("upload_product_image", {"product_id": 1, "image": text})
        assert refused.text.endswith('415 Unsupported Media Type: {"detail":"The file must be an image"}')


@pytest.mark.parametrize("mode", MODES)
async def test_review_a_product_with_a_form(mode):
    async with Client(create_server(), mode=mode, raise_on_error=False) as client:
        review = await client.call_tool("add_review", {"product_id": 2, "rating": 5, "comment": "Smooth"})
        assert review.data == {"id": 1, "product_id": 2, "rating": 5, "comment": "Smooth"}
        refused = await client.call_tool("add_review", {"product_id": 2, "rating": 6, "comment": "!"})
        assert "rating: 6 is greater than the maximum of 5" in refused.text
        assert (await client.call_tool("store_stats")).data["average_rating"] == 5.0


async def test_the_store_lives_in_the_apps_lifespan_state(tmp_path):
    # In memory (the default), each server run starts the app, hence a fresh store.
    mcp = create_server()
    for _ in range(2):
        async with Client(mcp) as client:
            created = await client.call_tool(
                "create_product_products_post", {"name": "Mug", "category": "home", "price": 9}
            )
            assert created.data["id"] == 9
    # In a file, the shop outlives the runs (and the process).
    database = str(tmp_path / "shop.sqlite")
    for expected in (9, 10):
        async with Client(create_server(database=database)) as client:
            created = await client.call_tool(
                "create_product_products_post", {"name": "Mug", "category": "home", "price": 9}
            )
            assert created.data["id"] == expected


def _png_argument() -> dict[str, str]:
    return {"content": base64.b64encode(PNG).decode(), "filename": "p.png", "content_type": "image/png"}


# The README's main command: `python -m examples.ecommerce`, over stdio and over HTTP.


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


async def test_python_m_examples_ecommerce_serves_over_stdio():
    command = StdioServerParameters(
        command=sys.executable, args=["-m", "examples.ecommerce"], cwd=str(ROOT), env=_environment()
    )
    async with Client(command) as client:
        assert {tool.name for tool in await client.list_tools()} == TOOLS
        result = await client.call_tool("list_products_products_get", {"category": "books"})
        assert len(result.data) == 2
        assert (await client.call_tool("store_stats")).data["product_count"] == 8


@pytest.fixture
def http_example() -> Iterator[str]:
    """``python -m examples.ecommerce --transport http`` on a free port of 127.0.0.1; stopped after."""
    port = free_port()
    arguments = ["-m", "examples.ecommerce", "--transport", "http", "--port", str(port)]
    with example_process(arguments, port, _environment()) as url:
        yield url


@pytest.mark.parametrize("mode", MODES)
async def test_python_m_examples_ecommerce_serves_over_http(http_example, mode):
    async with Client(http_example, mode=mode) as client:
        assert {tool.name for tool in await client.list_tools()} == TOOLS
        created = await client.call_tool(
            "create_product_products_post", {"name": "Scarf", "category": "clothing", "price": 19}
        )
        fetched = await client.call_tool("get_product", {"product_id": created.data["id"]})
        assert fetched.data["name"] == "Scarf"

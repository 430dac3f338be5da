"""What the API answers becomes results and errors a client can use; failures never crash the server."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import mcp_types as types
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcpkit import Client, MCPKit

PRODUCT = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "secret": {"type": "string", "writeOnly": True},
    },
}


def ok(schema: dict[str, Any] | None, media_type: str = "application/json") -> dict[str, Any]:
    content = {media_type: {"schema": schema}} if schema is not None else {media_type: {}}
    return {"200": {"description": "ok", "content": content}}


DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "2.1"},
    "paths": {
        "/products/{id}": {
            "get": {
                "operationId": "get_product",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    **ok({"$ref": "#/components/schemas/Product"}),
                    "404": {"description": "missing"},
                },
            },
            "delete": {
                "operationId": "delete_product",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"204": {"description": "gone"}},
            },
        },
        "/products": {
            "get": {
                "operationId": "list_products",
                "responses": ok({"type": "array", "items": {"$ref": "#/components/schemas/Product"}}),
            }
        },
        "/readme": {"get": {"operationId": "readme", "responses": ok({"type": "string"}, "text/plain")}},
        "/logo": {
            "get": {
                "operationId": "logo",
                "responses": ok({"type": "string", "format": "binary"}, "image/png"),
            }
        },
        "/archive": {
            "get": {
                "operationId": "archive",
                "responses": ok({"type": "string", "format": "binary"}, "application/zip"),
            }
        },
        "/slow": {"get": {"operationId": "slow", "responses": {"200": {"description": "eventually"}}}},
    },
    "components": {"schemas": {"Product": PRODUCT}},
}

ROUTES: dict[str, Any] = {
    "/api/products/1": lambda: JSONResponse({"id": 1, "name": "Keyboard"}),
    "/api/products/2": lambda: JSONResponse({"id": "two", "name": "Mouse"}),
    "/api/products/3": lambda: Response("<html>oops</html>", media_type="text/html"),
    "/api/products/4": lambda: Response("{not json", media_type="application/json"),
    "/api/products/404": lambda: JSONResponse({"detail": "Product not found"}, status_code=404),
    "/api/products/500": lambda: Response("x" * 10_000, status_code=500, media_type="text/plain"),
    "/api/products/301": lambda: Response(
        status_code=301, headers={"location": "https://elsewhere.example/"}
    ),
    "/api/products": lambda: JSONResponse([{"id": 1, "name": "Keyboard"}]),
    "/api/readme": lambda: Response("# Shop\n", media_type="text/plain"),
    "/api/logo": lambda: Response(b"\x89PNG", media_type="image/png"),
    "/api/archive": lambda: Response(b"PK\x03\x04", media_type="application/zip"),
}


def respond(request: Request) -> Response:
    if request.method == "DELETE":
        return Response(status_code=204)
    return ROUTES[request.url.path]()


@pytest.fixture
def shop(upstream):
    upstream.respond = respond
    return MCPKit.from_openapi(openapi_spec=DOC, client=upstream.client())


async def test_json_success_is_structured_content(shop):
    async with Client(shop) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert "secret" not in tools["get_product"].output_schema["properties"]  # writeOnly is not an output
        result = await client.call_tool("get_product", {"id": 1})
        assert result.data == {"id": 1, "name": "Keyboard"}
        listed = await client.call_tool("list_products")
        assert listed.data == [{"id": 1, "name": "Keyboard"}]
        assert tools["list_products"].output_schema["x-mcpkit-wrap-result"] is True


async def test_text_image_and_binary_responses(shop):
    async with Client(shop) as client:
        readme = await client.call_tool("readme")
        assert (readme.text, readme.data) == ("# Shop\n", None)
        [image] = (await client.call_tool("logo")).content
        assert isinstance(image, types.ImageContent)
        assert (image.mime_type, image.data) == ("image/png", "iVBORw==")
        [embedded] = (await client.call_tool("archive")).content
        assert isinstance(embedded, types.EmbeddedResource)
        assert embedded.resource.mime_type == "application/zip"
        assert embedded.resource.uri == "http://upstream.test/api/archive"


async def test_no_content(shop):
    async with Client(shop) as client:
        result = await client.call_tool("delete_product", {"id": 9})
    assert result.text == "DELETE /api/products/9 returned 204 No Content (no content)"


@pytest.mark.parametrize(
    ("product_id", "expected"),
    [
        (404, 'GET /api/products/404 returned 404 Not Found: {"detail":"Product not found"}'),
        (
            2,
            "GET /api/products/2 returned 200 OK, but the response does not match the documented schema "
            "(at id:",
        ),
        (3, "GET /api/products/3 returned 200 OK with text/html where JSON is documented: <html>oops</html>"),
        (4, "GET /api/products/4 returned 200 OK with a body that is not valid JSON: {not json"),
        (
            301,
            "GET /api/products/301 returned 301 Moved Permanently: a redirect to https://elsewhere.example/",
        ),
    ],
)
async def test_failures_are_error_results_and_the_server_keeps_serving(shop, product_id, expected):
    async with Client(shop) as client:
        failed = await client.call_tool("get_product", {"id": product_id}, raise_on_error=False)
        assert failed.is_error
        assert failed.text.startswith(expected)
        assert (await client.call_tool("get_product", {"id": 1})).data["name"] == "Keyboard"


async def test_error_bodies_are_bounded(shop):
    async with Client(shop) as client:
        failed = await client.call_tool("get_product", {"id": 500}, raise_on_error=False)
    assert failed.text.startswith("GET /api/products/500 returned 500 Internal Server Error: xxxx")
    assert failed.text.endswith("... (10000 characters in all)")
    assert len(failed.text) < 2200


async def test_timeout_bounds_a_slow_upstream(upstream):
    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(5)

    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=slow), base_url="http://upstream.test/api")
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=client, timeout=0.2)
    async with Client(mcp) as mcp_client:
        result = await mcp_client.call_tool("slow", raise_on_error=False)
    assert (result.is_error, result.text) == (True, "GET /api/slow timed out after 0.2 s")


async def test_connection_failure_is_an_error_result():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=client)
    async with Client(mcp) as mcp_client:
        result = await mcp_client.call_tool("readme", raise_on_error=False)
    assert result.is_error
    assert result.text.startswith("GET /readme failed: ConnectError")


async def test_output_schema_policies(upstream):
    upstream.respond = respond
    for policy, expect_schema in (("full", True), ("compact", True), ("none", False)):
        mcp = MCPKit.from_openapi(openapi_spec=DOC, client=upstream.client(), output_schemas=policy)
        tool = mcp.tools["get_product"]
        assert (tool.output_schema is not None) is expect_schema
        async with Client(mcp) as client:
            result = await client.call_tool("get_product", {"id": 1})
        assert json.loads(result.text) == {"id": 1, "name": "Keyboard"}


def test_a_response_that_is_one_definition_is_that_definition_at_the_root():
    """No second copy of it in ``$defs``, unless something refers back to it (a recursive one)."""
    node = {"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array"}}}
    node["properties"]["children"]["items"] = {"$ref": "#/components/schemas/Node"}
    document = {
        "openapi": "3.0.3",
        "info": {"title": "Refs", "version": "1"},
        "paths": {
            "/product": {
                "get": {"operationId": "product", "responses": ok({"$ref": "#/components/schemas/Product"})}
            },
            "/tree": {"get": {"operationId": "tree", "responses": ok({"$ref": "#/components/schemas/Node"})}},
        },
        "components": {"schemas": {"Product": PRODUCT, "Node": node}},
    }
    mcp = MCPKit.from_openapi(openapi_spec=document, client=httpx.AsyncClient(base_url="http://api.test"))
    product = mcp.tools["product"].output_schema
    assert product == {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
    tree = mcp.tools["tree"].output_schema
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert list(tree["$defs"]) == ["Node"]

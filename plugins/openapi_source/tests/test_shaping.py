"""Response shaping: the response_filter argument, bounded results, and discovery over a converted API."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from mcpkit import Client, MCPKit

ITEMS = [{"id": i, "name": f"item {i}", "notes": "x" * 50} for i in range(3000)]

DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Catalog", "version": "1"},
    "paths": {
        "/items": {
            "get": {
                "operationId": "list_items",
                "summary": "List catalog items",
                "parameters": [
                    {"name": "per_page", "in": "query", "schema": {"type": "integer"}},
                    {"name": "page", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": {
                    "200": {
                        "description": "",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "integer"},
                                            "name": {"type": "string"},
                                            "notes": {"type": "string"},
                                        },
                                    },
                                }
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "create_item",
                "summary": "Add an item to the catalog",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}
                        }
                    }
                },
                "responses": {"201": {"description": ""}},
            },
        },
        "/items/{id}": {
            "delete": {
                "operationId": "delete_item",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"204": {"description": ""}},
            }
        },
        "/huge": {
            "get": {
                "operationId": "huge",
                "responses": {"200": {"description": "", "content": {"text/plain": {}}}},
            }
        },
        "/readme": {
            "get": {
                "operationId": "readme",
                "responses": {"200": {"description": "", "content": {"text/plain": {}}}},
            }
        },
    },
}


def respond(request: Request) -> Response:
    if request.url.path == "/api/huge":
        chunk = b"y" * (1024 * 1024)

        async def body():
            for _ in range(40):  # 40 MB, more than the 32 MB ever read
                yield chunk

        return StreamingResponse(body(), media_type="text/plain")
    if request.url.path == "/api/readme":
        return Response("# Catalog\n", media_type="text/plain")
    if request.method == "POST":
        return JSONResponse({"id": 1}, status_code=201)
    return JSONResponse(ITEMS)


@pytest.fixture
def catalog(upstream):
    upstream.respond = respond

    def build(**options):
        return MCPKit.from_openapi(openapi_spec=DOC, client=upstream.client(), **options)

    return build


async def test_the_filter_argument_is_documented_and_trims_the_response(catalog, upstream):
    async with Client(catalog(response_filter=True)) as client:
        [tool] = [t for t in await client.list_tools() if t.name == "list_items"]
        description = tool.input_schema["properties"]["response_filter"]["description"]
        assert "JMESPath" in description
        assert "for example" in description
        trimmed = await client.call_tool("list_items", {"response_filter": "[:2].{id: id, name: name}"})
        assert trimmed.data == [{"id": 0, "name": "item 0"}, {"id": 1, "name": "item 1"}]
        count = await client.call_tool("list_items", {"response_filter": "length(@)"})
        assert count.data == 3000  # the SDK client accepted it: the output schema stays truthful
    assert "response_filter" not in upstream.last.query


async def test_an_invalid_filter_is_a_clear_error_and_nothing_is_sent(catalog, upstream):
    async with Client(catalog(response_filter=True)) as client:
        result = await client.call_tool("list_items", {"response_filter": "[?id =="}, raise_on_error=False)
    assert result.is_error
    assert result.text.startswith("response_filter '[?id ==' is not a valid JMESPath expression")
    assert upstream.requests == []


async def test_the_filter_argument_is_off_by_default(catalog):
    mcp = catalog()
    assert "response_filter" not in mcp.tools["list_items"].input_schema["properties"]


async def test_large_responses_are_not_passed_through(catalog):
    async with Client(catalog(response_filter=True)) as client:
        result = await client.call_tool("list_items", raise_on_error=False)
        assert result.is_error
        size = len(json.dumps(ITEMS, separators=(",", ":")))
        assert result.text.startswith(
            f"GET /api/items returned 200 OK: the response is {size:,} bytes, more than the 100,000 a result "
            "may carry (max_response_bytes). To narrow it, pass response_filter (a JMESPath expression) to "
            'keep only what you need or ask for fewer items with per_page, page. Its start: [{"id":0,'
        )
        assert len(result.text) < 2600
        assert (await client.call_tool("readme")).text == "# Catalog\n"  # the server keeps serving


async def test_bounds_are_options_and_settings(catalog, monkeypatch):
    async with Client(catalog(max_response_bytes=None)) as client:
        assert len((await client.call_tool("list_items")).data) == 3000
    async with Client(catalog(max_response_bytes=5)) as client:
        refused = await client.call_tool("readme", raise_on_error=False)
    assert refused.is_error
    assert "the response is 10 bytes, more than the 5 a result may carry" in refused.text
    monkeypatch.setenv("MCPKIT_MAX_RESPONSE_BYTES", "none")
    monkeypatch.setenv("MCPKIT_RESPONSE_FILTER", "true")
    mcp = catalog()
    assert "response_filter" in mcp.tools["list_items"].input_schema["properties"]
    async with Client(mcp) as client:
        assert len((await client.call_tool("list_items")).data) == 3000


async def test_huge_bodies_are_not_read(catalog):
    async with Client(catalog()) as client:
        result = await client.call_tool("huge", raise_on_error=False)
    assert result.is_error
    assert result.text == "GET /api/huge returned more than 33,554,432 bytes; the rest was not read"


async def test_discovery_over_a_converted_api(catalog):
    mcp = catalog(discovery="search")
    async with Client(mcp) as client:
        assert [t.name for t in await client.list_tools()] == ["search_tools", "call_tool"]

        async def best(query: str) -> str:
            found = await client.call_tool("search_tools", {"query": query, "limit": 1})
            return found.data["tools"][0]["name"]

        assert await best("remove something from the catalog") == "delete_item"
        assert await best("make a new item") == "create_item"
        assert await best("show me what is in the catalog") == "list_items"
        made = await client.call_tool("call_tool", {"name": "create_item", "arguments": {"name": "pen"}})
        assert made.data == {"id": 1}

"""Every option of MCPKit.from_openapi, resources and templates, annotations, parser selection."""

from __future__ import annotations

import json
import re

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcpkit import (
    Client,
    MCPKit,
    MCPType,
    MissingPluginError,
    Resource,
    Route,
    RouteMap,
    Tool,
    UnknownNameError,
)
from mcpkit.plugins import reset_plugin_host
from mcpkit_openapi import OpenAPIError

ITEM = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
ID = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def ok(schema=ITEM, media_type="application/json"):
    return {"200": {"description": "the item", "content": {media_type: {"schema": schema}}}}


DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Catalog API", "version": "3.2.1"},
    "servers": [
        {
            "url": "https://{region}.catalog.example/{base}",
            "variables": {"region": {"default": "eu", "enum": ["eu", "us"]}, "base": {"default": "v1"}},
        }
    ],
    "paths": {
        "/items": {
            "get": {
                "operationId": "list_items",
                "summary": "List items",
                "tags": ["items", "public"],
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer"},
                        "description": "Page size",
                    },
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                ],
                "responses": ok({"type": "array", "items": ITEM}),
            },
            "post": {
                "operationId": "create_item",
                "summary": "Create an item",
                "tags": ["items"],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ITEM}}},
                "responses": ok(),
            },
        },
        "/items/{item_id}": {
            "get": {"operationId": "get_item", "tags": ["items"], "parameters": [ID], "responses": ok()},
            "put": {
                "operationId": "replace_item",
                "parameters": [ID],
                "requestBody": {"content": {"application/json": {"schema": ITEM}}},
                "responses": ok(),
            },
            "delete": {
                "operationId": "delete_item",
                "description": "Delete for good.",
                "tags": ["admin"],
                "parameters": [ID],
                "responses": {"204": {"description": "deleted"}},
            },
        },
        "/stats": {"get": {"operationId": "stats", "responses": ok({"type": "string"}, "text/csv")}},
        "/health": {"get": {"responses": {"200": {"description": "up"}}}},
    },
}


def respond(request: Request) -> Response:
    path = request.url.path
    if path == "/api/stats":
        return Response("a,b\n1,2\n", media_type="text/csv")
    if path.startswith("/api/items/"):
        if path.endswith("/0"):
            return JSONResponse({"detail": "no item 0"}, status_code=404)
        return JSONResponse({"id": int(path.rsplit("/", 1)[1]), "name": "x"})
    return JSONResponse(
        [{"id": 1, "name": dict(request.query_params)}] if request.method == "GET" else {"id": 9}
    )


@pytest.fixture
def client(upstream):
    upstream.respond = respond
    return upstream.client()


def test_names_title_version_and_default_route_maps(client):
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=client)
    assert mcp.name == "Catalog API"
    assert mcp.lowlevel_server.version == "3.2.1"
    assert sorted(mcp.tools) == [
        "create_item",
        "delete_item",
        "get_health",
        "get_item",
        "list_items",
        "replace_item",
        "stats",
    ]
    assert MCPKit.from_openapi(openapi_spec=DOC, client=client, name="Mine").name == "Mine"


def test_annotations_follow_http_semantics(client):
    tools = MCPKit.from_openapi(openapi_spec=DOC, client=client).tools
    assert tools["list_items"].annotations == types.ToolAnnotations(title="List items", read_only_hint=True)
    assert tools["delete_item"].annotations == types.ToolAnnotations(
        destructive_hint=True, idempotent_hint=True
    )
    assert tools["replace_item"].annotations == types.ToolAnnotations(
        read_only_hint=False, idempotent_hint=True
    )
    assert tools["create_item"].annotations == types.ToolAnnotations(
        title="Create an item", read_only_hint=False
    )
    assert tools["create_item"].title == "Create an item"


def test_descriptions_optionally_document_arguments_and_responses(client):
    plain = MCPKit.from_openapi(openapi_spec=DOC, client=client).tools
    assert plain["delete_item"].description == "Delete for good."
    assert plain["list_items"].description == "List items"
    detailed = MCPKit.from_openapi(openapi_spec=DOC, client=client, detailed_descriptions=True).tools
    assert detailed["list_items"].description == (
        "List items\n\nArguments:\n- limit (query): Page size\n\nResponses:\n- 200: the item"
    )


async def test_resources_and_templates_from_route_maps(client, upstream):
    mcp = MCPKit.from_openapi(
        openapi_spec=DOC,
        client=client,
        route_maps=[
            RouteMap(methods=["GET"], pattern=r".*\{.*\}.*", mcp_type=MCPType.RESOURCE_TEMPLATE),
            RouteMap(methods=["GET"], pattern=r".*", mcp_type=MCPType.RESOURCE),
        ],
    )
    assert sorted(mcp.tools) == ["create_item", "delete_item", "replace_item"]
    async with Client(mcp) as mcp_client:
        resources = {r.name: r for r in await mcp_client.list_resources()}
        assert (resources["stats"].uri, resources["stats"].mime_type) == ("resource://stats", "text/csv")
        templates = {t.name: t.uri_template for t in await mcp_client.list_resource_templates()}
        assert templates == {"get_item": "resource://get_item/{item_id}"}
        [csv] = await mcp_client.read_resource("resource://stats")
        assert (csv.text, csv.mime_type) == ("a,b\n1,2\n", "text/csv")
        [item] = await mcp_client.read_resource("resource://get_item/42")
        assert json.loads(item.text) == {"id": 42, "name": "x"}
        assert upstream.last.path == "/api/items/42"
        with pytest.raises(
            MCPError, match=re.escape('GET /api/items/0 returned 404 Not Found: {"detail":"no item 0"}')
        ):
            await mcp_client.read_resource("resource://get_item/0")
        with pytest.raises(MCPError, match="invalid resource URI: item_id: 'abc' is not of type 'integer'"):
            await mcp_client.read_resource("resource://get_item/abc")
    # list_items has only optional parameters, so it stays a fixed resource; the untitled health check too.
    assert set(mcp.resources) == {"resource://list_items", "resource://stats", "resource://get_health"}


async def test_templates_take_query_parameters(client, upstream):
    mcp = MCPKit.from_openapi(
        openapi_spec=DOC,
        client=client,
        route_maps=[RouteMap(methods=["GET"], pattern=r"^/items$", mcp_type=MCPType.RESOURCE_TEMPLATE)],
    )
    [template] = mcp.resource_templates.values()
    assert template.uri_template == "resource://list_items{?limit,tags}"
    async with Client(mcp) as mcp_client:
        await mcp_client.read_resource("resource://list_items?limit=5&tags=a,b")
    assert upstream.last.query == "limit=5&tags=a&tags=b"


def test_route_map_tags_and_exclusion(client):
    mcp = MCPKit.from_openapi(
        openapi_spec=DOC,
        client=client,
        route_maps=[
            RouteMap(tags={"admin"}, mcp_type=MCPType.EXCLUDE),
            RouteMap(tags={"public"}, mcp_type=MCPType.TOOL, mcp_tags={"safe"}),
        ],
        tags={"catalog"},
    )
    assert "delete_item" not in mcp.tools
    assert mcp.tools["list_items"].tags == frozenset({"items", "public", "safe", "catalog"})
    assert mcp.tools["get_item"].tags == frozenset({"items", "catalog"})


def test_route_map_fn_and_component_fn(client):
    seen: list[Route] = []

    def route_map_fn(route: Route, mcp_type: MCPType) -> MCPType | None:
        seen.append(route)
        return MCPType.EXCLUDE if route.method == "PUT" else None

    def component_fn(route: Route, component: Tool | Resource) -> None:
        component.description = f"[{route.method} {route.path}] {component.description or ''}".strip()
        if isinstance(component, Tool) and route.method == "DELETE":
            component.annotations = types.ToolAnnotations(destructive_hint=True, title="Really delete")

    mcp = MCPKit.from_openapi(
        openapi_spec=DOC, client=client, route_map_fn=route_map_fn, mcp_component_fn=component_fn
    )
    assert "replace_item" not in mcp.tools
    assert mcp.tools["delete_item"].description == "[DELETE /items/{item_id}] Delete for good."
    assert mcp.tools["delete_item"].annotations.title == "Really delete"
    assert {r.operation_id for r in seen} >= {"list_items", "replace_item"}
    assert seen[0].extra["operation"].pointer.startswith("#/paths/")


def test_mcp_names_override_exactly(client):
    mcp = MCPKit.from_openapi(
        openapi_spec=DOC, client=client, mcp_names={"list_items": "browse", "get_item": "stats"}
    )
    assert {"browse", "stats", "stats_2"} <= set(mcp.tools)
    assert mcp.tools["stats"].annotations.read_only_hint is True
    with pytest.raises(ValueError, match="not a valid MCP name"):
        MCPKit.from_openapi(openapi_spec=DOC, client=client, mcp_names={"list_items": "no spaces"})


def test_without_a_client_the_server_must_be_absolute():
    without_servers = {**DOC, "servers": [{"url": "/relative"}]}
    with pytest.raises(
        OpenAPIError, match="no client was given and the document names no absolute server URL"
    ):
        MCPKit.from_openapi(openapi_spec=without_servers)


async def test_default_client_sends_to_the_documented_server(upstream, live_server):
    upstream.respond = respond
    port = live_server(upstream)
    document = {
        **DOC,
        "servers": [
            {
                "url": "http://{host}:{port}/{base}",
                "variables": {
                    "host": {"default": "127.0.0.1"},
                    "port": {"default": str(port)},
                    "base": {"default": "api"},
                },
            }
        ],
    }
    mcp = MCPKit.from_openapi(openapi_spec=document, timeout=5)
    async with Client(mcp) as mcp_client:
        assert (await mcp_client.call_tool("get_item", {"item_id": 3})).data == {"id": 3, "name": "x"}
    assert upstream.last.path == "/api/items/3"


@pytest.mark.parametrize(
    ("env", "parser", "expected"),
    [
        ({}, None, "LegacyParser"),
        ({"MCPKIT_EXPERIMENTAL_ENABLE_NEW_OPENAPI_PARSER": "true"}, None, "ExperimentalParser"),
        (
            {"MCPKIT_EXPERIMENTAL_ENABLE_NEW_OPENAPI_PARSER": "true", "MCPKIT_OPENAPI_PARSER": "legacy"},
            None,
            "LegacyParser",
        ),
        ({}, "experimental", "ExperimentalParser"),
    ],
)
def test_parser_selection(monkeypatch, env, parser, expected):
    from mcpkit import Settings
    from mcpkit_openapi.source import select_parser

    for name in ("MCPKIT_EXPERIMENTAL_ENABLE_NEW_OPENAPI_PARSER", "MCPKIT_OPENAPI_PARSER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert type(select_parser(parser, Settings())).__name__ == expected


def test_unknown_or_missing_parsers(monkeypatch, client):
    with pytest.raises(
        UnknownNameError, match="unknown OpenAPI parser 'fancy'; valid choices: 'experimental', 'legacy'"
    ):
        MCPKit.from_openapi(openapi_spec=DOC, client=client, parser="fancy")
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "mcpkit-openapi")
    reset_plugin_host()
    with pytest.raises(MissingPluginError, match=r"pip install 'mcpkit\[openapi\]'"):
        MCPKit.from_openapi(openapi_spec=DOC, client=client)


def test_a_third_party_parser_can_be_selected(monkeypatch, client):
    from mcpkit import hookimpl
    from mcpkit.plugins import get_plugin_host
    from mcpkit_openapi.parsers.experimental import ExperimentalParser

    class Counting(ExperimentalParser):
        calls = 0

        def parse(self, document):
            Counting.calls += 1
            return super().parse(document)

    class Plugin:
        @hookimpl
        def mcpkit_register_openapi_parsers(self, register):
            register("counting", Counting())

    get_plugin_host().register(Plugin(), name="counting-plugin")
    monkeypatch.setenv("MCPKIT_OPENAPI_PARSER", "counting")
    assert "get_item" in MCPKit.from_openapi(openapi_spec=DOC, client=client).tools
    assert Counting.calls == 1


async def test_generated_tools_sit_beside_python_tools(client):
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=client)

    @mcp.tool
    def double(x: int) -> int:
        return 2 * x

    async with Client(mcp) as mcp_client:
        assert (await mcp_client.call_tool("double", {"x": 21})).data == 42
        assert (await mcp_client.call_tool("get_item", {"item_id": 5})).data == {"id": 5, "name": "x"}

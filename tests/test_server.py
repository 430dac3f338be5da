"""MCPKit through the real SDK client, in memory, in both protocol eras."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated, Any

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field

from mcpkit import (
    Client,
    MCPKit,
    ResourceContent,
    ResourceError,
    ResourceTemplate,
    SchemaError,
    Settings,
    Tool,
    ToolCallError,
    ToolError,
    ToolResult,
)
from mcpkit.context import current_request, forwarded_headers


@pytest.fixture(params=["legacy", "auto"], ids=["handshake-era", "2026-07-28"])
def mode(request):
    """Both protocol eras the SDK serves: the initialize handshake, and the sessionless 2026 protocol."""
    return request.param


class Product(BaseModel):
    id: int
    name: str
    price: float


def make_server(calls: list[str] | None = None) -> MCPKit:
    mcp = MCPKit("shop")
    record = calls if calls is not None else []

    @mcp.tool
    def add(a: int, b: Annotated[int, Field(description="second term", ge=0)] = 2) -> int:
        """Add two numbers."""
        record.append("add")
        return a + b

    @mcp.tool(name="get_product", annotations=types.ToolAnnotations(read_only_hint=True))
    async def fetch(product_id: int) -> Product:
        record.append("get_product")
        if product_id == 404:
            raise ToolError("product 404 not found")
        return Product(id=product_id, name="Keyboard", price=49.5)

    @mcp.tool
    def list_products() -> list[Product]:
        return [Product(id=1, name="Keyboard", price=49.5)]

    @mcp.tool
    def greet(name: str) -> str:
        return f"hello {name}"

    @mcp.tool
    def explode() -> None:
        raise RuntimeError("the database is on fire")

    return mcp


async def test_decorated_tools_are_listed_with_their_schemas(mode):
    async with Client(make_server(), mode=mode) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    assert list(tools) == ["add", "get_product", "list_products", "greet", "explode"]
    add = tools["add"]
    assert add.description == "Add two numbers."
    assert add.input_schema["type"] == "object"
    assert add.input_schema["required"] == ["a"]
    assert add.input_schema["properties"]["b"] == {
        "default": 2,
        "description": "second term",
        "minimum": 0,
        "title": "B",
        "type": "integer",
    }
    assert tools["get_product"].annotations == types.ToolAnnotations(read_only_hint=True)
    assert tools["get_product"].output_schema["properties"]["price"]["type"] == "number"
    # Non-object outputs are wrapped so that handshake-era clients accept the listing.
    assert tools["list_products"].output_schema["type"] == "object"
    assert tools["list_products"].output_schema["x-mcpkit-wrap-result"] is True
    assert tools["explode"].output_schema is None


async def test_results_carry_structured_data(mode):
    async with Client(make_server(), mode=mode) as client:
        assert (await client.call_tool("add", {"a": 40})).data == 42
        product = await client.call_tool("get_product", {"product_id": 7})
        assert product.data == {"id": 7, "name": "Keyboard", "price": 49.5}
        assert product.structured_content == product.data
        assert product.text == '{"id":7,"name":"Keyboard","price":49.5}'
        listed = await client.call_tool("list_products")
        assert listed.data == [{"id": 1, "name": "Keyboard", "price": 49.5}]
        assert listed.structured_content == {"result": listed.data}
        greeting = await client.call_tool("greet", {"name": "Ada"})
        assert (greeting.data, greeting.text) == ("hello Ada", "hello Ada")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "'a' is a required property"),
        ({"a": "forty"}, "a: 'forty' is not of type 'integer'"),
        ({"a": 1, "b": -1}, "b: -1 is less than the minimum of 0"),
    ],
)
async def test_invalid_arguments_are_refused_before_the_tool_runs(mode, arguments, expected):
    calls: list[str] = []
    async with Client(make_server(calls), mode=mode) as client:
        result = await client.call_tool("add", arguments, raise_on_error=False)
    assert result.is_error
    assert result.text.startswith("invalid arguments for tool 'add':")
    assert expected in result.text
    assert calls == []


async def test_exceptions_become_error_results_and_the_server_keeps_serving(mode, caplog):
    async with Client(make_server(), mode=mode) as client:
        with caplog.at_level(logging.ERROR, logger="mcpkit.server"):
            boom = await client.call_tool("explode", raise_on_error=False)
        assert boom.is_error
        assert boom.text == "tool 'explode' failed: RuntimeError: the database is on fire"
        assert "the database is on fire" in caplog.text
        missing = await client.call_tool("get_product", {"product_id": 404}, raise_on_error=False)
        assert (missing.is_error, missing.text) == (True, "product 404 not found")
        assert (await client.call_tool("add", {"a": 1})).data == 3


async def test_client_raises_on_tool_errors_by_default(mode):
    async with Client(make_server(), mode=mode) as client:
        with pytest.raises(ToolCallError, match="tool 'get_product' failed: product 404 not found"):
            await client.call_tool("get_product", {"product_id": 404})


async def test_error_details_can_be_masked(mode):
    mcp = MCPKit("masked", settings=Settings(mask_error_details=True))

    @mcp.tool
    def leak() -> None:
        raise RuntimeError("password=hunter2")

    async with Client(mcp, mode=mode) as client:
        result = await client.call_tool("leak", raise_on_error=False)
    assert result.text == "tool 'leak' failed with an internal error"


async def test_unknown_tool_is_a_protocol_error_with_suggestions(mode):
    async with Client(make_server(), mode=mode) as client:
        with pytest.raises(MCPError, match="unknown tool 'ad'; did you mean 'add'"):
            await client.call_tool("ad", {})


RAW_INPUT = {
    "$ref": "#/$defs/Query",
    "$defs": {
        "Query": {
            "type": "object",
            "properties": {"filter": {"$ref": "#/$defs/Filter"}},
            "required": ["filter"],
        },
        "Filter": {
            "type": "object",
            "properties": {
                "tag": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Filter"}},
            },
            "required": ["tag"],
        },
    },
}


async def test_raw_json_schema_tools(mode):
    received: list[dict[str, Any]] = []

    async def search(arguments: dict[str, Any]) -> ToolResult:
        received.append(arguments)
        return ToolResult(structured_content=[arguments["filter"]["tag"]])

    mcp = MCPKit("raw")
    served = mcp.add_tool(
        Tool(
            name="search",
            input_schema=RAW_INPUT,
            fn=search,
            output_schema={"type": "array", "items": {"type": "string"}},
        )
    )
    # A root that only points into $defs is replaced by its target, keeping the definitions.
    assert served.input_schema["type"] == "object"
    assert served.input_schema["required"] == ["filter"]
    assert "Filter" in served.input_schema["$defs"]
    async with Client(mcp, mode=mode) as client:
        [listed] = await client.list_tools()
        assert listed.input_schema == served.input_schema
        ok = await client.call_tool("search", {"filter": {"tag": "a", "children": [{"tag": "b"}]}})
        assert ok.data == ["a"]
        bad = await client.call_tool("search", {"filter": {"children": [{"tag": 1}]}}, raise_on_error=False)
    assert bad.is_error
    assert "filter: 'tag' is a required property" in bad.text
    assert "filter/children/0/tag: 1 is not of type 'string'" in bad.text
    assert len(received) == 1


async def noop(arguments: dict[str, Any]) -> ToolResult:
    return ToolResult()


@pytest.mark.parametrize(
    ("input_schema", "output_schema", "message"),
    [
        ({"type": "object", "properties": {"x": {"$ref": "#/$defs/Nope"}}}, None, "does not resolve"),
        ({"type": "object", "properties": {"x": {"$ref": "other.json#/X"}}}, None, "is not local"),
        ({"type": "string"}, None, "must describe an object"),
        ([1, 2], None, "must be a JSON object"),
        ({"type": "object", "properties": {"x": 3}}, None, "'properties' must map names to schemas"),
        ({"type": "object", "required": "x"}, None, "'required' must be a list"),
        ({"type": "object"}, {"type": "array", "items": {"$ref": "#/$defs/Gone"}}, "does not resolve"),
    ],
)
def test_unservable_schemas_are_refused_when_added(input_schema, output_schema, message):
    with pytest.raises(SchemaError, match=message):
        MCPKit("x").add_tool(Tool("t", input_schema, noop, output_schema=output_schema))


def test_input_schema_without_type_becomes_an_object():
    served = MCPKit("x").add_tool(Tool("t", {"properties": {"q": {"type": "string"}}}, noop))
    assert served.input_schema["type"] == "object"
    nullable = MCPKit("x").add_tool(Tool("t", {"type": ["object", "null"]}, noop))
    assert nullable.input_schema["type"] == "object"


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "slash/no"])
def test_invalid_tool_names_are_refused(name):
    with pytest.raises(ValueError, match="not a valid MCP tool name"):
        MCPKit("x").add_tool(Tool(name, {"type": "object"}, noop))


def test_duplicate_tool_names_are_refused_unless_replacing():
    mcp = MCPKit("x")
    mcp.add_tool(Tool("t", {"type": "object"}, noop))
    with pytest.raises(ValueError, match="already exists"):
        mcp.add_tool(Tool("t", {"type": "object"}, noop))
    mcp.add_tool(Tool("t", {"type": "object"}, noop, description="new"), replace_existing=True)
    assert mcp.tools["t"].description == "new"


def test_function_tools_refuse_signatures_they_cannot_describe():
    mcp = MCPKit("x")
    with pytest.raises(TypeError, match="parameter 'args' must be a plain named parameter"):

        @mcp.tool
        def variadic(*args: int) -> None: ...


async def test_tool_listing_is_computed_once_and_refreshed_when_tools_change(mode, monkeypatch):
    conversions: list[str] = []
    original = Tool.to_wire

    def counting(self: Tool) -> dict[str, Any]:
        conversions.append(self.name)
        return original(self)

    monkeypatch.setattr(Tool, "to_wire", counting)
    mcp = make_server()
    async with Client(mcp, mode=mode) as client:
        first = await client.session.list_tools()
        for _ in range(3):
            assert await client.session.list_tools() == first
        assert len(conversions) == 5
        mcp.add_tool(Tool("late", {"type": "object"}, noop))
        assert "late" in {t.name for t in (await client.session.list_tools()).tools}
        assert len(conversions) == 11
        mcp.remove_tool("late")
        assert "late" not in {t.name for t in (await client.session.list_tools()).tools}


def make_resources() -> MCPKit:
    mcp = MCPKit("res")

    @mcp.resource("config://app", mime_type="application/json", description="App configuration")
    def config() -> dict[str, Any]:
        return {"debug": False}

    @mcp.resource("products://{product_id}/name")
    def product_name(product_id: int) -> str:
        return f"product #{product_id + 1}"

    @mcp.resource("files://{name}")
    def file(name: str) -> ResourceContent:
        if name == "secret":
            raise ResourceError("not allowed")
        if name == "crash":
            raise KeyError(name)
        return ResourceContent(b"\x00\x01", "application/octet-stream")

    return mcp


async def test_resources_and_templates(mode):
    async with Client(make_resources(), mode=mode) as client:
        [resource] = await client.list_resources()
        assert (resource.uri, resource.name, resource.mime_type) == (
            "config://app",
            "config",
            "application/json",
        )
        assert resource.description == "App configuration"
        templates = {t.uri_template for t in await client.list_resource_templates()}
        assert templates == {"products://{product_id}/name", "files://{name}"}

        [config] = await client.read_resource("config://app")
        assert (config.text, config.mime_type) == ('{"debug":false}', "application/json")
        [name] = await client.read_resource("products://41/name")
        assert (name.text, name.mime_type) == ("product #42", "text/plain")
        [blob] = await client.read_resource("files://logo")
        assert (blob.blob, blob.mime_type) == ("AAE=", "application/octet-stream")

        with pytest.raises(MCPError, match="not allowed"):
            await client.read_resource("files://secret")
        with pytest.raises(MCPError, match="reading resource 'files://crash' failed: KeyError"):
            await client.read_resource("files://crash")
        with pytest.raises(MCPError, match="unknown resource 'nothing://here'"):
            await client.read_resource("nothing://here")
        # The template converts its variables with the function's types; bad values fail the read.
        with pytest.raises(MCPError, match="product_id"):
            await client.read_resource("products://abc/name")


def test_resource_function_parameters_must_match_the_uri():
    mcp = MCPKit("x")
    with pytest.raises(
        TypeError, match=r"parameters of .*\(item\) must match the URI's variables \(item_id\)"
    ):

        @mcp.resource("items://{item_id}")
        def item(item: int) -> str:
            return ""


def test_raw_resource_templates_get_string_variables():
    template = ResourceTemplate("users://{id}{?fields}", "user", noop_reader)
    assert template.match("users://7?fields=name") == {"id": "7", "fields": "name"}
    assert template.match("other://7") is None


async def noop_reader(variables: dict[str, Any]) -> str:
    return ""


async def test_lifespan_runs_around_connections(mode):
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(server: MCPKit):
        events.append(f"start {server.name}")
        yield {"db": "connected"}
        events.append("stop")

    mcp = MCPKit("life", lifespan=lifespan)
    mcp.tool(lambda: "pong", name="ping")
    async with Client(mcp, mode=mode) as client:
        assert events == ["start life"]
        assert (await client.call_tool("ping")).data is None
    assert events == ["start life", "stop"]


def test_repr_and_read_only_views():
    mcp = make_server()
    assert repr(mcp) == "MCPKit('shop', tools=5, resources=0, templates=0, prompts=0)"
    with pytest.raises(TypeError):
        mcp.tools["x"] = mcp.tools["add"]  # type: ignore[index]


async def test_tools_see_the_request_being_served(mode):
    mcp = MCPKit("ctx", forward_headers=["Authorization"])

    @mcp.tool
    def where() -> dict[str, Any]:
        request = current_request()
        assert request is not None
        headers = dict(request.headers)
        return {"method": request.sdk.method, "forwarded": forwarded_headers(), "headers": headers}

    assert mcp.forward_headers == frozenset({"authorization"})
    async with Client(mcp, mode=mode) as client:
        result = await client.call_tool("where")
    # In memory there is no HTTP request, so nothing to forward.
    assert result.data == {"method": "tools/call", "forwarded": {}, "headers": {}}
    assert current_request() is None
    direct = await mcp.call_tool("where")
    assert direct.is_error
    assert "AssertionError" in direct.content[0].text

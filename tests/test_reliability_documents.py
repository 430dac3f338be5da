"""Bad documents: whatever the document, the converter builds a server whose listing the MCP SDK
accepts (listed in the stricter handshake era), or raises ``OpenAPIError`` naming the place — never
another exception, never a hang (each test is bounded by pytest's timeout)."""

from __future__ import annotations

import logging
import types
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from mcpkit import Client, MCPKit, SchemaError, Tool, ToolResult
from mcpkit.naming import is_valid_name
from mcpkit.schema import MAX_SCHEMA_DEPTH
from mcpkit_openapi import OpenAPIError, convert
from mcpkit_openapi.loader import MAX_DEPTH
from tests.reliability import deep_schema, documents, examples, record

PARSERS = ["legacy", "experimental"]
CLIENT = httpx.AsyncClient(base_url="http://api.test")


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    """Conversion warnings are expected here by the thousand."""
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


async def outcome(document: Any, parser: str, **options: Any) -> MCPKit | OpenAPIError:
    """The server built from ``document`` (its listing checked), or the ``OpenAPIError`` it raised."""
    try:
        mcp = MCPKit.from_openapi(openapi_spec=document, client=CLIENT, parser=parser, **options)
    except OpenAPIError as exc:
        error = exc
    else:
        error = None
    if error is not None:
        assert error.pointer.startswith("#"), error
        assert str(error) == f"{error.pointer}: {error.reason}"
        record("documents", f"refused with OpenAPIError ({parser})")
        return error
    async with Client(mcp, mode="legacy") as client:
        listed = await client.list_tools()
    names = [tool.name for tool in listed]
    assert sorted(names) == sorted(mcp.tools)
    assert all(is_valid_name(name) for name in names)
    assert len(set(names)) == len(names)
    record("documents", f"built and listed ({parser})")
    record("documents", "tools listed", len(names))
    return mcp


def built(document: Any, parser: str, **options: Any) -> MCPKit:
    result = anyio.run(lambda: outcome(document, parser, **options))
    assert isinstance(result, MCPKit), result
    return result


def refused(document: Any, parser: str) -> OpenAPIError:
    result = anyio.run(outcome, document, parser)
    assert isinstance(result, OpenAPIError), result
    return result


@settings(
    max_examples=examples(150),
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents())
def test_generated_documents_build_a_listable_server_or_name_the_problem(document):
    for parser in PARSERS:
        anyio.run(outcome, document, parser)


def doc(paths: dict[str, Any], schemas: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}
    if schemas is not None:
        document["components"] = {"schemas": schemas}
    return document


def op(**fields: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "ok"}}, **fields}


def body(schema: Any) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


def returns(schema: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}}


def query(schema: Any, name: str = "q") -> dict[str, Any]:
    return {"parameters": [{"name": name, "in": "query", "schema": schema}]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


REFERENCES = {
    "broken schema $ref": doc({"/a": {"get": op(**query(ref("Missing")))}}),
    "broken parameter $ref": doc(
        {"/a": {"get": op(parameters=[{"$ref": "#/components/parameters/Missing"}])}}
    ),
    "broken path item $ref": doc({"/a": {"$ref": "#/paths/~1missing"}, "/b": {"get": op()}}),
    "external schema $ref": doc({"/a": {"post": op(**body({"$ref": "schemas.yaml#/Pet"}))}}),
    "external URL $ref": doc({"/a": {"post": op(**body({"$ref": "https://example.invalid/pet.json"}))}}),
    "external parameter $ref": doc({"/a": {"get": op(parameters=[{"$ref": "common.yaml#/Limit"}])}}),
    "external path item $ref": doc({"/a": {"$ref": "paths.yaml#/a"}, "/b": {"get": op()}}),
    "schema cycle": doc({"/a": {"post": op(**body(ref("A")))}}, {"A": ref("B"), "B": ref("A")}),
    "schema refers to itself": doc({"/a": {"get": op(**returns(ref("A")))}}, {"A": ref("A")}),
    "recursive schema": doc(
        {"/a": {"post": op(**body(ref("Node")), **returns(ref("Node")))}},
        {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": ref("Node")}}}},
    ),
    "parameter cycle": {
        **doc({"/a": {"get": op(parameters=[{"$ref": "#/components/parameters/P"}])}}),
        "components": {
            "parameters": {
                "P": {"$ref": "#/components/parameters/Q"},
                "Q": {"$ref": "#/components/parameters/P"},
            }
        },
    },
    "path item cycle": doc(
        {"/a": {"$ref": "#/paths/~1b"}, "/b": {"$ref": "#/paths/~1a"}, "/c": {"get": op()}}
    ),
    "$ref to the whole document": doc({"/a": {"get": op(**query({"$ref": "#"}))}}),
    "$ref into an operation": doc({"/a": {"post": op(**body({"$ref": "#/paths/~1a/post/requestBody"}))}}),
    "$ref keys in data": doc(
        {"/a": {"get": op(**query({"type": "object", "default": {"$ref": "#/x"}, "enum": [{"$ref": "y"}]}))}}
    ),
    "contentSchema $ref": doc(
        {
            "/a": {
                "get": op(
                    **query(
                        {"type": "string", "contentMediaType": "application/json", "contentSchema": ref("A")}
                    )
                )
            }
        },
        {"A": {"type": "object"}},
    ),
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", list(REFERENCES))
def test_bad_references_are_tolerated_or_skip_their_operation(case, parser):
    document = REFERENCES[case]
    mcp = built(document, parser)
    conversion = convert(document, CLIENT, parser=parser)
    accounted = len(conversion.components) + len(conversion.skipped)
    assert accounted == len(mcp.tools) + len(conversion.skipped)
    assert all(s.pointer.startswith("#") for s in conversion.skipped)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_path_item_that_cannot_be_followed_is_ignored_with_a_warning(parser):
    document = REFERENCES["external path item $ref"]
    conversion = convert(document, CLIENT, parser=parser)
    assert [c.component.name for c in conversion.components] == ["get_b"]
    assert [str(w) for w in conversion.warnings] == [
        "#/paths/~1a: $ref 'paths.yaml#/a' is not local to the document; path item ignored"
    ]
    cycle = convert(REFERENCES["path item cycle"], CLIENT, parser=parser)
    assert [c.component.name for c in cycle.components] == ["get_c"]
    assert any("$ref cycle" in str(w) for w in cycle.warnings)


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("kind", ["properties", "items", "allOf", "default"])
@pytest.mark.parametrize("where", ["input", "output", "definition"])
def test_absurdly_deep_schemas_skip_their_operation(kind, where, parser):
    def document(levels: int) -> dict[str, Any]:
        schema = deep_schema(levels, kind)
        if where == "definition":
            return doc({"/a": {"post": op(**body(ref("Deep")))}, "/b": {"get": op()}}, {"Deep": schema})
        fields = body(schema) if where == "input" else returns(schema)
        return doc({"/a": {"post": op(**fields)}, "/b": {"get": op()}})

    assert sorted(built(document(40), parser).tools) == ["get_b", "post_a"]  # deep, within bounds
    for levels in (120, 3000):  # listings fail past about 125 levels of properties
        mcp = built(document(levels), parser)
        assert sorted(mcp.tools) == ["get_b"]
        skipped = convert(document(levels), CLIENT, parser=parser).skipped
        assert [s.reason for s in skipped] == ["schema nested more than 100 levels deep"]
        assert skipped[0].pointer.startswith("#/")


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize("parser", PARSERS)
def test_documents_nested_past_the_bound_are_refused_where_they_are_read_whole(parser):
    deep = doc({"/a": {"get": op()}}, info={"title": "t", "version": "1", "x-deep": nested(MAX_DEPTH + 5)})
    # YAML text is checked before it is built (building it recurses)
    text = (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-deep: " + "[" * 200 + "]" * 200 + "\n"
    )
    error = refused(text, parser)
    assert str(error) == f"#: the document text nests more than {MAX_DEPTH} levels deep (line 4)"
    # a mapping that is not a dict is copied; Swagger 2.0 documents are upgraded whole
    error = refused(types.MappingProxyType(deep), parser)
    assert error.pointer.startswith("#/info/x-deep/a/a/")
    swagger = {"swagger": "2.0", "info": deep["info"], "paths": {"/a": {"get": op()}}}
    assert refused(swagger, parser).pointer.startswith("#/info/x-deep/a/a/")
    # a dict is not walked whole: an extension no operation reads costs nothing
    assert list(built(deep, parser).tools) == ["get_a"]
    shallower = {**deep, "info": {"title": "t", "version": "1", "x-deep": nested(MAX_DEPTH - 5)}}
    assert list(built(types.MappingProxyType(shallower), parser).tools) == ["get_a"]


def test_the_kernel_refuses_a_tool_schema_no_listing_could_carry():
    mcp = MCPKit("deep")

    async def fn(arguments: dict[str, Any]) -> ToolResult:
        return ToolResult(structured_content={})

    too_deep = {"type": "object", "properties": {"a": deep_schema(MAX_SCHEMA_DEPTH, "items")}}
    with pytest.raises(SchemaError, match=f"more than the {MAX_SCHEMA_DEPTH} an MCP listing can carry"):
        mcp.add_tool(Tool(name="deep", input_schema=too_deep, fn=fn))
    deep_output = {"type": "object", "$defs": {"D": deep_schema(MAX_SCHEMA_DEPTH, "default")}}
    with pytest.raises(SchemaError, match="nests 1"):
        mcp.add_tool(Tool(name="deep", input_schema={"type": "object"}, output_schema=deep_output, fn=fn))
    fits = {"type": "object", "properties": {"a": deep_schema(MAX_SCHEMA_DEPTH - 10, "items")}}
    mcp.add_tool(Tool(name="fits", input_schema=fits, fn=fn))

    async def listed() -> list[str]:
        async with Client(mcp, mode="legacy") as client:
            return [tool.name for tool in await client.list_tools()]

    assert anyio.run(listed) == ["fits"]


SWAGGER_JUNK = {
    "paths is text": {"paths": "x"},
    "responses are a list": {"paths": {"/a": {"get": {"responses": ["200"]}}}},
    "parameter name is an object": {
        "paths": {
            "/a": {
                "get": {"parameters": [{"name": {"x": 1}, "in": "query", "type": "string"}], "responses": {}}
            }
        }
    },
    "collectionFormat is an object": {
        "paths": {
            "/a": {
                "get": {
                    "parameters": [{"name": "q", "in": "query", "type": "array", "collectionFormat": {}}],
                    "responses": {},
                }
            }
        }
    },
    "produces holds an object": {
        "produces": [{"json": True}],
        "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "schema": {"type": "object"}}}}}},
    },
    "securityDefinitions is a list": {"securityDefinitions": [], "paths": {}},
    "oauth2 flow is a list": {"securityDefinitions": {"o": {"type": "oauth2", "flow": []}}, "paths": {}},
    "responses of the document are text": {"responses": "x", "paths": {}},
}


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", list(SWAGGER_JUNK))
def test_broken_swagger_2_documents(case, parser):
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "api.example.com",
        **SWAGGER_JUNK[case],
    }
    anyio.run(outcome, document, parser)


@pytest.mark.parametrize("parser", PARSERS)
def test_names_that_collide_once_sanitised_stay_unique(parser):
    ids = ["get a", "get-a", "get_a", "get a", "get/a", "get_a_2", "x" * 80, "x" * 80 + "y", "", "  "]
    paths = {f"/p{i}": {"get": op(operationId=operation_id)} for i, operation_id in enumerate(ids)}
    mcp = built(doc(paths), parser)
    assert len(mcp.tools) == len(ids)
    assert {"get-a", "get_a"} <= set(mcp.tools)


@pytest.mark.parametrize("parser", PARSERS)
def test_non_ascii_names_paths_and_parameters(parser):
    document = doc(
        {
            "/café/{ñame}": {
                "get": op(
                    operationId="récupérer_café",
                    parameters=[
                        {"name": "ñame", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                )
            },
            "/日本": {"get": op(operationId="日本語")},
            "/中文": {"get": op(operationId="中文")},
            "/emoji/🎉": {
                "post": op(
                    **body(
                        {
                            "type": "object",
                            "properties": {"ключ": {"type": "string"}, "🎉": {"type": "integer"}},
                        }
                    )
                )
            },
        }
    )
    mcp = built(document, parser)
    assert len(mcp.tools) == 4
    assert set(mcp.tools["post_emoji"].input_schema["properties"]) == {"ключ", "🎉"}


@pytest.mark.parametrize("parser", PARSERS)
def test_ten_thousand_operations(parser):
    item = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    id_parameter = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    paths = {
        f"/items{i}/{{id}}": {
            "get": op(operationId=f"get item {i % 2500}", parameters=id_parameter, **returns(ref("Item"))),
            "post": op(**body(ref("Item"))),
        }
        for i in range(5000)
    }
    document = doc(paths, {"Item": item})
    mcp = built(document, parser, discovery="off")
    assert len(mcp.tools) == 10_000
    record("documents", "operations in the 10,000-operation document", 10_000)

    async def discovered() -> list[str]:
        searching = MCPKit.from_openapi(openapi_spec=document, client=CLIENT, parser=parser, discovery="auto")
        async with Client(searching, mode="legacy") as client:
            return [tool.name for tool in await client.list_tools()]

    assert anyio.run(discovered) == ["search_tools", "call_tool"]

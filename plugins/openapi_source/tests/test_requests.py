"""What really reaches the API: every parameter style and body type, checked at a recording upstream."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mcpkit import Client, MCPKit


def param(name: str, location: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": location, "schema": schema, **extra}


def document(operations: dict[str, tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """A 3.0 document; ``operations`` maps operationId to (method, path, extra operation fields)."""
    paths: dict[str, Any] = {}
    for operation_id, (method, path, extra) in operations.items():
        paths.setdefault(path, {})[method] = {
            "operationId": operation_id,
            "responses": {"200": {"description": "ok"}},
            **extra,
        }
    return {"openapi": "3.0.3", "info": {"title": "Styles", "version": "1"}, "paths": paths}


ARRAY = {"type": "array", "items": {"type": "string"}}
OBJECT = {"type": "object", "properties": {"role": {"type": "string"}, "age": {"type": "integer"}}}

STYLES = document(
    {
        "path_simple": (
            "get",
            "/simple/{id}/{ids}/{obj}",
            {
                "parameters": [
                    param("id", "path", {"type": "integer"}, required=True),
                    param("ids", "path", ARRAY, required=True),
                    param("obj", "path", OBJECT, required=True, explode=True),
                ]
            },
        ),
        "path_label_matrix": (
            "get",
            "/lm/{label}{matrix}/{mexp}",
            {
                "parameters": [
                    param("label", "path", ARRAY, required=True, style="label"),
                    param("matrix", "path", ARRAY, required=True, style="matrix"),
                    param("mexp", "path", ARRAY, required=True, style="matrix", explode=True),
                ]
            },
        ),
        "query_styles": (
            "get",
            "/query",
            {
                "parameters": [
                    param("tags", "query", ARRAY),
                    param("csv", "query", ARRAY, explode=False),
                    param("space", "query", ARRAY, style="spaceDelimited", explode=False),
                    param("pipe", "query", ARRAY, style="pipeDelimited", explode=False),
                    param("filter", "query", OBJECT),
                    param("flag", "query", {"type": "boolean"}),
                    param("limit", "query", {"type": "integer"}),
                    param(
                        "metadata",
                        "query",
                        {"type": "object", "additionalProperties": True},
                        style="deepObject",
                    ),
                    {"name": "where", "in": "query", "content": {"application/json": {"schema": OBJECT}}},
                ]
            },
        ),
        "headers_cookies": (
            "get",
            "/headers",
            {
                "parameters": [
                    param("X-Count", "header", {"type": "integer"}),
                    param("X-Flag", "header", {"type": "boolean"}),
                    param("X-List", "header", ARRAY),
                    param("X-Note", "header", {"type": "string"}),
                    param("session", "cookie", {"type": "string"}),
                    param("theme", "cookie", {"type": "string"}),
                ]
            },
        ),
        "collide": (
            "put",
            "/items/{id}",
            {
                "parameters": [
                    param("id", "path", {"type": "string"}, required=True),
                    param("id", "query", {"type": "string"}),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                                "required": ["name"],
                            }
                        }
                    },
                },
            },
        ),
    }
)


@pytest.fixture
def styles(upstream):
    return MCPKit.from_openapi(openapi_spec=STYLES, client=upstream.client())


async def call(mcp: MCPKit, name: str, arguments: dict[str, Any], **kwargs: Any):
    async with Client(mcp) as client:
        return await client.call_tool(name, arguments, **kwargs)


async def test_path_simple_style_percent_encodes_every_value(styles, upstream):
    await call(styles, "path_simple", {"id": 7, "ids": ["a b", "c;d"], "obj": {"role": "admin", "age": 3}})
    assert upstream.last.path == "/api/simple/7/a%20b,c%3Bd/role=admin,age=3"


async def test_path_label_and_matrix_styles(styles, upstream):
    await call(styles, "path_label_matrix", {"label": ["x", "y"], "matrix": ["x", "y"], "mexp": ["x", "y"]})
    assert upstream.last.path == "/api/lm/.x,y;matrix=x,y/;mexp=x;mexp=y"


@pytest.mark.parametrize("hostile", ["../admin", "..", "a/../../b", "%2e%2e"])
async def test_path_values_never_reach_another_endpoint(styles, upstream, hostile):
    # More in test_hardening_requests.py.
    arguments = {"id": 1, "ids": [hostile], "obj": {"role": "r"}}
    result = await call(styles, "path_simple", arguments, raise_on_error=False)
    assert result.text.startswith("the path parameter 'ids'")
    assert upstream.requests == []


async def test_query_and_fragment_characters_stay_in_their_path_segment(styles, upstream):
    await call(styles, "path_simple", {"id": 1, "ids": ["x?y=1#z"], "obj": {"role": "r"}})
    assert (upstream.last.path, upstream.last.query) == ("/api/simple/1/x%3Fy%3D1%23z/role=r", "")


async def test_query_styles(styles, upstream):
    await call(
        styles,
        "query_styles",
        {
            "tags": ["a", "b"],
            "csv": ["a", "b"],
            "space": ["a", "b"],
            "pipe": ["a", "b"],
            "filter": {"role": "admin", "age": 30},
            "flag": True,
            "limit": 10,
            "metadata": {"order": {"id": "42"}, "k": "v"},
            "where": {"role": "x"},
        },
    )
    assert upstream.last.query.split("&") == [
        "tags=a",
        "tags=b",
        "csv=a%2Cb",
        "space=a+b",
        "pipe=a%7Cb",
        "role=admin",
        "age=30",
        "flag=true",
        "limit=10",
        "metadata%5Border%5D%5Bid%5D=42",
        "metadata%5Bk%5D=v",
        "where=%7B%22role%22%3A%22x%22%7D",
    ]


COLORS = ["blue", "black", "brown"]
RGB = {"R": 100, "G": 200, "B": 150}
RGB_SCHEMA = {"type": "object", "properties": {c: {"type": "integer"} for c in RGB}}


@pytest.mark.parametrize(
    ("location", "style", "explode", "value", "wire"),
    [
        # The OpenAPI 3.1 style examples, for a parameter named color.
        ("path", "label", True, COLORS, ".blue.black.brown"),
        ("path", "label", True, RGB, ".R=100.G=200.B=150"),
        ("path", "simple", False, RGB, "R,100,G,200,B,150"),
        ("query", "pipeDelimited", True, COLORS, "color=blue&color=black&color=brown"),
        ("query", "spaceDelimited", True, COLORS, "color=blue&color=black&color=brown"),
        # The spec's color=R,100,G,200,B,150, with the commas percent-encoded (as httpx sends them)
        ("query", "form", False, RGB, "color=R%2C100%2CG%2C200%2CB%2C150"),
    ],
)
async def test_style_examples_of_the_spec(upstream, location, style, explode, value, wire):
    schema = ARRAY if isinstance(value, list) else RGB_SCHEMA
    color = param("color", location, schema, style=style, explode=explode, required=location == "path")
    path = "/colors/{color}" if location == "path" else "/colors"
    mcp = MCPKit.from_openapi(
        openapi_spec=document({"paint": ("get", path, {"parameters": [color]})}), client=upstream.client()
    )
    await call(mcp, "paint", {"color": value})
    if location == "path":
        assert (upstream.last.path, upstream.last.query) == (f"/api/colors/{wire}", "")
    else:
        assert (upstream.last.path, upstream.last.query) == ("/api/colors", wire)


async def test_headers_are_stringified_and_cookies_combined(styles, upstream):
    await call(
        styles,
        "headers_cookies",
        {"X-Count": 3, "X-Flag": False, "X-List": ["a", "b"], "session": "s 1", "theme": "dark"},
    )
    headers = upstream.last.headers
    assert (headers["x-count"], headers["x-flag"], headers["x-list"]) == ("3", "false", "a,b")
    assert headers["cookie"] == "session=s%201; theme=dark"
    assert "x-note" not in headers


@pytest.mark.parametrize("value", ["evil\r\nX-Injected: 1", "a\nb", "nul\x00"])
async def test_header_injection_is_refused_and_nothing_is_sent(styles, upstream, value):
    result = await call(styles, "headers_cookies", {"X-Note": value}, raise_on_error=False)
    assert result.is_error
    assert "line break or NUL" in result.text
    assert upstream.requests == []


async def test_name_collisions_get_location_suffixes(styles, upstream):
    async with Client(styles) as client:
        [tool] = [t for t in await client.list_tools() if t.name == "collide"]
        assert set(tool.input_schema["properties"]) == {"id__path", "id__query", "id", "name"}
        assert tool.input_schema["required"] == ["id__path", "name"]
        await client.call_tool("collide", {"id__path": "p", "id__query": "q", "id": "b", "name": "n"})
    assert upstream.last.method == "PUT"
    assert (upstream.last.path, upstream.last.query) == ("/api/items/p", "id=q")
    assert upstream.last.json == {"id": "b", "name": "n"}


async def test_invalid_arguments_send_nothing(styles, upstream):
    for arguments in (
        {"id__path": "p"},
        {"id__path": "p", "name": 5},
        {"id__path": "p", "name": "n", "extra": 1},
    ):
        result = await call(styles, "collide", arguments, raise_on_error=False)
        assert result.is_error
        assert result.text.startswith("invalid arguments for tool 'collide'")
    assert upstream.requests == []


PNG = b"\x89PNG\r\n\x1a\nfake"
BODIES = document(
    {
        "json_body": (
            "post",
            "/json",
            {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                }
            },
        ),
        "patch_body": (
            "patch",
            "/patch",
            {
                "requestBody": {
                    "content": {
                        "application/json-patch+json": {
                            "schema": {"type": "array", "items": {"type": "object"}}
                        }
                    }
                }
            },
        ),
        "form_body": (
            "post",
            "/form",
            {
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "amount": {"type": "integer"},
                                    "expand": ARRAY,
                                    "metadata": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "items": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                            "encoding": {"expand": {"style": "deepObject", "explode": True}},
                        }
                    }
                }
            },
        ),
        "upload": (
            "post",
            "/upload",
            {
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "purpose": {"type": "string"},
                                    "labels": ARRAY,
                                },
                            }
                        }
                    }
                }
            },
        ),
        "text_body": (
            "post",
            "/text",
            {"requestBody": {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        ),
        "binary_body": (
            "put",
            "/blob",
            {
                "requestBody": {
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                    }
                }
            },
        ),
    }
)
BODIES["components"] = {
    "schemas": {
        "Pet": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "id": {"type": "integer", "readOnly": True},
                "name": {"type": "string"},
                "tag": {"type": "string", "nullable": True},
            },
        }
    }
}


@pytest.fixture
def bodies(upstream):
    return MCPKit.from_openapi(openapi_spec=BODIES, client=upstream.client())


async def test_json_body_fields_are_flat_arguments(bodies, upstream):
    async with Client(bodies) as client:
        [tool] = [t for t in await client.list_tools() if t.name == "json_body"]
        assert set(tool.input_schema["properties"]) == {"name", "tag"}  # readOnly id is not an input
        await client.call_tool("json_body", {"name": "Rex", "tag": None})
    assert upstream.last.headers["content-type"] == "application/json"
    assert upstream.last.json == {"name": "Rex", "tag": None}


async def test_non_object_json_body_is_one_argument_with_its_media_type(bodies, upstream):
    await call(bodies, "patch_body", {"body": [{"op": "remove", "path": "/a"}]})
    assert upstream.last.headers["content-type"] == "application/json-patch+json"
    assert upstream.last.json == [{"op": "remove", "path": "/a"}]


async def test_form_body_with_nested_values(bodies, upstream):
    await call(
        bodies,
        "form_body",
        {
            "amount": 100,
            "expand": ["customer", "invoice"],
            "metadata": {"order": "7"},
            "items": [{"price": "p1"}],
        },
    )
    assert upstream.last.headers["content-type"] == "application/x-www-form-urlencoded"
    assert upstream.last.body.decode().split("&") == [
        "amount=100",
        "expand%5B%5D=customer",
        "expand%5B%5D=invoice",
        "metadata%5Border%5D=7",
        "items%5B0%5D%5Bprice%5D=p1",
    ]


@pytest.mark.parametrize(
    ("file_argument", "filename", "content_type"),
    [
        (base64.b64encode(PNG).decode(), "file", None),
        ("data:image/png;name=logo.png;base64," + base64.b64encode(PNG).decode(), "logo.png", "image/png"),
        (
            {"content": base64.b64encode(PNG).decode(), "filename": "a.png", "content_type": "image/png"},
            "a.png",
            "image/png",
        ),
    ],
)
async def test_multipart_upload(bodies, upstream, file_argument, filename, content_type):
    await call(bodies, "upload", {"file": file_argument, "purpose": "avatar", "labels": ["x", "y"]})
    recorded = upstream.last
    assert recorded.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = recorded.body
    assert PNG in body
    assert f'name="file"; filename="{filename}"'.encode() in body
    if content_type:
        assert f"Content-Type: {content_type}".encode() in body
    assert b'name="purpose"\r\n\r\navatar' in body
    assert body.count(b'name="labels"') == 2


async def test_bad_file_content_is_refused_before_sending(bodies, upstream):
    result = await call(bodies, "upload", {"file": "not base64!"}, raise_on_error=False)
    assert (result.is_error, result.text) == (True, "file: expected base64 content")
    assert upstream.requests == []


async def test_raw_text_and_binary_bodies(bodies, upstream):
    await call(bodies, "text_body", {"body": "hello\nworld"})
    assert (upstream.last.headers["content-type"], upstream.last.body) == ("text/plain", b"hello\nworld")
    await call(bodies, "binary_body", {"body": base64.b64encode(PNG).decode()})
    assert (upstream.last.headers["content-type"], upstream.last.body) == ("application/octet-stream", PNG)

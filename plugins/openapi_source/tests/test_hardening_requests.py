"""Requests built from hostile arguments: path values that would reach another route, header values
that cannot be sent, polymorphic bodies, multipart bodies without files, clients without a base URL."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from mcpkit import Client, MCPKit, MCPType, RouteMap
from mcpkit_openapi import OpenAPIError
from tests.reliability import record

PARSERS = ["legacy", "experimental"]


def operation(method: str, path: str, operation_id: str, **extra: Any) -> dict[str, Any]:
    """A 3.0 document with one operation (``extra``: its parameters, requestBody, ...)."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hardening", "version": "1"},
        "paths": {
            path: {
                method: {"operationId": operation_id, "responses": {"200": {"description": "ok"}}, **extra}
            }
        },
    }


def path_param(name: str, schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}, **extra}


async def call(mcp: MCPKit, tool: str, arguments: dict[str, Any]) -> Any:
    async with Client(mcp) as client:
        return await client.call_tool(tool, arguments, raise_on_error=False)


# Item 3: a path value never reaches another route


def users_app() -> tuple[FastAPI, list[str]]:
    """A FastAPI app with a listed user route and a secret one next to it; records every path it serves."""
    app = FastAPI()
    served: list[str] = []

    @app.middleware("http")
    async def remember(request: Request, call_next: Any) -> Any:
        served.append(request.url.path)
        return await call_next(request)

    @app.get("/users/{user_id}", operation_id="get_user")
    async def get_user(user_id: str) -> dict[str, str]:
        return {"user": user_id}

    @app.get("/users/{user_id}/secret", operation_id="get_secret")
    async def get_secret(user_id: str) -> dict[str, str]:
        return {"secret": "s3cr3t"}

    return app, served


NO_SECRET = [RouteMap(pattern=r".*/secret$", mcp_type=MCPType.EXCLUDE)]
ESCAPES = {
    "42/secret": "'/'",
    "42%2Fsecret": "'/'",
    "42%2fsecret": "'/'",
    "42%252Fsecret": "'/'",  # decoded twice (a proxy, then the server): refused too
    "42%25252Fsecret": "'/'",
    "42%2525252Fsecret": "percent-encoded more than 3 times",
    "42\\secret": "'\\'",
    "42%5Csecret": "'\\'",
    "42%5csecret": "'\\'",
    ".": "'.' or '..' segment",
    "..": "'.' or '..' segment",
    "%2E%2E": "'.' or '..' segment",
    "%2e": "'.' or '..' segment",
    ".%2E": "'.' or '..' segment",
    "..;x": "'.' or '..' segment",
    "": "empty",
}


async def escapes_are_refused(mcp: MCPKit, served: list[str]) -> None:
    async with Client(mcp) as client:
        assert [tool.name for tool in await client.list_tools()] == ["get_user"]
        for value, reason in ESCAPES.items():
            result = await client.call_tool("get_user", {"user_id": value}, raise_on_error=False)
            assert result.is_error, value
            assert "s3cr3t" not in result.text
            assert result.text.startswith("the path parameter 'user_id'"), result.text
            assert reason in result.text, (value, result.text)
        assert served == []
        for value in ("42", "...", "a b", "v1.2", "100%"):
            result = await client.call_tool("get_user", {"user_id": value})
            assert result.data == {"user": value}
    assert len(served) == 5


async def test_a_path_value_never_reaches_an_excluded_route_in_process() -> None:
    app, served = users_app()
    await escapes_are_refused(MCPKit.from_fastapi(app, route_maps=NO_SECRET), served)
    record("attacks", "path values reaching an excluded route in-process (/, \\, dot segments): refused", 16)


async def test_a_path_value_never_reaches_an_excluded_route_behind_uvicorn(live_server: Any) -> None:
    app, served = users_app()
    port = live_server(app)
    mcp = MCPKit.from_openapi(
        openapi_spec=app.openapi(),
        client=httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}"),
        route_maps=NO_SECRET,
    )
    await escapes_are_refused(mcp, served)
    record("attacks", "path values reaching an excluded route behind uvicorn: refused, nothing sent", 16)


STYLED = operation(
    "get",
    "/styled/{simple}/{label}/{matrix}/{obj}",
    "styled",
    parameters=[
        path_param("simple", {"type": "array", "items": {"type": "string"}}),
        path_param("label", {"type": "array", "items": {"type": "string"}}, style="label"),
        path_param("matrix", {"type": "array", "items": {"type": "string"}}, style="matrix", explode=True),
        path_param("obj", {"type": "object", "additionalProperties": {"type": "string"}}, explode=True),
    ],
)
PLAIN = {"simple": ["a"], "label": ["b"], "matrix": ["c"], "obj": {"k": "v"}}


@pytest.mark.parametrize(
    "hostile",
    [
        {"simple": ["ok", "a/b"]},
        {"simple": ["%2F"]},
        {"label": ["x", "..\\y"]},
        {"label": [""]},  # a label segment of "." alone
        {"label": ["."]},  # "..": a dot segment once decoded
        {"matrix": ["a%252fb"]},
        {"obj": {"a/b": "v"}},
        {"obj": {"k": "%5C"}},
        {"simple": [""]},
        {"simple": ["%2e%2E"]},
    ],
)
async def test_every_path_style_refuses_values_that_change_the_paths_shape(
    upstream: Any, hostile: Any
) -> None:
    mcp = MCPKit.from_openapi(openapi_spec=STYLED, client=upstream.client())
    result = await call(mcp, "styled", {**PLAIN, **hostile})
    assert result.is_error
    assert result.text.startswith("the path parameter ")
    assert upstream.requests == []
    record("attacks", "path values of every style, in arrays and objects, that change the path: refused")


async def test_values_of_every_path_style_that_keep_the_paths_shape_are_sent(upstream: Any) -> None:
    mcp = MCPKit.from_openapi(openapi_spec=STYLED, client=upstream.client())
    arguments = {"simple": ["a b", "..."], "label": ["x", "y"], "matrix": ["c", "d"], "obj": {"k?": "#v"}}
    result = await call(mcp, "styled", arguments)
    assert not result.is_error, result.text
    assert upstream.last.path == "/api/styled/a%20b,.../.x,y/;matrix=c;matrix=d/k%3F=%23v"


async def test_a_dot_segment_is_judged_on_the_whole_segment(upstream: Any) -> None:
    document = operation("get", "/files/{name}.json", "get_file", parameters=[path_param("name")])
    mcp = MCPKit.from_openapi(openapi_spec=document, client=upstream.client())
    assert not (await call(mcp, "get_file", {"name": ".."})).is_error
    assert not (await call(mcp, "get_file", {"name": ""})).is_error
    assert [r.path for r in upstream.requests] == ["/api/files/...json", "/api/files/.json"]


RESERVED = operation(
    "get",
    "/files/{path}",
    "read_file",
    parameters=[path_param("path", description="The file's path.", allowReserved=True)],
)


async def test_allow_reserved_keeps_slashes_and_says_so(upstream: Any) -> None:
    mcp = MCPKit.from_openapi(openapi_spec=RESERVED, client=upstream.client())
    async with Client(mcp) as client:
        [tool] = await client.list_tools()
        description = tool.input_schema["properties"]["path"]["description"]
        assert description.startswith("The file's path. May contain '/'")
        await client.call_tool("read_file", {"path": "docs/a b/x:y@z,1;v=2"})
        assert upstream.last.path == "/api/files/docs/a%20b/x:y@z,1;v=2"
        await client.call_tool("read_file", {"path": "q?x=1#frag/%41"})  # ? and # would end the path
        assert (upstream.last.path, upstream.last.query) == ("/api/files/q%3Fx=1%23frag/%41", "")
        sent = len(upstream.requests)
        for hostile in ("../etc/passwd", "a/../../b", "a/./b", "a/%2e%2E/b", "a//b", "/abs", "a\\b", "a/"):
            result = await client.call_tool("read_file", {"path": hostile}, raise_on_error=False)
            assert result.is_error, hostile
            assert result.text.startswith("the path parameter 'path'")
        assert len(upstream.requests) == sent
    record("attacks", "allowReserved path values with dot, empty segments or backslashes: refused", 8)


async def test_a_parameter_without_allow_reserved_does_not_mention_slashes(upstream: Any) -> None:
    document = operation("get", "/files/{path}", "read_file", parameters=[path_param("path")])
    tool = MCPKit.from_openapi(openapi_spec=document, client=upstream.client()).tools["read_file"]
    assert "description" not in tool.input_schema["properties"]["path"]


# Item 9: header values that cannot be sent

HEADERS = operation(
    "get",
    "/headers",
    "headers",
    parameters=[
        {"name": "X-Note", "in": "header", "schema": {"type": "string"}},
        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
    ],
)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("café", "must be ASCII"),
        ("日本", "must be ASCII"),
        ("a\x01b", "control character"),
        ("a\x1b[31m", "control character"),
        ("a\x7f", "control character"),
        ("a\rb", "line break or NUL"),
        ("a\x00", "line break or NUL"),
    ],
)
async def test_unsendable_header_values_are_refused_and_nothing_is_sent(
    upstream: Any, value: str, reason: str
) -> None:
    mcp = MCPKit.from_openapi(openapi_spec=HEADERS, client=upstream.client())
    result = await call(mcp, "headers", {"X-Note": value})
    assert result.is_error
    assert result.text.startswith("the value of ")
    assert "'X-Note'" in result.text
    assert reason in result.text
    assert upstream.requests == []
    record("attacks", "non-ASCII and control characters in a header value: clear tool error, nothing sent")


async def test_cookie_values_are_percent_encoded_and_tabs_pass_in_headers(upstream: Any) -> None:
    mcp = MCPKit.from_openapi(openapi_spec=HEADERS, client=upstream.client())
    assert not (await call(mcp, "headers", {"X-Note": "a\tb", "session": "café ü"})).is_error
    assert upstream.last.headers["x-note"] == "a\tb"
    assert upstream.last.headers["cookie"] == "session=caf%C3%A9%20%C3%BC"
    refused = await call(mcp, "headers", {"session": "a\nb"})
    assert refused.is_error
    assert "control character" in refused.text


async def test_a_header_name_that_cannot_be_sent_is_a_clear_error(upstream: Any) -> None:
    document = operation(
        "get", "/h", "bad_name", parameters=[{"name": "X Bad:", "in": "header", "schema": {"type": "string"}}]
    )
    result = await call(
        MCPKit.from_openapi(openapi_spec=document, client=upstream.client()), "bad_name", {"X Bad:": "v"}
    )
    assert result.is_error
    assert "not a valid header name" in result.text
    assert upstream.requests == []
    record(
        "attacks", "a document's header parameter named with a space and a colon: clear error, nothing sent"
    )


# Item 18: polymorphic bodies


class Cat(BaseModel):
    pet_type: Literal["cat"]
    name: str
    meow_volume: int


class Dog(BaseModel):
    pet_type: Literal["dog"]
    name: str
    bark_pitch: str


Pet = Annotated[Cat | Dog, Field(discriminator="pet_type")]


class Owner(BaseModel):
    owner: str
    pet: Pet


def pets_app() -> FastAPI:
    app = FastAPI()

    @app.post("/pets", operation_id="add_pet")
    async def add_pet(pet: Pet) -> Pet:
        return pet

    @app.post("/owners", operation_id="add_owner")
    async def add_owner(owner: Owner) -> Owner:
        return owner

    return app


CAT = {"pet_type": "cat", "name": "Tom", "meow_volume": 7}
DOG = {"pet_type": "dog", "name": "Rex", "bark_pitch": "low"}


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_fastapi_discriminated_union_body_takes_every_variant(parser: str) -> None:
    mcp = MCPKit.from_fastapi(pets_app(), parser=parser)
    async with Client(mcp) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        body = tools["add_pet"].input_schema["properties"]["body"]
        assert body["oneOf"] == [{"$ref": "#/$defs/Cat"}, {"$ref": "#/$defs/Dog"}]  # pydantic pins them
        for pet in (CAT, DOG):
            assert (await client.call_tool("add_pet", {"body": pet})).data == pet
            assert (await client.call_tool("add_owner", {"owner": "Ann", "pet": pet})).data["pet"] == pet
        wrong = await client.call_tool("add_pet", {"body": {**CAT, "pet_type": "dog"}}, raise_on_error=False)
        assert wrong.is_error
        assert wrong.text.startswith("invalid arguments for tool 'add_pet'")


def inheritance(mapping: dict[str, str] | None = None) -> dict[str, Any]:
    """The OpenAPI specification's Pet, Cat and Dog: subtypes extend a discriminated parent via allOf."""
    document = operation(
        "post",
        "/pets",
        "add_pet",
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
        },
    )
    discriminator: dict[str, Any] = {"propertyName": "petType"}
    if mapping:
        discriminator["mapping"] = mapping
    document["components"] = {
        "schemas": {
            "Pet": {
                "type": "object",
                "description": "A pet.",
                "required": ["name", "petType"],
                "properties": {"name": {"type": "string"}, "petType": {"type": "string"}},
                "discriminator": discriminator,
            },
            "Cat": {
                "allOf": [
                    {"$ref": "#/components/schemas/Pet"},
                    {
                        "type": "object",
                        "properties": {"huntingSkill": {"type": "string", "enum": ["clueless", "lazy"]}},
                        "required": ["huntingSkill"],
                    },
                ]
            },
            "Dog": {
                "allOf": [
                    {"$ref": "#/components/schemas/Pet"},
                    {
                        "type": "object",
                        "properties": {"packSize": {"type": "integer", "minimum": 0}},
                        "required": ["packSize"],
                    },
                ]
            },
            "Puppy": {"allOf": [{"$ref": "#/components/schemas/Dog"}]},
        }
    }
    return document


@pytest.mark.parametrize("parser", PARSERS)
async def test_an_allof_hierarchy_body_takes_each_subtype_validated_as_itself(
    upstream: Any, parser: str
) -> None:
    mcp = MCPKit.from_openapi(openapi_spec=inheritance(), client=upstream.client(), parser=parser)
    async with Client(mcp) as client:
        [tool] = await client.list_tools()
        assert list(tool.input_schema["properties"]) == ["body"]
        body = tool.input_schema["properties"]["body"]
        assert body["description"] == "A pet."
        assert [(v["$ref"], v["properties"]["petType"]) for v in body["oneOf"]] == [
            ("#/$defs/Cat", {"const": "Cat"}),
            ("#/$defs/Dog", {"const": "Dog"}),
            ("#/$defs/Puppy", {"const": "Puppy"}),
        ]
        cat = {"name": "Tom", "petType": "Cat", "huntingSkill": "lazy"}
        dog = {"name": "Rex", "petType": "Dog", "packSize": 3}
        for pet in (cat, dog, {**dog, "petType": "Puppy"}):
            await client.call_tool("add_pet", {"body": pet})
            assert upstream.last.json == pet
        sent = len(upstream.requests)
        for wrong in (
            {**cat, "petType": "Dog"},
            {"name": "Tom", "petType": "Cat", "packSize": 3},
            {"name": "x"},
        ):
            result = await client.call_tool("add_pet", {"body": wrong}, raise_on_error=False)
            assert result.is_error
            assert result.text.startswith("invalid arguments for tool 'add_pet'")
        assert len(upstream.requests) == sent
    record("attacks", "a body naming one subtype of an allOf hierarchy with another's fields: refused", 3)


@pytest.mark.parametrize("parser", PARSERS)
async def test_a_mapping_names_the_discriminator_values(upstream: Any, parser: str) -> None:
    mapping = {"cat": "#/components/schemas/Cat", "dog": "Dog", "doggo": "Dog"}
    tool = MCPKit.from_openapi(
        openapi_spec=inheritance(mapping), client=upstream.client(), parser=parser
    ).tools["add_pet"]
    pins = [v["properties"]["petType"] for v in tool.input_schema["properties"]["body"]["oneOf"]]
    assert pins == [{"const": "cat"}, {"enum": ["dog", "doggo"]}, {"const": "Puppy"}]


def shapes() -> dict[str, Any]:
    """A discriminated oneOf whose variants overlap: a circle also matches a square's schema."""
    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Shape"}}},
    }
    shape = {
        "description": "",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Shape"}}},
    }
    document = operation("post", "/shapes", "add_shape", requestBody=body)
    document["paths"]["/shapes"]["post"]["responses"] = {"200": shape}
    base = {"$ref": "#/components/schemas/Base"}
    document["components"] = {
        "schemas": {
            "Shape": {
                "oneOf": [{"$ref": "#/components/schemas/Circle"}, {"$ref": "#/components/schemas/Square"}],
                "discriminator": {
                    "propertyName": "kind",
                    "mapping": {"circle": "#/components/schemas/Circle"},
                },
            },
            "Circle": {"allOf": [base, {"type": "object", "properties": {"r": {"type": "number"}}}]},
            "Square": {"allOf": [base, {"type": "object", "properties": {"side": {"type": "number"}}}]},
            "Base": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}},
        }
    }
    return document


@pytest.mark.parametrize("parser", PARSERS)
async def test_overlapping_variants_of_a_discriminated_oneof_are_told_apart(
    upstream: Any, parser: str
) -> None:
    upstream.respond = lambda request: Response(
        b'{"kind": "Square", "side": 2}', media_type="application/json"
    )
    mcp = MCPKit.from_openapi(openapi_spec=shapes(), client=upstream.client(), parser=parser)
    tool = mcp.tools["add_shape"]
    assert tool.input_schema["$defs"]["Shape"]["oneOf"] == [
        {"$ref": "#/$defs/Circle", "properties": {"kind": {"const": "circle"}}, "required": ["kind"]},
        {"$ref": "#/$defs/Square", "properties": {"kind": {"const": "Square"}}, "required": ["kind"]},
    ]
    assert tool.output_schema["properties"]["result"] == {  # not pinned, overlapping variants allowed
        "anyOf": [{"$ref": "#/$defs/Circle"}, {"$ref": "#/$defs/Square"}]
    }
    async with Client(mcp) as client:
        for shape in ({"kind": "circle", "r": 1}, {"kind": "Square", "side": 2}):
            result = await client.call_tool("add_shape", {"body": shape})
            assert upstream.last.json == shape
            assert result.data == {"kind": "Square", "side": 2}
        refused = await client.call_tool(
            "add_shape", {"body": {"kind": "Circle", "r": 1}}, raise_on_error=False
        )
        assert refused.is_error
    assert len(upstream.requests) == 2
    record("attacks", "a discriminated oneOf body with a discriminator value no variant has: refused")


# Item 19: multipart without files


async def test_a_multipart_body_without_a_file_field_is_sent_as_multipart(upstream: Any) -> None:
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
    }
    document = operation(
        "post", "/notes", "add_note", requestBody={"content": {"multipart/form-data": {"schema": schema}}}
    )
    mcp = MCPKit.from_openapi(openapi_spec=document, client=upstream.client())
    assert not (await call(mcp, "add_note", {"title": "Hi", "tags": ["a", "b"]})).is_error
    assert upstream.last.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = upstream.last.body
    assert b'name="title"\r\n\r\nHi\r\n' in body
    assert body.count(b'name="tags"') == 2
    assert b"filename" not in body


async def test_a_fastapi_form_reads_a_multipart_body_with_and_without_files() -> None:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        form = await request.form()
        return {"type": request.headers["content-type"].split(";")[0], "fields": sorted(form.keys())}

    document = operation(
        "post",
        "/echo",
        "echo",
        requestBody={
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "note": {"type": "string"},
                            "file": {"type": "string", "format": "binary"},
                        },
                    }
                }
            }
        },
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")
    mcp = MCPKit.from_openapi(openapi_spec=document, client=client)
    async with Client(mcp) as mcp_client:
        only_text = await mcp_client.call_tool("echo", {"note": "n"})
        assert only_text.data == {"type": "multipart/form-data", "fields": ["note"]}
        both = await mcp_client.call_tool("echo", {"note": "n", "file": base64.b64encode(b"x").decode()})
        assert both.data == {"type": "multipart/form-data", "fields": ["file", "note"]}


# Item 21: a client without a base URL


def served(servers: list[dict[str, Any]], operation_servers: list[dict[str, Any]] | None = None) -> dict:
    document = operation("get", "/users/{id}", "get_user", parameters=[path_param("id")])
    document["servers"] = servers
    document["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"] = {
        "application/json": {"schema": {"type": "object"}}
    }
    if operation_servers is not None:
        document["paths"]["/users/{id}"]["get"]["servers"] = operation_servers
    return document


async def test_a_client_without_base_url_uses_the_documents_servers(upstream: Any, live_server: Any) -> None:
    port = live_server(upstream)
    document = served([{"url": "/relative"}, {"url": f"http://127.0.0.1:{port}/api"}])
    mcp = MCPKit.from_openapi(openapi_spec=document, client=httpx.AsyncClient(headers={"X-Client": "mine"}))
    assert (await call(mcp, "get_user", {"id": "123"})).data == {"ok": True}
    assert upstream.last.path == "/api/users/123"
    assert upstream.last.headers["x-client"] == "mine"  # the given client sent it

    elsewhere = served([{"url": "/relative"}], operation_servers=[{"url": f"http://127.0.0.1:{port}/v2"}])
    mcp = MCPKit.from_openapi(openapi_spec=elsewhere, client=httpx.AsyncClient())
    assert not (await call(mcp, "get_user", {"id": "7"})).is_error
    assert upstream.last.path == "/v2/users/7"


async def test_a_client_without_base_url_takes_server_url(upstream: Any, live_server: Any) -> None:
    port = live_server(upstream)
    mcp = MCPKit.from_openapi(
        openapi_spec=served([]), client=httpx.AsyncClient(), server_url=f"http://127.0.0.1:{port}/x"
    )
    assert not (await call(mcp, "get_user", {"id": "1"})).is_error
    assert upstream.last.path == "/x/users/1"


@pytest.mark.parametrize("servers", [[], [{"url": "/api"}]])
def test_a_client_without_base_url_and_no_absolute_server_is_refused_at_build(servers: list) -> None:
    with pytest.raises(
        OpenAPIError, match=r"the client has no base_url .* give the client one .* server_url="
    ):
        MCPKit.from_openapi(openapi_spec=served(servers), client=httpx.AsyncClient())


async def test_a_client_with_a_base_url_keeps_it(upstream: Any) -> None:
    document = served([{"url": "http://127.0.0.1:9/never"}])
    mcp = MCPKit.from_openapi(openapi_spec=document, client=upstream.client())
    assert not (await call(mcp, "get_user", {"id": "1"})).is_error
    assert upstream.last.path == "/api/users/1"

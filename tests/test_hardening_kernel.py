"""Regression tests of the hardening issue for the kernel: what a new user hit, and what a client sends."""

from __future__ import annotations

import base64
from typing import Any

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field

from mcpkit import Audio, Client, File, Image, MCPKit, ToolCallError, ToolResult
from mcpkit.components import Tool
from mcpkit.context import current_request
from mcpkit.discovery import ECHO_CHARS
from tests.reliability import record

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@pytest.fixture(params=["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
def mode(request):
    return request.param


class Person(BaseModel):
    full_name: str = Field(alias="fullName")
    age_in_years: int = Field(alias="ageInYears")


async def test_a_model_with_aliases_is_sent_by_alias_and_the_client_accepts_it(mode):
    mcp = MCPKit("aliases")

    @mcp.tool
    def person() -> Person:
        return Person(fullName="Ada Lovelace", ageInYears=36)

    async with Client(mcp, mode=mode) as client:
        [tool] = await client.list_tools()
        result = await client.call_tool("person")
    assert set(tool.output_schema["properties"]) == {"fullName", "ageInYears"}
    assert result.data == {"fullName": "Ada Lovelace", "ageInYears": 36}


async def test_bytes_and_media_are_content_not_structured_data(mode, tmp_path):
    mcp = MCPKit("media")
    (tmp_path / "report.csv").write_text("a,b\n1,2\n")

    @mcp.tool
    def raw() -> bytes:
        return b"\x00\xff"

    @mcp.tool
    def picture() -> Image:
        return Image(data=PNG, format="png")

    @mcp.tool
    def sound() -> Audio:
        return Audio(data=b"RIFF", format="wav")

    @mcp.tool
    def report() -> File:
        return File(path=tmp_path / "report.csv")

    @mcp.tool
    def mixed() -> list[str | Image | types.TextContent]:
        return ["a chart:", Image(data=PNG), types.TextContent(type="text", text="end")]

    async with Client(mcp, mode=mode) as client:
        listed = {tool.name: tool for tool in await client.list_tools()}
        raw_result = await client.call_tool("raw")
        picture_result = await client.call_tool("picture")
        sound_result = await client.call_tool("sound")
        report_result = await client.call_tool("report")
        mixed_result = await client.call_tool("mixed")
    assert all(listed[name].output_schema is None for name in ("raw", "picture", "sound", "report"))
    [blob] = raw_result.content
    assert isinstance(blob, types.EmbeddedResource)
    assert base64.b64decode(blob.resource.blob) == b"\x00\xff"
    assert blob.resource.mime_type == "application/octet-stream"
    assert raw_result.structured_content is None
    [image] = picture_result.content
    assert (image.type, image.mime_type, base64.b64decode(image.data)) == ("image", "image/png", PNG)
    [audio] = sound_result.content
    assert (audio.type, audio.mime_type) == ("audio", "audio/wav")
    [file] = report_result.content
    assert file.resource.text == "a,b\n1,2\n"
    assert file.resource.mime_type == "text/csv"
    assert str(file.resource.uri) == "file:///report.csv"
    assert [block.type for block in mixed_result.content] == ["text", "image", "text"]
    assert mixed_result.structured_content is None


async def test_a_result_that_does_not_match_the_output_schema_is_a_tool_call_error(mode):
    mcp = MCPKit("liar")

    async def lie(arguments: dict[str, Any]) -> ToolResult:
        return ToolResult(structured_content={"count": "many"})

    schema = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}
    mcp.add_tool(Tool(name="lie", input_schema={"type": "object"}, output_schema=schema, fn=lie))
    async with Client(mcp, mode=mode, raise_on_error=False) as client:
        await client.list_tools()
        with pytest.raises(ToolCallError, match="does not match the tool's output schema") as raised:
            await client.call_tool("lie", raise_on_error=False)
        assert raised.value.tool == "lie"
        # The client is still usable afterwards.
        assert [tool.name for tool in await client.list_tools()] == ["lie"]
    record(
        "attacks", "a server's structured content that breaks its output schema: a ToolCallError, no crash"
    )


async def test_resource_readers_see_the_request_being_served(mode):
    mcp = MCPKit("readers")

    @mcp.resource("state://method")
    def method() -> str:
        request = current_request()
        assert request is not None
        return request.sdk.method

    @mcp.resource("state://items/{name}")
    def item(name: str) -> str:
        request = current_request()
        assert request is not None
        return f"{name} {request.sdk.method}"

    async with Client(mcp, mode=mode) as client:
        [fixed] = await client.read_resource("state://method")
        [templated] = await client.read_resource("state://items/pen")
    assert fixed.text == "resources/read"
    assert templated.text == "pen resources/read"


async def test_an_unknown_resource_names_its_uri_in_the_error_data(mode):
    mcp = MCPKit("empty")
    async with Client(mcp, mode=mode) as client:
        with pytest.raises(MCPError) as raised:
            await client.read_resource("test://nonexistent")
    assert raised.value.error.code == types.INVALID_PARAMS
    assert raised.value.error.data == {"uri": "test://nonexistent"}


async def test_a_template_ignores_query_parameters_it_does_not_declare(mode):
    mcp = MCPKit("templates")

    @mcp.resource("users://{user_id}")
    def user(user_id: str) -> str:
        return f"user {user_id}"

    @mcp.resource("orders://{order_id}{?fields}")
    def order(order_id: str, fields: str | None = None) -> str:
        return f"order {order_id} fields={fields}"

    async with Client(mcp, mode=mode) as client:
        [plain] = await client.read_resource("users://123?format=json")
        [declared] = await client.read_resource("orders://7?fields=total&format=json")
    assert plain.text == "user 123"
    assert declared.text == "order 7 fields=total"


def test_tags_of_a_generated_component_are_changed_by_assignment():
    # docs/openapi.md: mcp_component_fn assigns the fields of a component (tags are a frozenset).
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Tags", "version": "1"},
        "paths": {"/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}}},
    }

    def tag(route, component):
        component.tags = component.tags | {"admin"}

    mcp = MCPKit.from_openapi(document, server_url="http://api.test", mcp_component_fn=tag)
    assert mcp.tools["ping"].tags == frozenset({"admin"})


async def test_a_huge_search_query_is_refused_and_a_long_one_is_not_echoed_whole():
    mcp = MCPKit("search", discovery="search")

    @mcp.tool
    def create_invoice() -> str:
        return "ok"

    async with Client(mcp, raise_on_error=False) as client:
        huge = await client.call_tool("search_tools", {"query": "x" * 100_000})
        long = await client.call_tool("search_tools", {"query": "zzzz " * 150})
    assert huge.is_error
    assert "too long" in huge.text
    assert len(huge.text) < 2_000
    assert not long.is_error
    assert long.data == {"tools": []}
    assert "z" * 4 in long.text
    assert len(long.content[1].text) < ECHO_CHARS + 200
    record("attacks", "a 100 KB search_tools query: refused, the reply under 2 KB")


async def test_hidden_tools_are_callable_from_python_and_through_call_tool():
    # docs/large-apis.md: clients only see search_tools and call_tool; call_tool reaches any tool.
    mcp = MCPKit("hidden", discovery="search")

    @mcp.tool
    def secret_report() -> str:
        return "report"

    async with Client(mcp) as client:
        listed = [tool.name for tool in await client.list_tools()]
        through = await client.call_tool("call_tool", {"name": "secret_report"})
    assert listed == ["search_tools", "call_tool"]
    assert through.text == "report"
    assert (await mcp.call_tool("secret_report")).content[0].text == "report"

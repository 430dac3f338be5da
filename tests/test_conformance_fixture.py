"""The conformance suites' fixture server (examples/everything.py) and the kernel fixes it needed.

scripts/external_clients.py runs the official suites against this server (CI, with npm); these tests
check, without npm, that the server offers what the suites call, in both protocol eras.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp.client.streamable_http import streamable_http_client

from examples.everything import MemoryEventStore, build
from mcpkit import Client
from tests.servers import example_process, free_port

ROOT = Path(__file__).parent.parent
MODES = ["auto", "legacy"]

# What the stable suite (0.1.16, --suite all) and the 2026-07-28 scenarios call by name.
SUITE_TOOLS = {
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_tool_with_logging",
    "test_tool_with_progress",
    "test_error_handling",
    "test_reconnection",
    "test_sampling",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "json_schema_2020_12_tool",
    "test_missing_capability",
    "test_streaming_elicitation",
    "test_logging_tool",
    "test_trigger_tool_change",
    "test_trigger_prompt_change",
    "test_custom_headers",
}
SUITE_RESOURCES = {"test://static-text", "test://static-binary", "test://watched-resource"}
SUITE_PROMPTS = {
    "test_simple_prompt",
    "test_prompt_with_arguments",
    "test_prompt_with_embedded_resource",
    "test_prompt_with_image",
}


async def test_the_everything_server_offers_what_the_suites_call():
    async with Client(build()) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        resources = {str(resource.uri) for resource in await client.list_resources()}
        templates = {template.uri_template for template in await client.list_resource_templates()}
        prompts = {prompt.name for prompt in await client.list_prompts()}
        completion = await client.session.complete(
            types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
            {"name": "arg1", "value": "par"},
        )
    assert set(tools) >= SUITE_TOOLS
    assert all(tool.description for tool in tools.values())
    assert resources >= SUITE_RESOURCES
    assert "test://template/{id}/data" in templates
    assert prompts >= SUITE_PROMPTS
    assert completion.completion.values == ["paris", "park", "party"]
    schema = tools["json_schema_2020_12_tool"].input_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["address"]["$anchor"] == "addressDef"
    assert {"allOf", "if", "then", "else"} <= set(schema)
    assert tools["test_custom_headers"].input_schema["properties"]["region"]["x-mcp-header"] == "Region"


@pytest.mark.parametrize("mode", MODES)
async def test_the_content_tools_return_each_kind_of_content(mode):
    async with Client(build(), mode=mode) as client:
        image = await client.call_tool("test_image_content")
        audio = await client.call_tool("test_audio_content")
        embedded = await client.call_tool("test_embedded_resource")
        mixed = await client.call_tool("test_multiple_content_types")
        failed = await client.call_tool("test_error_handling", raise_on_error=False)
        binary = await client.read_resource("test://static-binary")
        templated = await client.read_resource("test://template/123/data")
    assert [(block.type, block.mime_type) for block in image.content] == [("image", "image/png")]
    assert [(block.type, block.mime_type) for block in audio.content] == [("audio", "audio/wav")]
    assert isinstance(embedded.content[0], types.EmbeddedResource)
    assert embedded.content[0].resource.mime_type == "text/plain"
    assert [block.type for block in mixed.content] == ["text", "image", "resource"]
    assert failed.is_error
    assert failed.text == "This tool intentionally returns an error for testing"
    assert isinstance(binary[0], types.BlobResourceContents)
    assert binary[0].mime_type == "image/png"
    assert isinstance(templated[0], types.TextResourceContents)
    assert '"Data for ID: 123"' in templated[0].text


@pytest.mark.parametrize("mode", MODES)
async def test_the_elicitation_forms_have_the_shapes_the_suites_check(mode):
    asked: list[dict[str, Any]] = []

    async def answer(params: types.ElicitRequestParams) -> dict[str, Any]:
        assert isinstance(params, types.ElicitRequestFormParams)
        asked.append(params.requested_schema)
        if "untitledSingle" in params.requested_schema["properties"]:
            return {
                "untitledSingle": "option1",
                "titledSingle": "value2",
                "legacyEnum": "opt3",
                "untitledMulti": ["option1", "option2"],
                "titledMulti": ["value1"],
            }
        return {"name": "Jane Smith", "age": 25, "score": 88, "status": "inactive", "verified": False}

    async with Client(build(), mode=mode, elicitation_handler=answer) as client:
        defaults = await client.call_tool("test_elicitation_sep1034_defaults")
        enums = await client.call_tool("test_elicitation_sep1330_enums")
    assert defaults.text.startswith("Elicitation completed: action=accept")
    assert '"titledSingle": "value2"' in enums.text
    profile, choices = (schema["properties"] for schema in asked)
    assert {name: (field["type"], field["default"]) for name, field in profile.items()} == {
        "name": ("string", "John Doe"),
        "age": ("integer", 30),
        "score": ("number", 95.5),
        "status": ("string", "active"),
        "verified": ("boolean", True),
    }
    assert profile["status"]["enum"] == ["active", "inactive", "pending"]
    assert choices["untitledSingle"]["enum"] == ["option1", "option2", "option3"]
    assert "enum" not in choices["titledSingle"]
    assert choices["titledSingle"]["oneOf"][0] == {"const": "value1", "title": "First Option"}
    assert choices["legacyEnum"]["enumNames"] == ["Option One", "Option Two", "Option Three"]
    assert choices["untitledMulti"]["items"] == {"enum": ["option1", "option2", "option3"], "type": "string"}
    assert choices["titledMulti"]["items"]["anyOf"][2] == {"const": "value3", "title": "Third Choice"}


async def test_a_trigger_tool_changes_the_tool_list_and_clients_are_told():
    mcp = build()
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async with Client(mcp, mode="legacy", message_handler=on_message) as client:
        await client.call_tool("test_trigger_tool_change")
        with anyio.fail_after(10):
            await changed.wait()
        assert "test_dynamic_tool" in {tool.name for tool in await client.list_tools()}
        await client.call_tool("test_trigger_tool_change")
        assert "test_dynamic_tool" not in {tool.name for tool in await client.list_tools()}


async def test_the_memory_event_store_is_bounded_and_replays_one_stream():
    store = MemoryEventStore(max_events=3)
    message = types.JSONRPCNotification(jsonrpc="2.0", method="notifications/progress")
    first = await store.store_event("a", None)
    kept = await store.store_event("a", message)
    await store.store_event("b", message)
    last = await store.store_event("a", message)
    replayed: list[str | None] = []

    async def send(event: Any) -> None:
        replayed.append(event.event_id)

    assert await store.replay_events_after(first, send) is None  # forgotten: past the bound
    assert await store.replay_events_after(kept, send) == "a"
    assert replayed == [last]


@pytest.fixture
def everything() -> Iterator[str]:
    """``python -m examples.everything --port N`` on 127.0.0.1 (its URL); stopped after the test."""
    port = free_port()
    with example_process(["-m", "examples.everything", "--port", str(port)], port) as url:
        yield url


async def test_ctx_close_sse_stream_makes_the_client_resume_the_call_and_receive_its_result(everything):
    resumed: list[str] = []

    async def note_resumption(request: httpx2.Request) -> None:
        if request.method == "GET" and "last-event-id" in request.headers:
            resumed.append(request.headers["last-event-id"])

    async with (
        httpx2.AsyncClient(event_hooks={"request": [note_resumption]}) as http,
        Client(streamable_http_client(everything, http_client=http), mode="legacy") as client,
    ):
        assert {tool.name for tool in await client.list_tools()} >= SUITE_TOOLS
        result = await client.call_tool("test_reconnection")
    assert result.text.startswith("Reconnection test completed successfully")
    assert len(resumed) == 1  # the call's stream was closed mid-call, and resumed once

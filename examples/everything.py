"""The conformance suites' "everything" server, written with mcpkit's public API.

The official conformance suite (``@modelcontextprotocol/conformance``) tests a server by calling
fixture tools, resources and prompts with fixed names (``test_simple_text``, ``test://static-text``,
``test_simple_prompt``, ...). This server provides them all, so that ``scripts/external_clients.py``
can run the suites against mcpkit itself::

    python -m examples.everything --port 3001            # Streamable HTTP at /mcp
    npx @modelcontextprotocol/conformance@0.1.16 server --url http://127.0.0.1:3001/mcp --suite all

Streams are resumable (an in-memory event store, bounded), so a client that loses a stream mid-call
(``test_reconnection``) gets the rest when it reconnects with ``Last-Event-ID``.
"""

from __future__ import annotations

import argparse
import base64
import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal
from uuid import uuid4

import anyio
import mcp_types as types
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from pydantic import BaseModel, Field

from mcpkit import (
    AcceptedElicitation,
    Audio,
    Context,
    File,
    Image,
    MCPKit,
    Message,
    Tool,
    ToolError,
    ToolResult,
)
from mcpkit.elicitation import ElicitationResult

# A 1x1 red PNG and a silent, empty WAV file: the media the suites expect back.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV = base64.b64decode("UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=")

JSON_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"

STEP_DELAY = 0.05
"""Seconds between the log messages and progress steps of the logging and progress tools."""


# Elicitation forms


class Reply(BaseModel):
    """The free-text answer ``test_elicitation`` asks for."""

    response: str = Field(description="User's response")


class Profile(BaseModel):
    """A form whose every field has a default (SEP-1034)."""

    name: str = Field("John Doe", description="User name")
    age: int = Field(30, description="User age")
    score: float = Field(95.5, description="User score")
    status: Literal["active", "inactive", "pending"] = Field("active", description="User status")
    verified: bool = Field(True, description="Verification status")


def titled(titles: dict[str, str], *, multiple: bool = False) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` that names each choice of an enum field: ``oneOf`` (one choice) or
    ``items.anyOf`` (several) of ``{"const": value, "title": title}`` instead of a bare ``enum``."""
    options = [{"const": value, "title": title} for value, title in titles.items()]

    def name_choices(schema: dict[str, Any]) -> None:
        if multiple:
            schema["items"] = {"anyOf": options}
        else:
            schema.pop("enum", None)
            schema["oneOf"] = options

    return name_choices


class Choices(BaseModel):
    """A form with every kind of choice field (SEP-1330)."""

    untitledSingle: Literal["option1", "option2", "option3"] = Field(description="Select one option")
    titledSingle: Literal["value1", "value2", "value3"] = Field(
        description="Select one option with titles",
        json_schema_extra=titled(
            {"value1": "First Option", "value2": "Second Option", "value3": "Third Option"}
        ),
    )
    legacyEnum: Literal["opt1", "opt2", "opt3"] = Field(
        description="Select one option (legacy)",
        json_schema_extra={"enumNames": ["Option One", "Option Two", "Option Three"]},
    )
    untitledMulti: list[Literal["option1", "option2", "option3"]] = Field(
        description="Select multiple options", min_length=1, max_length=3
    )
    titledMulti: list[Literal["value1", "value2", "value3"]] = Field(
        description="Select multiple options with titles",
        min_length=1,
        max_length=3,
        json_schema_extra=titled(
            {"value1": "First Choice", "value2": "Second Choice", "value3": "Third Choice"}, multiple=True
        ),
    )


class Name(BaseModel):
    """A name, asked for by the input-required fixtures."""

    name: str


class Color(BaseModel):
    """A favourite colour (the second round of ``test_input_required_result_multi_round``)."""

    color: str


class Confirmation(BaseModel):
    """A yes or no."""

    ok: bool


class PromptContext(BaseModel):
    """What ``test_input_required_result_prompt`` is about."""

    context: str


def described(result: ElicitationResult[Any], prefix: str) -> str:
    """An elicitation's outcome as the suites expect it: ``<prefix>: action=..., content={...}``."""
    content = result.data.model_dump(mode="json") if isinstance(result, AcceptedElicitation) else {}
    return f"{prefix}: action={result.action}, content={json.dumps(content)}"


# The server


def build() -> MCPKit:
    """A new everything server."""
    mcp = MCPKit("mcpkit-everything", version="1.0.0", instructions="The conformance suites' fixture server.")
    add_content_tools(mcp)
    add_context_tools(mcp)
    add_client_request_tools(mcp)
    add_input_required_tools(mcp)
    add_header_tool(mcp)
    add_change_tools(mcp)
    add_json_schema_tool(mcp)
    add_resources(mcp)
    add_prompts(mcp)
    return mcp


def add_content_tools(mcp: MCPKit) -> None:
    """Tools returning each kind of content, and one failing."""

    @mcp.tool
    def test_simple_text() -> str:
        """Tests simple text content response."""
        return "This is a simple text response for testing."

    @mcp.tool
    def test_image_content() -> Image:
        """Tests image content response."""
        return Image(data=PNG, format="png")

    @mcp.tool
    def test_audio_content() -> Audio:
        """Tests audio content response."""
        return Audio(data=WAV, format="wav")

    @mcp.tool
    def test_embedded_resource() -> File:
        """Tests embedded resource content response."""
        return File(data=b"This is an embedded resource content.", name="embedded.txt", format="text/plain")

    @mcp.tool
    def test_multiple_content_types() -> list[str | Image | File]:
        """Tests response with multiple content types (text, image, resource)."""
        data = json.dumps({"test": "data", "value": 123}).encode()
        return [
            "Multiple content types test:",
            Image(data=PNG, format="png"),
            File(data=data, name="mixed.json", format="application/json"),
        ]

    @mcp.tool
    def test_error_handling() -> str:
        """Tests error response handling."""
        raise ToolError("This tool intentionally returns an error for testing")


def add_context_tools(mcp: MCPKit) -> None:
    """Tools that log, report progress, or lose their stream mid-call."""

    @mcp.tool
    async def test_tool_with_logging(ctx: Context) -> str:
        """Tests tool that emits log messages during execution."""
        await ctx.info("Tool execution started")
        await anyio.sleep(STEP_DELAY)
        await ctx.info("Tool processing data")
        await anyio.sleep(STEP_DELAY)
        await ctx.info("Tool execution completed")
        return "Tool with logging executed successfully"

    @mcp.tool
    async def test_logging_tool(ctx: Context) -> str:
        """Logs at info level: sent only to a request that asked for logs."""
        await ctx.info("test_logging_tool ran")
        return "logged"

    @mcp.tool
    async def test_tool_with_progress(ctx: Context) -> str:
        """Tests tool that reports progress notifications."""
        for step in (0, 50, 100):
            await ctx.report_progress(step, 100, f"Completed step {step} of 100")
            if step < 100:
                await anyio.sleep(STEP_DELAY)
        return "Progress reported"

    @mcp.tool
    async def test_reconnection(ctx: Context) -> str:
        """Tests SSE stream disconnection and client reconnection (SEP-1699): the stream is closed
        mid-call and the result is sent after the client reconnects."""
        await ctx.close_sse_stream()
        await anyio.sleep(0.1)
        return (
            "Reconnection test completed successfully. If you received this, the client properly "
            "reconnected after stream closure."
        )


def add_client_request_tools(mcp: MCPKit) -> None:
    """Tools that ask the client: sampling and elicitation (both protocol eras)."""

    @mcp.tool
    async def test_sampling(
        prompt: Annotated[str, Field(description="The prompt to send to the LLM")], ctx: Context
    ) -> str:
        """Tests server-initiated sampling (LLM completion request)."""
        text = sampled_text(await ctx.sample(prompt, max_tokens=100))
        return f"LLM response: {text or 'No response'}"

    @mcp.tool
    async def test_missing_capability(ctx: Context) -> str:
        """Needs the client's sampling capability: refused (-32021) for a client without it."""
        result = await ctx.sample("Say hello", max_tokens=10)
        return f"sampled with {result.model}"

    @mcp.tool
    async def test_elicitation(
        message: Annotated[str, Field(description="The message to show the user")], ctx: Context
    ) -> str:
        """Tests server-initiated elicitation (user input request)."""
        return described(await ctx.elicit(message, Reply), "User response")

    @mcp.tool
    async def test_streaming_elicitation(ctx: Context) -> str:
        """Asks the user a question (2026-07-28: through an input-required result)."""
        return described(await ctx.elicit("Please answer", Reply), "User response")

    @mcp.tool
    async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
        """Tests elicitation with default values per SEP-1034."""
        result = await ctx.elicit("Please review and update the form fields with defaults", Profile)
        return described(result, "Elicitation completed")

    @mcp.tool
    async def test_elicitation_sep1330_enums(ctx: Context) -> str:
        """Tests elicitation with enum schema improvements per SEP-1330."""
        result = await ctx.elicit("Please select options from the enum fields", Choices)
        return described(result, "Elicitation completed")


def add_header_tool(mcp: MCPKit) -> None:
    """A tool whose argument a 2026-07-28 client mirrors into an HTTP header (``x-mcp-header``,
    SEP-2243); the SDK checks the header against the argument."""

    @mcp.tool
    def test_custom_headers(
        region: Annotated[str, Field(description="A region", json_schema_extra={"x-mcp-header": "Region"})],
    ) -> str:
        """Echoes the region its client also sent as the Mcp-Param-Region header."""
        return f"region: {region}"


def add_input_required_tools(mcp: MCPKit) -> None:
    """The fixtures of the 2026-07-28 input-required scenarios (SEP-2322): questions asked through
    ``ctx.elicit``/``ctx.sample``, which that protocol carries in input-required results."""

    @mcp.tool
    async def test_input_required_result_elicitation(ctx: Context) -> str:
        """Asks the user's name, then greets them."""
        result = await ctx.elicit("What is your name?", Name)
        return f"Hello, {result.data.name}!" if isinstance(result, AcceptedElicitation) else "No name given"

    @mcp.tool
    async def test_input_required_result_sampling(ctx: Context) -> str:
        """Asks the client's model a question and returns its answer."""
        return sampled_text(await ctx.sample("What is the capital of France?", max_tokens=100))

    @mcp.tool
    async def test_input_required_result_request_state(ctx: Context) -> str:
        """Asks for a confirmation; the answer comes back with the sealed request state."""
        result = await ctx.elicit("Please confirm", Confirmation)
        return described(result, "state-ok")

    @mcp.tool
    async def test_input_required_result_multi_round(ctx: Context) -> str:
        """Asks two questions, one per round."""
        name = await ctx.elicit("Step 1: What is your name?", Name)
        color = await ctx.elicit("Step 2: What is your favorite color?", Color)
        return f"{described(name, 'Step 1')}; {described(color, 'Step 2')}"

    @mcp.tool
    async def test_input_required_result_tampered_state(ctx: Context) -> str:
        """Asks for a confirmation; a tampered request state is refused by the server."""
        return described(await ctx.elicit("Please confirm", Confirmation), "Confirmation")

    @mcp.tool
    async def test_input_required_result_capabilities(ctx: Context) -> str:
        """Asks only through what the client declared: its model if it can sample, else the user."""
        capabilities = ctx.client_capabilities
        if capabilities is not None and capabilities.sampling is not None:
            return sampled_text(await ctx.sample("Say hello", max_tokens=20))
        if capabilities is not None and capabilities.elicitation is not None:
            return described(await ctx.elicit("Say hello", Reply), "User response")
        return "The client can neither sample nor elicit"

    @mcp.prompt
    async def test_input_required_result_prompt(ctx: Context) -> str:
        """A prompt that asks the user what it should be about."""
        result = await ctx.elicit("What context should the prompt use?", PromptContext)
        topic = result.data.context if isinstance(result, AcceptedElicitation) else "nothing in particular"
        return f"Write about: {topic}"


def sampled_text(result: types.CreateMessageResult) -> str:
    """The text of a sampling answer."""
    blocks = result.content if isinstance(result.content, list) else [result.content]
    return " ".join(block.text for block in blocks if isinstance(block, types.TextContent))


def add_change_tools(mcp: MCPKit) -> None:
    """Tools that change the server's tool and prompt lists (clients are notified)."""

    @mcp.tool
    def test_trigger_tool_change() -> str:
        """Adds, or removes again, the tool ``test_dynamic_tool``."""
        if "test_dynamic_tool" in mcp.tools:
            mcp.remove_tool("test_dynamic_tool")
            return "removed test_dynamic_tool"
        mcp.tool(name="test_dynamic_tool")(_dynamic_tool)
        return "added test_dynamic_tool"

    @mcp.tool
    def test_trigger_prompt_change() -> str:
        """Adds, or removes again, the prompt ``test_dynamic_prompt``."""
        if "test_dynamic_prompt" in mcp.prompts:
            mcp.remove_prompt("test_dynamic_prompt")
            return "removed test_dynamic_prompt"
        mcp.prompt(name="test_dynamic_prompt")(_dynamic_prompt)
        return "added test_dynamic_prompt"


def _dynamic_tool() -> str:
    """A tool that comes and goes."""
    return "dynamic"


def _dynamic_prompt() -> str:
    """A prompt that comes and goes."""
    return "A dynamic prompt."


def add_json_schema_tool(mcp: MCPKit) -> None:
    """A tool whose input schema uses JSON Schema 2020-12 keywords, served as written (SEP-1613,
    SEP-2106)."""

    async def echo(arguments: dict[str, Any]) -> ToolResult:
        return ToolResult([types.TextContent(type="text", text=f"called with: {json.dumps(arguments)}")])

    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_2020_12,
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"},
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": False,
    }
    mcp.add_tool(
        Tool(
            name="json_schema_2020_12_tool",
            input_schema=schema,
            fn=echo,
            description="Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
        )
    )


def add_resources(mcp: MCPKit) -> None:
    """Text, binary, templated and watched resources."""

    @mcp.resource("test://static-text", title="Static Text Resource", mime_type="text/plain")
    def static_text() -> str:
        """A static text resource for testing."""
        return "This is the content of the static text resource."

    @mcp.resource("test://static-binary", title="Static Binary Resource", mime_type="image/png")
    def static_binary() -> bytes:
        """A static binary resource (image) for testing."""
        return PNG

    @mcp.resource("test://template/{id}/data", title="Resource Template", mime_type="application/json")
    def template(id: str) -> dict[str, Any]:
        """A resource template with parameter substitution."""
        return {"id": id, "templateTest": True, "data": f"Data for ID: {id}"}

    @mcp.resource("test://watched-resource", title="Watched Resource", mime_type="text/plain")
    def watched() -> str:
        """A resource clients may subscribe to."""
        return "Watched resource content"


def add_prompts(mcp: MCPKit) -> None:
    """Prompts with and without arguments, with an embedded resource and with an image."""

    @mcp.prompt(title="Simple Test Prompt")
    def test_simple_prompt() -> str:
        """A simple prompt without arguments."""
        return "This is a simple prompt for testing."

    @mcp.prompt(
        title="Prompt With Arguments",
        completions={"arg1": ["paris", "park", "party", "test", "testValue"], "arg2": ["one", "two"]},
    )
    def test_prompt_with_arguments(
        arg1: Annotated[str, Field(description="First test argument")],
        arg2: Annotated[str, Field(description="Second test argument")],
    ) -> str:
        """A prompt with required arguments."""
        return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"

    @mcp.prompt(title="Prompt With Embedded Resource")
    def test_prompt_with_embedded_resource(
        resourceUri: Annotated[str, Field(description="URI of the resource to embed")],
    ) -> list[types.EmbeddedResource | str]:
        """A prompt that includes an embedded resource."""
        contents = types.TextResourceContents(
            uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
        )
        return [
            types.EmbeddedResource(type="resource", resource=contents),
            "Please process the embedded resource above.",
        ]

    @mcp.prompt(title="Prompt With Image")
    def test_prompt_with_image() -> list[Message]:
        """A prompt that includes image content."""
        return [Message(Image(data=PNG, format="png")), Message("Please analyze the image above.")]


# Serving


class MemoryEventStore(EventStore):
    """The events of recent streams, in memory, so that a client can resume a lost stream; at most
    ``max_events`` are kept (the oldest are forgotten)."""

    def __init__(self, max_events: int = 10_000) -> None:
        self.max_events = max_events
        self._events: OrderedDict[EventId, tuple[StreamId, types.JSONRPCMessage | None]] = OrderedDict()

    async def store_event(self, stream_id: StreamId, message: types.JSONRPCMessage | None) -> EventId:
        """Keep ``message`` as the next event of ``stream_id``."""
        event_id = f"{stream_id}:{uuid4().hex}"
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self.max_events:
            self._events.popitem(last=False)
        return event_id

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        """Send the events of ``last_event_id``'s stream that came after it."""
        if last_event_id not in self._events:
            return None
        stream_id = self._events[last_event_id][0]
        after = False
        for event_id, (stream, message) in list(self._events.items()):
            if after and stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
            after = after or event_id == last_event_id
        return stream_id


RETRY_MS = 500
"""How long a client waits before reconnecting to a lost stream (the SSE ``retry`` field)."""


def main(argv: Sequence[str] | None = None) -> None:
    """Serve over Streamable HTTP until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.everything", description="Serve the conformance suites' fixture server."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3001, help="port to bind (default: 3001)")
    parser.add_argument("--log-level", default="warning", help="uvicorn's log level (default: warning)")
    args = parser.parse_args(argv)
    build().run(
        transport="http",
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        event_store=MemoryEventStore(),
        retry_interval=RETRY_MS,
    )


if __name__ == "__main__":
    main()

"""The Context a component receives: injection, logging, progress, resources, elicitation, sampling."""

from __future__ import annotations

import dataclasses
import enum
from typing import Annotated, Any, Literal

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field

from mcpkit import (
    AcceptedElicitation,
    CancelledElicitation,
    Client,
    Context,
    DeclinedElicitation,
    MCPKit,
)


@pytest.fixture(params=["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
def mode(request):
    return request.param


def test_a_context_parameter_never_appears_in_a_schema():
    mcp = MCPKit("schemas")

    @mcp.tool
    def tool(query: str, ctx: Context) -> str:
        return query

    @mcp.tool
    def optional(query: str, context: Context | None = None) -> str:
        return query

    @mcp.tool
    def annotated(query: str, c: Annotated[Context, "the request"]) -> str:
        return query

    @mcp.resource("items://{item_id}")
    def item(item_id: str, ctx: Context) -> str:
        return item_id

    for name in ("tool", "optional", "annotated"):
        assert mcp.tools[name].input_schema["properties"].keys() == {"query"}
        assert mcp.tools[name].input_schema["required"] == ["query"]
    assert list(mcp.resource_templates) == ["items://{item_id}"]


async def test_components_see_the_request_through_their_context(mode):
    mcp = MCPKit("context", lifespan=None)
    seen: dict[str, Any] = {}

    @mcp.tool
    async def inspect_request(ctx: Context) -> str:
        seen.update(
            request_id=ctx.request_id,
            version=ctx.protocol_version,
            capabilities=ctx.client_capabilities,
            headers=dict(ctx.headers),
            server=ctx.server,
            method=ctx.sdk.method,
        )
        return "ok"

    async def on_elicit(params: types.ElicitRequestParams) -> None:
        return None

    async with Client(mcp, mode=mode, elicitation_handler=on_elicit) as client:
        await client.call_tool("inspect_request")
        version = client.protocol_version
    assert seen["request_id"] is not None
    assert seen["version"] == version
    assert seen["capabilities"].elicitation is not None
    assert seen["headers"] == {}  # no HTTP request in memory
    assert seen["server"] is mcp
    assert seen["method"] == "tools/call"


async def test_a_component_called_directly_gets_a_context_without_a_client():
    mcp = MCPKit("direct")

    @mcp.tool
    async def careful(ctx: Context) -> str:
        await ctx.info("nobody hears this")
        await ctx.report_progress(1, 2)
        try:
            await ctx.elicit("Sure?", bool)
        except RuntimeError as exc:
            return str(exc)
        return "asked"

    result = await mcp.call_tool("careful")
    assert "outside a request" in result.content[0].text


async def test_logging_reaches_the_client_at_the_levels_it_asked_for():
    mcp = MCPKit("logs")

    @mcp.tool
    async def chatty(ctx: Context) -> str:
        await ctx.debug("details")
        await ctx.info("working", logger_name="jobs")
        await ctx.warning("careful", extra={"disk": "90%"})
        await ctx.error("failed once")
        await ctx.log("critical", "on fire")
        return "done"

    async def collect(set_level: str | None = None, **options: Any) -> list[tuple[str, Any, str | None]]:
        received: list[tuple[str, Any, str | None]] = []

        async def on_log(params: types.LoggingMessageNotificationParams) -> None:
            received.append((params.level, params.data, params.logger))

        async with Client(mcp, log_handler=on_log, **options) as client:
            if set_level is not None:
                await client.set_logging_level(set_level)
            await client.call_tool("chatty")
        return received

    everything = await collect(mode="legacy")  # the handshake era: every level until one is set
    from_warning = await collect(mode="legacy", set_level="warning")
    opted_in = await collect(log_level="error")  # 2026-07-28: what each request opts in to
    silent = await collect()  # 2026-07-28 without opting in: nothing
    assert [level for level, _, _ in everything] == ["debug", "info", "warning", "error", "critical"]
    assert ("info", "working", "jobs") in everything
    assert ("warning", {"message": "careful", "extra": {"disk": "90%"}}, None) in everything
    assert [level for level, _, _ in from_warning] == ["warning", "error", "critical"]
    assert [level for level, _, _ in opted_in] == ["error", "critical"]
    assert silent == []


async def test_progress_is_sent_only_to_a_client_that_asked_for_it(mode):
    mcp = MCPKit("progress")

    @mcp.tool
    async def export(steps: int, ctx: Context) -> str:
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step} of {steps}")
        return "exported"

    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    async with Client(mcp, mode=mode) as client:
        quiet = await client.call_tool("export", {"steps": 2})
        loud = await client.call_tool("export", {"steps": 3}, progress_handler=on_progress)
    assert quiet.text == loud.text == "exported"
    assert updates == [(1, 3, "step 1 of 3"), (2, 3, "step 2 of 3"), (3, 3, "step 3 of 3")]


async def test_a_tool_reads_the_servers_resources(mode):
    mcp = MCPKit("reader")

    @mcp.resource("config://limits")
    def limits() -> str:
        return '{"max": 3}'

    @mcp.tool
    async def describe_limits(ctx: Context) -> str:
        [contents] = await ctx.read_resource("config://limits")
        return f"limits are {contents.text}"

    async with Client(mcp, mode=mode) as client:
        result = await client.call_tool("describe_limits")
    assert result.text == 'limits are {"max": 3}'


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Shipping:
    street: str
    express: bool = False


class Rating(BaseModel):
    stars: int = Field(ge=1, le=5)
    comment: str = ""


ASKED = [
    (None, {}, None),
    (bool, {"value": True}, True),
    (int, {"value": 7}, 7),
    (str, {"value": "Ada"}, "Ada"),
    (["small", "large"], {"value": "large"}, "large"),
    (Literal["yes", "no"], {"value": "no"}, "no"),
    (Colour, {"value": "blue"}, Colour.BLUE),
    (Shipping, {"street": "1 Main St"}, Shipping(street="1 Main St")),
    (Rating, {"stars": 4}, Rating(stars=4)),
]


@pytest.mark.parametrize(("response_type", "answer", "expected"), ASKED, ids=lambda v: repr(v)[:20])
async def test_elicit_asks_for_every_response_type_in_both_eras(mode, response_type, answer, expected):
    mcp = MCPKit("ask")
    schemas: list[dict[str, Any]] = []

    @mcp.tool
    async def question(ctx: Context) -> str:
        result = await ctx.elicit("A question", response_type)
        assert isinstance(result, AcceptedElicitation)
        return repr(result.data)

    async def on_elicit(params: types.ElicitRequestParams) -> dict[str, Any]:
        schemas.append(params.requested_schema)
        return answer

    async with Client(mcp, mode=mode, elicitation_handler=on_elicit) as client:
        result = await client.call_tool("question")
    assert result.text == repr(expected)
    [schema] = schemas
    assert schema["type"] == "object"
    for field in schema["properties"].values():
        assert field.get("type") in ("string", "integer", "number", "boolean")


async def test_declined_cancelled_and_wrong_answers(mode):
    mcp = MCPKit("ask")

    @mcp.tool
    async def question(ctx: Context) -> str:
        result = await ctx.elicit("How many?", int)
        return result.action

    answers: list[types.ElicitResult] = [
        types.ElicitResult(action="decline"),
        types.ElicitResult(action="cancel"),
        types.ElicitResult(action="accept", content={"value": "lots"}),
    ]

    async def on_elicit(params: types.ElicitRequestParams) -> types.ElicitResult:
        return answers.pop(0)

    async with Client(mcp, mode=mode, elicitation_handler=on_elicit, raise_on_error=False) as client:
        declined = await client.call_tool("question")
        cancelled = await client.call_tool("question")
        wrong = await client.call_tool("question")
    assert (declined.text, cancelled.text) == ("decline", "cancel")
    assert wrong.is_error
    assert "does not match the question's schema" in wrong.text
    assert DeclinedElicitation().action == "decline"
    assert CancelledElicitation().action == "cancel"


async def test_each_question_is_asked_once_even_when_the_tool_runs_again(mode):
    mcp = MCPKit("ask")
    runs: list[int] = []

    @mcp.tool
    async def wizard(ctx: Context) -> str:
        runs.append(1)
        name = await ctx.elicit("Your name?", str)
        size = await ctx.elicit("Your size?", ["S", "M", "L"])
        return f"{name.data} wears {size.data}"

    asked: list[str] = []

    async def on_elicit(params: types.ElicitRequestParams) -> dict[str, Any]:
        asked.append(params.message)
        return {"value": "Ada" if params.message == "Your name?" else "M"}

    async with Client(mcp, mode=mode, elicitation_handler=on_elicit) as client:
        result = await client.call_tool("wizard")
        version = client.protocol_version
    assert result.text == "Ada wears M"
    assert asked == ["Your name?", "Your size?"]
    # 2026-07-28: each answer needs a new round, and the tool runs again from the start.
    assert len(runs) == (3 if version == "2026-07-28" else 1)


async def test_a_client_without_the_capability_is_refused_before_anything_is_sent(mode):
    mcp = MCPKit("ask")
    reached: list[str] = []

    @mcp.tool
    async def question(ctx: Context) -> str:
        await ctx.elicit("Sure?", bool)
        reached.append("elicit")
        return "asked"

    @mcp.tool
    async def think(ctx: Context) -> str:
        await ctx.sample("Say hi")
        reached.append("sample")
        return "sampled"

    async with Client(mcp, mode=mode) as client:
        with pytest.raises(MCPError) as elicit:
            await client.call_tool("question")
        with pytest.raises(MCPError) as sample:
            await client.call_tool("think")
    assert elicit.value.error.code == sample.value.error.code == types.MISSING_REQUIRED_CLIENT_CAPABILITY
    assert elicit.value.error.data == {"requiredCapabilities": {"elicitation": {"form": {}}}}
    assert sample.value.error.data == {"requiredCapabilities": {"sampling": {}}}
    assert reached == []


async def test_sampling_asks_the_clients_model_in_both_eras(mode):
    mcp = MCPKit("think")

    @mcp.tool
    async def haiku(topic: str, ctx: Context) -> str:
        answer = await ctx.sample(f"A haiku about {topic}", system_prompt="You are a poet.", max_tokens=60)
        return answer.content.text

    requests: list[types.CreateMessageRequestParams] = []

    async def on_sample(params: types.CreateMessageRequestParams) -> str:
        requests.append(params)
        return "an old silent pond"

    async with Client(mcp, mode=mode, sampling_handler=on_sample) as client:
        result = await client.call_tool("haiku", {"topic": "frogs"})
    assert result.text == "an old silent pond"
    [params] = requests
    assert (params.system_prompt, params.max_tokens) == ("You are a poet.", 60)
    assert params.messages[0].content.text == "A haiku about frogs"


async def test_a_tampered_request_state_is_refused():
    mcp = MCPKit("ask")

    @mcp.tool
    async def question(ctx: Context) -> str:
        return repr((await ctx.elicit("Sure?", bool)).data)

    async def on_elicit(params: types.ElicitRequestParams) -> dict[str, Any]:
        return {"value": True}

    async with Client(mcp, elicitation_handler=on_elicit) as client:
        first = await client.session.call_tool("question", {}, allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult)
        [key] = first.input_requests
        answer = {key: {"action": "accept", "content": {"value": True}}}
        honest = await client.session.call_tool(
            "question",
            {},
            input_responses=answer,
            request_state=first.request_state,
            allow_input_required=True,
        )
        with pytest.raises(MCPError) as forged:
            await client.session.call_tool(
                "question",
                {},
                input_responses=answer,
                request_state=first.request_state[:-4] + "AAAA",
                allow_input_required=True,
            )
    assert honest.content[0].text == "True"
    assert forged.value.error.code == types.INVALID_PARAMS


async def test_a_question_in_a_sync_component_thread_is_not_possible_but_properties_are():
    mcp = MCPKit("sync")

    @mcp.tool
    def version(ctx: Context) -> str:
        return str(ctx.protocol_version)

    async with Client(mcp, mode="legacy") as client:
        result = await client.call_tool("version")
    assert result.text == "2025-11-25"


async def test_context_in_resource_templates_and_prompts(mode):
    mcp = MCPKit("everywhere")

    @mcp.resource("notes://{note_id}")
    async def note(note_id: str, ctx: Context) -> str:
        await ctx.info(f"reading {note_id}")
        return f"note {note_id} for {ctx.sdk.method}"

    @mcp.prompt
    async def brief(subject: str, ctx: Context) -> str:
        await ctx.info("briefing")
        return f"Brief on {subject} ({ctx.sdk.method})"

    logs: list[Any] = []
    both = anyio.Event()

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)
        if len(logs) == 2:
            both.set()

    async with Client(mcp, mode=mode, log_handler=on_log, log_level="debug") as client:
        [contents] = await client.read_resource("notes://7")
        prompt = await client.get_prompt("brief", {"subject": "tea"})
        with anyio.fail_after(5):
            await both.wait()
    assert contents.text == "note 7 for resources/read"
    assert prompt.messages[0].content.text == "Brief on tea (prompts/get)"
    assert logs == ["reading 7", "briefing"]

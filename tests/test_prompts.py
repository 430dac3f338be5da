"""Prompts: arguments from signatures, every kind of return value, protocol errors, in both eras."""

from __future__ import annotations

import base64
from typing import Annotated

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from pydantic import Field

from mcpkit import Client, Context, File, Image, MCPKit, Message, Prompt, Settings

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(params=["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
def mode(request):
    return request.param


def make_server(**options) -> MCPKit:
    mcp = MCPKit("prompts", **options)

    @mcp.prompt(title="Code review", tags={"dev"}, meta={"team": "core"})
    def review(
        code: Annotated[str, Field(description="The code to review")],
        language: str = "python",
    ) -> str:
        """Review a piece of code."""
        return f"Review this {language} code:\n{code}"

    @mcp.prompt
    async def conversation(topic: str, turns: int = 1) -> list[Message]:
        return [
            Message(f"Let us talk about {topic} for {turns} turns."),
            Message("Gladly.", role="assistant"),
        ]

    @mcp.prompt
    def with_picture(caption: str) -> list[object]:
        return [Image(data=PNG, format="png"), caption]

    @mcp.prompt
    def with_document() -> Message:
        return Message(File(data=b"the terms", name="terms.txt", format="text/plain"))

    @mcp.prompt
    def raw_messages(items: list[str]) -> list[object]:
        return [
            {"role": "user", "content": {"type": "text", "text": ", ".join(items)}},
            types.PromptMessage(role="assistant", content=types.TextContent(type="text", text="noted")),
        ]

    @mcp.prompt
    def broken() -> str:
        raise RuntimeError("the template store is down")

    return mcp


async def test_prompts_are_listed_with_their_arguments(mode):
    async with Client(make_server(), mode=mode) as client:
        prompts = {prompt.name: prompt for prompt in await client.list_prompts()}
    review = prompts["review"]
    assert (review.title, review.description, review.meta) == (
        "Code review",
        "Review a piece of code.",
        {"team": "core"},
    )
    assert [(a.name, a.description, a.required) for a in review.arguments] == [
        ("code", "The code to review", True),
        ("language", None, False),
    ]
    turns = prompts["conversation"].arguments[1]
    assert (turns.name, turns.required) == ("turns", False)
    assert "integer" in turns.description  # a non-text argument says how to write it
    assert prompts["with_document"].arguments is None


async def test_every_kind_of_return_value_becomes_messages(mode):
    async with Client(make_server(), mode=mode) as client:
        review = await client.get_prompt("review", {"code": "x = 1"})
        conversation = await client.get_prompt("conversation", {"topic": "tea", "turns": "3"})
        picture = await client.get_prompt("with_picture", {"caption": "a chart"})
        document = await client.get_prompt("with_document")
        raw = await client.get_prompt("raw_messages", {"items": '["a", "b"]'})
    assert review.description == "Review a piece of code."
    [message] = review.messages
    assert (message.role, message.content.text) == ("user", "Review this python code:\nx = 1")
    assert [(m.role, m.content.text) for m in conversation.messages] == [
        ("user", "Let us talk about tea for 3 turns."),
        ("assistant", "Gladly."),
    ]
    image, caption = picture.messages
    assert (image.content.type, base64.b64decode(image.content.data)) == ("image", PNG)
    assert caption.content.text == "a chart"
    [embedded] = document.messages
    assert embedded.content.type == "resource"
    assert (embedded.content.resource.text, str(embedded.content.resource.uri)) == (
        "the terms",
        "file:///terms.txt",
    )
    assert [(m.role, m.content.text) for m in raw.messages] == [("user", "a, b"), ("assistant", "noted")]


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("review", {}, "missing required argument 'code'"),
        ("review", {"code": "x", "colour": "red"}, "unknown argument 'colour'"),
        ("conversation", {"topic": "tea", "turns": "many"}, "invalid argument turns"),
        ("reveiw", {}, "unknown prompt 'reveiw'; did you mean 'review'?"),
    ],
)
async def test_bad_requests_are_clear_protocol_errors(mode, name, arguments, message):
    async with Client(make_server(), mode=mode) as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt(name, arguments)
    assert raised.value.error.code == types.INVALID_PARAMS
    assert message in raised.value.error.message


async def test_a_failing_prompt_is_an_internal_error_and_its_text_can_be_masked(mode):
    async with Client(make_server(), mode=mode) as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("broken")
    assert raised.value.error.code == types.INTERNAL_ERROR
    assert "RuntimeError: the template store is down" in raised.value.error.message
    masked = make_server(settings=Settings(mask_error_details=True))
    async with Client(masked, mode=mode) as client:
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("broken")
    assert "store" not in raised.value.error.message


async def test_a_prompt_built_from_data_and_one_that_uses_the_context(mode):
    mcp = MCPKit("data")

    async def render(arguments: dict[str, str]) -> str:
        return f"Summarise {arguments['document']} in {arguments.get('words', '50')} words."

    mcp.add_prompt(
        Prompt(
            name="summarise",
            fn=render,
            arguments=(
                types.PromptArgument(name="document", description="What to summarise", required=True),
                types.PromptArgument(name="words", required=False),
            ),
            description="Summarise a document.",
            icons=[types.Icon(src="https://example.com/summary.png", mime_type="image/png")],
        )
    )

    @mcp.prompt
    def whoami(ctx: Context) -> str:
        return f"You are talking to {ctx.server.name} over {ctx.protocol_version}."

    with pytest.raises(ValueError, match="already exists"):
        mcp.add_prompt(Prompt(name="summarise", fn=render))
    async with Client(mcp, mode=mode) as client:
        listed = {p.name: p for p in await client.list_prompts()}
        summary = await client.get_prompt("summarise", {"document": "the report"})
        whoami = await client.get_prompt("whoami")
        version = client.protocol_version
    assert listed["summarise"].icons[0].src == "https://example.com/summary.png"
    assert listed["whoami"].arguments is None  # the Context is not an argument
    assert summary.messages[0].content.text == "Summarise the report in 50 words."
    assert whoami.messages[0].content.text == f"You are talking to data over {version}."


async def test_disabled_prompts_are_not_listed_nor_served(mode):
    mcp = make_server()
    mcp.disable(tags={"dev"})
    async with Client(mcp, mode=mode) as client:
        names = [prompt.name for prompt in await client.list_prompts()]
        with pytest.raises(MCPError, match="unknown prompt 'review'"):
            await client.get_prompt("review", {"code": "x"})
    assert "review" not in names
    assert "conversation" in names


def test_bad_prompt_functions_are_refused_when_added():
    mcp = MCPKit("bad")
    with pytest.raises(TypeError, match="must be a plain named parameter"):

        @mcp.prompt
        def star(*words: str) -> str:
            return " ".join(words)

    with pytest.raises(TypeError, match="completions= names 'colour'"):

        @mcp.prompt(completions={"colour": ["red"]})
        def paint(shade: str) -> str:
            return shade

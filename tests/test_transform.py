"""Tool transformation: derived tools with renamed, re-described, defaulted or hidden arguments."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import Field

from mcpkit import Client, MCPKit
from mcpkit.transform import ArgTransform, transform_tool

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Issues", "version": "1"},
    "paths": {
        "/repos/{owner}/{repo}/issues": {
            "get": {
                "operationId": "list_issues",
                "parameters": [
                    {"name": "owner", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "repo", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", "closed"]},
                    },
                ],
                "responses": {"200": {"description": "issues"}},
            }
        }
    },
}


def make_server() -> MCPKit:
    mcp = MCPKit("transform")

    @mcp.tool
    def send_mail(
        to: Annotated[str, Field(description="Recipient")],
        subject: str,
        body: str,
        priority: int = 3,
    ) -> dict[str, Any]:
        """Send an e-mail."""
        return {"to": to, "subject": subject, "body": body, "priority": priority}

    return mcp


async def test_arguments_are_renamed_described_defaulted_and_hidden():
    mcp = make_server()
    mcp.add_tool(
        transform_tool(
            mcp.tools["send_mail"],
            name="mail_support",
            description="Write to the support team.",
            args={
                "to": ArgTransform(hide=True, value="support@example.com"),
                "subject": ArgTransform(name="topic", description="What it is about"),
                "priority": ArgTransform(default=1),
            },
        )
    )
    derived = mcp.tools["mail_support"]
    assert derived.description == "Write to the support team."
    assert set(derived.input_schema["properties"]) == {"topic", "body", "priority"}
    assert derived.input_schema["required"] == ["topic", "body"]
    assert derived.input_schema["properties"]["topic"]["description"] == "What it is about"
    assert derived.input_schema["properties"]["priority"]["default"] == 1
    async with Client(mcp, raise_on_error=False) as client:
        sent = await client.call_tool("mail_support", {"topic": "Login", "body": "It fails."})
        refused = await client.call_tool("mail_support", {"subject": "Login", "body": "x"})
        hidden = await client.call_tool("mail_support", {"topic": "a", "body": "b", "to": "me@example.com"})
    assert sent.data == {"to": "support@example.com", "subject": "Login", "body": "It fails.", "priority": 1}
    assert refused.is_error
    assert "'topic' is a required property" in refused.text
    assert hidden.data["to"] == "support@example.com"  # a hidden value cannot be overridden


async def test_wrap_runs_around_the_parent():
    mcp = make_server()

    async def shout(arguments: dict[str, Any], forward) -> Any:
        arguments["body"] = arguments["body"].upper()
        result = await forward(arguments)
        return {"sent": result.structured_content["body"]}

    mcp.add_tool(
        transform_tool(
            mcp.tools["send_mail"],
            name="shout_mail",
            wrap=shout,
            output_schema={"type": "object", "properties": {"sent": {"type": "string"}}},
        )
    )
    async with Client(mcp) as client:
        result = await client.call_tool("shout_mail", {"to": "a@b.c", "subject": "s", "body": "hello"})
    assert result.data == {"sent": "HELLO"}


async def test_a_generated_tool_is_derived_and_its_request_follows():
    mcp = MCPKit.from_openapi(DOCUMENT, server_url="http://api.test")
    derived = transform_tool(
        mcp.tools["list_issues"],
        name="open_widget_issues",
        args={
            "owner": ArgTransform(hide=True, value="acme"),
            "repo": ArgTransform(hide=True, value="widgets"),
            "q": ArgTransform(name="query"),
            "state": ArgTransform(hide=True, value="shut"),
        },
    )
    mcp.add_tool(derived)
    assert set(derived.input_schema["properties"]) == {"query"}
    async with Client(mcp, raise_on_error=False) as client:
        result = await client.call_tool("open_widget_issues", {"query": "crash"})
    # The hidden value is checked against the parent's schema: nothing is sent.
    assert result.is_error
    assert "'shut' is not one of ['open', 'closed']" in result.text


def test_mistakes_are_refused_when_deriving():
    tool = make_server().tools["send_mail"]
    with pytest.raises(ValueError, match="has no arguments 'colour'"):
        transform_tool(tool, args={"colour": ArgTransform(name="color")})
    with pytest.raises(ValueError, match="two arguments would be called 'body'"):
        transform_tool(tool, args={"subject": ArgTransform(name="body")})
    with pytest.raises(ValueError, match="the hidden argument 'to' is required"):
        transform_tool(tool, args={"to": ArgTransform(hide=True)})

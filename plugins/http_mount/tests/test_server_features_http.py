"""The whole server over Streamable HTTP and SSE: Context, prompts, notifications, both eras."""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
import pytest

from mcpkit import Client, Context, MCPKit


def features_server() -> MCPKit:
    mcp = MCPKit("features")

    @mcp.tool
    async def long_job(steps: int, ctx: Context) -> dict[str, Any]:
        await ctx.info("started")
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps)
        answer = await ctx.elicit("Keep the draft?", bool)
        return {
            "kept": answer.data,
            "agent": ctx.headers.get("user-agent", ""),
            "custom": ctx.headers.get("x-team"),
        }

    @mcp.tool
    def grow(name: str) -> str:
        mcp.tool(name=name)(lambda: "new")
        return "grown"

    @mcp.prompt
    def greet(name: str) -> str:
        return f"Say hello to {name}."

    return mcp


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
async def test_context_prompts_and_questions_over_streamable_http(serve, mode):
    mcp = features_server()
    logs: list[Any] = []
    progress: list[float] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async def on_elicit(params: types.ElicitRequestParams) -> dict[str, Any]:
        return {"value": True}

    async with (
        serve(mcp.http_app()) as base,
        Client(
            f"{base}/mcp",
            mode=mode,
            headers={"X-Team": "core"},
            log_handler=on_log,
            log_level="info",
            elicitation_handler=on_elicit,
        ) as client,
    ):
        result = await client.call_tool("long_job", {"steps": 2}, progress_handler=on_progress)
        prompt = await client.get_prompt("greet", {"name": "Ada"})
    assert result.data["kept"] is True
    assert result.data["custom"] == "core"
    assert prompt.messages[0].content.text == "Say hello to Ada."
    assert "started" in logs
    assert progress[-1] == 2  # 2026-07-28 runs the tool twice: progress is reported in both rounds


async def test_list_changes_over_the_standalone_stream_of_a_session(serve):
    mcp = features_server()
    received = anyio.Event()
    methods: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ServerNotification):
            methods.append(message.method)
            received.set()

    async with (
        serve(mcp.http_app()) as base,
        Client(f"{base}/mcp", mode="legacy", message_handler=on_message) as client,
    ):
        await client.list_tools()
        await anyio.sleep(0.2)  # the client opens its GET stream after the handshake
        await client.call_tool("grow", {"name": "sprout"})
        with anyio.fail_after(10):
            await received.wait()
        names = [tool.name for tool in await client.list_tools()]
    assert methods == ["notifications/tools/list_changed"]
    assert "sprout" in names


async def test_2026_clients_listen_over_streamable_http(serve):
    mcp = features_server()
    async with (
        serve(mcp.http_app()) as base,
        Client(f"{base}/mcp") as client,
        client.listen(tools=True) as events,
    ):
        await client.call_tool("grow", {"name": "sprout"})
        with anyio.fail_after(10):
            event = await events.__anext__()
    assert type(event).__name__ == "ToolsListChanged"


async def test_prompts_and_questions_over_sse(serve):
    mcp = features_server()

    async def on_elicit(params: types.ElicitRequestParams) -> dict[str, Any]:
        return {"value": False}

    async with (
        serve(mcp.http_app(transport="sse")) as base,
        Client(f"{base}/sse", transport="sse", mode="legacy", elicitation_handler=on_elicit) as client,
    ):
        result = await client.call_tool("long_job", {"steps": 1})
        prompt = await client.get_prompt("greet", {"name": "Bob"})
    assert result.data["kept"] is False
    assert prompt.messages[0].content.text == "Say hello to Bob."

"""MCP middleware: pluggy wrappers around every request a server handles."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from mcpkit import Client, MCPKit, hookimpl
from mcpkit.middleware import CallNext, Middleware, Request
from mcpkit.plugins import get_plugin_host


@pytest.fixture(params=["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
def mode(request):
    return request.param


class Recorder(Middleware):
    def __init__(self, name: str, seen: list[str]) -> None:
        self.name = name
        self.seen = seen

    async def on_request(self, request: Request, call_next: CallNext) -> Any:
        self.seen.append(f"{self.name}>{request.method}")
        result = await call_next()
        self.seen.append(f"{self.name}<{request.method}")
        return result


class Doubling(Middleware):
    """Changes the arguments before the tool runs, and the result after."""

    async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
        request.params["arguments"] = {"a": request.arguments["a"] * 2, "b": request.arguments["b"]}
        result = await call_next()
        result["content"][0]["text"] += " (doubled)"
        return result


class Gate(Middleware):
    """Answers some requests itself, refuses others."""

    async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
        if request.tool_name == "forbidden":
            raise MCPError(code=-32600, message="not today")
        if request.context.protocol_version is None:
            raise AssertionError("the context is the request's")
        return await call_next()

    async def on_list_prompts(self, request: Request, call_next: CallNext) -> Any:
        return {"prompts": [{"name": "from-middleware"}]}


def make_server(*middleware: object) -> MCPKit:
    mcp = MCPKit("mw", middleware=middleware)

    @mcp.tool
    def add(a: int, b: int) -> str:
        return str(a + b)

    @mcp.tool
    def forbidden() -> str:
        return "ran"

    return mcp


async def test_middleware_runs_in_order_around_each_request(mode):
    seen: list[str] = []
    mcp = make_server(Recorder("outer", seen), Recorder("inner", seen))
    async with Client(mcp, mode=mode) as client:
        seen.clear()
        await client.call_tool("add", {"a": 1, "b": 2})
    calls = [entry for entry in seen if entry.endswith("tools/call")]  # the client may list tools too
    assert calls == ["outer>tools/call", "inner>tools/call", "inner<tools/call", "outer<tools/call"]


async def test_middleware_changes_params_and_results(mode):
    async with Client(make_server(Doubling()), mode=mode) as client:
        result = await client.call_tool("add", {"a": 5, "b": 1})
    assert result.text == "11 (doubled)"


async def test_middleware_answers_or_refuses_on_its_own(mode):
    async with Client(make_server(Gate()), mode=mode) as client:
        with pytest.raises(MCPError, match="not today"):
            await client.call_tool("forbidden")
        prompts = await client.list_prompts()
        assert (await client.call_tool("add", {"a": 1, "b": 1})).text == "2"
    assert [prompt.name for prompt in prompts] == ["from-middleware"]


async def test_a_plugin_middleware_wraps_every_server_outside_their_own():
    seen: list[str] = []

    class Audit:
        @hookimpl(wrapper=True)
        def mcpkit_handle_request(self, request: Request) -> Any:
            inner = yield

            async def audited() -> Any:
                seen.append(f"audit>{request.method}")
                return await inner

            return audited()

    get_plugin_host().register(Audit(), name="audit")
    mcp = make_server(Recorder("own", seen))
    async with Client(mcp) as client:
        seen.clear()
        await client.list_tools()
    assert seen == ["audit>tools/list", "own>tools/list", "own<tools/list"]


def test_a_server_without_middleware_skips_the_chain():
    assert not make_server().middleware.active
    assert make_server(Gate()).middleware.active


async def test_call_next_runs_once():
    class Twice(Middleware):
        async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
            await call_next()
            return await call_next()

    mcp = make_server(Twice())
    async with Client(mcp, raise_on_error=False) as client:
        with pytest.raises(MCPError):
            await client.call_tool("add", {"a": 1, "b": 1})
    request = Request(
        "tools/call",
        {"name": "add", "arguments": {"a": 1, "b": 1}},
        None,
        lambda r: mcp.call_tool("add", {"a": 1, "b": 1}),
    )  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="once per request"):
        await mcp.middleware(request)

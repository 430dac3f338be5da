"""The floor: an in-memory call of a trivial async tool, mcpkit against the SDK's bare low-level server.

    python bench/floor.py [--calls 3000] [--rounds 5] [--json]

Both servers serve the same tool (``add(a, b) -> {"sum": a + b}``) with the same input and output
schemas, and both are called through the same client (the SDK's ``mcp.Client``, in memory), in both
protocol eras. The bare server is the least a server on the SDK can do: a ``tools/list`` handler, a
``tools/call`` handler that checks nothing and answers. mcpkit validates the arguments, sets up the
request's Context, and serialises the result. Rounds alternate between the two; figures are medians
of all calls. Target (issue 16): mcpkit within 1.2x of the bare server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import anyio
import mcp
import mcp_types as types
from mcp.server import Server
from pydantic import BaseModel

from mcpkit import MCPKit

TARGET = 1.2
INPUT = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}
OUTPUT = {"type": "object", "properties": {"sum": {"type": "integer"}}, "required": ["sum"]}


def bare_server() -> Server[Any]:
    """The SDK's low-level server with the tool and nothing else."""
    tool = types.Tool(name="add", input_schema=INPUT, output_schema=OUTPUT)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[tool])

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = params.arguments or {}
        total = {"sum": arguments["a"] + arguments["b"]}
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(total))], structured_content=total
        )

    return Server(
        "bare", on_list_tools=list_tools, on_call_tool=call_tool, get_tool_input_schema=lambda _: INPUT
    )


class Sum(BaseModel):
    sum: int


def mcpkit_server() -> Server[Any]:
    """The same tool as a plain mcpkit function tool (its schemas generated from the signature)."""
    server = MCPKit("mcpkit")

    @server.tool
    async def add(a: int, b: int) -> Sum:
        return Sum(sum=a + b)

    return server.lowlevel_server


async def measure(server: Server[Any], mode: str, calls: int) -> list[float]:
    """Seconds per call of ``calls`` calls through the SDK's client."""
    durations: list[float] = []
    async with mcp.Client(server, mode=mode, cache=None) as client:
        await client.list_tools()
        for number in range(calls):
            started = time.perf_counter()
            result = await client.call_tool("add", {"a": number, "b": 1})
            durations.append(time.perf_counter() - started)
            assert result.structured_content == {"sum": number + 1}
    return durations


def run(calls: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median microseconds per call for each era and server, and mcpkit's ratio to the bare server."""
    servers: dict[str, Callable[[], Server[Any]]] = {"bare": bare_server, "mcpkit": mcpkit_server}
    results: dict[str, dict[str, float]] = {}
    for mode, era in (("auto", "2026-07-28"), ("legacy", "2025-11-25")):
        samples: dict[str, list[float]] = {name: [] for name in servers}
        for make in servers.values():  # a warm-up each, not counted: imports, caches, compiled schemas
            anyio.run(measure, make(), mode, min(calls, 200))
        for _ in range(rounds):
            for name, make in servers.items():
                samples[name] += anyio.run(measure, make(), mode, calls)
        bare, ours = (statistics.median(samples[name]) * 1e6 for name in ("bare", "mcpkit"))
        results[era] = {"bare_us": bare, "mcpkit_us": ours, "ratio": ours / bare}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (bench/run.py)")
    options = parser.parse_args()
    results = run(options.calls, options.rounds)
    if options.json:
        print(json.dumps(results))
        return
    print("| protocol | bare low-level server | mcpkit | ratio (target < 1.2x) |")
    print("|---|---|---|---|")
    for era, row in results.items():
        print(f"| {era} | {row['bare_us']:.0f} us | {row['mcpkit_us']:.0f} us | {row['ratio']:.2f}x |")


if __name__ == "__main__":
    main()

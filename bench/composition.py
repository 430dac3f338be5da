"""Composition and proxies: what a call costs through a mounted server and through a proxy.

    python bench/composition.py [--calls 2000] [--rounds 5] [--http-calls 300] [--json]

In memory, a trivial async tool (``add(a, b) -> {"sum": a + b}``) is called through the SDK's client
(as in bench/floor.py), in both protocol eras:

- directly: a client of the server itself;
- mounted: a client of a parent that mounts the server under a prefix (``parent.mount``);
- proxied: a client of ``MCPKit.as_proxy`` of the server (the proxy's own session with it speaks the
  same era), its sessions pooled while it is served.

Rounds alternate between the three; figures are medians of all calls. Then the cost of a session per
request, the alternative to the pool: the proxy's tool is called from Python while the proxy is
served (pooled sessions) and while it is not (a session per request), the remote in memory and over
Streamable HTTP (uvicorn on 127.0.0.1, in a process of its own).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp
from pydantic import BaseModel

from mcpkit import Client, MCPKit

ERAS = (("auto", "2026-07-28"), ("legacy", "2025-11-25"))
ROUTES = ("direct", "mounted", "proxied")


class Sum(BaseModel):
    sum: int


def server() -> MCPKit:
    mcp_server = MCPKit("adder")

    @mcp_server.tool
    async def add(a: int, b: int) -> Sum:
        return Sum(sum=a + b)

    return mcp_server


def route(name: str, mode: str) -> tuple[MCPKit, str]:
    """The server a client of ``name`` connects to, and the name of the tool there."""
    if name == "direct":
        return server(), "add"
    if name == "mounted":
        parent = MCPKit("parent")
        parent.mount(server(), prefix="adder")
        return parent, "adder_add"
    return MCPKit.as_proxy(Client(server(), mode=mode)), "add"


async def measure(name: str, mode: str, calls: int) -> list[float]:
    """Seconds per call of ``calls`` calls through the SDK's client, in memory."""
    target, tool = route(name, mode)
    durations: list[float] = []
    async with mcp.Client(target.lowlevel_server, mode=mode, cache=None) as client:
        await client.list_tools()
        for number in range(calls):
            started = time.perf_counter()
            result = await client.call_tool(tool, {"a": number, "b": 1})
            durations.append(time.perf_counter() - started)
            assert result.structured_content == {"sum": number + 1}
    return durations


def in_memory(calls: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median microseconds per call of each route and era, and the ratios to the direct call."""
    results: dict[str, dict[str, float]] = {}
    for mode, era in ERAS:
        samples: dict[str, list[float]] = {name: [] for name in ROUTES}
        for name in ROUTES:  # warm up: the first calls of a process pay for imports and caches
            anyio.run(measure, name, mode, 100)
        for _ in range(rounds):
            for name in ROUTES:
                samples[name] += anyio.run(measure, name, mode, calls)
        row = {f"{name}_us": statistics.median(samples[name]) * 1e6 for name in ROUTES}
        row["mounted_ratio"] = row["mounted_us"] / row["direct_us"]
        row["proxied_ratio"] = row["proxied_us"] / row["direct_us"]
        results[era] = row
    return results


async def python_calls(proxy: MCPKit, calls: int) -> list[float]:
    durations: list[float] = []
    for number in range(calls):
        started = time.perf_counter()
        result = await proxy.call_tool("add", {"a": number, "b": 1})
        durations.append(time.perf_counter() - started)
        assert result.structured_content == {"sum": number + 1}
    return durations


async def sessions(target: str | MCPKit, mode: str, calls: int) -> dict[str, float]:
    """Median microseconds per call of the proxy's tool with pooled sessions, and with one per request."""
    proxy = MCPKit.as_proxy(Client(target, mode=mode))
    async with mcp.Client(proxy.lowlevel_server, mode="legacy", cache=None):  # the proxy is served
        pooled = await python_calls(proxy, calls)
    alone = await python_calls(proxy, calls)  # not served: a session for each request
    return {"pooled_us": statistics.median(pooled) * 1e6, "per_request_us": statistics.median(alone) * 1e6}


@asynccontextmanager
async def over_http() -> AsyncIterator[str]:
    """The server over Streamable HTTP in a process of its own (uvicorn, 127.0.0.1, a free port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, __file__, "--serve", str(port)]
    async with await anyio.open_process(command, stderr=subprocess.DEVNULL) as process:
        try:
            with anyio.fail_after(30):
                while True:
                    try:
                        await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                        break
                    except OSError:
                        await anyio.sleep(0.05)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()


def per_request(calls: int, http_calls: int) -> dict[str, dict[str, float]]:
    """Pooled sessions against a session per request, the remote in memory and over HTTP."""
    results: dict[str, dict[str, float]] = {}
    for mode, era in ERAS:
        results[f"in memory, {era}"] = anyio.run(sessions, server(), mode, calls)

        async def http(mode: str = mode) -> dict[str, float]:
            async with over_http() as url:
                return await sessions(url, mode, http_calls)

        results[f"Streamable HTTP, {era}"] = anyio.run(http)
    return results


def run(calls: int, rounds: int, http_calls: int) -> dict[str, Any]:
    return {"in_memory": in_memory(calls, rounds), "sessions": per_request(calls, http_calls)}


def print_tables(results: dict[str, Any], out: Callable[[str], Any] = print) -> None:
    """The figures as two Markdown tables."""
    out("| protocol | direct | mounted | proxied | mounted / direct | proxied / direct |")
    out("|---|---:|---:|---:|---:|---:|")
    for era, row in results["in_memory"].items():
        out(
            f"| {era} | {row['direct_us']:.0f} µs | {row['mounted_us']:.0f} µs | {row['proxied_us']:.0f} µs "
            f"| {row['mounted_ratio']:.2f}x | {row['proxied_ratio']:.2f}x |"
        )
    out("")
    out("| remote | pooled sessions (served) | a session per request (not served) | per request / pooled |")
    out("|---|---:|---:|---:|")
    for remote, row in results["sessions"].items():
        slower = row["per_request_us"] / row["pooled_us"]
        out(f"| {remote} | {row['pooled_us']:.0f} µs | {row['per_request_us']:.0f} µs | {slower:.1f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--http-calls", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (bench/run.py)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the HTTP remote
    options = parser.parse_args()
    if options.serve:
        server().run(transport="http", port=options.serve, log_level="warning")
        return
    results = run(options.calls, options.rounds, options.http_calls)
    if options.json:
        print(json.dumps(results))
    else:
        print_tables(results)


if __name__ == "__main__":
    main()

"""Tool-call latency: an in-memory MCP tool call against the same FastAPI endpoint called directly.

    python bench/calls.py [--calls 2000] [--rounds 5] [--cpu N]

The endpoint is the example shop's ``GET /products/{product_id}`` (SQLite, a synchronous endpoint as
FastAPI apps usually have). "direct" calls it through ``httpx.ASGITransport`` with the app's lifespan
state, as an in-process test client would; "MCP" calls the ``get_product`` tool of
``MCPKit.from_fastapi(app=app)`` through ``mcpkit.Client(mcp)`` (in memory, the SDK's client), in
both protocol eras. Rounds alternate between the peers; each figure is the median of all its calls.
Target (SPEC.md): MCP within 1.5x of direct. A minimal async endpoint (no database, no thread) is
measured too: its ratio shows the fixed cost of the MCP round trip, not a target.

A synchronous endpoint hops to a worker thread and back; on a machine with several cores the
latency of that hop depends on where the scheduler puts the two threads, and can differ between
runs. ``--cpu N`` pins the process to one CPU (Linux) for steadier figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

# bench/http.py would shadow the standard library's http module when this folder is on sys.path.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
# The example lives in the repository, not in an installed distribution.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio
import httpx
from fastapi import FastAPI

from examples.ecommerce.app import create_app
from mcpkit import Client, MCPKit

Call = Callable[[], Awaitable[Any]]
TARGET = 1.5


@asynccontextmanager
async def direct_caller(app: FastAPI, path: str) -> AsyncIterator[Call]:
    """Calls ``path`` through ``httpx.ASGITransport``, the app's lifespan state in each request."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app(scope | {"state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:

            async def call() -> None:
                response = await http.get(path)
                response.raise_for_status()
                response.json()

            yield call


@asynccontextmanager
async def mcp_caller(mcp: MCPKit, tool: str, arguments: dict[str, Any], mode: str) -> AsyncIterator[Call]:
    """Calls ``tool`` through ``mcpkit.Client(mcp)``, in memory."""
    async with Client(mcp, mode=mode) as client:
        await client.list_tools()

        async def call() -> None:
            await client.call_tool(tool, arguments)

        yield call


async def timings(connect: AbstractAsyncContextManager[Call], calls: int) -> list[float]:
    """Seconds per call, after a warm-up."""
    async with connect as call:
        for _ in range(min(200, calls)):
            await call()
        durations = []
        for _ in range(calls):
            started = time.perf_counter()
            await call()
            durations.append(time.perf_counter() - started)
        return durations


def ping_app() -> FastAPI:
    """The smallest endpoint worth the name: async, no database."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return app


async def compare(
    label: str, app: FastAPI, path: str, tool: str, arguments: dict[str, Any], args: Any
) -> None:
    """Print the median latency of each peer calling the same endpoint, and its ratio to direct."""
    mcp = MCPKit.from_fastapi(app=app)
    peers: dict[str, Callable[[], AbstractAsyncContextManager[Call]]] = {
        "direct (httpx ASGITransport)": lambda: direct_caller(app, path),
        "MCP, 2026-07-28 (in memory)": lambda: mcp_caller(mcp, tool, arguments, "auto"),
        "MCP, 2025-11-25 (in memory)": lambda: mcp_caller(mcp, tool, arguments, "legacy"),
    }
    results: dict[str, list[float]] = {name: [] for name in peers}
    for _ in range(args.rounds):
        for name, connect in peers.items():
            results[name] += await timings(connect(), args.calls)
    baseline = statistics.median(results["direct (httpx ASGITransport)"])
    print(f"\n{label}")
    print(f"{'peer':<32} {'median':>10} {'vs direct':>10}")
    for name, durations in results.items():
        median = statistics.median(durations)
        print(f"{name:<32} {median * 1e6:>8.0f}us {median / baseline:>9.2f}x")


async def main(args: Any) -> None:
    where = f"pinned to CPU {args.cpu}" if args.cpu is not None else f"{len(os.sched_getaffinity(0))} CPUs"
    print(f"{args.rounds} rounds of {args.calls} calls per peer, {where}; target: MCP within {TARGET}x")
    await compare(
        "example shop, GET /products/{product_id} (SQLite, sync endpoint) [the target]",
        create_app(),
        "/products/1",
        "get_product",
        {"product_id": 1},
        args,
    )
    await compare(
        "minimal async endpoint (fixed cost of the MCP round trip; not a target)",
        ping_app(),
        "/items/1",
        "get_item",
        {"item_id": 1},
        args,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per peer and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (peers alternate)")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU (Linux)")
    arguments = parser.parse_args()
    if arguments.cpu is not None:
        os.sched_setaffinity(0, {arguments.cpu})
    anyio.run(main, arguments)

"""Tool-call latency: an in-memory MCP tool call against the same FastAPI endpoint called directly.

    python bench/calls.py [--calls 2000] [--rounds 5] [--cpu N] [--system SYSTEM]

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

``--system mcpkit|mcpkit-legacy|fastmcp|fastapi-mcp`` measures one system (run with the Python of
its environment, bench/peers.py) against the direct call on both endpoints, rounds alternating, and
prints the medians as JSON; bench/run.py runs every system so, each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The example lives in the repository, not in an installed distribution.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio
import httpx
from fastapi import FastAPI

from examples.ecommerce.app import create_app

if TYPE_CHECKING:  # mcpkit is imported where it is used: the peers' environments load this file too
    from mcpkit import MCPKit

Call = Callable[[], Awaitable[Any]]
TARGET = 1.5


@asynccontextmanager
async def app_with_state(app: FastAPI) -> AsyncIterator[Any]:
    """``app`` as an ASGI callable with its lifespan running and its lifespan state in each request."""
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app(scope | {"state": dict(state or {})}, receive, send)

        yield with_state


@asynccontextmanager
async def direct_caller(app: FastAPI, path: str) -> AsyncIterator[Call]:
    """Calls ``path`` through ``httpx.ASGITransport``, the app's lifespan state in each request."""
    async with app_with_state(app) as with_state:
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
    from mcpkit import Client

    async with Client(mcp, mode=mode) as client:
        await client.list_tools()

        async def call() -> None:
            await client.call_tool(tool, arguments)

        yield call


@asynccontextmanager
async def mcpkit_caller(app: FastAPI, names: tuple[str, ...], arguments: dict[str, Any], mode: str) -> Any:
    """mcpkit: ``MCPKit.from_fastapi(app=app)`` (it runs the app's lifespan itself), its own client."""
    from mcpkit import MCPKit

    async with mcp_caller(MCPKit.from_fastapi(app=app), names[0], arguments, mode) as call:
        yield call


def _pick(listed: list[Any], names: tuple[str, ...]) -> str:
    """The tool's name: mcpkit's short one, FastMCP's (the id up to its ``__``), or FastAPI's generated id."""
    found = {tool.name for tool in listed}
    return next(name for name in names if name in found)


@asynccontextmanager
async def fastmcp_caller(app: FastAPI, names: tuple[str, ...], arguments: dict[str, Any]) -> Any:
    """FastMCP 4.1.6, through ``fastmcp.Client`` in memory.

    ``FastMCP.from_fastapi`` is ``from_openapi(app.openapi(), client=httpx2.AsyncClient(transport=
    httpx2.ASGITransport(app=app)))``, which does not run the app's lifespan; this is the same with the
    lifespan running and its state in each request (the shop needs them), as mcpkit and direct have.
    """
    import httpx2
    from fastmcp import Client, FastMCP

    async with app_with_state(app) as asgi:
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=asgi), base_url="http://fastapi")
        mcp = FastMCP.from_openapi(openapi_spec=app.openapi(), client=http, name=app.title)
        async with Client(mcp) as client:
            tool = _pick(await client.list_tools(), names)

            async def call() -> None:
                await client.call_tool(tool, arguments)  # raises on an error result

            yield call


@asynccontextmanager
async def fastapi_mcp_caller(app: FastAPI, names: tuple[str, ...], arguments: dict[str, Any]) -> Any:
    """fastapi-mcp 0.4.0: ``FastApiMCP(app, http_client=...)``, its default client (httpx.ASGITransport)
    with the app's lifespan running and its state in each request. It has no in-memory client of its
    own: called through the SDK 1.x ``create_connected_server_and_client_session`` on
    ``FastApiMCP.server``, as its own tests do.
    """
    from fastapi_mcp import FastApiMCP
    from mcp.shared.memory import create_connected_server_and_client_session

    async with app_with_state(app) as asgi:
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        http = httpx.AsyncClient(transport=transport, base_url="http://apiserver", timeout=10.0)
        mcp = FastApiMCP(app, http_client=http)
        async with create_connected_server_and_client_session(mcp.server) as session:
            tool = _pick((await session.list_tools()).tools, names)

            async def call() -> None:
                result = await session.call_tool(tool, arguments)
                assert not result.isError, result.content

            yield call


SYSTEMS: dict[
    str, Callable[[FastAPI, tuple[str, ...], dict[str, Any]], AbstractAsyncContextManager[Call]]
] = {
    "mcpkit": lambda app, names, arguments: mcpkit_caller(app, names, arguments, "auto"),
    "mcpkit-legacy": lambda app, names, arguments: mcpkit_caller(app, names, arguments, "legacy"),
    "fastmcp": fastmcp_caller,
    "fastapi-mcp": fastapi_mcp_caller,
}
"""Each system's in-memory call of an endpoint (``mcpkit-legacy``: the handshake-era protocol)."""


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


WORKLOADS: dict[str, tuple[Callable[[], FastAPI], str, tuple[str, ...], dict[str, Any]]] = {
    "shop": (
        create_app,
        "/products/1",
        ("get_product", "get_product_products", "get_product_products__product_id__get"),
        {"product_id": 1},
    ),
    "ping": (
        ping_app,
        "/items/1",
        ("get_item", "get_item_items", "get_item_items__item_id__get"),
        {"item_id": 1},
    ),
}
"""The example shop's ``GET /products/{product_id}`` (the target) and the minimal async endpoint."""


async def measure_system(system: str, calls: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median seconds per call of ``system`` and of the direct call, each workload, rounds alternating."""
    medians = {}
    for workload, (make_app, path, names, arguments) in WORKLOADS.items():
        app = make_app()
        direct: list[float] = []
        mcp: list[float] = []
        for _ in range(rounds):
            direct += await timings(direct_caller(app, path), calls)
            mcp += await timings(SYSTEMS[system](app, names, arguments), calls)
        medians[workload] = {"direct": statistics.median(direct), "mcp": statistics.median(mcp)}
    return medians


async def compare(
    label: str, app: FastAPI, path: str, tool: str, arguments: dict[str, Any], args: Any
) -> None:
    """Print the median latency of each peer calling the same endpoint, and its ratio to direct."""
    from mcpkit import MCPKit

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
    parser.add_argument("--system", choices=sorted(SYSTEMS), help="print one system's medians as JSON")
    arguments = parser.parse_args()
    if arguments.cpu is not None:
        os.sched_setaffinity(0, {arguments.cpu})
    if arguments.system:
        print(json.dumps(anyio.run(measure_system, arguments.system, arguments.calls, arguments.rounds)))
    else:
        anyio.run(main, arguments)

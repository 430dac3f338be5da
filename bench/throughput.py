"""Streamable HTTP throughput: MCP tool calls per second against the same endpoint as plain FastAPI.

Each server runs in its own process (uvicorn, 127.0.0.1); this process is the client. One client
calls in a loop, then 8 clients call concurrently, for ``--seconds`` per measurement, ``--rounds``
times (all servers up at once, rounds alternating between them); the medians are printed with their
ratio to plain FastAPI (target: at least 0.5x). bench/run.py measures the peers' servers (``SERVERS``)
the same way, each run with the Python of its environment (bench/peers.py).

    python bench/throughput.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Any

import anyio
import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

# mcpkit is imported where it is used: the peers' environments serve from this file too.
Call = Callable[[], Awaitable[None]]


class Numbers(BaseModel):
    a: int
    b: int


def add_app() -> FastAPI:
    """The plain REST endpoint: POST /add {"a": 2, "b": 3} -> {"result": 5}."""
    app = FastAPI()

    @app.post("/add")
    def add(numbers: Numbers) -> dict[str, int]:
        return {"result": numbers.a + numbers.b}

    return app


def serve_fastapi(port: int) -> None:
    uvicorn.run(add_app(), host="127.0.0.1", port=port, log_level="warning")


def serve_mcp(port: int, **options: Any) -> None:
    """The same operation as an MCP tool, served over Streamable HTTP at /mcp."""
    from mcpkit import MCPKit

    mcp = MCPKit("bench")

    @mcp.tool
    def add(a: int, b: int) -> int:
        return a + b

    mcp.run(transport="http", host="127.0.0.1", port=port, log_level="warning", **options)


def serve_mcpkit_fastapi(port: int) -> None:
    """The REST endpoint converted: ``MCPKit.from_fastapi(app=add_app())`` at /mcp (tool ``add_add_post``)."""
    from mcpkit import MCPKit

    MCPKit.from_fastapi(app=add_app()).run(transport="http", host="127.0.0.1", port=port, log_level="warning")


def serve_fastmcp(port: int) -> None:
    """FastMCP 4.1.6 (peer environment): the Python tool ``add`` at /mcp, its ``http_app()`` on uvicorn."""
    from fastmcp import FastMCP

    mcp = FastMCP("bench")

    @mcp.tool
    def add(a: int, b: int) -> int:
        return a + b

    uvicorn.run(mcp.http_app(path="/mcp"), host="127.0.0.1", port=port, log_level="warning")


def serve_fastmcp_fastapi(port: int) -> None:
    """FastMCP 4.1.6: ``FastMCP.from_fastapi(add_app()).http_app()`` (tool ``add_add_post``)."""
    from fastmcp import FastMCP

    app = FastMCP.from_fastapi(app=add_app()).http_app(path="/mcp")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def serve_fastapi_mcp(port: int) -> None:
    """fastapi-mcp 0.4.0: ``FastApiMCP(app).mount_http()`` (/mcp on the app itself, tool ``add_add_post``)."""
    from fastapi_mcp import FastApiMCP

    app = add_app()
    FastApiMCP(app).mount_http()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


SERVERS: dict[str, Callable[[int], None]] = {
    "fastapi": serve_fastapi,
    "mcp": serve_mcp,
    "mcp-json": partial(serve_mcp, stateless=True, json_response=True),
    "mcpkit-fastapi": serve_mcpkit_fastapi,
    "fastmcp": serve_fastmcp,
    "fastmcp-fastapi": serve_fastmcp_fastapi,
    "fastapi-mcp": serve_fastapi_mcp,
}
"""Servers by kind; ``fastmcp*`` and ``fastapi-mcp`` run with the Python of their peer environment."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def server(kind: str, python: str = sys.executable, output: Any = None) -> Any:
    """Serve ``kind`` in a fresh process of ``python``, its output to ``output`` (a file; default: ours);
    yields its base URL once it accepts connections."""
    port = free_port()
    command = [python, __file__, "--serve", kind, "--port", str(port)]
    proc = await anyio.open_process(command, stdout=output, stderr=output)
    try:
        with anyio.fail_after(30):
            while True:
                try:
                    await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                    break
                except OSError:
                    await anyio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        await proc.wait()


@asynccontextmanager
async def fastapi_caller(url: str) -> Any:
    async with httpx.AsyncClient(base_url=url) as http:

        async def call() -> None:
            response = await http.post("/add", json={"a": 2, "b": 3})
            assert response.json() == {"result": 5}

        yield call


def mcp_caller(mode: str, tool: str = "add") -> Callable[[str], AbstractAsyncContextManager[Call]]:
    """Calls ``tool`` with ``mcpkit.Client`` (the SDK's client) at ``{url}/mcp``, protocol ``mode``.

    The answer is checked: 5 as structured content (``5`` or ``{"result": 5}``) or as JSON text.
    """

    @asynccontextmanager
    async def connect(url: str) -> Any:
        from mcpkit import Client

        async with Client(f"{url}/mcp", mode=mode) as client:
            await client.list_tools()

            async def call() -> None:
                result = await client.call_tool(tool, {"a": 2, "b": 3})
                assert result.data in (5, {"result": 5}) or '"result": 5' in result.text, result

            yield call

    return connect


async def calls_per_second(
    url: str, connect: Callable[[str], AbstractAsyncContextManager[Call]], clients: int, seconds: float
) -> float:
    """Calls per second of ``clients`` concurrent clients, each calling in a loop for ``seconds``."""
    counts = [0] * clients

    async def run(index: int, ready: anyio.Event, go: anyio.Event) -> None:
        async with connect(url) as call:
            await call()  # warm up
            ready.set()
            await go.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                await call()
                counts[index] += 1

    go = anyio.Event()
    async with anyio.create_task_group() as tasks:
        readies = [anyio.Event() for _ in range(clients)]
        for index, ready in enumerate(readies):
            tasks.start_soon(run, index, ready, go)
        for ready in readies:
            await ready.wait()
        started = time.perf_counter()
        go.set()
    return sum(counts) / (time.perf_counter() - started)


Row = tuple[str, str, Callable[[str], AbstractAsyncContextManager[Call]]]
"""A measured line: its label, the kind of server (``SERVERS``) and how a client calls it."""


async def throughput(
    rows: list[Row],
    seconds: float,
    rounds: int,
    python: Callable[[str], str] = lambda kind: sys.executable,
    clients: tuple[int, ...] = (1, 8),
    output: Any = None,
) -> dict[str, dict[int, float]]:
    """Median calls/s of each row with each number of clients.

    Every server runs at once in its own process (``python(kind)``, idle when not measured; its output
    to ``output``) and the rounds alternate between rows, so that a busy spell of the machine falls on
    all of them.
    """
    async with AsyncExitStack() as stack:
        urls: dict[str, str] = {}
        for _, kind, _ in rows:
            if kind not in urls:
                urls[kind] = await stack.enter_async_context(server(kind, python(kind), output))
        rates: dict[str, dict[int, list[float]]] = {label: {n: [] for n in clients} for label, _, _ in rows}
        for _ in range(rounds):
            for label, kind, connect in rows:
                for n in clients:
                    rates[label][n].append(await calls_per_second(urls[kind], connect, n, seconds))
    return {label: {n: statistics.median(r) for n, r in by.items()} for label, by in rates.items()}


async def main(seconds: float, rounds: int) -> None:
    rows: list[Row] = [
        ("plain FastAPI, httpx client", "fastapi", fastapi_caller),
        ("MCP default, 2026-07-28 client", "mcp", mcp_caller("auto")),
        ("MCP default, 2025-11-25 session", "mcp", mcp_caller("legacy")),
        ("MCP stateless+json, 2025-11-25", "mcp-json", mcp_caller("legacy")),
    ]
    print(f"medians of {rounds} rounds of {seconds:g} s; servers: uvicorn, 1 process each, 127.0.0.1")
    print("MCP clients: the SDK's client (mcpkit.Client); MCP default: mcp.run(transport='http')")
    print(f"{'endpoint':<36} {'clients':>7} {'calls/s':>9} {'vs FastAPI':>10}")
    rates = await throughput(rows, seconds, rounds)
    baseline = rates[rows[0][0]]
    for label, by in rates.items():
        for clients, rate in by.items():
            print(f"{label:<36} {clients:>7} {rate:>9.0f} {rate / baseline[clients]:>9.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per figure (median)")
    parser.add_argument("--serve", choices=sorted(SERVERS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        SERVERS[args.serve](args.port)
    else:
        anyio.run(main, args.seconds, args.rounds)

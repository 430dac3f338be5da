"""Streamable HTTP throughput: MCP tool calls per second against the same endpoint as plain FastAPI.

Each server runs in its own process (uvicorn, 127.0.0.1); this process is the client. One client
calls in a loop, then 8 clients call concurrently, for ``--seconds`` per measurement, ``--rounds``
times; the medians are printed with their ratio to plain FastAPI (target: at least 0.5x).

    python bench/http.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

# This file is named http.py: run as a script, its folder must not shadow the standard library's http.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import anyio
import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from mcpkit import Client, MCPKit

Call = Callable[[], Awaitable[None]]


class Numbers(BaseModel):
    a: int
    b: int


def serve_fastapi(port: int) -> None:
    """The plain REST endpoint: POST /add {"a": 2, "b": 3} -> {"result": 5}."""
    app = FastAPI()

    @app.post("/add")
    def add(numbers: Numbers) -> dict[str, int]:
        return {"result": numbers.a + numbers.b}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def serve_mcp(port: int, **options: Any) -> None:
    """The same operation as an MCP tool, served over Streamable HTTP at /mcp."""
    mcp = MCPKit("bench")

    @mcp.tool
    def add(a: int, b: int) -> int:
        return a + b

    mcp.run(transport="http", host="127.0.0.1", port=port, log_level="warning", **options)


SERVERS: dict[str, Callable[[int], None]] = {
    "fastapi": serve_fastapi,
    "mcp": serve_mcp,
    "mcp-json": partial(serve_mcp, stateless=True, json_response=True),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def server(kind: str) -> Any:
    port = free_port()
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
    proc = await anyio.open_process(command, stdout=None, stderr=None)
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


def mcp_caller(mode: str) -> Callable[[str], AbstractAsyncContextManager[Call]]:
    @asynccontextmanager
    async def connect(url: str) -> Any:
        async with Client(f"{url}/mcp", mode=mode) as client:
            await client.list_tools()

            async def call() -> None:
                assert (await client.call_tool("add", {"a": 2, "b": 3})).data == 5

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


async def main(seconds: float, rounds: int) -> None:
    peers: list[tuple[str, str, Callable[[str], AbstractAsyncContextManager[Call]]]] = [
        ("plain FastAPI, httpx client", "fastapi", fastapi_caller),
        ("MCP default, 2026-07-28 client", "mcp", mcp_caller("auto")),
        ("MCP default, 2025-11-25 session", "mcp", mcp_caller("legacy")),
        ("MCP stateless+json, 2025-11-25", "mcp-json", mcp_caller("legacy")),
    ]
    print(f"medians of {rounds} rounds of {seconds:g} s; servers: uvicorn, 1 process each, 127.0.0.1")
    print("MCP clients: the SDK's client (mcpkit.Client); MCP default: mcp.run(transport='http')")
    print(f"{'endpoint':<36} {'clients':>7} {'calls/s':>9} {'vs FastAPI':>10}")
    baseline: dict[int, float] = {}
    for label, kind, connect in peers:
        async with server(kind) as url:
            for clients in (1, 8):
                rates = [await calls_per_second(url, connect, clients, seconds) for _ in range(rounds)]
                rate = statistics.median(rates)
                baseline.setdefault(clients, rate)
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

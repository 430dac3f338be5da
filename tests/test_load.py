"""Load: 64 concurrent clients x 50 calls over Streamable HTTP against uvicorn on 127.0.0.1, in one
process and behind two stateless workers. Every call is answered correctly, none fails, and no file
descriptor or asyncio task is left behind. Each run is bounded in time and stops itself."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
import uvicorn

from mcpkit import Client, MCPKit
from tests.reliability import record
from tests.servers import free_port

CLIENTS = 64
CALLS = 50
BOUND = 150  # seconds a whole run may take before it fails (it takes a fraction of that)

SERVER = """
import anyio
from mcpkit import MCPKit

mcp = MCPKit("load")


@mcp.tool
async def work(client: int, call: int) -> dict[str, int]:
    \"\"\"Echo the call, after giving other requests a turn.\"\"\"
    await anyio.sleep(0)
    return {"client": client, "call": call, "product": client * call}
"""


def server() -> MCPKit:
    namespace: dict[str, object] = {}
    exec(textwrap.dedent(SERVER), namespace)
    mcp = namespace["mcp"]
    assert isinstance(mcp, MCPKit)
    return mcp


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def other_tasks() -> set[asyncio.Task[object]]:
    """This loop's tasks but the test's own and sse_starlette's shutdown watcher (one per event loop
    by design, started by the first SSE response and polling for uvicorn's exit)."""
    return {
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and task.get_coro().__qualname__ != "_shutdown_watcher"
    }


async def hammer(url: str) -> int:
    """``CLIENTS`` clients at once, each making ``CALLS`` calls in turn; returns the calls answered."""
    answered = 0

    async def one_client(client_id: int) -> None:
        nonlocal answered
        mode = "legacy" if client_id % 2 else "auto"  # both protocol eras, sessions and sessionless
        async with Client(url, mode=mode, timeout=60) as client:
            for call in range(CALLS):
                result = await client.call_tool("work", {"client": client_id, "call": call})
                assert result.data == {"client": client_id, "call": call, "product": client_id * call}
                answered += 1

    with anyio.fail_after(BOUND):
        async with anyio.create_task_group() as tasks:
            for client_id in range(CLIENTS):
                tasks.start_soon(one_client, client_id)
    return answered


@asynccontextmanager
async def uvicorn_here(mcp: MCPKit, **options: object) -> AsyncIterator[str]:
    """uvicorn serving ``mcp`` in this event loop until the block ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = mcp.http_app(**options)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve, [sock])
        for _ in range(1000):  # 10 s at most
            if server.started:
                break
            await anyio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start")
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
        finally:
            server.should_exit = True
    sock.close()


async def settled(before: set[int]) -> set[int]:
    """The descriptors open beyond ``before`` once closing connections have had a moment."""
    for _ in range(50):
        leaked = open_fds() - before
        if not leaked:
            return leaked
        await anyio.sleep(0.1)
    return open_fds() - before


@pytest.mark.slow
async def test_64_clients_by_50_calls_in_one_process():
    fds, tasks = open_fds(), other_tasks()
    async with uvicorn_here(server()) as url:
        assert await hammer(url) == CLIENTS * CALLS
    record("calls under load", "one uvicorn process", CLIENTS * CALLS)
    assert await settled(fds) == set()
    assert other_tasks() == tasks


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    """``uvicorn load_app:app --workers 2`` (a stateless app) on 127.0.0.1; stopped with SIGTERM."""
    (tmp_path / "load_app.py").write_text(textwrap.dedent(SERVER) + "\napp = mcp.http_app(stateless=True)\n")
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "load_app:app", "--workers", "2", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    log = (tmp_path / "log.txt").open("w")
    process = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=log)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.slow
async def test_64_clients_by_50_calls_behind_two_stateless_workers(two_workers):
    url = two_workers
    with anyio.fail_after(30):
        while True:
            try:
                async with Client(url) as client:
                    await client.list_tools()
                break
            except Exception:
                await anyio.sleep(0.1)
    fds, tasks = open_fds(), other_tasks()
    assert await hammer(url) == CLIENTS * CALLS
    record("calls under load", "two stateless uvicorn workers", CLIENTS * CALLS)
    assert await settled(fds) == set()
    assert other_tasks() == tasks

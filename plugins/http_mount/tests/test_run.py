"""``mcp.run(transport="http" | "sse")`` and several uvicorn workers, in real processes."""

from __future__ import annotations

import signal
import socket
import sys
import textwrap
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.abc import Process

from mcpkit import Client, MCPKit
from tests.servers import free_port

SERVER = """
import sys
from mcpkit import MCPKit

mcp = MCPKit("runner")

@mcp.tool
def add(a: int, b: int) -> int:
    return a + b

mcp.run(transport=sys.argv[1], host="127.0.0.1", port=int(sys.argv[2]))
"""

WORKERS_APP = """
import os
from mcpkit import MCPKit

mcp = MCPKit("workers")

@mcp.tool
def pid() -> int:
    return os.getpid()

app = mcp.http_app(stateless=True)
"""


def worker_pids(parent: int) -> set[int]:
    """The uvicorn worker processes of ``parent`` (not multiprocessing's resource tracker)."""
    children = map(int, Path(f"/proc/{parent}/task/{parent}/children").read_text().split())
    return {pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()}


@asynccontextmanager
async def process(command: Sequence[str], port: int, cwd: Path) -> AsyncIterator[Process]:
    """Run ``command`` (its output into ``cwd/log.txt``) until it listens on ``port``; stop it with
    SIGTERM when the block ends."""
    with (cwd / "log.txt").open("w") as log:
        proc = await anyio.open_process(command, cwd=cwd, stdout=log, stderr=log)
    try:
        with anyio.fail_after(30):
            while True:
                if proc.returncode is not None:
                    raise RuntimeError(f"server exited early: {(cwd / 'log.txt').read_text()}")
                try:
                    await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                    break
                except OSError:
                    await anyio.sleep(0.05)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        with anyio.move_on_after(20, shield=True) as waiting:
            await proc.wait()
        if waiting.cancelled_caught:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize(("transport", "path"), [("http", "/mcp"), ("sse", "/sse")])
async def test_run_serves_with_uvicorn(tmp_path, transport, path):
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(SERVER))
    port = free_port()
    async with process([sys.executable, str(script), transport, str(port)], port, tmp_path):
        for mode in ("legacy", "auto"):
            async with Client(f"http://127.0.0.1:{port}{path}", transport=transport, mode=mode) as client:
                assert (await client.call_tool("add", {"a": 20, "b": 22})).data == 42
    log = (tmp_path / "log.txt").read_text()
    assert f"Uvicorn running on http://127.0.0.1:{port}" in log
    assert "Application shutdown complete" in log


async def test_run_async_stops_gracefully_when_cancelled():
    events: list[str] = []
    started = anyio.Event()

    @asynccontextmanager
    async def lifespan(_: MCPKit) -> AsyncIterator[None]:
        events.append("start")
        started.set()
        yield
        events.append("stop")

    mcp = MCPKit("cancellable", lifespan=lifespan)

    @mcp.tool
    def ping() -> str:
        return "pong"

    port = free_port()
    async with anyio.create_task_group() as tasks:
        options = {"port": port, "log_level": "warning", "uvicorn_config": {"server_header": False}}
        tasks.start_soon(lambda: mcp.run_async(transport="http", **options))
        with anyio.fail_after(10):
            await started.wait()
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            assert (await client.call_tool("ping")).data == "pong"
        async with httpx.AsyncClient() as http:
            assert "server" not in (await http.get(f"http://127.0.0.1:{port}/mcp")).headers
        tasks.cancel_scope.cancel()
    assert events == ["start", "stop"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # released


async def test_stateless_app_behind_two_uvicorn_workers(tmp_path):
    (tmp_path / "workers_app.py").write_text(textwrap.dedent(WORKERS_APP))
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "workers_app:app", "--workers", "2"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    async with process(command, port, tmp_path) as proc:
        answered_by = set()
        for call in range(24):  # each client opens new connections, which either worker may accept
            mode = ("legacy", "auto")[call % 2]
            async with Client(f"http://127.0.0.1:{port}/mcp", mode=mode) as client:
                assert [tool.name for tool in await client.list_tools()] == ["pid"]
                answered_by.add((await client.call_tool("pid")).data)
        workers = worker_pids(proc.pid)
    assert len(workers) == 2
    assert answered_by <= workers

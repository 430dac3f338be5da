"""Servers for tests: free ports on 127.0.0.1, uvicorn in the test's event loop, example processes.

Every server binds 127.0.0.1 only and stops when its block ends.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import uvicorn

from mcpkit import Client, MCPKit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(build: Callable[[str], Any], **config: Any) -> AsyncIterator[str]:
    """``async with serving(lambda url: app) as url``: uvicorn serves the app ``build`` makes for its
    own base URL (a free port on 127.0.0.1) in this event loop, lifespan included, until the block ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(build(url), log_level="warning", lifespan="on", timeout_graceful_shutdown=5, **config)
    )
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve([sock])
        finally:
            sock.close()
            stopped.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(run)
        with anyio.fail_after(10):
            while not server.started:
                if stopped.is_set():
                    raise RuntimeError("uvicorn did not start")
                await anyio.sleep(0.01)
        try:
            yield url
        finally:
            server.should_exit = True


@asynccontextmanager
async def over_http(mcp: MCPKit) -> AsyncIterator[str]:
    """``mcp`` served by ``mcp.run_async(transport="http")`` on 127.0.0.1 while the block runs; the URL
    of its MCP endpoint, once it answers."""
    port = free_port()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(
            lambda: mcp.run_async(transport="http", host="127.0.0.1", port=port, log_level="warning")
        )
        url = f"http://127.0.0.1:{port}/mcp"
        with anyio.fail_after(10):
            while True:
                try:
                    async with Client(url) as client:
                        await client.list_tools()
                    break
                except Exception:
                    await anyio.sleep(0.05)
        yield url
        tasks.cancel_scope.cancel()


@contextmanager
def example_process(arguments: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """``python <arguments>`` run from the repository root until it listens on ``port``; the URL of
    its MCP endpoint. Stopped (SIGTERM) when the block ends."""
    environment = env or {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen([sys.executable, *arguments], cwd=ROOT, env=environment)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the example exited with {process.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the example did not start listening"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)

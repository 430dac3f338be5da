"""Fixtures for the HTTP plugin's tests: a clean plugin host, a demo server, real uvicorn servers."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import pytest
import uvicorn
from mcp.server.auth.provider import AccessToken

from mcpkit import MCPKit
from mcpkit.context import forwarded_headers
from mcpkit.plugins import reset_plugin_host

Serve = Callable[..., AbstractAsyncContextManager[str]]


@pytest.fixture(autouse=True)
def _fresh_plugin_host() -> Iterator[None]:
    reset_plugin_host()
    yield
    reset_plugin_host()


def demo_server(**options: Any) -> MCPKit:
    """A server with an ``add`` tool and an ``echo_headers`` tool returning the forwarded headers."""
    mcp = MCPKit("demo", **options)

    @mcp.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.tool
    def echo_headers() -> dict[str, str]:
        """The incoming headers this server forwards to APIs."""
        return forwarded_headers()

    return mcp


@pytest.fixture
def make_server() -> Callable[..., MCPKit]:
    return demo_server


@pytest.fixture
def server() -> MCPKit:
    return demo_server()


@pytest.fixture
def serve() -> Serve:
    """``async with serve(app) as url``: uvicorn serves ``app`` on 127.0.0.1 (a free port) in this
    event loop, lifespan included, and stops when the block ends."""

    @asynccontextmanager
    async def serving(app: Any, **config: Any) -> AsyncIterator[str]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=5, **config)
        )
        stopped = anyio.Event()

        async def run() -> None:
            try:
                await server.serve([sock])
            finally:
                sock.close()
                stopped.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            with anyio.fail_after(10):
                while not server.started:
                    if stopped.is_set():
                        raise RuntimeError("uvicorn did not start")
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                server.should_exit = True

    return serving


class StaticTokens:
    """A token verifier (the SDK's ``TokenVerifier`` protocol) with a fixed table of tokens."""

    def __init__(self, scopes_by_token: dict[str, list[str]]) -> None:
        self.scopes_by_token = scopes_by_token

    async def verify_token(self, token: str) -> AccessToken | None:
        scopes = self.scopes_by_token.get(token)
        return None if scopes is None else AccessToken(token=token, client_id="tester", scopes=scopes)


@pytest.fixture
def tokens() -> StaticTokens:
    return StaticTokens({"good": ["mcp:use"], "limited": []})

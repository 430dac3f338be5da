"""Fixtures for the HTTP plugin's tests: a clean plugin host, a demo server, real uvicorn servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from mcp.server.auth.provider import AccessToken

from mcpkit import MCPKit
from mcpkit.context import forwarded_headers
from mcpkit.plugins import reset_plugin_host
from tests.servers import serving

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

    def serving_app(app: Any, **config: Any) -> AbstractAsyncContextManager[str]:
        return serving(lambda url: app, **config)

    return serving_app


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

"""Fixtures for the OpenAPI plugin's tests: a fresh plugin host, and a recording upstream API."""

from __future__ import annotations

import inspect
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response

from mcpkit.plugins import reset_plugin_host


@pytest.fixture(autouse=True)
def _fresh_plugin_host() -> Iterator[None]:
    reset_plugin_host()
    yield
    reset_plugin_host()


@dataclass
class Recorded:
    """What really arrived at the upstream: method, raw path, raw query, headers and body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Request], Response | Awaitable[Response]]


@dataclass
class Upstream:
    """An ASGI app that records every request and answers with ``respond`` (JSON echo by default)."""

    requests: list[Recorded] = field(default_factory=list)
    respond: Responder | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.requests.append(
            Recorded(
                method=request.method,
                path=scope["raw_path"].decode(),
                query=scope["query_string"].decode(),
                headers=dict(request.headers),
                body=body,
            )
        )
        response = (
            self.respond(request) if self.respond else Response(b'{"ok":true}', media_type="application/json")
        )
        if inspect.isawaitable(response):
            response = await response
        await response(scope, receive, send)

    @property
    def last(self) -> Recorded:
        assert self.requests, "no request reached the upstream"
        return self.requests[-1]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self), base_url="http://upstream.test/api")


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def other_upstream() -> Upstream:
    """A second upstream, for requests that must go elsewhere."""
    return Upstream()


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], int]]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (a free port) for the test; returns the port."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        servers.append((server, thread))
        return port

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)

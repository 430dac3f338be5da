"""The gateway: three sources behind one MCP endpoint that lists only ``search_tools`` and ``call_tool``.

- ``shop_*``: the example shop, ``MCPKit.from_fastapi`` of its FastAPI app (called in-process);
- ``museum_*``: the Redocly Museum API, ``MCPKit.from_openapi`` of the corpus document, with
  HTTP basic credentials for the vendor's server;
- ``notes_*``: a notebook MCP server elsewhere on the network, ``MCPKit.as_proxy`` of its URL (its
  logs, progress and questions reach the gateway's clients).

:func:`running` starts the two servers the gateway stands in front of (the museum's stand-in API and
the notebook, each served by uvicorn on a free loopback port), then the gateway itself.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn

from examples.ecommerce.server import create_server as create_shop
from examples.gateway import museum, notes
from mcpkit import MCPKit

MUSEUM_USER_ENV = "MUSEUM_USER"
MUSEUM_PASSWORD_ENV = "MUSEUM_PASSWORD"
INSTRUCTIONS = (
    "One endpoint for a shop, a museum and a notebook. Find the tool for a task with search_tools "
    "(tools are named shop_..., museum_... and notes_...), then call it with call_tool."
)


def create_gateway(museum_url: str, notes_url: str, *, username: str, password: str) -> MCPKit:
    """The gateway in front of the museum's API at ``museum_url`` (with these basic credentials), the
    notebook MCP server at ``notes_url`` and the example shop."""
    gateway = MCPKit("gateway", instructions=INSTRUCTIONS, discovery="search")
    gateway.mount(create_shop(), prefix="shop")
    gateway.mount(museum.create_server(museum_url, username, password), prefix="museum")
    gateway.mount(MCPKit.as_proxy(notes_url, name="notes"), prefix="notes")
    return gateway


@dataclass(frozen=True)
class Running:
    """Where the running gateway and the servers behind it answer."""

    url: str
    """The gateway's MCP endpoint."""
    museum_url: str
    notes_url: str


@asynccontextmanager
async def running(host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Running]:
    """Serve the museum's stand-in API and the notebook on free loopback ports, and the gateway at
    ``host:port`` (0: a free port), until the block ends."""
    username = os.environ.get(MUSEUM_USER_ENV, "curator")
    password = os.environ.get(MUSEUM_PASSWORD_ENV, "demo-password")
    async with (
        served(museum.create_upstream(username, password)) as museum_url,
        served(notes.create_server().http_app()) as notes_base,
    ):
        notes_url = f"{notes_base}/mcp"
        gateway = create_gateway(museum_url, notes_url, username=username, password=password)
        async with served(gateway.http_app(), host, port) as gateway_base:
            yield Running(f"{gateway_base}/mcp", museum_url, notes_url)


@asynccontextmanager
async def served(app: Any, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """``app`` served by uvicorn in this event loop (its lifespan run) until the block ends; yields
    its base URL."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    server = _Server(config)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve, [sock])
        for _ in range(1000):  # 10 s at most
            if server.started:
                break
            await anyio.sleep(0.01)
        else:
            raise RuntimeError(f"could not serve on {host}:{port}")
        try:
            bound_host, bound_port = sock.getsockname()[:2]
            yield f"http://{bound_host if ':' not in bound_host else f'[{bound_host}]'}:{bound_port}"
        finally:
            server.should_exit = True
    sock.close()


class _Server(uvicorn.Server):
    """uvicorn leaving the process's signals alone (several serve in one loop; the caller stops them)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

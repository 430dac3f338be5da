"""pytest fixtures for plugin authors (and anyone testing a server built with mcpkit).

They are not loaded automatically; enable them in your top-level ``conftest.py``::

    pytest_plugins = ["mcpkit.testing"]

- ``mcpkit_plugins``: ``mcpkit_plugins()`` loads the plugins again from the current environment
  (after ``monkeypatch.setenv("MCPKIT_...", ...)``) and returns the plugin host; every test starts
  and ends with a fresh host.
- ``mcpkit_server``: ``mcpkit_server(spec, app=..., **options)`` builds a server from an OpenAPI
  document with ``MCPKit.from_openapi``; ``app`` (an ASGI app) answers its requests in-process.
- ``mcpkit_client``: ``async with mcpkit_client(server) as client`` connects in memory; a test using
  it runs once per protocol era (``legacy``, the initialize handshake, and ``auto``, the sessionless
  protocol).

The fixtures are plain functions, so they work with any async test runner (anyio's pytest plugin,
pytest-asyncio).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mcpkit.client import Client
from mcpkit.plugins import PluginHost, get_plugin_host, reset_plugin_host
from mcpkit.server import MCPKit

PROTOCOL_MODES = ("legacy", "auto")
"""The protocol eras ``mcpkit_client`` connects with, one test run each."""

APP_BASE_URL = "http://testserver"
"""The base URL of requests that ``mcpkit_server(..., app=...)`` sends to the app."""

LoadPlugins = Callable[[], PluginHost]
ServerFactory = Callable[..., MCPKit]
ClientFactory = Callable[..., Client]


@pytest.fixture
def mcpkit_plugins() -> Iterator[LoadPlugins]:
    """``mcpkit_plugins()``: forget the process-wide plugin host and load the plugins again from the
    current environment (``MCPKIT_DISABLE_PLUGINS``, ``MCPKIT_LOAD_PLUGINS``, ...); returns the host.

    The host is forgotten before and after the test, so no test sees the plugins of another.
    """

    def load() -> PluginHost:
        reset_plugin_host()
        return get_plugin_host()

    reset_plugin_host()
    yield load
    reset_plugin_host()


@pytest.fixture
def mcpkit_server(mcpkit_plugins: LoadPlugins) -> ServerFactory:
    """``mcpkit_server(spec, app=None, **options)``: ``MCPKit.from_openapi(spec, **options)``.

    ``spec`` is a document (mapping, path, URL or text). With ``app`` (a FastAPI, Starlette or any
    ASGI app) every request goes to the app in-process, at :data:`APP_BASE_URL` (the app's lifespan
    is not run); without it, ``client=``, ``server_url=`` or the document's servers say where.
    ``options`` are those of ``from_openapi``: ``route_mappers=[...]``, ``name_strategy=...``, ...
    Needs ``mcpkit[openapi]``.
    """

    def build(spec: Any, *, app: Any = None, **options: Any) -> MCPKit:
        if app is not None:
            import httpx

            transport = httpx.ASGITransport(app=app)
            options["client"] = httpx.AsyncClient(transport=transport, base_url=APP_BASE_URL)
        return MCPKit.from_openapi(spec, **options)

    return build


@pytest.fixture(params=PROTOCOL_MODES)
def mcpkit_client(request: pytest.FixtureRequest) -> ClientFactory:
    """``mcpkit_client(server, **kwargs)``: an in-memory :class:`~mcpkit.Client` of ``server``, to use
    as ``async with mcpkit_client(server) as client``. ``kwargs`` go to ``Client`` (``raise_on_error``,
    ``timeout``). The test runs once per protocol era (:data:`PROTOCOL_MODES`).
    """
    mode: str = request.param

    def connect(server: MCPKit, **kwargs: Any) -> Client:
        return Client(server, mode=mode, **kwargs)

    return connect

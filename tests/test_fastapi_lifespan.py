"""The app's own lifespan runs while the MCP server runs, and its state reaches the app's requests."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from fastapi import FastAPI, Request

from mcpkit import Client, MCPKit
from mcpkit.context import current_request
from mcpkit_fastapi.inprocess import AppLifespanError

MODES = ["auto", "legacy"]


def counting_app(events: list[str]) -> FastAPI:
    """An app whose lifespan numbers its runs and records startup and shutdown."""
    runs = itertools.count(1)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        run = next(runs)
        events.append(f"app start {run}")
        yield {"run": run, "visits": []}
        events.append(f"app stop {run}")

    app = FastAPI(lifespan=lifespan)

    @app.get("/run")
    async def which_run(request: Request) -> dict[str, Any]:
        request.state.visits.append("seen")
        request.state.private = "per request"  # the copy of the state is the request's own
        return {"run": request.state.run, "visits": len(request.state.visits)}

    @app.get("/private")
    async def private(request: Request) -> bool:
        return hasattr(request.state, "private")

    return app


@pytest.mark.parametrize("mode", MODES)
async def test_the_apps_lifespan_runs_around_each_server_run_and_its_state_reaches_requests(mode):
    events: list[str] = []
    mcp = MCPKit.from_fastapi(app=counting_app(events))
    assert events == []
    async with Client(mcp, mode=mode) as client:
        assert events == ["app start 1"]
        assert (await client.call_tool("which_run_run_get")).data == {"run": 1, "visits": 1}
        assert (await client.call_tool("which_run_run_get")).data == {"run": 1, "visits": 2}
        assert (await client.call_tool("private_private_get")).data is False
    assert events == ["app start 1", "app stop 1"]
    async with Client(mcp, mode=mode) as client:
        assert (await client.call_tool("which_run_run_get")).data == {"run": 2, "visits": 1}
    assert events == ["app start 1", "app stop 1", "app start 2", "app stop 2"]


async def test_concurrent_server_runs_each_have_their_own_app_state():
    events: list[str] = []
    mcp = MCPKit.from_fastapi(app=counting_app(events))
    async with Client(mcp) as first, Client(mcp, mode="legacy") as second:
        assert (await first.call_tool("which_run_run_get")).data["run"] == 1
        assert (await second.call_tool("which_run_run_get")).data["run"] == 2
        assert (await first.call_tool("which_run_run_get")).data == {"run": 1, "visits": 2}
    assert events == ["app start 1", "app start 2", "app stop 2", "app stop 1"]


async def test_startup_and_shutdown_handlers_of_the_app_run_too():
    app = FastAPI()
    events: list[str] = []
    app.router.on_startup.append(lambda: events.append("startup"))
    app.router.on_shutdown.append(lambda: events.append("shutdown"))

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    async with Client(MCPKit.from_fastapi(app=app)) as client:
        assert events == ["startup"]
        assert (await client.call_tool("ping_ping_get")).data == "pong"
    assert events == ["startup", "shutdown"]


async def test_the_servers_own_lifespan_runs_inside_the_apps_and_shares_the_server_state():
    events: list[str] = []

    @asynccontextmanager
    async def server_lifespan(server: MCPKit) -> AsyncIterator[dict[str, str]]:
        events.append("server start")
        yield {"greeting": "hello"}
        events.append("server stop")

    mcp = MCPKit.from_fastapi(app=counting_app(events), lifespan=server_lifespan)

    @mcp.tool
    def server_state() -> dict[str, Any]:
        request = current_request()
        assert request is not None
        return {key: request.sdk.lifespan_context[key] for key in ("run", "greeting")}

    async with Client(mcp) as client:
        assert (await client.call_tool("server_state")).data == {"run": 1, "greeting": "hello"}
        assert (await client.call_tool("which_run_run_get")).data == {"run": 1, "visits": 1}
    assert events == ["app start 1", "server start", "server stop", "app stop 1"]


@pytest.mark.parametrize(
    ("state", "error", "message"),
    [
        ({"run": 0}, ValueError, "state keys the app's lifespan yields too: run"),
        (["not", "a", "mapping"], TypeError, "must yield a mapping or None, not list"),
    ],
)
async def test_a_server_lifespan_whose_state_cannot_merge_is_refused(state, error, message):
    events: list[str] = []

    @asynccontextmanager
    async def server_lifespan(server: MCPKit) -> AsyncIterator[Any]:
        yield state

    mcp = MCPKit.from_fastapi(app=counting_app(events), lifespan=server_lifespan)
    with pytest.raises(error, match=message):
        async with mcp.lowlevel_server.lifespan(mcp.lowlevel_server):
            pass
    assert events == ["app start 1", "app stop 1"]  # the app was shut down all the same


async def test_a_failing_startup_is_an_error_and_a_failing_shutdown_too():
    stage = {"fail": "startup"}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if stage["fail"] == "startup":
            raise ConnectionError("database unreachable")
        yield
        if stage["fail"] == "shutdown":
            raise ConnectionError("flush failed")

    mcp = MCPKit.from_fastapi(app=FastAPI(lifespan=lifespan))
    run = mcp.lowlevel_server.lifespan
    with pytest.raises(AppLifespanError, match="failed to start: ConnectionError: database unreachable"):
        async with run(mcp.lowlevel_server):
            pytest.fail("the server must not run when the app did not start")
    stage["fail"] = "shutdown"
    with pytest.raises(AppLifespanError, match="failed to shut down: ConnectionError: flush failed"):
        async with run(mcp.lowlevel_server):
            pass


async def test_an_error_of_the_server_run_passes_through_unchanged_and_the_app_shuts_down():
    events: list[str] = []
    mcp = MCPKit.from_fastapi(app=counting_app(events))
    with pytest.raises(KeyError, match="boom"):
        async with mcp.lowlevel_server.lifespan(mcp.lowlevel_server):
            raise KeyError("boom")
    assert events == ["app start 1", "app stop 1"]


async def test_a_cancelled_server_run_still_shuts_the_app_down():
    events: list[str] = []
    mcp = MCPKit.from_fastapi(app=counting_app(events))
    with anyio.move_on_after(0.05):
        async with mcp.lowlevel_server.lifespan(mcp.lowlevel_server):
            await anyio.sleep_forever()
    assert events == ["app start 1", "app stop 1"]


async def test_an_app_without_the_lifespan_protocol_is_served_without_one(caplog):
    fastapi_app = FastAPI()

    @fastapi_app.get("/ping")
    async def ping() -> str:
        return "pong"

    class HTTPOnly:
        """An ASGI app that ignores lifespan messages, as some plain ASGI apps do."""

        def openapi(self) -> dict[str, Any]:
            return fastapi_app.openapi()

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                await fastapi_app(scope, receive, send)

    caplog.set_level(logging.INFO, "mcpkit_fastapi")
    async with Client(MCPKit.from_fastapi(app=HTTPOnly())) as client:
        assert (await client.call_tool("ping_ping_get")).data == "pong"
    assert "does not support the ASGI lifespan protocol" in caplog.text


async def test_a_direct_call_outside_a_server_run_reaches_the_app_without_lifespan_state():
    app = FastAPI()

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        return dict(request.state._state)

    mcp = MCPKit.from_fastapi(app=app)
    result = await mcp.call_tool("state_state_get", {})
    assert not result.is_error
    assert result.structured_content == {}

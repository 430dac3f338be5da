"""Mounting patterns, each served by a real uvicorn and called by the SDK's client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from mcpkit import Client, MCPKit
from mcpkit_http import MCPApp, combine_lifespans
from plugins.http_mount.tests.raw import INITIALIZE, POST_HEADERS

PATHS = {"http": "/mcp", "sse": "/sse"}
ERAS = [("http", "legacy"), ("http", "auto"), ("sse", "legacy"), ("sse", "auto")]
VERSIONS = {"legacy": "2025-11-25", "auto": "2026-07-28"}


async def check_calls(url: str, transport: str, mode: str) -> None:
    async with Client(url, transport=transport, mode=mode) as client:  # type: ignore[arg-type]
        assert client.protocol_version == VERSIONS[mode]
        assert [tool.name for tool in await client.list_tools()] == ["add", "echo_headers"]
        assert (await client.call_tool("add", {"a": 2, "b": 3})).data == 5


def with_health(app: FastAPI) -> FastAPI:
    @app.get("/health")
    def health(request: Request) -> dict[str, object]:
        return {"ok": True, "db": getattr(request.state, "db", None)}

    return app


@pytest.mark.parametrize(("transport", "mode"), ERAS)
async def test_mounted_under_a_prefix(serve, server, transport, mode):
    mcp_app = server.http_app(path=PATHS[transport], transport=transport)
    assert isinstance(mcp_app, MCPApp)
    api = with_health(FastAPI(lifespan=mcp_app.lifespan))
    api.mount("/analytics", mcp_app)
    async with serve(api) as url:
        await check_calls(f"{url}/analytics{PATHS[transport]}", transport, mode)
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/health")).json()["ok"] is True


async def test_post_to_the_mounted_path_is_not_redirected(serve, server):
    mcp_app = server.http_app(json_response=True)
    api = FastAPI(lifespan=mcp_app.lifespan)
    api.mount("/analytics", mcp_app)
    async with serve(api) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/analytics/mcp", json=INITIALIZE, headers=POST_HEADERS)
        assert response.status_code == 200, response.text
        assert response.json()["result"]["serverInfo"]["name"] == "demo"
        assert response.headers["mcp-session-id"]


@pytest.mark.parametrize(("transport", "mode"), ERAS)
async def test_routes_merged_into_one_app(serve, server, transport, mode):
    mcp_app = server.http_app(path=PATHS[transport], transport=transport)
    api = with_health(FastAPI())
    combined = FastAPI(routes=[*mcp_app.routes, *api.routes], lifespan=mcp_app.lifespan)
    async with serve(combined) as url:
        await check_calls(f"{url}{PATHS[transport]}", transport, mode)
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/health")).json()["ok"] is True


async def test_combined_lifespans_run_in_order_and_keep_state(serve, make_server):
    events: list[str] = []

    @asynccontextmanager
    async def mcp_lifespan(_: MCPKit) -> AsyncIterator[None]:
        events.append("mcp server start")
        yield
        events.append("mcp server stop")

    @asynccontextmanager
    async def api_lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("api start")
        yield {"db": "connected"}
        events.append("api stop")

    mcp_app = make_server(lifespan=mcp_lifespan).http_app()
    api = with_health(FastAPI(lifespan=combine_lifespans(api_lifespan, mcp_app.lifespan)))
    api.mount("/analytics", mcp_app)
    async with serve(api) as url:
        await check_calls(f"{url}/analytics/mcp", "http", "auto")
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/health")).json() == {"ok": True, "db": "connected"}
    assert events == ["api start", "mcp server start", "mcp server stop", "api stop"]


async def test_combining_with_an_existing_apps_lifespan(serve, server):
    started: list[str] = []

    @asynccontextmanager
    async def api_lifespan(app: FastAPI) -> AsyncIterator[None]:
        started.append("api")
        yield

    mcp_app = server.http_app()
    api = FastAPI(lifespan=api_lifespan)
    api.router.lifespan_context = combine_lifespans(api.router.lifespan_context, mcp_app.lifespan)
    api.mount("/analytics", mcp_app)
    async with serve(api) as url:
        await check_calls(f"{url}/analytics/mcp", "http", "legacy")
    assert started == ["api"]


async def test_a_host_lifespan_that_drops_the_mcp_state_still_works(serve, server):
    mcp_app = server.http_app()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp_app.lifespan(app):
            yield

    async with serve(Starlette(routes=[Mount("/analytics", mcp_app)], lifespan=lifespan)) as url:
        await check_calls(f"{url}/analytics/mcp", "http", "auto")


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_the_same_app_served_again_and_twice_at_once(serve, server, transport):
    mcp_app = server.http_app(path=PATHS[transport], transport=transport)
    api = FastAPI(lifespan=mcp_app.lifespan)
    api.mount("/analytics", mcp_app)
    for _ in range(2):
        async with serve(api) as url:
            await check_calls(f"{url}/analytics{PATHS[transport]}", transport, "legacy")
    async with serve(api) as first, serve(api) as second:
        await check_calls(f"{first}/analytics{PATHS[transport]}", transport, "legacy")
        await check_calls(f"{second}/analytics{PATHS[transport]}", transport, "auto")


def test_the_same_app_in_two_test_clients(server):
    mcp_app = server.http_app(json_response=True)
    api = FastAPI(lifespan=mcp_app.lifespan)
    api.mount("/analytics", mcp_app)
    with (
        TestClient(api, base_url="http://localhost") as first,
        TestClient(api, base_url="http://localhost") as second,
    ):
        for client in (first, second, first):
            response = client.post("/analytics/mcp", json=INITIALIZE, headers=POST_HEADERS)
            assert response.status_code == 200, response.text
    with TestClient(api, base_url="http://localhost") as again:
        assert again.post("/analytics/mcp", json=INITIALIZE, headers=POST_HEADERS).status_code == 200


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_forgetting_the_lifespan_explains_the_fix(serve, server, caplog, mode):
    api = FastAPI()
    api.mount("/analytics", server.http_app())
    async with serve(api) as url:
        assert "lifespan=mcp_app.lifespan" in str(await connection_error(f"{url}/analytics/mcp", mode))
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.post("/analytics/mcp", json=INITIALIZE, headers=POST_HEADERS)
    assert response.status_code == 500
    assert "pass it to the app that serves it" in response.json()["error"]["message"].lower()
    assert "FastAPI(lifespan=mcp_app.lifespan)" in response.json()["error"]["message"]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.name.startswith("mcpkit_http")]
    assert logged
    assert "lifespan=mcp_app.lifespan" in logged[0].getMessage()


async def test_forgetting_the_lifespan_of_an_sse_app(serve, server, caplog):
    api = FastAPI()
    api.mount("/analytics", server.http_app(path="/sse", transport="sse"))
    async with serve(api) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/analytics/sse")
    assert response.status_code == 500
    assert "lifespan=mcp_app.lifespan" in response.json()["error"]["message"]
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.name.startswith("mcpkit_http")]
    assert logged
    assert "lifespan=mcp_app.lifespan" in logged[0].getMessage()


async def connection_error(url: str, mode: str) -> MCPError:
    """The protocol error the SDK client raises (inside exception groups) when connecting to ``url``."""
    try:
        with anyio.fail_after(10):
            async with Client(url, mode=mode):
                pass
    except Exception as error:
        found = [leaf for leaf in _leaves(error) if isinstance(leaf, MCPError)]
        if not found:
            raise
        return found[0]
    raise AssertionError("the client connected")


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]

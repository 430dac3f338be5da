"""Header forwarding over real HTTP: nothing by default, only configured headers, no leaked credentials."""

from __future__ import annotations

import pytest

from mcpkit import Client

SENT = {"authorization": "Bearer good", "x-user-token": "user-42", "x-trace": "t-1"}


async def forwarded(url: str, transport: str = "http", mode: str = "auto") -> dict[str, str]:
    async with Client(url, transport=transport, mode=mode, headers=SENT) as client:  # type: ignore[arg-type]
        data: dict[str, str] = (await client.call_tool("echo_headers")).data
        return data


@pytest.mark.parametrize(("transport", "path"), [("http", "/mcp"), ("sse", "/sse")])
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_nothing_is_forwarded_by_default(serve, make_server, transport, path, mode):
    async with serve(make_server().http_app(path=path, transport=transport)) as url:
        assert await forwarded(f"{url}{path}", transport, mode) == {}


@pytest.mark.parametrize(("transport", "path"), [("http", "/mcp"), ("sse", "/sse")])
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_only_configured_headers_are_forwarded(serve, make_server, transport, path, mode):
    mcp = make_server(forward_headers=["X-User-Token"])
    async with serve(mcp.http_app(path=path, transport=transport)) as url:
        assert await forwarded(f"{url}{path}", transport, mode) == {"x-user-token": "user-42"}


async def test_forwarded_headers_from_the_environment(serve, make_server, monkeypatch):
    monkeypatch.setenv("MCPKIT_FORWARD_HEADERS", "x-trace, x-user-token")
    async with serve(make_server().http_app()) as url:
        assert await forwarded(f"{url}/mcp") == {"x-user-token": "user-42", "x-trace": "t-1"}


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_mcp_clients_credentials_do_not_reach_the_api(serve, make_server, tokens, mode):
    mcp = make_server(forward_headers=["x-user-token"])
    async with serve(mcp.http_app(token_verifier=tokens)) as url:
        assert await forwarded(f"{url}/mcp", mode=mode) == {"x-user-token": "user-42"}


async def test_authorization_is_forwarded_only_when_named(serve, make_server, tokens):
    mcp = make_server(forward_headers=["authorization"])
    async with serve(mcp.http_app(token_verifier=tokens)) as url:
        assert await forwarded(f"{url}/mcp") == {"authorization": "Bearer good"}

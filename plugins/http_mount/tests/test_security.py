"""Host/Origin validation against DNS rebinding, and bearer-token auth, over real HTTP."""

from __future__ import annotations

import logging

import httpx
import pytest

from mcpkit import Client
from plugins.http_mount.tests.raw import POST_HEADERS

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
MODERN = {"mcp-protocol-version": "2026-07-28"}


async def post(url: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(url, json=PING, headers={**POST_HEADERS, **headers})


@pytest.mark.parametrize("era", [{}, MODERN], ids=["legacy", "2026"])
async def test_loopback_default_refuses_foreign_host_and_origin(serve, server, era):
    async with serve(server.http_app()) as url:
        assert (await post(f"{url}/mcp", host="evil.example", **era)).status_code == 421
        assert (await post(f"{url}/mcp", origin="http://evil.example", **era)).status_code == 403
        assert (await post(f"{url}/mcp", origin="http://localhost:3000", **era)).status_code != 403
        async with Client(f"{url}/mcp", headers={"origin": "http://127.0.0.1:6274"}) as client:
            assert (await client.call_tool("add", {"a": 1, "b": 1})).data == 2


async def test_sse_refuses_foreign_host(serve, server):
    async with serve(server.http_app(path="/sse", transport="sse")) as url, httpx.AsyncClient() as http:
        assert (await http.get(f"{url}/sse", headers={"host": "evil.example"})).status_code == 421
        assert (await http.get(f"{url}/sse", headers={"origin": "http://evil.example"})).status_code == 403
        message = await http.post(
            f"{url}/messages/?session_id=0", json=PING, headers={"host": "evil.example"}
        )
        assert message.status_code == 421


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_allow_list_for_a_real_deployment(serve, server, mode):
    app = server.http_app(allowed_hosts=["mcp.example.com"], allowed_origins=["https://app.example.com"])
    async with serve(app) as url:
        headers = {"host": "mcp.example.com", "origin": "https://app.example.com"}
        async with Client(f"{url}/mcp", headers=headers, mode=mode) as client:
            assert (await client.call_tool("add", {"a": 1, "b": 2})).data == 3
        assert (await post(f"{url}/mcp")).status_code == 421  # Host 127.0.0.1 is not on the list
        refused = await post(f"{url}/mcp", host="mcp.example.com", origin="https://evil.example")
        assert refused.status_code == 403


async def test_allowed_origins_default_to_the_allowed_hosts(serve, server):
    async with serve(server.http_app(allowed_hosts=["mcp.example.com"])) as url:
        same_site = await post(f"{url}/mcp", host="mcp.example.com", origin="https://mcp.example.com")
        assert same_site.status_code != 403
        other = await post(f"{url}/mcp", host="mcp.example.com", origin="https://app.example.com")
        assert other.status_code == 403


async def test_protection_can_be_turned_off(serve, server):
    async with serve(server.http_app(dns_rebinding_protection=False)) as url:
        response = await post(f"{url}/mcp", host="evil.example", origin="http://evil.example")
        assert response.status_code not in (403, 421)


async def test_non_loopback_bind_without_allow_list_warns_and_does_not_check(serve, server, caplog):
    with caplog.at_level(logging.WARNING, logger="mcpkit_http"):
        app = server.http_app(host="0.0.0.0")  # what `mcp.run(transport="http", host="0.0.0.0")` builds
    assert "pass allowed_hosts=[...]" in caplog.text
    async with serve(app) as url:
        assert (await post(f"{url}/mcp", host="mcp.example.com")).status_code not in (403, 421)


@pytest.mark.parametrize(("transport", "path"), [("http", "/mcp"), ("sse", "/sse")])
@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_bearer_token_auth(serve, server, tokens, transport, path, mode):
    app = server.http_app(path=path, transport=transport, token_verifier=tokens, required_scopes=["mcp:use"])
    async with serve(app) as url:
        async with Client(
            f"{url}{path}", transport=transport, mode=mode, headers={"authorization": "Bearer good"}
        ) as client:
            assert (await client.call_tool("add", {"a": 2, "b": 2})).data == 4
        async with httpx.AsyncClient() as http:
            method = http.post if transport == "http" else http.get
            missing = await method(f"{url}{path}", headers=POST_HEADERS)
            assert missing.status_code == 401
            assert missing.headers["www-authenticate"].startswith("Bearer ")
            wrong = await method(f"{url}{path}", headers={**POST_HEADERS, "authorization": "Bearer nope"})
            assert wrong.status_code == 401
            limited = await method(
                f"{url}{path}", headers={**POST_HEADERS, "authorization": "Bearer limited"}
            )
            assert limited.status_code == 403
            assert limited.json()["error"] == "insufficient_scope"


async def test_bearer_auth_holds_when_routes_are_merged(serve, server, tokens):
    from fastapi import FastAPI

    mcp_app = server.http_app(token_verifier=tokens)
    combined = FastAPI(routes=list(mcp_app.routes), lifespan=mcp_app.lifespan)
    async with serve(combined) as url:
        assert (await post(f"{url}/mcp")).status_code == 401
        async with Client(f"{url}/mcp", headers={"authorization": "Bearer limited"}) as client:
            assert (await client.call_tool("add", {"a": 2, "b": 2})).data == 4

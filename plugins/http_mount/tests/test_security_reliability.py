"""Security gaps closed over real HTTP: expired bearer tokens (also mid-session), hostile Host and
Origin values, and the MCP client's Authorization never in logs nor in errors."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from mcp.server.auth.provider import AccessToken
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from mcpkit import Client, MCPKit
from plugins.http_mount.tests.raw import INITIALIZE, POST_HEADERS
from tests.reliability import record

PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


class ExpiringTokens:
    """A token verifier whose tokens carry an expiry that tests can move."""

    def __init__(self) -> None:
        self.expiry = {"fresh-token-1234": int(time.time()) + 3600, "stale-token-5678": int(time.time()) - 60}

    async def verify_token(self, token: str) -> AccessToken | None:
        if token not in self.expiry:
            return None
        return AccessToken(token=token, client_id="tester", scopes=[], expires_at=self.expiry[token])


@pytest.mark.parametrize(("transport", "path"), [("http", "/mcp"), ("sse", "/sse")])
async def test_an_expired_token_is_refused(serve, server, transport, path):
    app = server.http_app(path=path, transport=transport, token_verifier=ExpiringTokens())
    async with serve(app) as url:
        async with Client(
            f"{url}{path}", transport=transport, headers={"authorization": "Bearer fresh-token-1234"}
        ) as client:
            assert (await client.call_tool("add", {"a": 1, "b": 2})).data == 3
        async with httpx.AsyncClient() as http:
            method = http.post if transport == "http" else http.get
            expired = await method(
                f"{url}{path}", headers={**POST_HEADERS, "authorization": "Bearer stale-token-5678"}
            )
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith("Bearer ")
    record("security checks", f"expired bearer token refused ({transport})")


async def test_a_token_that_expires_mid_session_stops_the_session(serve, server):
    tokens = ExpiringTokens()
    async with serve(server.http_app(token_verifier=tokens)) as url, httpx.AsyncClient() as http:
        headers = {**POST_HEADERS, "authorization": "Bearer fresh-token-1234"}
        opened = await http.post(f"{url}/mcp", json=INITIALIZE, headers=headers)
        assert opened.status_code == 200
        session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        assert (await http.post(f"{url}/mcp", json=PING, headers={**headers, **session})).status_code == 200
        tokens.expiry["fresh-token-1234"] = int(time.time()) - 1
        assert (await http.post(f"{url}/mcp", json=PING, headers={**headers, **session})).status_code == 401
    record("security checks", "token expired mid-session refused")


HOSTILE_HOSTS = [
    "evil.example",
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "evil.example:8000",
    "127.0.0.2",
]
HOSTILE_ORIGINS = [
    "null",
    "http://evil.example",
    "http://localhost.evil.example",
    "http://127.0.0.1.evil.example",
    "file://",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
async def test_hostile_host_headers_are_refused(serve, server, host):
    async with serve(server.http_app()) as url, httpx.AsyncClient() as http:
        response = await http.post(f"{url}/mcp", json=PING, headers={**POST_HEADERS, "host": host})
    assert response.status_code == 421
    record("security checks", "DNS-rebinding Host refused")


@pytest.mark.parametrize("origin", HOSTILE_ORIGINS)
async def test_hostile_origins_are_refused(serve, server, origin):
    async with serve(server.http_app()) as url, httpx.AsyncClient() as http:
        response = await http.post(f"{url}/mcp", json=PING, headers={**POST_HEADERS, "origin": origin})
    assert response.status_code == 403
    record("security checks", "DNS-rebinding Origin refused")


DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Echo", "version": "1"},
    "paths": {"/whoami": {"get": {"operationId": "whoami", "responses": {"200": {"description": "ok"}}}}},
}


async def echo_authorization(request: Request) -> PlainTextResponse:
    """An API that fails and echoes the credentials it got, as careless APIs do."""
    return PlainTextResponse(f"denied for {request.headers.get('authorization')}", status_code=403)


async def test_the_mcp_clients_authorization_is_never_logged_nor_echoed(serve, caplog):
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=[Route("/whoami", echo_authorization)])),
        base_url="http://api.test",
    )
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=api, forward_headers=["authorization"])
    app = mcp.http_app(token_verifier=ExpiringTokens())
    caplog.set_level(logging.DEBUG)
    async with serve(app) as url:
        for mode in ("legacy", "auto"):
            async with Client(
                f"{url}/mcp", mode=mode, headers={"authorization": "Bearer fresh-token-1234"}
            ) as client:
                result = await client.call_tool("whoami", raise_on_error=False)
            assert result.is_error
            assert result.text == "GET /whoami returned 403 Forbidden: denied for ***"
        async with httpx.AsyncClient() as http:
            for token in ("stale-token-5678", "wrong-token-9012", "fresh-token-1234"):
                await http.post(
                    f"{url}/mcp", json=PING, headers={**POST_HEADERS, "authorization": f"Bearer {token}"}
                )
    assert caplog.records  # the whole stack logged at DEBUG
    for token in ("fresh-token-1234", "stale-token-5678", "wrong-token-9012"):
        assert token not in caplog.text
    record("security checks", "MCP client's Authorization absent from DEBUG logs and masked in errors")


async def test_without_forward_headers_the_mcp_clients_authorization_never_reaches_the_api(serve):
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=Starlette(routes=[Route("/whoami", echo_authorization)])),
        base_url="http://api.test",
    )
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=api)  # forward_headers not given: nothing forwarded
    async with serve(mcp.http_app(token_verifier=ExpiringTokens())) as url:
        for mode in ("legacy", "auto"):
            async with Client(
                f"{url}/mcp", mode=mode, headers={"authorization": "Bearer fresh-token-1234"}
            ) as client:
                result = await client.call_tool("whoami", raise_on_error=False)
            assert result.text == "GET /whoami returned 403 Forbidden: denied for None"
    record("security checks", "MCP client's Authorization not sent to the API without forward_headers")

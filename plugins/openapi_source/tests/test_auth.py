"""Credentials from security schemes: each operation carries exactly its own, checked at a live upstream."""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcpkit import Client, MCPKit, Settings
from mcpkit_openapi import convert
from mcpkit_openapi.source import ConversionOptions

KEY, BEARER, PASSWORD, SECRET = (
    "key-0123456789",
    "bearer-0123456789",
    "pw-0123456789",
    "client-secret-0123456789",
)


def operation(operation_id: str, security: list[dict[str, list[str]]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": operation_id, "responses": {"200": {"description": "ok"}}}
    if security is not None:
        op["security"] = security
    return {"get": op}


DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Secured", "version": "1"},
    "security": [{"headerKey": []}],
    "paths": {
        "/public": operation("public", []),
        "/default": operation("default"),
        "/query": operation("query_key", [{"queryKey": []}]),
        "/cookie": operation("cookie_key", [{"cookieKey": []}]),
        "/bearer": operation("bearer", [{"bearerAuth": []}]),
        "/basic": operation("basic", [{"basicAuth": []}]),
        "/oauth": operation("oauth", [{"clientCredentials": ["read", "write"]}]),
        "/either": operation("either", [{"basicAuth": []}, {"bearerAuth": []}]),
        "/both": operation("both", [{"headerKey": [], "queryKey": []}]),
        "/optional": operation("optional", [{"missingScheme": []}, {}]),
        "/code": operation("needs_code", [{"authorizationCode": []}]),
        "/echo": operation("echo", [{"queryKey": []}]),
    },
    "components": {
        "securitySchemes": {
            "headerKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
            "cookieKey": {"type": "apiKey", "in": "cookie", "name": "session"},
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            "basicAuth": {"type": "http", "scheme": "basic"},
            "clientCredentials": {
                "type": "oauth2",
                "flows": {
                    "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {"read": "", "write": ""}}
                },
            },
            "authorizationCode": {
                "type": "oauth2",
                "flows": {
                    "authorizationCode": {
                        "authorizationUrl": "/authorize",
                        "tokenUrl": "/token",
                        "scopes": {},
                    }
                },
            },
        }
    },
}

AUTH = {
    "headerKey": KEY,
    "queryKey": KEY,
    "cookieKey": KEY,
    "bearerAuth": BEARER,
    "basicAuth": ("ada", PASSWORD),
    "clientCredentials": {"client_id": "app", "client_secret": SECRET, "scopes": ["read"]},
}


class TokenServer:
    """The upstream's token endpoint and API: hands out numbered tokens, can refuse them."""

    def __init__(self, *, basic: bool = True, expires_in: int = 3600) -> None:
        self.basic = basic
        self.expires_in = expires_in
        self.issued: list[dict[str, str]] = []
        self.revoked: set[str] = set()

    async def __call__(self, request: Request) -> Response:
        if request.url.path == "/oauth/token":
            form = dict(await request.form())
            expected = "Basic " + base64.b64encode(f"app:{SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected and not (
                form.get("client_id") == "app" and form.get("client_secret") == SECRET
            ):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if not self.basic and "client_secret" not in form:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            self.issued.append(form)
            return JSONResponse({"access_token": f"token-{len(self.issued)}", "expires_in": self.expires_in})
        if request.headers.get("authorization", "").removeprefix("Bearer ") in self.revoked:
            return JSONResponse({"detail": "token revoked"}, status_code=401)
        if request.url.path == "/echo":
            return JSONResponse({"detail": f"bad key {request.query_params.get('api_key')}"}, status_code=403)
        return JSONResponse({"ok": True})


@pytest.fixture
def tokens(upstream):
    server = TokenServer()
    upstream.respond = server  # the upstream records every request, then the token server answers
    return server


@pytest.fixture
def api(upstream, live_server, tokens):
    port = live_server(upstream)
    return f"http://127.0.0.1:{port}"


def secured(api: str, auth: dict[str, Any] | None = AUTH, **options: Any) -> MCPKit:
    return MCPKit.from_openapi(openapi_spec=DOC, client=httpx.AsyncClient(base_url=api), auth=auth, **options)


def carried(recorded) -> dict[str, Any]:
    """Every credential a request carried."""
    return {
        "x-api-key": recorded.headers.get("x-api-key"),
        "authorization": recorded.headers.get("authorization"),
        "cookie": recorded.headers.get("cookie"),
        "query": recorded.query,
    }


NOTHING = {"x-api-key": None, "authorization": None, "cookie": None, "query": ""}
BASIC = "Basic " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode()


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("public", NOTHING),
        ("default", {**NOTHING, "x-api-key": KEY}),
        ("query_key", {**NOTHING, "query": f"api_key={KEY}"}),
        ("cookie_key", {**NOTHING, "cookie": f"session={KEY}"}),
        ("bearer", {**NOTHING, "authorization": f"Bearer {BEARER}"}),
        ("basic", {**NOTHING, "authorization": BASIC}),
        ("oauth", {**NOTHING, "authorization": "Bearer token-1"}),
        ("either", {**NOTHING, "authorization": BASIC}),
        ("both", {**NOTHING, "x-api-key": KEY, "query": f"api_key={KEY}"}),
        ("optional", NOTHING),
    ],
)
async def test_each_operation_carries_exactly_its_credentials(api, upstream, tool, expected):
    async with Client(secured(api)) as client:
        await client.call_tool(tool)
    assert carried(upstream.last) == expected


SWAGGER_2 = {
    "swagger": "2.0",
    "info": {"title": "Secured, Swagger 2.0", "version": "1"},
    "security": [{"key": []}],
    "paths": {
        "/default": operation("default"),
        "/basic": operation("basic", [{"basic": []}]),
        "/oauth": operation("oauth", [{"app": ["read"]}]),
    },
    "securityDefinitions": {
        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "basic": {"type": "basic"},
        "app": {"type": "oauth2", "flow": "application", "tokenUrl": "/oauth/token", "scopes": {"read": ""}},
    },
}


async def test_swagger_2_security_definitions_are_applied(api, upstream, tokens):
    app = {"client_id": "app", "client_secret": SECRET, "scopes": ["read"]}
    auth = {"key": KEY, "basic": ("ada", PASSWORD), "app": app}
    mcp = MCPKit.from_openapi(openapi_spec=SWAGGER_2, client=httpx.AsyncClient(base_url=api), auth=auth)
    async with Client(mcp) as client:
        await client.call_tool("default")
        assert carried(upstream.last) == {**NOTHING, "query": f"api_key={KEY}"}
        await client.call_tool("basic")
        assert carried(upstream.last) == {**NOTHING, "authorization": BASIC}
        await client.call_tool("oauth")
        assert carried(upstream.last) == {**NOTHING, "authorization": "Bearer token-1"}
    assert tokens.issued == [{"grant_type": "client_credentials", "scope": "read"}]


async def test_alternatives_fall_back_in_order(api, upstream):
    async with Client(secured(api, auth={"bearerAuth": BEARER})) as client:
        await client.call_tool("either")
    assert carried(upstream.last) == {**NOTHING, "authorization": f"Bearer {BEARER}"}


async def test_unmet_requirements_are_refused_before_sending(api, upstream):
    async with Client(secured(api, auth={"bearerAuth": BEARER})) as client:
        result = await client.call_tool("basic", raise_on_error=False)
    assert result.is_error
    assert result.text == (
        "this operation needs credentials for 'basicAuth'; configure them with "
        "auth={scheme name: value} when the server is built, the MCPKIT_AUTH setting, "
        "or mcpkit serve --auth NAME=VALUE"
    )
    assert upstream.requests == []


async def test_without_configured_credentials_requests_go_out_as_the_client_makes_them(api, upstream):
    client = httpx.AsyncClient(base_url=api, headers={"Authorization": "Bearer mine"})
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=client)
    async with Client(mcp) as mcp_client:
        await mcp_client.call_tool("basic")
    assert upstream.last.headers["authorization"] == "Bearer mine"


async def test_schemes_mcpkit_cannot_apply_are_left_to_the_client(api, upstream):
    # With a client of its own the user handles authorizationCode; nothing is refused or added.
    async with Client(secured(api)) as client:
        await client.call_tool("needs_code")
    assert carried(upstream.last) == NOTHING
    conversion = convert(DOC, auth={"bearerAuth": BEARER}, server_url=api)
    assert any(
        "'authorizationCode' (oauth2 authorizationCode) cannot be applied by mcpkit" in str(w)
        and "client=httpx.AsyncClient(auth=...)" in str(w)
        for w in conversion.warnings
    )


async def test_oauth_tokens_are_cached_and_refreshed_once_after_a_401(api, upstream, tokens):
    async with Client(secured(api)) as client:
        for _ in range(3):
            await client.call_tool("oauth")
        assert len(tokens.issued) == 1
        assert tokens.issued[0] == {"grant_type": "client_credentials", "scope": "read"}
        tokens.revoked.add("token-1")
        await client.call_tool("oauth")
        assert len(tokens.issued) == 2
        assert upstream.last.headers["authorization"] == "Bearer token-2"
        tokens.revoked.add("token-2")
        tokens.revoked.add("token-3")
        failed = await client.call_tool("oauth", raise_on_error=False)
    assert failed.is_error
    assert "returned 401" in failed.text
    assert len(tokens.issued) == 3  # refreshed once, not in a loop


async def test_tokens_close_to_expiry_are_fetched_again(api, tokens):
    tokens.expires_in = 30  # under the 60 s margin
    async with Client(secured(api)) as client:
        await client.call_tool("oauth")
        await client.call_tool("oauth")
    assert len(tokens.issued) == 2


async def test_token_endpoint_refusing_basic_gets_form_credentials(api, upstream, tokens):
    tokens.basic = False
    async with Client(secured(api)) as client:
        await client.call_tool("oauth")
    assert tokens.issued[0]["client_id"] == "app"
    assert upstream.last.headers["authorization"] == "Bearer token-1"


async def test_secrets_appear_in_no_listing_result_error_or_log(api, caplog):
    mcp = secured(api)
    with caplog.at_level(logging.DEBUG):
        async with Client(mcp) as client:
            listing = json.dumps([t.model_dump(mode="json") for t in await client.list_tools()])
            echoed = await client.call_tool("echo", raise_on_error=False)
            ok = await client.call_tool("oauth")
    assert echoed.is_error
    assert echoed.text == 'GET /echo returned 403 Forbidden: {"detail":"bad key ***"}'
    texts = [listing, echoed.text, ok.text, caplog.text, repr(mcp.settings), repr(mcp)]
    for secret in (KEY, BEARER, PASSWORD, SECRET, "token-1"):
        assert all(secret not in text for text in texts), secret


async def test_credentials_from_the_environment(api, upstream, monkeypatch):
    # JSON has no tuples: a basic (user, password) pair comes as a two-item list.
    monkeypatch.setenv("MCPKIT_AUTH", json.dumps({"bearerAuth": "from-env", "basicAuth": ["ada", PASSWORD]}))
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=httpx.AsyncClient(base_url=api))
    assert "from-env" not in repr(Settings())
    async with Client(mcp) as client:
        await client.call_tool("bearer")
        assert upstream.last.headers["authorization"] == "Bearer from-env"
        await client.call_tool("basic")
        assert upstream.last.headers["authorization"] == BASIC


def test_conversion_options_keep_credentials_out_of_their_repr():
    options = ConversionOptions(auth={"bearerAuth": BEARER}, httpx_client_kwargs={"headers": {"X-Key": KEY}})
    assert BEARER not in repr(options)
    assert KEY not in repr(options)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {"nope": "x"},
            "auth names an unknown security scheme 'nope'; valid: 'authorizationCode', 'basicAuth'",
        ),
        ({"basicAuth": "ada:pw"}, "auth for 'basicAuth' (http basic) must be a (user, password) pair"),
        ({"bearerAuth": ""}, "auth for 'bearerAuth' (http bearer) must be a non-empty string"),
        (
            {"clientCredentials": {"client_id": "x"}},
            "must be {'client_id': ..., 'client_secret': ..., 'scopes': [...]}",
        ),
        ({"authorizationCode": "x"}, "cannot be applied by mcpkit; pass client=httpx.AsyncClient(auth=...)"),
    ],
)
def test_bad_credentials_fail_at_build_time(auth, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MCPKit.from_openapi(openapi_spec=DOC, client=httpx.AsyncClient(base_url="http://x"), auth=auth)


def test_an_unknown_output_schema_policy_is_refused_with_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"output_schemas='compactt' is not a policy; valid: compact, full, none"
    ):
        MCPKit.from_openapi(
            openapi_spec=DOC, client=httpx.AsyncClient(base_url="http://x"), output_schemas="compactt"
        )


def test_unknown_options_are_named():
    with pytest.raises(TypeError, match=r"unknown option 'out_schemas' \(did you mean 'output_schemas'\?\)"):
        MCPKit.from_openapi(
            openapi_spec=DOC, client=httpx.AsyncClient(base_url="http://x"), out_schemas="none"
        )

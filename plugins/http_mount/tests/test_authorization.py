"""Serving as an OAuth 2.1 protected resource, against a real authorization server on loopback
(authserver.py): clients sign in through the real flows and call scoped tools; forged, misdirected
and misplaced tokens are refused with the right status; nothing secret reaches logs or answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import httpx
import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from mcp.server.auth.provider import AccessToken
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from mcpkit import Client, Context, MCPKit
from mcpkit_http import (
    Authorization,
    IntrospectionVerifier,
    JWTVerifier,
    StaticTokenVerifier,
)
from mcpkit_http.client_auth import MemoryTokenStorage, authorization_code, client_credentials
from plugins.http_mount.tests.authserver import (
    SCOPES,
    SUBJECT,
    AuthServer,
    SigningKey,
    authorization_server,
    serving,
)
from plugins.http_mount.tests.raw import INITIALIZE, POST_HEADERS
from plugins.http_mount.tests.test_run import free_port
from tests.reliability import record

MODES = pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28", "handshake-era"])


def reports_server() -> MCPKit:
    mcp = MCPKit("reports")

    @mcp.tool
    def whoami(ctx: Context) -> dict[str, Any]:
        """Who is calling, from the verified token."""
        token = ctx.access_token
        assert token is not None
        claims = token.claims or {}
        return {
            "sub": token.subject,
            "client": token.client_id,
            "scopes": sorted(token.scopes),
            "aud": claims["aud"],
        }

    @mcp.tool(scopes=["reports:read"])
    def read_report(report_id: int) -> str:
        return f"report {report_id}"

    @mcp.tool(scopes=["reports:write"])
    def delete_report(report_id: int) -> int:
        return report_id

    return mcp


async def follow(authorization_url: str) -> str:
    """The user consents: the authorization endpoint's redirect, as a browser would follow it."""
    async with httpx2.AsyncClient() as http:
        response = await http.get(authorization_url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


@asynccontextmanager
async def protected(
    auth_server: AuthServer, build: Callable[[str], Any] | None = None, **options: Any
) -> AsyncIterator[str]:
    """The reports server served with authorization by ``auth_server``; yields the MCP URL."""

    def default(url: str) -> Any:
        auth = Authorization.from_issuer(auth_server.issuer, resource=f"{url}/mcp", **options)
        return reports_server().http_app(auth=auth)

    async with serving(build or default) as url:
        yield f"{url}/mcp"


async def post(url: str, token: str | None = None, body: Any = INITIALIZE, **headers: str) -> httpx2.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    async with httpx2.AsyncClient() as http:
        return await http.post(url, json=body, headers={**POST_HEADERS, **headers})


def call(name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments or {}},
    }


def challenge(response: httpx2.Response) -> dict[str, str]:
    """The parameters of a ``WWW-Authenticate: Bearer`` challenge."""
    scheme, _, rest = response.headers["www-authenticate"].partition(" ")
    assert scheme == "Bearer"
    found = {}
    for part in rest.split('", '):
        name, _, value = part.partition("=")
        found[name.strip()] = value.strip('"')
    return found


# The flows, end to end


@MODES
async def test_a_user_signs_in_and_steps_up_for_a_scoped_tool(mode):
    async with (
        authorization_server() as auth_server,
        protected(auth_server, required_scopes=["reports:read"]) as url,
        Client(url, mode=mode, auth=authorization_code(url, authorize=follow)) as client,
    ):
        listed = [tool.name for tool in await client.list_tools()]
        me = (await client.call_tool("whoami")).data
        report = (await client.call_tool("read_report", {"report_id": 3})).data
        deleted = (await client.call_tool("delete_report", {"report_id": 7})).data  # 403, then step-up
        stepped_up = (await client.call_tool("whoami")).data
    assert listed == ["whoami", "read_report"]  # the first token holds the scope the 401 named
    assert me == {"sub": SUBJECT, "client": me["client"], "scopes": ["reports:read"], "aud": url}
    assert report == "report 3"
    assert deleted == 7
    assert stepped_up["scopes"] == ["reports:read", "reports:write"]
    assert auth_server.requests["register"] == 1  # one dynamic registration, two sign-ins
    assert auth_server.requests["authorization_code"] == 2


async def test_a_service_signs_in_with_client_credentials():
    async with authorization_server() as auth_server, protected(auth_server) as url:
        auth_server.add_client("nightly-job", "job-secret-4321")
        auth = client_credentials(
            url, client_id="nightly-job", client_secret="job-secret-4321", issuer=auth_server.issuer
        )
        async with Client(url, auth=auth) as client:
            me = (await client.call_tool("whoami")).data
    assert me["client"] == "nightly-job"
    assert me["aud"] == url  # the client asked for a token for this resource (RFC 8707)
    assert auth_server.requests["client_credentials"] == 1


async def test_tokens_are_refreshed_and_storage_is_pluggable():
    storage = MemoryTokenStorage()
    # The token got for the code expires at once for the client: it refreshes it before its next request.
    async with authorization_server(code_token_seconds=0) as auth_server, protected(auth_server) as url:
        async with Client(url, auth=authorization_code(url, authorize=follow, storage=storage)) as client:
            await client.call_tool("whoami")
            await client.call_tool("whoami")
        async with Client(url, auth=authorization_code(url, authorize=follow, storage=storage)) as again:
            await again.call_tool("whoami")
    assert auth_server.requests["authorization_code"] == 1  # the stored registration and tokens served both
    assert auth_server.requests["refresh_token"] == 1
    assert storage.tokens is not None
    assert storage.tokens.expires_in == 3600  # the refreshed tokens, kept in the storage given


@pytest.mark.parametrize("transport", ["http", "sse"])
async def test_both_transports_are_protected(transport):
    path = "/mcp" if transport == "http" else "/sse"
    async with authorization_server() as auth_server:

        def build(url: str) -> Any:
            auth = Authorization.from_issuer(auth_server.issuer, resource=f"{url}{path}")
            return reports_server().http_app(transport=transport, auth=auth)

        async with serving(build) as base:
            url = f"{base}{path}"
            async with httpx2.AsyncClient() as http:
                refused = await http.get(url)
                metadata = (await http.get(f"{base}/.well-known/oauth-protected-resource{path}")).json()
            auth = authorization_code(url, authorize=follow)
            async with Client(url, transport=transport, mode="legacy", auth=auth) as client:
                me = (await client.call_tool("whoami")).data
    assert refused.status_code == 401
    assert challenge(refused)["resource_metadata"] == f"{base}/.well-known/oauth-protected-resource{path}"
    assert metadata["resource"] == url
    assert me["aud"] == url


# Refusals


def unsigned(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, None, algorithm="none")


def hmac_with_public_key(auth_server: AuthServer, claims: dict[str, Any]) -> str:
    """The algorithm-confusion attack: HS256 keyed with the issuer's public key (PyJWT refuses to
    make one, so it is made by hand)."""
    pem = auth_server.key.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": auth_server.key.kid}).encode())
    signing_input = header + b"." + b64(json.dumps(claims).encode())
    return (signing_input + b"." + b64(hmac.new(pem, signing_input, hashlib.sha256).digest())).decode()


def claims_for(auth_server: AuthServer, url: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": auth_server.issuer,
        "aud": url,
        "sub": SUBJECT,
        "scope": "reports:read",
        "exp": now + 600,
        **overrides,
    }


FORGED: dict[str, Callable[[AuthServer, str], str]] = {
    "another resource's token": lambda s, url: s.mint(aud="https://other.example/mcp"),
    "another issuer's token": lambda s, url: s.mint(aud=url, iss="https://evil.example"),
    "an expired token": lambda s, url: s.mint(aud=url, exp=int(time.time()) - 3600),
    "a token not valid yet": lambda s, url: s.mint(aud=url, nbf=int(time.time()) + 3600),
    "a token without expiry": lambda s, url: s.mint(aud=url, exp=None),
    "an unsigned token (alg none)": lambda s, url: unsigned(claims_for(s, url)),
    "HS256 keyed with the public key": lambda s, url: hmac_with_public_key(s, claims_for(s, url)),
    "a key swapped in under the issuer's kid": lambda s, url: s.mint(
        SigningKey(), headers={"kid": s.key.kid}, aud=url
    ),
    "a key of its own with a kid of its own": lambda s, url: s.mint(SigningKey(), aud=url),
    "a tampered payload": lambda s, url: _tampered(s.mint(aud=url, scope="reports:read")),
    "not a JWT": lambda s, url: "not-a-jwt-at-all",
    "an oversized token": lambda s, url: "x" * 20_000,
}


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = " ".join(SCOPES)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_forged_and_misdirected_tokens_are_refused_and_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    async with authorization_server() as auth_server, protected(auth_server) as url:
        good = auth_server.mint(aud=url)
        assert (await post(url, good)).status_code == 200
        answers = {}
        for attack, forge in FORGED.items():
            token = forge(auth_server, url)
            answers[attack] = (token, await post(url, token))
        none = await post(url)
    for attack, (token, response) in answers.items():
        assert response.status_code == 401, attack
        assert challenge(response)["error"] == "invalid_token", attack
        assert token[:40] not in response.text, attack
        record("attacks", f"bearer token: {attack}: refused with 401 invalid_token")
    assert none.status_code == 401
    assert "error" not in challenge(none)  # no credentials: the challenge names no error (RFC 6750)
    assert challenge(none)["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
    logged = caplog.text
    for token, _ in [*answers.values(), (good, None)]:
        assert token[:40] not in logged
    assert "bearer token refused" in logged  # the reasons are logged, the tokens are not
    record("attacks", "forged and refused tokens: absent from logs and answers", len(answers) + 1)


async def test_a_missing_scope_is_403_insufficient_scope_naming_it():
    async with authorization_server() as auth_server, protected(auth_server) as url:
        token = auth_server.mint(aud=url, scope="reports:read")
        session = await post(url, token)
        headers = {"mcp-session-id": session.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        allowed = await post(url, token, call("read_report", {"report_id": 1}), **headers)
        refused = await post(url, token, call("delete_report", {"report_id": 1}), **headers)
        batch = await post(url, token, [call("read_report"), call("delete_report")], **headers)
    assert allowed.status_code == 200
    assert refused.status_code == 403
    assert challenge(refused)["error"] == "insufficient_scope"
    assert challenge(refused)["scope"] == "reports:write"
    assert challenge(refused)["resource_metadata"].endswith("/mcp")
    assert refused.headers["access-control-expose-headers"] == "WWW-Authenticate"
    assert batch.status_code == 403
    record("attacks", "a call of a tool whose scope the token lacks: 403 insufficient_scope naming it")


async def test_required_scopes_apply_to_every_request():
    async with (
        authorization_server() as auth_server,
        protected(auth_server, required_scopes=["admin"]) as url,
    ):
        refused = await post(url, auth_server.mint(aud=url, scope="reports:read"))
        allowed = await post(url, auth_server.mint(aud=url, scope="admin"))
        anonymous = await post(url)
    assert refused.status_code == 403
    assert challenge(refused)["scope"] == "admin"
    assert allowed.status_code == 200
    assert challenge(anonymous)["scope"] == "admin"  # the 401 says which scopes to ask for


async def test_a_token_in_the_query_string_is_refused(caplog):
    async with authorization_server() as auth_server, protected(auth_server) as url:
        token = auth_server.mint(aud=url)
        in_query = await post(f"{url}?access_token={token}")
        both = await post(f"{url}?access_token={token}", token)
    for response in (in_query, both):
        assert response.status_code == 400
        assert challenge(response)["error"] == "invalid_request"
        assert token not in response.text
    assert token not in caplog.text
    record("attacks", "an access token in the query string: 400 invalid_request, never logged", 2)


async def test_the_step_up_check_reads_a_bounded_body_and_hands_it_on():
    """A token lacking some scope makes the guard read the body; an oversized or broken body is
    then still the endpoint's to refuse."""
    async with authorization_server() as auth_server:

        def build(url: str) -> Any:
            auth = Authorization.from_issuer(auth_server.issuer, resource=f"{url}/mcp")
            return reports_server().http_app(auth=auth, max_request_body_size=10_000)

        async with serving(build) as base:
            url = f"{base}/mcp"
            token = auth_server.mint(aud=url, scope="")
            huge = await post(url, token, {**INITIALIZE, "padding": "x" * 50_000})
            async with httpx2.AsyncClient() as http:
                broken = await http.post(
                    url, content=b"{not json", headers={**POST_HEADERS, "authorization": f"Bearer {token}"}
                )
            fine = await post(url, token)
    assert huge.status_code == 413
    assert broken.status_code == 400
    assert fine.status_code == 200
    record("attacks", "oversized and malformed bodies behind the scope check: the endpoint's 413 and 400", 2)


async def test_keys_are_refreshed_on_an_unknown_key_id_but_not_on_every_one():
    async with authorization_server() as auth_server, protected(auth_server) as url:
        assert (await post(url, auth_server.mint(aud=url))).status_code == 200
        for _ in range(30):
            assert (await post(url, auth_server.mint(SigningKey(), aud=url))).status_code == 401
        flood = auth_server.requests["jwks"]
    assert flood <= 2  # one fetch, at most one refresh: made-up key ids cannot hammer the issuer
    record("attacks", "30 tokens with made-up key ids: at most one refresh of the JWKS")

    async with authorization_server() as auth_server, protected(auth_server, jwks_refresh_interval=0) as url:
        old = auth_server.mint(aud=url)
        assert (await post(url, old)).status_code == 200
        auth_server.rotate(keep_old=False)
        rotated = await post(url, auth_server.mint(aud=url))
    assert rotated.status_code == 200  # the new key was fetched when a token named it


# Mounted under a prefix, CORS


ORIGIN = "https://app.example.com"


@pytest.mark.parametrize("how", ["lifespan adds the routes", "routes given to the app"])
async def test_mounted_under_a_prefix_the_metadata_is_at_the_host_root(how):
    async with authorization_server() as auth_server:

        def build(base: str) -> Any:
            auth = Authorization.from_issuer(auth_server.issuer, resource=f"{base}/analytics/mcp")
            mcp_app = reports_server().http_app(auth=auth)
            routes = mcp_app.well_known_routes if how == "routes given to the app" else []
            app = FastAPI(routes=routes, lifespan=mcp_app.lifespan)
            app.mount("/analytics", mcp_app)
            return app

        async with serving(build) as base:
            url = f"{base}/analytics/mcp"
            async with httpx2.AsyncClient() as http:
                metadata = await http.get(f"{base}/.well-known/oauth-protected-resource/analytics/mcp")
                refused = await http.post(url, json=INITIALIZE, headers=POST_HEADERS)
            async with Client(url, auth=authorization_code(url, authorize=follow)) as client:
                me = (await client.call_tool("whoami")).data
    assert metadata.status_code == 200
    assert metadata.json()["resource"] == url
    assert metadata.json()["authorization_servers"] == [auth_server.issuer]
    assert metadata.json()["scopes_supported"] == ["reports:read", "reports:write"]
    assert (
        challenge(refused)["resource_metadata"]
        == f"{base}/.well-known/oauth-protected-resource/analytics/mcp"
    )
    assert me["aud"] == url


async def test_browser_clients_read_the_metadata_and_the_challenge_beside_cors():
    async with authorization_server() as auth_server:

        def build(base: str) -> Any:
            auth = Authorization.from_issuer(auth_server.issuer, resource=f"{base}/analytics/mcp")
            mcp_app = reports_server().http_app(auth=auth, allowed_origins=[ORIGIN])
            app = FastAPI(lifespan=mcp_app.lifespan)
            app.mount("/analytics", mcp_app)
            app.add_middleware(
                CORSMiddleware,
                allow_origins=[ORIGIN],
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["authorization", "content-type", "mcp-protocol-version", "mcp-session-id"],
                expose_headers=["mcp-session-id", "mcp-protocol-version", "www-authenticate"],
            )
            return app

        async with serving(build) as base, httpx2.AsyncClient() as http:
            well_known = f"{base}/.well-known/oauth-protected-resource/analytics/mcp"
            preflight = await http.options(
                well_known,
                headers={
                    "origin": ORIGIN,
                    "access-control-request-method": "GET",
                    "access-control-request-headers": "mcp-protocol-version",
                },
            )
            metadata = await http.get(
                well_known, headers={"origin": ORIGIN, "mcp-protocol-version": "2025-11-25"}
            )
            other_origin = await http.get(well_known, headers={"origin": "https://elsewhere.example"})
            refused = await http.post(
                f"{base}/analytics/mcp", json=INITIALIZE, headers={**POST_HEADERS, "origin": ORIGIN}
            )
    assert preflight.status_code == 200
    assert metadata.headers["access-control-allow-origin"] == ORIGIN
    assert other_origin.headers["access-control-allow-origin"] == "*"  # public metadata, any origin
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    assert "www-authenticate" in refused.headers["access-control-expose-headers"].lower()


# Verifiers


async def test_pem_secret_and_introspection_verifiers():
    async with authorization_server() as auth_server:
        pem = auth_server.key.private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )
        resource = "https://mcp.example.com/mcp"
        by_pem = JWTVerifier(issuer=auth_server.issuer, audience=resource, public_key=pem)
        assert await by_pem.verify_token(auth_server.mint(aud=resource)) is not None
        assert (
            await by_pem.verify_token(hmac_with_public_key(auth_server, claims_for(auth_server, resource)))
            is None
        )

        secret = secrets.token_bytes(32)
        by_secret = JWTVerifier(issuer=auth_server.issuer, audience=resource, secret=secret)
        shared = jwt.encode(claims_for(auth_server, resource, scope="a b"), secret, algorithm="HS256")
        accepted = await by_secret.verify_token(shared)
        assert accepted is not None
        assert accepted.scopes == ["a", "b"]
        assert await by_secret.verify_token(auth_server.mint(aud=resource)) is None  # RS256: not allowed here

        auth_server.add_client("resource-server", "rs-secret-9876")
        introspection = IntrospectionVerifier(
            introspection_endpoint=f"{auth_server.issuer}/introspect",
            client_id="resource-server",
            client_secret="rs-secret-9876",
            audience=resource,
            issuer=auth_server.issuer,
        )
        opaque = await introspection.verify_token(auth_server.opaque(["reports:read"], resource))
        assert opaque is not None
        assert (opaque.scopes, opaque.subject) == (["reports:read"], SUBJECT)
        assert (
            await introspection.verify_token(auth_server.opaque(["reports:read"], "https://other/mcp"))
            is None
        )
        assert await introspection.verify_token("unknown-token") is None
        wrong_secret = IntrospectionVerifier(
            introspection_endpoint=f"{auth_server.issuer}/introspect",
            client_id="resource-server",
            client_secret="not-the-secret",
            audience=resource,
        )

        def build(url: str) -> Any:
            auth = Authorization(
                verifier=wrong_secret, resource=f"{url}/mcp", authorization_servers=[auth_server.issuer]
            )
            return reports_server().http_app(auth=auth)

        async with serving(build) as base:
            unavailable = await post(f"{base}/mcp", auth_server.opaque([], f"{base}/mcp"))
    assert unavailable.status_code == 503  # not 401: signing in again would not help
    assert "not-the-secret" not in unavailable.text


class ForeignVerifier:
    """A verifier of the application's own, saying which resource each token is for."""

    async def verify_token(self, token: str) -> AccessToken | None:
        resource = {"for-us": "http://127.0.0.1:{port}/mcp", "for-them": "https://other.example/mcp"}.get(
            token
        )
        if resource is None:
            return None
        return AccessToken(token=token, client_id="app", scopes=[], resource=resource.format(port=self.port))

    port = 0


async def test_any_sdk_token_verifier_works_and_its_resource_is_checked():
    verifier = ForeignVerifier()
    static = StaticTokenVerifier({"dev-token": ["reports:read"]})

    def build(url: str, chosen: Any) -> Any:
        verifier.port = int(url.rsplit(":", 1)[1])
        auth = Authorization(
            verifier=chosen, resource=f"{url}/mcp", authorization_servers=["https://as.example"]
        )
        return reports_server().http_app(auth=auth)

    async with serving(lambda url: build(url, verifier)) as base:
        ours = await post(f"{base}/mcp", "for-us")
        theirs = await post(f"{base}/mcp", "for-them")
    async with (
        serving(lambda url: build(url, static)) as base,
        Client(f"{base}/mcp", auth="dev-token") as client,
    ):
        me = (await client.call_tool("whoami", raise_on_error=False)).is_error
        listed = [tool.name for tool in await client.list_tools()]
    assert ours.status_code == 200
    assert theirs.status_code == 401  # issued for another resource: no token passthrough
    assert me is True  # a static token has no claims: whoami fails, cleanly
    assert listed == ["whoami", "read_report"]
    record("attacks", "a token a verifier says is for another resource: 401")


def test_options_are_checked():
    resource = "https://mcp.example.com/mcp"
    with pytest.raises(ValueError, match="'none' algorithm"):
        JWTVerifier(issuer="https://as.example", audience=resource, algorithms=["none"])
    with pytest.raises(ValueError, match="needs a shared secret"):
        JWTVerifier(issuer="https://as.example", audience=resource, algorithms=["HS256"])
    with pytest.raises(ValueError, match="not a shared secret"):
        JWTVerifier(issuer="https://as.example", audience=resource, secret="s" * 40, algorithms=["RS256"])
    with pytest.raises(ValueError, match="at least 32 bytes"):
        JWTVerifier(issuer="https://as.example", audience=resource, secret="short")
    with pytest.raises(ValueError, match="one source of keys"):
        JWTVerifier(
            issuer="https://as.example", audience=resource, secret="s" * 40, jwks_uri="https://as.example/k"
        )
    with pytest.raises(ValueError, match="https"):
        JWTVerifier(issuer="http://as.example", audience=resource)
    with pytest.raises(ValueError, match="PEM public key"):
        JWTVerifier(issuer="https://as.example", audience=resource, public_key="not a key")
    with pytest.raises(ValueError, match="audience"):
        JWTVerifier(issuer="https://as.example", audience=[])
    auth = Authorization.from_issuer("https://as.example", resource=resource)
    with pytest.raises(ValueError, match="auth replaces token_verifier"):
        MCPKit("x").http_app(auth=auth, token_verifier=StaticTokenVerifier({"t": []}))
    with pytest.raises(ValueError, match="not both"):
        MCPKit("x").http_app(auth=auth, oauth_issuer="https://as.example", oauth_audience=resource)
    with pytest.raises(ValueError, match="go together"):
        MCPKit("x").http_app(oauth_issuer="https://as.example")
    with pytest.raises(TypeError, match="list of scope names"):
        Authorization.from_issuer("https://as.example", resource=resource, required_scopes="admin")
    with pytest.raises(TypeError, match="auth applies to a server reached by URL"):
        Client(MCPKit("x"), auth="token")
    assert auth.metadata_url == "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"


# The token stays with this server


DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "CRM", "version": "1"},
    "paths": {
        "/whoami": {"get": {"operationId": "whoami", "responses": {"200": {"description": ""}}}},
        "/hop": {"get": {"operationId": "hop", "responses": {"200": {"description": ""}}}},
    },
}


@pytest.mark.parametrize("forward", [False, True], ids=["by default", "forwarded on purpose"])
async def test_the_token_reaches_the_api_only_when_forwarded_and_only_its_host(forward):
    seen: list[tuple[str, str | None]] = []

    async def whoami(request: Request) -> JSONResponse:
        seen.append((request.url.hostname or "", request.headers.get("authorization")))
        return JSONResponse({"authorization": request.headers.get("authorization")})

    async def hop(request: Request) -> RedirectResponse:
        return RedirectResponse("https://elsewhere.example/whoami", status_code=307)

    api = Starlette(routes=[Route("/whoami", whoami), Route("/hop", hop)])
    api_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api), base_url="https://crm.example", follow_redirects=True
    )
    mcp = MCPKit.from_openapi(
        openapi_spec=DOCUMENT, client=api_client, forward_headers=["authorization"] if forward else None
    )
    async with authorization_server() as auth_server:

        def build(url: str) -> Any:
            return mcp.http_app(auth=Authorization.from_issuer(auth_server.issuer, resource=f"{url}/mcp"))

        async with serving(build) as base:
            token = auth_server.mint(aud=f"{base}/mcp")
            async with Client(f"{base}/mcp", auth=token, raise_on_error=False) as client:
                sent = (await client.call_tool("whoami")).data
                hopped = await client.call_tool("hop")
    assert sent == {"authorization": "***" if forward else None}  # masked in the result the model sees
    assert hopped.is_error  # the redirect to another host was not followed
    assert token not in hopped.text
    assert seen == [("crm.example", f"Bearer {token}" if forward else None)]
    record("attacks", "the MCP client's token: not sent to the API unless forwarded, never to another host")


async def test_mcp_run_does_not_log_a_token_put_in_the_query_string(capfd):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    auth = Authorization(
        verifier=StaticTokenVerifier({"dev-token": []}),
        resource=url,
        authorization_servers=["https://as.example"],
    )
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(partial(reports_server().run_async, transport="http", port=port, auth=auth))
        with anyio.fail_after(10):
            while True:
                try:
                    refused = await post(f"{url}?access_token=leaked-token-1234&x=1")
                    break
                except httpx2.ConnectError:
                    await anyio.sleep(0.05)
        tasks.cancel_scope.cancel()
    logged = capfd.readouterr()
    assert refused.status_code == 400
    assert "access_token=***&x=1" in logged.out + logged.err  # uvicorn's access log, masked
    assert "leaked-token-1234" not in logged.out + logged.err
    record("attacks", "a token in the query string under mcp.run: masked in uvicorn's access log")


async def test_the_servers_own_auth_protects_every_http_app_of_it(serve):
    url = "http://127.0.0.1/mcp"
    auth = Authorization(
        verifier=StaticTokenVerifier({"dev-token": ["reports:read"]}),
        resource=url,
        authorization_servers=["https://as.example"],
    )
    mcp = MCPKit("protected", auth=auth)

    @mcp.tool
    def ping() -> str:
        return "pong"

    async with serve(mcp.http_app()) as base, httpx.AsyncClient(base_url=base) as http:
        anonymous = await http.post("/mcp", json=INITIALIZE, headers=POST_HEADERS)
        metadata = await http.get("/.well-known/oauth-protected-resource/mcp")
        async with Client(f"{base}/mcp", auth="dev-token") as client:
            assert (await client.call_tool("ping")).text == "pong"
    assert anonymous.status_code == 401
    assert "resource_metadata=" in anonymous.headers["www-authenticate"]
    assert metadata.json()["resource"] == url
    with pytest.raises(ValueError, match="no token_verifier= as well"):
        mcp.http_app(token_verifier=StaticTokenVerifier({"t": []}))
    with pytest.raises(TypeError, match=r"auth takes an mcpkit_http\.Authorization"):
        MCPKit("bad", auth="secret").http_app()

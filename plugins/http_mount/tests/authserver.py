"""A real OAuth 2.1 authorization server for the tests, on loopback, and a way to serve apps that
must know their own URL before they are built.

The server is the SDK's authorization-server machinery (``mcp.server.auth.routes``: RFC 8414
metadata, dynamic client registration, the authorization endpoint, PKCE-checked code exchange,
refresh, revocation) with a provider that issues RS256 JWT access tokens whose ``aud`` is the RFC
8707 ``resource`` the client asked for, publishes its keys as a JWKS (named in its metadata), and
grants client credentials to clients registered up front. The user always consents: the
authorization endpoint redirects straight back with a code, so a test "follows the redirect".
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_metadata, create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.servers import serving  # the tests of this folder import it from here

SCOPES = ["reports:read", "reports:write", "admin"]
SUBJECT = "alice"


class SigningKey:
    """An RSA key pair and its key id."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:12]

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}


class AuthServer:
    """The provider of the SDK's authorization server (see the module docstring)."""

    def __init__(
        self, issuer: str, *, access_token_seconds: int = 3600, code_token_seconds: int | None = None
    ) -> None:
        self.issuer = issuer
        self.access_token_seconds = access_token_seconds
        self.code_token_seconds = access_token_seconds if code_token_seconds is None else code_token_seconds
        """What the token endpoint says of tokens got for a code (0: the client refreshes it at once)."""
        self.key = SigningKey()
        self.published = [self.key]
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.opaque_tokens: dict[str, dict[str, Any]] = {}
        self.requests: Counter[str] = Counter()
        """Requests served, by kind: ``jwks``, ``metadata``, ``register``, and each grant type."""

    # What the tests do with it

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Register a confidential client for the client-credentials grant."""
        self.clients[client_id] = OAuthClientInformationFull(
            client_id=client_id,
            client_secret=client_secret,
            grant_types=["client_credentials"],
            token_endpoint_auth_method="client_secret_basic",
            scope=" ".join(SCOPES),
        )

    def rotate(self, *, keep_old: bool) -> None:
        """Sign with a new key from now on, publishing the old one too when ``keep_old``."""
        self.key = SigningKey()
        self.published = [*self.published, self.key] if keep_old else [self.key]

    def mint(
        self, key: SigningKey | None = None, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        """A token signed by this server's key (or ``key``), with standard claims that ``claims``
        override (a claim set to ``None`` is left out)."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "sub": SUBJECT,
            "client_id": "minted",
            "scope": " ".join(SCOPES),
            "iat": now,
            "exp": now + self.access_token_seconds,
            "jti": secrets.token_hex(8),
            **claims,
        }
        key = key or self.key
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            key.private,
            algorithm="RS256",
            headers={"kid": key.kid, **(headers or {})},
        )

    def opaque(self, scopes: list[str], audience: str) -> str:
        """An opaque token, described only by the introspection endpoint."""
        token = secrets.token_urlsafe(32)
        self.opaque_tokens[token] = {
            "scope": " ".join(scopes),
            "aud": audience,
            "iss": self.issuer,
            "sub": SUBJECT,
            "client_id": "opaque-client",
            "exp": int(time.time()) + self.access_token_seconds,
        }
        return token

    # The SDK's OAuthAuthorizationServerProvider

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.requests["register"] += 1
        client_info.scope = " ".join(SCOPES)  # any scope may be asked for later (step-up)
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or [],
            expires_at=time.time() + 300,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject=SUBJECT,
        )
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        code = self.codes.get(authorization_code)
        return code if code is not None and code.client_id == client.client_id else None

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        self.requests["authorization_code"] += 1
        del self.codes[authorization_code.code]
        token = self.issue(client.client_id, authorization_code.scopes, authorization_code.resource)
        return token.model_copy(update={"expires_in": self.code_token_seconds})

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        token = self.refresh_tokens.get(refresh_token)
        return token if token is not None and token.client_id == client.client_id else None

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        self.requests["refresh_token"] += 1
        del self.refresh_tokens[refresh_token.token]
        return self.issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        return None  # resource servers verify the JWTs themselves

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        self.refresh_tokens.pop(token.token, None)

    def issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        """Tokens for ``client_id``: a JWT for ``resource`` and a refresh token."""
        access = self.mint(client_id=client_id, scope=" ".join(scopes), aud=resource)
        refresh = secrets.token_urlsafe(32)
        self.refresh_tokens[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource, subject=SUBJECT
        )
        return OAuthToken(
            access_token=access,
            expires_in=self.access_token_seconds,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )

    # Routes

    def routes(self) -> list[BaseRoute]:
        """The SDK's authorization-server routes, with the metadata naming the JWKS, the JWKS, and
        client credentials at the token endpoint."""
        registration = ClientRegistrationOptions(enabled=True, valid_scopes=SCOPES, default_scopes=SCOPES)
        revocation = RevocationOptions(enabled=True)
        sdk_routes = create_auth_routes(self, AnyHttpUrl(self.issuer), None, registration, revocation)
        token_route = next(route for route in sdk_routes if route.path == "/token")
        metadata = build_metadata(AnyHttpUrl(self.issuer), None, registration, revocation)
        document = {
            **metadata.model_dump(mode="json", exclude_none=True),
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "grant_types_supported": [*(metadata.grant_types_supported or []), "client_credentials"],
        }

        async def metadata_endpoint(request: Request) -> JSONResponse:
            self.requests["metadata"] += 1
            return JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})

        async def jwks(request: Request) -> JSONResponse:
            self.requests["jwks"] += 1
            return JSONResponse({"keys": [key.jwk() for key in self.published]})

        async def introspect(request: Request) -> JSONResponse:  # RFC 7662, for confidential clients
            self.requests["introspect"] += 1
            client_id, secret = _basic(request)
            client = self.clients.get(client_id)
            if (
                client is None
                or client.client_secret is None
                or not secrets.compare_digest(client.client_secret, secret)
            ):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            described = self.opaque_tokens.get(str((await request.form()).get("token")))
            return JSONResponse({"active": False} if described is None else {"active": True, **described})

        return [
            Route("/.well-known/oauth-authorization-server", metadata_endpoint),
            Route("/introspect", introspect, methods=["POST"]),
            Route("/jwks", jwks),
            Route("/token", self._client_credentials_or(token_route.app), methods=["POST", "OPTIONS"]),
            *(route for route in sdk_routes if route.path != "/token"),
        ]

    def _client_credentials_or(self, sdk_token_endpoint: ASGIApp) -> ASGIApp:
        """The token endpoint: client credentials here, every other grant by the SDK's handler."""
        return _TokenEndpoint(self, sdk_token_endpoint)

    def _client_credentials(self, form: dict[str, str], request: Request) -> JSONResponse:
        self.requests["client_credentials"] += 1
        client_id, secret = _basic(request)
        client = self.clients.get(client_id)
        if (
            client is None
            or client.client_secret is None
            or not secrets.compare_digest(client.client_secret, secret)
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        scopes = form.get("scope", "").split() or SCOPES
        if not set(scopes) <= set(SCOPES):
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        access = self.mint(
            client_id=client_id, scope=" ".join(scopes), aud=form.get("resource"), sub=client_id
        )
        token = OAuthToken(access_token=access, expires_in=self.access_token_seconds, scope=" ".join(scopes))
        return JSONResponse(token.model_dump(exclude_none=True))


@asynccontextmanager
async def authorization_server(**options: Any) -> AsyncIterator[AuthServer]:
    """An :class:`AuthServer` served on loopback until the block ends."""
    made: list[AuthServer] = []

    def build(url: str) -> ASGIApp:
        made.append(AuthServer(url, **options))
        return Starlette(routes=made[0].routes())

    async with serving(build):
        yield made[0]


def _basic(request: Request) -> tuple[str, str]:
    """The client id and secret of HTTP basic authentication (empty when absent)."""
    basic = request.headers.get("authorization", "").removeprefix("Basic ")
    client_id, _, secret = base64.b64decode(basic).decode().partition(":")
    return unquote(client_id), unquote(secret)


class _TokenEndpoint:
    def __init__(self, server: AuthServer, sdk_token_endpoint: ASGIApp) -> None:
        self._server = server
        self._sdk = sdk_token_endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if not message.get("more_body", False):
                break
        form = dict(parse_qsl(b"".join(m.get("body", b"") for m in messages).decode()))
        if form.get("grant_type") != "client_credentials":

            async def replay() -> Message:
                return messages.pop(0) if messages else await receive()

            await self._sdk(scope, replay, send)
            return
        await self._server._client_credentials(form, Request(scope))(scope, receive, send)

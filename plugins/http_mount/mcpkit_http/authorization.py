"""Serving as an OAuth 2.1 protected resource, as the MCP authorization specification asks
(docs/authorization.md).

:class:`Authorization` (the ``auth=`` option of ``mcp.http_app`` and ``mcp.run``) names a token
verifier, the authorization servers, this resource's canonical URL and its scopes. Then:

- ``/.well-known/oauth-protected-resource`` followed by the resource URL's path serves the RFC 9728
  metadata at the host root, readable from any origin; an app mounted under a prefix adds that
  route to the app serving it when its lifespan starts (or take :attr:`MCPApp.well_known_routes`);
- a request without a valid token is answered 401 with ``WWW-Authenticate: Bearer
  resource_metadata="..."``; a token issued for another resource is not valid (RFC 8707);
- a token lacking ``required_scopes``, or the scopes of the tool, resource or prompt a request asks
  for (read from the JSON-RPC body, bounded), gets 403 ``insufficient_scope`` naming them, so the
  client can ask for them (step-up);
- a token in the URL's query string is refused (400): tokens travel in the ``Authorization`` header.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from mcp.server.auth.handlers.metadata import ProtectedResourceMetadataHandler
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import cors_middleware
from mcp.shared.auth import ProtectedResourceMetadata
from mcp.shared.auth_utils import resource_url_from_server_url
from starlette.authentication import AuthCredentials
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpkit_http.fetch import TokenVerificationUnavailable, check_url
from mcpkit_http.lifespan import Lifespan
from mcpkit_http.verifiers import DEFAULT_LEEWAY, JWTVerifier

if TYPE_CHECKING:
    from mcpkit import MCPKit

logger = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/oauth-protected-resource"
_QUOTED = re.compile(r'["\\]')
_QUERY_TOKEN = re.compile(r"(?i)(access_token=)[^&#\s]*")


class Authorization:
    """What serving as a protected resource needs (see the module docstring).

    ``verifier``: any SDK ``TokenVerifier`` (``async verify_token(token)``), such as
    :class:`~mcpkit_http.verifiers.JWTVerifier`; it checks the token's issuer and audience. A token
    whose ``AccessToken.resource`` names another resource is refused too. ``resource``: the MCP
    endpoint's canonical URL as clients reach it (``https://example.com/analytics/mcp`` when mounted
    under ``/analytics``). ``authorization_servers``: the issuers clients get tokens from.
    ``required_scopes``: scopes every token must hold. ``scopes_supported``: advertised in the
    metadata; by default the required scopes and those of the server's components.
    """

    def __init__(
        self,
        *,
        verifier: TokenVerifier,
        resource: str,
        authorization_servers: Sequence[str],
        required_scopes: Sequence[str] = (),
        scopes_supported: Sequence[str] | None = None,
        resource_name: str | None = None,
        resource_documentation: str | None = None,
    ) -> None:
        if not callable(getattr(verifier, "verify_token", None)):
            raise TypeError(
                "verifier must have an async verify_token(token) method "
                f"(mcp.server.auth.provider.TokenVerifier), got {type(verifier).__name__}"
            )
        self.verifier = verifier
        self.resource = check_url("resource", resource, https=False)
        if urlsplit(resource).query:
            raise ValueError(f"resource must not have a query, got {resource!r}")
        if isinstance(authorization_servers, str) or not authorization_servers:
            raise TypeError("authorization_servers takes a non-empty list of issuer URLs")
        self.authorization_servers = [
            check_url("authorization_servers", url) for url in authorization_servers
        ]
        self.required_scopes = _scope_names("required_scopes", required_scopes)
        self.scopes_supported = (
            None if scopes_supported is None else _scope_names("scopes_supported", scopes_supported)
        )
        self.resource_name = resource_name
        self.resource_documentation = resource_documentation
        parts = urlsplit(self.resource)
        self.metadata_path = WELL_KNOWN + ("" if parts.path in ("", "/") else parts.path.rstrip("/"))
        """The metadata's path at the host root: the well-known prefix, then the resource's path."""
        self.metadata_url = f"{parts.scheme}://{parts.netloc}{self.metadata_path}"
        """Where clients find the metadata (the ``resource_metadata`` of ``WWW-Authenticate``)."""

    @classmethod
    def from_issuer(
        cls,
        issuer: str,
        *,
        resource: str,
        audience: str | Sequence[str] | None = None,
        jwks_uri: str | None = None,
        public_key: str | bytes | None = None,
        secret: str | bytes | None = None,
        algorithms: Sequence[str] | None = None,
        leeway: float = DEFAULT_LEEWAY,
        required_scopes: Sequence[str] = (),
        scopes_supported: Sequence[str] | None = None,
        **verifier_options: Any,
    ) -> Authorization:
        """Accept the JWTs ``issuer`` signs for ``audience`` (default: ``resource``); the keys come
        from ``jwks_uri``, ``public_key`` or ``secret``, else from the issuer's metadata.
        ``verifier_options`` go to :class:`~mcpkit_http.verifiers.JWTVerifier`."""
        verifier = JWTVerifier(
            issuer=issuer,
            audience=resource if audience is None else audience,
            jwks_uri=jwks_uri,
            public_key=public_key,
            secret=secret,
            algorithms=algorithms,
            leeway=leeway,
            **verifier_options,
        )
        return cls(
            verifier=verifier,
            resource=resource,
            authorization_servers=[issuer],
            required_scopes=required_scopes,
            scopes_supported=scopes_supported,
        )

    def __repr__(self) -> str:
        return (
            f"Authorization(resource={self.resource!r}, authorization_servers={self.authorization_servers!r})"
        )

    def metadata(self, server: MCPKit) -> ProtectedResourceMetadata:
        """The RFC 9728 metadata of this resource served by ``server``."""
        supported = self.scopes_supported
        if supported is None:
            supported = sorted(set(self.required_scopes) | _component_scopes(server)) or None
        return ProtectedResourceMetadata.model_validate(
            {
                "resource": self.resource,
                "authorization_servers": self.authorization_servers,
                "scopes_supported": supported,
                "resource_name": self.resource_name or server.name,
                "resource_documentation": self.resource_documentation,
            }
        )

    def metadata_routes(self, server: MCPKit) -> list[BaseRoute]:
        """The metadata route, to serve at the host root; any origin may read it (CORS ``*``)."""
        handler = ProtectedResourceMetadataHandler(self.metadata(server))
        endpoint = cors_middleware(handler.handle, ["GET", "OPTIONS"])
        return [Route(self.metadata_path, endpoint=endpoint, methods=["GET", "OPTIONS"])]

    def protect(self, app: ASGIApp, *, server: MCPKit, max_body_size: int) -> ASGIApp:
        """``app`` served only to requests with a valid token holding the scopes they need."""
        return _Guard(app, self, server, max_body_size)

    def www_authenticate(
        self, error: str | None = None, description: str = "", scopes: Iterable[str] = ()
    ) -> str:
        """The ``WWW-Authenticate`` challenge of a refusal (RFC 6750 §3, RFC 9728 §5.1)."""
        parts = []
        if error is not None:
            parts += [f'error="{error}"', f'error_description="{_quoted(description)}"']
        scope = " ".join(sorted(scopes))
        if scope:
            parts.append(f'scope="{_quoted(scope)}"')
        parts.append(f'resource_metadata="{self.metadata_url}"')
        return "Bearer " + ", ".join(parts)


def authorization_option(
    auth: Authorization | None,
    *,
    token_verifier: object,
    required_scopes: Sequence[str],
    oauth_issuer: str | None,
    oauth_audience: str | None,
    oauth_jwks_uri: str | None,
    oauth_scopes: Sequence[str],
) -> Authorization | None:
    """The transports' ``auth`` option, or the one its ``oauth_*`` shortcuts describe (what
    ``mcpkit serve --oauth-*`` passes); mixing it with ``token_verifier`` is an error."""
    if auth is not None and not isinstance(auth, Authorization):
        raise TypeError(f"auth takes an mcpkit_http.Authorization, got {type(auth).__name__}")
    shortcuts = oauth_issuer or oauth_audience or oauth_jwks_uri or oauth_scopes
    if auth is not None and shortcuts:
        raise ValueError("give auth=Authorization(...) or the oauth_* options, not both")
    if oauth_issuer is not None or oauth_audience is not None:
        if oauth_issuer is None or oauth_audience is None:
            raise ValueError("oauth_issuer and oauth_audience go together: the issuer and this server's URL")
        auth = Authorization.from_issuer(
            oauth_issuer, resource=oauth_audience, jwks_uri=oauth_jwks_uri, required_scopes=oauth_scopes
        )
    elif shortcuts:
        raise ValueError("oauth_jwks_uri and oauth_scopes need oauth_issuer and oauth_audience")
    if auth is not None and (token_verifier is not None or required_scopes):
        raise ValueError(
            "auth replaces token_verifier and required_scopes: give them to "
            "Authorization(verifier=..., required_scopes=...)"
        )
    return auth


def installing(routes: Sequence[BaseRoute], lifespan: Lifespan[Any]) -> Lifespan[Any]:
    """``lifespan``, first adding ``routes`` to the app that runs it when that app lacks them: the
    host app of a mounted MCP app then serves the metadata at its root."""

    @asynccontextmanager
    async def run(app: Any) -> AsyncIterator[Any]:
        router = getattr(app, "router", None)
        if isinstance(router, Router):
            present = {getattr(route, "path", None) for route in router.routes}
            missing = [route for route in routes if getattr(route, "path", None) not in present]
            router.routes[0:0] = missing
        async with lifespan(app) as state:
            yield state

    return run


class _Guard:
    """The checks of :class:`Authorization` in front of an MCP endpoint."""

    def __init__(
        self, app: ASGIApp, authorization: Authorization, server: MCPKit, max_body_size: int
    ) -> None:
        self._app = app
        self._authorization = authorization
        self._server = server
        self._max_body_size = max_body_size
        self._scopes_of: tuple[object, frozenset[str]] = (None, frozenset())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if any(
            name == "access_token" for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        ):
            description = "access tokens are accepted in the Authorization header only, never in the URL"
            await self._refuse(scope, receive, send, 400, "invalid_request", description)
            return
        try:
            user = await self._authenticate(scope)
        except TokenVerificationUnavailable as exc:
            logger.error("cannot verify bearer tokens now: %s", exc)
            body = {"error": "temporarily_unavailable", "error_description": "tokens cannot be verified now"}
            await JSONResponse(body, status_code=503, headers={"Retry-After": "5"})(scope, receive, send)
            return
        if user is None:
            await self._unauthorized(scope, receive, send)
            return
        scope["user"], scope["auth"] = user, AuthCredentials(user.scopes)
        granted = frozenset(user.scopes)
        needed = frozenset(self._authorization.required_scopes)
        if scope["method"] == "POST" and self._in_use() - granted:
            asked, receive = await self._asked(receive)
            needed |= asked
        if needed - granted:
            description = f"this request needs the scopes {' '.join(sorted(needed))}"
            await self._refuse(scope, receive, send, 403, "insufficient_scope", description, needed)
            return
        context = auth_context_var.set(user)
        try:
            await self._app(scope, receive, send)
        finally:
            auth_context_var.reset(context)

    async def _authenticate(self, scope: Scope) -> AuthenticatedUser | None:
        """The user of the request's bearer token, if the verifier accepts it, it has not expired
        (with the verifiers' leeway) and it was not issued for another resource (RFC 8707)."""
        header = next((value for key, value in scope.get("headers", []) if key == b"authorization"), b"")
        scheme, _, token = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        access = await self._authorization.verifier.verify_token(token.strip())
        if access is None:
            return None
        if access.expires_at is not None and access.expires_at + DEFAULT_LEEWAY < time.time():
            logger.info("bearer token refused: it has expired")
            return None
        if access.resource is not None and _canonical(access.resource) != _canonical(
            self._authorization.resource
        ):
            logger.info("bearer token refused: it was issued for another resource")
            return None
        return AuthenticatedUser(access)

    def _in_use(self) -> frozenset[str]:
        """Every scope a component of the server asks for (recomputed when its components change)."""
        catalog = self._server.catalog()
        if self._scopes_of[0] is not catalog:
            self._scopes_of = (catalog, _component_scopes(self._server))
        return self._scopes_of[1]

    async def _asked(self, receive: Receive) -> tuple[frozenset[str], Receive]:
        """The scopes the JSON-RPC message(s) of the body need, and a ``receive`` replaying the
        body. A body over the size limit, or not JSON, needs none here: the endpoint refuses it."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self._max_body_size or not message.get("more_body", False):
                break
        replayed = _replay(messages, receive)
        if size > self._max_body_size:
            return frozenset(), replayed
        try:
            payload = json.loads(b"".join(m.get("body", b"") for m in messages))
        except (ValueError, RecursionError):
            return frozenset(), replayed
        asked: set[str] = set()
        for item in payload if isinstance(payload, list) else [payload]:
            if isinstance(item, dict) and isinstance(item.get("method"), str):
                params = item.get("params")
                asked |= self._server.required_scopes(
                    item["method"], params if isinstance(params, dict) else None
                )
        return frozenset(asked), replayed

    async def _unauthorized(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent_token = any(key == b"authorization" for key, _ in scope.get("headers", []))
        error = "invalid_token" if sent_token else None
        description = (
            "the access token is not valid for this resource" if sent_token else "an access token is needed"
        )
        await self._refuse(scope, receive, send, 401, error, description, self._authorization.required_scopes)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        error: str | None,
        description: str,
        scopes: Iterable[str] = (),
    ) -> None:
        challenge = self._authorization.www_authenticate(error, description, scopes)
        headers = {"WWW-Authenticate": challenge, "Access-Control-Expose-Headers": "WWW-Authenticate"}
        body = {"error": error or "invalid_token", "error_description": description}
        await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


class QueryTokenMask(logging.Filter):
    """Masks ``access_token`` values in the URLs of log records (uvicorn's access log names each
    request's path with its query string), so a token a client wrongly put there is not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, its arguments masked."""
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY_TOKEN.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


def mask_query_tokens(logger_name: str = "uvicorn.access") -> None:
    """Install :class:`QueryTokenMask` on ``logger_name`` (once)."""
    target = logging.getLogger(logger_name)
    if not any(isinstance(existing, QueryTokenMask) for existing in target.filters):
        target.addFilter(QueryTokenMask())


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _component_scopes(server: MCPKit) -> frozenset[str]:
    """Every scope the server's enabled components (those of mounted servers included) ask for."""
    catalog = server.catalog()
    found: set[str] = set()
    for kind in (catalog.tools, catalog.resources, catalog.templates, catalog.prompts):
        for component in kind.values():
            found |= component.scopes
    return frozenset(found)


def _scope_names(option: str, scopes: Sequence[str]) -> list[str]:
    if isinstance(scopes, str):
        raise TypeError(f"{option} takes a list of scope names, not the string {scopes!r}")
    names = list(scopes)
    for name in names:
        if not isinstance(name, str) or not name or any(c.isspace() or c in '"\\' for c in name):
            raise ValueError(f"{option}: a scope name has no spaces or quotes, got {name!r}")
    return names


def _canonical(resource: str) -> str:
    return resource_url_from_server_url(resource).rstrip("/")


def _quoted(text: str) -> str:
    return _QUOTED.sub(lambda match: "\\" + match.group(0), text)

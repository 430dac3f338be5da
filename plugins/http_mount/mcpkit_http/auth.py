"""Optional bearer-token auth for the MCP endpoint, with the SDK's ``TokenVerifier`` support."""

from __future__ import annotations

from collections.abc import Sequence

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import TokenVerifier
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.types import ASGIApp


def require_bearer_token(app: ASGIApp, verifier: TokenVerifier, required_scopes: Sequence[str]) -> ASGIApp:
    """Wrap ``app`` so that only requests with a bearer token ``verifier`` accepts reach it.

    No token, or one the verifier rejects or that has expired: 401 with a ``WWW-Authenticate`` header.
    A valid token missing one of ``required_scopes``: 403. The route itself carries the check, so it
    holds when the MCP app's routes are merged into another app.
    """
    if isinstance(required_scopes, str):
        raise TypeError(f"required_scopes takes a list of strings, not the string {required_scopes!r}")
    if not callable(getattr(verifier, "verify_token", None)):
        raise TypeError(
            "token_verifier must have an async verify_token(token) method "
            f"(mcp.server.auth.provider.TokenVerifier), got {type(verifier).__name__}"
        )
    required = RequireAuthMiddleware(app, list(required_scopes))
    return AuthenticationMiddleware(AuthContextMiddleware(required), backend=BearerAuthBackend(verifier))

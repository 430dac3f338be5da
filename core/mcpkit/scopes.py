"""Scopes per component: a component with ``scopes`` is seen and used only by tokens that hold them.

The access token is the one the serving transport verified for the request (the HTTP plugin's
authorization, or any SDK ``TokenVerifier``). A request without a token (stdio, in memory, HTTP
served without authorization) is not checked: scopes protect a server served with authorization.
A token lacking a component's scopes does not see it in listings; calling it is refused with
:class:`InsufficientScopeError` naming the scopes (over HTTP, the plugin answers 403
``insufficient_scope`` first, so the client can ask for them: step-up authorization).
"""

from __future__ import annotations

from collections.abc import Iterable

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_REQUEST


class InsufficientScopeError(MCPError):
    """The request's token lacks scopes the component needs (``data.requiredScopes`` names them)."""

    def __init__(self, what: str, scopes: Iterable[str]) -> None:
        self.scopes = sorted(scopes)
        super().__init__(
            code=INVALID_REQUEST,
            message=f"{what} needs the scopes {', '.join(self.scopes)}; the token does not hold them all",
            data={"requiredScopes": self.scopes},
        )


def current_token() -> AccessToken | None:
    """The access token of the request being served, if the transport verified one."""
    return get_access_token()


def missing_scopes(required: frozenset[str]) -> frozenset[str]:
    """The scopes of ``required`` the request's token lacks (none without a token)."""
    if not required:
        return frozenset()
    token = get_access_token()
    if token is None:
        return frozenset()
    return required - frozenset(token.scopes)


def check_scopes(what: str, required: frozenset[str]) -> None:
    """Raise :class:`InsufficientScopeError` if the request's token lacks some of ``required``."""
    missing = missing_scopes(required)
    if missing:
        raise InsufficientScopeError(what, required)

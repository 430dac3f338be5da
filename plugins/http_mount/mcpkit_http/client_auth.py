"""Signing in to a protected MCP server from ``mcpkit.Client(url, auth=...)``, with the SDK's OAuth
client (``mcp.client.auth``): on a 401 it reads the server's protected resource metadata, finds the
authorization server (RFC 8414 or OpenID metadata), registers dynamically where allowed, gets a
token for that resource (RFC 8707), refreshes it, and signs in again for more scopes on a 403
``insufficient_scope``.

- :func:`authorization_code`: a user signs in (the code flow with PKCE); ``authorize`` is given the
  authorization URL, opens it (a browser) and returns the URL the browser was sent back to;
- :func:`client_credentials`: a service signs in with its own client id and secret.

Tokens and the registration live in ``storage`` (any SDK ``TokenStorage``; by default
:class:`MemoryTokenStorage`, for the life of the object).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl, urlsplit

from mcp.client.auth import OAuthClientProvider, OAuthFlowError, TokenStorage
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

DEFAULT_REDIRECT_URI = "http://127.0.0.1:33418/callback"

Authorize = Callable[[str], Awaitable[str]]
"""Given the authorization URL, lets the user sign in and returns the URL they were sent back to
(the redirect URI with ``code`` and ``state``)."""


class MemoryTokenStorage:
    """Keeps tokens and the client registration in memory (the SDK's ``TokenStorage`` protocol)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    def __repr__(self) -> str:
        return f"MemoryTokenStorage(tokens={'set' if self.tokens else 'none'})"

    async def get_tokens(self) -> OAuthToken | None:
        """The tokens stored."""
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        """Store ``tokens``."""
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        """The client registration stored."""
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        """Store ``client_info``."""
        self.client_info = client_info


def authorization_code(
    server_url: str,
    *,
    authorize: Authorize,
    redirect_uri: str = DEFAULT_REDIRECT_URI,
    scopes: Sequence[str] | None = None,
    client_name: str = "mcpkit",
    storage: TokenStorage | None = None,
) -> OAuthClientProvider:
    """Sign in as a user to the MCP server at ``server_url``: authorization code with PKCE.

    ``scopes``: those to ask for (default: those the server's 401 or metadata names).
    ``redirect_uri``: where the authorization server sends the browser back; the application
    serves it (or, in tests, ``authorize`` reads it from the authorization endpoint's redirect).
    """
    landed: list[str] = []

    async def redirect(authorization_url: str) -> None:
        landed.append(await authorize(authorization_url))

    async def callback() -> AuthorizationCodeResult:
        if not landed:
            raise OAuthFlowError("authorize returned no URL to read the authorization code from")
        answer = dict(parse_qsl(urlsplit(landed.pop()).query))
        if "error" in answer:
            detail = answer.get("error_description", "")
            raise OAuthFlowError(f"the authorization server refused: {answer['error'][:100]} {detail[:300]}")
        return AuthorizationCodeResult(
            code=answer.get("code", ""), state=answer.get("state"), iss=answer.get("iss")
        )

    metadata = OAuthClientMetadata(
        client_name=client_name,
        redirect_uris=[redirect_uri],  # type: ignore[list-item]  # validated into a URL
        grant_types=["authorization_code", "refresh_token"],
        scope=" ".join(scopes) if scopes else None,
    )
    return OAuthClientProvider(server_url, metadata, storage or MemoryTokenStorage(), redirect, callback)


def client_credentials(
    server_url: str,
    *,
    client_id: str,
    client_secret: str,
    issuer: str,
    scopes: Sequence[str] | None = None,
    storage: TokenStorage | None = None,
) -> ClientCredentialsOAuthProvider:
    """Sign in as a service to the MCP server at ``server_url`` with credentials ``issuer`` gave it;
    they are only ever sent to that issuer, whatever the server's metadata says."""
    return ClientCredentialsOAuthProvider(
        server_url,
        storage or MemoryTokenStorage(),
        client_id,
        client_secret,
        scope=" ".join(scopes) if scopes else None,
        issuer=issuer,
    )

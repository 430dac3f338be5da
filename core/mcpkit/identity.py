"""Who is calling: the identity rate limits and result caches are kept per.

:func:`client_identity` names the client of a request, most trustworthy first: the principal of the
verified access token (its client id, issuer and subject, hashed), else the Streamable HTTP session
id, else the HTTP client's address (the peer of the connection, as the ASGI server reports it), else
``"anonymous"`` (stdio, in memory). A session id is chosen by the server but a client may open as
many sessions as it likes; serve with authorization to identify clients that cannot pick a new name.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from mcp.server.auth.provider import AccessToken, principal_components

if TYPE_CHECKING:
    from mcpkit.context import Context

ANONYMOUS = "anonymous"
"""The identity of a request that carries nothing to tell its client by."""


def client_identity(context: Context) -> str:
    """The identity of the client of the request ``context`` serves (see the module docstring)."""
    token = context.access_token
    if token is not None:
        return "token:" + token_principal(token)
    session = context.session_id
    if session:
        return "session:" + session
    client = getattr(context.sdk.request, "client", None) if context.sdk is not None else None
    host = getattr(client, "host", None)
    if isinstance(host, str) and host:
        return "address:" + host
    return ANONYMOUS


def token_principal(token: AccessToken) -> str:
    """A digest naming the principal of ``token`` (its client id, issuer and subject)."""
    principal = "\x1f".join(part or "" for part in principal_components(token))
    return hashlib.sha256(principal.encode()).hexdigest()[:32]

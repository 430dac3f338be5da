"""Host/Origin validation against DNS rebinding, as the SDK's transport security settings."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mcp.server.transport_security import TransportSecuritySettings

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Bind addresses for which Host/Origin validation is on by default."""

LOOPBACK_ALLOWED_HOSTS = ("127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*")
"""Host headers accepted by default on a loopback bind (``:*`` matches any port)."""


def transport_security(
    *,
    host: str,
    allowed_hosts: Sequence[str] | None,
    allowed_origins: Sequence[str] | None,
    dns_rebinding_protection: bool | None,
) -> TransportSecuritySettings:
    """The SDK settings for these options.

    Validation is on when ``dns_rebinding_protection`` is true, or when it is ``None`` (the default)
    and either an allow-list is given or ``host`` is a loopback address. Accepted Host headers are
    ``allowed_hosts``, else the loopback names; accepted Origins are ``allowed_origins``, else
    ``http://`` and ``https://`` with each accepted host. A request without an Origin is accepted.
    """
    hosts = _names("allowed_hosts", allowed_hosts)
    origins = _names("allowed_origins", allowed_origins)
    if dns_rebinding_protection is False:
        if hosts is not None or origins is not None:
            raise ValueError("allowed_hosts and allowed_origins need dns_rebinding_protection on")
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if dns_rebinding_protection is None and hosts is None and origins is None and host not in LOOPBACK_HOSTS:
        logger.warning(
            "Host/Origin validation is off for the MCP endpoint bound to %s; pass allowed_hosts=[...] "
            "(mcpkit serve: --allowed-host NAME, or MCPKIT_ALLOWED_HOSTS), the names clients use to "
            "reach it, to protect it against DNS rebinding",
            host,
        )
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if hosts is None:
        hosts = list(LOOPBACK_ALLOWED_HOSTS)
    elif not hosts:
        raise ValueError("allowed_hosts is empty, so every request would be refused")
    if origins is None:
        origins = [f"{scheme}://{name}" for name in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _names(option: str, names: Sequence[str] | None) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise TypeError(f"{option} takes a list of strings, not the string {names!r}")
    checked = list(names)
    for name in checked:
        if not isinstance(name, str) or not name or name != name.strip():
            raise ValueError(f"{option} entries must be non-empty strings without spaces, got {name!r}")
    return checked

"""Bounded fetches of the small JSON documents authorization needs: an issuer's metadata, its keys,
an introspection answer. Each is at most :data:`MAX_DOCUMENT_BYTES`, within :data:`FETCH_TIMEOUT`."""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2

MAX_DOCUMENT_BYTES = 1024 * 1024
FETCH_TIMEOUT = 10.0


class TokenVerificationUnavailable(Exception):
    """Tokens cannot be checked now: the issuer's keys or the introspection endpoint could not be
    had. The request is answered 503, not 401, so clients do not sign in again for nothing."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(option: str, url: object, *, https: bool = True) -> str:
    """``url`` if it is an absolute http(s) URL without fragment (https unless on loopback, when
    ``https``); a ``ValueError`` saying what is wrong otherwise."""
    if not isinstance(url, str):
        raise TypeError(f"{option} must be a URL string, got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{option} must be an absolute http(s) URL, got {url!r}")
    if parts.fragment:
        raise ValueError(f"{option} must not have a fragment, got {url!r}")
    if https and parts.scheme != "https" and not is_loopback(parts.hostname):
        raise ValueError(f"{option} must use https (plain http only on loopback), got {url!r}")
    return url


async def fetch_json(client: httpx2.AsyncClient, what: str, method: str, url: str, **request: Any) -> Any:
    """The JSON document at ``url``; :class:`TokenVerificationUnavailable` naming ``what`` when it
    cannot be had (unreachable, an error status, too big, slow, not JSON). Never says more of the
    request than its URL: it may carry credentials."""
    try:
        with anyio.fail_after(FETCH_TIMEOUT):
            async with client.stream(method, url, timeout=FETCH_TIMEOUT, **request) as response:
                if response.status_code != 200:
                    raise TokenVerificationUnavailable(
                        f"{what} at {url} answered HTTP {response.status_code}"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise TokenVerificationUnavailable(
                            f"{what} at {url} is larger than {MAX_DOCUMENT_BYTES:,} bytes"
                        )
    except TimeoutError:
        raise TokenVerificationUnavailable(f"{what} at {url} took longer than {FETCH_TIMEOUT:g} s") from None
    except httpx2.HTTPError as exc:
        raise TokenVerificationUnavailable(
            f"{what} at {url} could not be fetched: {type(exc).__name__}"
        ) from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise TokenVerificationUnavailable(f"{what} at {url} is not JSON") from None

"""Token verifiers for a server served as an OAuth protected resource (docs/authorization.md).

Each has the SDK's ``TokenVerifier`` shape (``async verify_token(token) -> AccessToken | None``):

- :class:`JWTVerifier`: JWT access tokens, checked with PyJWT against the issuer's keys (a JWKS URL,
  given or found in the issuer's metadata; a PEM public key; or a shared secret): signature, issuer,
  audience, expiry and not-before (with a small leeway), from an allow-list of algorithms.
- :class:`IntrospectionVerifier`: opaque tokens, asked of the issuer's RFC 7662 endpoint.
- :class:`StaticTokenVerifier`: a fixed table of tokens, for development and tests.

A token refused is ``None`` (the request gets 401) and the reason is logged, never the token. When
keys or the introspection endpoint cannot be had, :class:`TokenVerificationUnavailable` (503).
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import get_default_algorithms
from mcp.server.auth.provider import AccessToken

from mcpkit_http.fetch import TokenVerificationUnavailable, check_url, fetch_json

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 16 * 1024
"""A longer bearer token is refused unread."""
MAX_JWKS_KEYS = 100
"""Keys of a JWKS beyond this many are ignored."""
DEFAULT_LEEWAY = 30.0
"""Seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``."""
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
MIN_SECRET_BYTES = 32
"""A shared secret shorter than this (256 bits, RFC 7518 §3.2) is refused."""

__all__ = [
    "IntrospectionVerifier",
    "JWTVerifier",
    "StaticTokenVerifier",
    "TokenVerificationUnavailable",
]


class JWTVerifier:
    """Verifies JWT access tokens issued by ``issuer`` for ``audience`` (one value or several).

    The keys come from exactly one of: ``jwks_uri``; ``public_key`` (PEM); ``secret`` (HMAC, at
    least 32 bytes); or, when none is given, the ``jwks_uri`` of the issuer's RFC 8414 (else OpenID)
    metadata. The JWKS is cached for ``jwks_cache_seconds`` and fetched again when a token names an
    unknown ``kid``, at most once every ``jwks_refresh_interval`` seconds, so tokens with made-up
    key ids cannot make the server hammer the issuer. ``algorithms`` is the allow-list (default:
    the asymmetric ones for keys, the HMAC ones for a secret); ``none`` is never accepted, nor HMAC
    with a public key. Issuer and key URLs must use https, except on loopback.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Sequence[str],
        jwks_uri: str | None = None,
        public_key: str | bytes | None = None,
        secret: str | bytes | None = None,
        algorithms: Sequence[str] | None = None,
        leeway: float = DEFAULT_LEEWAY,
        jwks_cache_seconds: float = 3600.0,
        jwks_refresh_interval: float = 30.0,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.issuer = check_url("issuer", issuer)
        self.audience = _audiences(audience)
        sources = [
            name
            for name, value in (("jwks_uri", jwks_uri), ("public_key", public_key), ("secret", secret))
            if value
        ]
        if len(sources) > 1:
            raise ValueError(f"give one source of keys, not {' and '.join(sources)}")
        self.algorithms = _allowed_algorithms(algorithms, hmac_secret=secret is not None)
        if not isinstance(leeway, (int, float)) or isinstance(leeway, bool) or not 0 <= leeway <= 300:
            raise ValueError(f"leeway must be a number of seconds from 0 to 300, got {leeway!r}")
        self.leeway = float(leeway)
        self._key: PublicKeyTypes | bytes | None = None
        self._jwks: JWKSCache | None = None
        if secret is not None:
            self._key = _secret(secret)
        elif public_key is not None:
            self._key = _public_key(public_key)
        else:
            self._jwks = JWKSCache(
                jwks_uri=None if jwks_uri is None else check_url("jwks_uri", jwks_uri),
                issuer=self.issuer,
                cache_seconds=jwks_cache_seconds,
                refresh_interval=jwks_refresh_interval,
                http_client=http_client,
            )

    def __repr__(self) -> str:
        return f"JWTVerifier(issuer={self.issuer!r}, audience={list(self.audience)!r})"

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's access, or ``None`` (reason logged) if it is not a valid token of the issuer
        for this audience."""
        if len(token) > MAX_TOKEN_LENGTH:
            return _refused(f"it is longer than {MAX_TOKEN_LENGTH:,} characters")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return _refused("it is not a JWT")
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            return _refused(
                f"its algorithm {str(algorithm)[:20]!r} is not one of {', '.join(self.algorithms)}"
            )
        key: Any = self._key
        if self._jwks is not None:
            kid = header.get("kid")
            key = await self._jwks.key(kid if isinstance(kid, str) else None, algorithm)
            if key is None:
                return _refused("no key of the issuer's JWKS matches its key id and algorithm")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            return _refused(f"{type(exc).__name__}: {exc}")
        return access_token(token, claims, audience=self.audience)


class JWKSCache:
    """The signing keys of a JWKS URL (or of the one the issuer's metadata names), fetched when
    first needed, again after ``cache_seconds``, and on an unknown key id at most once every
    ``refresh_interval`` seconds; one fetch at a time."""

    def __init__(
        self,
        *,
        jwks_uri: str | None,
        issuer: str,
        cache_seconds: float,
        refresh_interval: float,
        http_client: httpx2.AsyncClient | None,
    ) -> None:
        self._uri = jwks_uri
        self._issuer = issuer
        self._cache_seconds = cache_seconds
        self._refresh_interval = refresh_interval
        self._client = http_client
        self._keys: list[dict[str, Any]] = []
        self._fetched_at = -math.inf
        self._lock = anyio.Lock()
        self.fetches = 0
        """How many times the JWKS was fetched (or tried)."""

    async def key(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        """The key for a token's ``kid`` and ``alg``, or ``None``."""
        if time.monotonic() - self._fetched_at >= self._cache_seconds:
            await self._refresh(self._fetched_at)
        found = self._find(kid, algorithm)
        if found is None and time.monotonic() - self._fetched_at >= self._refresh_interval:
            await self._refresh(self._fetched_at)
            found = self._find(kid, algorithm)
        return found

    def _find(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        candidates = [key for key in self._keys if key.get("kid") == kid] if kid is not None else self._keys
        if kid is None and len(candidates) != 1:
            return None  # without a key id, only an issuer with a single key is unambiguous
        for candidate in candidates:
            if candidate.get("alg", algorithm) != algorithm:
                continue
            try:
                return jwt.PyJWK(candidate, algorithm=algorithm)
            except jwt.PyJWTError:
                continue  # a key of another type than the algorithm's
        return None

    async def _refresh(self, seen: float) -> None:
        async with self._lock:
            if self._fetched_at != seen:
                return  # another request fetched the keys meanwhile
            self.fetches += 1
            try:
                self._keys = await self._fetch()
            except TokenVerificationUnavailable:
                if not self._keys:
                    self._fetched_at = time.monotonic() - self._cache_seconds  # retry on the next token
                    raise
                logger.warning(
                    "keeping the issuer's keys fetched before: the JWKS could not be fetched again"
                )
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> list[dict[str, Any]]:
        async with _http(self._client) as client:
            if self._uri is None:
                self._uri = await discover_jwks_uri(client, self._issuer)
            document = await fetch_json(client, "the issuer's JWKS", "GET", self._uri)
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise TokenVerificationUnavailable(f"the JWKS at {self._uri} has no list of keys")
        usable = [
            key
            for key in keys[:MAX_JWKS_KEYS]
            if isinstance(key, dict) and key.get("kty") != "oct" and key.get("use", "sig") == "sig"
        ]
        logger.info("fetched %d signing keys from %s", len(usable), self._uri)
        return usable


async def discover_jwks_uri(client: httpx2.AsyncClient, issuer: str) -> str:
    """The ``jwks_uri`` of ``issuer``'s RFC 8414 metadata, else of its OpenID configuration; the
    document must name the same issuer."""
    problems = []
    for url in metadata_urls(issuer):
        try:
            document = await fetch_json(client, "the issuer's metadata", "GET", url)
        except TokenVerificationUnavailable as exc:
            problems.append(str(exc))
            continue
        named = str(document.get("issuer", "")) if isinstance(document, dict) else ""
        if named.rstrip("/") != issuer.rstrip("/"):
            problems.append(f"the metadata at {url} is not that of issuer {issuer}")
            continue
        if not isinstance(document.get("jwks_uri"), str):
            problems.append(f"the metadata at {url} has no jwks_uri")
            continue
        try:
            return check_url("the issuer's jwks_uri", document["jwks_uri"])
        except ValueError as exc:
            problems.append(str(exc))
    raise TokenVerificationUnavailable(f"no JWKS found for issuer {issuer}: {'; '.join(problems)}")


def metadata_urls(issuer: str) -> list[str]:
    """Where ``issuer`` publishes its metadata: RFC 8414 (the well-known path before the issuer's
    path), then OpenID Connect Discovery (after it, then before it)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")

    def at(well_known: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, well_known, "", ""))

    urls = [
        at(f"/.well-known/oauth-authorization-server{path}"),
        at(f"{path}/.well-known/openid-configuration"),
    ]
    if path:
        urls.append(at(f"/.well-known/openid-configuration{path}"))
    return urls


class IntrospectionVerifier:
    """Verifies opaque tokens with the issuer's RFC 7662 introspection endpoint, authenticating
    as ``client_id``/``client_secret`` (HTTP basic). A token must be ``active`` and its ``aud`` must
    name ``audience``; its ``iss`` must be ``issuer`` when given."""

    def __init__(
        self,
        *,
        introspection_endpoint: str,
        client_id: str,
        client_secret: str,
        audience: str | Sequence[str],
        issuer: str | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.endpoint = check_url("introspection_endpoint", introspection_endpoint)
        self.audience = _audiences(audience)
        self.issuer = issuer
        self._credentials = (client_id, client_secret)
        self._client = http_client

    def __repr__(self) -> str:
        return f"IntrospectionVerifier(endpoint={self.endpoint!r}, audience={list(self.audience)!r})"

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's access as the endpoint describes it, or ``None``."""
        if len(token) > MAX_TOKEN_LENGTH:
            return _refused(f"it is longer than {MAX_TOKEN_LENGTH:,} characters")
        async with _http(self._client) as client:
            answer = await fetch_json(
                client,
                "the introspection endpoint",
                "POST",
                self.endpoint,
                data={"token": token, "token_type_hint": "access_token"},
                auth=httpx2.BasicAuth(*self._credentials),
                headers={"Accept": "application/json"},
            )
        if not isinstance(answer, dict) or answer.get("active") is not True:
            return _refused("the introspection endpoint says it is not active")
        if self.issuer is not None and answer.get("iss") != self.issuer:
            return _refused("it was not issued by the configured issuer")
        claims = {key: value for key, value in answer.items() if key != "active"}
        audiences = claims.get("aud")
        if not set(audiences if isinstance(audiences, list) else [audiences]) & set(self.audience):
            return _refused("it was not issued for this resource (its aud)")
        exp = claims.get("exp")
        if exp is not None and (not isinstance(exp, (int, float)) or exp < time.time()):
            return _refused("it has expired")
        return access_token(token, claims, audience=self.audience)


class StaticTokenVerifier:
    """A fixed table of tokens and their scopes, for development and tests only: the tokens never
    expire and are not bound to an audience. Compared in constant time."""

    def __init__(
        self, tokens: Mapping[str, Iterable[str]], *, client_id: str = "dev", subject: str | None = None
    ) -> None:
        if not isinstance(tokens, Mapping) or not tokens:
            raise TypeError("tokens must be a non-empty mapping of token to its scopes")
        self._tokens: dict[str, list[str]] = {}
        for token, scopes in tokens.items():
            if isinstance(scopes, str):
                raise TypeError("the scopes of a token are a list of names, not a string")
            self._tokens[token] = sorted(scopes)
        self.client_id = client_id
        self.subject = subject
        logger.warning("StaticTokenVerifier accepts fixed tokens: use it for development only")

    def __repr__(self) -> str:
        return f"StaticTokenVerifier({len(self._tokens)} tokens)"

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access of ``token`` if it is in the table."""
        found: list[str] | None = None
        for known, scopes in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = scopes
        if found is None:
            return _refused("it is not one of the static tokens")
        return AccessToken(token=token, client_id=self.client_id, scopes=found, subject=self.subject)


def access_token(token: str, claims: dict[str, Any], *, audience: Sequence[str]) -> AccessToken:
    """The SDK's ``AccessToken`` for verified ``claims`` (``scope`` or ``scp``, ``client_id`` or
    ``azp``, ``sub``, ``exp``)."""
    scope = claims.get("scope", claims.get("scp", ""))
    scopes = (
        scope.split()
        if isinstance(scope, str)
        else [s for s in scope if isinstance(s, str)]
        if isinstance(scope, list)
        else []
    )
    client_id = claims.get("client_id", claims.get("azp"))
    subject = claims.get("sub")
    exp = claims.get("exp")
    return AccessToken(
        token=token,
        client_id=client_id if isinstance(client_id, str) else "",
        scopes=scopes,
        expires_at=int(exp) if isinstance(exp, (int, float)) else None,
        subject=subject if isinstance(subject, str) else None,
        claims=claims,
    )


def _refused(reason: str) -> AccessToken | None:
    """``None``, the reason logged (never the token)."""
    logger.info("bearer token refused: %s", reason)
    return None


def _audiences(audience: object) -> tuple[str, ...]:
    values = (
        [audience] if isinstance(audience, str) else list(audience) if isinstance(audience, Sequence) else []
    )
    if not values or not all(isinstance(value, str) and value for value in values):
        raise ValueError(
            "audience must be this resource's identifier (its canonical URL) or a list of them, "
            f"got {audience!r}"
        )
    return tuple(values)


def _allowed_algorithms(algorithms: Sequence[str] | None, *, hmac_secret: bool) -> tuple[str, ...]:
    """The allow-list: ``none`` never; HMAC only with a secret, and only HMAC with one."""
    if algorithms is None:
        return HMAC_ALGORITHMS if hmac_secret else ASYMMETRIC_ALGORITHMS
    if isinstance(algorithms, str) or not algorithms:
        raise TypeError(f"algorithms takes a non-empty list of names like ['RS256'], got {algorithms!r}")
    known = get_default_algorithms()
    for name in algorithms:
        if str(name).lower() == "none":
            raise ValueError("the 'none' algorithm cannot be allowed: unsigned tokens prove nothing")
        if name not in known:
            raise ValueError(f"unknown algorithm {name!r}; known: {', '.join(sorted(set(known) - {'none'}))}")
        if (name in HMAC_ALGORITHMS) != hmac_secret:
            raise ValueError(
                f"algorithm {name!r} needs a shared secret"
                if name in HMAC_ALGORITHMS
                else f"algorithm {name!r} needs a public key or JWKS, not a shared secret"
            )
    return tuple(algorithms)


def _secret(secret: str | bytes) -> bytes:
    value = secret.encode() if isinstance(secret, str) else bytes(secret)
    if len(value) < MIN_SECRET_BYTES:
        raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes (256 bits, RFC 7518)")
    return value


def _public_key(pem: str | bytes) -> PublicKeyTypes:
    try:
        return load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    except (ValueError, TypeError):
        raise ValueError("public_key must be a PEM public key ('-----BEGIN PUBLIC KEY-----')") from None


@asynccontextmanager
async def _http(given: httpx2.AsyncClient | None) -> AsyncIterator[httpx2.AsyncClient]:
    """``given`` as it is, or a fresh client closed afterwards."""
    if given is not None:
        yield given
        return
    async with httpx2.AsyncClient(follow_redirects=False) as client:
        yield client

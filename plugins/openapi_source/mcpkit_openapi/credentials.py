"""Credentials for a document's security schemes, applied to each request as its operation requires.

``auth={scheme name: value}``:

- ``apiKey``: the key (text), sent where the scheme says: header, query parameter or cookie;
- ``http`` bearer: the token; ``http`` basic: ``(user, password)``;
- ``oauth2`` with a ``clientCredentials`` flow: ``{"client_id": ..., "client_secret": ...,
  "scopes": [...]}`` (scopes optional). The token is fetched from the flow's ``tokenUrl`` (HTTP basic
  client authentication, then form fields if the server refuses that), cached until 60 seconds
  before it expires, and fetched again once when the API answers 401.

When credentials are configured, each operation gets exactly those of its effective ``security``
requirement (the operation's own, else the document's): alternatives are tried in order and the first
whose schemes are all configured wins; ``{}`` allows anonymous calls; ``security: []`` needs none.
An operation whose requirement no configured credentials meet is refused before anything is sent.
Without any credentials configured, requests go out as the client makes them.

Secrets never reach the model: every text of a call (results, error messages) is masked with the
call's :class:`Secrets`, and the records of httpx's loggers with the configured credentials.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import weakref
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

import anyio
import httpx

from mcpkit import ToolError
from mcpkit_openapi.errors import ConversionWarning
from mcpkit_openapi.model import Operation, ParsedDocument, Requirement, SecurityScheme

FETCHED_TOKENS_MASKED = 16
"""Fetched OAuth2 tokens masked at most: the current ones and the last few (an API may echo an old one)."""

TOKEN_MARGIN = 60.0
"""Seconds before its expiry at which a cached OAuth2 token is fetched again."""

MASK = "***"

MIN_SECRET_CHARS = 6
"""Shorter values are not masked: masking ``"1"`` or ``"json"`` would garble every result, and no real
key, token or password is that short."""

PUBLIC_HEADERS = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-length",
        "content-type",
        "host",
        "pragma",
        "te",
        "transfer-encoding",
        "user-agent",
    }
)
"""Headers whose values are never secrets: they describe the request's content and the client."""


@dataclass(frozen=True, slots=True)
class Selection:
    """The credentials chosen for one operation: scheme names (empty: anonymous), or why none fit."""

    schemes: tuple[str, ...] = ()
    missing: str | None = None


def applicable(scheme: SecurityScheme) -> bool:
    """Whether mcpkit can apply ``scheme`` itself."""
    if scheme.type == "apiKey":
        return scheme.location in ("header", "query", "cookie") and bool(scheme.parameter)
    if scheme.type == "http":
        return scheme.scheme in ("bearer", "basic")
    if scheme.type == "oauth2":
        return scheme.token_url is not None
    return False


def describe(scheme: SecurityScheme) -> str:
    """``'name' (kind)`` for messages."""
    kind = scheme.type
    if scheme.type == "http":
        kind = f"http {scheme.scheme}"
    elif scheme.type == "oauth2":
        kind = f"oauth2 {'/'.join(scheme.flows) or 'without flows'}"
    elif scheme.type == "apiKey":
        kind = f"apiKey in {scheme.location}"
    return f"{scheme.name!r} ({kind})"


class Credentials:
    """The configured credentials of one document, and the OAuth2 tokens fetched with them."""

    def __init__(self, schemes: Mapping[str, SecurityScheme], values: Mapping[str, Any]) -> None:
        self._schemes = dict(schemes)
        self._values: dict[str, Any] = {}
        self._secrets: list[str] = []
        self._fetched: deque[str] = deque(maxlen=FETCHED_TOKENS_MASKED)
        for name, value in values.items():
            scheme = self._schemes.get(name)
            if scheme is None:
                valid = ", ".join(repr(n) for n in sorted(self._schemes)) or "the document defines none"
                raise ValueError(f"auth names an unknown security scheme {name!r}; valid: {valid}")
            if not applicable(scheme):
                raise ValueError(
                    f"security scheme {describe(scheme)} cannot be applied by mcpkit; pass "
                    "client=httpx.AsyncClient(auth=...) with your own authentication instead"
                )
            self._values[name] = _checked(scheme, value)
            self._secrets.extend(_secrets(self._values[name]))
        self._secrets.sort(key=len, reverse=True)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = anyio.Lock()
        if self._values:
            _LOG_MASK.watch(self)

    def __repr__(self) -> str:
        return f"Credentials({', '.join(sorted(self._values))})"

    @property
    def configured(self) -> bool:
        """Whether any credentials are configured (then operations get exactly theirs)."""
        return bool(self._values)

    def select(
        self, requirements: tuple[Requirement, ...], assumed: frozenset[str] = frozenset()
    ) -> Selection:
        """The first alternative of ``requirements`` that the configured credentials meet; schemes in
        ``assumed`` are taken as met by the client itself."""
        if not requirements:
            return Selection()
        for requirement in requirements:
            if all(name in self._values or name in assumed for name in requirement):
                return Selection(tuple(name for name in requirement if name in self._values))
        needed = " or ".join(" + ".join(repr(n) for n in r) for r in requirements)
        return Selection(
            missing=(
                f"this operation needs credentials for {needed}; configure them with "
                "auth={scheme name: value} when the server is built, the MCPKIT_AUTH setting, "
                "or mcpkit serve --auth NAME=VALUE"
            )
        )

    async def apply(self, client: httpx.AsyncClient, request: httpx.Request, selection: Selection) -> None:
        """Add the selected credentials to ``request``."""
        for name in selection.schemes:
            scheme, value = self._schemes[name], self._values[name]
            if scheme.type == "apiKey":
                _put(request, scheme.location or "header", scheme.parameter or name, value)
            elif scheme.type == "http" and scheme.scheme == "bearer":
                request.headers["Authorization"] = f"Bearer {value}"
            elif scheme.type == "http":
                request.headers["Authorization"] = "Basic " + _basic(*value)
            else:
                request.headers["Authorization"] = f"Bearer {await self._token(client, scheme)}"

    def uses_tokens(self, selection: Selection) -> bool:
        """Whether ``selection`` includes an OAuth2 token (worth fetching again after a 401)."""
        return any(self._schemes[name].type == "oauth2" for name in selection.schemes)

    def forget_tokens(self) -> None:
        """Drop cached OAuth2 tokens (after the API refused one)."""
        self._tokens.clear()

    def secrets(self) -> list[str]:
        """The configured secrets (in every spelling they may travel in) and the fetched tokens."""
        current = (token for token, _ in self._tokens.values())
        return list(dict.fromkeys([*self._secrets, *current, *self._fetched]))

    def mask(self, text: str) -> str:
        """``text`` with every configured secret (and fetched token) replaced by ``***``."""
        for secret in self.secrets():
            if secret and secret in text:
                text = text.replace(secret, MASK)
        return text

    async def _token(self, client: httpx.AsyncClient, scheme: SecurityScheme) -> str:
        cached = self._tokens.get(scheme.name)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        async with self._lock:
            cached = self._tokens.get(scheme.name)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = await self._fetch(client, scheme)
            self._tokens[scheme.name] = (token, time.monotonic() + max(lifetime - TOKEN_MARGIN, 0.0))
            return token

    async def _fetch(self, client: httpx.AsyncClient, scheme: SecurityScheme) -> tuple[str, float]:
        value = self._values[scheme.name]
        assert scheme.token_url is not None
        form = {"grant_type": "client_credentials"}
        if value.get("scopes"):
            form["scope"] = " ".join(value["scopes"])
        basic = {"Authorization": "Basic " + _basic(value["client_id"], value["client_secret"])}
        try:
            response = await client.post(scheme.token_url, data=form, headers=basic)
            if response.status_code in (400, 401):
                fields = {**form, "client_id": value["client_id"], "client_secret": value["client_secret"]}
                response = await client.post(scheme.token_url, data=fields)
        except httpx.HTTPError as exc:
            raise ToolError(
                self.mask(f"fetching a token for {scheme.name!r} failed: {type(exc).__name__}: {exc}")
            ) from None
        if not response.is_success:
            answer = f"{response.status_code}: {response.text[:300]}"
            raise ToolError(self.mask(f"the token endpoint of {scheme.name!r} answered {answer}"))
        try:
            payload = response.json()
            token = payload["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ToolError(f"the token endpoint of {scheme.name!r} gave no access_token") from None
        expires_in = payload.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else float("inf")
        self._fetched.append(str(token))
        return str(token), lifetime


class Security:
    """Chooses the credentials of each operation from its effective ``security`` requirement."""

    def __init__(
        self, document: ParsedDocument, credentials: Credentials, *, assume_client_auth: bool
    ) -> None:
        self._document = document
        self._credentials = credentials
        schemes = document.security_schemes
        used = {
            name
            for op in document.operations
            for requirement in self._requirements(op)
            for name in requirement
        }
        for name in sorted(used - set(schemes)):
            document.warnings.append(
                ConversionWarning(
                    "#/components/securitySchemes", f"security scheme {name!r} is used but not defined"
                )
            )
        self._unapplied = frozenset(n for n in used & set(schemes) if not applicable(schemes[n]))
        for name in sorted(self._unapplied):
            if not assume_client_auth:
                document.warnings.append(
                    ConversionWarning(
                        f"#/components/securitySchemes/{name}",
                        f"security scheme {describe(schemes[name])} cannot be applied by mcpkit; operations "
                        "that need it only work with client=httpx.AsyncClient(auth=...) carrying your own "
                        "authentication",
                    )
                )
        self._assumed = self._unapplied if assume_client_auth else frozenset()

    def _requirements(self, operation: Operation) -> tuple[Requirement, ...]:
        return operation.security if operation.security is not None else self._document.security

    def selection(self, operation: Operation) -> Selection:
        """The credentials ``operation`` gets (nothing, when none are configured at all)."""
        if not self._credentials.configured:
            return Selection()
        return self._credentials.select(self._requirements(operation), assumed=self._assumed)


class Secrets:
    """The secrets of one call, in every spelling they may travel in, and masking with them: as they
    are, percent-encoded and decoded (URLs, forms), and escaped as JSON text writes them (with or
    without ``\\uXXXX`` for non-ASCII, and ``\\/`` for ``/``, as some encoders do)."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        forms = {form for value in values if len(value) >= MIN_SECRET_CHARS for form in _spellings(value)}
        escaped = {json.dumps(form, ensure_ascii=only)[1:-1] for form in forms for only in (False, True)}
        escaped |= {form.replace("/", "\\/") for form in escaped}
        every = forms | escaped
        self._forms = sorted((form for form in every if len(form) >= MIN_SECRET_CHARS), key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for secret in self._forms:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def in_json(self, text: str) -> bool:
        """Whether the JSON ``text`` carries a secret."""
        return any(secret in text for secret in self._forms)

    def mask_json(self, value: Any) -> Any:
        """A copy of the JSON ``value`` with secrets masked in its strings and keys; a number that
        spells a secret becomes ``"***"``. Shared parts are copied each time they appear."""
        root: list[Any] = [None]
        # An explicit stack, not recursion: a response may nest 1,024 levels, deeper than Python allows.
        stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
        while stack:
            parent, key, item = stack.pop()
            if isinstance(item, str):
                parent[key] = self.mask(item)
            elif isinstance(item, list):
                parent[key] = items = [None] * len(item)
                stack.extend((items, index, child) for index, child in enumerate(item))
            elif isinstance(item, dict):
                members: dict[str, Any] = {}
                parent[key] = members
                for name, child in item.items():
                    masked = self.mask(name)
                    members[masked] = None  # keeps the order of the keys
                    stack.append((members, masked, child))
            elif isinstance(item, (int, float)) and not isinstance(item, bool) and str(item) in self._forms:
                parent[key] = MASK
            else:
                parent[key] = item
        return root[0]


def header_secrets(name: str, value: str) -> list[str]:
    """The secrets a request header carries: nothing for :data:`PUBLIC_HEADERS`; each value of a
    ``Cookie``; else the whole value, the credentials after a scheme (``Bearer <token>``), and a basic
    pair's ``user:password`` and password."""
    name = name.lower()
    if name in PUBLIC_HEADERS:
        return []
    if name == "cookie":
        return [_cookie_value(cookie) for cookie in value.split(";")]
    scheme, _, credentials = value.strip().partition(" ")
    found = [value, credentials.strip()]
    if scheme.lower() == "basic":
        try:
            pair = base64.b64decode(credentials.strip(), validate=True).decode()
        except ValueError:  # not base64, or not UTF-8 (UnicodeDecodeError is a ValueError)
            pair = ""
        found += [pair, pair.partition(":")[2]]
    return found


def request_secrets(request: httpx.Request, chosen: frozenset[tuple[str, str]]) -> list[str]:
    """The secrets ``request`` carries that the model did not choose: header values and cookies (the
    client's own, credentials, forwarded headers, an auth flow's ``Authorization``) and query values.
    ``chosen`` holds the ``(kind, name)`` of the operation's parameters (header names lowercased)."""
    found = []
    for raw_name, raw_value in request.headers.raw:
        name = raw_name.decode("latin-1").lower()
        if name in PUBLIC_HEADERS:
            continue  # most headers of most requests: not worth decoding their values
        value = raw_value.decode(request.headers.encoding)
        if name == "cookie":
            for cookie in value.split(";"):
                if ("cookie", cookie.partition("=")[0].strip()) not in chosen:
                    found.append(_cookie_value(cookie))
        elif ("header", name) not in chosen:
            found += header_secrets(name, value)
    if request.url.query:  # parsed only when there is one
        found += [value for name, value in request.url.params.multi_items() if ("query", name) not in chosen]
    return found


def _cookie_value(cookie: str) -> str:
    return cookie.partition("=")[2].strip()


class _LogMask(logging.Filter):
    """Masks configured secrets in the records of the HTTP client's loggers: httpx logs every request
    URL at INFO level, query-string keys included."""

    LOGGERS = ("httpx", "httpcore")

    def __init__(self) -> None:
        super().__init__()
        self._credentials: weakref.WeakSet[Credentials] = weakref.WeakSet()

    def watch(self, credentials: Credentials) -> None:
        if not self._credentials:
            for name in self.LOGGERS:
                logger = logging.getLogger(name)
                if self not in logger.filters:
                    logger.addFilter(self)
        self._credentials.add(credentials)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = message
        for credentials in list(self._credentials):
            masked = credentials.mask(masked)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


_LOG_MASK = _LogMask()


def _checked(scheme: SecurityScheme, value: Any) -> Any:
    what = describe(scheme)
    if scheme.type == "http" and scheme.scheme == "basic":
        if isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) for v in value):
            return (value[0], value[1])
        raise ValueError(f"auth for {what} must be a (user, password) pair")
    if scheme.type == "oauth2":
        if not isinstance(value, Mapping) or not {"client_id", "client_secret"} <= set(value):
            raise ValueError(
                f"auth for {what} must be {{'client_id': ..., 'client_secret': ..., 'scopes': [...]}}"
            )
        unknown = set(value) - {"client_id", "client_secret", "scopes"}
        if unknown:
            raise ValueError(f"auth for {what} has unknown keys: {', '.join(sorted(unknown))}")
        return dict(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"auth for {what} must be a non-empty string")
    return value


def _secrets(value: Any) -> list[str]:
    """The secret strings of a credential, in every spelling they may travel in."""
    if isinstance(value, tuple):
        secrets = [value[1], _basic(*value)]
    elif isinstance(value, Mapping):
        secrets = [str(value["client_secret"])]
    else:
        secrets = [value]
    return sorted({form for secret in secrets for form in _spellings(secret)})


def _spellings(secret: str) -> set[str]:
    """``secret`` as it is, percent-encoded (as in a URL or form) and percent-decoded."""
    return {secret, quote(secret, safe=""), quote_plus(secret), unquote_plus(secret)}


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _put(request: httpx.Request, location: str, name: str, value: str) -> None:
    if location == "query":
        request.url = request.url.copy_merge_params({name: value})
    elif location == "cookie":
        cookie = f"{name}={value}"
        existing = request.headers.get("Cookie")
        request.headers["Cookie"] = f"{existing}; {cookie}" if existing else cookie
    else:
        request.headers[name] = value

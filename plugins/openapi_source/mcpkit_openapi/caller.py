"""Sending one operation's request and reading its response, within bounds and without leaking secrets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from mcpkit import ResourceError, ToolError, ToolResult
from mcpkit.context import forwarded_headers
from mcpkit_openapi.credentials import Credentials, Secrets, Selection, header_secrets, request_secrets
from mcpkit_openapi.plan import RequestPlan
from mcpkit_openapi.request import build_request
from mcpkit_openapi.response import ResponseReader

if TYPE_CHECKING:
    from mcpkit_openapi.filters import Filter

DEFAULT_TIMEOUT = 30.0
"""Seconds a whole call may take unless ``timeout`` says otherwise: from connecting (and fetching a
token) to the last byte of the response, redirects and a retry after a 401 included."""


@dataclass(frozen=True)
class Access:
    """How one operation reaches the API: client, base URL, credentials, timeout."""

    client: httpx.AsyncClient
    credentials: Credentials
    selection: Selection
    base_url: str | None = None
    """An absolute base URL for this operation (its own ``servers``), else the client's."""
    timeout: float | None = None
    """Seconds a whole call may take, and each connect, read, write and pool wait in it; ``None``:
    :data:`DEFAULT_TIMEOUT` for the whole call, and the client's own timeouts for each step."""

    @property
    def deadline(self) -> float:
        """Seconds a whole call may take."""
        return self.timeout if self.timeout is not None else DEFAULT_TIMEOUT


@dataclass
class Caller:
    """Sends the request of one operation and reads its response. Redirects are followed only within the
    request's origin, and only if the client follows them. Every text of a call, results included, is
    masked with the call's secrets (:meth:`secrets`)."""

    plan: RequestPlan
    reader: ResponseReader
    access: Access

    async def tool_result(self, arguments: Mapping[str, Any], expression: Filter | None = None) -> ToolResult:
        """Call the operation, the response reduced by the JMESPath ``expression`` if given; every
        failure raises :class:`~mcpkit.ToolError`."""
        sent: list[httpx.Request] = []
        try:
            response = await self._send(arguments, sent, result=expression is None)
            secrets = self.secrets(sent)
            return await self.reader.tool_result(response, expression, secrets)
        except ToolError as exc:
            raise ToolError(self.secrets(sent).mask(str(exc))) from None

    async def resource_value(self, arguments: Mapping[str, Any], mime_type: str | None) -> Any:
        """Read the operation as a resource; every failure raises :class:`~mcpkit.ResourceError`."""
        sent: list[httpx.Request] = []
        try:
            response = await self._send(arguments, sent)
            return self.reader.resource_value(response, mime_type, self.secrets(sent))
        except ToolError as exc:
            raise ResourceError(self.secrets(sent).mask(str(exc))) from None

    def secrets(self, sent: list[httpx.Request]) -> Secrets:
        """The secrets of a call that sent ``sent``: configured credentials and fetched tokens, the
        forwarded headers, and what the requests carried that the model did not choose (the client's
        headers, cookies and query parameters, an auth flow's ``Authorization``)."""
        found = self.access.credentials.secrets()
        for name, value in forwarded_headers().items():
            found += header_secrets(name, value)
        for request in sent:
            found += request_secrets(request, self._chosen)
        return Secrets(found)

    @cached_property
    def _chosen(self) -> frozenset[tuple[str, str]]:
        """The ``(kind, name)`` of the operation's parameters: their values come from the model."""
        return frozenset(
            (b.kind, b.name.lower() if b.kind == "header" else b.name)
            for b in self.plan.bindings
            if b.kind in ("header", "cookie", "query")
        )

    async def _send(
        self, arguments: Mapping[str, Any], sent: list[httpx.Request], result: bool = False
    ) -> httpx.Response:
        """The response, read (as a tool's unfiltered ``result``: see :meth:`ResponseReader.read`); the
        whole call within the access's deadline."""
        access = self.access
        if access.selection.missing:
            raise ToolError(access.selection.missing)
        try:
            with anyio.fail_after(access.deadline):
                response = await self._send_once(arguments, sent, result)
                if response.status_code == 401 and access.credentials.uses_tokens(access.selection):
                    access.credentials.forget_tokens()
                    response = await self._send_once(arguments, sent, result)
                return response
        except (TimeoutError, httpx.TimeoutException) as exc:
            where = f"{self.plan.method} {sent[-1].url.path if sent else self.plan.path}"
            if access.timeout is None and isinstance(exc, httpx.TimeoutException):
                raise ToolError(
                    f"{where} timed out ({type(exc).__name__}: a timeout of the client)"
                ) from None
            raise ToolError(f"{where} timed out after {access.deadline:g} s") from None

    async def _send_once(
        self, arguments: Mapping[str, Any], sent: list[httpx.Request], result: bool
    ) -> httpx.Response:
        access = self.access
        request = build_request(access.client, self.plan, arguments, forwarded_headers(), access.base_url)
        sent.append(request)
        if access.timeout is not None:
            request.extensions["timeout"] = httpx.Timeout(access.timeout).as_dict()
        try:
            await access.credentials.apply(access.client, request, access.selection)
            response = await self._send_following(request, sent)
            try:
                return await self.reader.read(response, result=result)
            finally:
                await response.aclose()
        except httpx.ConnectError as exc:
            raise ToolError(_unreachable(request, exc)) from None
        except httpx.TimeoutException:
            raise
        except httpx.HTTPError as exc:
            raise ToolError(
                f"{self.plan.method} {request.url.path} failed: {type(exc).__name__}: {exc}"
            ) from None

    async def _send_following(self, request: httpx.Request, sent: list[httpx.Request]) -> httpx.Response:
        """Send ``request``, following redirects only if the client follows them and only within the
        request's origin (scheme, host, port); a redirect elsewhere is returned, never followed."""
        client = self.access.client
        response = await client.send(request, stream=True, follow_redirects=False)
        for _ in range(client.max_redirects if client.follow_redirects else 0):
            target = response.next_request
            if target is None or not _same_origin(target.url, request.url):
                break
            await response.aclose()
            sent.append(target)
            await self.access.credentials.apply(client, target, self.access.selection)
            response = await client.send(target, stream=True, follow_redirects=False)
        return response


def _unreachable(request: httpx.Request, exc: httpx.ConnectError) -> str:
    """What to say when the API cannot be reached: where mcpkit tried, and how to point it elsewhere."""
    url = request.url
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    origin = f"{url.scheme}://{url.host}" + (f":{port}" if port else "")
    return (
        f"{request.method} {url.path} failed: {type(exc).__name__}: {exc} (connecting to {origin}). "
        "If the API is elsewhere, set its base URL: client=httpx.AsyncClient(base_url=...) or "
        "server_url=... in Python, --base-url on the command line"
    )


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)

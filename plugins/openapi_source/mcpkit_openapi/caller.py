"""Sending one operation's request and reading its response, within bounds and without leaking secrets."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from mcpkit import ResourceError, ToolError, ToolResult
from mcpkit.context import forwarded_headers
from mcpkit_openapi.credentials import Credentials, Selection, mask_forwarded
from mcpkit_openapi.plan import RequestPlan
from mcpkit_openapi.request import build_request
from mcpkit_openapi.response import ResponseReader

if TYPE_CHECKING:
    from mcpkit_openapi.response import Filter

READ_LIMIT = 32 * 1024 * 1024
"""Bytes of a response read at most while results are bounded; a larger one is refused unread."""


@dataclass(frozen=True)
class Access:
    """How one operation reaches the API: client, base URL, credentials, timeout."""

    client: httpx.AsyncClient
    credentials: Credentials
    selection: Selection
    base_url: str | None = None
    """An absolute base URL for this operation (its own ``servers``), else the client's."""
    timeout: float | None = None
    max_response_bytes: int | None = None
    """Bound of a result; responses are read up to :data:`READ_LIMIT` then (``None``: no bounds)."""


@dataclass
class Caller:
    """Sends the request of one operation and reads its response. Redirects are followed only within the
    request's origin, and only if the client follows redirects. Error texts never carry secrets."""

    plan: RequestPlan
    reader: ResponseReader
    access: Access

    async def tool_result(self, arguments: Mapping[str, Any], expression: Filter | None = None) -> ToolResult:
        """Call the operation, the response reduced by the JMESPath ``expression`` if given; every
        failure raises :class:`~mcpkit.ToolError`."""
        try:
            return self.reader.tool_result(await self._send(arguments), expression)
        except ToolError as exc:
            raise ToolError(self._mask(str(exc))) from None

    async def resource_value(self, arguments: Mapping[str, Any], mime_type: str | None) -> Any:
        """Read the operation as a resource; every failure raises :class:`~mcpkit.ResourceError`."""
        try:
            return self.reader.resource_value(await self._send(arguments), mime_type)
        except ToolError as exc:
            raise ResourceError(self._mask(str(exc))) from None

    def _mask(self, text: str) -> str:
        """``text`` without configured secrets, nor the credentials of forwarded headers."""
        return mask_forwarded(self.access.credentials.mask(text), forwarded_headers())

    async def _send(self, arguments: Mapping[str, Any]) -> httpx.Response:
        access = self.access
        if access.selection.missing:
            raise ToolError(access.selection.missing)
        response = await self._send_once(arguments)
        if response.status_code == 401 and access.credentials.uses_tokens(access.selection):
            access.credentials.forget_tokens()
            response = await self._send_once(arguments)
        return response

    async def _send_once(self, arguments: Mapping[str, Any]) -> httpx.Response:
        access = self.access
        request = build_request(access.client, self.plan, arguments, forwarded_headers(), access.base_url)
        deadline: AbstractContextManager[Any] = nullcontext()
        if access.timeout is not None:
            request.extensions["timeout"] = httpx.Timeout(access.timeout).as_dict()
            deadline = anyio.fail_after(access.timeout)
        try:
            with deadline:
                await access.credentials.apply(access.client, request, access.selection)
                response = await self._send_following(request)
                try:
                    return await _read(response, None if access.max_response_bytes is None else READ_LIMIT)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            limit = f" after {access.timeout:g} s" if access.timeout is not None else ""
            raise ToolError(f"{self.plan.method} {request.url.path} timed out{limit}") from None
        except httpx.HTTPError as exc:
            raise ToolError(
                f"{self.plan.method} {request.url.path} failed: {type(exc).__name__}: {exc}"
            ) from None

    async def _send_following(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, following redirects only if the client follows them and only within the
        request's origin (scheme, host, port); a redirect elsewhere is returned, never followed."""
        client = self.access.client
        response = await client.send(request, stream=True, follow_redirects=False)
        for _ in range(client.max_redirects if client.follow_redirects else 0):
            target = response.next_request
            if target is None or not _same_origin(target.url, request.url):
                break
            await response.aclose()
            await self.access.credentials.apply(client, target, self.access.selection)
            response = await client.send(target, stream=True, follow_redirects=False)
        return response


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


async def _read(response: httpx.Response, limit: int | None) -> httpx.Response:
    """``response`` with its body read; past ``limit`` bytes the body is refused, not read."""
    where = f"{response.request.method} {response.request.url.path}"
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and "content-encoding" not in response.headers:
        # A declared, uncompressed length: checked up front, then read as it is.
        if limit is not None and int(length) > limit:
            raise ToolError(f"{where} returned {int(length):,} bytes, more than the {limit:,} read at most")
        await response.aread()
        return response
    chunks = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if limit is not None and size > limit:
            raise ToolError(f"{where} returned more than {limit:,} bytes; the rest was not read")
        chunks.append(chunk)
    headers = [
        (key, value)
        for key, value in response.headers.multi_items()
        if key.lower() not in ("content-encoding", "content-length")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
    )

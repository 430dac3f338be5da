"""A convenient client on top of the SDK's ``mcp.Client``: in memory, over HTTP, or over stdio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import mcp
import mcp_types as types
from mcp.client.stdio import StdioServerParameters

from mcpkit.allocation import gc_paused
from mcpkit.components import WRAPPED_RESULT_META
from mcpkit.exceptions import ToolCallError
from mcpkit.server import MCPKit

ResourceContents = list[types.TextResourceContents | types.BlobResourceContents]


@dataclass(frozen=True)
class ToolCallResult:
    """The result of a tool call. ``data`` is the structured content, unwrapped if the server wrapped it."""

    content: list[types.ContentBlock]
    structured_content: dict[str, Any] | None
    data: Any
    is_error: bool
    meta: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        """The text of all text content blocks, joined by newlines."""
        return "\n".join(block.text for block in self.content if isinstance(block, types.TextContent))


class Client:
    """Connects to an MCP server and calls it.

    ``target`` is one of: an :class:`~mcpkit.MCPKit` (in memory, no network), a URL (Streamable
    HTTP, or SSE with ``transport="sse"``), a command line as a list of strings or
    :class:`~mcp.client.stdio.StdioServerParameters` (stdio), or any SDK transport.

    ``mode`` picks the protocol era: ``"auto"`` (default; the 2026-07-28 protocol when the server
    offers it), ``"legacy"`` (the initialize handshake), or a protocol version.
    """

    def __init__(
        self,
        target: MCPKit | str | Sequence[str] | StdioServerParameters | Any,
        *,
        mode: str = "auto",
        transport: Literal["http", "sse"] = "http",
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        raise_on_error: bool = True,
    ) -> None:
        self.raise_on_error = raise_on_error
        server: Any
        if isinstance(target, MCPKit):
            server = target.lowlevel_server
        elif isinstance(target, str):
            server = _url_transport(target, transport, dict(headers or {}))
        elif isinstance(target, Sequence) and target and all(isinstance(part, str) for part in target):
            server = StdioServerParameters(command=target[0], args=list(target[1:]))
        else:
            server = target
        self._client = mcp.Client(server, mode=mode, read_timeout_seconds=timeout)

    async def __aenter__(self) -> Client:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._client.__aexit__(*exc_info)

    @property
    def session(self) -> mcp.ClientSession:
        """The SDK session, for everything this class does not wrap."""
        return self._client.session

    @property
    def protocol_version(self) -> str:
        """The negotiated protocol version."""
        return self._client.protocol_version

    @property
    def server_info(self) -> types.Implementation | None:
        """The server's name and version, when it gives them."""
        return self._client.server_info

    async def list_tools(self) -> list[types.Tool]:
        """All tools (every page)."""
        return await _every_page(self._client.list_tools, lambda page: page.tools)

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        raise_on_error: bool | None = None,
        read_timeout: float | None = None,
    ) -> ToolCallResult:
        """Call a tool. An error result raises :class:`~mcpkit.exceptions.ToolCallError` unless
        ``raise_on_error=False`` (here or on the client). ``read_timeout`` bounds the wait (seconds)."""
        result = await self._client.call_tool(name, dict(arguments or {}), read_timeout_seconds=read_timeout)
        should_raise = self.raise_on_error if raise_on_error is None else raise_on_error
        call = ToolCallResult(
            content=list(result.content),
            structured_content=result.structured_content,
            data=_data(result.structured_content, bool((result.meta or {}).get(WRAPPED_RESULT_META))),
            is_error=bool(result.is_error),
            meta=result.meta,
        )
        if call.is_error and should_raise:
            raise ToolCallError(name, call.text or "(no message)")
        return call

    async def list_resources(self) -> list[types.Resource]:
        """All fixed-URI resources (every page)."""
        return await _every_page(self._client.list_resources, lambda page: page.resources)

    async def list_resource_templates(self) -> list[types.ResourceTemplate]:
        """All resource templates (every page)."""
        return await _every_page(self._client.list_resource_templates, lambda page: page.resource_templates)

    async def read_resource(self, uri: str) -> ResourceContents:
        """The contents of the resource at ``uri``."""
        result = await self._client.read_resource(uri)
        return list(result.contents)


PageT = TypeVar("PageT", bound=types.PaginatedResult)
ItemT = TypeVar("ItemT")


async def _every_page(
    fetch: Callable[..., Awaitable[PageT]], items: Callable[[PageT], Sequence[ItemT]]
) -> list[ItemT]:
    """The items of every page a paginated list call gives, following ``next_cursor``. A page of a
    large server is a burst of long-lived objects: the garbage collector is paused while it is read."""
    found: list[ItemT] = []
    cursor: str | None = None
    while True:
        with gc_paused():
            page = await fetch(cursor=cursor)
        found.extend(items(page))
        cursor = page.next_cursor
        if cursor is None:
            return found


def _data(structured: dict[str, Any] | None, wrapped: bool) -> Any:
    if structured is not None and wrapped:
        return structured.get("result")
    return structured


def _url_transport(url: str, transport: str, headers: dict[str, str]) -> Any:
    import httpx2
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    if transport == "sse":
        return sse_client(url, headers=headers)
    if transport != "http":
        raise ValueError(f"unknown client transport {transport!r}; valid choices: 'http', 'sse'")

    @asynccontextmanager
    async def connect() -> AsyncIterator[Any]:
        timeout = httpx2.Timeout(30.0, read=300.0)
        async with (
            httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
            streamable_http_client(url, http_client=http) as streams,
        ):
            yield streams

    return connect()

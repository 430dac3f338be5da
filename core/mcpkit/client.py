"""A convenient client on top of the SDK's ``mcp.Client``: in memory, over HTTP, or over stdio.

Besides calling tools, reading resources and getting prompts, it answers what a server asks
(``elicitation_handler``, ``sampling_handler``), receives what a server sends (``log_handler``,
``progress_handler``, ``message_handler`` for change notifications), in both protocol eras.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import mcp
import mcp_types as types
from mcp.client.context import ClientRequestContext
from mcp.client.session import LoggingFnT, MessageHandlerFnT
from mcp.client.stdio import StdioServerParameters
from mcp.client.subscriptions import Subscription
from mcp.shared.dispatcher import ProgressFnT

from mcpkit.allocation import gc_paused
from mcpkit.components import WRAPPED_RESULT_META
from mcpkit.context import LogLevel
from mcpkit.exceptions import ToolCallError
from mcpkit.server import MCPKit

if TYPE_CHECKING:
    import httpx2

ResourceContents = list[types.TextResourceContents | types.BlobResourceContents]
LogHandler = LoggingFnT
"""Receives each log message the server sends (``async def handler(params)``)."""
ProgressHandler = ProgressFnT
"""Receives the progress a call reports (``async def handler(progress, total, message)``)."""
ElicitationHandler = Callable[
    [types.ElicitRequestParams], Awaitable[types.ElicitResult | Mapping[str, Any] | None]
]
"""Answers a server's question: an ``ElicitResult``, or the accepted content (a mapping), or
``None`` to decline."""
SamplingHandler = Callable[[types.CreateMessageRequestParams], Awaitable[types.CreateMessageResult | str]]
"""Answers a server's sampling request: a ``CreateMessageResult``, or the text of the answer."""

SAMPLING_MODEL = "mcpkit-client"
"""The model a text answer of a ``sampling_handler`` is reported as."""


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

    ``log_level`` asks for the server's log messages at that level and above (in the 2026-07-28
    protocol every request carries it; in the handshake era use :meth:`set_logging_level`).
    Declaring ``elicitation_handler`` or ``sampling_handler`` declares the capability.

    ``auth`` (URLs only) authenticates to a server that asks for it: a bearer token (a string), or
    any ``httpx2.Auth``, such as the SDK's OAuth providers (``mcp.client.auth``), which answer a 401
    by discovering the server's authorization server and signing in (docs/authorization.md).
    """

    def __init__(
        self,
        target: MCPKit | str | Sequence[str] | StdioServerParameters | Any,
        *,
        mode: str = "auto",
        transport: Literal["http", "sse"] = "http",
        headers: Mapping[str, str] | None = None,
        auth: str | httpx2.Auth | None = None,
        timeout: float | None = None,
        raise_on_error: bool = True,
        log_handler: LogHandler | None = None,
        log_level: LogLevel | None = None,
        progress_handler: ProgressHandler | None = None,
        elicitation_handler: ElicitationHandler | None = None,
        sampling_handler: SamplingHandler | None = None,
        message_handler: MessageHandlerFnT | None = None,
    ) -> None:
        self.raise_on_error = raise_on_error
        self.progress_handler = progress_handler
        self.target = target
        """What the client connects to, as given."""
        self.connect_options: dict[str, Any] = {
            "mode": mode,
            "transport": transport,
            "headers": headers,
            "auth": auth,
        }
        """How it connects (``mode``, ``transport``, ``headers``, ``auth``): a proxy of it alike."""
        server: Any
        if auth is not None and not isinstance(target, str):
            raise TypeError("auth applies to a server reached by URL")
        if isinstance(target, MCPKit):
            server = target.lowlevel_server
        elif isinstance(target, str):
            server = _url_transport(target, transport, dict(headers or {}), auth)
        elif isinstance(target, Sequence) and target and all(isinstance(part, str) for part in target):
            server = StdioServerParameters(command=target[0], args=list(target[1:]))
        else:
            server = target
        self._client = mcp.Client(
            server,
            mode=mode,
            read_timeout_seconds=timeout,
            logging_callback=log_handler,
            log_level=log_level,
            elicitation_callback=_elicitation_callback(elicitation_handler) if elicitation_handler else None,
            sampling_callback=_sampling_callback(sampling_handler) if sampling_handler else None,
            message_handler=message_handler,
            cache=None,
        )

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

    @property
    def server_capabilities(self) -> types.ServerCapabilities:
        """What the server declared it can do."""
        return self._client.server_capabilities

    async def ping(self) -> None:
        """Check the server answers (handshake era; the 2026-07-28 protocol has no ping)."""
        await self._client.send_ping()

    # Tools

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
        progress_handler: ProgressHandler | None = None,
    ) -> ToolCallResult:
        """Call a tool. An error result raises :class:`~mcpkit.exceptions.ToolCallError` unless
        ``raise_on_error=False`` (here or on the client); so does a result whose structured content
        does not match the tool's output schema, whatever ``raise_on_error`` says, since its data
        cannot be trusted. ``read_timeout`` bounds the wait (seconds); ``progress_handler`` (else
        the client's) receives the progress the tool reports."""
        handler = progress_handler or self.progress_handler
        try:
            result = await self._client.call_tool(
                name, dict(arguments or {}), read_timeout_seconds=read_timeout, progress_callback=handler
            )
        except (RuntimeError, BaseExceptionGroup) as exc:
            reason = _invalid_result(exc)
            if reason is None:
                raise
            raise ToolCallError(name, reason) from exc
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

    # Resources

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

    async def subscribe_resource(self, uri: str) -> None:
        """Ask to be told when the resource at ``uri`` changes (handshake era: ``message_handler``
        receives ``notifications/resources/updated``; 2026-07-28: use :meth:`listen`)."""
        params = types.SubscribeRequestParams(uri=uri)
        await self.session.send_request(types.SubscribeRequest(params=params), types.EmptyResult)

    async def unsubscribe_resource(self, uri: str) -> None:
        """Stop being told about changes of the resource at ``uri`` (handshake era)."""
        params = types.UnsubscribeRequestParams(uri=uri)
        await self.session.send_request(types.UnsubscribeRequest(params=params), types.EmptyResult)

    def listen(
        self,
        *,
        tools: bool = False,
        prompts: bool = False,
        resources: bool = False,
        resource_uris: Sequence[str] = (),
    ) -> AbstractAsyncContextManager[Subscription]:
        """A stream of change events (2026-07-28 protocol): list changes of ``tools``, ``prompts``,
        ``resources``, and updates of the resources at ``resource_uris``::

            async with client.listen(tools=True) as events:
                async for event in events:
                    tools = await client.list_tools()
        """
        return self._client.listen(
            tools_list_changed=tools,
            prompts_list_changed=prompts,
            resources_list_changed=resources,
            resource_subscriptions=resource_uris,
        )

    # Prompts and completions

    async def list_prompts(self) -> list[types.Prompt]:
        """All prompts (every page)."""
        return await _every_page(self._client.list_prompts, lambda page: page.prompts)

    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None
    ) -> types.GetPromptResult:
        """The messages of the prompt ``name`` with ``arguments`` (text values)."""
        return await self._client.get_prompt(name, dict(arguments or {}))

    async def complete(
        self,
        ref: str,
        argument: str,
        value: str = "",
        *,
        context: Mapping[str, str] | None = None,
    ) -> types.Completion:
        """Values for ``argument`` of a prompt (``ref`` is its name) or a resource template (``ref``
        is its URI template, containing ``{``) starting from ``value``; ``context`` holds the
        arguments filled in so far."""
        reference: types.PromptReference | types.ResourceTemplateReference = (
            types.ResourceTemplateReference(type="ref/resource", uri=ref)
            if "{" in ref
            else types.PromptReference(type="ref/prompt", name=ref)
        )
        result = await self._client.complete(
            reference, {"name": argument, "value": value}, dict(context) if context is not None else None
        )
        return result.completion

    # Logging

    async def set_logging_level(self, level: LogLevel) -> None:
        """Ask for log messages at ``level`` and above (handshake era; in the 2026-07-28 protocol the
        client's ``log_level`` says it with every request)."""
        params = types.SetLevelRequestParams(level=level)
        await self.session.send_request(types.SetLevelRequest(params=params), types.EmptyResult)


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


def _invalid_result(exc: BaseException) -> str | None:
    """Why the SDK refused a tool's result (structured content against the output schema), if so."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            reason = _invalid_result(inner)
            if reason is not None:
                return reason
        return None
    text = str(exc)
    if isinstance(exc, RuntimeError) and ("structured content" in text or "Invalid schema for tool" in text):
        return f"the result does not match the tool's output schema: {text}"
    return None


def _elicitation_callback(handler: ElicitationHandler) -> Any:
    async def answer(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        result = await handler(params)
        if isinstance(result, types.ElicitResult):
            return result
        if result is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content=dict(result))

    return answer


def _sampling_callback(handler: SamplingHandler) -> Any:
    async def answer(
        context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        result = await handler(params)
        if isinstance(result, str):
            content = types.TextContent(type="text", text=result)
            return types.CreateMessageResult(role="assistant", content=content, model=SAMPLING_MODEL)
        return result

    return answer


def _url_transport(url: str, transport: str, headers: dict[str, str], auth: str | httpx2.Auth | None) -> Any:
    import httpx2
    from mcp.client.sse import sse_client
    from mcp.client.streamable_http import streamable_http_client

    if isinstance(auth, str):
        headers = {**headers, "Authorization": f"Bearer {auth}"}
        auth = None
    if transport == "sse":
        return sse_client(url, headers=headers, auth=auth)
    if transport != "http":
        raise ValueError(f"unknown client transport {transport!r}; valid choices: 'http', 'sse'")

    @asynccontextmanager
    async def connect() -> AsyncIterator[Any]:
        timeout = httpx2.Timeout(30.0, read=300.0)
        async with (
            httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth) as http,
            streamable_http_client(url, http_client=http) as streams,
        ):
            yield streams

    return connect()

"""The Context of a request: what a tool, resource reader or prompt can ask of the client and server.

A parameter annotated :class:`Context` (any name) is injected and never appears in a schema::

    @mcp.tool
    async def export(report_id: int, ctx: Context) -> str:
        await ctx.info("starting")
        await ctx.report_progress(1, 3)

The server sets the current request around every ``tools/call``, ``resources/read`` and
``prompts/get`` it handles (:func:`current_request`). Called directly (``mcp.call_tool(...)``
outside a request), a component gets a Context without a client: logging and progress do
nothing, and asking the client raises :class:`RuntimeError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import mcp_types as types
from mcp.server.connection import allowed_log_levels
from mcp.shared.message import ServerMessageMetadata

from mcpkit.elicitation import (
    Asking,
    ElicitationResult,
    elicit_result,
    form_for,
    require_capability,
    sampling_messages,
    uses_input_required,
)
from mcpkit.scopes import current_token

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken
    from mcp.server.connection import Connection
    from mcp.server.context import ServerRequestContext

    from mcpkit.server import MCPKit

logger = logging.getLogger(__name__)

AnswerT = TypeVar("AnswerT", types.ElicitResult, types.CreateMessageResult)

LogLevel = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
LOG_LEVELS: tuple[LogLevel, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
LOG_LEVEL_KEY = "mcpkit.log_level"
"""Where ``logging/setLevel`` keeps a connection's level (its ``Connection.state``)."""


class Context:
    """The request being served, for the component serving it (see the module docstring)."""

    __slots__ = ("_asking", "_lifespan_state", "sdk", "server")

    def __init__(
        self, server: MCPKit, sdk: ServerRequestContext[Any, Any] | None, lifespan_state: Any = None
    ) -> None:
        self.server = server
        """The :class:`~mcpkit.MCPKit` serving the request."""
        self.sdk = sdk
        """The SDK's context of the request (``None`` outside one), for what this class does not wrap."""
        self._asking: Asking | None = None
        self._lifespan_state = lifespan_state

    def __repr__(self) -> str:
        method = self.sdk.method if self.sdk is not None else "no request"
        return f"Context({self.server.name!r}, {method})"

    # What the request carries

    @property
    def request_id(self) -> str | None:
        """The JSON-RPC id of the request, as text."""
        return None if self.sdk is None or self.sdk.request_id is None else str(self.sdk.request_id)

    @property
    def protocol_version(self) -> str | None:
        """The protocol version of the request (``2026-07-28``, ``2025-11-25``, ...)."""
        return None if self.sdk is None else self.sdk.protocol_version

    @property
    def client_capabilities(self) -> types.ClientCapabilities | None:
        """What the client declared it can do (sampling, elicitation, roots, ...)."""
        return None if self.sdk is None else self.sdk.session.client_capabilities

    @property
    def client_info(self) -> types.Implementation | None:
        """The client's name and version, when it gave them."""
        if self.sdk is None:
            return None
        params = self.sdk.session.client_params
        return None if params is None else params.client_info

    @property
    def session_id(self) -> str | None:
        """The Streamable HTTP session id (``None`` over stdio, stateless HTTP and 2026-07-28)."""
        connection = self.connection
        return None if connection is None else connection.session_id

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers of the HTTP request that carried this request (empty over stdio and in memory)."""
        request = None if self.sdk is None else self.sdk.request
        headers = getattr(request, "headers", None)
        return headers if isinstance(headers, Mapping) else {}

    @property
    def lifespan_context(self) -> Any:
        """What the server's lifespan yielded (``MCPKit(lifespan=...)``; the app's state for
        ``from_fastapi``; a mounted server's own, for its components)."""
        if self._lifespan_state is not None:
            return self._lifespan_state
        return None if self.sdk is None else self.sdk.lifespan_context

    @property
    def connection(self) -> Connection | None:
        """The SDK connection the request came on (its ``state`` persists across requests)."""
        return None if self.sdk is None else connection_of(self.sdk)

    @property
    def access_token(self) -> AccessToken | None:
        """The caller's verified access token (subject, client id, scopes, claims) when the server
        is served with authorization; ``None`` otherwise. It is never sent to the API behind
        generated tools unless the server forwards the ``Authorization`` header on purpose."""
        return current_token()

    @property
    def forward_headers(self) -> frozenset[str]:
        """Names of the incoming headers the server forwards to the API behind generated tools."""
        return self.server.forward_headers

    # Talking to the client

    async def log(
        self, level: LogLevel, message: Any, *, logger_name: str | None = None, extra: Any = None
    ) -> None:
        """Send a log message to the client (``notifications/message``) if it wants that level.

        Handshake era: every level at or above the one the client set with ``logging/setLevel``
        (all levels until it sets one). 2026-07-28: only what the request opted in to.
        """
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}; valid: {', '.join(LOG_LEVELS)}")
        sdk = self.sdk
        if sdk is None or sdk.request_id is None or level not in _allowed_levels(sdk):
            return
        data = message if extra is None else {"message": message, "extra": extra}
        notification = types.LoggingMessageNotification(
            params=types.LoggingMessageNotificationParams(level=level, data=data, logger=logger_name)
        )
        await sdk.session.send_notification(notification, related_request_id=sdk.request_id)

    async def debug(self, message: Any, *, logger_name: str | None = None, extra: Any = None) -> None:
        """Log at ``debug`` level (see :meth:`log`)."""
        await self.log("debug", message, logger_name=logger_name, extra=extra)

    async def info(self, message: Any, *, logger_name: str | None = None, extra: Any = None) -> None:
        """Log at ``info`` level (see :meth:`log`)."""
        await self.log("info", message, logger_name=logger_name, extra=extra)

    async def warning(self, message: Any, *, logger_name: str | None = None, extra: Any = None) -> None:
        """Log at ``warning`` level (see :meth:`log`)."""
        await self.log("warning", message, logger_name=logger_name, extra=extra)

    async def error(self, message: Any, *, logger_name: str | None = None, extra: Any = None) -> None:
        """Log at ``error`` level (see :meth:`log`)."""
        await self.log("error", message, logger_name=logger_name, extra=extra)

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Tell the client how far the request has come; nothing is sent unless the client asked for
        progress (a progress token)."""
        if self.sdk is not None:
            await self.sdk.session.report_progress(progress, total, message)

    async def close_sse_stream(self) -> None:
        """Close the SSE stream that will carry this request's result, so that the client polls:
        it reconnects after the stream's retry interval and receives what it missed, the result
        included (SEP-1699). Only over Streamable HTTP with an ``event_store``, for clients of
        protocol 2025-11-25 or later; elsewhere it does nothing."""
        if self.sdk is not None and self.sdk.close_sse_stream is not None:
            await self.sdk.close_sse_stream()

    async def read_resource(self, uri: str) -> list[types.TextResourceContents | types.BlobResourceContents]:
        """The contents of one of this server's resources."""
        return await self.server.read_resource(uri)

    @overload
    async def elicit(self, message: str, response_type: None = None) -> ElicitationResult[None]: ...
    @overload
    async def elicit(self, message: str, response_type: type[Any]) -> ElicitationResult[Any]: ...
    @overload
    async def elicit(self, message: str, response_type: Sequence[str]) -> ElicitationResult[str]: ...
    async def elicit(self, message: str, response_type: Any = None) -> ElicitationResult[Any]:
        """Ask the user a question; returns :class:`~mcpkit.elicitation.AcceptedElicitation` (with
        ``data`` of ``response_type``), ``DeclinedElicitation`` or ``CancelledElicitation``.

        ``response_type``: ``None`` (accept or decline), ``bool``/``int``/``float``/``str``, a
        ``Literal``, an ``Enum`` or a list of strings (choices), or a dataclass, ``TypedDict`` or
        pydantic model with fields of those kinds (a form). Works in both protocol eras (see
        :mod:`mcpkit.elicitation`); a client without the elicitation capability is refused with
        the protocol's ``-32021`` error before anything is sent.
        """
        form = form_for(response_type)
        request = types.ElicitRequest(
            params=types.ElicitRequestFormParams(message=message, requested_schema=form.schema)
        )
        return elicit_result(form, await self.ask(request, types.ElicitResult, "ctx.elicit()"))

    async def sample(
        self,
        messages: str | Sequence[str | types.SamplingMessage],
        *,
        system_prompt: str | None = None,
        temperature: float | None = None,
        max_tokens: int = 512,
        model_preferences: types.ModelPreferences | None = None,
        stop_sequences: Sequence[str] | None = None,
    ) -> types.CreateMessageResult:
        """Ask the client's language model for a completion of ``messages`` (texts are the user's);
        the result's ``content`` is the model's answer. Both protocol eras; a client without the
        sampling capability is refused with ``-32021`` before anything is sent."""
        params = types.CreateMessageRequestParams(
            messages=sampling_messages(messages),
            system_prompt=system_prompt,
            temperature=temperature,
            max_tokens=max_tokens,
            model_preferences=model_preferences,
            stop_sequences=list(stop_sequences) if stop_sequences is not None else None,
        )
        request = types.CreateMessageRequest(params=params)
        return await self.ask(request, types.CreateMessageResult, "ctx.sample()")

    async def ask(
        self,
        request: types.ElicitRequest | types.CreateMessageRequest,
        result_type: type[AnswerT],
        what: str = "ctx.ask()",
    ) -> AnswerT:
        """Ask the client a protocol question as it stands (a form or URL elicitation, a sampling
        request) in the request's protocol era, after checking the capability it needs; ``what``
        names the asker in a refusal. :meth:`elicit` and :meth:`sample` are the usual way; this is
        for questions made elsewhere (a proxy passing on its remote server's)."""
        sdk = self.sdk
        if sdk is None:
            raise RuntimeError(f"{what} needs a client: the component was called outside a request")
        require_capability(sdk, request, what)
        if uses_input_required(sdk):
            return result_type.model_validate(self._ask(request))
        metadata = ServerMessageMetadata(related_request_id=sdk.request_id)
        return await sdk.session.send_request(request, result_type, metadata=metadata)

    def _ask(self, request: types.ElicitRequest | types.CreateMessageRequest) -> Any:
        """The client's answer to ``request`` from this or an earlier round, else end the round."""
        assert self.sdk is not None
        if self._asking is None:
            self._asking = Asking.from_params(self.sdk.params)
        key, answer = self._asking.answer(request)
        if answer is None:
            raise self._asking.required(key, request)
        return answer


def connection_of(sdk: ServerRequestContext[Any, Any]) -> Connection | None:
    """The connection a request came on (the SDK keeps it on the request's session)."""
    connection: Connection | None = getattr(sdk.session, "_connection", None)
    return connection


def _allowed_levels(sdk: ServerRequestContext[Any, Any]) -> frozenset[str]:
    """The log levels this request may send: the request's opt-in (2026-07-28) or the level the
    connection set (handshake era)."""
    allowed = allowed_log_levels(sdk.protocol_version, sdk.meta)
    connection = connection_of(sdk)
    minimum = None if connection is None else connection.state.get(LOG_LEVEL_KEY)
    if minimum is None:
        return allowed
    return allowed & frozenset(LOG_LEVELS[LOG_LEVELS.index(minimum) :])


_current: ContextVar[Context | None] = ContextVar("mcpkit_request", default=None)


def current_request() -> Context | None:
    """The :class:`Context` of the request being served, or ``None`` outside one."""
    context = _current.get()
    return context if context is not None and context.sdk is not None else None


def current_context() -> Context | None:
    """The Context a component gets: the request's, or one without a client for a component called
    directly (``None`` outside the server's calls)."""
    return _current.get()


def forwarded_headers() -> dict[str, str]:
    """The incoming HTTP headers this server is configured to forward to the API behind its tools.

    Only headers named in ``MCPKit(forward_headers=[...])`` (or ``MCPKIT_FORWARD_HEADERS``) are
    returned, lowercased; nothing is forwarded by default. Sources that call HTTP APIs add these to
    their outgoing requests.
    """
    context = _current.get()
    if context is None or not context.forward_headers:
        return {}
    names = context.forward_headers
    return {name: value for name, value in context.headers.items() if name.lower() in names}


@contextmanager
def serving(
    server: MCPKit, sdk: ServerRequestContext[Any, Any] | None, lifespan_state: Any = None
) -> Iterator[Context]:
    """Make a new :class:`Context` for ``sdk`` the current request for the duration of the block
    (``None``: a component called outside a request; ``lifespan_state``: a mounted server's own)."""
    context = Context(server, sdk, lifespan_state)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)

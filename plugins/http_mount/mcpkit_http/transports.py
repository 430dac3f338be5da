"""The ``http`` (Streamable HTTP) and ``sse`` transports: mountable ASGI apps, served by uvicorn."""

from __future__ import annotations

import signal
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import uvicorn
from mcp.server.auth.provider import TokenVerifier
from mcp.server.streamable_http import EventStore
from mcp.server.streamable_http_manager import DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_TIMEOUT
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from mcpkit.transports import ASGITransport
from mcpkit_http.app import Endpoint, MCPApp
from mcpkit_http.auth import require_bearer_token
from mcpkit_http.authorization import Authorization, authorization_option, installing, mask_query_tokens
from mcpkit_http.connections import (
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    ConnectionLimits,
    connection_cap,
)
from mcpkit_http.options import check_limit, check_path, check_uvicorn_config, reject_unknown
from mcpkit_http.security import transport_security
from mcpkit_http.sse import SSEEndpoint
from mcpkit_http.streamable import StreamableHTTPEndpoint

if TYPE_CHECKING:
    from mcpkit import MCPKit

_UVICORN_BACKLOG = 2048
"""uvicorn's own default accept backlog."""


class UvicornTransport(ASGITransport):
    """Options shared by the HTTP transports; see docs/http.md for each.

    ``mcp.http_app(...)`` returns the :class:`~mcpkit_http.app.MCPApp`; ``mcp.run(...)`` serves it
    with uvicorn on ``host``:``port``.
    """

    name: ClassVar[str]

    def __init__(
        self,
        *,
        path: str,
        host: str = "127.0.0.1",
        port: int = 8000,
        log_level: str = "info",
        uvicorn_config: Mapping[str, Any] | None = None,
        header_timeout: float | None = DEFAULT_HEADER_TIMEOUT,
        max_connections: int | None = DEFAULT_MAX_CONNECTIONS,
        allowed_hosts: Sequence[str] | None = None,
        allowed_origins: Sequence[str] | None = None,
        dns_rebinding_protection: bool | None = None,
        token_verifier: TokenVerifier | None = None,
        required_scopes: Sequence[str] = (),
        auth: Authorization | None = None,
        oauth_issuer: str | None = None,
        oauth_audience: str | None = None,
        oauth_jwks_uri: str | None = None,
        oauth_scopes: Sequence[str] = (),
        middleware: Sequence[Middleware] = (),
        max_request_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE,
        debug: bool = False,
        **unknown: Any,
    ) -> None:
        reject_unknown(self.name, unknown, [type(self).__init__, UvicornTransport.__init__])
        super().__init__(path=check_path("path", path))
        if not isinstance(host, str) or not host:
            raise TypeError(f"host must be an address or name like '127.0.0.1', got {host!r}")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an integer from 0 to 65535, got {port!r}")
        self.authorization = authorization_option(
            auth,
            token_verifier=token_verifier,
            required_scopes=required_scopes,
            oauth_issuer=oauth_issuer,
            oauth_audience=oauth_audience,
            oauth_jwks_uri=oauth_jwks_uri,
            oauth_scopes=oauth_scopes,
        )
        if required_scopes and token_verifier is None:
            raise ValueError("required_scopes needs a token_verifier to check tokens with")
        self.host = host
        self.port = port
        self.log_level = log_level
        self.uvicorn_config = check_uvicorn_config(uvicorn_config)
        self.header_timeout = check_limit("header_timeout", header_timeout, float)
        self.max_connections = check_limit("max_connections", max_connections, int)
        self.security = transport_security(
            host=host,
            allowed_hosts=allowed_hosts,
            allowed_origins=allowed_origins,
            dns_rebinding_protection=dns_rebinding_protection,
        )
        self.protect: Callable[[ASGIApp], ASGIApp] = (
            _unprotected
            if token_verifier is None
            else partial(require_bearer_token, verifier=token_verifier, required_scopes=required_scopes)
        )
        self.middleware = list(middleware)
        self.max_request_body_size = max_request_body_size
        self.debug = debug

    @abstractmethod
    def endpoint(self, server: MCPKit) -> Endpoint[Any]:
        """The endpoint serving ``server`` with these options."""

    def app(self, server: MCPKit) -> MCPApp:
        """A new ASGI app serving ``server``; whatever serves it must run its ``lifespan``."""
        endpoint = self.endpoint(server)
        authorization = self.authorization
        if authorization is None and server.auth is not None:
            if self.protect is not _unprotected:
                raise ValueError("the server has auth=...; give the transport no token_verifier= as well")
            authorization = authorization_option(
                server.auth,  # type: ignore[arg-type]  # anything but an Authorization is a TypeError
                token_verifier=None,
                required_scopes=(),
                oauth_issuer=None,
                oauth_audience=None,
                oauth_jwks_uri=None,
                oauth_scopes=(),
            )
        if authorization is None:
            return MCPApp(
                routes=endpoint.routes(self.protect),
                lifespan=endpoint.lifespan,
                middleware=self.middleware,
                debug=self.debug,
            )
        well_known = authorization.metadata_routes(server)
        protect = partial(authorization.protect, server=server, max_body_size=self.max_request_body_size)
        return MCPApp(
            routes=[*well_known, *endpoint.routes(protect)],
            lifespan=installing(well_known, endpoint.lifespan),
            middleware=self.middleware,
            debug=self.debug,
            well_known_routes=well_known,
        )

    def _uvicorn_config(self, server: MCPKit) -> uvicorn.Config:
        """uvicorn's configuration: these options, the connection limits, then ``uvicorn_config``.

        The accept backlog defaults to a quarter of the connection cap, so that bursts of accepted
        connections cannot take the process past its file limit before the cap sheds them.
        """
        cap = connection_cap(self.max_connections)
        limits = ConnectionLimits(header_timeout=self.header_timeout, max_connections=cap)
        defaults: dict[str, Any] = {"lifespan": "on"}
        if cap is not None:
            defaults["backlog"] = max(1, min(_UVICORN_BACKLOG, cap // 4))
        return uvicorn.Config(
            self.app(server),
            host=self.host,
            port=self.port,
            log_level=self.log_level,
            http=limits.protocol_class(),
            **{**defaults, **self.uvicorn_config},
        )

    async def serve(self, server: MCPKit) -> None:
        """Serve with uvicorn until it is stopped or this call is cancelled; either way uvicorn shuts
        down gracefully: the lifespan exits and the port is released. Stopped by Ctrl+C (SIGINT),
        this raises ``KeyboardInterrupt`` then; by SIGTERM or a cancellation, it returns."""
        config = self._uvicorn_config(server)
        mask_query_tokens()  # the access log names query strings
        uvicorn_server = _UvicornServer(config)
        stopped = anyio.Event()

        async def run() -> None:
            with anyio.CancelScope(shield=True):  # uvicorn cannot be cancelled; it is asked to exit
                try:
                    await uvicorn_server.serve()
                finally:
                    stopped.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run)
            try:
                await stopped.wait()
            finally:
                uvicorn_server.should_exit = True
                with anyio.CancelScope(shield=True):
                    await stopped.wait()
        if signal.SIGINT in uvicorn_server.stopped_by:
            raise KeyboardInterrupt


class _UvicornServer(uvicorn.Server):
    """uvicorn's server, except that a signal that stopped it is not raised again afterwards.

    uvicorn raises it again with the handler the process had before serving: Ctrl+C then exited 0
    when SIGINT was inherited ignored (a background job of a shell), and SIGTERM killed the process
    after its graceful shutdown. The transport decides instead, from :attr:`stopped_by`.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopped_by: list[int] = []

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Ask the server to exit, or to exit without waiting when Ctrl+C comes twice (as uvicorn)."""
        self.stopped_by.append(sig)
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


class HTTPTransport(UvicornTransport):
    """Streamable HTTP, the current MCP transport: one endpoint at ``path`` (default ``/mcp``).

    ``stateless=True`` keeps no sessions, so any worker process can answer any request.
    ``json_response=True`` answers POSTs with plain JSON instead of an SSE stream.
    """

    name = "http"

    def __init__(
        self,
        *,
        path: str = "/mcp",
        stateless: bool = False,
        json_response: bool = False,
        event_store: EventStore | None = None,
        retry_interval: int | None = None,
        session_idle_timeout: float | None = DEFAULT_SESSION_IDLE_TIMEOUT,
        max_sessions: int | None = DEFAULT_MAX_SESSIONS,
        **options: Any,
    ) -> None:
        super().__init__(path=path, **options)
        self.stateless = stateless
        self.json_response = json_response
        self.event_store = event_store
        self.retry_interval = retry_interval
        self.session_idle_timeout = session_idle_timeout
        self.max_sessions = max_sessions

    def endpoint(self, server: MCPKit) -> StreamableHTTPEndpoint:
        """A Streamable HTTP endpoint at ``path``."""
        return StreamableHTTPEndpoint(
            server.lowlevel_server,
            path=self.path,
            security=self.security,
            stateless=self.stateless,
            json_response=self.json_response,
            event_store=self.event_store,
            retry_interval=self.retry_interval,
            session_idle_timeout=self.session_idle_timeout,
            max_sessions=self.max_sessions,
            max_request_body_size=self.max_request_body_size,
        )


class SSETransport(UvicornTransport):
    """The older HTTP+SSE transport: a GET stream at ``path`` (default ``/sse``) and client messages
    POSTed to ``message_path`` (default ``/messages/``)."""

    name = "sse"

    def __init__(self, *, path: str = "/sse", message_path: str = "/messages/", **options: Any) -> None:
        super().__init__(path=path, **options)
        self.message_path = check_path("message_path", message_path)
        if self.message_path.rstrip("/") == self.path.rstrip("/"):
            raise ValueError(f"path {path!r} and message_path {message_path!r} must differ")

    def endpoint(self, server: MCPKit) -> SSEEndpoint:
        """An SSE endpoint at ``path`` and ``message_path``."""
        return SSEEndpoint(
            server.lowlevel_server,
            path=self.path,
            message_path=self.message_path,
            security=self.security,
            max_request_body_size=self.max_request_body_size,
        )


def _unprotected(app: ASGIApp) -> ASGIApp:
    """No bearer check (no ``token_verifier``)."""
    return app

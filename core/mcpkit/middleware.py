"""MCP middleware: code around every request a server handles, as pluggy hook wrappers.

A middleware is a plugin implementing the ``mcpkit_handle_request`` hook as a *wrapper*; the kernel's
own implementation answers the request. Subclass :class:`Middleware` and override ``on_request``
(every request) or the method's own ``on_call_tool``, ``on_list_tools``, ``on_read_resource``,
``on_list_resources``, ``on_list_resource_templates``, ``on_get_prompt``, ``on_list_prompts``,
``on_complete``::

    class Timing(Middleware):
        async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
            started = time.perf_counter()
            try:
                return await call_next()
            finally:
                print(request.tool_name, time.perf_counter() - started)

    mcp = MCPKit("api", middleware=[Timing()])

A middleware sees the method, the params (which it may change before ``call_next``), the request's
:class:`~mcpkit.Context` and the result (the protocol's JSON, a ``dict``); it may return its own result
without calling ``call_next``, or raise (an ``MCPError`` is a protocol error, as a handler's).

Order: ``MCPKit(middleware=[a, b])`` runs ``a`` around ``b`` around the server; middleware that
plugins register (entry points implementing ``mcpkit_handle_request``) runs around all of those. A
mounted server's own middleware runs inside its parent's, for the requests the parent passes to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from mcpkit import hookspecs
from mcpkit.plugins import ENTRY_POINT_GROUP, get_plugin_host, hookimpl

if TYPE_CHECKING:
    from mcpkit.context import Context

CallNext = Callable[[], Awaitable[Any]]
"""Runs the rest of the chain (inner middleware, then the server) once; returns its result."""

HANDLED_METHODS = frozenset(
    {
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "prompts/list",
        "prompts/get",
        "completion/complete",
    }
)
"""The requests middleware wraps: the server's own (not the protocol's handshake, pings or
subscriptions)."""

_HANDLERS = {
    "tools/list": "on_list_tools",
    "tools/call": "on_call_tool",
    "resources/list": "on_list_resources",
    "resources/templates/list": "on_list_resource_templates",
    "resources/read": "on_read_resource",
    "prompts/list": "on_list_prompts",
    "prompts/get": "on_get_prompt",
    "completion/complete": "on_complete",
}


@dataclass
class Request:
    """One request a server handles: its method, its params (a middleware may change them before
    calling the next), and the :class:`~mcpkit.Context` of the request."""

    method: str
    params: dict[str, Any]
    context: Context
    answer: Callable[[Request], Awaitable[Any]] = field(repr=False, compare=False)
    """How the server answers it (the kernel's own implementation of the hook calls this)."""

    @property
    def tool_name(self) -> str | None:
        """The tool a ``tools/call`` calls."""
        name = self.params.get("name") if self.method == "tools/call" else None
        return name if isinstance(name, str) else None

    @property
    def arguments(self) -> dict[str, Any]:
        """The arguments of a ``tools/call`` (or ``prompts/get``), empty otherwise."""
        arguments = self.params.get("arguments") if self.method in ("tools/call", "prompts/get") else None
        return arguments if isinstance(arguments, dict) else {}


class Middleware:
    """Base class of middleware; see the module docstring. Every ``on_*`` method defaults to
    :meth:`on_request`, which defaults to calling the next."""

    @hookimpl(wrapper=True)
    def mcpkit_handle_request(self, request: Request) -> Generator[None, Awaitable[Any], Awaitable[Any]]:
        """The pluggy wrapper: runs :meth:`on_request` (or the method's handler) around the rest."""
        inner = yield
        return self._around(request, inner)

    async def _around(self, request: Request, inner: Awaitable[Any]) -> Any:
        called = False

        async def call_next() -> Any:
            nonlocal called
            if called:
                raise RuntimeError("call_next() may be called once per request")
            called = True
            return await inner

        handler = getattr(self, _HANDLERS.get(request.method, "on_request"), self.on_request)
        try:
            return await handler(request, call_next)
        finally:
            if not called and isinstance(inner, Coroutine):
                inner.close()  # answered without the rest of the chain

    async def on_request(self, request: Request, call_next: CallNext) -> Any:
        """Around every request; by default calls the next."""
        return await call_next()

    async def on_list_tools(self, request: Request, call_next: CallNext) -> Any:
        """Around ``tools/list``."""
        return await self.on_request(request, call_next)

    async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
        """Around ``tools/call``."""
        return await self.on_request(request, call_next)

    async def on_list_resources(self, request: Request, call_next: CallNext) -> Any:
        """Around ``resources/list``."""
        return await self.on_request(request, call_next)

    async def on_list_resource_templates(self, request: Request, call_next: CallNext) -> Any:
        """Around ``resources/templates/list``."""
        return await self.on_request(request, call_next)

    async def on_read_resource(self, request: Request, call_next: CallNext) -> Any:
        """Around ``resources/read``."""
        return await self.on_request(request, call_next)

    async def on_list_prompts(self, request: Request, call_next: CallNext) -> Any:
        """Around ``prompts/list``."""
        return await self.on_request(request, call_next)

    async def on_get_prompt(self, request: Request, call_next: CallNext) -> Any:
        """Around ``prompts/get``."""
        return await self.on_request(request, call_next)

    async def on_complete(self, request: Request, call_next: CallNext) -> Any:
        """Around ``completion/complete``."""
        return await self.on_request(request, call_next)


class _Core:
    """The kernel's own implementation of the hook: the server answers the request."""

    @hookimpl
    def mcpkit_handle_request(self, request: Request) -> Awaitable[Any]:
        return request.answer(request)


class MiddlewareChain:
    """The middleware of one server around its answers (a pluggy manager of its own)."""

    def __init__(self, middleware: Iterable[object]) -> None:
        self._pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self._pm.add_hookspecs(hookspecs)
        self._pm.register(_Core(), name="mcpkit.core")
        for item in reversed(list(middleware)):  # registered last is outermost: the first given is
            self._pm.register(item)
        for plugin in get_plugin_host().request_middleware():
            self._pm.register(plugin)
        self._pm.check_pending()
        self.active = len(self._pm.hook.mcpkit_handle_request.get_hookimpls()) > 1
        """Whether any middleware is registered (else requests go straight to the server)."""
        self._call = self._pm.hook.mcpkit_handle_request

    async def __call__(self, request: Request) -> Any:
        """Handle ``request`` through every middleware, then the server."""
        if not self.active:
            return await request.answer(request)
        return await self._call(request=request)

"""The MCPKit server: a component registry served by the SDK's low-level ``mcp.server.Server``."""

from __future__ import annotations

import difflib
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from types import MappingProxyType
from typing import Any, TypeVar, overload

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.context import CallNext, HandlerResult
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from mcpkit.allocation import gc_paused
from mcpkit.components import Resource, ResourceTemplate, Tool, error_result, resource_contents
from mcpkit.context import serving
from mcpkit.discovery import Discovery, DiscoveryMode
from mcpkit.exceptions import ResourceError, ToolError
from mcpkit.functions import AnyFunction, resource_from_function, tool_from_function
from mcpkit.naming import is_valid_name
from mcpkit.plugins import get_plugin_host
from mcpkit.schema import SchemaNormalizer, argument_errors
from mcpkit.settings import Settings
from mcpkit.transports import ASGITransport

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=AnyFunction)
ServerT = TypeVar("ServerT", bound="MCPKit")
Lifespan = Callable[["MCPKit"], AbstractAsyncContextManager[Any]]


class MCPKit:
    """An MCP server holding tools, resources and resource templates.

    Build one directly and add Python functions with :meth:`tool` / :meth:`resource`, or generate one
    from an API with :meth:`from_openapi` / :meth:`from_fastapi` (plugins). Every tool's arguments are
    validated against its input schema before it runs; every exception in a tool becomes an error
    result (``isError``); the tool listing is computed once and cached until the tools change.

    ``forward_headers`` names incoming HTTP request headers that generated tools pass on to the API
    they call (see :func:`mcpkit.context.forwarded_headers`); none are forwarded by default.

    ``discovery`` (``"off"``, ``"search"``, ``"auto"``; default from settings) lists only
    ``search_tools`` and ``call_tool``, plus the ``pinned_tools`` (see :mod:`mcpkit.discovery`).
    """

    def __init__(
        self,
        name: str = "mcpkit",
        *,
        version: str = "",
        instructions: str | None = None,
        lifespan: Lifespan | None = None,
        forward_headers: Iterable[str] | None = None,
        discovery: DiscoveryMode | None = None,
        pinned_tools: Iterable[str] = (),
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        headers = self.settings.forward_headers if forward_headers is None else forward_headers
        self.forward_headers = frozenset(name.lower() for name in headers)
        """Incoming HTTP headers passed on to the API behind generated tools (none by default)."""
        self._tools: dict[str, Tool] = {}
        self._schemas = SchemaNormalizer()
        self._resources: dict[str, Resource] = {}
        self._templates: dict[str, ResourceTemplate] = {}
        self._tool_listing: dict[str, Any] | None = None
        self._wire_listings: dict[str, dict[str, Any]] = {}
        self._resource_listing: types.ListResourcesResult | None = None
        self._template_listing: types.ListResourceTemplatesResult | None = None
        self.discovery = Discovery(
            self,
            discovery or self.settings.discovery,
            pinned_tools,
            lambda: get_plugin_host().search_strategies.get(self.settings.search_strategy),
        )
        self._server: Server[Any] = Server(
            name,
            version=version,
            instructions=instructions,
            lifespan=self._lifespan_for(lifespan),
            get_tool_input_schema=self._input_schema_of,
            on_call_tool=self._on_call_tool,
            on_list_resources=self._on_list_resources,
            on_list_resource_templates=self._on_list_resource_templates,
            on_read_resource=self._on_read_resource,
        )
        self._server.add_request_handler("tools/list", types.PaginatedRequestParams, self._on_list_tools)
        self._server.middleware.append(self._serve_cached_tool_listing)

    def _lifespan_for(
        self, lifespan: Lifespan | None
    ) -> Callable[[Server[Any]], AbstractAsyncContextManager[Any]]:
        @asynccontextmanager
        async def run(_: Server[Any]) -> AsyncIterator[Any]:
            if lifespan is None:
                yield {}
                return
            async with lifespan(self) as state:
                yield state

        return run

    def __repr__(self) -> str:
        return (
            f"MCPKit({self.name!r}, tools={len(self._tools)}, resources={len(self._resources)}, "
            f"templates={len(self._templates)})"
        )

    @property
    def name(self) -> str:
        """The server's name, as clients see it."""
        return self._server.name

    @property
    def lowlevel_server(self) -> Server[Any]:
        """The SDK's low-level server behind this one (for transports and other plugins)."""
        return self._server

    # Building from sources (plugins)

    @classmethod
    def from_source(cls: type[ServerT], source: str, /, **options: Any) -> ServerT:
        """Build a server with the component source registered as ``source`` by a plugin."""
        server = get_plugin_host().sources.get(source).build(cls, **options)
        if not isinstance(server, cls):
            raise TypeError(f"source {source!r} returned {type(server).__name__}, not {cls.__name__}")
        return server

    @classmethod
    def from_openapi(cls: type[ServerT], openapi_spec: Any, client: Any = None, **options: Any) -> ServerT:
        """A server whose components call the operations of an OpenAPI document (``mcpkit[openapi]``)."""
        return cls.from_source("openapi", openapi_spec=openapi_spec, client=client, **options)

    @classmethod
    def from_fastapi(cls: type[ServerT], app: Any, **options: Any) -> ServerT:
        """A server whose components call a FastAPI app in-process (``mcpkit[fastapi]``)."""
        return cls.from_source("fastapi", app=app, **options)

    # Components

    def add_tool(self, tool: Tool, *, replace_existing: bool = False) -> Tool:
        """Add ``tool`` (its schemas normalised); returns the tool as served.

        Raises ``ValueError`` if the name is invalid or taken (unless ``replace_existing``), and
        :class:`~mcpkit.exceptions.SchemaError` if a schema cannot be served.
        """
        if not is_valid_name(tool.name):
            raise ValueError(f"{tool.name!r} is not a valid MCP tool name (1-64 characters of A-Za-z0-9_.-)")
        if tool.name in self.discovery.tools and self.discovery.mode != "off":
            raise ValueError(f"{tool.name!r} is the name of a discovery tool; choose another name")
        if tool.name in self._tools and not replace_existing:
            raise ValueError(
                f"a tool named {tool.name!r} already exists; pass replace_existing=True to replace it"
            )
        owner = f"tool {tool.name!r}"
        output_schema, _ = self._schemas.output_schema(tool.output_schema, owner=owner)
        served = replace(
            tool,
            input_schema=self._schemas.input_schema(tool.input_schema, owner=owner),
            output_schema=output_schema,
        )
        self._tools[tool.name] = served
        self._tools_changed()
        return served

    def remove_tool(self, name: str) -> None:
        """Remove the tool called ``name`` (``KeyError`` if there is none)."""
        del self._tools[name]
        self._tools_changed()

    def _tools_changed(self) -> None:
        self._tool_listing = None
        self._wire_listings.clear()
        self.discovery.invalidate()

    def add_resource(self, resource: Resource, *, replace_existing: bool = False) -> Resource:
        """Add a resource at a fixed URI."""
        if resource.uri in self._resources and not replace_existing:
            raise ValueError(f"a resource with URI {resource.uri!r} already exists")
        self._resources[resource.uri] = resource
        self._resource_listing = None
        return resource

    def add_resource_template(
        self, template: ResourceTemplate, *, replace_existing: bool = False
    ) -> ResourceTemplate:
        """Add a resource template."""
        if template.uri_template in self._templates and not replace_existing:
            raise ValueError(f"a resource template {template.uri_template!r} already exists")
        self._templates[template.uri_template] = template
        self._template_listing = None
        return template

    @property
    def tools(self) -> Mapping[str, Tool]:
        """The tools, by name (read-only view)."""
        return MappingProxyType(self._tools)

    @property
    def resources(self) -> Mapping[str, Resource]:
        """The fixed-URI resources, by URI (read-only view)."""
        return MappingProxyType(self._resources)

    @property
    def resource_templates(self) -> Mapping[str, ResourceTemplate]:
        """The resource templates, by URI template (read-only view)."""
        return MappingProxyType(self._templates)

    @overload
    def tool(self, fn: F, /) -> F: ...
    @overload
    def tool(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
        annotations: types.ToolAnnotations | None = None,
        tags: frozenset[str] = frozenset(),
        meta: dict[str, Any] | None = None,
    ) -> Callable[[F], F]: ...
    def tool(
        self,
        fn: F | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
        annotations: types.ToolAnnotations | None = None,
        tags: frozenset[str] = frozenset(),
        meta: dict[str, Any] | None = None,
    ) -> F | Callable[[F], F]:
        """Decorator: add a Python function as a tool (``@mcp.tool`` or ``@mcp.tool(name=...)``).

        The function is returned unchanged, so it stays callable as before.
        """

        def decorate(function: F) -> F:
            self.add_tool(
                tool_from_function(
                    function,
                    name=name,
                    description=description,
                    title=title,
                    annotations=annotations,
                    tags=frozenset(tags),
                    meta=meta,
                )
            )
            return function

        return decorate(fn) if fn is not None else decorate

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        description: str | None = None,
        title: str | None = None,
        mime_type: str | None = None,
        tags: frozenset[str] = frozenset(),
        meta: dict[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Decorator: add a Python function as a resource, or a template if ``uri`` has ``{variables}``."""
        if not isinstance(uri, str):
            raise TypeError("use @mcp.resource('scheme://uri') with a URI argument")

        def decorate(function: F) -> F:
            component = resource_from_function(
                function,
                uri,
                name=name,
                description=description,
                title=title,
                mime_type=mime_type,
                tags=frozenset(tags),
                meta=meta,
            )
            if isinstance(component, ResourceTemplate):
                self.add_resource_template(component)
            else:
                self.add_resource(component)
            return function

        return decorate

    # Calling components directly (the protocol handlers use these too)

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | None = None) -> types.CallToolResult:
        """Validate ``arguments`` and run the tool; failures come back as error results, never raise.

        An unknown tool name raises :class:`mcp.shared.exceptions.MCPError` (a protocol error).
        """
        tool = self._tool(name)
        if tool is None:
            close = difflib.get_close_matches(name, self._tools, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise MCPError(code=INVALID_PARAMS, message=f"unknown tool {name!r}{hint}")
        args = dict(arguments or {})
        try:
            problems = argument_errors(tool.validator, args)
        except Exception as exc:
            logger.exception("tool %r cannot validate its arguments", name)
            return error_result(f"tool {name!r} cannot validate its arguments: {exc}")
        if problems:
            return error_result(f"invalid arguments for tool {name!r}:\n- " + "\n- ".join(problems))
        try:
            result = await tool.fn(args)
        except ToolError as exc:
            return error_result(str(exc))
        except Exception as exc:
            logger.exception("tool %r raised", name)
            if self.settings.mask_error_details:
                return error_result(f"tool {name!r} failed with an internal error")
            return error_result(f"tool {name!r} failed: {type(exc).__name__}: {exc}")
        if isinstance(result, types.CallToolResult):
            return result
        return tool.to_call_result(result)

    async def read_resource(self, uri: str) -> list[types.TextResourceContents | types.BlobResourceContents]:
        """Read the resource at ``uri`` (a fixed resource first, then the templates in order)."""
        resource = self._resources.get(uri)
        try:
            if resource is not None:
                return resource_contents(uri, await resource.read(), resource.mime_type)
            for template in self._templates.values():
                variables = template.match(uri)
                if variables is not None:
                    return resource_contents(uri, await template.read(variables), template.mime_type)
        except ResourceError as exc:
            raise MCPError(code=INTERNAL_ERROR, message=str(exc)) from exc
        except Exception as exc:
            logger.exception("reading resource %r raised", uri)
            detail = (
                "an internal error" if self.settings.mask_error_details else f"{type(exc).__name__}: {exc}"
            )
            raise MCPError(code=INTERNAL_ERROR, message=f"reading resource {uri!r} failed: {detail}") from exc
        raise MCPError(code=INVALID_PARAMS, message=f"unknown resource {uri!r}")

    # Protocol handlers

    def _tool(self, name: str) -> Tool | None:
        """The tool called ``name``, the discovery tools included when discovery is on."""
        tool = self._tools.get(name)
        if tool is None and self.discovery.mode != "off":
            return self.discovery.tools.get(name)
        return tool

    def _listed_tools(self) -> list[Tool]:
        if not self.discovery.active(len(self._tools)):
            return list(self._tools.values())
        pinned = [self._tools[name] for name in self.discovery.pinned if name in self._tools]
        return [*self.discovery.tools.values(), *pinned]

    def _input_schema_of(self, name: str) -> dict[str, Any] | None:
        tool = self._tool(name)
        return None if tool is None else tool.input_schema

    async def _on_list_tools(self, ctx: Any, params: types.PaginatedRequestParams) -> HandlerResult:
        # Built as wire data (not models) so the SDK serialises it once, not twice.
        if self._tool_listing is None:
            envelope = types.ListToolsResult(tools=[]).model_dump(
                by_alias=True, mode="json", exclude_none=True
            )
            self._tool_listing = {**envelope, "tools": [tool.to_wire() for tool in self._listed_tools()]}
        return self._tool_listing

    async def _serve_cached_tool_listing(self, ctx: Any, call_next: CallNext) -> HandlerResult:
        """Middleware: the SDK validates and serialises every result it sends, which for a large
        listing costs more than building it; the serialised listing is kept per protocol version
        until the tools change."""
        if ctx.method != "tools/list" or (ctx.params or {}).get("cursor"):
            return await call_next(ctx)
        version = ctx.protocol_version
        listing = self._wire_listings.get(version)
        if listing is None:
            with gc_paused():
                result = await call_next(ctx)
            if not isinstance(result, dict):
                return result
            listing = self._wire_listings[version] = result
        return listing

    async def _on_call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        with serving(ctx, self.forward_headers):
            return await self.call_tool(params.name, params.arguments)

    async def _on_list_resources(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        if self._resource_listing is None:
            self._resource_listing = types.ListResourcesResult(
                resources=[r.to_mcp() for r in self._resources.values()]
            )
        return self._resource_listing

    async def _on_list_resource_templates(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        if self._template_listing is None:
            self._template_listing = types.ListResourceTemplatesResult(
                resource_templates=[t.to_mcp() for t in self._templates.values()]
            )
        return self._template_listing

    async def _on_read_resource(
        self, ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return types.ReadResourceResult(contents=await self.read_resource(str(params.uri)))

    # Serving

    def run(self, transport: str = "stdio", **options: Any) -> None:
        """Serve with the named transport until it stops (``stdio`` by default; ``http``/``sse`` need
        ``mcpkit[http]``). ``options`` go to the transport (``host``, ``port``, ...)."""
        anyio.run(self._serve, transport, options)

    async def run_async(self, transport: str = "stdio", **options: Any) -> None:
        """Like :meth:`run`, inside a running event loop."""
        await self._serve(transport, options)

    async def _serve(self, transport: str, options: dict[str, Any]) -> None:
        transport_class = get_plugin_host().transports.get(transport)
        await transport_class(**options).serve(self)

    def http_app(self, path: str | None = None, transport: str = "http", **options: Any) -> Any:
        """An ASGI app serving this server at ``path``, with a ``lifespan`` the host app must run.

        Needs ``mcpkit[http]``. ``path`` defaults to the transport's own (``/mcp`` for ``http``,
        ``/sse`` for ``sse``); ``options`` go to the transport (``stateless``, ``json_response``, ...).
        """
        transport_class = get_plugin_host().transports.get(transport)
        if not issubclass(transport_class, ASGITransport):
            raise ValueError(f"transport {transport!r} cannot be mounted as an ASGI app")
        if path is not None:
            options["path"] = path
        return transport_class(**options).app(self)

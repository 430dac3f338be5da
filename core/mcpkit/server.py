"""The MCPKit server: a component registry served by the SDK's low-level ``mcp.server.Server``."""

from __future__ import annotations

import difflib
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal, TypeVar, overload

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.context import CallNext, HandlerResult
from mcp.server.lowlevel.server import NotificationOptions
from mcp.server.models import InitializationOptions
from mcp.server.request_state import RequestStateBoundary, RequestStateSecurity
from mcp.server.subscriptions import SubscriptionBus
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, SERVER_INFO_META_KEY, methods
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, TypeAdapter, ValidationError

from mcpkit.allocation import gc_paused
from mcpkit.completions import complete, reference_of
from mcpkit.components import Completer, Resource, ResourceTemplate, Tool, error_result, resource_contents
from mcpkit.composition import (
    Catalog,
    Mount,
    ancestors,
    check_prefix,
    imported_catalog,
    pass_on,
    prefixed_uri,
    read_mounted,
)
from mcpkit.context import current_context, serving
from mcpkit.discovery import Discovery, DiscoveryMode
from mcpkit.elicitation import InputRequired, MissingCapabilityError
from mcpkit.exceptions import ResourceError, ToolError
from mcpkit.functions import AnyFunction, resource_from_function, tool_from_function
from mcpkit.middleware import HANDLED_METHODS, MiddlewareChain, Request
from mcpkit.naming import is_valid_name
from mcpkit.notifications import ListKind, Notifier
from mcpkit.plugins import get_plugin_host
from mcpkit.prompts import Prompt, prompt_from_function
from mcpkit.schema import SchemaNormalizer, argument_errors
from mcpkit.scopes import check_scopes, missing_scopes
from mcpkit.settings import Settings
from mcpkit.transports import ASGITransport
from mcpkit.visibility import Visibility

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=AnyFunction)
ServerT = TypeVar("ServerT", bound="MCPKit")
Lifespan = Callable[["MCPKit"], AbstractAsyncContextManager[Any]]
Component = Tool | Resource | ResourceTemplate | Prompt


class _LowLevelServer(Server[Any]):
    """The SDK's server, announcing the change notifications mcpkit sends (``listChanged``)."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        """The handshake's options, with every ``listChanged`` on unless given."""
        return super().create_initialization_options(
            notification_options or NotificationOptions(True, True, True),
            experimental_capabilities,
            extensions,
        )


class MCPKit:
    """An MCP server holding tools, resources, resource templates and prompts.

    Build one directly and add Python functions with :meth:`tool` / :meth:`resource` /
    :meth:`prompt`, or generate one from an API with :meth:`from_openapi` / :meth:`from_fastapi`
    (plugins). Every tool's arguments are validated against its input schema before it runs; every
    exception in a tool becomes an error result (``isError``); the tool listing is computed once and
    cached until the tools change. Clients are notified when components change while serving
    (:mod:`mcpkit.notifications`).

    ``forward_headers`` names incoming HTTP request headers that generated tools pass on to the API
    they call (see :func:`mcpkit.context.forwarded_headers`); none are forwarded by default.

    ``discovery`` (``"off"``, ``"search"``, ``"auto"``; default from settings) lists only
    ``search_tools`` and ``call_tool``, plus the ``pinned_tools`` (see :mod:`mcpkit.discovery`).

    ``auth`` (an ``mcpkit_http.Authorization``) makes the HTTP transports serve the server as an
    OAuth 2.1 protected resource (docs/authorization.md).

    ``subscription_bus`` carries change notifications to 2026-07-28 clients (in memory by default; a
    shared bus reaches the clients of every replica). ``request_state_security`` seals the state of
    questions asked in the 2026-07-28 protocol (:mod:`mcpkit.elicitation`); by default a key made
    per process, so a question asked by one replica must be answered to the same one unless every
    replica is given the same keys (``RequestStateSecurity(keys=[...])``).
    """

    def __init__(
        self,
        name: str = "mcpkit",
        *,
        version: str = "",
        title: str | None = None,
        instructions: str | None = None,
        website_url: str | None = None,
        icons: list[types.Icon] | None = None,
        lifespan: Lifespan | None = None,
        forward_headers: Iterable[str] | None = None,
        discovery: DiscoveryMode | None = None,
        pinned_tools: Iterable[str] = (),
        middleware: Iterable[object] = (),
        auth: object | None = None,
        subscription_bus: SubscriptionBus | None = None,
        request_state_security: RequestStateSecurity | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self.auth = auth
        """How HTTP transports protect this server when they are given no ``auth=`` of their own (an
        ``mcpkit_http.Authorization``: docs/authorization.md); the kernel only keeps it."""
        headers = self.settings.forward_headers if forward_headers is None else forward_headers
        self.forward_headers = frozenset(name.lower() for name in headers)
        """Incoming HTTP headers passed on to the API behind generated tools (none by default)."""
        self._tools: dict[str, Tool] = {}
        self._schemas = SchemaNormalizer()
        self._resources: dict[str, Resource] = {}
        self._templates: dict[str, ResourceTemplate] = {}
        self._prompts: dict[str, Prompt] = {}
        self._visibility = Visibility()
        self._mounts: list[Mount] = []
        self._mount_states: dict[int, Any] = {}
        self._parents: weakref.WeakSet[MCPKit] = weakref.WeakSet()
        self._catalog: Catalog | None = None
        self._tool_listing: dict[str, Any] | None = None
        self._wire_listings: dict[str, dict[str, Any]] = {}
        self._listings: dict[str, dict[str, Any]] = {}
        self.discovery = Discovery(
            self,
            discovery or self.settings.discovery,
            pinned_tools,
            lambda: get_plugin_host().search_strategies.get(self.settings.search_strategy),
        )
        self.notifier = Notifier(subscription_bus)
        """Sends change notifications to the clients (:mod:`mcpkit.notifications`)."""
        self._server: Server[Any] = _LowLevelServer(
            name,
            version=version,
            title=title,
            instructions=instructions,
            website_url=website_url,
            icons=icons,
            lifespan=self._lifespan_for(lifespan),
            get_tool_input_schema=self._input_schema_of,
            on_call_tool=self._on_call_tool,
            on_list_resources=self._on_list_resources,
            on_list_resource_templates=self._on_list_resource_templates,
            on_read_resource=self._on_read_resource,
            on_list_prompts=self._on_list_prompts,
            on_get_prompt=self._on_get_prompt,
            on_completion=self._on_complete,
        )
        self._server.add_request_handler("tools/list", types.PaginatedRequestParams, self._on_list_tools)
        self.middleware = MiddlewareChain(middleware)
        """The MCP middleware around this server's requests (:mod:`mcpkit.middleware`)."""
        self._server.middleware.append(
            RequestStateBoundary(
                request_state_security or RequestStateSecurity.ephemeral(), default_audience=name
            )
        )
        self._server.middleware.append(self._serve_request)
        self._server.middleware.append(self._serve_cached_tool_listing)
        self.notifier.install(self._server)

    def _lifespan_for(
        self, lifespan: Lifespan | None
    ) -> Callable[[Server[Any]], AbstractAsyncContextManager[Any]]:
        @asynccontextmanager
        async def run(_: Server[Any]) -> AsyncIterator[Any]:
            async with self.notifier.delivering(), AsyncExitStack() as mounted:
                for mount in self._mounts:
                    child = mount.server.lowlevel_server
                    state = await mounted.enter_async_context(child.lifespan(child))
                    self._mount_states[id(mount)] = state
                if lifespan is None:
                    yield {}
                    return
                async with lifespan(self) as state:
                    yield state

        return run

    def __repr__(self) -> str:
        return (
            f"MCPKit({self.name!r}, tools={len(self._tools)}, resources={len(self._resources)}, "
            f"templates={len(self._templates)}, prompts={len(self._prompts)})"
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

    @classmethod
    def as_proxy(cls: type[ServerT], target: Any, /, **options: Any) -> ServerT:
        """A server serving the components of the MCP server ``target`` (a URL, a stdio command, an
        MCPKit or a :class:`~mcpkit.Client`), forwarding every request (:mod:`mcpkit.proxy`)."""
        from mcpkit.proxy import build_proxy

        return build_proxy(cls, target, **options)

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
        self._changed("tools")
        return served

    def remove_tool(self, name: str) -> None:
        """Remove the tool called ``name`` (``KeyError`` if there is none)."""
        del self._tools[name]
        self._changed("tools")

    def add_resource(self, resource: Resource, *, replace_existing: bool = False) -> Resource:
        """Add a resource at a fixed URI."""
        if resource.uri in self._resources and not replace_existing:
            raise ValueError(f"a resource with URI {resource.uri!r} already exists")
        self._resources[resource.uri] = resource
        self._changed("resources")
        return resource

    def remove_resource(self, uri: str) -> None:
        """Remove the resource at ``uri`` (``KeyError`` if there is none)."""
        del self._resources[uri]
        self._changed("resources")

    def add_resource_template(
        self, template: ResourceTemplate, *, replace_existing: bool = False
    ) -> ResourceTemplate:
        """Add a resource template."""
        if template.uri_template in self._templates and not replace_existing:
            raise ValueError(f"a resource template {template.uri_template!r} already exists")
        self._templates[template.uri_template] = template
        self._changed("resources")
        return template

    def remove_resource_template(self, uri_template: str) -> None:
        """Remove the resource template ``uri_template`` (``KeyError`` if there is none)."""
        del self._templates[uri_template]
        self._changed("resources")

    def add_prompt(self, prompt: Prompt, *, replace_existing: bool = False) -> Prompt:
        """Add a prompt (for prompts built from data; ``@mcp.prompt`` for functions)."""
        if not isinstance(prompt.name, str) or not prompt.name:
            raise ValueError(f"a prompt needs a name, got {prompt.name!r}")
        if prompt.name in self._prompts and not replace_existing:
            raise ValueError(
                f"a prompt named {prompt.name!r} already exists; pass replace_existing=True to replace it"
            )
        self._prompts[prompt.name] = prompt
        self._changed("prompts")
        return prompt

    def remove_prompt(self, name: str) -> None:
        """Remove the prompt called ``name`` (``KeyError`` if there is none)."""
        del self._prompts[name]
        self._changed("prompts")

    def enable(self, *names: str, tags: Iterable[str] | None = None, only: bool = False) -> None:
        """Enable components by name (a URI for resources) or tag; with ``only=True`` every other
        component is disabled. See :mod:`mcpkit.visibility`; clients are told of the change."""
        self._visibility.add(True, names, tags, only=only)
        self._changed("tools", "resources", "prompts")

    def disable(self, *names: str, tags: Iterable[str] | None = None) -> None:
        """Disable components by name (a URI for resources) or tag: they are no longer listed, called
        or read. See :mod:`mcpkit.visibility`; clients are told of the change."""
        self._visibility.add(False, names, tags)
        self._changed("tools", "resources", "prompts")

    def is_enabled(self, component: Component) -> bool:
        """Whether ``component`` is enabled (see :meth:`enable` and :meth:`disable`)."""
        if not self._visibility:
            return True
        if isinstance(component, Resource):
            keys: tuple[str, ...] = (component.name, component.uri)
        elif isinstance(component, ResourceTemplate):
            keys = (component.name, component.uri_template)
        else:
            keys = (component.name,)
        return self._visibility.enabled(keys, component.tags)

    def required_scopes(self, method: str, params: Mapping[str, Any] | None) -> frozenset[str]:
        """The scopes a request needs (``tools/call``, ``resources/read``, ``prompts/get``), for a
        transport that checks them before the request is served (:mod:`mcpkit.scopes`)."""
        params = params or {}
        component: Component | None = None
        if method == "tools/call":
            component = self.enabled_tools.get(str(params.get("name")))
        elif method == "prompts/get":
            component = self.catalog().prompts.get(str(params.get("name")))
        elif method == "resources/read":
            uri = str(params.get("uri"))
            catalog = self.catalog()
            component = catalog.resources.get(uri) or next(
                (t for t in catalog.templates.values() if t.match(uri) is not None), None
            )
        return component.scopes if component is not None else frozenset()

    def notify_resource_updated(self, uri: str) -> None:
        """Tell the clients subscribed to ``uri`` that the resource changed (see
        :mod:`mcpkit.notifications`), and those of servers this one is mounted in, under their URI;
        does nothing when not serving."""
        self.notifier.resource_updated(uri)
        for parent in list(self._parents):
            for mount in parent._mounts:
                if mount.server is self:
                    parent.notify_resource_updated(prefixed_uri(mount.prefix, uri))

    def _changed(self, *kinds: ListKind) -> None:
        """Forget the listings of ``kinds`` and tell the clients (and those of parent servers)."""
        self._catalog = None
        if "tools" in kinds:
            self._tool_listing = None
            self._wire_listings.clear()
            self.discovery.invalidate()
        if "resources" in kinds:
            self._listings.pop("resources", None)
            self._listings.pop("templates", None)
        if "prompts" in kinds:
            self._listings.pop("prompts", None)
        self.notifier.lists_changed(*kinds)
        for parent in list(self._parents):
            parent._changed(*kinds)

    # Composition

    def mount(self, server: MCPKit, prefix: str | None = None) -> None:
        """Serve ``server``'s components too, live, under ``prefix`` (see :mod:`mcpkit.composition`);
        a name or URI that would clash is refused with ``ValueError``."""
        check_prefix(prefix)
        if server is self or server in ancestors(self):
            raise ValueError(f"mounting {server.name!r} into {self.name!r} would make a cycle")
        mount = Mount(server, prefix)
        self.catalog().add_mounted(mount, server.catalog(), strict=True)  # refuses clashes now
        self._mounts.append(mount)
        server._parents.add(self)
        self._changed("tools", "resources", "prompts")

    def import_server(self, server: MCPKit, prefix: str | None = None) -> None:
        """Copy ``server``'s enabled components once, under ``prefix`` (a clash is refused with
        ``ValueError``); later changes of ``server`` do not show, and its lifespan and middleware do
        not come along."""
        imported = imported_catalog(self.catalog(), server, prefix)
        for tool in imported.tools.values():
            self.add_tool(tool)
        for resource in imported.resources.values():
            self.add_resource(resource)
        for template in imported.templates.values():
            self.add_resource_template(template)
        for prompt in imported.prompts.values():
            self.add_prompt(prompt)

    def _mount_state(self, mount: Mount) -> Any:
        """What a mounted server's lifespan yielded while this server's lifespan runs."""
        return self._mount_states.get(id(mount))

    async def _read_mounted(
        self, mount: Mount, uri: str
    ) -> list[types.TextResourceContents | types.BlobResourceContents]:
        return await read_mounted(mount, self._mount_state(mount), uri)

    def catalog(self) -> Catalog:
        """What this server serves now: its enabled components and those of mounted servers, under
        their served names and URIs (:mod:`mcpkit.composition`)."""
        if self._catalog is None:
            catalog = Catalog(
                tools={name: tool for name, tool in self._tools.items() if self.is_enabled(tool)},
                resources={uri: r for uri, r in self._resources.items() if self.is_enabled(r)},
                templates={uri: t for uri, t in self._templates.items() if self.is_enabled(t)},
                prompts={name: p for name, p in self._prompts.items() if self.is_enabled(p)},
            )
            for mount in self._mounts:
                catalog.add_mounted(mount, mount.server.catalog(), strict=False)
            if self._visibility:  # this server's rules apply to mounted components too
                for kind, key in list(catalog.origins):
                    served: dict[str, Any] = getattr(catalog, f"{kind}s")
                    if not self.is_enabled(served[key]):
                        del served[key]
                        del catalog.origins[(kind, key)]
            self._catalog = catalog
        return self._catalog

    @property
    def tools(self) -> Mapping[str, Tool]:
        """Every tool, by name, enabled or not (read-only view)."""
        return MappingProxyType(self._tools)

    @property
    def enabled_tools(self) -> Mapping[str, Tool]:
        """The enabled tools, by name, mounted servers' included: those clients see and may call."""
        return self.catalog().tools

    @property
    def resources(self) -> Mapping[str, Resource]:
        """The fixed-URI resources, by URI (read-only view)."""
        return MappingProxyType(self._resources)

    @property
    def resource_templates(self) -> Mapping[str, ResourceTemplate]:
        """The resource templates, by URI template (read-only view)."""
        return MappingProxyType(self._templates)

    @property
    def prompts(self) -> Mapping[str, Prompt]:
        """The prompts, by name (read-only view)."""
        return MappingProxyType(self._prompts)

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
        tags: Iterable[str] = (),
        icons: list[types.Icon] | None = None,
        meta: dict[str, Any] | None = None,
        scopes: Iterable[str] = (),
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
        tags: Iterable[str] = (),
        icons: list[types.Icon] | None = None,
        meta: dict[str, Any] | None = None,
        scopes: Iterable[str] = (),
    ) -> F | Callable[[F], F]:
        """Decorator: add a Python function as a tool (``@mcp.tool`` or ``@mcp.tool(name=...)``).

        The function is returned unchanged, so it stays callable as before. ``scopes``: OAuth scopes
        a caller's token must hold (:mod:`mcpkit.scopes`).
        """

        def decorate(function: F) -> F:
            tool = tool_from_function(
                function,
                name=name,
                description=description,
                title=title,
                annotations=annotations,
                tags=frozenset(tags),
                icons=icons,
                meta=meta,
            )
            tool.scopes = _scope_set(scopes)
            self.add_tool(tool)
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
        tags: Iterable[str] = (),
        icons: list[types.Icon] | None = None,
        meta: dict[str, Any] | None = None,
        completions: Mapping[str, Completer] | None = None,
        scopes: Iterable[str] = (),
    ) -> Callable[[F], F]:
        """Decorator: add a Python function as a resource, or a template if ``uri`` has ``{variables}``
        (``completions`` completes the template's variables: :mod:`mcpkit.completions`; ``scopes``:
        OAuth scopes a caller's token must hold, :mod:`mcpkit.scopes`)."""
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
                icons=icons,
                meta=meta,
                completions=dict(completions) if completions else None,
            )
            component.scopes = _scope_set(scopes)
            if isinstance(component, ResourceTemplate):
                self.add_resource_template(component)
            else:
                self.add_resource(component)
            return function

        return decorate

    @overload
    def prompt(self, fn: F, /) -> F: ...
    @overload
    def prompt(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        tags: Iterable[str] = (),
        icons: list[types.Icon] | None = None,
        meta: dict[str, Any] | None = None,
        completions: Mapping[str, Completer] | None = None,
        scopes: Iterable[str] = (),
    ) -> Callable[[F], F]: ...
    def prompt(
        self,
        fn: F | None = None,
        /,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        tags: Iterable[str] = (),
        icons: list[types.Icon] | None = None,
        meta: dict[str, Any] | None = None,
        completions: Mapping[str, Completer] | None = None,
        scopes: Iterable[str] = (),
    ) -> F | Callable[[F], F]:
        """Decorator: add a Python function as a prompt (``@mcp.prompt`` or ``@mcp.prompt(name=...)``;
        see :mod:`mcpkit.prompts`; ``scopes``: :mod:`mcpkit.scopes`). The function is returned
        unchanged."""

        def decorate(function: F) -> F:
            prompt = prompt_from_function(
                function,
                name=name,
                title=title,
                description=description,
                tags=frozenset(tags),
                icons=icons,
                meta=meta,
                completions=completions,
            )
            prompt.scopes = _scope_set(scopes)
            self.add_prompt(prompt)
            return function

        return decorate(fn) if fn is not None else decorate

    # Calling components directly (the protocol handlers use these too)

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | None = None) -> types.CallToolResult:
        """Validate ``arguments`` and run the tool; failures come back as error results, never raise.

        An unknown tool name raises :class:`mcp.shared.exceptions.MCPError` (a protocol error), as
        does a question to a client lacking the capability
        (:class:`~mcpkit.elicitation.MissingCapabilityError`).
        """
        tool = self._tool(name)
        if tool is None:
            close = difflib.get_close_matches(name, self.enabled_tools, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise MCPError(code=INVALID_PARAMS, message=f"unknown tool {name!r}{hint}")
        check_scopes(f"tool {name!r}", tool.scopes)
        origin = self.catalog().origins.get(("tool", name))
        if origin is not None:
            params = {"name": origin[1], "arguments": dict(arguments or {})}
            return types.CallToolResult.model_validate(
                await pass_on(origin[0], self._mount_state(origin[0]), "tools/call", params)
            )
        args = dict(arguments or {})
        try:
            problems = argument_errors(tool.validator, args)
        except Exception as exc:
            logger.exception("tool %r cannot validate its arguments", name)
            return error_result(f"tool {name!r} cannot validate its arguments: {exc}")
        if problems:
            return error_result(f"invalid arguments for tool {name!r}:\n- " + "\n- ".join(problems))
        try:
            with self._in_context():
                result = await tool.fn(args)
        except ToolError as exc:
            return error_result(str(exc))
        except MissingCapabilityError:
            raise
        except Exception as exc:
            logger.exception("tool %r raised", name)
            if self.settings.mask_error_details:
                return error_result(f"tool {name!r} failed with an internal error")
            return error_result(f"tool {name!r} failed: {type(exc).__name__}: {exc}")
        if isinstance(result, types.CallToolResult):
            return result
        return tool.to_call_result(result)

    async def read_resource(self, uri: str) -> list[types.TextResourceContents | types.BlobResourceContents]:
        """Read the resource at ``uri`` (a fixed resource first, then the templates in order).

        A URI no enabled resource serves is a protocol error (``-32602``, the URI in its ``data``).
        """
        catalog = self.catalog()
        resource = catalog.resources.get(uri)
        try:
            with self._in_context():
                if resource is not None:
                    check_scopes(f"resource {uri!r}", resource.scopes)
                    if ("resource", uri) in catalog.origins:
                        return await self._read_mounted(catalog.origins[("resource", uri)][0], uri)
                    return resource_contents(uri, await resource.read(), resource.mime_type)
                for key, template in catalog.templates.items():
                    variables = template.match(uri)
                    if variables is not None:
                        check_scopes(f"resource {uri!r}", template.scopes)
                        if ("template", key) in catalog.origins:
                            return await self._read_mounted(catalog.origins[("template", key)][0], uri)
                        return resource_contents(uri, await template.read(variables), template.mime_type)
        except ResourceError as exc:
            raise MCPError(code=INTERNAL_ERROR, message=str(exc)) from exc
        except MCPError:
            raise
        except Exception as exc:
            logger.exception("reading resource %r raised", uri)
            detail = (
                "an internal error" if self.settings.mask_error_details else f"{type(exc).__name__}: {exc}"
            )
            raise MCPError(code=INTERNAL_ERROR, message=f"reading resource {uri!r} failed: {detail}") from exc
        raise MCPError(code=INVALID_PARAMS, message=f"unknown resource {uri!r}", data={"uri": uri})

    async def get_prompt(
        self, name: str, arguments: Mapping[str, Any] | None = None
    ) -> types.GetPromptResult:
        """The messages of the prompt ``name`` for ``arguments``; an unknown prompt, missing or
        invalid arguments are protocol errors (``-32602``), a failing prompt ``-32603``."""
        catalog = self.catalog()
        prompt = catalog.prompts.get(name)
        if prompt is None:
            close = difflib.get_close_matches(name, catalog.prompts, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise MCPError(code=INVALID_PARAMS, message=f"unknown prompt {name!r}{hint}")
        check_scopes(f"prompt {name!r}", prompt.scopes)
        origin = catalog.origins.get(("prompt", name))
        if origin is not None:
            params = {"name": origin[1], "arguments": dict(arguments or {})}
            return types.GetPromptResult.model_validate(
                await pass_on(origin[0], self._mount_state(origin[0]), "prompts/get", params)
            )
        try:
            with self._in_context():
                return await prompt.render(arguments)
        except MCPError:
            raise
        except Exception as exc:
            logger.exception("prompt %r raised", name)
            detail = (
                "an internal error" if self.settings.mask_error_details else f"{type(exc).__name__}: {exc}"
            )
            raise MCPError(code=INTERNAL_ERROR, message=f"prompt {name!r} failed: {detail}") from exc

    @contextmanager
    def _in_context(self) -> Iterator[None]:
        """Components called outside a request get a :class:`~mcpkit.Context` without a client."""
        if current_context() is not None:
            yield
            return
        with serving(self, None):
            yield

    # Protocol handlers

    def _tool(self, name: str) -> Tool | None:
        """The enabled tool called ``name``, the discovery tools included when discovery is on."""
        tool = self.enabled_tools.get(name)
        if tool is None and self.discovery.mode != "off":
            return self.discovery.tools.get(name)
        return tool

    def _listed_tools(self) -> list[Tool]:
        enabled = self.enabled_tools
        if not self.discovery.active(len(enabled)):
            return list(enabled.values())
        pinned = [enabled[name] for name in self.discovery.pinned if name in enabled]
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

    async def _serve_request(self, ctx: Any, call_next: CallNext) -> HandlerResult:
        """SDK middleware: the request's :class:`~mcpkit.Context` for everything that serves it, and
        the MCP middleware (:mod:`mcpkit.middleware`) around the server's own requests."""
        if ctx.request_id is None or ctx.method == "initialize":
            return await call_next(ctx)
        with serving(self, ctx) as context:
            if not self.middleware.active or ctx.method not in HANDLED_METHODS:
                return await call_next(ctx)

            answered = False

            async def answer(request: Request) -> HandlerResult:
                nonlocal answered
                answered = True
                return await call_next(replace(ctx, method=request.method, params=request.params))

            result = await self.middleware(Request(ctx.method, dict(ctx.params or {}), context, answer))
            return result if answered else self._shaped(ctx, result)

    def _shaped(self, ctx: Any, result: Any) -> dict[str, Any]:
        """A result a middleware made itself, in the wire form the server's own would have: checked
        against the protocol version's schema, stamped as the SDK stamps results."""
        what = f"a middleware answered {ctx.method} with"
        if not isinstance(result, (BaseModel, Mapping)):
            raise MCPError(code=INTERNAL_ERROR, message=f"{what} {type(result).__name__}")
        try:
            model = (
                result if isinstance(result, BaseModel) else _result_model(ctx.method).validate_python(result)
            )
            data = model.model_dump(by_alias=True, mode="json", exclude_none=True)
            shaped = methods.serialize_server_result(ctx.method, ctx.protocol_version, data)
        except ValidationError as exc:
            logger.error("%s an invalid result: %s", what, exc)
            raise MCPError(code=INTERNAL_ERROR, message=f"{what} an invalid result") from None
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            shaped.setdefault("resultType", "complete")
            stamp = self._server.server_info_stamp
            shaped["_meta"] = {**(shaped.get("_meta") or {}), SERVER_INFO_META_KEY: stamp}
        return shaped

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
        return self._permitted_listing(listing)

    def _permitted_listing(self, listing: dict[str, Any]) -> dict[str, Any]:
        """``listing`` without the tools the request's token may not use (see :mod:`mcpkit.scopes`)."""
        hidden = _hidden_by_scopes(self.enabled_tools)
        if not hidden:
            return listing
        return {**listing, "tools": [wire for wire in listing["tools"] if wire["name"] not in hidden]}

    async def _on_call_tool(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        try:
            return await self.call_tool(params.name, params.arguments)
        except InputRequired as asked:
            return asked.result

    async def _on_list_resources(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=self._listed("resources"))

    async def _on_list_resource_templates(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=self._listed("templates"))

    async def _on_read_resource(
        self, ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult | types.InputRequiredResult:
        try:
            return types.ReadResourceResult(contents=await self.read_resource(str(params.uri)))
        except InputRequired as asked:
            return asked.result

    async def _on_list_prompts(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=self._listed("prompts"))

    def _listed(self, kind: Literal["resources", "templates", "prompts"]) -> list[Any]:
        """The protocol entries of a listing (built once until the components change), without those
        the request's token may not see (:mod:`mcpkit.scopes`)."""
        served: dict[str, Any] = getattr(self.catalog(), kind)
        listing = self._listings.get(kind)
        if listing is None:
            listing = self._listings[kind] = {key: component.to_mcp() for key, component in served.items()}
        hidden = _hidden_by_scopes(served)
        return [entry for key, entry in listing.items() if key not in hidden]

    async def _on_get_prompt(
        self, ctx: Any, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult | types.InputRequiredResult:
        try:
            return await self.get_prompt(params.name, params.arguments)
        except InputRequired as asked:
            return asked.result

    async def _on_complete(self, ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        kind, key = reference_of(params)
        component: Prompt | ResourceTemplate | None = (
            self.catalog().prompts.get(key) if kind == "prompt" else self.catalog().templates.get(key)
        )
        if component is None or not self.is_enabled(component):
            what = "prompt" if kind == "prompt" else "resource template"
            raise MCPError(code=INVALID_PARAMS, message=f"unknown {what} {key!r}")
        context = params.context.arguments if params.context is not None else None
        completion = await complete(
            component.completions, params.argument.name, params.argument.value, context or {}
        )
        return types.CompleteResult(completion=completion)

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


def _scope_set(scopes: Iterable[str]) -> frozenset[str]:
    """``scopes`` as a set; a single string is refused (it would be read as its letters)."""
    if isinstance(scopes, str):
        raise TypeError(f"scopes takes a list of scope names, not the string {scopes!r}")
    return frozenset(scopes)


def _hidden_by_scopes(components: Mapping[str, Component]) -> set[str]:
    """The keys of ``components`` whose scopes the request's token lacks (:mod:`mcpkit.scopes`)."""
    return {
        key for key, component in components.items() if component.scopes and missing_scopes(component.scopes)
    }


@lru_cache(maxsize=16)
def _result_model(method: str) -> TypeAdapter[Any]:
    """The protocol's result type of ``method`` (for results a middleware makes)."""
    result_type: Any = methods.MONOLITH_RESULTS[method]
    return TypeAdapter(result_type)

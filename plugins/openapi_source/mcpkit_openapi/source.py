"""``MCPKit.from_openapi``: the ``openapi`` component source.

:func:`convert` does the work (load, parse, plan, build components) and reports what it made, what it
skipped and what it tolerated; :class:`OpenAPISource` wraps it into a server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx

from mcpkit import MCPKit, Resource, Route, RouteMap, Settings, Tool
from mcpkit.allocation import gc_paused
from mcpkit.plugins import get_plugin_host
from mcpkit.routing import RouteMapFn
from mcpkit.sources import PlannedRoute, plan_routes
from mcpkit_openapi.components import Component, build_component
from mcpkit_openapi.errors import ConversionWarning, OpenAPIError
from mcpkit_openapi.loader import load_document
from mcpkit_openapi.model import Operation, ParsedDocument, ServerInfo, SkippedOperation
from mcpkit_openapi.parsers import Parser
from mcpkit_openapi.plan import RequestPlan
from mcpkit_openapi.response import OutputSchemas

logger = logging.getLogger("mcpkit_openapi")

ServerT = TypeVar("ServerT", bound=MCPKit)
ComponentFn = Callable[[Route, Component], "Component | None"]


@dataclass
class ConvertedComponent:
    """One component made from an operation."""

    route: Route
    operation: Operation
    component: Component
    plan: RequestPlan


@dataclass
class Conversion:
    """What a document became: components, operations left out (and why), defects tolerated."""

    document: ParsedDocument
    components: list[ConvertedComponent] = field(default_factory=list)
    excluded: list[Route] = field(default_factory=list)

    @property
    def skipped(self) -> list[SkippedOperation]:
        """Operations that could not be converted."""
        return self.document.skipped

    @property
    def warnings(self) -> list[ConversionWarning]:
        """Defects that were tolerated."""
        return self.document.warnings


def select_parser(name: str | None, settings: Settings) -> Parser:
    """The parser named ``name``, else the one the settings select."""
    parser: Parser = get_plugin_host().openapi_parsers.get(name or settings.selected_openapi_parser)
    return parser


@gc_paused()
def convert(
    openapi_spec: Any,
    client: httpx.AsyncClient | None = None,
    *,
    route_maps: Sequence[RouteMap] | None = None,
    route_map_fn: RouteMapFn | None = None,
    mcp_component_fn: ComponentFn | None = None,
    mcp_names: Mapping[str, str] | None = None,
    tags: Iterable[str] = (),
    timeout: float | None = None,
    parser: str | None = None,
    name_strategy: str | None = None,
    route_mappers: Sequence[str] | None = None,
    detailed_descriptions: bool = False,
    output_schemas: OutputSchemas | None = None,
    settings: Settings | None = None,
) -> Conversion:
    """Convert a document (mapping, path, URL or text) into components calling the API through ``client``.

    The garbage collector is paused meanwhile (see :mod:`mcpkit.allocation`).
    """
    settings = settings if settings is not None else Settings()
    document, location = load_document(openapi_spec)
    parsed = select_parser(parser, settings).parse(document)
    if client is None:
        client = httpx.AsyncClient(base_url=base_url(parsed.servers, location), timeout=timeout or 30.0)
    routes = [
        Route(
            op.method,
            op.path,
            operation_id=op.operation_id,
            summary=op.summary,
            description=op.description,
            tags=op.tags,
            extra={"operation": op},
        )
        for op in parsed.operations
    ]
    planned = plan_routes(
        routes,
        settings=settings,
        plugins=get_plugin_host(),
        route_maps=list(route_maps or ()),
        route_map_fn=route_map_fn,
        mcp_names=mcp_names,
        name_strategy=name_strategy,
        route_mappers=route_mappers,
    )
    conversion = Conversion(parsed)
    kept = {id(p.route) for p in planned}
    conversion.excluded = [route for route in routes if id(route) not in kept]
    policy = output_schemas or settings.output_schemas
    for entry in planned:
        conversion.components.append(
            _component(entry, parsed, client, timeout, tags, detailed_descriptions, policy)
        )
    if mcp_component_fn is not None:
        for converted in conversion.components:
            replaced = mcp_component_fn(converted.route, converted.component)
            if replaced is not None:
                converted.component = replaced
    return conversion


def _component(
    entry: PlannedRoute,
    parsed: ParsedDocument,
    client: httpx.AsyncClient,
    timeout: float | None,
    tags: Iterable[str],
    detailed_descriptions: bool,
    output_schemas: OutputSchemas,
) -> ConvertedComponent:
    operation: Operation = entry.route.extra["operation"]
    component, plan = build_component(
        entry,
        operation,
        parsed.definitions,
        client,
        timeout=timeout,
        tags=frozenset(tags),
        detailed_descriptions=detailed_descriptions,
        output_schemas=output_schemas,
        warnings=parsed.warnings,
    )
    return ConvertedComponent(entry.route, operation, component, plan)


def base_url(servers: list[ServerInfo], location: str | None) -> str:
    """The first server's URL, variables filled with their defaults, made absolute against the
    document's own URL when it was fetched from one."""
    for server in servers:
        url = server.url
        for name, variable in server.variables.items():
            url = url.replace("{" + name + "}", variable.default)
        if location is not None and location.startswith(("http://", "https://")):
            url = urljoin(location, url)
        if url.startswith(("http://", "https://")):
            return url
    raise OpenAPIError(
        "#/servers",
        "no client was given and the document names no absolute server URL; "
        "pass client=httpx.AsyncClient(base_url='https://...')",
    )


class OpenAPISource:
    """The ``openapi`` source: ``MCPKit.from_openapi(openapi_spec=..., client=..., **options)``."""

    @gc_paused()
    def build(
        self,
        server_class: type[ServerT],
        /,
        *,
        openapi_spec: Any,
        client: httpx.AsyncClient | None = None,
        name: str | None = None,
        route_maps: Sequence[RouteMap] | None = None,
        route_map_fn: RouteMapFn | None = None,
        mcp_component_fn: ComponentFn | None = None,
        mcp_names: Mapping[str, str] | None = None,
        tags: Iterable[str] = (),
        timeout: float | None = None,
        parser: str | None = None,
        name_strategy: str | None = None,
        route_mappers: Sequence[str] | None = None,
        detailed_descriptions: bool = False,
        output_schemas: OutputSchemas | None = None,
        settings: Settings | None = None,
        **server_options: Any,
    ) -> ServerT:
        """Convert the document and return a server holding the components (see :func:`convert`)."""
        settings = settings if settings is not None else Settings()
        conversion = convert(
            openapi_spec,
            client,
            route_maps=route_maps,
            route_map_fn=route_map_fn,
            mcp_component_fn=mcp_component_fn,
            mcp_names=mcp_names,
            tags=tags,
            timeout=timeout,
            parser=parser,
            name_strategy=name_strategy,
            route_mappers=route_mappers,
            detailed_descriptions=detailed_descriptions,
            output_schemas=output_schemas,
            settings=settings,
        )
        document = conversion.document
        server_options.setdefault("version", document.version)
        server = server_class(name or document.title, settings=settings, **server_options)
        add_components(server, conversion)
        return server


def add_components(server: MCPKit, conversion: Conversion) -> None:
    """Add the components of ``conversion`` to ``server`` and report what was left out."""
    for converted in conversion.components:
        component = converted.component
        if isinstance(component, Tool):
            server.add_tool(component)
        elif isinstance(component, Resource):
            server.add_resource(component)
        else:
            server.add_resource_template(component)
    for skipped in conversion.skipped:
        logger.warning("%s", skipped)
    if conversion.warnings:
        logger.warning(
            "%d defect(s) of the document were tolerated; first: %s",
            len(conversion.warnings),
            "; ".join(str(w) for w in conversion.warnings[:3]),
        )
        for warning in conversion.warnings:
            logger.debug("tolerated: %s", warning)

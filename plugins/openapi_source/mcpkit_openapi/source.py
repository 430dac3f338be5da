"""``MCPKit.from_openapi``: the ``openapi`` component source.

:func:`convert` does the work (load, parse, plan, build components) and reports what it made, what it
skipped and what it tolerated; :class:`OpenAPISource` wraps it into a server.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar, get_args

import httpx

from mcpkit import MCPKit, Resource, Route, RouteMap, Settings, Tool
from mcpkit.allocation import gc_paused
from mcpkit.plugins import get_plugin_host
from mcpkit.routing import RouteMapFn
from mcpkit.sources import plan_routes
from mcpkit_openapi.caller import DEFAULT_TIMEOUT, Access
from mcpkit_openapi.components import Component, Shaping, build_component, security_scopes
from mcpkit_openapi.credentials import Credentials, Security
from mcpkit_openapi.errors import ConversionWarning, OpenAPIError
from mcpkit_openapi.loader import load_document
from mcpkit_openapi.model import Operation, ParsedDocument, SkippedOperation
from mcpkit_openapi.parsers import Parser
from mcpkit_openapi.plan import RequestPlan
from mcpkit_openapi.response import OutputSchemas
from mcpkit_openapi.servers import Servers

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

    def report(self) -> dict[str, Any]:
        """The conversion as plain data: what ``mcpkit inspect --json`` prints (docs/cli.md)."""
        components = []
        for converted in self.components:
            component = converted.component
            entry: dict[str, Any] = {
                "kind": "tool",
                "name": component.name,
                "method": converted.route.method,
                "path": converted.route.path,
                "operation_id": converted.route.operation_id,
                "tags": sorted(component.tags),
            }
            if isinstance(component, Tool):
                annotations = component.annotations
                entry["annotations"] = (
                    annotations.model_dump(by_alias=True, exclude_none=True) if annotations else {}
                )
            elif isinstance(component, Resource):
                entry.update(kind="resource", uri=component.uri)
            else:
                entry.update(kind="resource_template", uri=component.uri_template)
            components.append(entry)
        return {
            "title": self.document.title,
            "version": self.document.version,
            "components": components,
            "excluded": [
                {"method": r.method, "path": r.path, "operation_id": r.operation_id} for r in self.excluded
            ],
            "skipped": [
                {"method": s.method, "path": s.path, "pointer": s.pointer, "reason": s.reason}
                for s in self.skipped
            ],
            "warnings": [{"pointer": w.pointer, "message": w.message} for w in self.warnings],
        }


INSPECT_BASE_URL = "http://localhost"
"""The base URL of an inspected document without ``servers``: inspecting calls nothing."""


def select_parser(name: str | None, settings: Settings) -> Parser:
    """The parser named ``name``, else the one the settings select."""
    parser: Parser = get_plugin_host().openapi_parsers.get(name or settings.selected_openapi_parser)
    return parser


@dataclass(frozen=True, kw_only=True)
class ConversionOptions:
    """The options of :func:`convert` and ``MCPKit.from_openapi`` (docs/openapi.md explains each)."""

    route_maps: Sequence[RouteMap] = ()
    route_map_fn: RouteMapFn | None = None
    mcp_component_fn: ComponentFn | None = None
    mcp_names: Mapping[str, str] | None = None
    tags: Iterable[str] = ()
    timeout: float | None = None
    parser: str | None = None
    name_strategy: str | None = None
    route_mappers: Sequence[str] | None = None
    detailed_descriptions: bool = False
    output_schemas: OutputSchemas | None = None
    auth: Mapping[str, Any] | None = field(default=None, repr=False)  # secrets
    server_url: str | None = None
    server_variables: Mapping[str, str] | None = None
    httpx_client_kwargs: Mapping[str, Any] | None = field(default=None, repr=False)  # headers, auth
    response_filter: bool | None = None
    max_response_bytes: int | Literal["settings"] | None = "settings"
    scopes_from_security: bool = False

    def __post_init__(self) -> None:
        timeout = self.timeout
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf
        ):
            raise ValueError(f"timeout must be a positive number of seconds (or None), got {timeout!r}")
        policies = get_args(OutputSchemas)
        if self.output_schemas is not None and self.output_schemas not in policies:
            raise ValueError(
                f"output_schemas={self.output_schemas!r} is not a policy; valid: {', '.join(policies)}"
            )

    @classmethod
    def names(cls) -> list[str]:
        """Every option name."""
        return [f.name for f in fields(cls)]


def unknown_options(unknown: Iterable[str], valid: Iterable[str]) -> TypeError:
    """A ``TypeError`` naming unknown options, with a close match and the valid ones."""
    valid = sorted(valid)
    described = []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, valid, n=1)
        described.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return TypeError(f"unknown option {', '.join(described)}; valid options: {', '.join(valid)}")


@gc_paused()
def convert(
    openapi_spec: Any,
    client: httpx.AsyncClient | None = None,
    *,
    settings: Settings | None = None,
    **options: Any,
) -> Conversion:
    """Convert a document (mapping, path, URL or text) into components calling the API.

    ``options`` are those of :class:`ConversionOptions`. Without a ``client``, one is made for the
    document's server (``timeout`` applies to it). The garbage collector is paused meanwhile (see
    :mod:`mcpkit.allocation`).
    """
    unknown = set(options) - set(ConversionOptions.names())
    if unknown:
        raise unknown_options(unknown, ConversionOptions.names())
    return _convert(openapi_spec, client, settings or Settings(), ConversionOptions(**options))


def _convert(
    openapi_spec: Any, client: httpx.AsyncClient | None, settings: Settings, options: ConversionOptions
) -> Conversion:
    document, location = load_document(openapi_spec)
    parsed = select_parser(options.parser, settings).parse(document)
    servers = Servers(parsed, location, options.server_url, options.server_variables)
    own_client = client is None
    if client is None:
        client = _client(servers.base_url(()), options)
    elif options.httpx_client_kwargs is not None:
        raise TypeError("pass either client= or httpx_client_kwargs=, not both")
    credentials = Credentials(parsed.security_schemes, {**settings.auth, **(options.auth or {})})
    security = Security(parsed, credentials, assume_client_auth=not own_client)
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
        route_maps=list(options.route_maps),
        route_map_fn=options.route_map_fn,
        mcp_names=options.mcp_names,
        name_strategy=options.name_strategy,
        route_mappers=options.route_mappers,
    )
    conversion = Conversion(parsed)
    kept = {id(p.route) for p in planned}
    conversion.excluded = [route for route in routes if id(route) not in kept]
    policy = options.output_schemas or settings.output_schemas
    tags = frozenset(options.tags)
    shaping = Shaping(
        response_filter=settings.response_filter
        if options.response_filter is None
        else options.response_filter,
        max_response_bytes=(
            settings.max_response_bytes
            if options.max_response_bytes == "settings"
            else options.max_response_bytes
        ),
    )
    for entry in planned:
        operation: Operation = entry.route.extra["operation"]
        access = Access(
            client=client,
            credentials=credentials,
            selection=security.selection(operation),
            base_url=_base_url(servers, operation, client, own_client),
            timeout=options.timeout,
        )
        try:
            component, plan = build_component(
                entry,
                operation,
                parsed.definitions,
                access,
                tags=tags,
                detailed_descriptions=options.detailed_descriptions,
                output_schemas=policy,
                shaping=shaping,
                warnings=parsed.warnings,
                scopes=_scopes(parsed, operation) if options.scopes_from_security else frozenset(),
            )
        except OpenAPIError as exc:  # a definition it needs cannot be converted
            parsed.skipped.append(SkippedOperation(operation.method, operation.path, exc.pointer, exc.reason))
            continue
        conversion.components.append(ConvertedComponent(entry.route, operation, component, plan))
    if options.mcp_component_fn is not None:
        for converted in conversion.components:
            replaced = options.mcp_component_fn(converted.route, converted.component)
            if replaced is not None:
                converted.component = replaced
    return conversion


def _scopes(parsed: ParsedDocument, operation: Operation) -> frozenset[str]:
    """``scopes_from_security``: the OAuth scopes of the operation's effective security."""
    requirements = operation.security if operation.security is not None else parsed.security
    return security_scopes(requirements, parsed.security_schemes)


def _base_url(
    servers: Servers, operation: Operation, client: httpx.AsyncClient, own_client: bool
) -> str | None:
    """The base URL of ``operation`` when it is not the client's: the operation's own servers on the
    client mcpkit made; its own or the document's servers on a given client without an absolute
    ``base_url``."""
    if own_client:
        return servers.base_url(operation.servers) if operation.servers else None
    if client.base_url.is_absolute_url:
        return None
    try:
        return servers.base_url(operation.servers)
    except OpenAPIError:
        raise OpenAPIError(
            "#/servers",
            f"the client has no base_url and the document names no absolute server URL for "
            f"{operation.method} {operation.path}; give the client one "
            "(httpx.AsyncClient(base_url='https://...')) or pass server_url='https://...'",
        ) from None


def _client(base_url: str, options: ConversionOptions) -> httpx.AsyncClient:
    """The client mcpkit makes when none is given: ``httpx_client_kwargs`` (copied) and the base URL."""
    kwargs = dict(options.httpx_client_kwargs or {})
    if "base_url" in kwargs:
        raise ValueError("httpx_client_kwargs cannot set base_url; use server_url= instead")
    kwargs.setdefault("timeout", options.timeout or DEFAULT_TIMEOUT)
    try:
        return httpx.AsyncClient(base_url=base_url, **kwargs)
    except TypeError as exc:
        raise TypeError(f"httpx_client_kwargs: {exc}") from None


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
        settings: Settings | None = None,
        **options: Any,
    ) -> ServerT:
        """Convert the document and return a server holding the components.

        ``options`` are those of :class:`ConversionOptions`, plus any keyword argument of the server
        class (``version``, ``instructions``, ``lifespan``, ``forward_headers``, ...).
        """
        settings = settings if settings is not None else Settings()
        conversion_options, server_options = split_options(options, server_class)
        conversion = convert(openapi_spec, client, settings=settings, **conversion_options)
        server_options.setdefault("version", conversion.document.version)
        server = server_class(name or conversion.document.title, settings=settings, **server_options)
        add_components(server, conversion)
        return server

    def inspect(
        self, openapi_spec: Any, /, *, settings: Settings | None = None, **options: Any
    ) -> dict[str, Any]:
        """What ``openapi_spec`` becomes with the conversion ``options``, as :meth:`Conversion.report`.
        Nothing is called, so a document without ``servers`` needs no base URL."""
        options.setdefault("server_url", INSPECT_BASE_URL)
        return convert(openapi_spec, settings=settings, **options).report()


def split_options(
    options: Mapping[str, Any], server_class: type[MCPKit]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``options`` split into conversion options and server options; unknown names raise ``TypeError``."""
    conversion_names = set(ConversionOptions.names())
    server_names = {
        name
        for name, parameter in inspect.signature(server_class.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = set(options) - conversion_names - server_names
    if unknown:
        raise unknown_options(unknown, conversion_names | server_names | {"name", "settings", "client"})
    conversion = {k: v for k, v in options.items() if k in conversion_names}
    return conversion, {k: v for k, v in options.items() if k not in conversion_names}


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

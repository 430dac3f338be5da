"""Component sources, and the route planning every source shares.

A source (registered through ``mcpkit_register_sources``) builds a server from something that
describes HTTP operations. It lists those operations as :class:`~mcpkit.routing.Route` objects and
calls :func:`plan_routes`, which applies route maps, route mappers and the name strategy the same way
for every source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mcpkit.naming import NameAllocator
from mcpkit.routing import MCPType, Route, RouteMap, RouteMapFn, map_route

if TYPE_CHECKING:
    from mcpkit.plugins import PluginHost
    from mcpkit.server import MCPKit
    from mcpkit.settings import Settings

logger = logging.getLogger(__name__)


@runtime_checkable
class ComponentSource(Protocol):
    """Builds a server from a source of operations (an OpenAPI document, a FastAPI app, ...).

    ``build(server_class, /, **options)`` creates ``server_class(...)``, adds the source's components
    and returns the server. Each source documents the options it takes.
    """

    @property
    def build(self) -> Callable[..., MCPKit]:
        """``build(server_class, /, **options) -> server``."""
        ...


@runtime_checkable
class InspectableSource(ComponentSource, Protocol):
    """A source that can also say what it would build, without building it (``mcpkit inspect``).

    ``inspect(target, /, *, settings, **options)`` takes the source's target (a document, an app) and
    the conversion options of ``build``, calls nothing, and returns the report ``mcpkit inspect --json``
    prints without its ``source`` key: ``title``, ``version``, ``components`` (``kind``, ``name``,
    ``method``, ``path``, ``operation_id``, ``tags``, and ``annotations`` or ``uri``), ``excluded``,
    ``skipped`` and ``warnings``.
    """

    @property
    def inspect(self) -> Callable[..., dict[str, Any]]:
        """``inspect(target, /, *, settings, **options) -> report``."""
        ...


class OpenAPIParser(Protocol):
    """Reads an OpenAPI document for the ``openapi`` source: what ``mcpkit_register_openapi_parsers``
    registers. The kernel only selects parsers by name; what ``parse`` returns is the OpenAPI source
    plugin's contract (``mcpkit_openapi.parsers``)."""

    def parse(self, document: Mapping[str, Any]) -> Any:
        """The operations of ``document`` (a loaded OpenAPI 3.x or Swagger 2.0 mapping)."""
        ...


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    """A route with what it becomes and its final, unique component name."""

    route: Route
    mcp_type: MCPType
    name: str
    mcp_tags: frozenset[str]


def plan_routes(
    routes: Sequence[Route],
    *,
    settings: Settings,
    plugins: PluginHost,
    route_maps: Sequence[RouteMap] = (),
    route_map_fn: RouteMapFn | None = None,
    mcp_names: Mapping[str, str] | None = None,
    name_strategy: str | None = None,
    route_mappers: Sequence[str] | None = None,
    taken_names: set[str] | None = None,
) -> list[PlannedRoute]:
    """Decide the type and name of every route; excluded routes are left out of the result.

    Names: ``mcp_names[operation_id]`` is used exactly (it must be valid and unique); other routes
    get the selected name strategy's proposal, made valid and unique. Route mappers and the strategy
    are looked up by name among the plugins (``settings`` supply the defaults).
    """
    selected = settings.route_mappers if route_mappers is None else route_mappers  # [] means none
    mappers = [plugins.route_mappers.get(n) for n in selected]
    strategy = plugins.name_strategies.get(name_strategy or settings.name_strategy)
    overrides = dict(mcp_names or {})
    unknown = sorted(set(overrides) - {route.operation_id for route in routes})
    if unknown:
        logger.warning("mcp_names names operations that do not exist: %s", ", ".join(map(repr, unknown)))
    decisions = [map_route(route, route_maps, route_map_fn, mappers) for route in routes]

    allocator = NameAllocator(taken_names)
    names: dict[int, str] = {}
    for index, route in enumerate(routes):
        if route.operation_id in overrides and decisions[index].mcp_type is not MCPType.EXCLUDE:
            try:
                names[index] = allocator.claim(overrides[route.operation_id])
            except ValueError as exc:
                raise ValueError(f"mcp_names[{route.operation_id!r}]: {exc}") from None
    planned = []
    for index, (route, decision) in enumerate(zip(routes, decisions, strict=True)):
        if decision.mcp_type is MCPType.EXCLUDE:
            continue
        name = names.get(index) or allocator.allocate(strategy(route))
        planned.append(PlannedRoute(route, decision.mcp_type, name, decision.mcp_tags))
    return planned

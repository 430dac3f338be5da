"""Route maps: deciding what each HTTP operation becomes (tool, resource, template, or nothing).

Every source (OpenAPI, FastAPI, third-party) describes its operations as :class:`Route` objects and
asks :func:`map_route` what to make of each one. The rules, in order:

1. the user's ``route_maps``: the first :class:`RouteMap` that matches wins;
2. if none matches, the operation becomes a :attr:`MCPType.TOOL`;
3. route mappers selected by name (``route_mappers=[...]`` or ``MCPKIT_ROUTE_MAPPERS``), in order;
4. the user's ``route_map_fn(route, mcp_type)``, which has the last word.

Steps 3 and 4 return a new :class:`MCPType` or ``None`` to keep the current one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"})


class MCPType(StrEnum):
    """What an operation becomes on the MCP server."""

    TOOL = "tool"
    RESOURCE = "resource"
    RESOURCE_TEMPLATE = "resource_template"
    EXCLUDE = "exclude"


@dataclass(frozen=True, slots=True)
class Route:
    """One HTTP operation, as sources describe it to route maps, name strategies and route mappers.

    ``extra`` carries source-specific data (for example the parsed OpenAPI operation) that plugins
    may read; the kernel never looks at it.
    """

    method: str
    path: str
    operation_id: str | None = None
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_path_parameters(self) -> bool:
        """Whether the path template contains ``{parameters}``."""
        return "{" in self.path


RouteMapFn = Callable[[Route, MCPType], "MCPType | None"]
"""``route_map_fn(route, mcp_type)``: return a new type for the route, or ``None`` to keep ``mcp_type``."""

RouteMapper = RouteMapFn
"""A route mapper registered by a plugin has the same signature as ``route_map_fn``."""


@dataclass(frozen=True)
class RouteMap:
    """Maps operations that match ``methods``, ``pattern`` and ``tags`` to ``mcp_type``.

    - ``methods``: ``"*"`` or a list of HTTP methods (case-insensitive).
    - ``pattern``: a regular expression searched in the path template (``r".*"`` matches all).
    - ``tags``: the operation must carry all of these tags (empty: no condition).
    - ``mcp_tags``: tags added to the component made from a matching operation.
    """

    methods: Sequence[str] | Literal["*"] = "*"
    pattern: str | re.Pattern[str] = r".*"
    tags: Iterable[str] = frozenset()
    mcp_type: MCPType = MCPType.TOOL
    mcp_tags: Iterable[str] = frozenset()
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    _methods: frozenset[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.methods == "*":
            methods = None
        elif isinstance(self.methods, str):
            raise TypeError(f"RouteMap methods must be '*' or a list of methods, not {self.methods!r}")
        else:
            methods = frozenset(m.upper() for m in self.methods)
            unknown = methods - HTTP_METHODS
            if unknown:
                raise ValueError(
                    f"RouteMap methods {sorted(unknown)} are not HTTP methods; valid: {sorted(HTTP_METHODS)}"
                )
        try:
            regex = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(
                f"RouteMap pattern {self.pattern!r} is not a valid regular expression: {exc}"
            ) from exc
        object.__setattr__(self, "mcp_type", MCPType(self.mcp_type))
        object.__setattr__(self, "tags", frozenset(self.tags))
        object.__setattr__(self, "mcp_tags", frozenset(self.mcp_tags))
        object.__setattr__(self, "_regex", regex)
        object.__setattr__(self, "_methods", methods)

    def matches(self, route: Route) -> bool:
        """Whether this map applies to ``route``."""
        if self._methods is not None and route.method.upper() not in self._methods:
            return False
        if self._regex.search(route.path) is None:
            return False
        return frozenset(self.tags) <= frozenset(route.tags)


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """What :func:`map_route` decided for one route."""

    mcp_type: MCPType
    mcp_tags: frozenset[str] = frozenset()


def map_route(
    route: Route,
    route_maps: Sequence[RouteMap] = (),
    route_map_fn: RouteMapFn | None = None,
    route_mappers: Sequence[RouteMapper] = (),
) -> RouteDecision:
    """Decide what ``route`` becomes: user maps first (first match wins), default TOOL, then mappers."""
    mcp_type, mcp_tags = MCPType.TOOL, frozenset[str]()
    for route_map in route_maps:
        if route_map.matches(route):
            mcp_type, mcp_tags = route_map.mcp_type, frozenset(route_map.mcp_tags)
            break
    for mapper in (*route_mappers, *((route_map_fn,) if route_map_fn else ())):
        override = mapper(route, mcp_type)
        if override is not None:
            mcp_type = MCPType(override)
    return RouteDecision(mcp_type, mcp_tags)

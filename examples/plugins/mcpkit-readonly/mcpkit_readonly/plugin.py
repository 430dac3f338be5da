"""The hooks of mcpkit-readonly: the ``readonly`` route mapper and name strategy, and the
``starlette`` source and target resolver (plain Starlette apps, on the command line too)."""

from __future__ import annotations

import re

from mcpkit import MCPType, Route, hookimpl
from mcpkit.naming import NameStrategy, default_name_strategy
from mcpkit.registry import Register
from mcpkit.routing import RouteMapper
from mcpkit.sources import ComponentSource
from mcpkit.targets import TargetResolver
from mcpkit_readonly.apps import StarletteSource, starlette_target

READ_METHODS = frozenset({"GET", "HEAD"})
_NON_WORD = re.compile(r"\W+")


def reads_only(route: Route, mcp_type: MCPType) -> MCPType | None:
    """Exclude every operation but GET and HEAD; reads stay what the route maps made them."""
    return None if route.method.upper() in READ_METHODS else MCPType.EXCLUDE


def read_name(route: Route) -> str:
    """Name a read for what it reads: ``GET /pets`` is ``get_pets``, ``GET /pets/{pet_id}`` is
    ``get_pets_by_pet_id``, ``HEAD /pets`` is ``check_pets``. Other methods get the default name."""
    method = route.method.upper()
    if method not in READ_METHODS:
        return default_name_strategy(route)
    segments = [segment for segment in route.path.split("/") if segment]
    nouns = [_NON_WORD.sub("_", s).strip("_") for s in segments if not s.startswith("{")] or ["root"]
    parameters = [s.strip("{}") for s in segments if s.startswith("{")]
    words = ["check" if method == "HEAD" else "get", *nouns]
    if parameters:
        words += ["by", "_and_".join(parameters)]
    return "_".join(words)


@hookimpl
def mcpkit_register_route_mappers(register: Register[RouteMapper]) -> None:
    """Register ``readonly``: only GET and HEAD operations are served."""
    register("readonly", reads_only)


@hookimpl
def mcpkit_register_name_strategies(register: Register[NameStrategy]) -> None:
    """Register ``readonly``: ``get_...``, ``get_..._by_...`` and ``check_...`` names."""
    register("readonly", read_name)


@hookimpl
def mcpkit_register_sources(register: Register[ComponentSource]) -> None:
    """Register ``starlette``: a plain Starlette app's GET routes (``MCPKit.from_source``)."""
    register("starlette", StarletteSource())


@hookimpl
def mcpkit_register_target_resolvers(register: Register[TargetResolver]) -> None:
    """Register ``starlette``: ``mcpkit serve app:app`` serves a plain Starlette app."""
    register("starlette", starlette_target)

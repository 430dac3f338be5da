"""Hook implementations of mcpkit_openapi: the ``openapi`` source and the two OpenAPI parsers."""

from __future__ import annotations

from mcpkit import hookimpl
from mcpkit.registry import Register
from mcpkit.sources import ComponentSource, OpenAPIParser
from mcpkit_openapi.parsers.experimental import ExperimentalParser
from mcpkit_openapi.parsers.legacy import LegacyParser
from mcpkit_openapi.source import OpenAPISource


@hookimpl
def mcpkit_register_sources(register: Register[ComponentSource]) -> None:
    """Register ``openapi`` (``MCPKit.from_openapi``)."""
    register("openapi", OpenAPISource())


@hookimpl
def mcpkit_register_openapi_parsers(register: Register[OpenAPIParser]) -> None:
    """Register ``legacy`` (validating, the default) and ``experimental`` (lazy, fast)."""
    register("legacy", LegacyParser())
    register("experimental", ExperimentalParser())

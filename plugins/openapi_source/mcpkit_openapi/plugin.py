"""Hook implementations of mcpkit_openapi: the ``openapi`` source, the two OpenAPI parsers, and the
``openapi`` target resolver (OpenAPI documents on the command line)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpkit import MCPKit, Settings, hookimpl
from mcpkit.registry import Register
from mcpkit.sources import ComponentSource, OpenAPIParser
from mcpkit.targets import Target, TargetResolver
from mcpkit_openapi.parsers.experimental import ExperimentalParser
from mcpkit_openapi.parsers.legacy import LegacyParser
from mcpkit_openapi.source import OpenAPISource

DOCUMENT_SUFFIXES = frozenset({".json", ".yaml", ".yml"})
"""The files the ``openapi`` target resolver takes as OpenAPI documents."""


@hookimpl
def mcpkit_register_sources(register: Register[ComponentSource]) -> None:
    """Register ``openapi`` (``MCPKit.from_openapi``)."""
    register("openapi", OpenAPISource())


@hookimpl
def mcpkit_register_openapi_parsers(register: Register[OpenAPIParser]) -> None:
    """Register ``legacy`` (validating, the default) and ``experimental`` (lazy, fast)."""
    register("legacy", LegacyParser())
    register("experimental", ExperimentalParser())


@hookimpl
def mcpkit_register_target_resolvers(register: Register[TargetResolver]) -> None:
    """Register ``openapi``: OpenAPI documents (see :func:`document_target`)."""
    register("openapi", document_target)


def document_target(target: object) -> Target | None:
    """An OpenAPI document: an ``http(s)://`` URL, a ``.json``, ``.yaml`` or ``.yml`` file, or a
    mapping with an ``openapi`` or ``swagger`` key (a ``module:attr`` naming a loaded document)."""
    if isinstance(target, str):
        is_url = target.startswith(("http://", "https://"))
        if not is_url and not (Path(target).suffix.lower() in DOCUMENT_SUFFIXES and Path(target).is_file()):
            return None
    elif not (isinstance(target, Mapping) and ("openapi" in target or "swagger" in target)):
        return None
    document = target

    def build(
        *, base_url: str | None = None, headers: Mapping[str, str] | None = None, **options: Any
    ) -> MCPKit:
        if base_url is not None:
            options["server_url"] = base_url
        if headers:
            options["httpx_client_kwargs"] = {"headers": dict(headers)}
        return MCPKit.from_openapi(document, **options)

    def inspect(*, settings: Settings, **options: Any) -> dict[str, Any]:
        return OpenAPISource().inspect(document, settings=settings, **options)

    return Target("OpenAPI document", build, inspect)

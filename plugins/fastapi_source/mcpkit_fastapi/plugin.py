"""Hook implementations of mcpkit_fastapi: the ``fastapi`` source, the ``fastapi`` name strategy and
the ``fastapi`` target resolver (FastAPI apps on the command line).

Plugin discovery imports this module in every process that uses mcpkit, so it stays cheap: the
source's machinery (httpx, the OpenAPI plugin) is imported on the first ``MCPKit.from_fastapi``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from mcpkit import MCPKit, Settings, hookimpl
from mcpkit.naming import NameStrategy
from mcpkit.registry import Register
from mcpkit.sources import ComponentSource
from mcpkit.targets import Target, TargetResolver
from mcpkit_fastapi.naming import fastapi_name_strategy

ServerT = TypeVar("ServerT", bound="MCPKit")


class FastAPISource:
    """The ``fastapi`` source: ``MCPKit.from_fastapi(app=app, **options)``.

    See :func:`mcpkit_fastapi.source.build_server` for the options.
    """

    def build(self, server_class: type[ServerT], /, **options: Any) -> ServerT:
        """Build a server from ``options["app"]``."""
        from mcpkit_fastapi.source import build_server

        return build_server(server_class, **options)

    def inspect(self, app: Any, /, **options: Any) -> dict[str, Any]:
        """What ``app`` becomes (``mcpkit inspect``); see :func:`mcpkit_fastapi.source.inspect_app`."""
        from mcpkit_fastapi.source import inspect_app

        return inspect_app(app, **options)


@hookimpl
def mcpkit_register_sources(register: Register[ComponentSource]) -> None:
    """Register ``fastapi`` (``MCPKit.from_fastapi``)."""
    register("fastapi", FastAPISource())


@hookimpl
def mcpkit_register_name_strategies(register: Register[NameStrategy]) -> None:
    """Register ``fastapi``: short names for FastAPI's generated ids (:mod:`mcpkit_fastapi.naming`)."""
    register("fastapi", fastapi_name_strategy)


@hookimpl
def mcpkit_register_target_resolvers(register: Register[TargetResolver]) -> None:
    """Register ``fastapi``: FastAPI apps (see :func:`app_target`)."""
    register("fastapi", app_target)


def app_target(target: object) -> Target | None:
    """A FastAPI app: a callable instance (an ASGI app) with an ``openapi()`` method."""
    if isinstance(target, type) or not callable(target) or not callable(getattr(target, "openapi", None)):
        return None
    app = target

    def build(
        *, base_url: str | None = None, headers: Mapping[str, str] | None = None, **options: Any
    ) -> MCPKit:
        client = {k: v for k, v in (("base_url", base_url), ("headers", headers)) if v}
        return MCPKit.from_fastapi(app, httpx_client_kwargs=client or None, **options)

    def inspect(*, settings: Settings, **options: Any) -> dict[str, Any]:
        return FastAPISource().inspect(app, settings=settings, **options)

    return Target("FastAPI app", build, inspect)

"""Hook implementations of mcpkit_fastapi: the ``fastapi`` source and the ``fastapi`` name strategy.

Plugin discovery imports this module in every process that uses mcpkit, so it stays cheap: the
source's machinery (httpx, the OpenAPI plugin) is imported on the first ``MCPKit.from_fastapi``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from mcpkit import hookimpl
from mcpkit.naming import NameStrategy
from mcpkit.registry import Register
from mcpkit.sources import ComponentSource
from mcpkit_fastapi.naming import fastapi_name_strategy

if TYPE_CHECKING:
    from mcpkit import MCPKit

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

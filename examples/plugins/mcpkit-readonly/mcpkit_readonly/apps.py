"""Plain Starlette apps, served read-only: each GET route becomes a tool that calls the app in-process.

A Starlette app has no OpenAPI document, so one is made from its routes (``GET /pets/{pet_id:int}``
is an operation with an integer path parameter ``pet_id``, named for its endpoint) and served by
mcpkit's ``openapi`` source, whose requests go to the app in-process. Only the app's own GET routes
are served (not those of mounted apps), and its lifespan is not run.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TypeVar

from mcpkit import MCPKit, Settings
from mcpkit.plugins import get_plugin_host
from mcpkit.sources import InspectableSource
from mcpkit.targets import Target

ServerT = TypeVar("ServerT", bound=MCPKit)

APP_BASE_URL = "http://localhost"
"""The base URL of the requests sent to the app (unless ``base_url`` says another)."""
_PARAMETER_TYPES = {"IntegerConvertor": "integer", "FloatConvertor": "number"}


def is_plain_starlette_app(value: object) -> bool:
    """Whether ``value`` is a Starlette app without an OpenAPI document (a FastAPI app has one). It
    imports nothing: when Starlette was never imported, nothing can be a Starlette app."""
    applications = sys.modules.get("starlette.applications")
    return (
        applications is not None
        and isinstance(value, applications.Starlette)
        and not callable(getattr(value, "openapi", None))
    )


def app_document(app: Any) -> dict[str, Any]:
    """An OpenAPI document of ``app``'s GET routes."""
    paths: dict[str, Any] = {}
    for route in app.routes:
        if "GET" not in (getattr(route, "methods", None) or ()):
            continue
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": _parameter_type(convertor)}}
            for name, convertor in route.param_convertors.items()
        ]
        summary = (route.endpoint.__doc__ or "").strip().split("\n", 1)[0]
        operation = {"operationId": route.name, "responses": {"200": {"description": "OK"}}}
        paths[route.path_format] = {
            "get": {**operation, **({"summary": summary} if summary else {}), "parameters": parameters}
        }
    return {"openapi": "3.0.3", "info": {"title": "Starlette app", "version": "1"}, "paths": paths}


def _parameter_type(convertor: object) -> str:
    return _PARAMETER_TYPES.get(type(convertor).__name__, "string")


class StarletteSource:
    """The ``starlette`` source: ``MCPKit.from_source("starlette", app=app, **options)``.

    ``base_url`` is the URL the app sees (default :data:`APP_BASE_URL`), ``headers`` are sent with
    every request; the other options are those of ``MCPKit.from_openapi``.
    """

    def build(
        self,
        server_class: type[ServerT],
        /,
        *,
        app: Any,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> ServerT:
        """A server whose tools call ``app``'s GET routes."""
        import httpx

        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url=base_url or APP_BASE_URL, headers=headers)
        return server_class.from_openapi(app_document(app), client=client, **options)

    def inspect(self, app: Any, /, *, settings: Settings, **options: Any) -> dict[str, Any]:
        """What ``app`` becomes (``mcpkit inspect``), from the ``openapi`` source's own report."""
        openapi = get_plugin_host().sources.get("openapi")
        if not isinstance(openapi, InspectableSource):
            raise TypeError("the openapi source cannot inspect")
        return openapi.inspect(app_document(app), settings=settings, **options)


def starlette_target(value: object) -> Target | None:
    """The ``starlette`` target resolver: a plain Starlette app on the command line."""
    if not is_plain_starlette_app(value):
        return None
    source = StarletteSource()

    def build(**options: Any) -> MCPKit:
        return MCPKit.from_source("starlette", app=value, **options)

    def inspect(*, settings: Settings, **options: Any) -> dict[str, Any]:
        return source.inspect(value, settings=settings, **options)

    return Target("Starlette app", build, inspect)

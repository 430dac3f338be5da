"""``MCPKit.from_fastapi``: a server whose components call a FastAPI app in-process.

The app's OpenAPI document (``app.openapi()``) is converted by the OpenAPI plugin
(:func:`mcpkit_openapi.convert`), with an httpx client whose transport calls the app directly (see
:mod:`mcpkit_fastapi.inprocess`). The server's lifespan runs the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

import httpx
from starlette.convertors import PathConvertor

from mcpkit import MCPKit, Settings
from mcpkit.allocation import gc_paused
from mcpkit_fastapi.inprocess import AppTransport, InProcessApp
from mcpkit_openapi import convert
from mcpkit_openapi.source import add_components, split_options

ServerT = TypeVar("ServerT", bound=MCPKit)
Lifespan = Callable[[MCPKit], AbstractAsyncContextManager[Any]]

NAME_STRATEGY = "fastapi"
DEFAULT_BASE_URL = "http://localhost"
DEFAULT_TIMEOUT = 30.0
"""Seconds a request may take when neither ``timeout`` nor ``httpx_client_kwargs`` set one."""

_CLIENT_KWARGS_REFUSED = ("app", "transport", "mounts")
_BASE_URL_REMEDY = "httpx_client_kwargs={'base_url': ...} sets the URL the app sees"
_REFUSED_OPTIONS = {
    "client": "use httpx_client_kwargs= for headers, auth, cookies or timeouts",
    "openapi_spec": "convert a document of your own with MCPKit.from_openapi",
    "server_url": _BASE_URL_REMEDY,
    "server_variables": _BASE_URL_REMEDY,
}


@gc_paused()
def build_server(
    server_class: type[ServerT],
    /,
    *,
    app: Any,
    name: str | None = None,
    httpx_client_kwargs: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    lifespan: Lifespan | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> ServerT:
    """Convert ``app``'s OpenAPI document into a ``server_class`` whose components call the app.

    - ``httpx_client_kwargs``: keyword arguments of the ``httpx.AsyncClient`` that calls the app
      (headers, auth, cookies, timeout, base_url, ...); copied, never modified.
    - ``timeout``: seconds a whole call may take, from sending the request to the last byte of the
      response (default 30; the client's own timeout bounds each step too).
    - ``lifespan``: the server's own lifespan, run inside the app's (see :func:`server_lifespan`).
    - ``options``: the conversion options of ``MCPKit.from_openapi`` (``route_maps``,
      ``route_map_fn``, ``mcp_component_fn``, ``mcp_names``, ``tags``, ``name_strategy``, ``auth``,
      ...) and the server's own (``version``, ``instructions``, ``forward_headers``, ...); unknown
      names raise ``TypeError``. The ``fastapi`` name strategy is used unless ``name_strategy=`` or
      the settings choose one.
    """
    for option, remedy in _REFUSED_OPTIONS.items():
        if option in options:
            raise TypeError(
                f"from_fastapi takes no {option}=: it reads app.openapi() and calls the app in-process; "
                + remedy
            )
    document = openapi_document(app)
    settings = settings if settings is not None else Settings()
    _check_timeout(timeout)
    conversion_options, server_options = split_options(options, server_class)
    _default_name_strategy(conversion_options, settings)
    served = InProcessApp(app)
    client = in_process_client(served, httpx_client_kwargs, timeout)
    conversion = convert(document, client, timeout=timeout, settings=settings, **conversion_options)
    server_options.setdefault("version", conversion.document.version)
    server = server_class(
        name or conversion.document.title,
        settings=settings,
        lifespan=server_lifespan(served, lifespan),
        **server_options,
    )
    add_components(server, conversion)
    return server


def inspect_app(app: Any, /, *, settings: Settings | None = None, **options: Any) -> dict[str, Any]:
    """What ``app`` becomes with the conversion ``options`` of :func:`build_server`, as
    :meth:`mcpkit_openapi.Conversion.report`; the app is not called."""
    settings = settings if settings is not None else Settings()
    _default_name_strategy(options, settings)
    client = httpx.AsyncClient(base_url=DEFAULT_BASE_URL)
    return convert(openapi_document(app), client, settings=settings, **options).report()


def _default_name_strategy(options: dict[str, Any], settings: Settings) -> None:
    """Choose the ``fastapi`` name strategy unless ``options`` or the settings choose one."""
    if "name_strategy" not in options and "name_strategy" not in settings.model_fields_set:
        options["name_strategy"] = NAME_STRATEGY


def openapi_document(app: Any) -> dict[str, Any]:
    """``app.openapi()``, checked; a clear error for anything that is not a FastAPI app (instance).

    An app whose document was not cached before is left without it (FastAPI caches it on first use)."""
    openapi = getattr(app, "openapi", None)
    if isinstance(app, type) or not callable(app) or not callable(openapi):
        what = f"the class {app.__name__}" if isinstance(app, type) else type(app).__name__
        raise TypeError(
            f"from_fastapi(app=...) needs a FastAPI app instance (an ASGI app with an openapi() method), "
            f"got {what}. For another ASGI app, serve its OpenAPI document with MCPKit.from_openapi("
            "openapi_spec=..., client=httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=...))"
        )
    cached = getattr(app, "openapi_schema", None)
    try:
        document = openapi()
    except Exception as exc:
        raise ValueError(f"app.openapi() failed, so the app cannot be converted: {exc}") from exc
    finally:
        if cached is None and getattr(app, "openapi_schema", None) is not None:
            # Leave the app as found: FastAPI would keep the document (19 MB at 1,000 routes) cached
            # on it for ever; its /openapi.json makes it again when first asked, as it would have.
            app.openapi_schema = None
    if not isinstance(document, Mapping) or not isinstance(document.get("paths", {}), Mapping):
        raise TypeError(f"app.openapi() must return an OpenAPI document (a mapping), got {document!r:.100}")
    return _with_path_converters(app, dict(document))


def _with_path_converters(app: Any, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``allowReserved`` on the path parameters of routes declared with Starlette's
    ``path`` converter (``/files/{file_path:path}``), whose values hold ``/`` by design; other path
    values may not (see the OpenAPI plugin's path rules). Operations are copied where changed, so
    the app's own document is left as it is."""
    paths = dict(document.get("paths", {}))
    changed = False
    for route in getattr(app, "routes", ()):
        convertors = getattr(route, "param_convertors", {})
        wide = {name for name, convertor in convertors.items() if isinstance(convertor, PathConvertor)}
        item = paths.get(getattr(route, "path_format", None))
        if not wide or not isinstance(item, Mapping):
            continue
        item = dict(item)
        for method in getattr(route, "methods", ()) or ():
            operation = item.get(method.lower())
            if not isinstance(operation, Mapping):
                continue
            parameters = [
                {**parameter, "allowReserved": True}
                if parameter.get("in") == "path" and parameter.get("name") in wide
                else parameter
                for parameter in operation.get("parameters", [])
            ]
            item[method.lower()] = {**operation, "parameters": parameters}
        paths[route.path_format] = item
        changed = True
    return {**document, "paths": paths} if changed else document


def in_process_client(
    served: InProcessApp, httpx_client_kwargs: Mapping[str, Any] | None, timeout: float | None
) -> httpx.AsyncClient:
    """An httpx client calling ``served``; ``httpx_client_kwargs`` are copied, never modified."""
    if httpx_client_kwargs is None:
        kwargs: dict[str, Any] = {}
    elif isinstance(httpx_client_kwargs, Mapping):
        kwargs = dict(httpx_client_kwargs)
    else:
        raise TypeError(f"httpx_client_kwargs must be a mapping, got {type(httpx_client_kwargs).__name__}")
    refused = [key for key in _CLIENT_KWARGS_REFUSED if key in kwargs]
    if refused:
        raise ValueError(
            f"httpx_client_kwargs cannot set {', '.join(refused)}: from_fastapi calls the app in-process. "
            "To call it over the network, use MCPKit.from_openapi(openapi_spec=app.openapi(), client=...)"
        )
    kwargs.setdefault("base_url", DEFAULT_BASE_URL)
    kwargs.setdefault("timeout", DEFAULT_TIMEOUT if timeout is None else timeout)
    try:
        return httpx.AsyncClient(transport=AppTransport(served), **kwargs)
    except TypeError as exc:
        raise TypeError(f"httpx_client_kwargs: {exc}") from None


def server_lifespan(served: InProcessApp, lifespan: Lifespan | None) -> Lifespan:
    """The server's lifespan: the app's lifespan, then ``lifespan`` (the ``lifespan=`` option), if any.

    The server's lifespan state is the app's lifespan state merged with what ``lifespan`` yields (a
    mapping, or ``None``); the app's requests see the app's own state only.

    When the app's own lifespan enters this one (the app serves the server's ``http_app()`` with
    ``lifespan=mcp_app.lifespan``), the run that started the app in-process is already serving:
    that inner run yields an empty state and runs neither the app nor ``lifespan`` again, instead of
    starting the app again, and again, for ever.
    """

    @asynccontextmanager
    async def run(server: MCPKit) -> AsyncIterator[dict[str, Any]]:
        if served.starting_here():
            yield {}
            return
        async with served.run() as app_run:
            state = app_run.server_state
            if lifespan is None:
                yield state
                return
            async with lifespan(server) as extra:
                if extra is not None:
                    if not isinstance(extra, Mapping):
                        raise TypeError(
                            "the lifespan= of a server built from a FastAPI app must yield a mapping "
                            f"or None, not {type(extra).__name__}"
                        )
                    clash = sorted(state.keys() & extra.keys())
                    if clash:
                        raise ValueError(
                            f"lifespan= yields state keys the app's lifespan yields too: {', '.join(clash)}"
                        )
                    state.update(extra)
                yield state

    return run


def _check_timeout(timeout: object) -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")

"""Hook specifications: what an mcpkit plugin may implement.

A plugin is a module (or object) found through an entry point in group ``mcpkit``. It implements any
of these hooks, marked with :data:`mcpkit.hookimpl`. Each hook receives a ``register`` callback:
call ``register(name, value)`` once per thing the plugin supplies. The host validates each value,
refuses duplicate names, and records which plugin supplied what (``mcpkit plugins`` shows it).
Names are lowercase (``[a-z][a-z0-9_.-]*``). None of the ``register`` hooks is first-result: every
implementation is called.

One hook is different: ``mcpkit_handle_request`` is MCP middleware, implemented as a pluggy
*wrapper* around the request each server handles (:mod:`mcpkit.middleware`).

If a hook implementation raises, the error is logged, reported by the plugin host, and the other
plugins' registrations still apply. Registrations made before the error are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from mcpkit.middleware import Request
    from mcpkit.naming import NameStrategy
    from mcpkit.registry import Register
    from mcpkit.routing import RouteMapper
    from mcpkit.search import SearchStrategy
    from mcpkit.sources import ComponentSource, OpenAPIParser
    from mcpkit.targets import TargetResolver
    from mcpkit.transports import Transport

hookspec = pluggy.HookspecMarker("mcpkit")


@hookspec
def mcpkit_register_sources(register: Register[ComponentSource]) -> None:
    """Register component sources: builders that turn an API description into a server.

    ``register(name, source)``, where ``source`` has a ``build(server_class, /, **options)`` method
    returning a new server (see :class:`mcpkit.sources.ComponentSource`). ``MCPKit.from_openapi``
    uses the source named ``openapi`` and ``MCPKit.from_fastapi`` the one named ``fastapi``; any
    source is reachable as ``MCPKit.from_source(name, **options)``.
    """


@hookspec
def mcpkit_register_name_strategies(register: Register[NameStrategy]) -> None:
    """Register name strategies: ``strategy(route) -> str`` proposes a component name for a route.

    The proposal is made valid (1-64 characters of ``A-Za-z0-9_.-``) and unique by the kernel, and
    explicit ``mcp_names`` overrides always win. The strategy in use is chosen by name with
    ``name_strategy=`` or ``MCPKIT_NAME_STRATEGY`` (default: ``default``).
    """


@hookspec
def mcpkit_register_route_mappers(register: Register[RouteMapper]) -> None:
    """Register route mappers: ``mapper(route, mcp_type) -> MCPType | None``.

    A mapper sees each route after the user's route maps were applied, and returns a new
    :class:`~mcpkit.routing.MCPType` (``EXCLUDE`` to drop the route) or ``None`` to keep the current
    one. Mappers apply only when selected by name (``route_mappers=[...]`` or
    ``MCPKIT_ROUTE_MAPPERS``), in the order given, before the user's ``route_map_fn``.
    """


@hookspec
def mcpkit_register_transports(register: Register[type[Transport]]) -> None:
    """Register transports: subclasses of :class:`mcpkit.transports.Transport`.

    ``mcp.run(transport=name, **options)`` instantiates the class with ``options`` and awaits its
    ``serve(server)``. A subclass of :class:`mcpkit.transports.ASGITransport` also serves
    ``mcp.http_app(transport=name, ...)``.
    """


@hookspec
def mcpkit_register_openapi_parsers(register: Register[OpenAPIParser]) -> None:
    """Register OpenAPI parsers (:class:`~mcpkit.sources.OpenAPIParser`: a ``parse(document)`` method).

    The kernel only selects parsers by name: ``MCPKIT_OPENAPI_PARSER=<name>`` (or the
    ``openapi_parser`` setting), else ``experimental`` when
    ``MCPKIT_EXPERIMENTAL_ENABLE_NEW_OPENAPI_PARSER=true``, else ``legacy``. The contract of
    ``parse`` belongs to the OpenAPI source plugin (``mcpkit_openapi.parsers``).
    """


@hookspec
def mcpkit_register_search_strategies(register: Register[SearchStrategy]) -> None:
    """Register search strategies for discovery mode: ``strategy(documents) -> index``.

    ``documents`` are :class:`mcpkit.search.SearchDocument` objects, one per tool; the returned index
    has ``search(query, limit) -> list[str]`` giving tool names, best match first. The index is built
    on the first search and rebuilt only after the tools change. The strategy in use is chosen by name
    with ``MCPKIT_SEARCH_STRATEGY`` (default: ``bm25``, the kernel's own).
    """


@hookspec
def mcpkit_register_target_resolvers(register: Register[TargetResolver]) -> None:
    """Register target resolvers: ``resolver(target) -> Target | None`` says whether a TARGET of the
    command line (``mcpkit serve``, ``inspect``, ``dev``, ``list``, ``call``, ``install``) is the
    plugin's to serve.

    ``target`` is the text given (an ``http(s)://`` URL, or the path of an existing file that is not
    a ``.py`` file) or the Python object a ``module:attr`` or ``file.py[:attr]`` names. A resolver
    claims it by returning a :class:`mcpkit.targets.Target` (how to build and inspect the server),
    else returns ``None``; it must be cheap and call nothing, since it is also asked about every
    module-level value of a ``file.py`` to find the server in it. Resolvers are asked in plugin load
    order (the kernel's ``mcpkit``, which claims ``MCPKit`` servers, first); the first claim wins.
    A function nobody claims is called, and what it returns is asked about in turn.
    """


@hookspec(firstresult=True)
def mcpkit_handle_request(request: Request) -> Awaitable[Any]:
    """Handle one request of a server (``tools/call``, ``tools/list``, ``resources/read``, ...):
    MCP middleware. First-result: the kernel's own implementation answers, returning an awaitable of
    the result (the protocol's JSON); it is not a ``register`` hook.

    Implement it as a wrapper (``@hookimpl(wrapper=True)``): the ``yield`` gives the awaitable of
    the rest of the chain, and the wrapper returns an awaitable of its own, around it. Subclass
    :class:`mcpkit.middleware.Middleware` instead to write ``async def on_call_tool(request,
    call_next)``. A plugin's implementation wraps every server of the process, around the
    middleware each server is given (``MCPKit(middleware=[...])``).
    """
    raise NotImplementedError  # a specification: never called itself

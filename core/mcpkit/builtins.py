"""The kernel's built-in plugin: the ``stdio`` transport, the ``default`` name strategy, the
``bm25`` search strategy and the ``mcpkit`` target resolver (``MCPKit`` servers on the command line).

It is found through the kernel distribution's own ``mcpkit`` entry point, exactly like a third-party
plugin, and always loads.
"""

from __future__ import annotations

from mcpkit.naming import NameStrategy, default_name_strategy
from mcpkit.plugins import hookimpl
from mcpkit.registry import Register
from mcpkit.search import SearchStrategy, bm25_strategy
from mcpkit.targets import TargetResolver, server_target
from mcpkit.transports import StdioTransport, Transport


@hookimpl
def mcpkit_register_transports(register: Register[type[Transport]]) -> None:
    """Register ``stdio``."""
    register("stdio", StdioTransport)


@hookimpl
def mcpkit_register_name_strategies(register: Register[NameStrategy]) -> None:
    """Register ``default``: the operationId, else ``<method>_<path>``."""
    register("default", default_name_strategy)


@hookimpl
def mcpkit_register_search_strategies(register: Register[SearchStrategy]) -> None:
    """Register ``bm25``: weighted-field BM25 over stemmed words."""
    register("bm25", bm25_strategy)


@hookimpl
def mcpkit_register_target_resolvers(register: Register[TargetResolver]) -> None:
    """Register ``mcpkit``: an ``MCPKit`` server (or a function returning one) is served as it is."""
    register("mcpkit", server_target)

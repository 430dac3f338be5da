"""The kernel's built-in plugin: the ``stdio`` transport and the ``default`` name strategy.

It is found through the kernel distribution's own ``mcpkit`` entry point, exactly like a third-party
plugin, and always loads.
"""

from __future__ import annotations

from mcpkit.naming import NameStrategy, default_name_strategy
from mcpkit.plugins import hookimpl
from mcpkit.registry import Register
from mcpkit.transports import StdioTransport, Transport


@hookimpl
def mcpkit_register_transports(register: Register[type[Transport]]) -> None:
    """Register ``stdio``."""
    register("stdio", StdioTransport)


@hookimpl
def mcpkit_register_name_strategies(register: Register[NameStrategy]) -> None:
    """Register ``default``: the operationId, else ``<method>_<path>``."""
    register("default", default_name_strategy)

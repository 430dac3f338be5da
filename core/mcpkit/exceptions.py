"""The exceptions mcpkit raises. All derive from :class:`MCPKitError`."""

from __future__ import annotations

from collections.abc import Iterable


class MCPKitError(Exception):
    """Base class of every error mcpkit raises on purpose."""


class PluginError(MCPKitError):
    """A plugin could not be loaded, registered or found."""


class RegistrationError(PluginError):
    """A plugin tried to register something invalid (bad name, wrong type, duplicate name)."""


class UnknownNameError(PluginError, LookupError):
    """A name was asked for that no loaded plugin registered; the message lists the valid ones."""

    def __init__(self, kind: str, name: str, choices: Iterable[str], detail: str = "") -> None:
        self.kind = kind
        self.name = name
        self.choices = sorted(choices)
        valid = ", ".join(repr(c) for c in self.choices) or "none are registered"
        message = f"unknown {kind} {name!r}; valid choices: {valid}"
        super().__init__(message + (f". {detail}" if detail else ""))


class MissingPluginError(UnknownNameError):
    """A feature needs a plugin distribution that is not installed (or failed to load)."""

    def __init__(self, kind: str, name: str, choices: Iterable[str], install: str, detail: str = "") -> None:
        self.install = install
        hint = f"it is provided by a plugin: pip install {install!r}"
        super().__init__(kind, name, choices, f"{hint}. {detail}" if detail else hint)


class SchemaError(MCPKitError, ValueError):
    """A JSON Schema cannot be served as an MCP tool schema (for example a `$ref` that does not resolve)."""


class ToolError(MCPKitError):
    """Raise inside a tool to return a clean error result (``isError``) with exactly this message."""


class ResourceError(MCPKitError):
    """Raise inside a resource reader to fail the read with exactly this message."""


class ToolCallError(MCPKitError):
    """Raised by :class:`mcpkit.Client` when a tool call returns an error result."""

    def __init__(self, tool: str, message: str) -> None:
        self.tool = tool
        super().__init__(f"tool {tool!r} failed: {message}")

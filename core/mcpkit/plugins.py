"""The plugin host: finds plugins through entry points, reports broken ones, and builds registries.

Every plugin, the kernel's own built-ins included, is found through an entry point in group
``mcpkit``. A plugin that fails to import or to validate is logged, recorded in
:attr:`PluginHost.failures` (entry point, distribution, error) and skipped; the others still load.

``MCPKIT_DISABLE_PLUGINS=a,b`` blocks plugins by entry-point or distribution name;
``MCPKIT_LOAD_PLUGINS=a,b`` loads only those (empty: none). Neither affects the kernel's built-ins.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from mcpkit import hookspecs
from mcpkit.naming import NameStrategy
from mcpkit.registry import Kind, Registry
from mcpkit.routing import RouteMapper
from mcpkit.search import SearchStrategy
from mcpkit.settings import Settings
from mcpkit.sources import ComponentSource, OpenAPIParser
from mcpkit.transports import Transport

if TYPE_CHECKING:
    from mcpkit.targets import TargetResolver

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mcpkit"
KERNEL_DISTRIBUTION = "mcpkit"

hookimpl = pluggy.HookimplMarker("mcpkit")
"""Marks a plugin function as the implementation of an ``mcpkit_*`` hook."""

T = TypeVar("T")


def _callable(value: object) -> str | None:
    return None if callable(value) else f"expected a callable, got {type(value).__name__}"


def _transport_class(value: object) -> str | None:
    if isinstance(value, type) and issubclass(value, Transport):
        return None
    return f"expected a subclass of mcpkit.transports.Transport, got {value!r}"


def _source(value: object) -> str | None:
    if isinstance(value, ComponentSource):
        return None
    return f"expected an object with a build(server_class, **options) method, got {type(value).__name__}"


def _parser(value: object) -> str | None:
    if callable(getattr(value, "parse", None)):
        return None
    return f"expected an object with a parse(...) method, got {type(value).__name__}"


SOURCES: Kind[ComponentSource] = Kind(
    "source",
    "mcpkit_register_sources",
    _source,
    {"openapi": "mcpkit[openapi]", "fastapi": "mcpkit[fastapi]"},
)
NAME_STRATEGIES: Kind[NameStrategy] = Kind("name strategy", "mcpkit_register_name_strategies", _callable)
ROUTE_MAPPERS: Kind[RouteMapper] = Kind("route mapper", "mcpkit_register_route_mappers", _callable)
TRANSPORTS: Kind[type[Transport]] = Kind(
    "transport",
    "mcpkit_register_transports",
    _transport_class,
    {"http": "mcpkit[http]", "sse": "mcpkit[http]"},
)
OPENAPI_PARSERS: Kind[OpenAPIParser] = Kind(
    "OpenAPI parser",
    "mcpkit_register_openapi_parsers",
    _parser,
    {"legacy": "mcpkit[openapi]", "experimental": "mcpkit[openapi]"},
)
SEARCH_STRATEGIES: Kind[SearchStrategy] = Kind(
    "search strategy", "mcpkit_register_search_strategies", _callable
)
TARGET_RESOLVERS: Kind[TargetResolver] = Kind(
    "target resolver",
    "mcpkit_register_target_resolvers",
    _callable,
    {"openapi": "mcpkit[openapi]", "fastapi": "mcpkit[fastapi]"},
)
KINDS: tuple[Kind[Any], ...] = (
    SOURCES,
    NAME_STRATEGIES,
    ROUTE_MAPPERS,
    TRANSPORTS,
    OPENAPI_PARSERS,
    SEARCH_STRATEGIES,
    TARGET_RESOLVERS,
)
"""Every kind of registered thing, one per ``mcpkit_register_*`` hook."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """A loaded plugin: its name, the distribution that ships it, and the hooks it implements."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """A plugin that could not be loaded or whose hook failed, and why."""

    plugin: str
    entry_point: str
    distribution: str | None
    error: str

    def __str__(self) -> str:
        origin = f"distribution {self.distribution!r}" if self.distribution else "no distribution"
        return f"{self.plugin!r} (entry point {self.entry_point!r}, {origin}): {self.error}"


@dataclass(frozen=True, slots=True)
class SkippedPlugin:
    """A plugin that was found but not loaded on purpose (disabled or not selected)."""

    name: str
    distribution: str | None
    reason: str


class PluginHost:
    """Owns the pluggy plugin manager, the list of loaded and failed plugins, and the registries."""

    def __init__(self, settings: Settings | None = None, *, load_entry_points: bool = True) -> None:
        self._pm = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self._pm.add_hookspecs(hookspecs)
        self._distributions: dict[str, tuple[str | None, str | None]] = {}
        self._registries: dict[str, Registry[Any]] = {}
        self.failures: list[PluginFailure] = []
        self.skipped: list[SkippedPlugin] = []
        if load_entry_points:
            self._load_entry_points(settings or Settings())

    # Loading

    def _load_entry_points(self, settings: Settings) -> None:
        found = entry_points(group=ENTRY_POINT_GROUP)
        kernel_first = sorted(found, key=lambda ep: (_distribution(ep)[0] != KERNEL_DISTRIBUTION, ep.name))
        for ep in kernel_first:
            distribution, version = _distribution(ep)
            if ep.name in self._distributions:
                # The same entry point seen twice (an editable install beside a regular one).
                continue
            if distribution != KERNEL_DISTRIBUTION:
                reason = _skip_reason(ep.name, distribution, settings)
                if reason is not None:
                    self.skipped.append(SkippedPlugin(ep.name, distribution, reason))
                    continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, f"{ep.name} = {ep.value}", distribution, f"import failed: {exc!r}")
                continue
            self._register(plugin, ep.name, f"{ep.name} = {ep.value}", distribution, version)

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin object directly (tests, embedding applications). Returns its name.

        It is validated like an entry-point plugin; a plugin that does not validate raises
        :class:`pluggy.PluginValidationError` and is not registered.
        """
        plugin_name = name or self._pm.get_canonical_name(plugin)
        self._pm.register(plugin, name=plugin_name)
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError:
            self._pm.unregister(name=plugin_name)
            raise
        self._distributions[plugin_name] = (None, None)
        self._registries.clear()
        return plugin_name

    def unregister(self, name: str) -> None:
        """Remove a plugin registered under ``name``."""
        self._pm.unregister(name=name)
        self._distributions.pop(name, None)
        self._registries.clear()

    def _register(
        self, plugin: object, name: str, entry_point: str, distribution: str | None, version: str | None
    ) -> None:
        try:
            self._pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            self._fail(name, entry_point, distribution, f"invalid plugin: {exc}")
            return
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self._pm.unregister(name=name)
            self._fail(name, entry_point, distribution, f"invalid plugin: {exc}")
            return
        self._distributions[name] = (distribution, version)

    def _fail(self, plugin: str, entry_point: str, distribution: str | None, error: str) -> None:
        failure = PluginFailure(plugin, entry_point, distribution, error)
        self.failures.append(failure)
        logger.warning("mcpkit plugin skipped: %s", failure)

    # What is loaded

    @property
    def plugins(self) -> list[PluginInfo]:
        """The loaded plugins, in load order."""
        infos = []
        for name, (distribution, version) in self._distributions.items():
            plugin = self._pm.get_plugin(name)
            hooks = tuple(
                sorted(caller.name for caller in self._pm.get_hookcallers(plugin) or [] if caller.name)
            )
            infos.append(PluginInfo(name, distribution, version, hooks))
        return infos

    def request_middleware(self) -> list[object]:
        """The plugins implementing ``mcpkit_handle_request`` (MCP middleware), in load order."""
        return [impl.plugin for impl in self._pm.hook.mcpkit_handle_request.get_hookimpls()]

    # Registries

    def registry(self, kind: Kind[T]) -> Registry[T]:
        """The registry of ``kind``, built on first use from every plugin's hook."""
        registry = self._registries.get(kind.hook)
        if registry is None:
            registry = self._build(kind)
            self._registries[kind.hook] = registry
        return registry

    def _build(self, kind: Kind[T]) -> Registry[T]:
        registry: Registry[T] = Registry(kind, [str(f) for f in self.failures])
        caller = getattr(self._pm.hook, kind.hook)
        for impl in caller.get_hookimpls():
            plugin_name = impl.plugin_name
            distribution = self._distributions.get(plugin_name, (None, None))[0]

            def register(name: str, value: T, /, _plugin: str = plugin_name) -> None:
                registry.add(name, value, _plugin)

            try:
                impl.function(**{arg: register for arg in impl.argnames})
            except Exception as exc:
                self._fail(plugin_name, kind.hook, distribution, f"{kind.hook} failed: {exc!r}")
        return registry

    @property
    def sources(self) -> Registry[ComponentSource]:
        """Component sources by name (``openapi``, ``fastapi``, ...)."""
        return self.registry(SOURCES)

    @property
    def name_strategies(self) -> Registry[NameStrategy]:
        """Name strategies by name (``default``, ...)."""
        return self.registry(NAME_STRATEGIES)

    @property
    def route_mappers(self) -> Registry[RouteMapper]:
        """Route mappers by name."""
        return self.registry(ROUTE_MAPPERS)

    @property
    def transports(self) -> Registry[type[Transport]]:
        """Transport classes by name (``stdio``, ``http``, ``sse``, ...)."""
        return self.registry(TRANSPORTS)

    @property
    def search_strategies(self) -> Registry[SearchStrategy]:
        """Search strategies for discovery mode by name (``bm25``, ...)."""
        return self.registry(SEARCH_STRATEGIES)

    @property
    def openapi_parsers(self) -> Registry[OpenAPIParser]:
        """OpenAPI parsers by name (``legacy``, ``experimental``, ...)."""
        return self.registry(OPENAPI_PARSERS)

    @property
    def target_resolvers(self) -> Registry[TargetResolver]:
        """Target resolvers of the command line by name (``mcpkit``, ``openapi``, ``fastapi``, ...), in
        load order: the order they are asked in."""
        return self.registry(TARGET_RESOLVERS)


def _distribution(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = ep.dist
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _skip_reason(name: str, distribution: str | None, settings: Settings) -> str | None:
    names = {name, distribution}
    if names & set(settings.disable_plugins):
        return "disabled by MCPKIT_DISABLE_PLUGINS"
    if settings.load_plugins is not None and not names & set(settings.load_plugins):
        return "not listed in MCPKIT_LOAD_PLUGINS"
    return None


_host: PluginHost | None = None
_host_lock = threading.Lock()


def get_plugin_host() -> PluginHost:
    """The process-wide plugin host, created (and plugins loaded) on first use."""
    global _host
    with _host_lock:
        if _host is None:
            _host = PluginHost()
        return _host


def reset_plugin_host() -> None:
    """Forget the process-wide host, so the next use reloads plugins (after changing the environment)."""
    global _host
    with _host_lock:
        _host = None


__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginFailure",
    "PluginHost",
    "PluginInfo",
    "SkippedPlugin",
    "get_plugin_host",
    "hookimpl",
    "reset_plugin_host",
]

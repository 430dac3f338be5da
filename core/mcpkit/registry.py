"""Typed registries of what plugins supply: each entry is a name, a value, and the plugin that gave it.

Plugins never write to a registry directly: their ``mcpkit_register_*`` hooks receive a ``register``
callback bound to the plugin, so the host validates every entry and records who supplied it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from mcpkit.exceptions import MissingPluginError, RegistrationError, UnknownNameError

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

_VALID_REGISTERED_NAME = re.compile(r"^[a-z][a-z0-9_.\-]*$")


class Register(Protocol[T_contra]):
    """The callback a ``mcpkit_register_*`` hook receives: ``register(name, value)``."""

    def __call__(self, name: str, value: T_contra, /) -> None: ...


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of registered thing: its hook, how values are checked, and where missing ones live."""

    name: str
    hook: str
    check: Callable[[object], str | None]
    """Returns why a value is unacceptable, or ``None`` if it is fine."""
    install_hints: Mapping[str, str] = field(default_factory=dict)
    """Well-known names of this kind and the pip requirement that provides each."""


@dataclass(frozen=True, slots=True)
class Registration(Generic[T]):
    """One registered value and the plugin that registered it."""

    name: str
    value: T
    plugin: str


class Registry(Generic[T]):
    """The registrations of one :class:`Kind`, looked up by name."""

    def __init__(self, kind: Kind[T], load_failures: Sequence[str] = ()) -> None:
        self.kind = kind
        self._entries: dict[str, Registration[T]] = {}
        self._load_failures = tuple(load_failures)

    def add(self, name: str, value: T, plugin: str) -> None:
        """Validate and record one registration; raises :class:`RegistrationError` if it is refused."""
        what = f"{self.kind.name} {name!r} from plugin {plugin!r}"
        if not isinstance(name, str) or _VALID_REGISTERED_NAME.fullmatch(name) is None:
            raise RegistrationError(
                f"{self.kind.name} name {name!r} from plugin {plugin!r} is invalid: "
                "use lowercase letters, digits, '_', '-' or '.', starting with a letter"
            )
        problem = self.kind.check(value)
        if problem is not None:
            raise RegistrationError(f"{what} was refused: {problem}")
        existing = self._entries.get(name)
        if existing is not None:
            raise RegistrationError(f"{what} was refused: plugin {existing.plugin!r} already registered it")
        self._entries[name] = Registration(name, value, plugin)

    def get(self, name: str) -> T:
        """The value registered as ``name``; unknown names raise an error listing the valid ones."""
        entry = self._entries.get(name)
        if entry is not None:
            return entry.value
        install = self.kind.install_hints.get(name)
        detail = "; ".join(f"plugin failed to load: {f}" for f in self._load_failures)
        if install is not None:
            raise MissingPluginError(self.kind.name, name, self._entries, install, detail)
        raise UnknownNameError(self.kind.name, name, self._entries, detail)

    def registration(self, name: str) -> Registration[T]:
        """The full registration (value and plugin) for ``name``."""
        self.get(name)
        return self._entries[name]

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Registration[T]]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

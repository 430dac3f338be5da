"""Enabling and disabling components by name or tag: ``mcp.disable(tags={"admin"})``.

Rules apply in order and the last one that matches a component decides; with no matching rule a
component is enabled. A rule matches a component when it names it (a tool's or prompt's name, a
resource's name or URI, a template's name or URI template) or shares a tag with it. Rules hold for
components added later too. A disabled component is left out of listings and cannot be called or
read, exactly as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    """Enable or disable what matches: the names, the tags, or everything (``everything``)."""

    enabled: bool
    names: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    everything: bool = False

    def matches(self, keys: Iterable[str], tags: frozenset[str]) -> bool:
        """Whether a component with these keys (name, URI) and tags is covered."""
        return self.everything or bool(self.tags & tags) or any(key in self.names for key in keys)


class Visibility:
    """The enable/disable rules of one server."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []

    def __bool__(self) -> bool:
        return bool(self._rules)

    def add(
        self, enabled: bool, names: Iterable[str], tags: Iterable[str] | None, *, only: bool = False
    ) -> None:
        """Add a rule; ``only`` (enabling) first disables everything, so only what matches is enabled."""
        names, tag_set = frozenset(names), frozenset(tags or ())
        if isinstance(tags, str):
            raise TypeError(f"tags takes a set of tags, not the string {tags!r}")
        if not names and not tag_set:
            verb = "enable" if enabled else "disable"
            raise ValueError(f"{verb}() needs names or tags=")
        if only:
            self._rules.append(Rule(enabled=False, everything=True))
        self._rules.append(Rule(enabled, names, tag_set))

    def enabled(self, keys: Iterable[str], tags: frozenset[str]) -> bool:
        """Whether a component with these keys and tags is enabled."""
        keys = tuple(keys)
        for rule in reversed(self._rules):
            if rule.matches(keys, tags):
                return rule.enabled
        return True

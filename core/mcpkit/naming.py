"""Component names: valid MCP names (1-64 characters of ``A-Za-z0-9_.-``), unique and deterministic.

A *name strategy* proposes a name for a :class:`~mcpkit.routing.Route`; the kernel then makes it
valid (:func:`sanitize_name`) and unique (:class:`NameAllocator`), whatever the strategy returned.
The built-in ``default`` strategy uses the operationId, else ``<method>_<path>``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable

from mcpkit.routing import Route

MAX_NAME_LENGTH = 64
_VALID_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_.\-]+")
_REPEATED_UNDERSCORES = re.compile(r"_{2,}")

NameStrategy = Callable[[Route], str]
"""A name strategy: ``strategy(route) -> proposed name`` (made valid and unique by the kernel)."""


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a valid MCP tool name as it stands."""
    return _VALID_NAME.fullmatch(name) is not None


def ascii_letters(text: str) -> str:
    """``text`` with accents removed (``récupérer`` -> ``recuperer``); other scripts are left as they are."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def sanitize_name(raw: str) -> str:
    """Turn any string into a valid MCP name, deterministically.

    Accents are dropped, other invalid characters become ``_`` (runs collapse). Names longer than 64
    characters are cut and end with 8 hex digits of a hash of the whole input, so two long names
    differing only at the end stay distinct.
    """
    if is_valid_name(raw):
        return raw
    cleaned = _REPEATED_UNDERSCORES.sub("_", _INVALID_CHARS.sub("_", ascii_letters(raw))).strip("_")
    name = cleaned or "unnamed"
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME_LENGTH - 9].rstrip('_')}_{digest}"
    return name


def default_name_strategy(route: Route) -> str:
    """The operationId when there is one (and it has letters or digits a name can keep), else
    ``<method>_<path words>`` (``get_products_id``)."""
    if route.operation_id and re.search(r"[A-Za-z0-9]", ascii_letters(route.operation_id)):
        return route.operation_id
    words = re.findall(r"[A-Za-z0-9]+", route.path)
    return "_".join([route.method.lower(), *words]) if words else f"{route.method.lower()}_root"


class NameAllocator:
    """Hands out unique names: a taken name gets the first free suffix ``_2``, ``_3``, ..."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self._taken: set[str] = set(taken or ())

    def claim(self, name: str) -> str:
        """Reserve ``name`` exactly; raises ``ValueError`` if it is invalid or already taken."""
        if not is_valid_name(name):
            raise ValueError(f"{name!r} is not a valid MCP name (1-64 characters of A-Za-z0-9_.-)")
        if name in self._taken:
            raise ValueError(f"the name {name!r} is used twice")
        self._taken.add(name)
        return name

    def allocate(self, proposed: str) -> str:
        """Return a valid, unused name as close as possible to ``proposed`` and reserve it."""
        base = sanitize_name(proposed)
        name, n = base, 1
        while name in self._taken:
            n += 1
            suffix = f"_{n}"
            name = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        self._taken.add(name)
        return name

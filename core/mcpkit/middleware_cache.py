"""Caching the results of read-only tools for a while, in memory or in a shared store.

``ResultCache(ttl=60)`` answers a ``tools/call`` of a tool annotated read-only
(``annotations.readOnlyHint``) from the result of the same call made less than ``ttl`` seconds before:
same server, tool and arguments and, by default, the same client (see
:func:`mcpkit.identity.client_identity`), so that one user's data never reaches another.
``per_client=False`` shares results between clients: only for tools whose results do not depend on
who calls. Error results are not kept, nor results bigger than ``max_entry_bytes``; a hit still
checks the tool's scopes, and sends no progress or log messages (the tool does not run). Results live
in a :class:`CacheStore`: :class:`MemoryCacheStore` (one process, bounded; the default) or a shared
one such as ``mcpkit_redis``'s, so that every replica answers from the same results. A store that
fails is logged and bypassed: calls go to the tool.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from mcp_types import SERVER_INFO_META_KEY

from mcpkit.identity import client_identity
from mcpkit.middleware import CallNext, Middleware, Request
from mcpkit.scopes import check_scopes

if TYPE_CHECKING:
    from mcpkit.components import Tool
    from mcpkit.context import Context

logger = logging.getLogger(__name__)

DEFAULT_MAX_ENTRY_BYTES = 1_000_000
"""Bytes of one result at most (as JSON): bigger results are not kept."""


class CacheStore(Protocol):
    """Where cached results are kept."""

    async def get(self, key: str) -> bytes | None:
        """The value kept under ``key``, unless it expired or was never kept."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds (the store may forget it sooner)."""
        ...


class MemoryCacheStore:
    """Values in this process: at most ``max_entries`` of them and ``max_bytes`` in all (the least
    recently used are forgotten first)."""

    def __init__(
        self,
        max_entries: int = 1000,
        max_bytes: int = 64 * 2**20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be at least 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes of the values kept."""
        return self._bytes

    async def get(self, key: str) -> bytes | None:
        """The value under ``key`` if it has not expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            self._forget(key)
            return None
        self._entries.move_to_end(key)
        return entry[1]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds, forgetting the oldest to make room."""
        self._forget(key)
        if len(value) > self.max_bytes:
            return
        self._entries[key] = (self._clock() + ttl, value)
        self._bytes += len(value)
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._forget(next(iter(self._entries)))

    def _forget(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])


class ResultCache(Middleware):
    """Answers calls of read-only tools from recent results (see the module docstring).

    ``tools`` limits caching to the named read-only tools (all of them by default); ``identify``
    names the client of a request; ``store`` keeps the results, under ``name`` (caches sharing a
    store need names of their own).
    """

    def __init__(
        self,
        ttl: float = 60.0,
        *,
        per_client: bool = True,
        tools: Iterable[str] | None = None,
        max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES,
        store: CacheStore | None = None,
        identify: Callable[[Context], str] = client_identity,
        name: str = "default",
    ) -> None:
        if not (isinstance(ttl, int | float) and math.isfinite(ttl) and ttl > 0):
            raise ValueError(f"ttl must be a positive number of seconds, got {ttl!r}")
        if isinstance(tools, str):
            raise TypeError(f"tools takes a list of tool names, not the string {tools!r}")
        self.ttl = float(ttl)
        self.per_client = per_client
        self.tools = None if tools is None else frozenset(tools)
        self.max_entry_bytes = max_entry_bytes
        self.store: CacheStore = store if store is not None else MemoryCacheStore()
        self.identify = identify
        self.name = name

    async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
        """Answer from the cache, or call and keep the result."""
        name = request.tool_name
        tool = request.context.server.enabled_tools.get(name) if name is not None else None
        if tool is None or not self._cacheable(name, tool):
            return await call_next()
        check_scopes(f"tool {name!r}", tool.scopes)
        key = self._key(request)
        cached = await self._get(key)
        if cached is not None:
            return cached
        result = await call_next()
        if _complete_success(result):
            await self._set(key, result)
        return result

    def _cacheable(self, name: str | None, tool: Tool) -> bool:
        read_only = tool.annotations is not None and tool.annotations.read_only_hint is True
        return read_only and (self.tools is None or name in self.tools)

    def _key(self, request: Request) -> str:
        who = self.identify(request.context) if self.per_client else ""
        what = [self.name, request.context.server.name, who, request.tool_name, request.arguments]
        text = json.dumps(what, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    async def _get(self, key: str) -> dict[str, Any] | None:
        try:
            value = await self.store.get(key)
        except Exception as exc:
            logger.warning("the result cache could not be read (%s); calling the tool", exc)
            return None
        if value is None:
            return None
        try:
            result = json.loads(value)
        except ValueError:
            return None
        return result if isinstance(result, dict) else None

    async def _set(self, key: str, result: Mapping[str, Any]) -> None:
        value = json.dumps(_unstamped(result), separators=(",", ":"), ensure_ascii=False).encode()
        if len(value) > self.max_entry_bytes:
            return
        try:
            await self.store.set(key, value, self.ttl)
        except Exception as exc:
            logger.warning("the result cache could not be written (%s)", exc)


def _complete_success(result: Any) -> bool:
    """Whether ``result`` is a successful, complete tool result (not an error, nor a question)."""
    return (
        isinstance(result, Mapping)
        and result.get("isError") is not True
        and result.get("resultType", "complete") == "complete"
    )


def _unstamped(result: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` without what the SDK stamps for one protocol era (answered to either era later)."""
    kept = {key: value for key, value in result.items() if key != "resultType"}
    meta = kept.get("_meta")
    if isinstance(meta, Mapping) and SERVER_INFO_META_KEY in meta:
        rest = {key: value for key, value in meta.items() if key != SERVER_INFO_META_KEY}
        if rest:
            kept["_meta"] = rest
        else:
            del kept["_meta"]
    return kept

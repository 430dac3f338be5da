"""Rate limiting per client: a token bucket for each client identity, in memory or in a shared store.

``RateLimit(rate=5, burst=20)`` lets each client (see :func:`mcpkit.identity.client_identity`) make
``burst`` requests at once and ``rate`` a second after that. A request over the limit is refused
before anything runs with the protocol error :data:`RATE_LIMITED`, whose message and
``data.retryAfter`` say how many seconds to wait. The buckets live in a :class:`RateLimitStore`:
:class:`MemoryRateLimitStore` (one process, the default) or a shared one such as ``mcpkit_redis``'s,
so that every replica counts against the same buckets. A store that fails (Redis down) is logged and
the request let through: an outage of the store does not become an outage of the server.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from mcp.shared.exceptions import MCPError

from mcpkit.identity import client_identity
from mcpkit.middleware import HANDLED_METHODS, CallNext, Middleware, Request

if TYPE_CHECKING:
    from mcpkit.context import Context

logger = logging.getLogger(__name__)

RATE_LIMITED = -32029
"""The protocol error of a request over its client's rate limit (JSON-RPC's server-error range)."""


class RateLimitStore(Protocol):
    """Where token buckets are kept."""

    async def take(self, key: str, rate: float, burst: float) -> float:
        """Take a token from the bucket ``key`` (refilled at ``rate`` a second up to ``burst``): 0 when
        taken, else the seconds until one is available (then nothing is taken)."""
        ...


class MemoryRateLimitStore:
    """Token buckets in this process, at most ``max_keys`` of them (the least recently used are
    forgotten first: a forgotten bucket starts full again)."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, got {max_keys!r}")
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, rate: float, burst: float) -> float:
        """Take a token from the bucket ``key`` (see :meth:`RateLimitStore.take`)."""
        now = self._clock()
        tokens, updated = self._buckets.pop(key, (burst, now))
        tokens = min(burst, tokens + (now - updated) * rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
        self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class RateLimit(Middleware):
    """Refuses a client's requests beyond ``burst`` at once and ``rate`` a second (module docstring).

    ``methods`` are the requests that count (every request the middleware sees by default; e.g.
    ``["tools/call"]`` to limit only calls). ``identify`` names the client of a request (by default
    :func:`~mcpkit.identity.client_identity`); ``store`` keeps the buckets, under ``name`` (limits
    sharing a store need names of their own).
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        methods: Iterable[str] | None = None,
        store: RateLimitStore | None = None,
        identify: Callable[[Context], str] = client_identity,
        name: str = "default",
    ) -> None:
        if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of requests a second, got {rate!r}")
        burst = max(1.0, float(rate)) if burst is None else burst
        if not (isinstance(burst, int | float) and math.isfinite(burst) and burst >= 1):
            raise ValueError(f"burst must be a number of requests of at least 1, got {burst!r}")
        self.methods = HANDLED_METHODS if methods is None else frozenset(methods)
        unknown = self.methods - HANDLED_METHODS
        if unknown:
            raise ValueError(f"no middleware sees {', '.join(sorted(unknown))}")
        self.rate = float(rate)
        self.burst = float(burst)
        self.store: RateLimitStore = store if store is not None else MemoryRateLimitStore()
        self.identify = identify
        self.name = name

    async def on_request(self, request: Request, call_next: CallNext) -> Any:
        """Take a token for the request's client, or refuse the request."""
        if request.method in self.methods:
            key = f"{self.name}:{self.identify(request.context)}"
            try:
                wait = await self.store.take(key, self.rate, self.burst)
            except Exception as exc:
                logger.warning("the rate limit store failed (%s); the request is let through", exc)
                wait = 0.0
            if wait > 0:
                retry_after = math.ceil(wait * 1000) / 1000
                raise MCPError(
                    code=RATE_LIMITED,
                    message=f"rate limit exceeded: retry after {retry_after:g} s",
                    data={"retryAfter": retry_after},
                )
        return await call_next()

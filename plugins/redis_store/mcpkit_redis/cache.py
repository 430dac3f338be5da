"""Cached results in Redis: every replica answers from the same results, within a bounded count."""

from __future__ import annotations

import math

from redis.asyncio import Redis

# Keep the value, index it by expiry, forget expired entries, then the soonest to expire beyond the cap.
_SET = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + ttl, KEYS[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  for _, key in ipairs(old) do redis.call('DEL', key) end
end
redis.call('PEXPIRE', KEYS[2], ttl)
return 0
"""


class RedisCacheStore:
    """Cached results in Redis (a :class:`mcpkit.middleware_cache.CacheStore`): at most
    ``max_entries`` under ``prefix`` (those nearest to expiring are forgotten first); each entry is
    bounded by the cache's ``max_entry_bytes``."""

    def __init__(self, redis: Redis, *, prefix: str = "mcpkit:cache:", max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries!r}")
        self.redis = redis
        self.prefix = prefix
        self.max_entries = max_entries
        self._set = redis.register_script(_SET)

    async def get(self, key: str) -> bytes | None:
        """The value under ``key``, unless it expired."""
        value = await self.redis.get(self.prefix + key)
        return value if isinstance(value, bytes) or value is None else str(value).encode()

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl`` seconds."""
        milliseconds = max(1, math.ceil(ttl * 1000))
        index = self.prefix + "index"
        await self._set(keys=[self.prefix + key, index], args=[value, milliseconds, self.max_entries])

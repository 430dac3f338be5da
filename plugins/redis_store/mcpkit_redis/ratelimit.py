"""Token buckets in Redis: every replica takes from the same buckets (one atomic script per take)."""

from __future__ import annotations

from redis.asyncio import Redis

# Refill, then take a token or say how long until one is there; Redis's clock, so replicas agree.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisRateLimitStore:
    """Token buckets in Redis (a :class:`mcpkit.middleware_ratelimit.RateLimitStore`), under keys
    starting with ``prefix``; a bucket expires once it would be full again."""

    def __init__(self, redis: Redis, *, prefix: str = "mcpkit:ratelimit:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._take = redis.register_script(_TAKE)

    async def take(self, key: str, rate: float, burst: float) -> float:
        """Take a token from the bucket ``key``: 0 when taken, else the seconds until one is there."""
        wait = await self._take(keys=[self.prefix + key], args=[repr(float(rate)), repr(float(burst))])
        return float(wait)

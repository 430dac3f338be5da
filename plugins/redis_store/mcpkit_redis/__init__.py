"""mcpkit_redis: Redis stores, so that several replicas of a server share what must be shared.

Installed with ``pip install 'mcpkit[redis]'``. Each store takes a ``redis.asyncio.Redis`` client:

- :class:`RedisRateLimitStore` for :class:`mcpkit.middleware_ratelimit.RateLimit`,
- :class:`RedisCacheStore` for :class:`mcpkit.middleware_cache.ResultCache`,
- :class:`RedisSubscriptionBus` for ``MCPKit(subscription_bus=...)`` (change notifications),
- :class:`RedisEventStore` for ``mcp.http_app(event_store=...)`` (resumable Streamable HTTP streams,
  resumed on any replica).

See docs/replicas.md.
"""

from mcpkit_redis.bus import RedisSubscriptionBus
from mcpkit_redis.cache import RedisCacheStore
from mcpkit_redis.events import RedisEventStore
from mcpkit_redis.ratelimit import RedisRateLimitStore

__all__ = ["RedisCacheStore", "RedisEventStore", "RedisRateLimitStore", "RedisSubscriptionBus"]

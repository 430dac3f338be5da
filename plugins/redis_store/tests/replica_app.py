"""The app the worker tests serve with several processes: stores in Redis (``REDIS_URL``)."""

from __future__ import annotations

import os
from typing import Any

import anyio
import mcp_types as types
import redis.asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from mcpkit import Context, MCPKit
from mcpkit.middleware_cache import ResultCache
from mcpkit.middleware_ratelimit import RateLimit
from mcpkit_redis import RedisCacheStore, RedisEventStore, RedisRateLimitStore, RedisSubscriptionBus

store = redis.asyncio.Redis.from_url(os.environ["REDIS_URL"])

limited = MCPKit("limited", middleware=[RateLimit(rate=0.001, burst=3, store=RedisRateLimitStore(store))])


@limited.tool
def ping() -> int:
    """Answer with this worker's process id (rate limited)."""
    return os.getpid()


mcp = MCPKit(
    "replicated",
    middleware=[ResultCache(ttl=600, store=RedisCacheStore(store))],
    subscription_bus=RedisSubscriptionBus(store),
)
mcp.mount(limited, prefix="limited")
runs = {"snapshot": 0}


@mcp.tool
def worker() -> int:
    """This worker's process id."""
    return os.getpid()


@mcp.tool(annotations=types.ToolAnnotations(read_only_hint=True))
def snapshot() -> dict[str, int]:
    """A read-only result, cached: the process that made it and how many it made."""
    runs["snapshot"] += 1
    return {"pid": os.getpid(), "runs": runs["snapshot"]}


@mcp.tool
def add_tool(name: str) -> int:
    """Add a tool (a change every worker's clients are told about); this worker's process id."""
    mcp.add_tool(mcp.tools["worker"].__class__(name=name, input_schema={}, fn=mcp.tools["worker"].fn))
    return os.getpid()


@mcp.tool
async def report(ctx: Context) -> str:
    """Close the stream that will carry the answer, so that the client resumes it, then answer."""
    await ctx.close_sse_stream()
    await anyio.sleep(0.2)
    return f"report of {os.getpid()}"


async def pid(request: Request) -> Any:
    return PlainTextResponse(str(os.getpid()))


mcp_app = mcp.http_app(event_store=RedisEventStore(store), retry_interval=100)
app = Starlette(routes=[Route("/pid", pid), Mount("/", app=mcp_app)], lifespan=mcp_app.lifespan)

"""The built-in MCP middleware: logging and timing, rate limits, result caching, error handling and
OpenTelemetry spans, through the public API (in memory, and over HTTP where the client's identity
comes from the transport)."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.server.auth.provider import AccessToken
from mcp.shared.exceptions import MCPError
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from mcpkit import Client, MCPKit, ToolError
from mcpkit.identity import ANONYMOUS, client_identity
from mcpkit.middleware import CallNext, Middleware, Request
from mcpkit.middleware_cache import MemoryCacheStore, ResultCache
from mcpkit.middleware_errors import ErrorHandling
from mcpkit.middleware_logging import RequestLogging
from mcpkit.middleware_otel import Tracing
from mcpkit.middleware_ratelimit import RATE_LIMITED, MemoryRateLimitStore, RateLimit
from tests.reliability import record
from tests.test_load import uvicorn_here

READ_ONLY = types.ToolAnnotations(read_only_hint=True)


@pytest.fixture(params=["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
def mode(request):
    return request.param


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_server(*middleware: object) -> tuple[MCPKit, dict[str, int]]:
    """A server whose tools count their runs."""
    mcp = MCPKit("builtins", middleware=middleware)
    runs = {"lookup": 0, "order": 0, "broken": 0}

    @mcp.tool(annotations=READ_ONLY)
    def lookup(sku: str) -> dict[str, Any]:
        runs["lookup"] += 1
        return {"sku": sku, "run": runs["lookup"]}

    @mcp.tool
    def order(sku: str) -> str:
        runs["order"] += 1
        return f"ordered {sku}"

    @mcp.tool(annotations=READ_ONLY)
    def broken(sku: str) -> str:
        runs["broken"] += 1
        raise ToolError(f"no stock for {sku}")

    return mcp, runs


# Rate limits


async def test_a_client_over_its_rate_limit_is_refused_before_the_tool_runs(mode):
    clock = Clock()
    limit = RateLimit(rate=0.5, burst=2, methods=["tools/call"], store=MemoryRateLimitStore(clock=clock))
    mcp, runs = make_server(limit)
    async with Client(mcp, mode=mode) as client:
        await client.call_tool("order", {"sku": "a"})
        await client.call_tool("order", {"sku": "b"})
        with pytest.raises(MCPError) as refused:
            await client.call_tool("order", {"sku": "c"})
        assert runs["order"] == 2
        clock.now += 2  # one token back at 0.5 a second
        await client.call_tool("order", {"sku": "d"})
        await client.list_tools()  # not limited: only calls count
    assert runs["order"] == 3
    assert refused.value.error.code == RATE_LIMITED
    assert refused.value.error.data == {"retryAfter": 2.0}
    assert "rate limit exceeded: retry after 2 s" in refused.value.error.message


async def test_a_burst_of_concurrent_calls_runs_the_tool_burst_times_only():
    limit = RateLimit(rate=0.001, burst=5, methods=["tools/call"])
    mcp, runs = make_server(limit)
    outcomes: list[str] = []

    async def call(client: Client, number: int) -> None:
        try:
            await client.call_tool("order", {"sku": str(number)})
            outcomes.append("ran")
        except MCPError as exc:
            outcomes.append(str(exc.error.code))

    async with Client(mcp, mode="auto") as client, anyio.create_task_group() as tasks:
        for number in range(50):
            tasks.start_soon(call, client, number)
    record("attacks", "50 concurrent calls from one client against a burst of 5: 5 ran, 45 refused", 50)
    assert runs["order"] == 5
    assert sorted(outcomes) == [str(RATE_LIMITED)] * 45 + ["ran"] * 5


async def test_rate_limits_are_kept_per_client_identity():
    limit = RateLimit(rate=0.001, burst=1, methods=["tools/call"])
    mcp, runs = make_server(limit)
    async with uvicorn_here(mcp) as url:
        # Handshake-era clients over HTTP are told apart by their sessions ...
        async with Client(url, mode="legacy") as first, Client(url, mode="legacy") as second:
            await first.call_tool("order", {"sku": "a"})
            await second.call_tool("order", {"sku": "b"})
            with pytest.raises(MCPError, match="rate limit"):
                await first.call_tool("order", {"sku": "c"})
        # ... 2026-07-28 clients have none, so by their address (both 127.0.0.1: one bucket).
        async with Client(url, mode="auto") as third, Client(url, mode="auto") as fourth:
            await third.call_tool("order", {"sku": "d"})
            with pytest.raises(MCPError, match="rate limit"):
                await fourth.call_tool("order", {"sku": "e"})
    record("attacks", "a client calling past its burst while another client calls: only it is refused", 2)
    assert runs["order"] == 3


class Tokens:
    """A token verifier: the token is the subject."""

    async def verify_token(self, token: str) -> AccessToken | None:
        return AccessToken(token=token, client_id="app", scopes=["use"], subject=token)


async def test_a_verified_token_identifies_its_principal_across_sessions():
    limit = RateLimit(rate=0.001, burst=1, methods=["tools/call"])
    mcp, _ = make_server(limit)
    async with uvicorn_here(mcp, token_verifier=Tokens()) as url:
        alice = {"Authorization": "Bearer alice"}
        async with Client(url, mode="legacy", headers=alice) as first:
            await first.call_tool("order", {"sku": "a"})
        async with Client(url, mode="legacy", headers=alice) as again:  # a new session, same person
            with pytest.raises(MCPError, match="rate limit"):
                await again.call_tool("order", {"sku": "b"})
        async with Client(url, mode="legacy", headers={"Authorization": "Bearer bob"}) as bob:
            await bob.call_tool("order", {"sku": "c"})
    record("attacks", "a token holder opening a new session to reset its rate limit: still limited", 1)


async def test_client_identity_without_a_transport_is_anonymous():
    seen: list[str] = []

    class Who(Middleware):
        async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
            seen.append(client_identity(request.context))
            return await call_next()

    mcp, _ = make_server(Who())
    async with Client(mcp) as client:
        await client.call_tool("order", {"sku": "a"})
    assert seen == [ANONYMOUS]


async def test_a_failing_rate_limit_store_lets_requests_through(caplog):
    class Broken:
        async def take(self, key: str, rate: float, burst: float) -> float:
            raise ConnectionError("store down")

    mcp, runs = make_server(RateLimit(rate=1, store=Broken()))
    async with Client(mcp) as client:
        await client.call_tool("order", {"sku": "a"})
    assert runs["order"] == 1
    assert "rate limit store failed (store down)" in caplog.text


def test_rate_limit_options_are_checked():
    with pytest.raises(ValueError, match="rate must be a positive number"):
        RateLimit(rate=0)
    with pytest.raises(ValueError, match="burst must be"):
        RateLimit(rate=1, burst=0.5)
    with pytest.raises(ValueError, match="no middleware sees initialize"):
        RateLimit(rate=1, methods=["initialize"])


async def test_the_memory_rate_limit_store_is_bounded():
    store = MemoryRateLimitStore(max_keys=3)
    for number in range(1000):
        await store.take(f"client-{number}", 1.0, 1.0)
    record("attacks", "1000 client identities against a store of 3 buckets: 3 kept", 1000)
    assert len(store._buckets) == 3


# Result cache


async def test_read_only_results_are_cached_for_their_ttl(mode):
    clock = Clock()
    mcp, runs = make_server(ResultCache(ttl=30, store=MemoryCacheStore(clock=clock)))
    async with Client(mcp, mode=mode) as client:
        first = await client.call_tool("lookup", {"sku": "a"})
        again = await client.call_tool("lookup", {"sku": "a"})
        other = await client.call_tool("lookup", {"sku": "b"})
        clock.now += 31
        expired = await client.call_tool("lookup", {"sku": "a"})
        await client.call_tool("order", {"sku": "a"})
        await client.call_tool("order", {"sku": "a"})  # not read-only: never cached
        for _ in range(2):
            with pytest.raises(Exception, match="no stock"):
                await client.call_tool("broken", {"sku": "a"})  # errors are not kept
    assert first.data == again.data == {"sku": "a", "run": 1}
    assert other.data == {"sku": "b", "run": 2}
    assert expired.data == {"sku": "a", "run": 3}
    assert runs == {"lookup": 3, "order": 2, "broken": 2}


async def test_a_result_cached_in_one_era_answers_the_other_as_its_own():
    mcp, runs = make_server(ResultCache(ttl=60))
    async with Client(mcp, mode="auto") as modern:
        made = await modern.call_tool("lookup", {"sku": "a"})
    async with Client(mcp, mode="legacy") as legacy:
        hit = await legacy.call_tool("lookup", {"sku": "a"})
    assert runs["lookup"] == 1
    assert hit.data == made.data
    assert hit.meta is None  # not the 2026-07-28 server stamp of the call that made it


async def test_mounted_read_only_tools_are_cached_under_their_names_in_the_parent():
    child, runs = make_server()
    parent = MCPKit("parent", middleware=[ResultCache(ttl=60, tools=["shop_lookup"])])
    parent.mount(child, prefix="shop")
    async with Client(parent) as client:
        for _ in range(2):
            await client.call_tool("shop_lookup", {"sku": "a"})
            await client.call_tool("shop_broken", {"sku": "a"}, raise_on_error=False)
    assert (runs["lookup"], runs["broken"]) == (1, 2)


async def test_cached_results_are_kept_per_client_unless_shared():
    per_client, runs = make_server(ResultCache(ttl=60))
    shared, shared_runs = make_server(ResultCache(ttl=60, per_client=False))
    for mcp in (per_client, shared):
        async with uvicorn_here(mcp) as url:
            for _ in range(2):
                async with Client(url, mode="legacy") as client:  # a session each: two clients
                    await client.call_tool("lookup", {"sku": "a"})
    record("attacks", "a second client calling a cached read-only tool: not given the first's result", 1)
    assert runs["lookup"] == 2
    assert shared_runs["lookup"] == 1


async def test_a_cached_result_still_needs_the_tools_scopes():
    mcp = MCPKit("scoped", middleware=[ResultCache(ttl=60, per_client=False)])

    @mcp.tool(annotations=READ_ONLY, scopes=["reports:read"])
    def report() -> str:
        return "classified"

    class ScopedTokens:
        async def verify_token(self, token: str) -> AccessToken | None:
            scopes = ["reports:read"] if token == "reader" else []
            return AccessToken(token=token, client_id=token, scopes=scopes, subject=token)

    async with uvicorn_here(mcp, token_verifier=ScopedTokens()) as url:
        async with Client(url, headers={"Authorization": "Bearer reader"}) as reader:
            assert (await reader.call_tool("report")).text == "classified"
        async with Client(url, headers={"Authorization": "Bearer guest"}) as guest:
            with pytest.raises(MCPError, match="needs the scopes reports:read"):
                await guest.call_tool("report")
    record("attacks", "a token without a tool's scopes calling it while its result is cached: refused", 1)


async def test_the_memory_cache_store_is_bounded_in_entries_and_bytes():
    store = MemoryCacheStore(max_entries=3, max_bytes=100)
    for number in range(10):
        await store.set(f"key-{number}", b"x" * 10, 60)
    assert len(store) == 3
    assert await store.get("key-9") == b"x" * 10
    assert await store.get("key-0") is None
    await store.set("big", b"y" * 60, 60)
    await store.set("bigger", b"z" * 60, 60)
    assert store.size <= 100
    await store.set("huge", b"h" * 101, 60)
    assert await store.get("huge") is None
    record("attacks", "results past the cache's entry and byte bounds: the oldest forgotten", 13)


async def test_results_bigger_than_an_entry_are_not_cached():
    mcp, runs = make_server(ResultCache(ttl=60, max_entry_bytes=10))
    async with Client(mcp) as client:
        await client.call_tool("lookup", {"sku": "a"})
        await client.call_tool("lookup", {"sku": "a"})
    assert runs["lookup"] == 2


async def test_a_failing_cache_store_is_bypassed(caplog):
    class Broken:
        async def get(self, key: str) -> bytes | None:
            raise ConnectionError("store down")

        async def set(self, key: str, value: bytes, ttl: float) -> None:
            raise ConnectionError("store down")

    mcp, runs = make_server(ResultCache(ttl=60, store=Broken()))
    async with Client(mcp) as client:
        assert (await client.call_tool("lookup", {"sku": "a"})).data == {"sku": "a", "run": 1}
    assert runs["lookup"] == 1
    assert "could not be read (store down)" in caplog.text


# Logging and timing


async def test_each_request_is_logged_once_with_its_outcome_and_no_argument_values(caplog, mode):
    mcp, _ = make_server(RequestLogging())
    with caplog.at_level(logging.INFO, logger="mcpkit.requests"):
        async with Client(mcp, mode=mode, raise_on_error=False) as client:
            caplog.clear()
            await client.call_tool("order", {"sku": "s3cret-value"})
            await client.call_tool("broken", {"sku": "s3cret-value"})
            with pytest.raises(MCPError):
                await client.call_tool("no\nsuch tool", {})
    records = [r for r in caplog.records if r.name == "mcpkit.requests" and r.mcp["method"] == "tools/call"]
    fields = [r.mcp for r in records]  # the client may list tools in between
    assert [(f["method"], f["target"], f["outcome"]) for f in fields] == [
        ("tools/call", "order", "ok"),
        ("tools/call", "broken", "tool_error"),
        ("tools/call", "no\nsuch tool", "error"),
    ]
    assert all(f["duration_ms"] >= 0 and f["server"] == "builtins" for f in fields)
    assert fields[2]["code"] == types.INVALID_PARAMS
    assert records[2].getMessage().startswith("tools/call no\\nsuch tool error ")
    assert "s3cret-value" not in caplog.text
    assert all("arguments" not in f for f in fields)
    record("attacks", "a tool name with a newline, to forge a log line: escaped", 1)


async def test_argument_values_are_logged_when_opted_in(caplog):
    mcp, _ = make_server(RequestLogging(include_arguments=True))
    with caplog.at_level(logging.INFO, logger="mcpkit.requests"):
        async with Client(mcp) as client:
            await client.call_tool("order", {"sku": "a1"})
    [call] = [r.mcp for r in caplog.records if r.mcp["method"] == "tools/call"]  # type: ignore[attr-defined]
    assert call["arguments"] == {"sku": "a1"}


# Error handling


class Exploding(Middleware):
    async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
        if request.tool_name == "order":
            raise RuntimeError("database password is hunter2")
        return await call_next()


async def test_unexpected_exceptions_become_clean_counted_protocol_errors(caplog, mode):
    errors = ErrorHandling()
    mcp, runs = make_server(errors, Exploding())
    with caplog.at_level(logging.ERROR, logger="mcpkit.errors"):
        async with Client(mcp, mode=mode) as client:
            with pytest.raises(MCPError) as failed:
                await client.call_tool("order", {"sku": "a"})
            with pytest.raises(MCPError):
                await client.call_tool("missing", {})
            assert (await client.call_tool("lookup", {"sku": "a"})).data == {"sku": "a", "run": 1}
    error = failed.value.error
    assert error.code == types.INTERNAL_ERROR
    assert runs["order"] == 0
    assert "hunter2" not in error.message
    assert error.message == f"internal error while handling tools/call (error id {error.data['errorId']})"
    assert errors.errors == {
        ("tools/call", "RuntimeError"): 1,
        ("tools/call", f"MCPError {types.INVALID_PARAMS}"): 1,
    }
    [logged] = [r for r in caplog.records if r.name == "mcpkit.errors"]
    assert error.data["errorId"] in logged.getMessage()
    assert logged.exc_info is not None
    record(
        "attacks", "a middleware raising with a secret in its message: the client sees an error id only", 1
    )


# OpenTelemetry


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    """Every span of the process, recorded in memory (the global provider is set once)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_a_span_per_call_is_a_child_of_the_sdks_span(spans, mode):
    mcp, _ = make_server(Tracing())
    async with Client(mcp, mode=mode) as client:
        spans.clear()
        await client.call_tool("order", {"sku": "a"})
        await client.call_tool("broken", {"sku": "a"}, raise_on_error=False)
        await client.list_tools()
    finished = spans.get_finished_spans()
    ours = [span for span in finished if span.instrumentation_scope.name == "mcpkit"]
    assert [span.name for span in ours] == ["tool order", "tool broken"]
    for span in ours:
        [parent] = [s for s in finished if s.context.span_id == span.parent.span_id]
        assert parent.name == span.name.replace("tool ", "tools/call ")
        assert span.attributes["gen_ai.tool.name"] == span.name.split()[1]
        assert span.attributes["mcpkit.server"] == "builtins"
    assert ours[0].status.status_code == StatusCode.UNSET
    assert ours[1].status.status_code == StatusCode.ERROR
    assert ours[1].attributes["error.type"] == "tool_error"

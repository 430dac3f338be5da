"""Hardening of what the API answers (the hardening issue, part C): filters and large responses that
stalled every client, secrets the API echoes, calls without a deadline, JSON that crashed the reader,
an unreachable API. Each test records the attack it tried and what held (bench/campaign.py)."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

import mcpkit_openapi.caller
from mcpkit import Client, MCPKit, MCPType, RouteMap
from tests.reliability import record
from tests.servers import free_port, over_http

HERE = Path(__file__).parent
ROOT = HERE.parent.parent.parent
HUGE = orjson.dumps([{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(630_000)])
"""31 MB of JSON: the body of the independent testing's stall (just under the 32 MB read at most)."""
LARGE = orjson.dumps([{"id": i, "name": f"n{i}"} for i in range(60_000)])  # about 1.7 MB


def json_op(operation_id: str, schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": schema} if schema else {}}
    return {
        "operationId": operation_id,
        "responses": {"200": {"description": "ok", "content": content}},
        **extra,
    }


def text_op(operation_id: str) -> dict[str, Any]:
    content = {"text/plain": {"schema": {"type": "string"}}}
    return {"operationId": operation_id, "responses": {"200": {"description": "ok", "content": content}}}


CUSTOMER = {"name": "X-Customer", "in": "header", "schema": {"type": "string"}}
TOKEN = {"type": "object", "properties": {"token": {"type": "string", "pattern": "^tok_"}}}
DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Hostile", "version": "1"},
    "servers": [{"url": "http://api.test"}],
    "paths": {
        "/small": {"get": json_op("small")},
        "/large": {"get": json_op("large")},
        "/huge": {"get": json_op("huge")},
        "/huge-broken": {"get": json_op("huge_broken")},
        "/padded": {"get": json_op("padded")},
        "/escaped": {"get": json_op("escaped")},
        "/deep/{levels}": {
            "get": json_op(
                "deep",
                parameters=[
                    {"name": "levels", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
            )
        },
        "/raw/{name}": {
            "get": json_op(
                "raw",
                parameters=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            )
        },
        "/echo": {"get": json_op("echo", parameters=[CUSTOMER])},
        "/echo-text": {"get": text_op("echo_text")},
        "/echo-error": {"get": json_op("echo_error")},
        "/echo-escaped": {"get": json_op("echo_escaped")},
        "/token": {"get": json_op("token", TOKEN)},
        "/trickle": {"get": json_op("trickle")},
        "/keyed": {"get": json_op("keyed", security=[{"key": []}])},
    },
    "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
}
RAW = {
    "too-large-number": b"[1e400]",
    "nan": b"[NaN]",
    "lone-surrogate": b'["\\ud800"]',
    "deep-100k": b"[" * 100_000 + b"]" * 100_000,
    "deep-objects": b'{"a":' * 300 + b"1" + b"}" * 300,
}


def echoed(request: Request) -> dict[str, Any]:
    """What a careless API sends back: every header, cookie and query parameter it got."""
    return {"headers": dict(request.headers), "cookies": request.cookies, "query": dict(request.query_params)}


class Trickle:
    """Sends two bytes every 0.1 s for a minute; ``completed`` once it sent them all."""

    def __init__(self) -> None:
        self.completed = False

    async def endpoint(self, request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"["
            for _ in range(600):
                await anyio.sleep(0.1)
                yield b"1,"
            yield b"1]"
            self.completed = True

        return StreamingResponse(body(), media_type="application/json")


def api(trickle: Trickle | None = None) -> Starlette:
    async def endpoint(request: Request) -> Response:
        name = request.url.path.strip("/")
        if name == "small":
            return JSONResponse({"a": "a"})
        if name in ("large", "huge"):
            return Response(LARGE if name == "large" else HUGE, media_type="application/json")
        if name == "huge-broken":  # valid JSON for its first megabytes only
            return Response(HUGE[:-1] + b"!", media_type="application/json")
        if name == "padded":  # 600 KB, of which 100 bytes are JSON
            body = b" " * 300_000 + json.dumps({"ok": "x" * 80}).encode() + b"\n" * 300_000
            return Response(body, media_type="application/json")
        if name == "escaped":  # 180 KB of escapes for 30,000 characters
            return Response(b'"' + b"\\u0041" * 30_000 + b'"', media_type="application/json")
        if name.startswith("deep/"):
            levels = int(name.split("/")[1])
            return Response(b"[" * levels + b"]" * levels, media_type="application/json")
        if name.startswith("raw/"):
            return Response(RAW[name.split("/")[1]], media_type="application/json")
        if name == "echo-text":
            return PlainTextResponse(json.dumps(echoed(request)))
        if name == "echo-error":
            return JSONResponse({"error": "denied", "request": echoed(request)}, status_code=403)
        if name == "echo-escaped":  # as PHP's json_encode writes it: \/ for /
            body = json.dumps({"error": "denied", "request": echoed(request)}).replace("/", "\\/")
            return Response(body, status_code=403, media_type="application/json")
        if name == "token":
            return JSONResponse({"token": request.headers.get("x-api-key", "")})
        return JSONResponse(echoed(request))

    routes = [Route("/trickle", (trickle or Trickle()).endpoint), Route("/{path:path}", endpoint)]
    return Starlette(routes=routes)


def local(app: Starlette | None = None, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app or api()), base_url="http://api.test", **kwargs
    )


def server(**options: Any) -> MCPKit:
    options.setdefault("client", local())
    return MCPKit.from_openapi(openapi_spec=DOC, **options)


# Item 4: filters and large responses that froze every client

DOUBLING = "'a'" + " | [@,@]" * 26  # 2**26 copies of "a": 200 MB of JSON from 180 characters
HOSTILE_FILTERS = {
    "doubling by sharing": (DOUBLING, "the filtered response is more than the 100,000 a result may carry"),
    "doubling, then to_string": (DOUBLING + " | to_string(@)", "response_filter needs more than"),
    "doubling by flatten": ("[@,@]" + " | [@,@] | []" * 30, "response_filter needs more than"),
    "doubling by join": ("'ab'" + " | join('', [@,@])" * 40, "response_filter needs more than"),
    "comparing shared values": (f"({DOUBLING}) == ({DOUBLING})", "response_filter needs more than"),
    "contains on shared values": (f"contains([{DOUBLING}], {DOUBLING})", "response_filter needs more than"),
    "projections of projections": (
        "[@,@,@,@]" + " | [*].[@,@,@,@] | []" * 12,
        "response_filter needs more than",
    ),
    "an overlong expression": ("a" * 2_001, "at most 2,000 are accepted"),
    "nested parentheses": ("(" * 900 + "a" + ")" * 900, "nests too deeply"),
    "a zero slice step": ("[::0]", "response_filter '[::0]' failed: slice step cannot be zero"),
    "an infinite number": ("to_number('1e400')", "a number JSON cannot carry"),
    "a function of the wrong type": ("abs(@)", "abs() takes number, not array"),
}


@pytest.mark.parametrize("attack", HOSTILE_FILTERS)
async def test_hostile_filters_are_refused_and_the_next_call_is_served(attack):
    expression, expected = HOSTILE_FILTERS[attack]
    async with Client(server(response_filter=True)) as client:
        result = await client.call_tool("large", {"response_filter": expression}, raise_on_error=False)
        assert result.is_error
        assert expected in result.text, result.text
        assert len(result.text) < 2_500
        assert (await client.call_tool("small", {"response_filter": "a"})).text == '"a"'
    record("attacks", f"response_filter {attack}: refused within its work budget, next call served")


async def test_filters_work_on_large_responses_in_a_worker_thread():
    async with Client(server(response_filter=True)) as client:
        names = await client.call_tool("large", {"response_filter": "[?id < `3`].name"})
        assert names.text == '["n0","n1","n2"]'
        counted = await client.call_tool("large", {"response_filter": "[*].{i: id} | length(@)"})
        assert counted.text == "60000"
        assert (await client.call_tool("small", {"response_filter": "keys(@)"})).text == '["a"]'
    async with Client(server(response_filter=True, max_response_bytes=None)) as client:
        whole = await client.call_tool("large", {"response_filter": "@"})
        assert whole.text.encode() == LARGE  # unbounded: as large as the response is fine
        doubled = "@" + " | [@,@]" * 5  # 32 copies: 54 MB, more than the response and 32 MB
        refused = await client.call_tool("large", {"response_filter": doubled}, raise_on_error=False)
        assert "the most a filter may make of it" in refused.text
    record("attacks", "filters on a 1.7 MB response (worker thread), and a doubling one without bounds")


async def test_a_huge_body_is_refused_unparsed_and_a_padded_one_is_read():
    async with Client(server()) as client:
        huge = await client.call_tool("huge", raise_on_error=False)
        assert f"the response is {len(HUGE):,} bytes, more than the 100,000 a result may carry" in huge.text
        # Not parsed: it is JSON for its first megabytes only, and the error is about its size.
        broken = await client.call_tool("huge_broken", raise_on_error=False)
        assert f"the response is {len(HUGE):,} bytes" in broken.text
        # The bound is on what a result carries: whitespace and escapes do not count.
        assert (await client.call_tool("padded")).data == {"ok": "x" * 80}
        assert (await client.call_tool("escaped")).text == '"' + "A" * 30_000 + '"'
    record("attacks", "31 MB JSON body, no filter: refused before parsing; padded and escaped bodies read")


@pytest.fixture
def api_process() -> Iterator[str]:
    """The hostile API in a process of its own, as a real API is (sending 31 MB from a thread of this
    process would hold its GIL, and count against mcpkit); its base URL."""
    port = free_port()
    code = (
        f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(HERE)!r}]; import uvicorn, test_hardening_responses as t; "
        f"uvicorn.run(t.api(), host='127.0.0.1', port={port}, log_level='warning', lifespan='off')"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the API did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


async def test_an_attack_burst_over_http_does_not_stall_another_client(api_process):
    """While one client sends the independent testing's attacks, another client's trivial calls keep
    completing; the worst latency they saw goes to the campaign log (no timing assert)."""
    mcp = server(client=httpx.AsyncClient(base_url=api_process), response_filter=True)

    @mcp.tool()
    async def ping() -> str:
        return "pong"

    attacks = [
        ("huge", {}),
        ("small", {"response_filter": DOUBLING}),
        ("large", {"response_filter": "[@,@]" + " | [@,@] | []" * 30}),
        ("large", {"response_filter": "[*].{a: id, b: name, c: id, d: name} | length(@)"}),
    ] * 3
    events: list[str] = []
    latencies: list[float] = []
    async with over_http(mcp) as url, Client(url) as attacker, Client(url) as other:
        await other.call_tool("ping")
        burst_over = anyio.Event()

        async def attack() -> None:
            events.append("attack started")
            async with anyio.create_task_group() as tasks:
                for tool, arguments in attacks:
                    tasks.start_soon(
                        lambda t=tool, a=arguments: attacker.call_tool(t, a, raise_on_error=False)
                    )
            events.append("attack over")
            burst_over.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(attack)
            start = done = time.perf_counter()
            for index in itertools.count():
                if burst_over.is_set():
                    break
                planned = max(start + index * 0.02, done)  # a call every 20 ms, or right after the last
                await anyio.sleep(max(0.0, planned - time.perf_counter()))
                assert (await other.call_tool("ping")).data == "pong"
                done = time.perf_counter()
                latencies.append(done - planned)  # measured from when it was due: stalls count
                events.append("ping")
    during = events[events.index("attack started") : events.index("attack over")]
    assert during.count("ping") >= 3  # the other client was served while the attacks ran
    record("attacks", "burst over HTTP (31 MB body, doubling filters, budget-long filters) x3: others served")
    record(
        "attacks",
        "  worst latency (ms) of another client's calls during that burst",
        round(1000 * max(latencies)),
    )


# Item 6: secrets the user configured must not reach the model

CONFIGURED = {
    "authorization": "Bearer header-token-0123456789",
    "session": "cookie-secret-0123456789",
    "api_key": "param-secret-0123456789",
}


def assert_masked(result: Any, *secrets: str) -> None:
    texts = [result.text, json.dumps(result.structured_content)]
    for secret in secrets:
        assert all(secret not in text for text in texts), (secret, result.text)
    assert "***" in result.text


async def test_configured_headers_cookies_and_parameters_are_masked_in_every_result():
    options = {
        "headers": {"Authorization": CONFIGURED["authorization"], "X-Tenant": "acme"},
        "cookies": {"session": CONFIGURED["session"]},
        "params": {"api_key": CONFIGURED["api_key"]},
        "transport": httpx.ASGITransport(app=api()),
    }
    mcp = MCPKit.from_openapi(openapi_spec=DOC, httpx_client_kwargs=options)
    async with Client(mcp) as client:
        for tool in ("echo", "echo_text", "echo_error"):
            result = await client.call_tool(tool, raise_on_error=False)
            assert_masked(result, *CONFIGURED.values(), "header-token-0123456789")
            assert "acme" in result.text  # shorter than 6 characters: not a secret worth garbling results
        echo = await client.call_tool("echo")
        assert echo.data["headers"]["authorization"] == "***"
        assert echo.data["cookies"] == {"session": "***"}
    record("attacks", "httpx_client_kwargs headers, cookies, params echoed in 2xx JSON, text and 403: masked")


async def test_a_clients_own_headers_and_auth_flow_are_masked():
    key = "client/key+0123456789"
    client = local(headers={"X-Api-Key": key}, auth=httpx.BasicAuth("ada", "basic-pw-0123456"))
    async with Client(server(client=client)) as mcp_client:
        echo = await mcp_client.call_tool("echo")
        escaped = await mcp_client.call_tool("echo_escaped", raise_on_error=False)
    assert echo.data["headers"]["x-api-key"] == "***"
    assert echo.data["headers"]["authorization"] == "***"
    for result in (echo, escaped):
        assert_masked(
            result, key, key.replace("/", "\\/"), "basic-pw-0123456", "YWRhOmJhc2ljLXB3LTAxMjM0NTY="
        )
    record(
        "attacks",
        "client= default headers and httpx.BasicAuth echoed by the API (also as PHP escapes): masked",
    )


async def test_configured_credentials_echoed_in_a_success_are_masked():
    async with Client(server(auth={"key": "configured-key-0123456"})) as client:
        echo = await client.call_tool("keyed")
    assert echo.data["headers"]["x-key"] == "***"
    assert_masked(echo, "configured-key-0123456")
    record("attacks", "auth= API key echoed in a 2xx body: masked")


async def test_forwarded_headers_and_each_cookie_are_masked_over_http():
    mcp = server(forward_headers=["x-user-token", "cookie"])
    sent = {"x-user-token": "user-token-0123456789", "cookie": "a=first-cookie-0123; b=second-cookie-0123"}
    async with over_http(mcp) as url, Client(url, headers=sent) as client:
        echo = await client.call_tool("echo")
        failed = await client.call_tool("echo_error", raise_on_error=False)
    assert echo.data["headers"]["x-user-token"] == "***"
    assert echo.data["cookies"] == {"a": "***", "b": "***"}
    for result in (echo, failed):
        assert_masked(result, "user-token-0123456789", "first-cookie-0123", "second-cookie-0123")
    record("attacks", "forwarded x-user-token and Cookie echoed (2xx and 403): masked, each cookie's value")


async def test_what_the_model_chose_is_not_masked():
    async with Client(server(client=local(headers={"X-Api-Key": "client-key-0123456789"}))) as client:
        echo = await client.call_tool("echo", {"X-Customer": "customer-0123456789"})
    assert echo.data["headers"]["x-customer"] == "customer-0123456789"
    assert echo.data["headers"]["x-api-key"] == "***"


async def test_a_masked_secret_that_breaks_the_documented_schema_is_an_error_not_a_leak():
    async with Client(server(client=local(headers={"X-Api-Key": "tok_secret-0123456789"}))) as client:
        result = await client.call_tool("token", raise_on_error=False)
    assert result.is_error
    assert "does not match the documented schema" in result.text
    assert "tok_secret-0123456789" not in result.text
    record("attacks", "a masked secret breaking the documented pattern: error result, secret withheld")


async def test_resource_text_is_masked():
    maps = [RouteMap(pattern=r"^/echo-text$", mcp_type=MCPType.RESOURCE)]
    mcp = server(client=local(headers={"X-Api-Key": "client-key-0123456789"}), route_maps=maps)
    async with Client(mcp) as client:
        contents = await client.read_resource("resource://echo_text")
    text = contents[0].text  # type: ignore[union-attr]
    assert "client-key-0123456789" not in text
    assert "***" in text
    record("attacks", "client header echoed in a text resource: masked")


# Item 7: every call has a deadline, even against an API that trickles bytes


async def test_a_trickling_api_is_cut_at_the_whole_call_deadline(live_server):
    trickle = Trickle()
    port = live_server(api(trickle))
    mcp = server(client=httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}"), timeout=1)
    async with Client(mcp) as client:
        result = await client.call_tool("trickle", raise_on_error=False)
        assert not trickle.completed  # the API was still sending when the call ended
    assert result.is_error
    assert result.text == "GET /trickle timed out after 1 s"
    record("attacks", "API sending a byte every 0.1 s: cut at the whole-call timeout")


async def test_every_call_has_a_deadline_by_default(live_server, monkeypatch):
    assert mcpkit_openapi.caller.DEFAULT_TIMEOUT == 30  # documented in docs/openapi.md
    monkeypatch.setattr(mcpkit_openapi.caller, "DEFAULT_TIMEOUT", 1)  # not 30 s of a test's time
    port = live_server(api())
    app = FastAPI()
    app.get("/trickle")(Trickle().endpoint)
    for mcp, tool in (
        (server(client=httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}")), "trickle"),
        (MCPKit.from_openapi(openapi_spec=DOC, server_url=f"http://127.0.0.1:{port}"), "trickle"),
        (MCPKit.from_fastapi(app=app), "endpoint_trickle_get"),
    ):
        async with Client(mcp) as client:
            result = await client.call_tool(tool, raise_on_error=False)
        assert result.text == "GET /trickle timed out after 1 s"
    record(
        "attacks",
        "API sending a byte every 0.1 s, no timeout given (from_openapi, from_fastapi): cut at 30 s",
    )


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), True, "30"])
def test_a_timeout_must_be_a_positive_number(timeout):
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        server(timeout=timeout)


# Item 9: JSON that crashed the reader, or became text that is not JSON

UNREADABLE = {
    "deep-100k": "with a body that mcpkit cannot read as JSON (nested more than 1,024 levels)",
    "too-large-number": "with a body that mcpkit cannot read as JSON (a number too large for a double): [1e400]",
    "nan": "with a body that is not valid JSON: [NaN]",
    "lone-surrogate": "with a body that is not valid JSON",
    "deep-objects": "the response nests 300 levels deep, more than the 200 a result may",
}


@pytest.mark.parametrize("name", UNREADABLE)
async def test_unreadable_json_is_a_clear_error(name):
    async with Client(server(max_response_bytes=None)) as client:
        result = await client.call_tool("raw", {"name": name}, raise_on_error=False)
        assert result.is_error
        assert UNREADABLE[name] in result.text, result.text
        assert (await client.call_tool("small")).data == {"a": "a"}
    record("attacks", f"response JSON {name}: a clear error, the next call served")


async def test_nesting_up_to_the_bound_is_served():
    async with Client(server()) as client:
        assert (await client.call_tool("deep", {"levels": 200})).text == "[" * 200 + "]" * 200
        deeper = await client.call_tool("deep", {"levels": 201}, raise_on_error=False)
    assert deeper.text.endswith("the response nests 201 levels deep, more than the 200 a result may")


# Item 15: an unreachable API names where mcpkit tried and how to point it elsewhere


async def test_an_unreachable_api_names_its_origin_and_the_remedy():
    port = free_port()  # nothing listens there
    mcp = MCPKit.from_openapi(openapi_spec=DOC, server_url=f"http://127.0.0.1:{port}/v1")
    async with Client(mcp) as client:
        result = await client.call_tool("small", raise_on_error=False)
    assert result.text.startswith("GET /v1/small failed: ConnectError: ")
    assert f"(connecting to http://127.0.0.1:{port})" in result.text
    assert "client=httpx.AsyncClient(base_url=...)" in result.text
    assert "--base-url" in result.text
    record("attacks", "unreachable API: the error names its origin and how to set the base URL")

"""Two uvicorn worker processes behind one port, sharing Redis (``replica_app.py``): rate limits, the
result cache and resumed streams are shared, and a change made in one worker reaches a 2026-07-28
listen stream served by the other. Each new connection lands on either worker (the kernel's choice);
the tests find out which with the app's ``/pid`` route or the ``worker`` tool."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from mcp.shared.exceptions import MCPError

from mcpkit import Client
from mcpkit.middleware_ratelimit import RATE_LIMITED
from plugins.redis_store.tests.conftest import free_port
from tests.reliability import record

HERE = Path(__file__).parent
ATTEMPTS = 200
"""New connections tried at most to reach a given worker (each lands on either, about evenly)."""

HANDSHAKE = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2025-11-25",
}


@pytest.fixture(scope="module")
def running_workers(redis_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn replica_app:app --workers 2`` on 127.0.0.1 with Redis, for the module; its base URL.
    Stopped with SIGTERM (killed if it does not stop)."""
    tmp_path = tmp_path_factory.mktemp("workers")
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "replica_app:app", "--workers", "2", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    log = (tmp_path / "workers.log").open("w")
    env = {**os.environ, "REDIS_URL": redis_server, "PYTHONPATH": str(HERE)}
    process = subprocess.Popen(command, cwd=HERE, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_both(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def workers(running_workers: str, redis_client) -> str:
    """The workers' base URL, Redis emptied first."""
    return running_workers


def wait_for_both(base: str, process: subprocess.Popen[bytes]) -> None:
    """Return once both workers answer (new connections until two process ids were seen)."""
    seen: set[str] = set()
    for _ in range(3000):  # 30 s at most
        if process.poll() is not None:
            raise RuntimeError(f"the workers exited with {process.returncode}")
        try:
            with httpx.Client() as http:
                seen.add(http.get(f"{base}/pid").text)
        except httpx.TransportError:
            anyio.run(anyio.sleep, 0.01)
        if len(seen) == 2:
            return
    raise RuntimeError("two workers did not answer")


@asynccontextmanager
async def connected_to(base: str, *, other_than: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """An HTTP client with one connection, to a worker whose process id is not ``other_than``, and
    that process id."""
    for _ in range(ATTEMPTS):
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=30) as http:
            pid = (await http.get(f"{base}/pid")).text
            if pid != other_than:
                yield http, pid
                return
    raise AssertionError("no new connection reached the other worker")


def events(body: str) -> list[dict[str, str]]:
    """The SSE events of ``body``: their fields."""
    found = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(
            line.split(":", 1) for line in block.split("\n") if ":" in line and not line.startswith(":")
        )
        if fields:
            found.append({key: value.strip() for key, value in fields.items()})
    return found


async def test_two_workers_share_one_rate_limit(workers):
    outcomes: Counter[tuple[str, str]] = Counter()
    for _ in range(ATTEMPTS):
        async with Client(f"{workers}/mcp") as client:  # a new connection each time
            pid = str((await client.call_tool("worker")).data)
            try:
                await client.call_tool("limited_ping")
                outcomes[(pid, "ran")] += 1
            except MCPError as exc:
                outcomes[(pid, "refused" if exc.error.code == RATE_LIMITED else str(exc))] += 1
        calls = Counter(pid for pid, _ in outcomes.elements())
        if len(calls) == 2 and min(calls.values()) >= 4:
            break
    ran = sum(count for (_, outcome), count in outcomes.items() if outcome == "ran")
    record("attacks", "calls past a burst of 3 spread over two workers: 3 ran in all", sum(outcomes.values()))
    assert ran == 3  # a limit per worker would have let 6 run
    assert {outcome for _, outcome in outcomes} == {"ran", "refused"}
    assert len({pid for pid, outcome in outcomes if outcome == "refused"}) == 2


async def test_two_workers_share_the_result_cache(workers):
    async with Client(f"{workers}/mcp") as client:
        first = (await client.call_tool("snapshot")).data
    for _ in range(ATTEMPTS):
        async with Client(f"{workers}/mcp") as client:
            pid = (await client.call_tool("worker")).data
            if pid != first["pid"]:
                assert (await client.call_tool("snapshot")).data == first  # the other worker's result
                return
    raise AssertionError("no client reached the other worker")


async def test_a_stream_is_resumed_on_the_other_worker(workers):
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1), timeout=30) as first:
        origin = (await first.get(f"{workers}/pid")).text
        opened = await first.post(f"{workers}/mcp", headers=HANDSHAKE, json=initialize())
        session = {**HANDSHAKE, "mcp-session-id": opened.headers["mcp-session-id"]}
        await first.post(
            f"{workers}/mcp", headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"}
        )
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "report", "arguments": {}},
        }
        cut = events((await first.post(f"{workers}/mcp", headers=session, json=call)).text)
    assert [event.get("event") for event in cut] == [None]  # only the priming event: no answer yet
    resume = {"accept": "text/event-stream", "last-event-id": cut[0]["id"], **_pick(session)}

    async with connected_to(workers, other_than=origin) as (other, pid):
        stranger = {**resume, "mcp-session-id": "0" * 32}
        refused = await other.get(f"{workers}/mcp", headers=stranger)
        forged = await other.get(f"{workers}/mcp", headers={**resume, "last-event-id": "x" * 300})
        answer = await first_message(other, f"{workers}/mcp", resume)  # ends the connection
    assert answer is not None
    assert answer["id"] == 2
    assert answer["result"]["structuredContent"] == {"result": f"report of {origin}"}
    assert pid != origin
    assert (refused.status_code, forged.status_code) == (404, 404)
    record("attacks", "resuming another session's stream, and a forged Last-Event-ID: 404", 2)


async def test_a_change_in_one_worker_reaches_a_listen_stream_on_the_other(workers):
    headers, body = modern("subscriptions/listen", {"notifications": {"toolsListChanged": True}})
    with anyio.fail_after(30):
        async with (
            connected_to(workers, other_than="") as (listener, listening),
            listener.stream("POST", f"{workers}/mcp", headers=headers, json=body) as stream,
        ):
            lines = stream.aiter_lines()
            methods = [await next_method(lines)]  # the acknowledgement: the stream is listening
            async with connected_to(workers, other_than=listening) as (changer, changing):
                headers, call = modern("tools/call", {"name": "add_tool", "arguments": {"name": "extra"}})
                changed = (await changer.post(f"{workers}/mcp", headers=headers, json=call)).json()
            methods.append(await next_method(lines))
    assert changed["result"]["structuredContent"] == {"result": int(changing)}
    assert changing != listening
    assert methods == ["notifications/subscriptions/acknowledged", "notifications/tools/list_changed"]


def modern(method: str, params: dict[str, object]) -> tuple[dict[str, str], dict[str, object]]:
    """The headers and body of a 2026-07-28 request."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    headers = {**HANDSHAKE, "mcp-protocol-version": "2026-07-28", "mcp-method": method}
    if "name" in params:
        headers["mcp-name"] = str(params["name"])
    return headers, {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": meta}}


async def next_method(lines: AsyncIterator[str]) -> str:
    """The method of the next message of an SSE stream."""
    async for line in lines:
        if line.startswith("data:") and line[5:].strip():
            method: str = json.loads(line[5:])["method"]
            return method
    raise AssertionError("the stream ended")


async def first_message(
    http: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> dict[str, object] | None:
    """The first message of the SSE stream a GET of ``url`` opens (``None`` if it ends without one);
    the stream is closed then (a stream resumed on its own worker stays open for what comes next)."""
    with anyio.fail_after(30):
        async with http.stream("GET", url, headers=headers) as response:
            assert response.status_code == 200, response.status_code
            async for line in response.aiter_lines():
                if line.startswith("data:") and line[5:].strip():
                    message: dict[str, object] = json.loads(line[5:])
                    return message
    return None


def initialize() -> dict[str, object]:
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    }
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}


def _pick(headers: dict[str, str]) -> dict[str, str]:
    return {key: headers[key] for key in ("mcp-protocol-version", "mcp-session-id")}

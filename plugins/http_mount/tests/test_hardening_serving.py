"""Hardening of serving: connection limits of ``mcp.run``'s uvicorn server, the serving options of
``mcpkit serve``, a FastAPI app serving its own MCP server, and the stdio line limit.

Everything runs for real: uvicorn on 127.0.0.1, raw sockets for the attacks, ``mcpkit.Client``
for the calls that must still succeed, and ``mcpkit serve`` / ``python`` subprocesses.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.abc import SocketStream
from fastapi import FastAPI, Request

from mcpkit import Client, MCPKit
from mcpkit.cli import EXIT_USAGE, main
from mcpkit_http import combine_lifespans
from plugins.http_mount.tests.raw import INITIALIZE, POST_HEADERS
from plugins.http_mount.tests.test_run import free_port, process
from tests.reliability import record

MCPKIT = Path(sys.executable).with_name("mcpkit")
PARTIAL_HEAD = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def adder() -> MCPKit:
    mcp = MCPKit("adder")

    @mcp.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return mcp


@asynccontextmanager
async def running(mcp: MCPKit, transport: str = "http", **options: Any) -> AsyncIterator[int]:
    """``mcp.run_async(transport, **options)`` on a free loopback port until the block ends."""
    port = free_port()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: mcp.run_async(transport, port=port, log_level="warning", **options))
        with anyio.fail_after(10):
            while True:
                try:
                    await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                    break
                except OSError:
                    await anyio.sleep(0.02)
        yield port
        tasks.cancel_scope.cancel()


async def add_over_http(port: int, path: str = "/mcp", **client: Any) -> Any:
    async with Client(f"http://127.0.0.1:{port}{path}", **client) as session:
        return (await session.call_tool("add", {"a": 2, "b": 3})).data


async def half_open(port: int, count: int) -> list[SocketStream]:
    """``count`` connections, every other one sending part of a request head, none finishing it."""
    streams = []
    for number in range(count):
        stream = await anyio.connect_tcp("127.0.0.1", port)
        if number % 2:
            await stream.send(PARTIAL_HEAD)
        streams.append(stream)
    return streams


async def until_closed(stream: SocketStream) -> bytes:
    """What the server sends before it closes the connection."""
    received = b""
    with anyio.fail_after(10):  # a hang guard: the server closes each well before
        while True:
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return received


def still_open(stream: SocketStream) -> bool:
    """Whether the server has neither closed the connection nor sent anything on it."""
    raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    with socket.fromfd(raw.fileno(), raw.family, raw.type) as probe:  # a duplicate to peek with
        try:
            probe.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK)
        except BlockingIOError:
            return True
    return False


# Item 8: connections that never finish their request head


async def test_connections_that_never_send_a_whole_request_head_are_closed_after_the_header_timeout():
    async with running(adder(), header_timeout=0.5) as port:
        attack = await half_open(port, 120)
        reused = await anyio.connect_tcp("127.0.0.1", port)  # one good request, then a stalled one
        await reused.send(b"GET /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first_answer = await reused.receive()
        await reused.send(PARTIAL_HEAD)
        assert await add_over_http(port) == 5  # served while the attack's connections are open
        closing = [await until_closed(stream) for stream in attack]
        after_a_response = await until_closed(reused)
    assert first_answer.startswith(b"HTTP/1.1 404")
    assert closing[0::2] == [b""] * 60  # silent ones are just closed
    assert all(reply.startswith(b"HTTP/1.1 408 Request Timeout") for reply in closing[1::2])
    assert after_a_response.startswith(b"HTTP/1.1 408")  # uvicorn's keep-alive timer stopped at a byte
    record(
        "attacks", "120 connections never completing a request head (+1 after a response): all closed", 121
    )


async def test_at_the_connection_cap_a_new_connection_sheds_the_one_waiting_longest():
    async with running(adder(), header_timeout=None, max_connections=20) as port:
        attack = await half_open(port, 200)
        assert await add_over_http(port) == 5  # served with 200 connections opened against a cap of 20
        oldest = [await until_closed(stream) for stream in attack[:170]]
        assert all(still_open(stream) for stream in attack[-10:])
    assert oldest == [b""] * 170
    record(
        "attacks", "200 idle connections against a cap of 20 (no header timeout): oldest shed, call served"
    )


async def test_when_every_connection_is_busy_a_new_one_is_answered_503():
    async with running(adder(), "sse", max_connections=2) as port:
        streams = []
        for _ in range(2):  # an SSE stream is a request in progress: never shed
            stream = await anyio.connect_tcp("127.0.0.1", port)
            await stream.send(b"GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert (await stream.receive()).startswith(b"HTTP/1.1 200")
            streams.append(stream)
        refused = await until_closed(await anyio.connect_tcp("127.0.0.1", port))
    assert refused.startswith(b"HTTP/1.1 503 Service Unavailable")
    head, _, body = refused.partition(b"\r\n\r\n")
    assert body == b"too many connections, retry later"
    assert f"content-length: {len(body)}".encode() in head
    record("attacks", "a connection beyond the cap while every connection is busy: 503, closed")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"header_timeout": 0}, ValueError, "header_timeout must be positive"),
        ({"max_connections": 1.5}, TypeError, "max_connections must be a positive int or None"),
        ({"max_connections": True}, TypeError, "max_connections must be a positive int"),
        (
            {"uvicorn_config": {"http": "httptools"}},
            ValueError,
            "enforces header_timeout and max_connections",
        ),
    ],
)
def test_connection_limits_are_checked(options, error, message):
    with pytest.raises(error, match=message):
        adder().http_app(**options)


# Item 23: a FastAPI app serving the MCP server built from it


def shop_serving_itself(pattern: str) -> FastAPI:
    """A FastAPI app whose lifespan is (or contains) the lifespan of the MCP app built from it."""

    @asynccontextmanager
    async def greeting(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        yield {"greeting": "hello"}

    app = FastAPI(title="Shop", lifespan=greeting)

    @app.get("/greet/{name}", operation_id="greet")
    def greet(name: str, request: Request) -> str:
        return f"{getattr(request.state, 'greeting', 'hi')}, {name}"

    mcp_app = MCPKit.from_fastapi(app=app).http_app(path="/mcp")
    if pattern == "mcp lifespan only":  # the app's own is replaced: no greeting in the state
        app.router.lifespan_context = mcp_app.lifespan
    else:
        app.router.lifespan_context = combine_lifespans(app.router.lifespan_context, mcp_app.lifespan)
    app.mount("/llm", mcp_app)
    return app


@pytest.mark.parametrize(
    ("pattern", "greeting"), [("mcp lifespan only", "hi"), ("combined with the app's own", "hello")]
)
async def test_an_app_serving_the_mcp_server_built_from_it_starts_and_answers(serve, pattern, greeting):
    app = shop_serving_itself(pattern)
    async with serve(app) as url:  # before: startup never finished (the lifespans entered each other)
        async with Client(f"{url}/llm/mcp") as client:
            answer = await client.call_tool("greet", {"name": "Ada"})
        async with httpx.AsyncClient(base_url=url) as http:
            rest = await http.get("/greet/Bob")
    assert answer.data == f"{greeting}, Ada"  # the app's lifespan state reached the in-process call
    assert rest.json() == f"{greeting}, Bob"


# Item 14: the serving options of `mcpkit serve`

WHOAMI = """
from fastapi import FastAPI, Request

app = FastAPI(title="Who")


@app.get("/whoami", operation_id="whoami")
def whoami(request: Request) -> str:
    return request.headers.get("x-user-token", "")
"""


@pytest.mark.parametrize("given_by", ["options", "settings"])
async def test_serve_takes_allowed_hosts_path_stateless_and_forwarded_headers(tmp_path, given_by):
    (tmp_path / "who.py").write_text(WHOAMI)
    port = free_port()
    command = [str(MCPKIT), "serve", "who:app", "--transport", "http", "--port", str(port)]
    if given_by == "options":
        command += ["--allowed-host", "mcp.example:*", "--allowed-origin", "https://app.example"]
        command += ["--path", "/llm", "--stateless", "--forward-header", "X-User-Token"]
    else:
        settings = {
            "MCPKIT_ALLOWED_HOSTS": "mcp.example:*",
            "MCPKIT_ALLOWED_ORIGINS": "https://app.example",
            "MCPKIT_HTTP_PATH": "/llm",
            "MCPKIT_STATELESS_HTTP": "true",
            "MCPKIT_FORWARD_HEADERS": "x-user-token",
        }
        command = ["env", *(f"{name}={value}" for name, value in settings.items()), *command]
    named = {"host": f"mcp.example:{port}"}
    async with process(command, port, tmp_path):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            loopback = await http.post("/llm", json=INITIALIZE, headers=POST_HEADERS)
            foreign_origin = await http.post(
                "/llm", json=INITIALIZE, headers=POST_HEADERS | named | {"origin": "https://evil.example"}
            )
            allowed = await http.post(
                "/llm", json=INITIALIZE, headers=POST_HEADERS | named | {"origin": "https://app.example"}
            )
        headers = named | {"x-user-token": "u-1"}
        async with Client(f"http://127.0.0.1:{port}/llm", headers=headers) as client:
            token = (await client.call_tool("whoami")).data
    assert loopback.status_code == 421  # only the allowed host is accepted, not even 127.0.0.1
    assert foreign_origin.status_code == 403
    assert allowed.status_code == 200
    assert "mcp-session-id" not in allowed.headers  # stateless
    assert token == "u-1"
    record(
        "attacks", f"foreign Host and Origin against mcpkit serve with allowed hosts by {given_by}: refused"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--transport", "sse", "--stateless"], "--stateless applies to --transport http, not sse"),
        (["--forward-header", "X-Token: v"], "--forward-header takes header names"),
    ],
)
def test_serve_refuses_serving_options_that_cannot_apply(tmp_path, monkeypatch, capsys, argv, message):
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}
    (tmp_path / "doc.json").write_text(json.dumps(document))
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "doc.json", "--base-url", "http://api.example", *argv]) == EXIT_USAGE
    assert message in capsys.readouterr().err


# Item 9: one line of stdio

STDIO_SERVER = """
from mcpkit import MCPKit

MCPKit("lines").run()
"""


def ping(number: int, padding: int = 0) -> bytes:
    message = {"jsonrpc": "2.0", "id": number, "method": "ping", "params": {"pad": "x" * padding}}
    return json.dumps(message).encode()


def answers(stdout: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def stdio_server(tmp_path: Path) -> subprocess.Popen[bytes]:
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(STDIO_SERVER))
    return subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def write_until_refused(server: subprocess.Popen[bytes], data: bytes) -> int | None:
    """Write ``data`` to the server's standard input by the MiB: how much was written when the
    server closed it, or ``None`` if all of it was."""
    assert server.stdin is not None
    step = 1 << 20
    for start in range(0, len(data), step):
        try:
            server.stdin.write(data[start : start + step])
            server.stdin.flush()
        except BrokenPipeError:
            return start
    return None


def test_stdio_lines_up_to_the_limit_are_served_together_or_in_pieces(tmp_path):
    server = stdio_server(tmp_path)
    assert server.stdout is not None
    large = ping(3, padding=3 * 1024 * 1024)  # 3 MiB: under the 4 MiB default
    messages = [json.dumps(INITIALIZE).encode(), ping(2), large, ping(4)]
    assert write_until_refused(server, b"\n".join(messages) + b"\n") is None
    replies = [json.loads(server.stdout.readline()) for _ in messages]
    server.communicate(timeout=30)
    assert [reply["id"] for reply in replies] == [1, 2, 3, 4]
    assert all("error" not in reply for reply in replies)


def test_a_stdio_line_over_the_limit_ends_the_session_unread(tmp_path):
    server = stdio_server(tmp_path)
    assert server.stdout is not None
    written = write_until_refused(server, ping(1) + b"\n" + ping(2, padding=10) + b"\n")
    assert written is None
    written = write_until_refused(server, ping(3, padding=64 * 1024 * 1024)[:-2])  # 64 MiB, never ended
    assert written is not None
    stdout = server.stdout.read()
    assert server.wait(timeout=30) == 0
    assert written < 8 * 1024 * 1024  # the server stopped reading at the limit (4 MiB)
    *served, refusal = answers(stdout)
    assert [reply["id"] for reply in served] == [1, 2]
    assert refusal["id"] is None
    assert refusal["error"]["code"] == -32600
    assert "longer than 4,194,304 bytes" in refusal["error"]["message"]
    assert "MCPKIT_STDIO_MAX_LINE_BYTES" in refusal["error"]["message"]
    record("attacks", "a 64 MiB line over stdio: refused after 4 MiB read, session ended with an error")

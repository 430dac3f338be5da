"""Faults of the API behind the tools, over real HTTP (uvicorn, and a raw TCP server on 127.0.0.1):
each fault is a bounded, clear tool error, and the next call is served as usual."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mcpkit import Client, MCPKit
from tests.reliability import record

MB = 1024 * 1024
FAULTS = [
    "server-error",
    "malformed-json",
    "wrong-content-type",
    "huge-streamed",
    "huge-declared",
    "redirect-away",
    "redirect-home",
    "hang",
    "truncated",
]


def operation(name: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    ok = {"description": "ok", "content": {"application/json": {"schema": schema}}}
    return {"get": {"operationId": name.replace("-", "_"), "responses": {"200": ok}}}


DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Faulty", "version": "1"},
    "paths": {f"/{name}": operation(name) for name in ["healthy", "target", *FAULTS]},
}


async def huge(declared: bool) -> Response:
    async def body() -> AsyncIterator[bytes]:
        chunk = b" " * MB
        for _ in range(50):
            yield chunk

    headers = {"content-length": str(50 * MB)} if declared else {}
    return StreamingResponse(body(), media_type="application/json", headers=headers)


async def hang(request: Request) -> Response:
    """Answers nothing until the client goes away (30 s at most)."""
    with anyio.move_on_after(30):
        message = await request.receive()
        while message["type"] != "http.disconnect":
            message = await request.receive()
    return Response(status_code=204)


class Truncated:
    """Promises 1,000 bytes, sends 10, and ends: uvicorn closes the connection mid-body."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok": tru', "more_body": True})


class Elsewhere:
    """Another origin, counting what reaches it."""

    def __init__(self) -> None:
        self.hits = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.hits += 1
            await JSONResponse({"ok": True, "stolen": True})(scope, receive, send)


def api(elsewhere_port: int) -> Starlette:
    async def endpoint(request: Request) -> Response:
        fault = request.path_params["fault"]
        if fault in ("healthy", "target"):
            return JSONResponse({"ok": True})
        if fault == "server-error":
            return Response("boom " * 10_000, status_code=500, media_type="text/plain")
        if fault == "malformed-json":
            return Response('{"ok": tr', media_type="application/json")
        if fault == "wrong-content-type":
            return Response("<html>maintenance</html>", media_type="text/html")
        if fault in ("huge-streamed", "huge-declared"):
            return await huge(declared=fault == "huge-declared")
        if fault == "redirect-away":
            return Response(
                status_code=302, headers={"location": f"http://localhost:{elsewhere_port}/api/target"}
            )
        if fault == "redirect-home":
            return Response(status_code=307, headers={"location": "/api/target"})
        return await hang(request)

    return Starlette(routes=[Route("/api/truncated", Truncated()), Route("/api/{fault}", endpoint)])


EXPECTED = {
    "server-error": "GET /api/server-error returned 500 Internal Server Error: boom boom",
    "malformed-json": 'GET /api/malformed-json returned 200 OK with a body that is not valid JSON: {"ok": tr',
    "wrong-content-type": "GET /api/wrong-content-type returned 200 OK with text/html where JSON is documented",
    "huge-streamed": "GET /api/huge-streamed returned more than 33,554,432 bytes; the rest was not read",
    "huge-declared": "GET /api/huge-declared returned 52,428,800 bytes, more than the 33,554,432 read at most",
    "redirect-away": "GET /api/redirect-away returned 302 Found: a redirect to http://localhost:",
    "hang": "GET /api/hang timed out after 2 s",
    "truncated": "GET /api/truncated failed: RemoteProtocolError",
}


@pytest.fixture
def faulty(live_server) -> tuple[str, Elsewhere]:
    elsewhere = Elsewhere()
    elsewhere_port = live_server(elsewhere)
    port = live_server(api(elsewhere_port))
    return f"http://127.0.0.1:{port}/api", elsewhere


@pytest.mark.parametrize("follow_redirects", [False, True])
async def test_each_fault_is_a_bounded_clear_error_and_the_next_call_is_served(faulty, follow_redirects):
    base_url, elsewhere = faulty
    client = httpx.AsyncClient(base_url=base_url, follow_redirects=follow_redirects)
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=client, timeout=2)
    async with Client(mcp) as mcp_client:
        for fault in FAULTS:
            result = await mcp_client.call_tool(fault.replace("-", "_"), raise_on_error=False)
            if fault == "redirect-home" and follow_redirects:
                assert (result.is_error, result.data) == (False, {"ok": True})  # same origin: followed
            else:
                assert result.is_error, fault
                expected = EXPECTED.get(fault, "GET /api/redirect-home returned 307 Temporary Redirect")
                assert result.text.startswith(expected), (fault, result.text)
                assert len(result.text) < 2_500
            record("faults", f"{fault} (follow_redirects={follow_redirects})")
            healthy = await mcp_client.call_tool("healthy")
            assert healthy.data == {"ok": True}
    assert elsewhere.hits == 0  # never followed to another origin


async def test_a_connection_closed_before_any_answer():
    async def close_at_once(stream: Any) -> None:
        async with stream:
            await stream.receive()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, close_at_once)
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api")
        mcp = MCPKit.from_openapi(openapi_spec=DOC, client=client, timeout=5)
        async with Client(mcp) as mcp_client:
            for _ in range(3):
                result = await mcp_client.call_tool("healthy", raise_on_error=False)
                assert result.is_error
                assert result.text.startswith("GET /api/healthy failed: RemoteProtocolError"), result.text
                record("faults", "connection closed before any answer")
        tasks.cancel_scope.cancel()


async def test_many_hanging_calls_at_once_are_all_bounded(faulty):
    base_url, _ = faulty
    mcp = MCPKit.from_openapi(openapi_spec=DOC, client=httpx.AsyncClient(base_url=base_url), timeout=1)
    results: list[Any] = []
    async with Client(mcp) as mcp_client:

        async def call() -> None:
            results.append(await mcp_client.call_tool("hang", raise_on_error=False))

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                for _ in range(20):
                    tasks.start_soon(call)
        assert [r.text for r in results] == ["GET /api/hang timed out after 1 s"] * 20
        assert (await mcp_client.call_tool("healthy")).data == {"ok": True}
    record("faults", "hang (20 at once)", 20)

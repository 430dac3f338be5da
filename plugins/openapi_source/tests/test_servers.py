"""Base URLs from the document when no client is given: variables, overrides, relative URLs, per-path servers."""

from __future__ import annotations

import json
import re

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcpkit import Client, MCPKit
from mcpkit_openapi import OpenAPIError


def document(servers, *, path_servers=None, operation_servers=None):
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Where", "version": "1"},
        "servers": servers,
        "paths": {
            "/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "pong"}}}},
            "/elsewhere": {
                "get": {"operationId": "elsewhere", "responses": {"200": {"description": "pong"}}},
            },
        },
    }
    if path_servers is not None:
        doc["paths"]["/elsewhere"]["servers"] = path_servers
    if operation_servers is not None:
        doc["paths"]["/elsewhere"]["get"]["servers"] = operation_servers
    return doc


def templated(port: int) -> list[dict]:
    return [
        {
            "url": "http://{host}:{port}/{version}",
            "variables": {
                "host": {"default": "127.0.0.1"},
                "port": {"default": str(port)},
                "version": {"default": "v1", "enum": ["v1", "v2"]},
            },
        }
    ]


async def ping(mcp: MCPKit, tool: str = "ping") -> None:
    async with Client(mcp) as client:
        await client.call_tool(tool)


async def test_variables_take_their_defaults_or_the_given_values(upstream, live_server):
    port = live_server(upstream)
    await ping(MCPKit.from_openapi(openapi_spec=document(templated(port))))
    assert upstream.last.path == "/v1/ping"
    await ping(
        MCPKit.from_openapi(openapi_spec=document(templated(port)), server_variables={"version": "v2"})
    )
    assert upstream.last.path == "/v2/ping"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"region": "eu"},
            "server_variables names unknown variables ['region']; valid: 'host', 'port', 'version'",
        ),
        ({"version": "v3"}, "server variable 'version' must be one of ['v1', 'v2'], not 'v3'"),
    ],
)
def test_bad_server_variables_are_refused(variables, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MCPKit.from_openapi(openapi_spec=document(templated(1)), server_variables=variables)


async def test_server_url_replaces_the_documents(upstream, live_server):
    port = live_server(upstream)
    mcp = MCPKit.from_openapi(
        openapi_spec=document([{"url": "https://api.example.com"}]),
        server_url=f"http://127.0.0.1:{port}/base",
    )
    await ping(mcp)
    assert upstream.last.path == "/base/ping"
    with pytest.raises(ValueError, match="server_url must be an absolute http"):
        MCPKit.from_openapi(openapi_spec=document([]), server_url="/relative")


async def test_relative_servers_resolve_against_the_documents_url(upstream, live_server):
    def respond(request: Request) -> Response:
        if request.url.path == "/specs/openapi.json":
            return Response(json.dumps(document([{"url": "../api/v3"}])), media_type="application/json")
        return JSONResponse({"ok": True})

    upstream.respond = respond
    port = live_server(upstream)
    mcp = MCPKit.from_openapi(openapi_spec=f"http://127.0.0.1:{port}/specs/openapi.json")
    await ping(mcp)
    assert upstream.last.path == "/api/v3/ping"


@pytest.mark.parametrize("level", ["path", "operation"])
async def test_path_and_operation_servers_override_the_documents(
    upstream, other_upstream, live_server, level
):
    other = other_upstream
    main_port, other_port = live_server(upstream), live_server(other)
    servers = [{"url": f"http://127.0.0.1:{other_port}/other"}]
    doc = document(
        [{"url": f"http://127.0.0.1:{main_port}/main"}],
        **({"path_servers": servers} if level == "path" else {"operation_servers": servers}),
    )
    mcp = MCPKit.from_openapi(openapi_spec=doc)
    await ping(mcp)
    await ping(mcp, "elsewhere")
    assert [r.path for r in upstream.requests] == ["/main/ping"]
    assert [r.path for r in other.requests] == ["/other/elsewhere"]


def test_no_usable_server_is_a_clear_error():
    with pytest.raises(
        OpenAPIError, match="no client was given and the document names no absolute server URL"
    ):
        MCPKit.from_openapi(openapi_spec=document([{"url": "/only/relative"}]))


async def test_client_options_for_the_client_mcpkit_makes(upstream, live_server):
    port = live_server(upstream)
    kwargs = {"headers": {"X-Team": "blue"}, "cookies": {"session": "s1"}}
    mcp = MCPKit.from_openapi(
        openapi_spec=document([{"url": f"http://127.0.0.1:{port}/v1"}]), httpx_client_kwargs=kwargs
    )
    await ping(mcp)
    assert upstream.last.headers["x-team"] == "blue"
    assert upstream.last.headers["cookie"] == "session=s1"
    assert kwargs == {"headers": {"X-Team": "blue"}, "cookies": {"session": "s1"}}  # not modified
    with pytest.raises(ValueError, match="httpx_client_kwargs cannot set base_url; use server_url"):
        MCPKit.from_openapi(
            openapi_spec=document(templated(port)), httpx_client_kwargs={"base_url": "http://x"}
        )
    with pytest.raises(TypeError, match="pass either client= or httpx_client_kwargs="):
        MCPKit.from_openapi(openapi_spec=document([]), client=object(), httpx_client_kwargs={})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"httpx_client_kwargs: .*unexpected keyword argument 'retries'"):
        MCPKit.from_openapi(openapi_spec=document(templated(port)), httpx_client_kwargs={"retries": 3})

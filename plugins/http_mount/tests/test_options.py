"""Bad options fail when the app is built, with a message saying what to do."""

from __future__ import annotations

import httpx
import pytest
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from mcpkit import MCPKit
from mcpkit.plugins import get_plugin_host
from mcpkit_http import HTTPTransport, MCPApp, SSETransport
from plugins.http_mount.tests.raw import INITIALIZE, POST_HEADERS


@pytest.fixture
def mcp() -> MCPKit:
    return MCPKit("options")


def test_transports_come_from_the_mcpkit_http_distribution():
    host = get_plugin_host()
    assert host.transports.get("http") is HTTPTransport
    assert host.transports.get("sse") is SSETransport
    assert {host.transports.registration(name).plugin for name in ("http", "sse")} == {"http"}
    [info] = [p for p in host.plugins if p.name == "http"]
    assert info.distribution == "mcpkit-http"


def test_an_app_carries_routes_and_lifespan(mcp):
    app = mcp.http_app(path="/tools")
    assert isinstance(app, MCPApp)
    assert [route.path for route in app.routes] == ["/tools"]
    assert callable(app.lifespan)
    sse = mcp.http_app(path="/events", transport="sse", message_path="/events/messages/")
    assert [route.path for route in sse.routes] == ["/events", "/events/messages"]


def test_each_transport_has_its_own_default_path(mcp):
    assert [route.path for route in mcp.http_app().routes] == ["/mcp"]
    assert [route.path for route in mcp.http_app(transport="sse").routes] == ["/sse", "/messages"]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (
            {"statless": True},
            TypeError,
            r"does not take 'statless' \(did you mean 'stateless'\?\); valid options:",
        ),
        (
            {"transport": "sse", "json_response": True},
            TypeError,
            "the sse transport does not take 'json_response'",
        ),
        ({"path": "mcp"}, ValueError, r"path must start with '/', got 'mcp' \(did you mean '/mcp'\?\)"),
        ({"path": "/items/{id}"}, ValueError, "plain URL path"),
        ({"path": "/a//b"}, ValueError, "plain URL path"),
        ({"path": "/mcp?x=1"}, ValueError, "plain URL path"),
        ({"path": 7}, TypeError, "path must be a string"),
        ({"transport": "sse", "path": "/m", "message_path": "/m/"}, ValueError, "must differ"),
        ({"port": 70000}, ValueError, "port must be an integer from 0 to 65535"),
        ({"host": ""}, TypeError, "host must be an address"),
        ({"uvicorn_config": {"workers": 2}}, ValueError, r"uvicorn module:app --workers N"),
        ({"uvicorn_config": {"port": 1}}, ValueError, "pass port= to the transport"),
        ({"required_scopes": ["a"]}, ValueError, "required_scopes needs a token_verifier"),
        ({"token_verifier": object()}, TypeError, "verify_token"),
        ({"allowed_hosts": "a.example"}, TypeError, "allowed_hosts takes a list of strings"),
        ({"allowed_hosts": []}, ValueError, "every request would be refused"),
        ({"allowed_origins": [" x"]}, ValueError, "allowed_origins entries must be non-empty strings"),
        (
            {"dns_rebinding_protection": False, "allowed_hosts": ["a"]},
            ValueError,
            "need dns_rebinding_protection",
        ),
        ({"session_idle_timeout": -1}, ValueError, "session_idle_timeout must be a positive"),
        ({"max_request_body_size": 0}, ValueError, "max_request_body_size must be a positive"),
        ({"transport": "sse", "max_request_body_size": 0}, ValueError, "max_request_body_size must be"),
    ],
)
def test_bad_options(mcp, options, error, message):
    with pytest.raises(error, match=message):
        mcp.http_app(**options)


def test_run_rejects_bad_options_before_serving(mcp):
    with pytest.raises(TypeError, match="does not take 'prot'"):
        mcp.run(transport="http", prot=8000)


async def test_session_and_body_limits_reach_the_sdk(serve, server):
    headers = POST_HEADERS
    app = server.http_app(json_response=True, max_sessions=1, max_request_body_size=2000)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
        first = await http.post("/mcp", json=INITIALIZE, headers=headers)
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("application/json")
        assert (await http.post("/mcp", json=INITIALIZE, headers=headers)).status_code == 503
        too_big = {**INITIALIZE, "padding": "x" * 2000}
        assert (await http.post("/mcp", json=too_big, headers=headers)).status_code == 413


async def test_middleware_wraps_the_app(serve, server):
    origin = "http://localhost:5173"
    cors = Middleware(CORSMiddleware, allow_origins=[origin], allow_methods=["POST"], allow_headers=["*"])
    async with serve(server.http_app(middleware=[cors])) as url, httpx.AsyncClient(base_url=url) as http:
        preflight = await http.options(
            "/mcp", headers={"origin": origin, "access-control-request-method": "POST"}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin

"""mcpkit.testing: the fixtures plugin authors enable with ``pytest_plugins = ["mcpkit.testing"]``.

(The example plugin's own tests use them from a conftest.py; tests/test_third_party.py runs those.)
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcpkit import MCPType, hookimpl

pytest_plugins = ["mcpkit.testing"]

DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Echo", "version": "1"},
    "servers": [{"url": "https://echo.example"}],
    "paths": {
        "/echo/{word}": {
            "get": {
                "operationId": "echo",
                "parameters": [
                    {"name": "word", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "The word and where it was asked"}},
            },
            "delete": {"operationId": "forget", "responses": {"204": {"description": "Forgotten"}}},
        }
    },
}


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"word": request.path_params["word"], "url": str(request.url)})


API = Starlette(routes=[Route("/echo/{word}", echo)])


class NoDeletes:
    @hookimpl
    def mcpkit_register_route_mappers(self, register):
        register("no-deletes", lambda route, mcp_type: MCPType.EXCLUDE if route.method == "DELETE" else None)


async def test_a_server_from_a_spec_answered_by_an_app_once_per_protocol_era(
    mcpkit_server, mcpkit_client, request
):
    server = mcpkit_server(DOCUMENT, app=API)
    assert set(server.tools) == {"echo", "forget"}
    async with mcpkit_client(server) as client:
        result = await client.call_tool("echo", {"word": "hi"})
        assert result.data == {"word": "hi", "url": "http://testserver/echo/hi"}
        mode = request.node.callspec.params["mcpkit_client"]
        assert mode in ("legacy", "auto")
        assert (client.protocol_version == "2026-07-28") == (mode == "auto")


async def test_client_options_pass_through(mcpkit_server, mcpkit_client):
    server = mcpkit_server(DOCUMENT, app=API)
    async with mcpkit_client(server, raise_on_error=False) as client:
        refused = await client.call_tool("echo", {"word": 7})
        assert refused.is_error


def test_options_go_to_from_openapi(mcpkit_server, mcpkit_plugins):
    mcpkit_plugins().register(NoDeletes(), name="no-deletes")
    server = mcpkit_server(DOCUMENT, route_mappers=["no-deletes"], name="Echoes")
    assert (server.name, set(server.tools)) == ("Echoes", {"echo"})


def test_plugins_reload_from_the_environment(mcpkit_plugins, monkeypatch):
    host = mcpkit_plugins()
    assert "http" in host.transports
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "mcpkit-http")
    reloaded = mcpkit_plugins()
    assert reloaded is not host
    assert "http" not in reloaded.transports
    assert [s.name for s in reloaded.skipped] == ["http"]

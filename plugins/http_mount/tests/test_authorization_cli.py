"""``mcpkit serve --oauth-*`` (and the ``MCPKIT_OAUTH_*`` settings) serve any source as a protected
resource: a real process, the issuer's keys found through its metadata, a client signing in."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx2
import pytest

from mcpkit import Client
from mcpkit_http.client_auth import authorization_code
from plugins.http_mount.tests.authserver import authorization_server
from plugins.http_mount.tests.test_authorization import challenge, follow
from plugins.http_mount.tests.test_run import free_port, process

MCPKIT = Path(sys.executable).with_name("mcpkit")
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Reports", "version": "1"},
    "servers": [{"url": "http://127.0.0.1:9"}],
    "paths": {
        "/reports": {"get": {"operationId": "list_reports", "responses": {"200": {"description": ""}}}}
    },
}


@pytest.mark.parametrize("configured_by", ["options", "settings"])
async def test_serve_as_a_protected_resource(tmp_path, configured_by):
    (tmp_path / "reports.json").write_text(json.dumps(DOCUMENT))
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    async with authorization_server() as auth_server:
        oauth = {"issuer": auth_server.issuer, "audience": url, "scopes": "reports:read"}
        if configured_by == "options":
            command = [str(MCPKIT), "serve", "reports.json", "--transport", "http", "--port", str(port)]
            command += [arg for name, value in oauth.items() for arg in (f"--oauth-{name}", value)]
        else:
            command = ["env", *(f"MCPKIT_OAUTH_{name.upper()}={value}" for name, value in oauth.items())]
            command += [str(MCPKIT), "serve", "reports.json", "--transport", "http", "--port", str(port)]
        async with process(command, port, tmp_path):
            async with httpx2.AsyncClient() as http:
                refused = await http.post(url, json={})
                metadata = (
                    await http.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp")
                ).json()
            async with Client(url, auth=authorization_code(url, authorize=follow)) as client:
                tools = [tool.name for tool in await client.list_tools()]
    assert refused.status_code == 401
    assert challenge(refused)["scope"] == "reports:read"
    assert metadata["authorization_servers"] == [auth_server.issuer]
    assert metadata["scopes_supported"] == ["reports:read"]
    assert tools == ["list_reports"]
    assert auth_server.requests["metadata"] >= 1  # the server found the JWKS through it
    assert auth_server.requests["jwks"] == 1

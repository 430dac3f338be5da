"""``scopes_from_security=True``: tools generated from operations take the OAuth scopes of their
``security`` requirements, so a server served with authorization shows and runs each only for
tokens holding them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Security
from fastapi.security import OAuth2AuthorizationCodeBearer
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcpkit import Client, MCPKit
from mcpkit_http import Authorization, StaticTokenVerifier
from plugins.http_mount.tests.authserver import serving

OAUTH = {
    "type": "oauth2",
    "flows": {
        "authorizationCode": {
            "authorizationUrl": "https://as.example/authorize",
            "tokenUrl": "https://as.example/token",
            "scopes": {"invoices:read": "", "invoices:write": ""},
        }
    },
}


def operation(operation_id: str, security: Any = None) -> dict[str, Any]:
    found: dict[str, Any] = {"operationId": operation_id, "responses": {"200": {"description": ""}}}
    if security is not None:
        found["security"] = security
    return found


DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "Billing", "version": "1"},
    "security": [{"oauth": ["invoices:read"]}],
    "paths": {
        "/invoices": {
            "get": operation("list_invoices"),
            "post": operation("create_invoice", [{"oauth": ["invoices:write"]}]),
        },
        "/status": {"get": operation("status", [])},
        "/either": {"get": operation("either", [{"oauth": ["invoices:write"]}, {"key": []}])},
    },
    "components": {
        "securitySchemes": {"oauth": OAUTH, "key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
    },
}


def api_client() -> httpx.AsyncClient:
    async def ok(request):
        return JSONResponse({"ok": True})

    api = Starlette(
        routes=[Route(p, ok, methods=["GET", "POST"]) for p in ("/invoices", "/status", "/either")]
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="https://billing.example")


async def listed_and_refused(mcp: MCPKit, token: str, call: str) -> tuple[list[str], str]:
    tokens = StaticTokenVerifier({"reader": ["invoices:read"], "writer": ["invoices:read", "invoices:write"]})

    def build(url: str) -> Any:
        auth = Authorization(
            verifier=tokens, resource=f"{url}/mcp", authorization_servers=["https://as.example"]
        )
        return mcp.http_app(auth=auth)

    async with serving(build) as base, Client(f"{base}/mcp", auth=token, raise_on_error=False) as client:
        listed = sorted(tool.name for tool in await client.list_tools())
        try:
            await client.call_tool(call)
        except Exception as exc:  # the 403 insufficient_scope, as the SDK client reports it
            return listed, f"{type(exc).__name__}: {exc}"
        return listed, "allowed"


async def test_scopes_come_from_the_operations_oauth2_requirements():
    mcp = MCPKit.from_openapi(openapi_spec=DOCUMENT, client=api_client(), scopes_from_security=True)
    assert {name: sorted(tool.scopes) for name, tool in mcp.tools.items()} == {
        "list_invoices": ["invoices:read"],  # the document's default requirement
        "create_invoice": ["invoices:write"],
        "status": [],  # security: [] needs nothing
        "either": [],  # an API key is an alternative: no OAuth scope is needed
    }
    reader, refused = await listed_and_refused(mcp, "reader", "create_invoice")
    writer, allowed = await listed_and_refused(mcp, "writer", "create_invoice")
    assert reader == ["either", "list_invoices", "status"]
    assert refused.startswith("MCPError")  # the guard answered 403 insufficient_scope
    assert writer == ["create_invoice", "either", "list_invoices", "status"]
    assert allowed == "allowed"


def test_without_the_option_no_scopes_are_taken():
    mcp = MCPKit.from_openapi(openapi_spec=DOCUMENT, client=api_client())
    assert all(not tool.scopes for tool in mcp.tools.values())


def test_fastapi_security_scopes_too():
    app = FastAPI()
    bearer = OAuth2AuthorizationCodeBearer(
        authorizationUrl="https://as.example/authorize",
        tokenUrl="https://as.example/token",
        scopes={"reports:read": "", "reports:write": ""},
    )

    @app.delete("/reports/{report_id}", operation_id="delete_report")
    def delete_report(report_id: int, token: str = Security(bearer, scopes=["reports:write"])) -> int:
        return report_id

    mcp = MCPKit.from_fastapi(app, scopes_from_security=True)
    assert sorted(mcp.tools["delete_report"].scopes) == ["reports:write"]


def test_the_option_is_a_known_one():
    with pytest.raises(TypeError, match="scopes_from_security"):
        MCPKit.from_openapi(openapi_spec=DOCUMENT, client=api_client(), scopes_from_securty=True)

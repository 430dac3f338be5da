"""``MCPKit.from_fastapi``: building the server, its options, and clear errors for bad input."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette

from mcpkit import Client, MCPKit, MCPType, MissingPluginError, Resource, RouteMap, Tool


def items_app() -> FastAPI:
    app = FastAPI(title="Items", version="2.1.0")

    @app.get("/items/{item_id}", tags=["items"], summary="Read an item")
    async def get_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/items", tags=["items"], status_code=201)
    async def create_item(name: str) -> dict[str, str]:
        return {"name": name}

    return app


def test_the_server_takes_the_apps_title_and_version_unless_named():
    app = items_app()
    mcp = MCPKit.from_fastapi(app=app)
    assert isinstance(mcp, MCPKit)
    assert mcp.name == "Items"
    assert mcp.lowlevel_server.version == "2.1.0"
    named = MCPKit.from_fastapi(app=app, name="Inventory", version="9", instructions="Use the tools.")
    assert (named.name, named.lowlevel_server.version) == ("Inventory", "9")
    assert named.lowlevel_server.instructions == "Use the tools."


def test_the_apps_document_is_not_modified():
    app = items_app()
    before = copy.deepcopy(app.openapi())
    MCPKit.from_fastapi(app=app, route_maps=[RouteMap(methods=["GET"], mcp_type=MCPType.RESOURCE_TEMPLATE)])
    assert app.openapi() == before


async def test_the_app_is_left_with_its_openapi_cache_as_it_was():
    """FastAPI caches its document on the app; conversion neither leaves one behind nor drops one."""
    app = items_app()
    MCPKit.from_fastapi(app=app)
    assert app.openapi_schema is None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app") as http:
        assert (await http.get("/openapi.json")).json()["info"]["title"] == "Items"
    cached = app.openapi_schema
    assert cached is not None
    MCPKit.from_fastapi(app=app)
    assert app.openapi_schema is cached


async def test_route_maps_route_map_fn_component_fn_and_tags_apply():
    seen = []

    def route_map_fn(route, mcp_type):
        seen.append((route.method, route.path, mcp_type))
        return MCPType.EXCLUDE if route.path == "/health" else None

    def mcp_component_fn(route, component):
        if isinstance(component, Tool):
            component.description = f"[{route.method}] {component.description or ''}"
        return None

    mcp = MCPKit.from_fastapi(
        app=items_app(),
        route_maps=[RouteMap(methods=["POST"], pattern=r"^/items$", mcp_tags={"writes"})],
        route_map_fn=route_map_fn,
        mcp_component_fn=mcp_component_fn,
        tags={"inventory"},
    )
    assert ("GET", "/health", MCPType.TOOL) in seen
    assert sorted(mcp.tools) == ["create_item_items_post", "get_item"]
    create = mcp.tools["create_item_items_post"]
    assert create.tags == {"items", "writes", "inventory"}
    assert create.description is not None
    assert create.description.startswith("[POST]")
    async with Client(mcp) as client:
        assert (await client.call_tool("create_item_items_post", {"name": "bolt"})).data == {"name": "bolt"}


def test_unknown_options_are_refused_with_a_suggestion():
    with pytest.raises(TypeError, match=r"unknown option 'route_map' \(did you mean 'route_maps'\?\)"):
        MCPKit.from_fastapi(app=items_app(), route_map=[])


@pytest.mark.parametrize(
    ("option", "remedy"),
    [
        ("client", "use httpx_client_kwargs= for headers"),
        ("openapi_spec", "convert a document of your own with MCPKit.from_openapi"),
        ("server_url", "httpx_client_kwargs={'base_url': ...}"),
        ("server_variables", "httpx_client_kwargs={'base_url': ...}"),
    ],
)
def test_options_about_another_client_or_document_are_refused(option, remedy):
    with pytest.raises(
        TypeError, match=rf"from_fastapi takes no {option}=: .*in-process; {re.escape(remedy)}"
    ):
        MCPKit.from_fastapi(app=items_app(), **{option: object()})


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (object(), r"needs a FastAPI app instance .*got object"),
        (FastAPI, r"got the class FastAPI"),
        (Starlette(), r"got Starlette\. For another ASGI app, .*MCPKit\.from_openapi"),
    ],
)
def test_an_app_that_is_not_a_fastapi_app_is_refused(app, message):
    with pytest.raises(TypeError, match=message):
        MCPKit.from_fastapi(app=app)


def test_an_app_whose_schema_fails_is_refused_with_the_cause():
    app = FastAPI()

    def broken() -> dict[str, Any]:
        raise RuntimeError("schema generation broke")

    app.openapi = broken  # type: ignore[method-assign]
    with pytest.raises(ValueError, match=r"app\.openapi\(\) failed.*schema generation broke"):
        MCPKit.from_fastapi(app=app)
    app.openapi = lambda: ["not", "a", "document"]  # type: ignore[method-assign]
    with pytest.raises(TypeError, match="must return an OpenAPI document"):
        MCPKit.from_fastapi(app=app)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"transport": httpx.MockTransport(lambda r: httpx.Response(200))},
            ValueError,
            "cannot set transport",
        ),
        ({"app": object()}, ValueError, "cannot set app"),
        ({"verify_everything": True}, TypeError, "httpx_client_kwargs: .*verify_everything"),
    ],
)
def test_httpx_client_kwargs_that_cannot_work_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        MCPKit.from_fastapi(app=items_app(), httpx_client_kwargs=kwargs)
    with pytest.raises(TypeError, match="httpx_client_kwargs must be a mapping"):
        MCPKit.from_fastapi(app=items_app(), httpx_client_kwargs=[("headers", {})])


@pytest.mark.parametrize("timeout", [0, -1, "5", True])
def test_a_timeout_must_be_a_positive_number(timeout):
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        MCPKit.from_fastapi(app=items_app(), timeout=timeout)


def test_without_the_plugin_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "mcpkit-fastapi")
    with pytest.raises(MissingPluginError, match=r"pip install 'mcpkit\[fastapi\]'"):
        MCPKit.from_fastapi(app=items_app())


def test_the_plugin_module_is_cheap_to_import():
    """Discovery imports the plugin in every process: FastAPI, httpx and the OpenAPI plugin wait for a build
    (the kernel's own modules may load)."""
    code = (
        "import sys, json, mcpkit.plugins; before = set(sys.modules); import mcpkit_fastapi.plugin; "
        "print(json.dumps(sorted(m for m in set(sys.modules) - before "
        "if not m.startswith(('mcpkit_fastapi', 'mcpkit.')))))"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(output) == []


async def test_python_tools_and_resources_sit_beside_the_generated_ones():
    mcp = MCPKit.from_fastapi(app=items_app())

    @mcp.tool
    async def double_item(item_id: int) -> int:
        """Read an item through the API and double its id."""
        result = await mcp.call_tool("get_item", {"item_id": item_id})
        return int(result.structured_content["item_id"]) * 2  # type: ignore[index]

    @mcp.resource("items://count")
    def count() -> str:
        return "1"

    async with Client(mcp, mode="legacy") as client:
        names = {tool.name for tool in await client.list_tools()}
        assert names == {"get_item", "health_health_get", "create_item_items_post", "double_item"}
        assert (await client.call_tool("double_item", {"item_id": 21})).data == 42
        assert [r.uri for r in await client.list_resources()] == ["items://count"]
    assert isinstance(mcp.resources["items://count"], Resource)

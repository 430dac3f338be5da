"""The plugin as users meet it: installed, found through its entry point, selected by name."""

from __future__ import annotations

from typing import Any

import pytest
from mcpkit_readonly import read_name, reads_only
from mcpkit_readonly.apps import app_document, starlette_target
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as HTTPRoute

from mcpkit import MCPKit, MCPType, Route, UnknownNameError

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1"},
    "paths": {
        "/pets": {
            "get": {"operationId": "listPets", "responses": {"200": {"description": "The pets"}}},
            "head": {"operationId": "petsExist", "responses": {"200": {"description": "Pets exist"}}},
            "post": {"operationId": "createPet", "responses": {"201": {"description": "Created"}}},
        },
        "/pets/{pet_id}": {
            "parameters": [{"name": "pet_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {"operationId": "showPet", "responses": {"200": {"description": "A pet"}}},
            "delete": {"operationId": "deletePet", "responses": {"204": {"description": "Deleted"}}},
        },
    },
}


async def pets(request: Request) -> Response:
    return JSONResponse([{"id": 1, "name": "Rex"}])


async def pet(request: Request) -> Response:
    return JSONResponse({"id": int(request.path_params["pet_id"]), "name": "Rex"})


API = Starlette(routes=[HTTPRoute("/pets", pets), HTTPRoute("/pets/{pet_id:int}", pet)])


def test_only_reads_are_kept() -> None:
    assert reads_only(Route("GET", "/pets"), MCPType.TOOL) is None
    assert reads_only(Route("head", "/pets"), MCPType.RESOURCE) is None
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert reads_only(Route(method, "/pets"), MCPType.TOOL) is MCPType.EXCLUDE


def test_names_say_what_is_read() -> None:
    assert read_name(Route("GET", "/pets")) == "get_pets"
    assert read_name(Route("GET", "/pets/{pet_id}")) == "get_pets_by_pet_id"
    assert read_name(Route("GET", "/users/{user}/repos/{repo}")) == "get_users_repos_by_user_and_repo"
    assert read_name(Route("GET", "/users/{user}/repos")) == "get_users_repos_by_user"
    assert read_name(Route("HEAD", "/pets")) == "check_pets"
    assert read_name(Route("GET", "/")) == "get_root"
    assert read_name(Route("POST", "/pets", operation_id="createPet")) == "createPet"


@pytest.mark.anyio  # anyio's pytest plugin runs it: any async runner will do
async def test_selected_by_name(mcpkit_server: Any, mcpkit_client: Any) -> None:
    server = mcpkit_server(DOCUMENT, app=API, route_mappers=["readonly"], name_strategy="readonly")
    assert set(server.tools) == {"get_pets", "check_pets", "get_pets_by_pet_id"}
    async with mcpkit_client(server) as client:
        result = await client.call_tool("get_pets_by_pet_id", {"pet_id": 7})
        assert result.data == {"id": 7, "name": "Rex"}


def test_selected_by_the_environment(
    mcpkit_plugins: Any, mcpkit_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPKIT_ROUTE_MAPPERS", "readonly")
    monkeypatch.setenv("MCPKIT_NAME_STRATEGY", "readonly")
    mcpkit_plugins()
    assert set(mcpkit_server(DOCUMENT, app=API).tools) == {"get_pets", "check_pets", "get_pets_by_pet_id"}


def test_found_through_its_entry_point(mcpkit_plugins: Any) -> None:
    host = mcpkit_plugins()
    [plugin] = [p for p in host.plugins if p.name == "readonly"]
    assert plugin.distribution == "mcpkit-readonly"
    assert host.route_mappers.registration("readonly").plugin == "readonly"
    assert host.name_strategies.registration("readonly").plugin == "readonly"


def test_disabled_by_the_environment(
    mcpkit_plugins: Any, mcpkit_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "mcpkit-readonly")
    host = mcpkit_plugins()
    assert "readonly" not in host.route_mappers
    with pytest.raises(UnknownNameError, match="unknown route mapper 'readonly'"):
        mcpkit_server(DOCUMENT, app=API, route_mappers=["readonly"])


@pytest.mark.anyio
async def test_a_starlette_app_is_served_read_only(mcpkit_plugins: Any, mcpkit_client: Any) -> None:
    mcpkit_plugins()
    server = MCPKit.from_source("starlette", app=API)
    assert set(server.tools) == {"pets", "pet"}
    assert all(tool.annotations.read_only_hint for tool in server.tools.values())
    async with mcpkit_client(server) as client:
        assert (await client.call_tool("pet", {"pet_id": 7})).data == {"id": 7, "name": "Rex"}


def test_a_starlette_app_is_claimed_on_the_command_line(mcpkit_plugins: Any) -> None:
    assert "starlette" in mcpkit_plugins().target_resolvers
    target = starlette_target(API)
    assert target is not None
    assert target.kind == "Starlette app"
    assert starlette_target(DOCUMENT) is None
    assert starlette_target("app:app") is None
    pet = app_document(API)["paths"]["/pets/{pet_id}"]["get"]
    assert pet["parameters"] == [
        {"name": "pet_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]

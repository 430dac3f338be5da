"""The ``fastapi`` name strategy: short names for FastAPI's generated ids, explicit ids kept exactly."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from mcpkit import MCPKit, Route, Settings
from mcpkit.plugins import get_plugin_host
from mcpkit_fastapi.naming import fastapi_name_strategy, generated_function_name


def shop() -> FastAPI:
    app = FastAPI()

    @app.get("/products")
    def list_products() -> list[int]:
        return []

    @app.post("/products")
    def create_product() -> int:
        return 1

    @app.get("/products/{product_id}")
    def get_product(product_id: int) -> int:
        return product_id

    @app.get("/products/{product_id}/reviews/{review_id}")
    def get_review(product_id: int, review_id: int) -> int:
        return review_id

    @app.delete("/products/{product_id}", operation_id="remove_product")
    def delete_product(product_id: int) -> None:
        return None

    admin = APIRouter(prefix="/admin/{shop_id}")

    @admin.get("/products/{product_id}")
    def get_product_admin(shop_id: int, product_id: int) -> int:
        return product_id

    app.include_router(admin)
    return app


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "name"),
    [
        ("GET", "/products/{product_id}", "get_product_products__product_id__get", "get_product"),
        ("PUT", "/a/{id}/b-c/{x}", "update_a__id__b_c__x__put", "update"),
        ("GET", "/products", "list_products_products_get", "list_products_products_get"),
        ("GET", "/products/{product_id}", "get_product", "get_product"),
        ("GET", "/products/{product_id}", "products-get_product", "products-get_product"),
        # FastAPI spells the id of a many-method route with one method for all of them.
        ("POST", "/items/{item_id}", "item_items__item_id__get", "item"),
        ("GET", "/{path}", None, "get_path"),
    ],
)
def test_strategy_shortens_only_generated_ids_of_paths_with_parameters(method, path, operation_id, name):
    assert fastapi_name_strategy(Route(method, path, operation_id=operation_id)) == name


def test_generated_function_name_needs_the_generated_shape():
    assert generated_function_name(Route("GET", "/x/{id}", operation_id="read_x__id__get")) == "read"
    assert generated_function_name(Route("GET", "/x/{id}", operation_id="_x__id__get")) is None
    assert generated_function_name(Route("GET", "/x/{id}", operation_id="read_x_get")) is None


def test_the_ids_fastapi_makes_become_the_documented_names():
    app = shop()
    ids = {route.name: route.unique_id for route in app.routes if isinstance(route, APIRoute)}
    assert ids["get_product"] == "get_product_products__product_id__get"  # what the rule relies on

    mcp = MCPKit.from_fastapi(app=app)

    assert sorted(mcp.tools) == [
        "create_product_products_post",
        "get_product",
        "get_product_admin",
        "get_review",
        "list_products_products_get",
        "remove_product",
    ]


def test_mcp_names_override_and_collisions_stay_unique():
    app = FastAPI()

    @app.get("/a/{item_id}")
    def get_item(item_id: int) -> int:
        return item_id

    b = APIRouter()

    @b.get("/b/{item_id}", name="get_item")
    def get_item_b(item_id: int) -> int:
        return item_id

    app.include_router(b)

    assert sorted(MCPKit.from_fastapi(app=app).tools) == ["get_item", "get_item_2"]
    renamed = MCPKit.from_fastapi(app=app, mcp_names={"get_item_b__item_id__get": "get_b_item"})
    assert sorted(renamed.tools) == ["get_b_item", "get_item"]


def test_another_strategy_can_be_chosen_by_option_or_settings(monkeypatch):
    app = shop()
    long_names = {"get_product_products__product_id__get", "remove_product"}

    assert long_names <= set(MCPKit.from_fastapi(app=app, name_strategy="default").tools)
    assert long_names <= set(MCPKit.from_fastapi(app=app, settings=Settings(name_strategy="default")).tools)
    monkeypatch.setenv("MCPKIT_NAME_STRATEGY", "default")
    assert long_names <= set(MCPKit.from_fastapi(app=app).tools)
    assert "get_product" in MCPKit.from_fastapi(app=app, name_strategy="fastapi").tools


def test_strategy_is_registered_through_the_hook_and_usable_by_openapi_sources():
    registration = get_plugin_host().name_strategies.registration("fastapi")
    assert registration.plugin == "fastapi"
    document = shop().openapi()
    mcp = MCPKit.from_openapi(
        openapi_spec=document, client=httpx.AsyncClient(base_url="http://x"), name_strategy="fastapi"
    )
    assert "get_review" in mcp.tools

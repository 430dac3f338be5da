"""The shop's API as an MCP server: every endpoint a tool, the app called in-process."""

from __future__ import annotations

from fastapi import FastAPI

from examples.ecommerce.app import DEFAULT_ADMIN_TOKEN, create_app
from mcpkit import MCPKit

INSTRUCTIONS = (
    "Tools of a small shop. Browse and search products (list_products_products_get filters by "
    "category and max_price), create, update and delete them, manage pictures and reviews, and read "
    "the staff figures (store_stats)."
)


def create_server(
    app: FastAPI | None = None, *, database: str = ":memory:", admin_token: str | None = DEFAULT_ADMIN_TOKEN
) -> MCPKit:
    """The MCP server for ``app`` (default: ``create_app(database)``).

    ``admin_token`` is sent as a bearer token with every request, so the staff endpoints answer;
    ``None`` sends none.
    """
    if app is None:
        app = create_app(database, admin_token=admin_token or DEFAULT_ADMIN_TOKEN)
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    return MCPKit.from_fastapi(
        app=app,
        name="E-commerce MCP",
        instructions=INSTRUCTIONS,
        httpx_client_kwargs={"headers": headers},
        timeout=30.0,
    )

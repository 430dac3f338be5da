"""The shop's REST API (FastAPI): products, product images, reviews, and staff figures.

``create_app(database)`` builds it; the store opens when the app starts (its lifespan) and reaches
the endpoints through the lifespan state (``request.state.store``). ``app`` is one built from the
environment (``ECOMMERCE_DATABASE``, default in memory; ``ECOMMERCE_ADMIN_TOKEN``), so
``uvicorn examples.ecommerce.app:app`` serves it over HTTP.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, Response, UploadFile, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from examples.ecommerce.models import Category, Product, ProductIn, ProductUpdate, Review, Stats
from examples.ecommerce.store import Store

DATABASE_ENV = "ECOMMERCE_DATABASE"
ADMIN_TOKEN_ENV = "ECOMMERCE_ADMIN_TOKEN"
DEFAULT_ADMIN_TOKEN = "secret-token"
"""The demo's admin token; set ``ECOMMERCE_ADMIN_TOKEN`` for anything but a demo."""
MAX_IMAGE_BYTES = 1_000_000

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such product"}}


async def get_store(request: Request) -> Store:
    """The store opened by the app's lifespan (async: no worker thread needed to fetch it)."""
    store: Store = request.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]
bearer = HTTPBearer(description="The staff's admin token")
AdminCredentials = Annotated[HTTPAuthorizationCredentials, Depends(bearer)]


def create_app(
    database: str = ":memory:", *, admin_token: str = DEFAULT_ADMIN_TOKEN, seed: bool = True
) -> FastAPI:
    """The API over the SQLite database at ``database`` (``":memory:"``: a fresh one per app start).

    ``seed`` adds sample products to an empty database. ``admin_token`` is the bearer token of the
    staff endpoints.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        store = Store(database)
        if seed:
            store.seed()
        try:
            yield {"store": store}
        finally:
            store.close()

    def require_admin(credentials: AdminCredentials) -> None:
        if not secrets.compare_digest(credentials.credentials.encode(), admin_token.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Invalid admin token")

    app = FastAPI(
        title="E-commerce API",
        version="1.0.0",
        description="A small shop: products, images, reviews and staff figures, stored in SQLite.",
        lifespan=lifespan,
    )

    @app.get("/products", tags=["products"])
    def list_products(
        store: StoreDep,
        category: Category | None = None,
        max_price: Annotated[float | None, Query(gt=0, description="Highest price, in euros")] = None,
    ) -> list[Product]:
        """List products, cheapest first, optionally of one category and up to a price."""
        return store.list_products(category, max_price)

    @app.get("/products/{product_id}", tags=["products"], responses=NOT_FOUND)
    def get_product(product_id: int, store: StoreDep) -> Product:
        """Get one product by id."""
        return _found(store.get(product_id), product_id)

    @app.post("/products", status_code=status.HTTP_201_CREATED, tags=["products"])
    def create_product(product: ProductIn, store: StoreDep) -> Product:
        """Add a product to the catalogue."""
        return store.create(product)

    @app.patch("/products/{product_id}", tags=["products"], responses=NOT_FOUND)
    def update_product(product_id: int, changes: ProductUpdate, store: StoreDep) -> Product:
        """Change some fields of a product (the others stay as they are)."""
        return _found(store.update(product_id, changes.model_dump(exclude_unset=True)), product_id)

    @app.delete(
        "/products/{product_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        tags=["products"],
        responses=NOT_FOUND,
    )
    def delete_product(product_id: int, store: StoreDep) -> None:
        """Remove a product and its reviews."""
        if not store.delete(product_id):
            raise _not_found(product_id)

    @app.put(
        "/products/{product_id}/image",
        tags=["images"],
        responses={
            **NOT_FOUND,
            413: {"description": "Image too large"},
            415: {"description": "Not an image"},
        },
    )
    async def upload_product_image(product_id: int, image: UploadFile, store: StoreDep) -> Product:
        """Upload the product's picture (an image file of at most 1 MB)."""
        if not (image.content_type or "").startswith("image/"):
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail="The file must be an image")
        content = await image.read(MAX_IMAGE_BYTES + 1)
        if len(content) > MAX_IMAGE_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="The image exceeds 1 MB")
        assert image.content_type is not None
        return _found(store.set_image(product_id, content, image.content_type), product_id)

    @app.get(
        "/products/{product_id}/image",
        tags=["images"],
        response_class=Response,
        responses={200: {"content": {"image/*": {}}, "description": "The picture"}, **NOT_FOUND},
    )
    def get_product_image(product_id: int, store: StoreDep) -> Response:
        """Download the product's picture."""
        image = store.image(product_id)
        if image is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Product {product_id} has no image")
        return Response(content=image[0], media_type=image[1])

    @app.post(
        "/products/{product_id}/reviews",
        status_code=status.HTTP_201_CREATED,
        tags=["reviews"],
        responses=NOT_FOUND,
    )
    def add_review(
        product_id: int,
        rating: Annotated[int, Form(ge=1, le=5, description="From 1 (poor) to 5 (excellent)")],
        comment: Annotated[str, Form(min_length=1, max_length=500)],
        store: StoreDep,
    ) -> Review:
        """Review a product (sent as a form, like the shop's web page does)."""
        review = store.add_review(product_id, rating, comment)
        if review is None:
            raise _not_found(product_id)
        return review

    @app.get(
        "/admin/stats", operation_id="store_stats", tags=["admin"], dependencies=[Depends(require_admin)]
    )
    def store_stats(store: StoreDep) -> Stats:
        """Figures for the shop's staff: products, stock, reviews. Needs the admin token."""
        return store.stats()

    return app


def _not_found(product_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"Product {product_id} not found")


def _found(product: Product | None, product_id: int) -> Product:
    if product is None:
        raise _not_found(product_id)
    return product


app = create_app(
    os.environ.get(DATABASE_ENV, ":memory:"),
    admin_token=os.environ.get(ADMIN_TOKEN_ENV, DEFAULT_ADMIN_TOKEN),
)

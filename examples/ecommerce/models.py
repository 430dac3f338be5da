"""The API's data models (pydantic): what clients send and what they get back."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field


class Category(StrEnum):
    """The shop's departments."""

    ELECTRONICS = "electronics"
    BOOKS = "books"
    HOME = "home"
    CLOTHING = "clothing"


class ProductIn(BaseModel):
    """A product as clients create it."""

    name: Annotated[str, Field(min_length=1, max_length=100, description="What the product is called")]
    category: Category
    price: Annotated[float, Field(gt=0, description="Price in euros")]
    stock: Annotated[int, Field(ge=0, description="Units in stock")] = 0
    description: Annotated[str | None, Field(max_length=1000)] = None


class Product(ProductIn):
    """A product of the catalogue."""

    id: int
    has_image: bool = False


class ProductUpdate(BaseModel):
    """Changes to a product: only the fields given change."""

    name: Annotated[str | None, Field(min_length=1, max_length=100)] = None
    category: Category | None = None
    price: Annotated[float | None, Field(gt=0)] = None
    stock: Annotated[int | None, Field(ge=0)] = None
    description: Annotated[str | None, Field(max_length=1000)] = None


class Review(BaseModel):
    """A customer's review of a product."""

    id: int
    product_id: int
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: str


class Stats(BaseModel):
    """Figures for the shop's staff."""

    product_count: int
    units_in_stock: int
    stock_value: float
    products_per_category: dict[str, int]
    review_count: int
    average_rating: float | None

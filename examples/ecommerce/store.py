"""The shop's data in SQLite (stdlib ``sqlite3``): products, their images and reviews.

One connection per store, shared by the API's worker threads and serialised by a lock. ``":memory:"``
(the default) keeps everything in memory for the life of the store; a file path keeps it on disk.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from examples.ecommerce.models import Category, Product, ProductIn, Review, Stats

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price REAL NOT NULL CHECK (price > 0),
    stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    description TEXT,
    image BLOB,
    image_type TEXT
);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS products_by_category ON products (category, price);
"""

SAMPLE_PRODUCTS = [
    ProductIn(name="Mechanical keyboard", category=Category.ELECTRONICS, price=89.0, stock=25),
    ProductIn(name="Wireless mouse", category=Category.ELECTRONICS, price=29.5, stock=60),
    ProductIn(name="4K monitor", category=Category.ELECTRONICS, price=349.0, stock=8),
    ProductIn(name="USB-C hub", category=Category.ELECTRONICS, price=45.0, stock=40),
    ProductIn(name="Designing Data-Intensive Applications", category=Category.BOOKS, price=42.0, stock=15),
    ProductIn(name="The Pragmatic Programmer", category=Category.BOOKS, price=38.0, stock=12),
    ProductIn(name="Desk lamp", category=Category.HOME, price=34.0, stock=20),
    ProductIn(name="Hoodie", category=Category.CLOTHING, price=55.0, stock=30),
]

_COLUMNS = "id, name, category, price, stock, description, image IS NOT NULL AS has_image"


class Store:
    """Products, images and reviews in one SQLite database."""

    def __init__(self, database: str = ":memory:") -> None:
        self.database = database
        self._lock = threading.Lock()
        self._db = sqlite3.connect(database, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock, self._db:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def seed(self, products: Iterable[ProductIn] = SAMPLE_PRODUCTS) -> None:
        """Add ``products`` if the store has none yet."""
        with self._lock, self._db:
            if self._db.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 0:
                self._db.executemany(
                    "INSERT INTO products (name, category, price, stock, description) VALUES (?, ?, ?, ?, ?)",
                    [(p.name, p.category.value, p.price, p.stock, p.description) for p in products],
                )

    def list_products(
        self, category: Category | None = None, max_price: float | None = None
    ) -> list[Product]:
        """Products, cheapest first, optionally of one category and at most ``max_price``."""
        query = f"SELECT {_COLUMNS} FROM products WHERE 1 = 1"
        values: list[Any] = []
        if category is not None:
            query += " AND category = ?"
            values.append(category.value)
        if max_price is not None:
            query += " AND price <= ?"
            values.append(max_price)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY price, id", values).fetchall()
        return [_product(row) for row in rows]

    def get(self, product_id: int) -> Product | None:
        """One product, or ``None``."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM products WHERE id = ?", (product_id,)).fetchone()
        return None if row is None else _product(row)

    def create(self, product: ProductIn) -> Product:
        """Add a product; returns it with its id."""
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO products (name, category, price, stock, description) VALUES (?, ?, ?, ?, ?)",
                (product.name, product.category.value, product.price, product.stock, product.description),
            )
            product_id = cursor.lastrowid
        assert product_id is not None
        created = self.get(product_id)
        assert created is not None
        return created

    def update(self, product_id: int, changes: Mapping[str, Any]) -> Product | None:
        """Change some fields of a product; ``None`` if there is no such product."""
        allowed = {"name", "category", "price", "stock", "description"}
        assignments = {key: value for key, value in changes.items() if key in allowed}
        if assignments:
            columns = ", ".join(f"{key} = ?" for key in assignments)
            values = [getattr(value, "value", value) for value in assignments.values()]
            with self._lock, self._db:
                self._db.execute(f"UPDATE products SET {columns} WHERE id = ?", [*values, product_id])
        return self.get(product_id)

    def delete(self, product_id: int) -> bool:
        """Remove a product (and its reviews); whether it existed."""
        with self._lock, self._db:
            return self._db.execute("DELETE FROM products WHERE id = ?", (product_id,)).rowcount > 0

    def set_image(self, product_id: int, content: bytes, content_type: str) -> Product | None:
        """Store the product's image; ``None`` if there is no such product."""
        with self._lock, self._db:
            self._db.execute(
                "UPDATE products SET image = ?, image_type = ? WHERE id = ?",
                (content, content_type, product_id),
            )
        return self.get(product_id)

    def image(self, product_id: int) -> tuple[bytes, str] | None:
        """The product's image and its media type, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT image, image_type FROM products WHERE id = ? AND image IS NOT NULL", (product_id,)
            ).fetchone()
        return None if row is None else (bytes(row["image"]), str(row["image_type"]))

    def add_review(self, product_id: int, rating: int, comment: str) -> Review | None:
        """Add a review; ``None`` if there is no such product."""
        if self.get(product_id) is None:
            return None
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO reviews (product_id, rating, comment) VALUES (?, ?, ?)",
                (product_id, rating, comment),
            )
        assert cursor.lastrowid is not None
        return Review(id=cursor.lastrowid, product_id=product_id, rating=rating, comment=comment)

    def stats(self) -> Stats:
        """Figures for the shop's staff."""
        with self._lock:
            count, units, value = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(stock), 0), COALESCE(SUM(stock * price), 0) FROM products"
            ).fetchone()
            per_category = self._db.execute(
                "SELECT category, COUNT(*) FROM products GROUP BY category ORDER BY category"
            ).fetchall()
            reviews, rating = self._db.execute("SELECT COUNT(*), AVG(rating) FROM reviews").fetchone()
        return Stats(
            product_count=count,
            units_in_stock=units,
            stock_value=round(value, 2),
            products_per_category={row[0]: row[1] for row in per_category},
            review_count=reviews,
            average_rating=None if rating is None else round(rating, 2),
        )


def _product(row: sqlite3.Row) -> Product:
    return Product(
        id=row["id"],
        name=row["name"],
        category=Category(row["category"]),
        price=row["price"],
        stock=row["stock"],
        description=row["description"],
        has_image=bool(row["has_image"]),
    )

"""The bundled example: a shop's REST API (FastAPI + SQLite) served as an MCP server.

- :mod:`examples.ecommerce.app`: the API (``create_app``), a real service with its own lifespan;
- :mod:`examples.ecommerce.server`: the MCP server made from it (``create_server``);
- ``python -m examples.ecommerce``: serve it over stdio, or ``--transport http``.
"""

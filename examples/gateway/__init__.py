"""A gateway: a shop (FastAPI), a museum (an OpenAPI document, with credentials) and a notebook (a
remote MCP server, proxied) behind one discovery endpoint. ``python -m examples.gateway``."""

"""Serve the shop as an MCP server: ``python -m examples.ecommerce [--transport http] [...]``.

stdio by default (what desktop clients launch); ``--transport http`` (Streamable HTTP at ``/mcp``)
or ``sse`` need ``mcpkit[http]``. Logs go to standard error.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence

from examples.ecommerce.app import ADMIN_TOKEN_ENV, DATABASE_ENV, DEFAULT_ADMIN_TOKEN
from examples.ecommerce.server import create_server


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.ecommerce", description="Serve the example shop as an MCP server."
    )
    parser.add_argument(
        "--transport", choices=["stdio", "http", "sse"], default="stdio", help="default: stdio"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (http, sse)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (http, sse)")
    parser.add_argument(
        "--database",
        default=os.environ.get(DATABASE_ENV, ":memory:"),
        help=f"SQLite file of the shop (default: ${DATABASE_ENV}, else in memory)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    server = create_server(
        database=args.database, admin_token=os.environ.get(ADMIN_TOKEN_ENV, DEFAULT_ADMIN_TOKEN)
    )
    if args.transport == "stdio":
        server.run()
    else:
        server.run(transport=args.transport, host=args.host, port=args.port)


if __name__ == "__main__":
    main()

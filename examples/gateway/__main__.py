"""Run the gateway: ``python -m examples.gateway [--host H] [--port N]``.

It starts the museum's stand-in API and the notebook MCP server on free loopback ports, then serves
the gateway over Streamable HTTP at ``http://H:N/mcp`` until Ctrl+C (or SIGTERM). The museum's
credentials come from ``MUSEUM_USER`` and ``MUSEUM_PASSWORD`` (demo values otherwise).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

import anyio

from examples.gateway.server import running


async def serve(host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with running(host, port) as gateway:
            print(f"gateway: {gateway.url}", file=sys.stderr, flush=True)
            async for _ in signals:
                break


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.gateway",
        description="Serve a shop, a museum API and a notebook MCP server behind one endpoint.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000; 0: any free)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    anyio.run(serve, args.host, args.port)


if __name__ == "__main__":
    main()

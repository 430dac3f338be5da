"""What the built-in MCP middleware costs: an in-memory call of a trivial async tool (bench/floor.py's),
through no middleware, each built-in alone, and all of them.

    python bench/middleware.py [--calls 3000] [--rounds 5] [--json]

The tool is read-only, so the result cache answers every call but the first (its row is the cost of
a hit); the rate limit never refuses (its bucket is large). The log records go to a logger without
handlers above INFO (formatted nowhere), the spans to OpenTelemetry's no-op tracer (no SDK set up):
the costs a deployment that has not switched them on pays. Figures are medians of all calls of the
alternating rounds, with the overhead over no middleware.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from floor import Sum, measure  # bench/floor.py: a script's folder is first on sys.path
from mcp.server import Server

from mcpkit import MCPKit
from mcpkit.middleware_cache import ResultCache
from mcpkit.middleware_errors import ErrorHandling
from mcpkit.middleware_logging import RequestLogging
from mcpkit.middleware_otel import Tracing
from mcpkit.middleware_ratelimit import RateLimit

STACKS: dict[str, Callable[[], list[object]]] = {
    "none": list,
    "RequestLogging": lambda: [RequestLogging()],
    "RateLimit": lambda: [RateLimit(rate=1e9, burst=1e9)],
    "ResultCache (hits)": lambda: [ResultCache(ttl=3600)],
    "ErrorHandling": lambda: [ErrorHandling()],
    "Tracing (no SDK)": lambda: [Tracing()],
    "all five": lambda: [
        ErrorHandling(),
        RequestLogging(),
        Tracing(),
        RateLimit(rate=1e9, burst=1e9),
        ResultCache(ttl=3600),
    ],
}


def server(middleware: list[object]) -> Server[Any]:
    """bench/floor.py's tool, read-only, behind ``middleware``."""
    mcp = MCPKit("bench", middleware=middleware)

    @mcp.tool(annotations=types.ToolAnnotations(read_only_hint=True))
    async def add(a: int, b: int) -> Sum:
        return Sum(sum=a + b)

    return mcp.lowlevel_server


def run(calls: int, rounds: int) -> dict[str, dict[str, float]]:
    """Median microseconds per call of each stack (2026-07-28 client), and the overhead over none."""
    logging.getLogger("mcpkit.requests").setLevel(logging.WARNING)
    samples: dict[str, list[float]] = {name: [] for name in STACKS}
    for _ in range(rounds):
        for name, make in STACKS.items():
            samples[name] += anyio.run(measure, server(make()), "auto", calls)
    base = statistics.median(samples["none"]) * 1e6
    results = {}
    for name in STACKS:
        median = statistics.median(samples[name]) * 1e6
        results[name] = {"us": median, "overhead_us": median - base}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    results = run(options.calls, options.rounds)
    if options.json:
        print(json.dumps(results))
        return
    print("| middleware | median per call | overhead |")
    print("|---|---|---|")
    for name, row in results.items():
        print(f"| {name} | {row['us']:.0f} us | {row['overhead_us']:+.0f} us |")


if __name__ == "__main__":
    main()

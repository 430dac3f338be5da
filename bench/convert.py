"""Conversion benchmark: every corpus document, both OpenAPI parsers, each run in a fresh process.

    python bench/convert.py [--rounds 3] [--corpus tests/corpus] [--fastmcp] [document ...]

Per document and parser (and FastMCP 4.1.6's ``from_openapi`` with ``--fastmcp``, in the peer
environment of bench/peers.py; bench/run.py runs it beside mcpkit in every run) it prints the
medians over the rounds of: build time (``from_openapi`` from the file; imports and plugin discovery
happen before the clock starts), first ``tools/list`` time and repeated ``tools/list`` time (through
the in-memory client, so they include the client's own validation of the listing), peak memory of
the process (max RSS, interpreter and imports included), and the size of the listing in bytes.
Targets (SPEC.md, experimental parser): github build + first list < 0.5 s and < 250 MB; stripe < 1.5 s
and < 400 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import peers  # bench/peers.py: a script's folder is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "tests" / "corpus"
PARSERS = ("legacy", "experimental")
PEER = "fastmcp"
REPEATED_BUDGET = 10.0
TARGETS = {"github-api.github.com.json": (0.5, 250), "stripe-spec3.yaml": (1.5, 400)}


Connect = Callable[[Any], AbstractAsyncContextManager[Any]]
ListTools = Callable[[Any], Awaitable[Any]]


def _mcpkit(document: str, parser: str) -> tuple[Callable[[], Any], Connect, ListTools]:
    """mcpkit: ``from_openapi`` reads the file itself; listed with ``mcpkit.Client.list_tools`` (the
    SPEC's in-memory client: every page, the collector paused while a page is read)."""
    import httpx

    from mcpkit import Client, MCPKit
    from mcpkit.plugins import get_plugin_host

    assert "openapi" in get_plugin_host().sources  # plugin discovery is start-up, like imports: not timed
    client = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # created outside the timing: TLS setup

    def build() -> Any:
        return MCPKit.from_openapi(openapi_spec=document, client=client, parser=parser)

    async def list_tools(connection: Any) -> Any:
        import mcp_types

        # every page is in the list: the result has no cursor
        return mcp_types.ListToolsResult.model_construct(tools=await connection.list_tools())

    return build, Client, list_tools


def _fastmcp(document: str) -> tuple[Callable[[], Any], Connect, ListTools]:
    """FastMCP 4.1.6: ``from_openapi`` takes a dict, so its build includes loading the file (YAML with
    the C loader); listed through ``fastmcp.Client`` (no client-side cache by default)."""
    import httpx2
    import yaml
    from fastmcp import Client, FastMCP

    client = httpx2.AsyncClient(base_url="http://127.0.0.1:9")

    def build() -> Any:
        text = Path(document).read_bytes()
        spec = json.loads(text) if document.endswith(".json") else yaml.load(text, Loader=yaml.CSafeLoader)
        return FastMCP.from_openapi(openapi_spec=spec, client=client)

    async def list_tools(connection: Any) -> Any:
        return await connection.list_tools_mcp()

    return build, Client, list_tools


def peak_mb() -> float:
    """This process's peak resident set size in MB (``VmHWM``).

    Not ``ru_maxrss``: on Linux that keeps the high-water mark of the process before ``exec``, so a
    child started by a big parent reports the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(build: Callable[[], Any], connect: Connect, list_tools: ListTools) -> dict[str, Any]:
    """Build a server, then list its tools in memory: once, then up to five times more (median), as
    long as these took less than ``REPEATED_BUDGET`` seconds (FastMCP lists stripe in ~25 s).

    The harness of every fresh-process measurement of a server's build (here and bench/fastapi_build.py):
    imports and client setup happen before, and the memory they take is reported apart (``imports_mb``).
    """
    import anyio

    imported = peak_mb()
    started = time.perf_counter()
    mcp = build()
    built = time.perf_counter() - started

    async def listings() -> tuple[float, list[float], int, int]:
        async with connect(mcp) as client:
            started = time.perf_counter()
            result = await list_tools(client)
            first = time.perf_counter() - started
            cursor = getattr(result, "next_cursor", getattr(result, "nextCursor", None))
            assert cursor is None, "a paginated listing: only its first page was measured"
            repeated: list[float] = []
            while len(repeated) < 5 and sum(repeated) < REPEATED_BUDGET:
                started = time.perf_counter()
                await list_tools(client)
                repeated.append(time.perf_counter() - started)
        size = len(result.model_dump_json(by_alias=True, exclude_none=True))
        return first, repeated, size, len(result.tools)

    first, repeated, size, tools = anyio.run(listings)
    peak = peak_mb()
    return {
        "build": built,
        "first_list": first,
        "repeated_list": statistics.median(repeated),
        "peak_mb": peak,
        "imports_mb": imported,
        "list_bytes": size,
        "tools": tools,
    }


def measure(document: str, system: str) -> dict[str, Any]:
    """One fresh-process measurement (run as ``convert.py --one DOCUMENT SYSTEM``)."""
    return timed(*(_fastmcp(document) if system == PEER else _mcpkit(document, system)))


def operations(document: Path) -> int:
    """Operations under ``paths`` (the eight HTTP methods), as the corpus MANIFEST counts them."""
    import yaml

    text = document.read_bytes()
    spec = json.loads(text) if document.suffix == ".json" else yaml.load(text, Loader=yaml.CSafeLoader)
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(
        1 for item in spec.get("paths", {}).values() if isinstance(item, dict) for m in item if m in methods
    )


def run(document: Path, system: str, timeout: float = 900) -> dict[str, Any]:
    """Measure ``document`` with ``system`` (a parser of mcpkit, or ``fastmcp``) in a fresh process."""
    python = str(peers.peer_python("fastmcp")) if system == PEER else sys.executable
    output = subprocess.run(
        [python, __file__, "--one", str(document), system],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"{document.name} ({system}) failed:\n{output.stderr}")
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def main() -> None:
    options = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument("documents", nargs="*", help="document names in the corpus (default: all)")
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    options.add_argument("--fastmcp", action="store_true", help="measure FastMCP's from_openapi too")
    options.add_argument("--one", nargs=2, metavar=("DOCUMENT", "SYSTEM"), help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return
    names = args.documents or sorted(
        p.name for p in args.corpus.iterdir() if p.suffix in (".json", ".yaml", ".yml")
    )
    header = (
        f"{'document':<32} {'parser':<12} {'tools':>5} {'build s':>8} {'1st list s':>10} "
        f"{'build+list':>10} {'again ms':>8} {'peak MB':>8} {'list MB':>8}  target"
    )
    print(f"{args.rounds} rounds, medians, each measurement in a fresh process\n")
    print(header)
    print("-" * len(header))
    for name in names:
        for parser in (*PARSERS, PEER) if args.fastmcp else PARSERS:
            rounds = [run(args.corpus / name, parser) for _ in range(args.rounds)]

            def median(key: str, rounds: list[dict[str, Any]] = rounds) -> float:
                return statistics.median(r[key] for r in rounds)

            total = median("build") + median("first_list")
            verdict = ""
            if name in TARGETS and parser == "experimental":
                seconds, megabytes = TARGETS[name]
                met = total < seconds and median("peak_mb") < megabytes
                verdict = f"< {seconds} s, < {megabytes} MB: {'met' if met else 'MISSED'}"
            print(
                f"{name:<32} {parser:<12} {rounds[0]['tools']:>5} {median('build'):>8.3f} "
                f"{median('first_list'):>10.3f} {total:>10.3f} {median('repeated_list') * 1000:>8.1f} "
                f"{median('peak_mb'):>8.0f} {median('list_bytes') / 1e6:>8.2f}  {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()

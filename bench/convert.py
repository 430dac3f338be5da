"""Conversion benchmark: every corpus document, both OpenAPI parsers, each run in a fresh process.

    python bench/convert.py [--rounds 3] [--corpus ../shared/corpus] [document ...]

Per document and parser it prints the medians over the rounds of: build time (``from_openapi`` from
the file; imports and plugin discovery happen before the clock starts), first ``tools/list`` time
and repeated ``tools/list`` time (through the in-memory SDK client, so they include the client's own
validation of the listing),
peak memory of the process (max RSS, interpreter included), and the size of the listing in bytes.
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
from pathlib import Path
from typing import Any

# bench/http.py would shadow the standard library's http module when this folder is on sys.path.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
PARSERS = ("legacy", "experimental")
TARGETS = {"github-api.github.com.json": (0.5, 250), "stripe-spec3.yaml": (1.5, 400)}


def measure(document: str, parser: str) -> dict[str, Any]:
    """One fresh-process measurement (run as ``convert.py --one DOCUMENT PARSER``)."""
    import resource

    import anyio
    import httpx

    from mcpkit import Client, MCPKit
    from mcpkit.plugins import get_plugin_host

    assert "openapi" in get_plugin_host().sources  # plugin discovery is start-up, like imports: not timed
    client = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # created outside the timing: TLS setup
    started = time.perf_counter()
    mcp = MCPKit.from_openapi(openapi_spec=document, client=client, parser=parser)
    build = time.perf_counter() - started

    async def listings() -> tuple[float, list[float], int]:
        async with Client(mcp) as client:
            started = time.perf_counter()
            result = await client.session.list_tools()
            first = time.perf_counter() - started
            repeated = []
            for _ in range(5):
                started = time.perf_counter()
                await client.session.list_tools()
                repeated.append(time.perf_counter() - started)
        size = len(result.model_dump_json(by_alias=True, exclude_none=True))
        return first, repeated, size

    first, repeated, size = anyio.run(listings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "build": build,
        "first_list": first,
        "repeated_list": statistics.median(repeated),
        "peak_mb": peak,
        "list_bytes": size,
        "tools": len(mcp.tools),
    }


def run(document: Path, parser: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--one", str(document), parser],
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"{document.name} ({parser}) failed:\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    options = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument("documents", nargs="*", help="document names in the corpus (default: all)")
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    options.add_argument("--one", nargs=2, metavar=("DOCUMENT", "PARSER"), help=argparse.SUPPRESS)
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
        for parser in PARSERS:
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

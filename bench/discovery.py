"""Discovery search quality and speed: mcpkit beside FastMCP's BM25SearchTransform, same tasks, same run.

    python bench/discovery.py

The tasks (bench/discovery_tasks.json) are things a user would ask, written for this benchmark (not
copied from the documents), each with the operations that answer it. The ``development`` tasks were
used while the ranking (and its synonyms) was built; the ``held_out`` tasks were written afterwards,
over other documents, and never used for tuning: their score is the honest one. Each system gets every task
through its own ``search_tools`` tool, called with the in-memory client, top 10 results; printed:
recall@5 (a right operation among the first five), mean reciprocal rank, median time of one
``search_tools`` call, and the size of the discovery listing. Targets: recall@5 >= 0.9, median search
under 20 ms on github, listing under 2 KB. FastMCP 4.1.6 runs in the benchmark's own virtual
environment (bench/peers.py).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import peers  # bench/peers.py: a script's folder is first on sys.path

run_peer = peers.run_peer

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
TASKS = json.loads((Path(__file__).parent / "discovery_tasks.json").read_text())
TOP = 10

FASTMCP = """
import json, sys, time, anyio, httpx2, yaml
from fastmcp import Client, FastMCP
from fastmcp.server.transforms.search import BM25SearchTransform

path, tasks = sys.argv[1], json.loads(sys.argv[2])
text = open(path, "rb").read()
doc = json.loads(text) if path.endswith(".json") else yaml.load(text, Loader=yaml.CSafeLoader)
mcp = FastMCP.from_openapi(openapi_spec=doc, client=httpx2.AsyncClient(base_url="http://127.0.0.1:9"))

async def main():
    routes = {t.name: f"{t._route.method} {t._route.path}" for t in await mcp.list_tools()}
    mcp.add_transform(BM25SearchTransform(max_results=10))
    ranked, times = [], []
    async with Client(mcp) as client:
        listing = await client.list_tools()
        size = len(json.dumps([t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listing]))
        for task in tasks:
            started = time.perf_counter()
            result = await client.call_tool("search_tools", {"query": task})
            times.append(time.perf_counter() - started)
            ranked.append([routes.get(t["name"], t["name"]) for t in result.structured_content["result"]])
    print(json.dumps({"ranked": ranked, "times": times, "listing": size}))

anyio.run(main)
"""


async def mcpkit(path: Path, tasks: list[str]) -> dict[str, Any]:
    import httpx

    from mcpkit import Client, MCPKit

    routes: dict[str, str] = {}

    def remember(route: Any, component: Any) -> None:
        routes[component.name] = f"{route.method} {route.path}"

    mcp = MCPKit.from_openapi(
        openapi_spec=path,
        client=httpx.AsyncClient(base_url="http://127.0.0.1:9"),
        discovery="search",
        mcp_component_fn=remember,
    )
    ranked, times = [], []
    async with Client(mcp) as client:
        listing = await client.list_tools()
        size = len(json.dumps([t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in listing]))
        for task in tasks:
            started = time.perf_counter()
            result = await client.call_tool("search_tools", {"query": task, "limit": TOP})
            times.append(time.perf_counter() - started)
            ranked.append([routes[t["name"]] for t in result.data["tools"]])
    return {"ranked": ranked, "times": times, "listing": size}


def score(ranked: list[list[str]], answers: list[list[str]]) -> tuple[float, float]:
    """(recall@5, mean reciprocal rank over the top 10)."""
    hits, reciprocal = 0, 0.0
    for results, good in zip(ranked, answers, strict=True):
        rank = next((i for i, found in enumerate(results[:TOP]) if found in good), None)
        if rank is not None and rank < 5:
            hits += 1
        reciprocal += 1 / (rank + 1) if rank is not None else 0.0
    return hits / len(answers), reciprocal / len(answers)


def main() -> None:
    import anyio

    header = ["tasks", "document", "count", "system", "recall@5", "MRR", "median search ms", "listing bytes"]
    print("| " + " | ".join(header) + " |")
    print("|---|---|---:|---|---:|---:|---:|---:|")
    misses = []
    for group, documents in TASKS.items():
        totals: dict[str, list[tuple[float, float, int]]] = {"mcpkit": [], "FastMCP": []}
        for document, items in documents.items():
            queries = [item["task"] for item in items]
            answers = [item["answers"] for item in items]
            results = {
                "mcpkit": anyio.run(mcpkit, CORPUS / document, queries),
                "FastMCP": run_peer(FASTMCP, str(CORPUS / document), json.dumps(queries)),
            }
            for system, result in results.items():
                recall, mrr = score(result["ranked"], answers)
                totals[system].append((recall, mrr, len(items)))
                median = statistics.median(result["times"]) * 1000
                print(
                    f"| {group} | {document} | {len(items)} | {system} | {recall:.2f} | {mrr:.2f} "
                    f"| {median:.1f} | {result['listing']:,} |",
                    flush=True,
                )
            for query, good, found in zip(queries, answers, results["mcpkit"]["ranked"], strict=True):
                if not any(f in good for f in found[:5]):
                    misses.append(f"{group} {document}: {query!r} -> {found[:3]} (want {good})")
        for system, rows in totals.items():
            count = sum(n for _, _, n in rows)
            recall = sum(r * n for r, _, n in rows) / count
            mrr = sum(m * n for _, m, n in rows) / count
            print(f"| {group} | all | {count} | {system} | {recall:.2f} | {mrr:.2f} | | |", flush=True)
    if misses:
        print("\nmcpkit misses (top 3 shown):")
        for miss in misses:
            print(" -", miss)


if __name__ == "__main__":
    main()

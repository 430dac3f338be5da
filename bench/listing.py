"""Listing sizes: the full ``tools/list`` of every corpus document, mcpkit beside FastMCP, same run.

    python bench/listing.py [--corpus tests/corpus] [document ...]

Both are measured the same way, each document in a fresh process: the tools a client receives,
serialised as JSON (``model_dump(by_alias=True, exclude_none=True)``). Tokens are approximated as
bytes / 4. mcpkit runs with its defaults (compact output schemas); FastMCP 4.1.6 runs in the
benchmark's own virtual environment (see bench/peers.py). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import peers  # bench/peers.py: a script's folder is first on sys.path

run_peer = peers.run_peer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT / "tests" / "corpus"

MEASURE = """
import json, sys, anyio

def load(path):
    text = open(path, "rb").read()
    if path.endswith(".json"):
        return json.loads(text)
    import yaml
    return yaml.load(text, Loader=yaml.CSafeLoader)

async def size(server, client_class):
    async with client_class(server) as client:
        tools = await client.list_tools()
    dumped = [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in tools]
    return len(tools), len(json.dumps(dumped))
"""

MCPKIT = (
    MEASURE
    + """
import httpx
from mcpkit import Client, MCPKit
server = MCPKit.from_openapi(openapi_spec=sys.argv[1], client=httpx.AsyncClient(base_url="http://127.0.0.1:9"))
tools, size_bytes = anyio.run(size, server, Client)
print(json.dumps({"tools": tools, "bytes": size_bytes}))
"""
)

FASTMCP = (
    MEASURE
    + """
import httpx2
from fastmcp import Client, FastMCP
server = FastMCP.from_openapi(openapi_spec=load(sys.argv[1]), client=httpx2.AsyncClient(base_url="http://127.0.0.1:9"))
tools, size_bytes = anyio.run(size, server, Client)
print(json.dumps({"tools": tools, "bytes": size_bytes}))
"""
)


def mcpkit(document: Path) -> dict[str, int]:
    result = subprocess.run(
        [sys.executable, "-c", MCPKIT, str(document)], capture_output=True, text=True, timeout=900, check=True
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def human(size: int) -> str:
    return f"{size / 1e6:,.2f} MB" if size >= 1e5 else f"{size / 1e3:,.1f} KB"


def main() -> None:
    options = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument("documents", nargs="*")
    options.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = options.parse_args()
    names = args.documents or sorted(
        p.name for p in args.corpus.iterdir() if p.suffix in (".json", ".yaml", ".yml")
    )
    columns = ["document", "tools", "mcpkit listing", "mcpkit tokens", "FastMCP listing", "FastMCP tokens"]
    print("| " + " | ".join([*columns, "FastMCP / mcpkit"]) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        path = args.corpus / name
        ours = mcpkit(path)
        try:
            theirs = run_peer(FASTMCP, str(path))
            ratio = theirs["bytes"] / ours["bytes"]
            peer = f"{human(theirs['bytes'])} | {theirs['bytes'] // 4:,} | {ratio:.1f}x"
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            peer = f"failed: {str(exc).strip().splitlines()[-1][:60]} | | "
        print(
            f"| {name} | {ours['tools']} | {human(ours['bytes'])} | {ours['bytes'] // 4:,} | {peer} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

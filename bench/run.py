"""The benchmark suite: mcpkit beside FastMCP 4.1.6 and fastapi-mcp 0.4.0, on the same work, in one run.

    python bench/run.py [--quick] [--only conversion fastapi calls http discovery composition floor]
                        [--output bench/RESULTS.md]

It installs the peers into their own virtual environments first (bench/peers.py), then measures:

1. conversion of every corpus document (bench/convert.py): mcpkit's two parsers and FastMCP's
   ``from_openapi``, each round in a fresh process;
2. ``from_fastapi`` on generated apps of 10, 100 and 1,000 routes (bench/fastapi_build.py): mcpkit,
   FastMCP and fastapi-mcp, fresh processes;
3. in-memory tool-call latency against the direct ASGI call, the floor (bench/calls.py), each system
   in a fresh process of its environment that measures its own floor, rounds alternating;
4. Streamable HTTP calls/s with 1 and 8 clients against plain FastAPI (bench/throughput.py): every server
   in its own process, the same client (``mcpkit.Client``, the SDK's) for all;
5. discovery search (bench/discovery.py): mcpkit's ``search_tools`` beside FastMCP's BM25 search
   transform on the same tasks: recall@5, mean reciprocal rank, median search time, listing size;
6. composition (bench/composition.py): an in-memory call through a mounted server and through a proxy
   beside the direct call, and what a proxy's session per request would cost against its pool;
7. the floor (bench/floor.py): an in-memory call of a trivial async tool, mcpkit against the SDK's bare
   low-level server doing the same work (target: within 1.2x).

It prints Markdown: the machine and versions, a table per part (medians; ratios are peer / mcpkit, so
above 1 means mcpkit is ahead), then the verdicts: where mcpkit is behind a peer or misses a target of
SPEC.md or of an issue; ``--profile`` adds the profiles of those rows, each with the lines that say
where the time or memory goes. ``--quick`` is a short run (one round, fewer calls, FastMCP skips
stripe); figures from it are indicative only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anyio

# bench/*.py: a script's folder is first on sys.path
import composition
import convert
import discovery
import fastapi_build
import floor
import peers
import throughput

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PARTS = ("conversion", "fastapi", "calls", "http", "discovery", "composition", "floor")
PEER_TIMEOUT = 900.0  # FastMCP takes ~40 s and ~3 GB on stripe: generous, and a failure is reported
CALL_TARGET = 1.5
CALL_CPU = max(os.sched_getaffinity(0))  # in-memory calls run pinned: see bench/calls.py
HTTP_TARGET = 0.5


@dataclass
class Settings:
    """How much of each part to run."""

    conversion_rounds: int = 3
    fastapi_rounds: int = 3
    calls: int = 2000
    call_rounds: int = 5
    http_seconds: float = 3.0
    http_rounds: int = 3
    fastmcp_skips: tuple[str, ...] = ()
    http_calls: int = 300


QUICK = Settings(1, 1, 300, 2, 1.0, 1, ("stripe-spec3.yaml",), 50)


EVEN = 0.03  # ratios within 3% of 1 are "even": not ahead, not behind


@dataclass
class Verdict:
    """One comparison: mcpkit against a peer or a target.

    ``advantage`` is above 1 when mcpkit is ahead (peer / mcpkit for times and memory, mcpkit / peer
    for calls/s) or a target is met (the limit over the figure); ``profile`` are the arguments of
    bench/profiler.py for the work of the row.
    """

    row: str
    ours: str
    theirs: str
    advantage: float
    profile: tuple[str, ...]
    target: bool = False

    @property
    def status(self) -> str:
        if self.target:
            return "met" if self.advantage > 1 else "MISSED"
        if self.advantage > 1 + EVEN:
            return "ahead"
        return "behind" if self.advantage < 1 - EVEN else "even"

    @property
    def ok(self) -> bool:
        return self.status in ("met", "ahead")


@dataclass
class Report:
    """The Markdown being printed, and the verdicts gathered on the way."""

    lines: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)

    def out(self, text: str = "") -> None:
        self.lines.append(text)
        print(text, flush=True)

    def compare(
        self, row: str, ours: float, theirs: float, unit: str, profile: tuple[str, ...], rate: bool = False
    ) -> str:
        """Record mcpkit's figure against a peer's (a cost, or a rate when ``rate``); returns the ratio."""
        advantage = ours / theirs if rate else theirs / ours
        self.verdicts.append(Verdict(row, figure(ours, unit), figure(theirs, unit), advantage, profile))
        return times(advantage)

    def target(self, row: str, ours: str, limit: str, headroom: float, profile: tuple[str, ...]) -> None:
        """Record a target of SPEC.md: ``headroom`` is the limit over the figure (above 1: met)."""
        self.verdicts.append(Verdict(row, ours, limit, headroom, profile, target=True))


def figure(value: float, unit: str) -> str:
    return {
        "s": f"{value:.3f} s",
        "ms": f"{value * 1000:.1f} ms",
        "MB": f"{value:.0f} MB",
        "score": f"{value:.2f}",
    }.get(unit, f"{value:.0f} {unit}")


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def median(rounds: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def times(value: float) -> str:
    """A ratio, with a third decimal near 1 (where 0.998 and 1.002 must not both read 1.00)."""
    return f"{value:.3f}x" if 0.99 <= value <= 1.01 else f"{value:.2f}x"


def ratio(theirs: float, ours: float) -> str:
    return times(theirs / ours) if ours > 0 else "n/a"


def attempt(measure: Callable[[], dict[str, Any]]) -> dict[str, Any] | str:
    """A measurement, or the reason it failed (last line of the error), without stopping the suite."""
    try:
        return measure()
    except subprocess.TimeoutExpired as exc:
        return f"timed out after {exc.timeout:.0f} s"
    except Exception as exc:
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        return f"failed: {(lines[-1] if lines else type(exc).__name__)[:120]}"


def rounds_of(count: int, measure: Callable[[], dict[str, Any]]) -> list[dict[str, Any]] | str:
    """``count`` measurements, or the first failure."""
    results = []
    for _ in range(count):
        result = attempt(measure)
        if isinstance(result, str):
            return result
        results.append(result)
    return results


# The machine and versions


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine(report: Report) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        int(line.split()[1]) / 1024**2
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    system = platform.platform()
    release = Path("/etc/os-release")
    if release.exists():
        names = dict(line.split("=", 1) for line in release.read_text().splitlines() if "=" in line)
        system = f"{names.get('PRETTY_NAME', '').strip(chr(34))}, {platform.system()} {platform.release()}"
    dirty = git("status", "--porcelain", "--", "core", "plugins").splitlines()
    commit = git("rev-parse", "--short", "HEAD")
    ours = {name: version(name) for name in ("mcp", "fastapi", "starlette", "httpx", "pydantic", "uvicorn")}
    fastmcp = peers.installed("fastmcp", "fastmcp", "mcp")
    fastapi_mcp = peers.installed("fastapi-mcp", "fastapi-mcp", "mcp")
    report.out(f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    report.out(f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {memory:.1f} GB; {system}")
    report.out(f"- Python {platform.python_version()}; load average at start {load()}")
    report.out(
        f"- mcpkit {commit}"
        + (
            f" with uncommitted changes in {len(dirty)} files of core/ and plugins/ (the tree is shared)"
            if dirty
            else ""
        )
        + "; "
        + ", ".join(f"{name} {number}" for name, number in ours.items())
        + " (the peers' environments have the same FastAPI stack)"
    )
    report.out(
        f"- Peers: fastmcp {fastmcp['fastmcp']} (mcp {fastmcp['mcp']}), "
        f"fastapi-mcp {fastapi_mcp['fastapi-mcp']} (mcp {fastapi_mcp['mcp']})"
    )


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


class Others:
    """CPU time the rest of the machine used while the suite ran: all CPUs' busy time (/proc/stat)
    less this process's and its children's (the shared machine's noise, measured)."""

    def __init__(self) -> None:
        self.mark = self.sample()

    @staticmethod
    def sample() -> tuple[float, float, float]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
        ours = sum(
            getattr(resource.getrusage(who), field)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for field in ("ru_utime", "ru_stime")
        )
        return time.perf_counter(), busy, ours

    def since(self) -> str:
        """The others' CPU seconds since the last call, and their share of the machine."""
        now = self.sample()
        wall, busy, ours = (b - a for a, b in zip(self.mark, now, strict=True))
        self.mark = now
        others = max(busy - ours, 0.0)
        share = others / wall / (os.cpu_count() or 1)
        return f"other processes used {others:.0f} CPU-s in {wall:.0f} s ({share:.0%} of the machine)"


# 1. Conversion


def conversion(report: Report, settings: Settings, corpus: Path) -> None:
    report.out("\n## 1. Conversion of the corpus (`from_openapi`)\n")
    report.out(
        f"Medians of {settings.conversion_rounds} rounds, each in a fresh process. Build: the server from "
        "the file (FastMCP takes a dict: loading the file is in its build). Lists: in memory, each system's "
        "own client. Peak: max RSS of the process, interpreter and imports included (imports alone in "
        "brackets). Ratios: FastMCP / mcpkit (above 1: mcpkit ahead).\n"
    )
    report.out(
        "| document | system | converted | build s | 1st list s | build + 1st list s | again ms "
        "| peak MB | listing KB | FastMCP / this: time, again, memory | target |"
    )
    report.out("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    if not corpus.is_dir():
        report.out(f"Not measured: no corpus at {corpus} (pass `--corpus DIRECTORY`).")
        return
    names = sorted(p.name for p in corpus.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
    for name in names:
        document = corpus / name
        total = convert.operations(document)
        results: dict[str, list[dict[str, Any]] | str] = {}
        for system in (*convert.PARSERS, convert.PEER):
            progress(f"conversion: {name}, {system}")
            if system == convert.PEER and name in settings.fastmcp_skips:
                results[system] = "skipped in --quick (~70 s, ~3 GB)"
                continue
            timeout = PEER_TIMEOUT if system == convert.PEER else 300

            def measure(
                system: str = system, timeout: float = timeout, path: Path = document
            ) -> dict[str, Any]:
                return dict(convert.run(path, system, timeout=timeout))

            results[system] = rounds_of(settings.conversion_rounds, measure)
        peer = results[convert.PEER]
        for system, rounds in results.items():
            label = "FastMCP" if system == convert.PEER else f"mcpkit {system}"
            if isinstance(rounds, str):
                report.out(f"| {name} | {label} | {rounds} | | | | | | | | |")
                continue
            both = median(rounds, "build") + median(rounds, "first_list")
            cells = [
                f"{rounds[0]['tools']}/{total}",
                f"{median(rounds, 'build'):.3f}",
                f"{median(rounds, 'first_list'):.3f}",
                f"{both:.3f}",
                f"{median(rounds, 'repeated_list') * 1000:.1f}",
                f"{median(rounds, 'peak_mb'):.0f} ({median(rounds, 'imports_mb'):.0f})",
                f"{median(rounds, 'list_bytes') / 1000:,.0f}",
            ]
            versus, target = "", ""
            if system != convert.PEER:
                versus = conversion_verdicts(report, name, system, rounds, peer)
                target = conversion_target(report, name, system, both, median(rounds, "peak_mb"))
            report.out(f"| {name} | {label} | {' | '.join(cells)} | {versus} | {target} |")


def conversion_verdicts(
    report: Report, name: str, system: str, rounds: list[dict[str, Any]], peer: list[dict[str, Any]] | str
) -> str:
    """FastMCP / mcpkit on build + first list, repeated list and peak memory, as verdicts."""
    if isinstance(peer, str):
        return f"FastMCP {peer}"
    cells = []
    for metric, key, unit in (
        ("build + 1st list", "", "s"),
        ("repeated list", "repeated_list", "ms"),
        ("peak memory", "peak_mb", "MB"),
    ):
        if key:
            ours, theirs = median(rounds, key), median(peer, key)
        else:
            ours = median(rounds, "build") + median(rounds, "first_list")
            theirs = median(peer, "build") + median(peer, "first_list")
        profile = ("convert-memory" if unit == "MB" else "convert", name, system)
        row = f"conversion {name}, {metric} (mcpkit {system} vs FastMCP)"
        cells.append(report.compare(row, ours, theirs, unit, profile))
    return ", ".join(cells)


def conversion_target(report: Report, name: str, system: str, seconds: float, megabytes: float) -> str:
    if name not in convert.TARGETS:
        return ""
    limit_s, limit_mb = convert.TARGETS[name]
    headroom = min(limit_s / seconds, limit_mb / megabytes)
    report.target(
        f"target: {name} build + 1st list < {limit_s} s and < {limit_mb} MB (mcpkit {system})",
        f"{seconds:.3f} s, {megabytes:.0f} MB",
        f"< {limit_s} s, < {limit_mb} MB",
        headroom,
        ("convert" if seconds >= limit_s or megabytes < limit_mb else "convert-memory", name, system),
    )
    return f"< {limit_s} s, < {limit_mb} MB: {'met' if headroom > 1 else 'MISSED'}"


# 2. from_fastapi


def from_fastapi(report: Report, settings: Settings) -> None:
    report.out("\n## 2. `from_fastapi` on generated apps\n")
    report.out(
        f"Medians of {settings.fastapi_rounds} rounds, each in a fresh process: the app is generated first "
        "(not timed), then `MCPKit.from_fastapi(app=app)`, `FastMCP.from_fastapi(app=app)`, "
        "`FastApiMCP(app)` (each makes the app's OpenAPI document: part of the work), then the tools are "
        "listed in memory (fastapi-mcp: through the SDK's `create_connected_server_and_client_session` on "
        "`FastApiMCP.server`, as its tests do). Ratios: peer / mcpkit.\n"
    )
    report.out(
        "| routes | system | tools | build s | 1st list s | build + 1st list s | peak MB | peer / mcpkit |"
    )
    report.out("|---:|---|---:|---:|---:|---:|---:|---|")
    for routes in fastapi_build.SIZES:
        results: dict[str, list[dict[str, Any]] | str] = {}
        for system in fastapi_build.SYSTEMS:
            progress(f"from_fastapi: {routes} routes, {system}")

            def measure(system: str = system, routes: int = routes) -> dict[str, Any]:
                return dict(fastapi_build.run(system, routes, timeout=PEER_TIMEOUT))

            results[system] = rounds_of(settings.fastapi_rounds, measure)
        ours = results["mcpkit"]
        for system, rounds in results.items():
            if isinstance(rounds, str):
                report.out(f"| {routes} | {system} | {rounds} | | | | | |")
                continue
            both = median(rounds, "build") + median(rounds, "first_list")
            versus = ""
            if system != "mcpkit" and not isinstance(ours, str):
                row = f"from_fastapi {routes} routes, %s (mcpkit vs {system})"
                our_both = median(ours, "build") + median(ours, "first_list")
                time_ratio = report.compare(
                    row % "build + 1st list", our_both, both, "s", ("fastapi", str(routes))
                )
                memory_ratio = report.compare(
                    row % "peak memory",
                    median(ours, "peak_mb"),
                    median(rounds, "peak_mb"),
                    "MB",
                    ("fastapi-memory", str(routes)),
                )
                versus = f"time {time_ratio}, memory {memory_ratio}"
            report.out(
                f"| {routes} | {system} | {rounds[0]['tools']} | {median(rounds, 'build'):.3f} "
                f"| {median(rounds, 'first_list'):.3f} | {both:.3f} "
                f"| {median(rounds, 'peak_mb'):.0f} ({median(rounds, 'imports_mb'):.0f}) | {versus} |"
            )


# 3. In-memory calls

CALL_SYSTEMS = {
    "mcpkit": ("mcpkit", "2026-07-28", "mcpkit.Client"),
    "mcpkit-legacy": ("mcpkit", "2025-11-25", "mcpkit.Client(mode='legacy')"),
    "fastmcp": ("fastmcp", "2026-07-28", "fastmcp.Client"),
    "fastapi-mcp": ("fastapi-mcp", "SDK 1.x session", "mcp 1.x create_connected_server_and_client_session"),
}
WORKLOAD_LABELS = {
    "shop": "example shop `GET /products/{product_id}` (SQLite, sync endpoint) [target]",
    "ping": "minimal async endpoint `GET /items/{item_id}` (fixed cost; not a target)",
}


def python_of(environment: str) -> str:
    return sys.executable if environment == "mcpkit" else str(peers.peer_python(environment))


def calls(report: Report, settings: Settings) -> None:
    report.out("\n## 3. In-memory tool calls against the direct ASGI call (the floor)\n")
    report.out(
        f"Each system in a fresh process of its environment pinned to CPU {CALL_CPU} (the thread hop of a "
        "sync endpoint otherwise costs more or less by where the scheduler puts the threads: the floor "
        f"moved between 0.42 and 0.73 ms from one process to the next), {settings.call_rounds} rounds of "
        f"{settings.calls} calls alternating with the direct call (`httpx.ASGITransport`, the app's "
        "lifespan state in each request) in the same process; medians of all calls. The peers get the "
        "app's lifespan and state too (the shop needs them; `FastMCP.from_fastapi` and `FastApiMCP(app)` "
        "do not run it, so they are built the same way with a client on the app with its state). "
        f"Target: mcpkit within {CALL_TARGET}x of the floor on the shop.\n"
    )
    report.out("| endpoint | system | protocol (client) | median µs | floor µs | vs floor | peer / mcpkit |")
    report.out("|---|---|---|---:|---:|---:|---|")
    results: dict[str, dict[str, Any] | str] = {}
    command = [str(HERE / "calls.py"), "--calls", str(settings.calls), "--rounds", str(settings.call_rounds)]
    command += ["--cpu", str(CALL_CPU)]
    for system, (environment, _, _) in CALL_SYSTEMS.items():
        progress(f"calls: {system}")

        def measure(system: str = system, environment: str = environment) -> dict[str, Any]:
            done = subprocess.run(
                [python_of(environment), *command, "--system", system],
                capture_output=True,
                text=True,
                timeout=PEER_TIMEOUT,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-3000:])
            return dict(json.loads(done.stdout.strip().splitlines()[-1]))

        results[system] = attempt(measure)
    for workload, label in WORKLOAD_LABELS.items():
        ours = results["mcpkit"]
        for system, (_, protocol, client) in CALL_SYSTEMS.items():
            result = results[system]
            if isinstance(result, str):
                report.out(f"| {label} | {system} | {protocol} | {result} | | | |")
                continue
            figures = result[workload]
            versus = ""
            if system.startswith("fastmcp") or system == "fastapi-mcp":
                if not isinstance(ours, str):
                    row = f"in-memory call, {workload} (mcpkit vs {system})"
                    absolute = report.compare(
                        row,
                        ours[workload]["mcp"] * 1e6,
                        figures["mcp"] * 1e6,
                        "µs",
                        ("calls", workload, "mcpkit"),
                    )
                    mine = ours[workload]["mcp"] / ours[workload]["direct"]
                    theirs = figures["mcp"] / figures["direct"]
                    versus = f"{absolute} (µs), {ratio(theirs, mine)} (vs own floor)"
            elif workload == "shop":
                slower = figures["mcp"] / figures["direct"]
                report.target(
                    f"target: in-memory call < {CALL_TARGET}x the floor, shop ({system}, {protocol})",
                    f"{times(slower)} ({figures['mcp'] * 1e6:.0f} µs vs {figures['direct'] * 1e6:.0f} µs)",
                    f"< {CALL_TARGET}x",
                    CALL_TARGET / slower,
                    ("calls", "shop", system),
                )
            report.out(
                f"| {label} | {system} | {protocol} ({client}) | {figures['mcp'] * 1e6:.0f} "
                f"| {figures['direct'] * 1e6:.0f} | {figures['mcp'] / figures['direct']:.2f}x | {versus} |"
            )


# 4. Streamable HTTP

HTTP_ROWS: list[tuple[str, str, str, str, str]] = [
    # (workload, system, protocol, server kind, tool)
    ("REST", "plain FastAPI", "", "fastapi", ""),
    ("Python tool `add`", "mcpkit", "2026-07-28", "mcp", "add"),
    ("Python tool `add`", "mcpkit", "2025-11-25", "mcp", "add"),
    ("Python tool `add`", "FastMCP", "2026-07-28", "fastmcp", "add"),
    ("Python tool `add`", "FastMCP", "2025-11-25", "fastmcp", "add"),
    ("converted `POST /add`", "mcpkit", "2026-07-28", "mcpkit-fastapi", "add_add_post"),
    ("converted `POST /add`", "mcpkit", "2025-11-25", "mcpkit-fastapi", "add_add_post"),
    ("converted `POST /add`", "FastMCP", "2026-07-28", "fastmcp-fastapi", "add_add_post"),
    ("converted `POST /add`", "FastMCP", "2025-11-25", "fastmcp-fastapi", "add_add_post"),
    ("converted `POST /add`", "fastapi-mcp", "2025-11-25", "fastapi-mcp", "add_add_post"),
]
SERVER_ENVIRONMENTS = {"fastmcp": "fastmcp", "fastmcp-fastapi": "fastmcp", "fastapi-mcp": "fastapi-mcp"}


def http(report: Report, settings: Settings) -> None:
    report.out("\n## 4. Streamable HTTP throughput against plain FastAPI\n")
    report.out(
        f"calls/s, medians of {settings.http_rounds} rounds of {settings.http_seconds:g} s; every server in "
        "its own process (uvicorn, 127.0.0.1, one worker), all up at once, rounds alternating between rows; "
        "the client process is the same for all: `httpx` for FastAPI, `mcpkit.Client` (the SDK 2.3 client) "
        "for MCP, in the protocol shown (fastapi-mcp, on SDK 1.x, has no 2026-07-28: that client falls back "
        "to 2025-11-25 for it). fastapi-mcp converts FastAPI endpoints only: it has no Python-function tool. "
        f"Target: mcpkit at least {HTTP_TARGET}x plain FastAPI.\n"
    )
    report.out(
        "| workload | system | protocol | 1 client calls/s | vs FastAPI | 8 clients calls/s | vs FastAPI "
        "| peer / mcpkit (1, 8) |"
    )
    report.out("|---|---|---|---:|---:|---:|---:|---|")
    rows = []
    for workload, system, protocol, kind, tool in HTTP_ROWS:
        label = f"{workload} | {system} | {protocol}"
        if kind == "fastapi":
            rows.append((label, kind, throughput.fastapi_caller))
        else:
            mode = "auto" if protocol == "2026-07-28" else "legacy"
            rows.append((label, kind, throughput.mcp_caller(mode, tool)))

    def python(kind: str) -> str:
        return python_of(SERVER_ENVIRONMENTS.get(kind, "mcpkit"))

    progress(f"http: {len(rows)} rows, {settings.http_rounds} rounds")
    with tempfile.NamedTemporaryFile("w", prefix="mcpkit-bench-servers-", suffix=".log", delete=False) as log:
        rates = anyio.run(
            lambda: throughput.throughput(
                rows, settings.http_seconds, settings.http_rounds, python, output=log
            )
        )
    progress(f"http: the servers' output is in {log.name}")
    baseline = rates[rows[0][0]]
    our_kinds = {workload: kind for workload, system, _, kind, _ in HTTP_ROWS if system == "mcpkit"}
    for (workload, system, protocol, _, _), (label, _, _) in zip(HTTP_ROWS, rows, strict=True):
        rate = rates[label]
        versus = ""
        mode = "auto" if protocol == "2026-07-28" else "legacy"
        if system not in ("mcpkit", "plain FastAPI"):
            ours = rates.get(f"{workload} | mcpkit | {protocol}")
            if ours:
                versus = ", ".join(
                    report.compare(
                        f"HTTP {workload}, {clients} client(s), {protocol} (mcpkit vs {system})",
                        ours[clients],
                        rate[clients],
                        "calls/s",
                        ("http", our_kinds[workload], mode, str(clients)),
                        rate=True,
                    )
                    for clients in (1, 8)
                )
        elif system == "mcpkit":
            for clients in (1, 8):
                share = rate[clients] / baseline[clients]
                report.target(
                    f"target: HTTP >= {HTTP_TARGET}x FastAPI, {workload}, {clients} client(s), {protocol}",
                    f"{times(share)} ({rate[clients]:.0f}/s vs {baseline[clients]:.0f}/s)",
                    f">= {HTTP_TARGET}x",
                    share / HTTP_TARGET,
                    ("http", our_kinds[workload], mode, str(clients)),
                )
        report.out(
            f"| {label} | {rate[1]:.0f} | {rate[1] / baseline[1]:.2f}x | {rate[8]:.0f} "
            f"| {rate[8] / baseline[8]:.2f}x | {versus} |"
        )


# 5. Discovery search


def discovery_search(report: Report, settings: Settings, corpus: Path) -> None:
    report.out("\n## 5. Discovery search: `search_tools` beside FastMCP's BM25 search transform\n")
    documents = {document for group in discovery.TASKS.values() for document in group}
    tasks = sum(len(items) for group in discovery.TASKS.values() for items in group.values())
    report.out(
        f"{tasks} tasks phrased as a user would ask them, over {len(documents)} corpus documents "
        "(bench/discovery_tasks.json), each given once to each system's own `search_tools` through its "
        'in-memory client, top 10 results: mcpkit\'s `from_openapi(..., discovery="search")` in this '
        "process, FastMCP's `from_openapi` with `BM25SearchTransform` in a process of its environment per "
        "document. recall@5: a right operation among the first five; MRR: mean reciprocal rank over the "
        "top 10; median search: the median time of one `search_tools` call (mcpkit's first builds its "
        "index); listing: the JSON of `tools/list`. The development tasks were used while mcpkit's "
        "ranking was built; the held-out tasks were written afterwards, over other documents, and never "
        "used to tune it. Targets "
        f"(issue 11): recall@5 >= {discovery.RECALL_TARGET} on the development tasks, median search under "
        f"{discovery.SEARCH_TARGET_MS:g} ms on github, listing under 2 KB; the held-out score is reported, "
        "not a target.\n"
    )
    for line in discovery.HEADER:
        report.out(line)
    measured = []
    for row in discovery.rows(corpus, settings.fastmcp_skips, progress):
        report.out(row.markdown())
        measured.append(row)
    report.out()
    for line in discovery.summary(measured):
        report.out(line)
    for target in discovery.targets(measured):
        report.target(
            f"target: discovery {target.what} {target.limit}", target.ours, target.limit, target.headroom, ()
        )
    peer = {(r.group, r.document): r for r in measured if r.system == "FastMCP" and not r.failure}
    for ours in (r for r in measured if r.system == "mcpkit" and not r.failure):
        theirs = peer.get((ours.group, ours.document))
        if theirs is None:
            continue
        if ours.document == "all" and ours.count == theirs.count:  # a group's totals, on the same tasks
            for metric, mine, its in (
                ("recall@5", ours.recall, theirs.recall),
                ("MRR", ours.mrr, theirs.mrr),
            ):
                if mine > 0 and its > 0:
                    label = f"discovery {ours.group} tasks, {metric} (mcpkit vs FastMCP)"
                    report.compare(label, mine, its, "score", (), rate=True)
        if ours.median_ms and theirs.median_ms:
            report.compare(
                f"discovery {ours.document}, median search (mcpkit vs FastMCP)",
                ours.median_ms / 1000,
                theirs.median_ms / 1000,
                "ms",
                (),
            )


# Verdicts


def verdicts(report: Report) -> None:
    good = [v for v in report.verdicts if v.ok]
    report.out("\n## Verdicts\n")
    report.out(
        f"{len(good)} of {len(report.verdicts)} comparisons favour mcpkit; the others first. Ratio: above 1 "
        "when mcpkit is ahead (peer / mcpkit for times and memory, mcpkit / peer for calls/s and search "
        f"scores) or a target is met (the limit over the figure); within {EVEN:.0%} of 1: even.\n"
    )
    report.out("| comparison | mcpkit | peer or target | ratio | verdict |")
    report.out("|---|---:|---:|---:|---|")
    for verdict in sorted(report.verdicts, key=lambda v: (v.ok, v.advantage)):
        mark = verdict.status if verdict.ok else f"**{verdict.status}**"
        report.out(
            f"| {verdict.row} | {verdict.ours} | {verdict.theirs} | {times(verdict.advantage)} | {mark} |"
        )


def profiles(report: Report) -> None:
    """Profile the work of every row where mcpkit is not ahead or misses a target (bench/profiler.py)."""
    wanted = list(dict.fromkeys(v.profile for v in report.verdicts if not v.ok and v.profile))
    found: list[tuple[tuple[str, ...], Path | str]] = []
    for arguments in wanted:
        progress(f"profile: {' '.join(arguments)}")
        done = subprocess.run(
            [sys.executable, str(HERE / "profiler.py"), *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            found.append((arguments, Path(done.stdout.strip().splitlines()[-1])))
        else:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            found.append((arguments, "failed: " + (lines[-1] if lines else f"exit {done.returncode}")[:200]))
    for line in profile_section(found):
        report.out(line)


PROFILE_TOP = 8
"""Lines of a profile's explaining block shown under it in the results."""
PROFILE_FIGURE = re.compile(r"^\s*[+-]?\d[\d.]*\s")
"""A line of a block of bench/profiler.py: a figure first (seconds, µs, MB)."""
PROFILE_BLOCKS = (
    ("--- RSS", None),
    ("--- own time per call by package", PROFILE_TOP),
    ("--- own time by package", PROFILE_TOP),
)
"""The block that explains a profile, by kind, first match wins (memory: RSS by step, all of it;
calls: the MCP call less the direct call; cProfile: own time by package, the first one: for http,
the server's), and how many of its lines to show."""


def profile_excerpt(text: str) -> list[str]:
    """The lines of a bench/profiler.py file that say where the time or memory went: its heading (what
    was profiled, and how long it took), then the start of the block that explains it (PROFILE_BLOCKS)
    with the notes before its figures (and the peak after the RSS steps)."""
    lines = text.splitlines()
    heading = list(itertools.takewhile(lambda line: not line.startswith(("---", "=====")), lines))
    excerpt = [line for line in heading if line.strip()]
    block = next(
        (
            (i, limit)
            for marker, limit in PROFILE_BLOCKS
            for i, line in enumerate(lines)
            if line.startswith(marker)
        ),
        None,
    )
    if block is None:
        return excerpt
    start, limit = block
    excerpt += [line for line in lines[len(heading) : start] if line.startswith("=====")]  # which side
    excerpt.append(lines[start])
    figures = 0
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        if PROFILE_FIGURE.match(line):
            if figures == limit:
                break
            figures += 1
        elif figures and not (limit is None and line.startswith("peak")):
            break  # past the figures: only the peak after the RSS steps is kept
        excerpt.append(line)  # a figure, or a note before the figures
    return excerpt


def profile_section(found: list[tuple[tuple[str, ...], Path | str]]) -> list[str]:
    """The Markdown of the profiles: per profile, its command and file (or why it failed), then the
    lines of the file that explain the row, as a code block."""
    lines = [
        "\n## Profiles\n",
        "Of the work of every row above that is not ahead or met (bench/profiler.py); under each, the "
        f"lines that explain it: the RSS after each step for memory, the first {PROFILE_TOP} packages by "
        "own time for cProfile (for in-memory calls: the MCP call less the direct call, per call; for "
        "HTTP: the server's). The files have the rest (top functions by own and cumulative time, "
        "allocation sites).\n",
    ]
    for arguments, where in found:
        command = f"`python bench/profiler.py {' '.join(arguments)}`"
        if isinstance(where, str):
            lines.append(f"- {command}: {where}\n")
            continue
        shown = where.relative_to(ROOT) if where.is_relative_to(ROOT) else where
        lines.append(f"- {command}: {shown}\n")
        lines.append("  ```text")
        lines.extend(f"  {line}".rstrip() for line in profile_excerpt(where.read_text()))
        lines.append("  ```\n")
    return lines


# 6. Composition and proxies


def composition_part(report: Report, settings: Settings) -> None:
    report.out("\n## 6. Composition: a call through a mounted server and through a proxy\n")
    report.out(
        "mcpkit only, in a fresh process: a trivial async tool called in memory through the SDK's client "
        "directly, through a parent that mounts its server, and through `MCPKit.as_proxy` of it (the "
        f"proxy's session with it in the same era); {settings.call_rounds} rounds of {settings.calls} "
        "calls alternating, medians of all calls. A proxied call is two MCP requests (the client's to "
        "the proxy, the proxy's to the server). Then the proxy's tool called from Python while it is "
        "served (its sessions pooled) and while it is not (a session per request), the server in "
        "memory and over Streamable HTTP in a process of its own.\n"
    )
    progress("composition")
    command = [sys.executable, str(HERE / "composition.py"), "--json", "--calls", str(settings.calls)]
    command += ["--rounds", str(settings.call_rounds), "--http-calls", str(settings.http_calls)]

    def measure() -> dict[str, Any]:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PEER_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    result = attempt(measure)
    if isinstance(result, str):
        report.out(f"composition: {result}")
        return
    composition.print_tables(result, report.out)


# 7. The floor: the SDK's bare low-level server


def floor_part(report: Report, settings: Settings) -> None:
    report.out("\n## 7. The floor: mcpkit against the SDK's bare low-level server\n")
    report.out(
        "The same trivial async tool (same schemas) on mcpkit and on the SDK's low-level `Server` with "
        "one list and one call handler that check nothing, both called in memory through the SDK's "
        f"client in a fresh process; {settings.call_rounds} rounds of {settings.calls} calls alternating, "
        f"medians of all calls. Target: mcpkit within {floor.TARGET}x.\n"
    )
    progress("floor")
    command = [sys.executable, str(HERE / "floor.py"), "--json", "--calls", str(settings.calls)]
    command += ["--rounds", str(settings.call_rounds)]

    def measure() -> dict[str, Any]:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PEER_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    result = attempt(measure)
    if isinstance(result, str):
        report.out(f"floor: {result}")
        return
    report.out("| protocol | bare low-level server | mcpkit | ratio |")
    report.out("|---|---|---|---|")
    for era, row in result.items():
        report.out(f"| {era} | {row['bare_us']:.0f} µs | {row['mcpkit_us']:.0f} µs | {row['ratio']:.2f}x |")
        report.target(
            f"floor: in-memory call < {floor.TARGET}x the bare low-level server ({era})",
            f"{row['ratio']:.2f}x",
            f"{floor.TARGET}x",
            floor.TARGET / row["ratio"],
            (),  # profile it with: python bench/floor.py (and cProfile) when it misses
        )


def sections(args: argparse.Namespace, settings: Settings) -> Iterator[tuple[str, Callable[[], None]]]:
    report: Report = args.report
    yield "conversion", lambda: conversion(report, settings, args.corpus)
    yield "fastapi", lambda: from_fastapi(report, settings)
    yield "calls", lambda: calls(report, settings)
    yield "http", lambda: http(report, settings)
    yield "discovery", lambda: discovery_search(report, settings, args.corpus)
    yield "composition", lambda: composition_part(report, settings)
    yield "floor", lambda: floor_part(report, settings)


def main() -> None:
    options = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument("--quick", action="store_true", help="one round, fewer calls (indicative only)")
    options.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run")
    options.add_argument("--corpus", type=Path, default=convert.DEFAULT_CORPUS)
    options.add_argument("--output", type=Path, help="also write the Markdown to this file")
    options.add_argument("--profile", action="store_true", help="profile the rows where mcpkit is behind")
    args = options.parse_args()
    settings = QUICK if args.quick else Settings()
    for environment in peers.ENVIRONMENTS:
        progress(f"peer environment {environment}: {peers.peer_python(environment)}")
    args.report = report = Report()
    started = time.perf_counter()
    report.out("# mcpkit beside FastMCP and fastapi-mcp: benchmark results\n")
    report.out(
        f"`python bench/run.py{' --quick' if args.quick else ''}"
        + (f" --only {' '.join(args.only)}" if list(args.only) != list(PARTS) else "")
        + "` (bench/run.py; one run, all systems).\n"
    )
    machine(report)
    others, whole = Others(), Others()
    for name, part in sections(args, settings):
        if name in args.only:
            part()
            report.out(f"\n(Noise: {others.since()}; load average {load()}.)")
    verdicts(report)
    if args.profile:
        profiles(report)
    report.out(
        f"\nTotal time {(time.perf_counter() - started) / 60:.1f} min; over the whole run {whole.since()}; "
        f"load average at the end {load()}."
    )
    if args.output:
        args.output.write_text("\n".join(report.lines) + "\n")


if __name__ == "__main__":
    main()

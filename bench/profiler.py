"""Profiles of mcpkit on the work of a benchmark row, as small text files for whoever tunes it.

    python bench/profiler.py convert DOCUMENT PARSER        # from_openapi + first tools/list (cProfile)
    python bench/profiler.py convert-memory DOCUMENT PARSER # the same, allocations (tracemalloc)
    python bench/profiler.py fastapi ROUTES                 # from_fastapi + first list, generated app
    python bench/profiler.py fastapi-memory ROUTES
    python bench/profiler.py calls WORKLOAD SYSTEM          # in-memory calls: shop|ping, mcpkit[-legacy]
    python bench/profiler.py http KIND MODE CLIENTS         # the server of bench/throughput.py under load

Each writes ``bench/profiles/<kind>-<arguments>.txt`` (``--out`` to choose): cProfile's top 25 by
own time and by cumulative time, or tracemalloc's top 25 allocation sites. ``http`` profiles the server
process (uvicorn; cProfile until it shuts down) while this process drives it with ``mcpkit.Client``,
and reports the CPU seconds each side used: when the client's equal the wall time, the client is what
limits calls/s. bench/run.py --profile runs the profiles of every row where mcpkit is not ahead or
misses a target.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import os
import pstats
import re
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).resolve().parent
PROFILES = HERE / "profiles"
TOP = 25


def stats_text(profile: cProfile.Profile | pstats.Stats) -> str:
    """Own time by package, then the top ``TOP`` functions by own time and by cumulative time.

    cProfile counts each resumption of a coroutine as a call: ``ncalls`` of async functions are
    higher than the number of calls.
    """
    stats = profile if isinstance(profile, pstats.Stats) else pstats.Stats(profile)
    out = io.StringIO()
    owned = by_package(stats)
    total = sum(owned.values()) or 1.0
    out.write(f"--- own time by package (of {total:.2f} s) ---\n")
    for name, own in sorted(owned.items(), key=lambda item: -item[1])[:TOP]:
        out.write(f"{own:8.3f} s {own / total:6.1%}  {name}\n")
    stats.stream = out  # type: ignore[attr-defined]
    for key in ("tottime", "cumulative"):
        out.write(f"\n--- top {TOP} by {key} ---\n")
        stats.sort_stats(key).print_stats(TOP)
    text = re.sub(r"/\S*?/site-packages/", "", out.getvalue())
    return text.replace(str(HERE.parent) + "/", "")


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Own seconds by package (C functions by their type)."""
    owned: dict[str, float] = {}
    for (filename, _, function), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        name = package(filename) if filename != "~" else f"C: {function.split(' of ')[-1].strip('<>')}"
        owned[name] = owned.get(name, 0.0) + own
    return owned


def package(filename: str) -> str:
    """Where a source file belongs: ``pydantic``, ``mcpkit_openapi``, ``stdlib asyncio``."""
    for pattern, prefix in (
        (r"site-packages/([^/]+)", ""),
        (r"/(mcpkit\w*)/", ""),
        (r"/(bench)/", ""),
        (r"/python3\.\d+/([^/]+)", "stdlib "),
    ):
        found = re.search(pattern, filename)
        if found:
            return prefix + found.group(1).removesuffix(".py")
    return filename


def cpu_profile(work: Callable[[], Any]) -> tuple[float, str]:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(work)
    return time.perf_counter() - started, stats_text(profile)


STACK = ("pydantic", "starlette", "fastapi", "httpx", "anyio", "mcp", "mcp.server", "mcp.client")
"""What any of the systems imports: the import memory below is split at these, then mcpkit's own."""


def untraced_steps(prepare: Callable[[], Callable[[], Any]]) -> dict[str, Any]:
    """RSS after importing the shared stack, after ``prepare`` (mcpkit's imports and plugins) and after
    the work, without tracemalloc (run in a fresh process: ``--untraced``)."""
    steps = [("start", rss_mb())]
    for module in STACK:
        importlib.import_module(module)
        steps.append((f"import {module}", rss_mb()))
    before = {name.split(".")[0] for name in sys.modules}
    work = prepare()
    steps.append(("mcpkit's imports and plugin discovery", rss_mb()))
    added = sorted({name.split(".")[0] for name in sys.modules} - before)
    kept = work()
    steps.append(("the work", rss_mb()))
    del kept
    return {"steps": steps, "added": added, "peak": peak_mb()}


def memory_profile(prepare: Callable[[], Callable[[], Any]], untraced: dict[str, Any]) -> str:
    """The RSS at each step (``untraced_steps``), then what the work allocates and keeps, by file and
    by line (tracemalloc, started after the imports).

    tracemalloc sees Python's allocator only: memory that native code (pydantic-core, orjson) takes
    with its own is in the RSS figures, not in the tables.
    """
    lines = ["--- RSS in a fresh process without tracemalloc (MB, and the growth of each step) ---"]
    previous = 0.0
    for step, rss in untraced["steps"]:
        lines.append(f"{rss:8.1f} {rss - previous:+8.1f}  {step}")
        previous = rss
    lines.append(f"peak RSS {untraced['peak']:.1f} MB")
    lines.append(f"top-level packages mcpkit's imports added: {', '.join(untraced['added'])}")
    work = prepare()
    tracemalloc.start(10)
    kept = work()
    done = tracemalloc.take_snapshot()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    lines.append(f"\ntracemalloc's peak during the work: {peak / 2**20:.1f} MB")
    for group in ("filename", "lineno"):
        lines.append(f"\n--- the work: memory still alive at its end, by {group} (top {TOP}) ---")
        for stat in done.statistics(group)[:TOP]:
            where = re.sub(r"/\S*?/site-packages/", "", str(stat.traceback[0]))
            lines.append(f"{stat.size / 2**20:8.2f} MB {stat.count:>9} blocks  {where}")
    return "\n".join(lines) + "\n"


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def listed(build: Callable[[], Any], connect: Any, list_tools: Any) -> Callable[[], Any]:
    """Work that builds a server and lists its tools once, in memory; it returns the server."""

    def work() -> Any:
        mcp = build()

        async def first() -> None:
            async with connect(mcp) as client:
                await list_tools(client)

        anyio.run(first)
        return mcp

    return work


def conversion_work(document: str, parser: str) -> Callable[[], Callable[[], Any]]:
    """Imports, then work: ``from_openapi`` from the file and the first listing."""
    import convert

    return lambda: listed(*convert._mcpkit(document, parser))


def fastapi_work(routes: int) -> Callable[[], Callable[[], Any]]:
    """Imports, then work: ``from_fastapi`` on a generated app (made first) and the first listing."""
    import fastapi_build

    app = fastapi_build.make_app(routes)
    return lambda: listed(*fastapi_build._mcpkit(app))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def profile_calls(workload: str, system: str, calls: int = 3000) -> str:
    """cProfile of ``calls`` in-memory calls (after a warm-up), client and server in this process, and of
    as many direct ASGI calls of the same endpoint: their difference by package is the MCP overhead."""
    import calls as bench_calls

    make_app, path, names, arguments = bench_calls.WORKLOADS[workload]

    async def profiled(connect: Any) -> tuple[float, cProfile.Profile]:
        profile = cProfile.Profile()
        async with connect as call:
            for _ in range(200):
                await call()
            started = time.perf_counter()
            profile.enable()
            for _ in range(calls):
                await call()
            profile.disable()
        return (time.perf_counter() - started) / calls, profile

    async def run() -> tuple[tuple[float, cProfile.Profile], tuple[float, cProfile.Profile]]:
        app = make_app()
        direct = await profiled(bench_calls.direct_caller(app, path))
        return direct, await profiled(bench_calls.SYSTEMS[system](app, names, arguments))

    (direct, floor), (per_call, profile) = anyio.run(run)
    ours, theirs = by_package(pstats.Stats(profile)), by_package(pstats.Stats(floor))
    lines = [
        f"{calls} in-memory calls of {workload} by {system}, then as many direct ASGI calls, pinned to one "
        f"CPU; per call under the profiler: {per_call * 1e6:.0f} µs, direct {direct * 1e6:.0f} µs",
        f"\n--- own time per call by package: the MCP call less the direct call (µs, top {TOP}) ---",
        "(negative: the direct call spends more there; httpx's ASGITransport tries `import sniffio` on",
        "every request, a failed import when sniffio is not installed: the <frozen importlib> lines)",
    ]
    extra = {
        name: (ours.get(name, 0.0) - theirs.get(name, 0.0)) / calls * 1e6 for name in ours.keys() | theirs
    }
    for name, micros in sorted(extra.items(), key=lambda item: -abs(item[1]))[:TOP]:
        lines.append(f"{micros:+8.1f} µs  {name}")
    return "\n".join(lines) + "\n\n===== the MCP calls =====\n" + stats_text(profile)


def profile_http(kind: str, mode: str, clients: int, seconds: float = 5.0) -> str:
    """Profile the server of ``kind`` (bench/throughput.py) while ``clients`` clients call it for ``seconds``
    (after a second of warm-up); the client's profile includes connecting its clients."""
    import throughput

    PROFILES.mkdir(exist_ok=True)
    out = PROFILES / f".server-{os.getpid()}.prof"
    port = throughput.free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "serve-profiled", kind, str(port), str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tool = "add" if kind in ("mcp", "mcp-json", "fastmcp") else "add_add_post"
    caller = throughput.fastapi_caller if kind == "fastapi" else throughput.mcp_caller(mode, tool)
    url = f"http://127.0.0.1:{port}"
    try:
        anyio.run(wait_for, port)
        anyio.run(throughput.calls_per_second, url, caller, clients, 1.0)  # warm-up, not profiled
        server.send_signal(signal.SIGUSR1)  # the server starts profiling
        client_profile = cProfile.Profile()
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        started = time.perf_counter()
        client_profile.enable()
        rate = anyio.run(throughput.calls_per_second, url, caller, clients, seconds)
        client_profile.disable()
        wall = time.perf_counter() - started
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
    finally:
        server.send_signal(signal.SIGINT)  # uvicorn shuts down, then the server writes its profile
        server.wait(timeout=30)
    server_stats = pstats.Stats(str(out))
    out.unlink()
    text = stats_text(server_stats)
    return (
        f"server {kind!r}, client mode {mode!r}, {clients} clients, {seconds:g} s: {rate:.0f} calls/s "
        f"under the profilers\nCPU seconds over {wall:.1f} s of wall time: server {server_cpu:.1f}, "
        f"client {client_cpu:.1f} (both processes share 2 cores; a side near the wall time is the limit)\n"
        f"\n===== the server (cProfile) =====\n{text}\n===== the client (cProfile) =====\n"
        + stats_text(client_profile)
    )


async def wait_for(port: int) -> None:
    with anyio.fail_after(30):
        while True:
            try:
                await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                return
            except OSError:
                await anyio.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_profiled(kind: str, port: int, out: str) -> None:
    """Serve ``kind``, profiling from SIGUSR1 (after the warm-up) until the server stops (SIGINT).

    cProfile sees the event loop's thread only: time in worker threads (sync endpoints) is not in it.
    """
    import throughput

    profile = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
    try:
        throughput.SERVERS[kind](port)
    finally:
        profile.disable()
        profile.dump_stats(out)


def main() -> None:
    options = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument("kind")
    options.add_argument("arguments", nargs="*")
    options.add_argument("--out", type=Path, help="the text file (default: bench/profiles/<kind>-...txt)")
    options.add_argument("--untraced", action="store_true", help=argparse.SUPPRESS)
    args = options.parse_args()
    kind, rest = args.kind, args.arguments
    if kind == "serve-profiled":
        serve_profiled(rest[0], int(rest[1]), rest[2])
        return
    import convert

    corpus = convert.DEFAULT_CORPUS
    if kind in ("convert", "convert-memory"):
        prepare = conversion_work(str(corpus / rest[0]), rest[1])
        title = f"from_openapi({rest[0]}, parser={rest[1]}) + first tools/list"
    elif kind in ("fastapi", "fastapi-memory"):
        prepare = fastapi_work(int(rest[0]))
        title = f"from_fastapi on a generated app of {rest[0]} routes + first tools/list"
    if kind in ("convert", "fastapi"):
        seconds, text = cpu_profile(prepare())
        text = f"{title}: {seconds:.3f} s under cProfile\n{text}"
    elif kind in ("convert-memory", "fastapi-memory") and args.untraced:
        print(json.dumps(untraced_steps(prepare)))
        return
    elif kind in ("convert-memory", "fastapi-memory"):
        child = subprocess.run(
            [sys.executable, __file__, kind, *rest, "--untraced"], capture_output=True, text=True, check=True
        )
        text = f"{title}\n{memory_profile(prepare, json.loads(child.stdout.strip().splitlines()[-1]))}"
    elif kind == "calls":
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
        text = profile_calls(rest[0], rest[1])
    elif kind == "http":
        text = profile_http(rest[0], rest[1], int(rest[2]))
    else:
        options.error(f"unknown profile {kind!r}")
    name = "-".join(re.sub(r"[^A-Za-z0-9.]+", "_", part).strip("_") for part in (kind, *rest))
    out = args.out or PROFILES / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(out)


if __name__ == "__main__":
    main()

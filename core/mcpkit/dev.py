"""``mcpkit dev``: serve over HTTP in a child process, restart it on every change, and start the MCP
Inspector pointed at it.

The server runs as ``python -m mcpkit.cli serve ... --transport http`` in a child process, so a
restart imports everything afresh; the parent only watches files (``watchfiles``) and restarts the
child. The Inspector is run with ``npx`` (which downloads it on first use, asking first on a
terminal), and only when Node.js 22 or later is there; otherwise the command to run is printed.
"""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpkit.cli_errors import CommandError
from mcpkit.plugins import get_plugin_host

if TYPE_CHECKING:
    from watchfiles import Change

INSPECTOR = "@modelcontextprotocol/inspector@2"
"""The MCP Inspector's npm package: version 2, whose ``--web --transport --server-url`` open it on a
server."""
MIN_NODE = 22
"""The oldest Node.js the Inspector runs on."""
STOP_SECONDS = 10.0
"""How long a child process may take to stop before it is killed."""
NODE_VERSION_SECONDS = 10.0
WATCHED_SUFFIXES = (".json", ".yaml", ".yml", ".toml")
"""Besides Python files, the files whose changes restart the server (documents, project files)."""

Report = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DevServer:
    """The server to run: its command line (a ``serve`` over HTTP) and the URL it serves at."""

    command: list[str]
    url: str


def inspector_command(url: str) -> list[str]:
    """The command starting the MCP Inspector's web UI on the server at ``url``."""
    return ["npx", INSPECTOR, "--web", "--transport", "http", "--server-url", url]


def run_dev(server: DevServer, *, watched: Sequence[Path], inspector: bool, report: Report) -> None:
    """Serve until Ctrl+C or SIGTERM, restarting on changes in ``watched``. Ctrl+C (SIGINT, even when
    inherited ignored, as by a shell's background job) raises ``KeyboardInterrupt`` once everything
    is stopped; SIGTERM returns."""
    try:
        import watchfiles
    except ImportError:
        raise CommandError("mcpkit dev watches files with watchfiles: pip install 'mcpkit[dev]'") from None
    get_plugin_host().transports.get("http")  # a missing plugin names its pip install, before starting
    directories = _directories(watched)
    stop, interrupted = threading.Event(), threading.Event()

    def on_signal(number: int, frame: object) -> None:
        if number == signal.SIGINT:
            interrupted.set()
        stop.set()

    previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    child = _Child(server.command, report, stop)
    viewer: subprocess.Popen[bytes] | None = None
    try:
        places = ", ".join(map(str, directories))
        report(f"mcpkit dev: serving at {server.url}; restarting on changes in {places}")
        child.start()
        if inspector:
            viewer = _start_inspector(server.url, report)
        else:
            report(f"mcpkit dev: to inspect it, run: {shlex.join(inspector_command(server.url))}")
        source_files = watchfiles.PythonFilter(extra_extensions=WATCHED_SUFFIXES)
        for changes in watchfiles.watch(*directories, watch_filter=source_files, stop_event=stop):
            report(f"mcpkit dev: {_changed(changes)} changed; restarting")
            child.stop()
            child.start()
    finally:
        child.stop()
        if viewer is not None:
            _stop(viewer)
        for number, handler in previous.items():
            signal.signal(number, handler)
    if interrupted.is_set():
        raise KeyboardInterrupt


def _directories(watched: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in watched:
        if not path.is_dir():
            raise CommandError(f"--reload-dir {path}: not a directory")
        resolved = path.resolve()
        if resolved not in found:
            found.append(resolved)
    return found


def _changed(changes: set[tuple[Change, str]]) -> str:
    names = sorted({Path(path).name for _, path in changes})
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


class _Child:
    """The server's process: started, stopped, and reported when it exits on its own."""

    def __init__(self, command: list[str], report: Report, stopping: threading.Event) -> None:
        self.command = command
        self.report = report
        self.stopping = stopping
        """Set once ``mcpkit dev`` stops (a Ctrl+C also stops the child by itself: no report)."""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        process = subprocess.Popen(self.command)
        self.process = process
        threading.Thread(target=self._watch, args=(process,), daemon=True).start()

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        code = process.wait()
        if process is self.process and not self.stopping.is_set():  # not stopped on purpose
            self.report(f"mcpkit dev: the server exited (code {code}); it restarts on the next change")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            _stop(process)


def _stop(process: subprocess.Popen[Any]) -> None:
    """Stop ``process`` (SIGTERM, then SIGKILL after :data:`STOP_SECONDS`) and wait for it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start_inspector(url: str, report: Report) -> subprocess.Popen[bytes] | None:
    """Start the Inspector if Node.js is recent enough; else say what to run."""
    command = inspector_command(url)
    missing = _missing_node()
    if missing is not None:
        report(
            f"mcpkit dev: the MCP Inspector needs Node.js {MIN_NODE} or later ({missing}); with it, run: "
            f"{shlex.join(command)}"
        )
        return None
    npx = shutil.which("npx")
    assert npx is not None  # _missing_node found it
    report(f"mcpkit dev: starting the MCP Inspector (npx downloads it on first use): {shlex.join(command)}")
    return subprocess.Popen([npx, *command[1:]])


def _missing_node() -> str | None:
    """Why the Inspector cannot run here, or ``None``."""
    node, npx = shutil.which("node"), shutil.which("npx")
    if node is None or npx is None:
        return "node and npx are not on PATH"
    try:
        done = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=NODE_VERSION_SECONDS
        )
        major = int(done.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return f"{node} --version did not say its version"
    return None if major >= MIN_NODE else f"{node} is version {major}"

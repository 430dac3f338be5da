"""``mcpkit dev``: the server is served over HTTP and restarted on every change (a broken file is
reported, and fixed, served again), and the MCP Inspector is started pointed at it, or the command to
start it printed when Node.js is missing or too old. Each test runs the installed command."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from mcpkit import Client
from mcpkit.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from mcpkit.dev import INSPECTOR
from tests.servers import free_port
from tests.test_cli import MCPKIT, run

WAIT = 120
"""Seconds to wait for what the command is expected to do (a bound, never an assertion)."""

SERVER = """
from mcpkit import MCPKit

mcp = MCPKit("dev")


@mcp.tool
def one() -> int:
    return 1
"""


class Dev:
    """``mcpkit dev`` running in ``directory``: its standard error read line by line as it comes."""

    def __init__(self, argv: list[str], directory: Path, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [MCPKIT, "dev", *argv], cwd=directory, env=env, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, text: str, after: int = 0) -> int:
        """Wait until a line (from line ``after`` on) contains ``text``; its index."""
        with self.changed:
            found = self.changed.wait_for(lambda: self._find(text, after) is not None, timeout=WAIT)
            assert found, f"mcpkit dev never printed {text!r}:\n{self.err}"
            index = self._find(text, after)
            assert index is not None
            return index

    def _find(self, text: str, after: int) -> int | None:
        return next((i for i, line in enumerate(self.lines) if i >= after and text in line), None)

    @property
    def err(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def stop(self, number: signal.Signals) -> int:
        self.process.send_signal(number)
        return self.process.wait(WAIT)


@pytest.fixture
def dev() -> Iterator[list[Dev]]:
    """The ``mcpkit dev`` commands a test starts; any still running at its end is killed."""
    started: list[Dev] = []
    yield started
    for command in started:
        if command.process.poll() is None:
            command.process.kill()
            command.process.wait()


def tools(url: str) -> set[str]:
    async def listed() -> set[str]:
        async with Client(url) as client:
            return {tool.name for tool in await client.list_tools()}

    return anyio.run(listed)


def serving(command: Dev, url: str, expected: set[str], after: int) -> int:
    """Wait until the server started after line ``after`` serves ``expected``; the line it said so."""
    line = command.wait_for("Uvicorn running on", after)
    assert tools(url) == expected
    return line


def test_the_server_restarts_on_every_change(tmp_path, dev):
    (tmp_path / "server.py").write_text(textwrap.dedent(SERVER))
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    command = Dev(["server.py", "--port", str(port), "--no-inspector"], tmp_path)
    dev.append(command)
    line = serving(command, url, {"one"}, 0)
    assert (
        f"mcpkit dev: to inspect it, run: npx {INSPECTOR} --web --transport http --server-url {url}"
        in command.err
    )

    with (tmp_path / "server.py").open("a") as file:
        file.write("\n\n@mcp.tool\ndef two() -> int:\n    return 2\n")
    line = command.wait_for("mcpkit dev: server.py changed; restarting", line)
    line = serving(command, url, {"one", "two"}, line)

    (tmp_path / "server.py").write_text("from mcpkit import MCPKit\nmcp = MCPKit(\n")  # a mistake
    line = command.wait_for("importing 'server.py' failed: SyntaxError", line)
    line = command.wait_for("mcpkit dev: the server exited (code 1); it restarts on the next change", line)
    (tmp_path / "server.py").write_text(
        textwrap.dedent(SERVER) + "\n\n@mcp.tool\ndef three() -> int:\n    return 3\n"
    )
    serving(command, url, {"one", "three"}, line)

    assert command.stop(signal.SIGINT) == EXIT_INTERRUPTED
    assert "Traceback" not in command.err


FAKE_NODE = "#!{python}\nprint({version!r})\n"
FAKE_NPX = """#!{python}
import os, sys, time
with open({record!r}, "w") as record:
    record.write(" ".join([str(os.getpid()), *sys.argv[1:]]) + "\\n")
time.sleep(600)
"""


def fake_tools(directory: Path, node: str, npx: bool) -> dict[str, str]:
    """An environment whose PATH has only a fake ``node`` (printing ``node`` as its version) and, if
    ``npx``, a fake ``npx`` that records its process id and arguments, then waits to be stopped."""
    directory.mkdir()
    scripts = {"node": FAKE_NODE.format(python=sys.executable, version=node)}
    if npx:
        scripts["npx"] = FAKE_NPX.format(python=sys.executable, record=str(directory / "npx.txt"))
    for name, script in scripts.items():
        (directory / name).write_text(script)
        (directory / name).chmod(stat.S_IRWXU)
    return {**os.environ, "PATH": str(directory)}


def test_the_inspector_is_started_pointed_at_the_project_s_server(tmp_path, dev):
    (tmp_path / "server.py").write_text(textwrap.dedent(SERVER))
    port = free_port()
    (tmp_path / "mcpkit.toml").write_text(f'source = "server.py"\n\n[http]\nport = {port}\npath = "/dev"\n')
    env = fake_tools(tmp_path / "bin", "v22.12.0", npx=True)
    command = Dev([], tmp_path, env)
    dev.append(command)
    url = f"http://127.0.0.1:{port}/dev"
    serving(command, url, {"one"}, 0)
    assert (
        f"mcpkit dev: starting the MCP Inspector (npx downloads it on first use): npx {INSPECTOR}"
        in command.err
    )
    record = tmp_path / "bin" / "npx.txt"
    for _ in range(WAIT * 100):
        if record.exists() and record.read_text().endswith("\n"):
            break
        anyio.run(anyio.sleep, 0.01)
    pid, *argv = record.read_text().split()
    assert argv == [INSPECTOR, "--web", "--transport", "http", "--server-url", url]

    assert command.stop(signal.SIGTERM) == EXIT_OK
    with pytest.raises(ProcessLookupError):  # the Inspector was stopped with it
        os.kill(int(pid), 0)


@pytest.mark.parametrize(
    ("node", "npx", "why"),
    [("v20.11.1", True, "/node is version 20"), ("v22.1.0", False, "node and npx are not on PATH")],
)
def test_without_a_recent_node_the_inspector_s_command_is_printed(tmp_path, dev, node, npx, why):
    (tmp_path / "server.py").write_text(textwrap.dedent(SERVER))
    port = free_port()
    command = Dev(["server.py", "--port", str(port)], tmp_path, fake_tools(tmp_path / "bin", node, npx))
    dev.append(command)
    line = command.wait_for("mcpkit dev: the MCP Inspector needs Node.js 22 or later (")
    assert why in command.lines[line]
    url = f"http://127.0.0.1:{port}/mcp"
    assert command.lines[line].endswith(
        f"); with it, run: npx {INSPECTOR} --web --transport http --server-url {url}\n"
    )
    serving(command, url, {"one"}, 0)
    assert command.stop(signal.SIGTERM) == EXIT_OK


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["server.py", "--", "--port", "1"],
            EXIT_USAGE,
            "--port: give these to mcpkit dev itself, not after --",
        ),
        (["server.py", "--", "--bogus"], EXIT_USAGE, "Unknown option: --bogus"),
        (["server.py", "--reload-dir", "nowhere"], EXIT_FAILED, "--reload-dir nowhere: not a directory"),
        ([], EXIT_USAGE, "no TARGET, and no project file in this directory"),
    ],
)
def test_mistakes_are_found_before_anything_starts(capsys, tmp_path, monkeypatch, argv, code, message):
    (tmp_path / "server.py").write_text(textwrap.dedent(SERVER))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    exit_code, out, err = run(capsys, "dev", *argv)
    assert (exit_code, out) == (code, "")
    assert message in err

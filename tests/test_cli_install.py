"""``mcpkit install CLIENT [TARGET]``: the server is added to each client's configuration, other
entries kept; secrets go by reference where the client can read one, and are refused elsewhere;
``--dry-run`` prints the change. Every configuration lives under a temporary HOME: the real one is
never read nor written."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from mcp.client.stdio import StdioServerParameters

from mcpkit import Client
from mcpkit.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.test_cli import MCPKIT, run

SERVER = """
import os

from mcpkit import MCPKit

mcp = MCPKit("notes")


@mcp.tool
def where() -> dict[str, str]:
    return {"cwd": os.getcwd(), "token": "set" if os.environ.get("NOTES_TOKEN") else "unset"}
"""

ENTRY_ARGS = ["serve", "--directory"]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A project directory (notes.py) made the current directory, and a HOME of its own."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.py").write_text(textwrap.dedent(SERVER))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield home
    sys.modules.pop("notes", None)


def read(path: Path) -> dict:
    return json.loads(path.read_text())


def launcher() -> list[str]:
    return [str(Path(sys.executable).with_name("mcpkit"))]


CLIENTS = [
    # client, its file (under HOME, or the working directory), servers key, "type", how a secret is referred to
    ("claude-desktop", "~/.config/Claude/claude_desktop_config.json", "mcpServers", None, None),
    ("claude-code", ".mcp.json", "mcpServers", "stdio", "${NOTES_TOKEN}"),
    ("cursor", "~/.cursor/mcp.json", "mcpServers", "stdio", "${env:NOTES_TOKEN}"),
    ("vscode", ".vscode/mcp.json", "servers", "stdio", "${input:NOTES_TOKEN}"),
]


def where(home: Path, file: str) -> Path:
    return home / file.removeprefix("~/") if file.startswith("~/") else Path.cwd() / file


@pytest.mark.parametrize(("client", "file", "key", "kind", "reference"), CLIENTS, ids=[c[0] for c in CLIENTS])
def test_each_client_gets_its_own_format(capsys, home, client, file, key, kind, reference):
    argv = ["install", client, "notes.py", "--env", "NOTES_LEVEL=debug"]
    if reference:
        argv += ["--secret", "NOTES_TOKEN"]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (EXIT_OK, "")
    path = where(home, file)
    assert out.startswith(f"mcpkit: added the server 'notes' in {path}")
    entry = read(path)[key]["notes"]
    expected = {
        "command": launcher()[0],
        "args": [*ENTRY_ARGS, str(Path.cwd()), "notes.py"],
        "env": {"NOTES_LEVEL": "debug", **({"NOTES_TOKEN": reference} if reference else {})},
    }
    assert entry == ({"type": kind} if kind else {}) | expected
    assert path.stat().st_mode & 0o777 == 0o600  # a new file: the owner's only
    if client == "vscode":
        assert read(path)["inputs"] == [
            {
                "type": "promptString",
                "id": "NOTES_TOKEN",
                "description": "NOTES_TOKEN for the server 'notes'",
                "password": True,
            }
        ]


def test_other_entries_and_keys_are_kept(capsys, home):
    path = home / ".cursor" / "mcp.json"
    path.parent.mkdir()
    others = {"globalShortcut": "Ctrl+M", "mcpServers": {"github": {"command": "gh-mcp", "args": []}}}
    path.write_text(json.dumps(others, indent=4))
    assert run(capsys, "install", "cursor", "notes.py")[0] == EXIT_OK
    document = read(path)
    assert list(document) == ["globalShortcut", "mcpServers"]
    assert list(document["mcpServers"]) == ["github", "notes"]
    assert document["mcpServers"]["github"] == {"command": "gh-mcp", "args": []}


def test_an_entry_of_the_same_name_is_replaced_only_when_asked(capsys, home):
    path = Path.cwd() / ".mcp.json"
    assert run(capsys, "install", "claude-code", "notes.py")[0] == EXIT_OK
    before = path.read_text()
    code, out, err = run(capsys, "install", "claude-code", "notes.py", "--env", "A=1")
    assert (code, out) == (EXIT_FAILED, "")
    assert (
        f"{path} already has a server named 'notes': --replace replaces it, --name gives this one another name"
        in err
    )
    assert path.read_text() == before
    assert (
        run(capsys, "install", "claude-code", "notes.py")[1]
        == f"mcpkit: {path} already has the server 'notes'; nothing to change\n"
    )
    assert run(capsys, "install", "claude-code", "notes.py", "--env", "A=1", "--replace")[0] == EXIT_OK
    assert read(path)["mcpServers"]["notes"]["env"] == {"A": "1"}
    assert run(capsys, "install", "claude-code", "notes.py", "--name", "notes-2")[0] == EXIT_OK
    assert list(read(path)["mcpServers"]) == ["notes", "notes-2"]


def test_dry_run_prints_the_change_and_writes_nothing(capsys, home):
    path = home / ".config" / "Claude" / "claude_desktop_config.json"
    code, out, _ = run(capsys, "install", "claude-desktop", "notes.py", "--dry-run")
    assert code == EXIT_OK
    assert not path.exists()
    assert out.startswith(f"--- /dev/null\n+++ {path}\n")
    assert '+      "command": ' in out
    assert out.endswith(f"mcpkit: --dry-run: {path} was not changed\n")

    path.parent.mkdir(parents=True)
    path.write_text('{"mcpServers": {"notes": {"command": "old"}}}')
    code, out, _ = run(capsys, "install", "claude-desktop", "notes.py", "--dry-run", "--replace")
    assert code == EXIT_OK
    assert f"--- {path}\n+++ {path}\n" in out
    assert '-{"mcpServers": {"notes": {"command": "old"}}}' in out
    assert read(path) == {"mcpServers": {"notes": {"command": "old"}}}


def test_secrets_are_refused_where_the_client_cannot_read_them(capsys, home):
    for client in ("claude-desktop", "mcp-json"):
        code, out, err = run(capsys, "install", client, "notes.py", "--secret", "NOTES_TOKEN")
        assert (code, out) == (EXIT_FAILED, "")
        assert "cannot read a secret from the environment (NOTES_TOKEN): give each as --env NAME=VALUE" in err
    assert not (home / ".config").exists()
    # Given by value, it is written (the user asked for it).
    assert (
        run(
            capsys,
            "install",
            "claude-desktop",
            "notes.py",
            "--secret",
            "NOTES_TOKEN",
            "--env",
            "NOTES_TOKEN=t",
        )[0]
        == EXIT_OK
    )


def test_the_project_s_environment_variables_go_by_reference(capsys, home):
    Path("pyproject.toml").write_text(
        textwrap.dedent("""
        [project]
        name = "Notes app"

        [tool.mcpkit]
        source = "notes.py"

        [tool.mcpkit.auth]
        token = {env = "NOTES_TOKEN"}
        """)
    )
    assert run(capsys, "install", "vscode")[0] == EXIT_OK
    path = Path.cwd() / ".vscode" / "mcp.json"
    entry = read(path)["servers"]["notes-app"]
    assert entry["args"] == [*ENTRY_ARGS, str(Path.cwd())]
    assert entry["env"] == {"NOTES_TOKEN": "${input:NOTES_TOKEN}"}
    # A second server with the same secret: the input is not asked for twice.
    assert run(capsys, "install", "vscode", "--name", "again")[0] == EXIT_OK
    assert [i["id"] for i in read(path)["inputs"]] == ["NOTES_TOKEN"]
    code, _, err = run(capsys, "install", "claude-desktop")
    assert code == EXIT_FAILED
    assert "Claude Desktop cannot read a secret from the environment (NOTES_TOKEN)" in err


def test_mcp_json_prints_the_entry_or_writes_a_file(capsys, home, tmp_path):
    code, out, _ = run(capsys, "install", "mcp-json", "notes.py", "--", "--transport", "stdio")
    assert code == EXIT_OK
    assert json.loads(out) == {
        "mcpServers": {
            "notes": {
                "command": launcher()[0],
                "args": [*ENTRY_ARGS, str(Path.cwd()), "notes.py", "--transport", "stdio"],
            }
        }
    }
    config = tmp_path / "clients" / "mcp.json"
    assert run(capsys, "install", "mcp-json", "notes.py", "--config", config)[0] == EXIT_OK
    assert list(read(config)["mcpServers"]) == ["notes"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"servers": {}, // mine\n}',
            "is not valid JSON (Expecting property name enclosed in double quotes",
        ),
        ("[1, 2]", "holds a JSON list, not an object; nothing was written"),
        ('{"servers": []}', "servers is not an object; nothing was written"),
        ('{"servers": {}, "inputs": {}}', "inputs is not a list; nothing was written"),
    ],
)
def test_a_configuration_it_cannot_read_is_left_alone(capsys, home, content, message):
    path = Path(".vscode") / "mcp.json"
    path.parent.mkdir()
    path.write_text(content)
    code, out, err = run(capsys, "install", "vscode", "notes.py", "--secret", "NOTES_TOKEN")
    assert (code, out) == (EXIT_FAILED, "")
    assert message in err
    assert path.read_text() == content


def test_a_symbolic_link_is_followed_and_permissions_kept(capsys, home, tmp_path):
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text("{}")
    real.chmod(0o640)
    (home / ".cursor").mkdir()
    (home / ".cursor" / "mcp.json").symlink_to(real)
    assert run(capsys, "install", "cursor", "notes.py")[0] == EXIT_OK
    assert (home / ".cursor" / "mcp.json").is_symlink()
    assert list(read(real)["mcpServers"]) == ["notes"]
    assert real.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["install", "zed", "notes.py"],
            EXIT_USAGE,
            'Invalid value "zed" for CLIENT. Choose from: "claude-desktop"',
        ),
        (["install", "cursor", "notes.py", "--env", "NO VALUE"], EXIT_USAGE, "--env takes KEY=VALUE"),
        (
            ["install", "cursor", "notes.py", "--secret", "1X"],
            EXIT_USAGE,
            "--secret takes an environment variable name, not '1X'",
        ),
        (["install", "cursor", "notes.py", "--", "--bogus"], EXIT_USAGE, "Unknown option: --bogus"),
        (["install", "cursor", "nowhere.py"], EXIT_FAILED, "no file 'nowhere.py'"),
        (
            ["install", "cursor", "notes.py:nope"],
            EXIT_FAILED,
            "notes.py has no attribute 'nope'; servers in it: mcp",
        ),
    ],
)
def test_mistakes_are_found_before_anything_is_written(capsys, home, argv, code, message):
    exit_code, out, err = run(capsys, *argv)
    assert (exit_code, out) == (code, "")
    assert message in err
    assert not (home / ".cursor").exists()


async def test_the_installed_entry_launches_the_server(home, tmp_path):
    """The installed command, run as a subprocess under a temporary HOME, writes an entry that
    starts the server from any directory, with the environment the client gives it."""
    env = {**os.environ, "HOME": str(home)}
    command = [MCPKIT, "install", "claude-desktop", "notes.py", "--env", "NOTES_TOKEN=t-1"]
    done = await anyio.run_process(command, env=env, check=False)
    assert (done.returncode, done.stderr) == (EXIT_OK, b"")
    entry = read(home / ".config" / "Claude" / "claude_desktop_config.json")["mcpServers"]["notes"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = StdioServerParameters(
        command=entry["command"], args=entry["args"], env=entry["env"], cwd=str(elsewhere)
    )
    async with Client(command) as client:
        assert (await client.call_tool("where")).data == {"cwd": str(Path.cwd()), "token": "set"}

"""What ``mcpkit serve`` and ``mcpkit inspect`` take: any server, found through the target resolvers
plugins register (``mcpkit_register_target_resolvers``): an MCPKit server, a function returning one,
a FastAPI app, an OpenAPI document (a file, a URL, a loaded mapping), or a ``file.py`` holding one
server. In-process runs check the details; subprocesses run the installed command end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mcp.client.stdio import StdioServerParameters

from mcpkit import Client
from mcpkit.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.locations import ROOT
from tests.test_cli import MCPKIT, PETSTORE, run, run_json

NOTES = '''
from mcpkit import MCPKit

mcp = MCPKit("notes", version="2.1")
NOTES = ["buy milk"]


@mcp.tool(tags={"write"})
def add(text: str) -> str:
    """Add a note."""
    NOTES.append(text)
    return f"{len(NOTES)} notes"


@mcp.resource("notes://all")
def all_notes() -> list[str]:
    return NOTES


@mcp.resource("notes://{index}")
def note(index: int) -> str:
    return NOTES[index]


@mcp.prompt
def summarize(text: str, style: str = "short") -> str:
    return f"Summarize, {style}: {text}"


def create() -> MCPKit:
    return mcp


async def create_later() -> MCPKit:
    return mcp


def create_app():
    from fastapi import FastAPI

    return FastAPI(title="Made by a factory")


def nothing() -> int:
    return 3


def broken() -> MCPKit:
    raise RuntimeError("no database")
'''

GATEWAY = """
from fastapi import FastAPI
from mcpkit import MCPKit

app = FastAPI(title="Gateway")


@app.get("/ping")
def ping() -> str:
    return "pong"


mcp = MCPKit.from_fastapi(app, name="Gateway MCP")
"""

TWO_SERVERS = """
from mcpkit import MCPKit

first = MCPKit("first")
second = MCPKit("second")
"""

DOCUMENT_MODULE = """
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "In a module", "version": "3"},
    "paths": {"/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "pong"}}}}},
}
"""


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working directory holding the modules above; they are forgotten afterwards."""
    modules = {"notes": NOTES, "gateway": GATEWAY, "two": TWO_SERVERS, "loaded": DOCUMENT_MODULE}
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in [*modules, "mcpkit_target_json"]:
        sys.modules.pop(name, None)


NOTES_COMPONENTS = [
    {"kind": "tool", "name": "add", "method": None, "path": None, "tags": ["write"], "annotations": {}},
    {"kind": "resource", "name": "all_notes", "method": None, "path": None, "tags": [], "uri": "notes://all"},
    {
        "kind": "resource_template",
        "name": "note",
        "method": None,
        "path": None,
        "tags": [],
        "uri": "notes://{index}",
    },
    {
        "kind": "prompt",
        "name": "summarize",
        "method": None,
        "path": None,
        "tags": [],
        "arguments": [{"name": "text", "required": True}, {"name": "style", "required": False}],
    },
]


def test_an_mcpkit_server_is_inspected_from_its_components(capsys, here):
    report = run_json(capsys, "inspect", "notes:mcp")
    assert (report["source"], report["title"], report["version"]) == ("notes:mcp", "notes", "2.1")
    assert report["components"] == NOTES_COMPONENTS
    assert report["excluded"] == report["skipped"] == report["warnings"] == []

    code, out, err = run(capsys, "inspect", "notes:mcp")
    assert (code, err) == (EXIT_OK, "")
    assert "notes 2.1: 1 tool, 1 resource, 1 resource template, 1 prompt\n" in out
    assert "excluded by route maps" not in out  # no operations: nothing was converted
    rows = {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in out.splitlines()}
    assert ("prompt", "summarize", "text, style?") in rows
    assert ("resource_template", "note", "notes://{index}") in rows
    assert "Method" not in out


@pytest.mark.parametrize("factory", ["create", "create_later"])
def test_a_function_returning_a_server_is_called(capsys, here, factory):
    assert run_json(capsys, "inspect", f"notes:{factory}")["components"] == NOTES_COMPONENTS


def test_a_function_returning_a_fastapi_app_is_called_too(capsys, here):
    assert run_json(capsys, "inspect", "notes:create_app")["title"] == "Made by a factory"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("notes:nothing", "nothing serves notes:nothing (a function returning a value of type int)"),
        ("notes:broken", "calling notes:broken() failed: RuntimeError: no database"),
        ("notes:NOTES", "nothing serves notes:NOTES (a value of type list)"),
        ("two.py", "two.py defines several servers (first, second); name one as two.py:NAME"),
        ("loaded.py:nope", "loaded.py has no attribute 'nope'; servers in it: DOCUMENT"),
        ("missing.py", "no file 'missing.py'"),
    ],
)
def test_what_is_not_a_server_is_a_clear_error(capsys, here, target, message):
    code, out, err = run(capsys, "inspect", target)
    assert (code, out) == (EXIT_FAILED, "")
    assert err.count("\n") == 1
    assert message in err


def test_a_file_with_no_server_says_what_it_could_hold(capsys, here):
    (here / "empty.py").write_text("X = 1\n")
    code, _, err = run(capsys, "inspect", "empty.py")
    assert code == EXIT_FAILED
    assert "empty.py defines no server (an MCPKit server, a function returning one, a FastAPI app" in err


def test_a_file_is_searched_for_its_one_server(capsys, here):
    assert run_json(capsys, "inspect", "notes.py")["components"] == NOTES_COMPONENTS
    assert run_json(capsys, "inspect", str(here / "notes.py"))["title"] == "notes"
    # An app and the MCP server built from it: the server is what is served.
    assert run_json(capsys, "inspect", "gateway.py")["title"] == "Gateway MCP"
    assert run_json(capsys, "inspect", "gateway.py:app")["title"] == "Gateway"
    assert run_json(capsys, "inspect", "two.py:second")["title"] == "second"


def test_a_file_named_like_a_module_in_use_does_not_replace_it(capsys, here):
    (here / "json.py").write_text(textwrap.dedent(TWO_SERVERS))
    assert run_json(capsys, "inspect", "json.py:first")["title"] == "first"
    assert sys.modules["json"] is json  # the standard library's, still
    assert json.dumps([1]) == "[1]"


def test_a_loaded_openapi_document_in_a_module(capsys, here):
    report = run_json(capsys, "inspect", "loaded:DOCUMENT")
    assert (report["title"], [c["name"] for c in report["components"]]) == ("In a module", ["ping"])
    assert run_json(capsys, "inspect", "loaded.py")["title"] == "In a module"


@pytest.mark.parametrize(
    ("argv", "flags"),
    [
        (["serve", "notes:mcp", "--resources"], "--resources"),
        (["serve", "notes.py", "--base-url", "http://x", "--name", "n"], "--base-url, --name"),
        (["serve", "notes:create", "--header", "X-A: 1", "--auth", "t=s3cret"], "--header, --auth"),
        (["inspect", "notes:mcp", "--exclude-tags", "write"], "--exclude-tags"),
    ],
)
def test_a_ready_server_refuses_conversion_options(capsys, here, argv, flags):
    code, _, err = run(capsys, *argv)
    assert code == EXIT_USAGE
    assert f"is an MCPKit server, served as it is: {flags} (given here or in the project file)" in err
    assert "s3cret" not in err


def test_target_resolvers_are_asked_in_load_order(capsys, here, fake_distribution):
    greedy = (
        "from mcpkit import MCPKit, hookimpl\n"
        "from mcpkit.targets import Target\n\n"
        "@hookimpl\n"
        "def mcpkit_register_target_resolvers(register):\n"
        "    register('greedy', lambda value: Target('anything', lambda **o: MCPKit('greedy')))\n"
    )
    fake_distribution("greedy-mcp", {"zz-greedy": "greedy_target"}, {"greedy_target": greedy})
    assert run_json(capsys, "plugins")["plugins"][-1]["hooks"] == {
        "mcpkit_register_target_resolvers": ["greedy"]
    }
    assert run_json(capsys, "inspect", "notes:mcp")["title"] == "notes"  # the kernel's mcpkit: first
    code, _, err = run(capsys, "inspect", "notes:NOTES")  # nobody else claims a list: the last one does
    assert (code, err.strip()) == (
        EXIT_FAILED,
        "error: notes:NOTES (anything) cannot be inspected: its target has no inspect()",
    )


@pytest.mark.parametrize(
    ("resolver", "message"),
    [
        ("lambda value: 1 / 0", "the target resolver 'oops' (plugin 'oops') failed: ZeroDivisionError"),
        (
            "lambda value: 'yes'",
            "the target resolver 'oops' (plugin 'oops') returned str, not a mcpkit.targets.Target",
        ),
    ],
)
def test_a_broken_target_resolver_is_named(capsys, here, fake_distribution, resolver, message):
    source = f"from mcpkit import hookimpl\n\n@hookimpl\ndef mcpkit_register_target_resolvers(register):\n    register('oops', {resolver})\n"
    fake_distribution("oops-mcp", {"oops": "oops_target"}, {"oops_target": source})
    code, _, err = run(capsys, "inspect", "notes:NOTES")
    assert code == EXIT_FAILED
    assert message in err


# The installed command


def test_inspect_the_quickstart_example():
    done = subprocess.run(
        [MCPKIT, "inspect", "examples.quickstart:mcp"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (EXIT_OK, "")
    assert "quickstart 0.1.0: 2 tools, 1 resource, 0 resource templates, 1 prompt" in done.stdout
    for name in ("forecast", "refresh", "weather://cities", "packing_list"):
        assert name in done.stdout


async def test_serve_a_file_over_stdio_from_another_directory(tmp_path):
    command = StdioServerParameters(
        command=str(MCPKIT), args=["serve", str(ROOT / "examples" / "quickstart.py")], cwd=str(tmp_path)
    )
    progress: list[str | None] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message)

    async with Client(command) as client:
        assert client.server_info is not None
        assert client.server_info.name == "quickstart"
        result = await client.call_tool("refresh", progress_handler=on_progress)
        assert (result.data, progress) == ("2 forecasts refreshed", ["refreshed paris", "refreshed oslo"])
        prompt = await client.get_prompt("packing_list", {"city": "Oslo"})
        assert prompt.messages[0].content.text == "Tomorrow brings 4.0 °C in Oslo. What should I pack?"


def test_serve_refuses_conversion_options_for_a_server_as_a_subprocess():
    done = subprocess.run(
        [MCPKIT, "serve", "examples.quickstart:mcp", "--discovery", "search"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == EXIT_USAGE
    assert done.stderr.startswith(
        "error: examples.quickstart:mcp is an MCPKit server, served as it is: --discovery"
    )


def test_a_document_by_path_still_serves(capsys):
    assert run_json(capsys, "inspect", Path(PETSTORE))["title"] == "Swagger Petstore"

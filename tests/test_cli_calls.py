"""``mcpkit list`` and ``mcpkit call``: any server (a module built here and connected in memory, a
URL, a command over stdio, the project), its tools, resources and prompts listed, a tool called with
``NAME=VALUE`` or JSON arguments read as its schema says, the result printed as text or JSON."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import textwrap

import anyio
import pytest

from mcpkit.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from tests.locations import ROOT
from tests.test_cli import MCPKIT, run

QUICKSTART = str(ROOT / "examples" / "quickstart.py")

KINDS = '''
from mcpkit import Context, Image, MCPKit, ToolError

mcp = MCPKit("kinds", version="1")


@mcp.tool
def echo(code: str, count: int, ratio: float = 1.0, tags: list[str] | None = None, flag: bool = False) -> dict:
    """Say it back.

    Every argument, as received."""
    return {"code": code, "count": count, "ratio": ratio, "tags": tags, "flag": flag}


@mcp.tool
def fail() -> str:
    raise ToolError("no luck")


@mcp.tool
def picture() -> Image:
    return Image(data=b"0123456789", format="png")


@mcp.tool
async def chatty(ctx: Context) -> str:
    await ctx.info("hello from the tool")
    await ctx.debug("too quiet to hear")
    return "done"
'''


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich tables are not wrapped


@pytest.fixture
def here(tmp_path, monkeypatch):
    (tmp_path / "kinds.py").write_text(textwrap.dedent(KINDS))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    sys.modules.pop("kinds", None)


def test_list_a_server_built_here(capsys, here):
    code, out, err = run(capsys, "list", "kinds.py")
    assert (code, err) == (EXIT_OK, "")
    assert out.startswith("kinds 1: 4 tools, 0 resources, 0 resource templates, 0 prompts\n")
    rows = {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in out.splitlines()}
    assert (
        "echo",
        "code: string, count: integer, ratio?: number, tags?: array | null, flag?: boolean",
        "Say it back.",
    ) in rows

    code, out, _ = run(capsys, "list", "kinds:mcp", "--json")
    listing = json.loads(out)
    assert listing["server"] == {"name": "kinds", "version": "1"}
    assert [tool["name"] for tool in listing["tools"]] == ["echo", "fail", "picture", "chatty"]
    assert listing["tools"][0]["inputSchema"]["required"] == ["code", "count"]
    assert listing["resources"] == listing["resource_templates"] == listing["prompts"] == []


def test_list_resources_and_prompts(capsys):
    listing = json.loads(run(capsys, "list", QUICKSTART, "--json")[1])
    assert [(r["uri"], r["name"]) for r in listing["resources"]] == [("weather://cities", "cities")]
    assert [(p["name"], [a["name"] for a in p["arguments"]]) for p in listing["prompts"]] == [
        ("packing_list", ["city"])
    ]
    code, out, _ = run(capsys, "list", QUICKSTART)
    assert code == EXIT_OK
    for title in ("Tools", "Resources", "Prompts"):
        assert f" {title} " in out or f"{title}\n" in out
    assert "Resource templates" not in out  # none: no table


@pytest.mark.parametrize(
    ("arguments", "received"),
    [
        (["code=007", "count=3"], {"code": "007", "count": 3, "ratio": 1.0, "tags": None, "flag": False}),
        (
            ["code=true", "count=1", "ratio=2.5", 'tags=["a", "b"]', "flag=true"],
            {"code": "true", "count": 1, "ratio": 2.5, "tags": ["a", "b"], "flag": True},
        ),
        (
            ['{"code": "x", "count": 2}', "count=5"],
            {"code": "x", "count": 5, "ratio": 1.0, "tags": None, "flag": False},
        ),
        (
            ["code=", "count=0", "tags=null"],
            {"code": "", "count": 0, "ratio": 1.0, "tags": None, "flag": False},
        ),
    ],
)
def test_arguments_are_read_as_the_schema_says(capsys, here, arguments, received):
    code, out, err = run(capsys, "call", "kinds.py", "echo", *arguments)
    assert (code, err) == (EXIT_OK, "")
    assert json.loads(out) == received


def test_a_value_of_the_wrong_type_is_the_server_s_to_refuse(capsys, here):
    code, out, err = run(capsys, "call", "kinds.py", "echo", "code=x", "count=many")
    assert (code, out) == (EXIT_FAILED, "")
    assert err.startswith("error: tool 'echo' failed: ")
    assert "'many' is not of type 'integer'" in err


def test_json_output_and_content_blocks(capsys, here):
    code, out, _ = run(capsys, "call", "kinds.py", "echo", "code=a", "count=1", "--json")
    assert code == EXIT_OK
    result = json.loads(out)
    assert result["isError"] is False
    assert result["structuredContent"] == {"code": "a", "count": 1, "ratio": 1.0, "tags": None, "flag": False}
    assert result["content"][0]["type"] == "text"
    assert run(capsys, "call", "kinds.py", "picture")[1] == "[image, image/png, 10 bytes]\n"


def test_an_error_result_fails_the_command(capsys, here):
    code, out, err = run(capsys, "call", "kinds.py", "fail")
    assert (code, out, err) == (EXIT_FAILED, "", "error: tool 'fail' failed: no luck\n")
    code, out, err = run(capsys, "call", "kinds.py", "fail", "--json")
    assert code == EXIT_FAILED
    assert json.loads(out) == {"content": [{"type": "text", "text": "no luck"}], "isError": True}
    assert err == "error: tool 'fail' failed: no luck\n"


def test_progress_and_log_messages_go_to_standard_error(capsys, here):
    code, out, err = run(capsys, "call", QUICKSTART, "refresh")
    assert (code, out) == (EXIT_OK, "2 forecasts refreshed\n")
    assert err == "progress 1/2: refreshed paris\nprogress 2/2: refreshed oslo\n"
    code, out, err = run(capsys, "call", "kinds.py", "chatty")
    assert (code, out, err) == (EXIT_OK, "done\n", "info: hello from the tool\n")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["call", "kinds.py", "nope"],
            EXIT_FAILED,
            "'kinds' has no tool 'nope'; its tools: chatty, echo, fail, picture",
        ),
        (
            ["call", "kinds.py", "echo", "code"],
            EXIT_USAGE,
            "an argument is NAME=VALUE or a JSON object, not 'code'",
        ),
        (
            ["call", "kinds.py", "echo", "{code: 1}"],
            EXIT_USAGE,
            "an argument starts like a JSON object but is not valid JSON",
        ),
        (["call", "kinds.py", "bad name!"], EXIT_USAGE, "'bad name!' is not a tool name"),
        (["call"], EXIT_USAGE, "call takes [TARGET] TOOL [ARGUMENT...]: give the tool's name"),
        (["call", "echo", "code=1"], EXIT_USAGE, "no TARGET, and no project file in this directory"),
        (
            ["list", "kinds.py", "--header", "X-A: 1"],
            EXIT_USAGE,
            "--header and --sse apply to a TARGET that is a URL",
        ),
        (
            ["list", "kinds.py", "--command", "python kinds.py"],
            EXIT_USAGE,
            "give a TARGET or --command, not both",
        ),
        (["list", "--command", " "], EXIT_USAGE, "--command takes a command line"),
        (
            ["list", "http://127.0.0.1:9/mcp", "--header", "nocolon"],
            EXIT_USAGE,
            "--header takes 'Name: value'",
        ),
        (["list", "kinds.py", "--timeout", "0"], EXIT_USAGE, "--timeout takes a positive number of seconds"),
    ],
)
def test_mistakes_are_one_line(capsys, here, argv, code, message):
    exit_code, out, err = run(capsys, *argv)
    assert (exit_code, out) == (code, "")
    assert err.count("\n") == 1
    assert message in err


def test_a_server_that_does_not_answer_is_given_up_on(capsys, here):
    silent = shlex.join([sys.executable, "-c", "import time; time.sleep(60)"])
    code, _, err = run(capsys, "list", "--command", silent, "--timeout", "0.5")
    assert code == EXIT_FAILED
    assert err == f"error: {silent} gave no answer within 0.5 s\n"


def test_call_the_project_s_server(capsys, here):
    (here / "mcpkit.toml").write_text('source = "kinds.py"\n')
    code, out, _ = run(capsys, "call", "echo", "code=p", "count=1")
    assert code == EXIT_OK
    assert json.loads(out)["code"] == "p"
    assert json.loads(run(capsys, "call", ".", "echo", '{"code": "q", "count": 2}')[1])["code"] == "q"
    assert "kinds 1: 4 tools" in run(capsys, "list")[1]


# The installed command, against servers of every kind


def mcpkit(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MCPKIT, *argv], capture_output=True, text=True, check=False, timeout=120)


def test_list_and_call_a_command_over_stdio():
    command = shlex.join([str(MCPKIT), "serve", QUICKSTART])
    done = mcpkit("list", "--command", command, "--json")
    assert done.returncode == EXIT_OK, done.stderr
    assert [tool["name"] for tool in json.loads(done.stdout)["tools"]] == ["forecast", "refresh"]
    done = mcpkit("call", "--command", command, "forecast", "city=Oslo")
    assert (done.returncode, json.loads(done.stdout)) == (EXIT_OK, {"city": "Oslo", "celsius": 4.0})


@pytest.fixture(scope="module")
def served_over_http():
    """The quickstart served over Streamable HTTP by ``mcpkit serve``; stopped after the module."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [MCPKIT, "serve", QUICKSTART, "--transport", "http", "--port", str(port)]
    process = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
    try:
        for _ in range(3000):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "the server did not start"
                anyio.run(anyio.sleep, 0.01)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(30)


def test_list_and_call_a_url(served_over_http):
    done = mcpkit("list", served_over_http)
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.startswith("quickstart 0.1.0: 2 tools, 1 resource, 0 resource templates, 1 prompt\n")
    done = mcpkit("call", served_over_http, "refresh", "--header", "X-Trace: t-1")
    assert (done.returncode, done.stdout) == (EXIT_OK, "2 forecasts refreshed\n")
    assert "progress 2/2: refreshed oslo" in done.stderr
    done = mcpkit("call", served_over_http, "forecast", "city=Rome")
    assert done.returncode == EXIT_FAILED
    assert done.stderr == "error: tool 'forecast' failed: no forecast for 'Rome'; known cities: paris, oslo\n"


def test_a_url_that_does_not_answer_is_a_one_line_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = mcpkit("list", f"http://me:s3cret@127.0.0.1:{port}/mcp")
    assert done.returncode == EXIT_FAILED
    assert done.stderr.startswith(f"error: http://me:***@127.0.0.1:{port}/mcp: ")  # its password left out
    assert done.stderr.count("\n") == 1

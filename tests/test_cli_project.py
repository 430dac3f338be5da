"""The project file: ``[tool.mcpkit]`` in pyproject.toml, or mcpkit.toml, says what ``mcpkit serve``
(with no TARGET) serves and how; the command line wins over it. Unknown keys and bad values are
refused with the file, the key and the valid choices; secrets are only ever named, never written."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from typing import Any, ClassVar

import anyio
import pytest
from mcp.client.stdio import StdioServerParameters

from mcpkit import Client, MCPKit, hookimpl
from mcpkit.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from mcpkit.plugins import get_plugin_host
from mcpkit.project import MAX_PROJECT_FILE_BYTES
from mcpkit.transports import Transport
from tests.servers import free_port
from tests.test_cli import MCPKIT, run, run_json

SHOP = """
import hashlib

from fastapi import FastAPI, Request

app = FastAPI(title="Shop", version="3.0")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@app.get("/products/{product_id}", tags=["catalog"])
def get_product(product_id: int) -> dict[str, int]:
    return {"id": product_id}


@app.get("/whoami", tags=["admin"])
def whoami(request: Request) -> dict[str, str]:
    # Digests: the credentials themselves are masked in results.
    return {name: digest(request.headers.get(name, "")) for name in ("authorization", "x-client", "x-key")}


@app.delete("/products/{product_id}", tags=["admin"])
def delete_product(product_id: int) -> None:
    return None
"""

PROJECT = """
[project]
name = "shop-project"

[tool.mcpkit]
source = "shop:app"
name = "Project shop"
exclude_tags = ["admin"]
route_maps = "resources"

[tool.mcpkit.headers]
X-Client = "mcpkit"
X-Key = {env = "SHOP_KEY"}
"""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Probe(Transport):
    """Serves nothing: records the server the command built and the transport's options."""

    served: ClassVar[list[tuple[MCPKit, dict[str, Any]]]] = []

    def __init__(self, **options: Any) -> None:
        self.options = options

    async def serve(self, server: MCPKit) -> None:
        self.served.append((server, self.options))


class ProbePlugin:
    @hookimpl
    def mcpkit_register_transports(self, register):
        register("probe", Probe)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory (shop.py and a pyproject.toml), made the current directory."""
    (tmp_path / "shop.py").write_text(textwrap.dedent(SHOP))
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(PROJECT))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("SHOP_KEY", "k-1")
    yield tmp_path
    sys.modules.pop("shop", None)
    Probe.served.clear()


def served(capsys, *argv: str) -> tuple[MCPKit, dict[str, Any]]:
    """The server ``mcpkit serve *argv`` builds, and its transport's options (a ``probe``)."""
    if "probe" not in get_plugin_host().transports:
        get_plugin_host().register(ProbePlugin(), name="probe")
    code = main(["serve", *argv])
    assert code == EXIT_OK, capsys.readouterr().err
    [(server, options)] = Probe.served
    Probe.served.clear()
    return server, options


def call(server: MCPKit, name: str, arguments: dict[str, Any] | None = None) -> Any:
    async def go() -> Any:
        async with Client(server) as client:
            return (await client.call_tool(name, arguments or {})).data

    return anyio.run(go)


def test_inspect_with_no_target_inspects_the_project(capsys, project):
    report = run_json(capsys, "inspect")
    assert report["source"] == "shop:app"
    assert {(c["kind"], c["name"]) for c in report["components"]} == {("resource_template", "get_product")}
    assert {(e["method"], e["path"]) for e in report["excluded"]} == {
        ("GET", "/whoami"),
        ("DELETE", "/products/{product_id}"),
    }
    overridden = run_json(capsys, "inspect", "--exclude-tags", "catalog")["excluded"]  # the command line wins
    assert [(e["method"], e["path"]) for e in overridden] == [("GET", "/products/{product_id}")]


def test_a_project_is_named_by_its_directory(capsys, project, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert run_json(capsys, "inspect", str(project))["title"] == "Shop"


def test_each_project_imports_its_own_modules(capsys, project, tmp_path_factory, monkeypatch):
    assert run_json(capsys, "inspect")["title"] == "Shop"
    sys.modules.pop("shop")
    other = tmp_path_factory.mktemp("other")
    (other / "shop.py").write_text(textwrap.dedent(SHOP).replace('title="Shop"', 'title="Other shop"'))
    (other / "pyproject.toml").write_text(textwrap.dedent(PROJECT))
    monkeypatch.chdir(other)
    # Was "Shop": the project's directory went on sys.path as ".", whose finder stayed the first one's.
    assert run_json(capsys, "inspect")["title"] == "Other shop"


def test_serve_with_no_target_serves_the_project(capsys, project):
    server, options = served(capsys, "--transport", "probe")
    assert server.name == "Project shop"
    assert list(server.resource_templates) == ["resource://get_product/{product_id}"]
    assert options == {}


def test_the_command_line_wins_over_the_project(capsys, project):
    server, _ = served(capsys, "--transport", "probe", "--name", "Other", "--exclude-tags", "catalog")
    assert server.name == "Other"
    assert set(server.tools) == {"delete_product"}
    assert list(server.resources) == ["resource://whoami_whoami_get"]
    assert not server.resource_templates


def test_headers_and_credentials_come_from_the_environment(capsys, project, monkeypatch):
    (project / "pyproject.toml").write_text(
        textwrap.dedent(PROJECT)
        .replace('route_maps = "resources"\n', "")
        .replace('exclude_tags = ["admin"]\n', "")
        + '\n[tool.mcpkit.auth]\nHTTPBearer = {env = "SHOP_TOKEN"}\n'
    )
    monkeypatch.setenv("SHOP_TOKEN", "t-1")
    (project / "shop.py").write_text(
        textwrap.dedent(SHOP)
        .replace(
            "from fastapi import FastAPI, Request",
            "from fastapi import Depends, FastAPI, Request\nfrom fastapi.security import HTTPBearer",
        )
        .replace(
            "def whoami(request: Request)",
            "def whoami(request: Request, _: object = Depends(HTTPBearer(auto_error=False)))",
        )
    )
    server, _ = served(capsys, "--transport", "probe")
    assert call(server, "whoami_whoami_get") == {
        "authorization": digest("Bearer t-1"),
        "x-client": digest("mcpkit"),
        "x-key": digest("k-1"),
    }
    server, _ = served(capsys, "--transport", "probe", "--header", "X-Key: k-2")
    assert call(server, "whoami_whoami_get")["x-key"] == digest("k-2")


def test_a_missing_environment_variable_is_named_and_nothing_else(capsys, project, monkeypatch):
    monkeypatch.delenv("SHOP_KEY")
    code, out, err = run(capsys, "serve", "--transport", "stdio")
    assert (code, out) == (EXIT_FAILED, "")
    assert (
        err
        == "error: pyproject.toml: tool.mcpkit.headers.X-Key refers to the environment variable SHOP_KEY, which is not set\n"
    )


def test_the_http_table_is_for_http_and_sse_only(capsys, project):
    transport = 'transport = "probe"\n\n[tool.mcpkit.headers]'
    http = '\n[tool.mcpkit.http]\nhost = "127.0.0.1"\nport = 8123\nallowed_hosts = ["shop.example"]\n'
    (project / "pyproject.toml").write_text(
        textwrap.dedent(PROJECT).replace("[tool.mcpkit.headers]", transport) + http
    )
    assert served(capsys)[1] == {}
    assert served(capsys, "--port", "8124")[1] == {"port": 8124}  # given: passed on (the transport says)


async def test_serve_the_project_over_http_from_mcpkit_toml(project):
    port = free_port()
    (project / "pyproject.toml").unlink()
    (project / "mcpkit.toml").write_text(
        textwrap.dedent(f"""
        source = "shop.py:app"
        include_tags = ["admin"]
        transport = "http"

        [http]
        port = {port}
        path = "/shop"
        """)
    )
    async with await anyio.open_process([MCPKIT, "serve"], cwd=project, stderr=subprocess.PIPE) as process:
        try:
            for _ in range(1000):  # until uvicorn listens (or the command failed)
                try:
                    await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                    break
                except OSError:
                    if process.returncode is not None:
                        break
                    await anyio.sleep(0.01)
            async with Client(f"http://127.0.0.1:{port}/shop") as client:
                assert {tool.name for tool in await client.list_tools()} == {
                    "whoami_whoami_get",
                    "delete_product",
                }
        finally:
            process.terminate()
            with anyio.fail_after(30):
                err = b"".join([chunk async for chunk in process.stderr]).decode()
                await process.wait()
    assert "mcpkit: serving 'Shop' (2 tools, 0 resources, 0 resource templates) over http" in err
    assert process.returncode == EXIT_OK, err


async def test_serve_the_project_over_stdio(project):
    command = StdioServerParameters(
        command=str(MCPKIT), args=["serve"], cwd=str(project), env={"SHOP_KEY": "k-3"}
    )
    async with Client(command) as client:
        assert client.server_info is not None
        assert client.server_info.name == "Project shop"
        assert [t.uri_template for t in await client.list_resource_templates()] == [
            "resource://get_product/{product_id}"
        ]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            'source = "shop:app"\ndiscovry = "auto"',
            "pyproject.toml: tool.mcpkit.discovry: unknown key; valid keys: source, transport, name, base_url, route_maps,",
        ),
        (
            'source = "shop:app"\ndiscovery = "maybe"',
            "pyproject.toml: tool.mcpkit.discovery: 'maybe' is not valid; valid choices: 'off', 'search', 'auto'",
        ),
        (
            'source = "shop:app"\nroute_maps = "all"',
            "pyproject.toml: tool.mcpkit.route_maps: 'all' is not valid; valid choices: 'tools', 'resources'",
        ),
        (
            'source = "shop:app"\n[tool.mcpkit.auth]\ntoken = "s3cret"',
            'pyproject.toml: tool.mcpkit.auth: give each credential by reference to an environment variable, {env = "NAME"}',
        ),
        (
            'source = "shop:app"\n[tool.mcpkit.auth]\ntoken = {env = "not a name"}',
            "pyproject.toml: tool.mcpkit.auth.token.env: 'not a name' is not an environment variable name",
        ),
        (
            'source = "shop:app"\n[tool.mcpkit.headers]\nX-Key = {value = "s3cret"}',
            'pyproject.toml: tool.mcpkit.headers: X-Key: give the value as a string, or {env = "NAME"}',
        ),
        (
            'source = "shop:app"\n[tool.mcpkit.http]\nport = "80"\nprot = 1',
            "pyproject.toml: tool.mcpkit.http.port: Input should be a valid integer (got '80'); pyproject.toml: tool.mcpkit.http.prot: unknown key; valid keys: host, port, path,",
        ),
        (
            'source = "shop:app"\n[tool.mcpkit.http]\npath = "mcp"',
            "pyproject.toml: tool.mcpkit.http.path: 'mcp' is not a URL path, starting with /",
        ),
        (
            'source = "shop:app"\nmax_response_bytes = 0',
            "pyproject.toml: tool.mcpkit.max_response_bytes: give a positive number of bytes, or 'none', not 0",
        ),
        ('name = "x"', "pyproject.toml: tool.mcpkit.source: missing (required)"),
        (
            'source = "shop:app"\ntransport = "pigeon"',
            "pyproject.toml: tool.mcpkit.transport: unknown transport 'pigeon'; valid choices: 'http', 'sse', 'stdio'",
        ),
        (
            'source = "shop:app"\nroute_mappers = ["nope"]',
            "pyproject.toml: tool.mcpkit.route_mappers: unknown route mapper 'nope'",
        ),
        ('source = "shop:app"\nsource = "again"', "pyproject.toml: not valid TOML: Cannot overwrite a value"),
    ],
)
def test_a_bad_project_file_is_refused_with_the_file_the_key_and_the_choices(capsys, project, toml, message):
    (project / "pyproject.toml").write_text(f"[tool.mcpkit]\n{toml}\n")
    for argv in (["serve"], ["inspect"], ["list"], ["install", "mcp-json"]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (EXIT_USAGE, ""), argv
        assert err.startswith(f"error: {message}"), err
        assert err.count("\n") == 1
        assert "s3cret" not in err


def test_both_project_files_is_ambiguous(capsys, project):
    (project / "mcpkit.toml").write_text('source = "shop:app"\n')
    code, _, err = run(capsys, "inspect")
    assert code == EXIT_USAGE
    assert "mcpkit.toml and [tool.mcpkit] in pyproject.toml both configure the project; keep one" in err


def test_a_huge_project_file_is_refused_unread(capsys, project):
    (project / "pyproject.toml").unlink()
    (project / "mcpkit.toml").write_text("# " + "x" * MAX_PROJECT_FILE_BYTES + "\n")
    code, _, err = run(capsys, "inspect")
    assert code == EXIT_USAGE
    assert f"a project file may take {MAX_PROJECT_FILE_BYTES:,}" in err


def test_a_pyproject_without_the_table_is_no_project(capsys, project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n')
    code, _, err = run(capsys, "serve")
    assert code == EXIT_USAGE
    assert (
        "no TARGET, and no project file in this directory (mcpkit.toml, or [tool.mcpkit] in pyproject.toml)"
        in err
    )

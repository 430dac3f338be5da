"""The mcpkit command, in-process: inspect, plugins, errors and exit codes (serving: test_cli_serve.py)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from mcpkit.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from tests.locations import CORPUS

PETSTORE = CORPUS / "oai-petstore-v3.0.yaml"
MUSEUM = CORPUS / "redocly-museum-v3.1.yaml"
MCPKIT = Path(sys.executable).with_name("mcpkit")

SHOP = """
from fastapi import FastAPI

app = FastAPI(title="Tiny shop", version="2.0")
not_an_app = 42


@app.get("/products/{product_id}", tags=["catalog"])
def get_product(product_id: int) -> dict[str, int]:
    return {"id": product_id}


@app.post("/products", tags=["catalog"])
def create_product(name: str) -> dict[str, str]:
    return {"name": name}
"""

BROKEN = {
    "openapi": "3.0.3",
    "info": {"title": "Broken", "version": "1"},
    "paths": {
        "/good": {
            "get": {
                "operationId": "good",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/Nowhere"}}
                ],
                "responses": {"200": {"description": "ok"}},
            }
        },
        "/bad": {"get": {"operationId": "bad", "parameters": [{"name": "q", "in": "body"}], "responses": {}}},
    },
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (EXIT_OK, "")
    return json.loads(out)


@pytest.fixture
def shop_dir(tmp_path, monkeypatch):
    """A directory holding shop.py (a FastAPI app), made the current directory."""
    (tmp_path / "shop.py").write_text(SHOP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    sys.modules.pop("shop", None)


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich tables are not wrapped


# inspect


def test_inspect_a_corpus_document_as_json(capsys):
    report = run_json(capsys, "inspect", PETSTORE)
    assert (report["title"], report["version"]) == ("Swagger Petstore", "1.0.0")
    assert [(c["kind"], c["name"], c["method"], c["path"]) for c in report["components"]] == [
        ("tool", "listPets", "GET", "/pets"),
        ("tool", "createPets", "POST", "/pets"),
        ("tool", "showPetById", "GET", "/pets/{petId}"),
    ]
    list_pets = report["components"][0]
    assert list_pets["annotations"]["readOnlyHint"] is True
    assert list_pets["tags"] == ["pets"]
    assert report["excluded"] == report["skipped"] == report["warnings"] == []


def test_inspect_prints_a_table(capsys):
    code, out, err = run(capsys, "inspect", PETSTORE)
    assert (code, err) == (EXIT_OK, "")
    assert "Swagger Petstore 1.0.0: 3 tools, 0 resources, 0 resource templates" in out
    rows = {tuple(cell.strip() for cell in line.split("│")[1:-1]) for line in out.splitlines()}
    assert ("tool", "showPetById", "GET", "/pets/{petId}", "read-only") in rows
    assert ("tool", "createPets", "POST", "/pets", "") in rows


def test_inspect_with_the_resources_preset_and_tag_filters(capsys):
    everything = run_json(capsys, "inspect", MUSEUM)["components"]
    tags = {tag for c in everything for tag in c["tags"]}
    assert tags == {"Operations", "Events", "Tickets"}

    events = run_json(capsys, "inspect", MUSEUM, "--resources", "--include-tags", "Events,Tickets")
    kept = events["components"]
    assert kept
    assert all({"Events", "Tickets"} & set(c["tags"]) for c in kept)
    assert {(c["method"], c["path"]) for c in events["excluded"]} == {
        (c["method"], c["path"]) for c in everything if "Operations" in c["tags"]
    }
    for c in kept:
        expected = "tool"
        if c["method"] == "GET":
            expected = "resource_template" if "{" in c["path"] else "resource"
        assert c["kind"] == expected, c
        if c["kind"] != "tool":
            assert c["uri"].startswith(f"resource://{c['name']}")

    without = run_json(capsys, "inspect", MUSEUM, "--exclude-tags", "Events", "--exclude-tags", "Tickets")
    assert {tag for c in without["components"] for tag in c["tags"]} == {"Operations"}


def test_both_parsers_inspect_to_the_same_components(capsys):
    legacy = run_json(capsys, "inspect", MUSEUM, "--parser", "legacy")["components"]
    assert run_json(capsys, "inspect", MUSEUM, "--parser", "experimental")["components"] == legacy


def test_inspect_reports_what_it_could_not_convert(capsys, tmp_path):
    document = tmp_path / "broken.json"
    document.write_text(json.dumps(BROKEN))
    report = run_json(capsys, "inspect", document)
    assert [c["name"] for c in report["components"]] == ["good"]
    [skipped] = report["skipped"]
    assert (skipped["method"], skipped["path"]) == ("GET", "/bad")
    assert skipped["pointer"] == "#/paths/~1bad/get"
    assert "#/paths/~1bad/get/parameters/0" in skipped["reason"]
    assert any("Nowhere" in w["message"] or "Nowhere" in w["pointer"] for w in report["warnings"])

    code, out, _ = run(capsys, "inspect", document)
    assert code == EXIT_OK
    assert "Not converted (1)" in out
    assert "#/paths/~1bad/get/parameters/0/in: Input should be 'path'" in out
    assert f"{len(report['warnings'])} defect" in out


def test_inspect_a_fastapi_app_names_it_as_serve_would(capsys, shop_dir):
    report = run_json(capsys, "inspect", "shop:app")
    assert report["title"] == "Tiny shop"
    assert [c["name"] for c in report["components"]] == ["get_product", "create_product_products_post"]
    default = run_json(capsys, "inspect", "shop:app", "--name-strategy", "default")
    assert default["components"][0]["name"] == "get_product_products__product_id__get"


def test_inspect_the_example_shop(capsys):
    report = run_json(capsys, "inspect", "examples.ecommerce.app:app")
    names = {c["name"]: c for c in report["components"]}
    assert {"get_product", "store_stats", "delete_product"} <= set(names)
    assert names["delete_product"]["annotations"]["destructiveHint"] is True


# plugins

GOOD_PLUGIN = """
from mcpkit import MCPType, hookimpl

@hookimpl
def mcpkit_register_route_mappers(register):
    register("no-deletes", lambda route, mcp_type: MCPType.EXCLUDE if route.method == "DELETE" else None)
"""


def test_plugins_lists_loaded_failed_and_skipped_plugins(capsys, fake_distribution, monkeypatch):
    fake_distribution("acme-mcp", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    fake_distribution("broken-mcp", {"broken": "broken_plugin"}, {"broken_plugin": "import not_there\n"})
    fake_distribution("quiet-mcp", {"quiet": "quiet_plugin"}, {"quiet_plugin": GOOD_PLUGIN})
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "quiet-mcp")

    report = run_json(capsys, "plugins")
    loaded = {p["name"]: p for p in report["plugins"]}
    assert loaded["acme"]["distribution"] == "acme-mcp"
    assert loaded["acme"]["hooks"] == {"mcpkit_register_route_mappers": ["no-deletes"]}
    assert loaded["mcpkit"]["hooks"]["mcpkit_register_transports"] == ["stdio"]
    assert loaded["openapi"]["hooks"]["mcpkit_register_openapi_parsers"] == ["legacy", "experimental"]
    [failure] = report["failures"]
    assert (failure["plugin"], failure["distribution"]) == ("broken", "broken-mcp")
    assert "not_there" in failure["error"]
    assert {
        "plugin": "quiet",
        "distribution": "quiet-mcp",
        "reason": "disabled by MCPKIT_DISABLE_PLUGINS",
    } in (report["skipped"])

    code, out, err = run(capsys, "plugins")
    assert (code, err) == (EXIT_OK, "")
    for expected in (
        "Loaded plugins",
        "route_mappers: no-deletes",
        "Failed to load",
        "broken-mcp",
        "Skipped",
    ):
        assert expected in out


def test_a_failing_hook_is_listed_as_a_failure(capsys, fake_distribution):
    failing = (
        "from mcpkit import hookimpl\n\n@hookimpl\ndef mcpkit_register_transports(register):\n    1 / 0\n"
    )
    fake_distribution("oops-mcp", {"oops": "oops_plugin"}, {"oops_plugin": failing})
    [failure] = run_json(capsys, "plugins")["failures"]
    assert failure["plugin"] == "oops"
    assert "mcpkit_register_transports failed: ZeroDivisionError" in failure["error"]


# errors and exit codes


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["inspect", "nowhere.yaml"],
            EXIT_FAILED,
            "no file 'nowhere.yaml'; a TARGET is a file, an http(s) URL",
        ),
        (["inspect", "."], EXIT_USAGE, "no TARGET, and no project file in this directory"),
        (
            ["inspect", "notes.txt"],
            EXIT_FAILED,
            "nothing serves notes.txt (a file): a TARGET is an MCPKit server",
        ),
        (["inspect", "nomodule:app"], EXIT_FAILED, "no module named 'nomodule'"),
        (
            ["inspect", "shop:nope"],
            EXIT_FAILED,
            "module 'shop' has no attribute 'nope'; servers in it: app",
        ),
        (["inspect", "shop:not_an_app"], EXIT_FAILED, "nothing serves shop:not_an_app (a value of type int)"),
        (["inspect", "shop:FastAPI"], EXIT_FAILED, "(the class FastAPI, not an instance)"),
        (
            ["inspect", "failing:app"],
            EXIT_FAILED,
            "importing 'failing' failed: ZeroDivisionError: division by zero (failing.py, line 2)",
        ),
        (
            ["inspect", "needy:app"],
            EXIT_FAILED,
            "importing 'needy' failed: ModuleNotFoundError: No module named 'not_installed_lib' (needy.py, line 1)",
        ),
        (["inspect", "invalid.yaml"], EXIT_FAILED, "#/openapi: unsupported OpenAPI version '4.0.0'"),
        (
            ["inspect", "shop:app", "--route-mapper", "nope"],
            EXIT_USAGE,
            "--route-mapper: unknown route mapper 'nope'",
        ),
        (
            ["inspect", "shop:app", "--parser", "fancy"],
            EXIT_USAGE,
            "--parser: unknown OpenAPI parser 'fancy'",
        ),
        (
            ["inspect", "shop:app", "--name-strategy", "x"],
            EXIT_USAGE,
            "--name-strategy: unknown name strategy 'x'",
        ),
        (["inspect", "shop:app", "--bogus"], EXIT_USAGE, "Unknown option: --bogus"),
        (["inspect"], EXIT_USAGE, "no TARGET, and no project file in this directory"),
        (["frobnicate"], EXIT_USAGE, 'Unknown command "frobnicate"'),
        (
            ["serve", "shop:app", "--transport", "pigeon"],
            EXIT_USAGE,
            "--transport: unknown transport 'pigeon'; valid choices: 'http', 'sse', 'stdio'",
        ),
        (
            ["serve", "shop:app", "--header", "Authorization Bearer s3cret"],
            EXIT_USAGE,
            "--header takes 'Name: value'",
        ),
        (["serve", "shop:app", "--auth", "bearer"], EXIT_USAGE, "--auth takes NAME=VALUE"),
        (
            ["serve", "shop:app", "--auth", "basic=[s3cret"],
            EXIT_USAGE,
            "--auth basic=...: the value starts like JSON but is not valid JSON",
        ),
        (
            ["serve", "shop:app", "--auth", "nope=s3cret"],
            EXIT_FAILED,
            "auth names an unknown security scheme 'nope'",
        ),
        (["serve", "shop:app", "--discovery", "maybe"], EXIT_USAGE, 'Invalid value "maybe" for --discovery'),
        (
            ["serve", "shop:app", "--max-response-bytes", "lots"],
            EXIT_USAGE,
            "--max-response-bytes takes a positive number",
        ),
        (["serve", "shop:app", "--port", "http"], EXIT_USAGE, "Invalid value for --port"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(capsys, shop_dir, argv, code, message):
    (shop_dir / "failing.py").write_text("import fastapi\n1 / 0\n")
    (shop_dir / "needy.py").write_text("import not_installed_lib\n")
    (shop_dir / "invalid.yaml").write_text("openapi: 4.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n")
    (shop_dir / "notes.txt").write_text("not a document\n")
    exit_code, out, err = run(capsys, *argv)
    assert exit_code == code
    assert out == ""
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    assert message in err
    assert "s3cret" not in err
    for name in ("failing", "needy"):
        sys.modules.pop(name, None)


def test_a_missing_plugin_names_the_install_command(capsys, monkeypatch):
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "mcpkit-openapi,mcpkit-http")
    code, _, err = run(capsys, "inspect", PETSTORE)
    assert code == EXIT_FAILED
    assert f"nothing serves {PETSTORE} (a file)" in err
    assert "not installed: pip install 'mcpkit[openapi]' serves openapi targets" in err
    code, _, err = run(capsys, "serve", PETSTORE, "--transport", "http")
    assert code == EXIT_FAILED
    assert "pip install 'mcpkit[http]'" in err


def test_a_target_without_inspect_cannot_be_inspected(capsys, fake_distribution, tmp_path):
    build_only = (
        "from mcpkit import MCPKit, hookimpl\n"
        "from mcpkit.targets import Target\n\n"
        "@hookimpl\n"
        "def mcpkit_register_target_resolvers(register):\n"
        "    register('notes', lambda value: Target('notes file', lambda **o: MCPKit('notes'))\n"
        "             if isinstance(value, str) and value.endswith('.notes') else None)\n"
    )
    fake_distribution("notes-mcp", {"notes": "notes_target"}, {"notes_target": build_only})
    (tmp_path / "todo.notes").write_text("buy milk\n")
    code, _, err = run(capsys, "inspect", tmp_path / "todo.notes")
    assert code == EXIT_FAILED
    assert "todo.notes (notes file) cannot be inspected: its target has no inspect()" in err


def test_help_and_version(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == EXIT_OK
    assert {"serve", "inspect", "plugins"} <= set(out.split())
    code, out, _ = run(capsys, "serve", "--help")
    assert code == EXIT_OK
    for option in ("--transport", "--header", "--auth", "--resources", "--include-tags", "--discovery"):
        assert option in out
    assert run(capsys, "--version")[:2] == (EXIT_OK, "0.1.0\n")


# the installed command


def test_the_console_script_runs_main():
    [script] = entry_points(group="console_scripts", name="mcpkit")
    assert script.value == "mcpkit.cli:main"
    done = subprocess.run(
        [MCPKIT, "inspect", PETSTORE, "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == EXIT_OK
    assert len(json.loads(done.stdout)["components"]) == 3


def test_importing_mcpkit_and_its_cli_loads_no_cli_library_nor_plugin():
    probe = (
        "import sys, mcpkit, mcpkit.cli; "
        "print([m for m in ('cyclopts', 'rich', 'httpx', 'mcpkit_openapi', 'mcpkit_fastapi') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_progress_shows_only_when_standard_error_is_a_terminal(capsys):
    assert run(capsys, "inspect", PETSTORE)[2] == ""  # not a terminal: nothing

    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR")}
    done = subprocess.run(
        [MCPKIT, "inspect", PETSTORE, "--json"],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**env, "TERM": "xterm"},
        check=False,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal's other end is closed: all was read
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert done.returncode == EXIT_OK
    assert json.loads(done.stdout)["title"] == "Swagger Petstore"  # standard output stays plain JSON
    assert f"Inspecting {PETSTORE}".encode() in shown


def test_module_attr_is_imported_from_the_current_directory(capsys, shop_dir):
    (shop_dir / "nested").mkdir()
    (shop_dir / "nested" / "__init__.py").write_text("")
    (shop_dir / "nested" / "api.py").write_text(textwrap.dedent(SHOP))
    report = run_json(capsys, "inspect", "nested.api:app")
    assert report["title"] == "Tiny shop"
    for name in ("nested", "nested.api"):
        sys.modules.pop(name, None)

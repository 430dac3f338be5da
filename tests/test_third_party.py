"""A third-party plugin, installed with pip, is picked up with no change to the kernel.

``examples/plugins/mcpkit-readonly`` is pip-installed into a directory of its own (offline: no
dependencies, the build backend from this environment), which is then put on ``sys.path``: the shared
test environment is not changed. Its ``readonly`` route mapper and name strategy are selected by name,
by the environment and from the command line, and the command line serves a Starlette app through its
``starlette`` target resolver; ``MCPKIT_DISABLE_PLUGINS`` turns it off.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from examples.ecommerce.app import create_app
from mcpkit import MCPKit, UnknownNameError
from mcpkit.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from mcpkit.plugins import PluginHost
from tests.locations import CORPUS, ROOT

PLUGIN = ROOT / "examples" / "plugins" / "mcpkit-readonly"
PETSTORE = CORPUS / "oai-petstore-v3.0.yaml"
READ_NAMES = {"get_pets", "get_pets_by_petId"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The plugin, installed by pip into a directory of its own."""
    target = tmp_path_factory.mktemp("site-packages")
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*command, "--target", str(target), str(PLUGIN)], check=True, capture_output=True)
    return target


@pytest.fixture
def readonly(site, monkeypatch):
    """The installed plugin on ``sys.path`` for one test."""
    monkeypatch.syspath_prepend(str(site))
    yield
    for name in [m for m in sys.modules if m == "mcpkit_readonly" or m.startswith("mcpkit_readonly.")]:
        del sys.modules[name]


def test_pip_installed_the_package_and_its_entry_point(site):
    [info] = site.glob("mcpkit_readonly-*.dist-info")
    assert "[mcpkit]\nreadonly = mcpkit_readonly.plugin" in (info / "entry_points.txt").read_text()
    assert (site / "mcpkit_readonly" / "plugin.py").is_file()


def test_the_plugin_is_found_through_its_entry_point(readonly):
    host = PluginHost()
    [plugin] = [p for p in host.plugins if p.name == "readonly"]
    assert (plugin.distribution, plugin.version) == ("mcpkit-readonly", "0.1.0")
    assert plugin.hooks == (
        "mcpkit_register_name_strategies",
        "mcpkit_register_route_mappers",
        "mcpkit_register_sources",
        "mcpkit_register_target_resolvers",
    )
    assert host.route_mappers.registration("readonly").plugin == "readonly"
    assert host.name_strategies.registration("readonly").plugin == "readonly"
    assert host.failures == []


def test_selected_by_name(readonly):
    everything = MCPKit.from_openapi(PETSTORE)
    assert set(everything.tools) == {"listPets", "createPets", "showPetById"}
    reads = MCPKit.from_openapi(PETSTORE, route_mappers=["readonly"], name_strategy="readonly")
    assert set(reads.tools) == READ_NAMES
    assert all(tool.annotations.read_only_hint for tool in reads.tools.values())


def test_selected_by_the_environment_for_a_fastapi_app_too(readonly, monkeypatch):
    monkeypatch.setenv("MCPKIT_ROUTE_MAPPERS", "readonly")
    monkeypatch.setenv("MCPKIT_NAME_STRATEGY", "readonly")
    assert set(MCPKit.from_openapi(PETSTORE).tools) == READ_NAMES
    shop = MCPKit.from_fastapi(app=create_app())
    assert set(shop.tools) == {
        "get_products",
        "get_products_by_product_id",
        "get_products_image_by_product_id",
        "get_admin_stats",
    }


def test_seen_by_the_command_line(readonly, capsys):
    assert main(["plugins", "--json"]) == EXIT_OK
    [plugin] = [p for p in json.loads(capsys.readouterr().out)["plugins"] if p["name"] == "readonly"]
    assert plugin["distribution"] == "mcpkit-readonly"
    assert plugin["hooks"] == {
        "mcpkit_register_name_strategies": ["readonly"],
        "mcpkit_register_route_mappers": ["readonly"],
        "mcpkit_register_sources": ["starlette"],
        "mcpkit_register_target_resolvers": ["starlette"],
    }

    argv = ["inspect", str(PETSTORE), "--route-mapper", "readonly", "--name-strategy", "readonly", "--json"]
    assert main(argv) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert {c["name"] for c in report["components"]} == READ_NAMES
    assert [(r["method"], r["path"]) for r in report["excluded"]] == [("POST", "/pets")]


@pytest.mark.parametrize("disabled", ["readonly", "mcpkit-readonly"])
def test_disabled_by_entry_point_or_distribution_name(readonly, monkeypatch, capsys, disabled):
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", disabled)
    with pytest.raises(UnknownNameError, match="unknown route mapper 'readonly'"):
        MCPKit.from_openapi(PETSTORE, route_mappers=["readonly"])

    assert main(["plugins", "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert "readonly" not in {p["name"] for p in report["plugins"]}
    assert {
        "plugin": "readonly",
        "distribution": "mcpkit-readonly",
        "reason": "disabled by MCPKIT_DISABLE_PLUGINS",
    } in (report["skipped"])
    assert main(["inspect", str(PETSTORE), "--route-mapper", "readonly"]) == EXIT_USAGE
    assert "unknown route mapper 'readonly'" in capsys.readouterr().err


def test_the_plugins_own_tests_pass_with_mcpkit_testing(site):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", str(PLUGIN)],
        cwd=PLUGIN,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "10 passed" in done.stdout


STARLETTE_API = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def pet(request):
    \"\"\"One pet.\"\"\"
    return JSONResponse({"id": request.path_params["pet_id"], "name": "Rex"})


async def adopt(request):
    return JSONResponse({}, status_code=201)


api = Starlette(routes=[Route("/pets/{pet_id:int}", pet), Route("/pets", adopt, methods=["POST"])])
"""


def test_a_third_party_source_is_served_by_the_command_line(site, tmp_path):
    """The installed command, unchanged, serves a plain Starlette app through the plugin's target
    resolver: inspected, listed and called, its one GET route a read-only tool."""
    (tmp_path / "pets.py").write_text(STARLETTE_API)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}

    def mcpkit(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [Path(sys.executable).with_name("mcpkit"), *argv]
        return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)

    inspected = mcpkit("inspect", "pets.py", "--json")
    assert inspected.returncode == EXIT_OK, inspected.stderr
    [tool] = json.loads(inspected.stdout)["components"]
    assert (tool["name"], tool["method"], tool["path"], tool["annotations"]["readOnlyHint"]) == (
        "pet",
        "GET",
        "/pets/{pet_id}",
        True,
    )
    called = mcpkit("call", "pets.py", "pet", "pet_id=7")
    assert (called.returncode, json.loads(called.stdout)) == (EXIT_OK, {"id": 7, "name": "Rex"})

    disabled = subprocess.run(
        [Path(sys.executable).with_name("mcpkit"), "inspect", "pets.py:api"],
        cwd=tmp_path,
        env={**env, "MCPKIT_DISABLE_PLUGINS": "readonly"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert disabled.returncode == EXIT_FAILED
    assert "nothing serves pets.py:api (a value of type Starlette)" in disabled.stderr

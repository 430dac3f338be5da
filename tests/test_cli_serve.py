"""``mcpkit serve``: every option reaches the server it builds, and the real transports work end to end.

In-process runs use a ``probe`` transport, registered like any plugin's: it records the server the
command built and the transport options, and the test drives that server with the in-memory client.
The stdio and HTTP runs are subprocesses of the installed ``mcpkit`` command, driven by
``mcpkit.Client``.
"""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest
import uvicorn
from fastapi import FastAPI, Request, Security
from fastapi.security import APIKeyHeader
from mcp.client.stdio import StdioServerParameters

from mcpkit import Client, MCPKit, hookimpl
from mcpkit.cli import EXIT_INTERRUPTED, EXIT_OK, main
from mcpkit.plugins import get_plugin_host
from mcpkit.transports import Transport

MCPKIT = Path(sys.executable).with_name("mcpkit")

SHOP = """
import hashlib

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

app = FastAPI(title="Tiny shop", version="2.0")
bearer = HTTPBearer(auto_error=False)


@app.get("/products", tags=["catalog"])
def list_products() -> list[dict[str, object]]:
    return [{"id": i, "name": f"product {i}"} for i in range(50)]


@app.get("/products/{product_id}", tags=["catalog"])
def get_product(product_id: int) -> dict[str, object]:
    return {"id": product_id, "name": f"product {product_id}"}


@app.post("/products", tags=["catalog"])
def create_product(name: str) -> dict[str, str]:
    return {"name": name}


@app.get("/whoami", tags=["admin"])
def whoami(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> dict[str, str]:
    # A digest: the credential itself is masked in results (it is a secret of the call).
    authorization = request.headers.get("authorization", "").encode()
    return {"authorization": hashlib.sha256(authorization).hexdigest(), "host": request.headers["host"]}


@app.get("/slow", tags=["admin"])
async def slow() -> str:
    await anyio.sleep(30)
    return "late"
"""
SHOP_TOOLS = {
    "list_products_products_get",
    "get_product",
    "create_product_products_post",
    "whoami_whoami_get",
    "slow_slow_get",
}


class Probe(Transport):
    """Serves nothing: records the server the command built and the transport's options."""

    served: ClassVar[list[tuple[MCPKit, dict[str, Any]]]] = []

    def __init__(self, **options: Any) -> None:
        self.options = options

    async def serve(self, server: MCPKit) -> None:
        self.served.append((server, self.options))


class Interrupted(Transport):
    """Stands for Ctrl+C while serving."""

    async def serve(self, server: MCPKit) -> None:
        raise KeyboardInterrupt


class ProbePlugin:
    @hookimpl
    def mcpkit_register_transports(self, register):
        register("probe", Probe)
        register("interrupted", Interrupted)


@pytest.fixture
def serve(capsys, tmp_path, monkeypatch):
    """``serve(*argv)`` runs ``mcpkit serve *argv --transport probe`` in a directory holding shop.py."""
    (tmp_path / "shop.py").write_text(SHOP)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    get_plugin_host().register(ProbePlugin(), name="probe")

    def run(*argv: str) -> tuple[MCPKit, dict[str, Any], str]:
        code = main(["serve", *argv, "--transport", "probe"])
        err = capsys.readouterr().err
        assert code == EXIT_OK, err
        [(server, options)] = Probe.served
        Probe.served.clear()
        return server, options, err

    yield run
    Probe.served.clear()
    sys.modules.pop("shop", None)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def call(server: MCPKit, name: str, arguments: dict[str, Any] | None = None) -> Any:
    async def go() -> Any:
        async with Client(server, raise_on_error=False) as client:
            return await client.call_tool(name, arguments or {})

    return anyio.run(go)


def listed_tools(server: MCPKit) -> list[str]:
    async def go() -> list[str]:
        async with Client(server) as client:
            return [tool.name for tool in await client.list_tools()]

    return anyio.run(go)


def test_transport_options_name_and_what_is_served(serve):
    server, options, err = serve("shop:app", "--host", "127.0.0.1", "--port", "8123", "--name", "Shop")
    assert options == {"host": "127.0.0.1", "port": 8123}
    assert server.name == "Shop"
    assert set(server.tools) == SHOP_TOOLS
    assert err == "mcpkit: serving 'Shop' (5 tools, 0 resources, 0 resource templates) over probe\n"
    assert serve("shop:app")[1] == {}  # the transport's own defaults


def test_headers_and_base_url_reach_the_app(serve):
    server, _, _ = serve(
        "shop:app",
        "--header",
        "Authorization: Bearer h-1",
        "--header",
        "X-Other: 2",
        "--base-url",
        "http://shop.internal",
    )
    assert call(server, "whoami_whoami_get").data == {
        "authorization": digest("Bearer h-1"),
        "host": "shop.internal",
    }


def test_credentials_by_security_scheme(serve):
    server, _, _ = serve("shop:app", "--auth", "HTTPBearer=s3cret")
    assert call(server, "whoami_whoami_get").data["authorization"] == digest("Bearer s3cret")


def test_resources_preset_and_tags(serve):
    server, _, _ = serve("shop:app", "--resources", "--exclude-tags", "admin")
    assert set(server.tools) == {"create_product_products_post"}
    assert list(server.resources) == ["resource://list_products_products_get"]
    assert list(server.resource_templates) == ["resource://get_product/{product_id}"]
    server, _, _ = serve("shop:app", "--include-tags", "admin")
    assert set(server.tools) == {"whoami_whoami_get", "slow_slow_get"}


def test_discovery(serve):
    server, _, _ = serve("shop:app", "--discovery", "search")
    assert listed_tools(server) == ["search_tools", "call_tool"]


def test_response_filter_and_bound(serve, monkeypatch):
    server, _, _ = serve("shop:app", "--response-filter", "--max-response-bytes", "200")
    assert call(server, "list_products_products_get", {"response_filter": "[:1]"}).data == [
        {"id": 0, "name": "product 0"}
    ]
    too_large = call(server, "list_products_products_get")
    assert too_large.is_error
    assert "more than the 200 a result may carry" in too_large.text

    monkeypatch.setenv("MCPKIT_MAX_RESPONSE_BYTES", "200")
    server, _, _ = serve("shop:app", "--max-response-bytes", "none")
    assert len(call(server, "list_products_products_get").data) == 50


def test_output_schemas_parser_and_name_strategy(serve):
    server, _, _ = serve(
        "shop:app", "--output-schemas", "none", "--parser", "experimental", "--name-strategy", "default"
    )
    assert "get_product_products__product_id__get" in server.tools
    assert all(tool.output_schema is None for tool in server.tools.values())


def test_timeout(serve):
    server, _, _ = serve("shop:app", "--timeout", "0.1")
    late = call(server, "slow_slow_get")
    assert late.is_error
    assert "timed out after 0.1 s" in late.text


def test_interrupted_is_exit_code_130(capsys, tmp_path, monkeypatch):
    (tmp_path / "doc.json").write_text(
        json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}})
    )
    monkeypatch.chdir(tmp_path)
    get_plugin_host().register(ProbePlugin(), name="probe")
    assert (
        main(["serve", "doc.json", "--base-url", "http://x.example", "--transport", "interrupted"])
        == EXIT_INTERRUPTED
    )
    assert "Traceback" not in capsys.readouterr().err


# An OpenAPI document of an API over real HTTP

echo_api = FastAPI(title="Echo", servers=[{"url": "/"}])
api_key = APIKeyHeader(name="X-Api-Key", auto_error=False)


@echo_api.get("/echo")
def echo(request: Request, key: str | None = Security(api_key)) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k in ("x-api-key", "x-trace")}


@pytest.fixture(scope="module")
def live_api():
    """The echo API served by uvicorn on a free loopback port; stops after the module's tests."""
    server = uvicorn.Server(
        uvicorn.Config(echo_api, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_document_by_url_with_credentials(serve, live_api):
    server, _, _ = serve(f"{live_api}/openapi.json", "--auth", "APIKeyHeader=k-1")
    assert server.name == "Echo"
    assert call(server, "echo_echo_get").data == {"x-api-key": "k-1"}


def test_a_document_file_with_a_base_url_and_headers(serve, live_api, tmp_path):
    document = tmp_path / "echo.json"
    document.write_text(json.dumps(echo_api.openapi()))
    server, _, _ = serve(str(document), "--base-url", live_api, "--header", "X-Trace: t-1")
    assert call(server, "echo_echo_get").data == {"x-trace": "t-1"}


def test_headers_go_to_the_documents_own_server(serve, live_api):
    server, _, _ = serve(f"{live_api}/openapi.json", "--header", "X-Trace: t-2", "--header", "X-Api-Key: k-2")
    assert call(server, "echo_echo_get").data == {"x-trace": "t-2", "x-api-key": "k-2"}


# The real transports, end to end


@pytest.fixture
def shop_dir(tmp_path):
    (tmp_path / "shop.py").write_text(SHOP)
    return tmp_path


async def test_serve_over_stdio(shop_dir):
    command = StdioServerParameters(
        command=str(MCPKIT),
        args=["serve", "shop:app", "--header", "Authorization: Bearer h-2", "--exclude-tags", "catalog"],
        cwd=str(shop_dir),
    )
    async with Client(command) as client:
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("Tiny shop", "2.0")
        assert {tool.name for tool in await client.list_tools()} == {"whoami_whoami_get", "slow_slow_get"}
        assert (await client.call_tool("whoami_whoami_get")).data["authorization"] == digest("Bearer h-2")


IGNORING_SIGINT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); os.execv(sys.argv[1], sys.argv[1:])",
]
"""Starts a command with SIGINT ignored, as a shell starts a background job (``mcpkit serve ... &``)."""


@pytest.mark.parametrize(
    ("stop", "launcher", "code"),
    [
        (signal.SIGINT, [], EXIT_INTERRUPTED),  # docs/cli.md: 130, interrupted (Ctrl+C)
        (signal.SIGINT, IGNORING_SIGINT, EXIT_INTERRUPTED),  # was 0: uvicorn re-raised an ignored SIGINT
        (signal.SIGTERM, [], EXIT_OK),  # docs/cli.md: 0, stopped by SIGTERM (was killed by it: -15)
    ],
    ids=["ctrl-c", "ctrl-c-inherited-ignored", "sigterm"],
)
async def test_serve_over_http(shop_dir, stop, launcher, code):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [MCPKIT, "serve", "shop:app", "--transport", "http", "--host", "127.0.0.1", "--port", str(port)]
    async with await anyio.open_process(
        [*launcher, *command], cwd=shop_dir, stderr=subprocess.PIPE
    ) as process:
        try:
            for _ in range(1000):  # until uvicorn listens (or the command failed)
                try:
                    await (await anyio.connect_tcp("127.0.0.1", port)).aclose()
                    break
                except OSError:
                    if process.returncode is not None:
                        break
                    await anyio.sleep(0.01)
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                product = await client.call_tool("get_product", {"product_id": 3})
                assert product.data == {"id": 3, "name": "product 3"}
        finally:
            process.send_signal(stop)
            with anyio.fail_after(30):
                err = b"".join([chunk async for chunk in process.stderr]).decode()
                await process.wait()
    assert "mcpkit: serving 'Tiny shop' (5 tools, 0 resources, 0 resource templates) over http" in err
    assert "Traceback" not in err
    assert "Application shutdown complete" in err  # a graceful stop in every case
    assert process.returncode == code, err

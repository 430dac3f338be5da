"""The gateway example (``examples/gateway``): a shop (``from_fastapi``), a museum (``from_openapi`` of a
corpus document, with credentials) and a notebook (``as_proxy`` of a remote MCP server) behind one
``discovery="search"`` endpoint over real HTTP. An agent searches, then calls, across all three."""

from __future__ import annotations

import signal
import sys
from typing import Any

import anyio
import mcp_types as types
import pytest

from examples.gateway.server import MUSEUM_PASSWORD_ENV, running
from mcpkit import Client
from tests.locations import ROOT
from tests.servers import free_port

PASSWORD = "s3cret-museum-pass"

# (what the agent wants, the tool it should find, the arguments it calls it with)
TASKS = [
    ("museum opening hours", "museum_getMuseumHours", {"startDate": "2024-05-01", "limit": 2}),
    ("write a note", "notes_add_note", {"text": "book the museum"}),
    ("list products", "shop_list_products_products_get", {"category": "electronics"}),
]


async def search_then_call(client: Client, query: str, arguments: dict[str, Any]) -> tuple[str, Any]:
    """What an agent does: search for a tool, take the best match, call it through ``call_tool``."""
    found = await client.call_tool("search_tools", {"query": query})
    name = found.data["tools"][0]["name"]
    result = await client.call_tool("call_tool", {"name": name, "arguments": arguments})
    return name, result.data


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_an_agent_searches_then_calls_across_the_three_sources(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MUSEUM_PASSWORD_ENV, PASSWORD)
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with running() as gateway, Client(gateway.url, mode=mode, progress_handler=on_progress) as client:
        assert [tool.name for tool in await client.list_tools()] == ["search_tools", "call_tool"]
        seen: list[Any] = []
        for query, expected, arguments in TASKS:
            name, data = await search_then_call(client, query, arguments)
            assert name == expected
            seen.append(data)
        hours, note, products = seen
        assert hours == [
            {"date": "2024-05-01", "timeOpen": "09:00", "timeClose": "18:00"},
            {"date": "2024-05-02", "timeOpen": "09:00", "timeClose": "18:00"},
        ]  # the museum's stand-in answers only with the credentials
        assert note == 1
        assert progress == [1]  # relayed from the notebook, through the proxy and the gateway
        assert products
        assert {product["category"] for product in products} == {"electronics"}
        [notes] = await client.read_resource("notes://notes/all")
        assert isinstance(notes, types.TextResourceContents)
        assert notes.text == '{"1":"book the museum"}'
        found = await client.call_tool("search_tools", {"query": "museum special events", "limit": 50})
    assert PASSWORD not in str(found.data)
    assert PASSWORD not in str(seen)


async def test_python_m_examples_gateway_serves_until_sigterm() -> None:
    port = free_port()
    command = [sys.executable, "-m", "examples.gateway", "--port", str(port)]
    async with await anyio.open_process(command, cwd=ROOT) as process:
        assert process.stderr is not None
        with anyio.fail_after(60):
            announced = b""
            async for chunk in process.stderr:
                announced += chunk
                if b"\n" in announced:
                    break
        assert announced.decode().strip() == f"gateway: http://127.0.0.1:{port}/mcp"
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            name, data = await search_then_call(client, "museum opening hours", {"limit": 1})
        assert name == "museum_getMuseumHours"
        assert len(data) == 1
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(30):
            assert await process.wait() == 0

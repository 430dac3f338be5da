"""The built-in stdio transport, driven by the SDK client over a real subprocess."""

from __future__ import annotations

import sys
import textwrap

import pytest

from mcpkit import Client, UnknownNameError
from mcpkit.plugins import get_plugin_host

SERVER = """
from mcpkit import MCPKit

mcp = MCPKit("stdio-demo", version="1.2.3")

@mcp.tool
def shout(text: str) -> str:
    print("stray output must not corrupt the protocol stream")
    return text.upper()

if __name__ == "__main__":
    mcp.run()
"""


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_stdio_server_in_a_subprocess(tmp_path, mode):
    script = tmp_path / "server.py"
    script.write_text(textwrap.dedent(SERVER))
    async with Client([sys.executable, str(script)], mode=mode) as client:
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("stdio-demo", "1.2.3")
        assert [t.name for t in await client.list_tools()] == ["shout"]
        assert (await client.call_tool("shout", {"text": "hi"})).data == "HI"


def test_unknown_transport_lists_choices():
    from mcpkit import MCPKit

    with pytest.raises(
        UnknownNameError, match=r"unknown transport 'carrier-pigeon'; valid choices: .*'stdio'"
    ):
        MCPKit("x").run(transport="carrier-pigeon")
    assert get_plugin_host().transports.registration("stdio").plugin == "mcpkit"


def test_stdio_transport_takes_no_options():
    from mcpkit import MCPKit

    with pytest.raises(TypeError, match="the stdio transport takes no options, got: port"):
        MCPKit("x").run(transport="stdio", port=8000)

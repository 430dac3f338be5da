"""Scopes per component over HTTP: a token sees and uses only the components its scopes allow."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from mcpkit import Client, Context, MCPKit


def scoped_server() -> MCPKit:
    mcp = MCPKit("scoped")

    @mcp.tool
    def public_stats() -> str:
        return "stats"

    @mcp.tool(scopes=["reports:write"])
    async def delete_report(report_id: int, ctx: Context) -> dict[str, Any]:
        token = ctx.access_token
        assert token is not None
        return {"deleted": report_id, "by": token.client_id, "scopes": sorted(token.scopes)}

    @mcp.resource("reports://secret", scopes=["reports:read"])
    def secret() -> str:
        return "classified"

    @mcp.prompt(scopes=["reports:write"])
    def purge_plan() -> str:
        return "Plan a purge."

    return mcp


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
async def test_a_token_sees_and_uses_only_what_its_scopes_allow(serve, tokens, mode):
    tokens.scopes_by_token.update({"reader": ["reports:read"], "writer": ["reports:read", "reports:write"]})
    app = scoped_server().http_app(token_verifier=tokens)
    async with serve(app) as base:
        url = f"{base}/mcp"
        async with Client(url, mode=mode, headers={"Authorization": "Bearer reader"}) as reader:
            reader_tools = [tool.name for tool in await reader.list_tools()]
            reader_resources = [str(r.uri) for r in await reader.list_resources()]
            reader_prompts = [prompt.name for prompt in await reader.list_prompts()]
            [secret] = await reader.read_resource("reports://secret")
            with pytest.raises(MCPError) as refused:
                await reader.call_tool("delete_report", {"report_id": 7})
        async with Client(url, mode=mode, headers={"Authorization": "Bearer writer"}) as writer:
            writer_tools = [tool.name for tool in await writer.list_tools()]
            deleted = await writer.call_tool("delete_report", {"report_id": 7})
            writer_prompts = [prompt.name for prompt in await writer.list_prompts()]
        async with Client(url, mode=mode, headers={"Authorization": "Bearer limited"}) as limited:
            assert await limited.list_resources() == []
    assert reader_tools == ["public_stats"]
    assert reader_resources == ["reports://secret"]
    assert reader_prompts == []
    assert secret.text == "classified"
    assert refused.value.error.data == {"requiredScopes": ["reports:write"]}
    assert refused.value.error.code == types.INVALID_REQUEST
    assert writer_tools == ["public_stats", "delete_report"]
    assert deleted.data == {"deleted": 7, "by": "tester", "scopes": ["reports:read", "reports:write"]}
    assert writer_prompts == ["purge_plan"]


async def test_without_authorization_scopes_are_not_checked():
    async with Client(scoped_server()) as client:
        names = [tool.name for tool in await client.list_tools()]
    assert names == ["public_stats", "delete_report"]


def test_scopes_take_a_list_of_names():
    mcp = MCPKit("bad")
    with pytest.raises(TypeError, match="not the string 'admin'"):

        @mcp.tool(scopes="admin")
        def purge() -> str:
            return "purged"

"""Multipart fields holding several files (``type: array`` of binary items) take a list of files."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mcpkit import Client, MCPKit


def upload_document(items: dict[str, Any]) -> dict[str, Any]:
    """A 3.1 document with one multipart operation whose ``files`` field is an array of ``items``."""
    body = {
        "type": "object",
        "required": ["files"],
        "properties": {"files": {"type": "array", "items": items, "maxItems": 3}, "note": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Uploads", "version": "1"},
        "paths": {
            "/upload": {
                "post": {
                    "operationId": "upload",
                    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": body}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


@pytest.mark.parametrize(
    "items",
    [
        {"type": "string", "format": "binary"},  # OpenAPI 3.0 spelling
        {"type": "string", "contentMediaType": "application/octet-stream"},  # 3.1: list[UploadFile]
    ],
)
async def test_an_array_of_binary_items_is_a_list_of_files(upstream, items):
    mcp = MCPKit.from_openapi(openapi_spec=upload_document(items), client=upstream.client())
    schema = mcp.tools["upload"].input_schema["properties"]["files"]
    assert schema["type"] == "array"
    assert schema["maxItems"] == 3
    assert "anyOf" in schema["items"]  # each item is a file argument

    async with Client(mcp) as client:
        await client.call_tool(
            "upload",
            {
                "files": [
                    base64.b64encode(b"first").decode(),
                    {"content": base64.b64encode(b"second").decode(), "filename": "b.txt"},
                ],
                "note": "two",
            },
        )
        body = upstream.last.body
        assert body.count(b'name="files"; filename=') == 2
        assert b'filename="b.txt"' in body
        assert b"first" in body
        assert b"second" in body
        assert b'name="note"\r\n\r\ntwo' in body

        refused = await client.call_tool("upload", {"files": ["a", "b", "c", "d"]}, raise_on_error=False)
        assert refused.is_error
        assert "is too long" in refused.text

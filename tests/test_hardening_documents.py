"""Hardening of document reading: the corpus lives in the repository; every valid JSON number converts
in every input form under both parsers; YAML alias bombs and other hostile YAML are refused clearly."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import uvicorn
import yaml
from starlette.responses import Response

from mcpkit import Client, MCPKit
from mcpkit_openapi import OpenAPIError, convert
from tests.locations import CORPUS
from tests.reliability import Recorder, record

PARSERS = ["legacy", "experimental"]

# The corpus


def test_the_corpus_is_in_the_repository_as_its_manifest_lists():
    manifest = (CORPUS / "MANIFEST.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \|.*\| ([\d,]+) \|$", manifest, flags=re.MULTILINE)
    listed = {name: int(size.replace(",", "")) for name, size in rows}
    kept = {p.name: p.stat().st_size for p in CORPUS.iterdir() if p.suffix in (".json", ".yaml", ".yml")}
    assert len(listed) == 10
    assert kept == listed  # every document, byte for byte the size its source has


# Numbers

NUMBERS = """{"openapi": "3.0.3", "info": {"title": "numbers", "version": "1"},
 "paths": {"/n/{id}": {"post": {"operationId": "numbers",
  "parameters": [
   {"name": "id", "in": "path", "required": true, "example": -9223372036854776000,
    "schema": {"type": "integer", "minimum": -100000000000000000000000, "maximum": 100000000000000000000000,
               "default": 18446744073709551616}},
   {"name": "q", "in": "query",
    "schema": {"type": "number", "maximum": 1e400, "exclusiveMaximum": true, "minimum": -1E400, "default": -0.0}}],
  "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Numbers"}}}},
  "responses": {"200": {"description": "ok",
   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Numbers"}}}}}}}},
 "components": {"schemas": {"Numbers": {"type": "object", "properties": {
  "big": {"type": "integer", "enum": [9223372036854775808, -9223372036854775809, 0, -0.0]},
  "huge": {"type": "number", "enum": [1, 1e400], "default": 1e400, "const": -1e400},
  "tiny": {"type": "number", "multipleOf": 1e-400, "minimum": 1e-400, "maximum": -0.0}}}}}}
"""
"""Integers past 64 bits, numbers past a double's range, -0.0 and an underflow, where schemas keep them."""


def served(document: bytes) -> Iterator[str]:
    """The URL of ``document``, served by uvicorn on 127.0.0.1 until the generator is closed."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await Response(document, media_type="application/json")(scope, receive, send)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/numbers.json"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


FORMS: dict[str, Callable[[Path], Any]] = {
    "json.loads mapping": lambda _: json.loads(NUMBERS),
    "yaml.safe_load mapping": lambda _: yaml.safe_load(NUMBERS),  # YAML 1.1: 1e400 is text there
    "JSON text": lambda _: NUMBERS,
    "JSON bytes": lambda _: NUMBERS.encode(),
    "YAML text": lambda _: "# YAML 1.2, in flow style\n" + NUMBERS,
    "JSON path": lambda tmp: write(tmp / "numbers.json", NUMBERS),
    "YAML path": lambda tmp: write(tmp / "numbers.yaml", "# YAML\n" + NUMBERS),
}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(params=[*FORMS, "URL"])
def numbers_document(request, tmp_path) -> Iterator[Any]:
    if request.param == "URL":
        yield from served(NUMBERS.encode())
    else:
        yield FORMS[request.param](tmp_path)


@pytest.mark.parametrize("parser", PARSERS)
def test_every_valid_json_number_converts_lists_and_calls_in_every_form(numbers_document, parser):
    upstream = Recorder()
    mcp = MCPKit.from_openapi(openapi_spec=numbers_document, client=upstream.client(), parser=parser)

    async def list_and_call() -> Any:
        async with Client(mcp) as client:
            tools = await client.list_tools()
            result = await client.call_tool(
                "numbers", {"id": 2**64, "q": -0.0, "big": 2**63, "tiny": 0}, raise_on_error=False
            )
            return tools, result

    tools, result = anyio.run(list_and_call)
    record("attacks", "document numbers past 64 bits / a double's range, -0.0, 1e-400: converted, listed")
    listed = tools[0].model_dump(mode="json", by_alias=True, exclude_none=True)
    json.dumps(listed, allow_nan=False)  # strict JSON: no infinity or NaN reaches the listing
    properties = listed["inputSchema"]["properties"]
    assert float(properties["id"]["maximum"]) == 1e23
    assert float(properties["id"]["minimum"]) == -1e23
    assert "maximum" not in properties["q"]  # 1e400: no bound a double can state
    assert "multipleOf" not in properties["tiny"]  # 1e-400 reads as 0, which multipleOf cannot be
    assert not result.is_error, result.content
    assert upstream.requests[-1].path == f"/api/n/{2**64}"
    assert json.loads(upstream.requests[-1].body) == {"big": 2**63, "tiny": 0}


@pytest.mark.parametrize("parser", PARSERS)
def test_numbers_json_cannot_carry_are_dropped_with_a_warning(parser):
    warnings = {str(w) for w in convert(NUMBERS, Recorder().client(), parser=parser).warnings}
    problems = "|".join(sorted(warnings))
    for where in (
        "parameters/1/schema/maximum",
        "parameters/1/schema/minimum",
        "Numbers/properties/huge/enum",
    ):
        assert re.search(rf"{where}: .* past a double's range", problems), where
    assert re.search(r"tiny/multipleOf: 'multipleOf' is not greater than 0", problems)


@pytest.mark.parametrize("prefix", ["", "# YAML\n"])
def test_an_integer_past_pythons_digit_limit_converts(prefix):
    text = NUMBERS.replace("18446744073709551616", "9" * 5000)
    mcp = MCPKit.from_openapi(openapi_spec=prefix + text, client=Recorder().client())
    record("attacks", "a 5000-digit integer in JSON and YAML text: read as a double, dropped")
    assert "default" not in mcp.tools["numbers"].input_schema["properties"]["id"]


def test_a_mapping_with_an_integer_of_any_size_converts():
    document = json.loads(NUMBERS)
    document["components"]["schemas"]["Numbers"]["properties"]["big"]["maximum"] = 10**5000
    mcp = MCPKit.from_openapi(openapi_spec=document, client=Recorder().client())
    record("attacks", "a mapping holding a 5000-digit integer: sized, converted, listed")

    async def listing() -> Any:
        async with Client(mcp) as client:
            return await client.list_tools()

    big = anyio.run(listing)[0].input_schema["properties"]["big"]
    assert big["maximum"] == 10**5000


# YAML


def alias_bomb(levels: int, merge: bool = False) -> str:
    """The "billion laughs": each level repeats the one below nine times (9 ** levels leaves)."""
    lines = ["openapi: 3.0.3", "info: {title: bomb, version: '1'}", "paths: {}"]
    lines.append(
        "x-l0: &l0 {a: lol, b: lol}" if merge else "x-l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"
    )
    for level in range(1, levels):
        aliases = ", ".join([f"*l{level - 1}"] * 9)
        lines.append(f"x-l{level}: &l{level} " + (f"{{<<: [{aliases}]}}" if merge else f"[{aliases}]"))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("merge", [False, True], ids=["sequences", "merge keys"])
def test_a_yaml_alias_bomb_is_refused_at_once(merge, tmp_path):
    # 9 ** 40 nodes once expanded: walked as a tree, it would never be done.
    bomb = alias_bomb(40, merge)
    for spec in (bomb, write(tmp_path / "bomb.yaml", bomb)):
        with pytest.raises(
            OpenAPIError, match=r"aliases repeat more than 250,000 nodes \(a YAML alias bomb\?\)"
        ):
            MCPKit.from_openapi(openapi_spec=spec, client=Recorder().client())
    record(
        "attacks", f"YAML alias bomb of {len(bomb)} bytes ({'merge keys' if merge else 'sequences'}): refused"
    )


def test_a_yaml_node_that_contains_itself_is_refused():
    for text in ("openapi: 3.0.3\nx-loop: &a [*a]\n", "openapi: 3.0.3\nx-loop: &a {next: *a}\n"):
        with pytest.raises(OpenAPIError, match=r"contains itself through an alias \(line 2\)"):
            MCPKit.from_openapi(openapi_spec=text, client=Recorder().client())
    record("attacks", "a YAML node containing itself through an alias: refused", 2)


ALIASED = """openapi: 3.0.3
info: {title: pets, version: '1'}
x-pet: &pet
  type: object
  properties:
    name: &name {type: string, maxLength: 40}
    tags: {type: array, items: *name}
x-limit: &limit {name: limit, in: query, schema: {type: integer, maximum: 100}}
paths:
  /pets:
    get:
      operationId: listPets
      parameters: [*limit]
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: *pet}}}}}
    post:
      operationId: createPet
      requestBody: {content: {application/json: {schema: {<<: *pet, required: [name]}}}}
      responses: {'201': {description: created}}
"""


@pytest.mark.parametrize("parser", PARSERS)
def test_real_anchors_aliases_and_merge_keys_still_work(parser):
    expanded = yaml.safe_load(ALIASED)  # PyYAML expands the aliases: the same document without them
    expanded = json.loads(json.dumps(expanded))
    with_aliases = MCPKit.from_openapi(openapi_spec=ALIASED, client=Recorder().client(), parser=parser)
    without = MCPKit.from_openapi(openapi_spec=expanded, client=Recorder().client(), parser=parser)
    assert sorted(with_aliases.tools) == ["createPet", "listPets"]
    for name, tool in with_aliases.tools.items():
        assert tool.input_schema == without.tools[name].input_schema
        assert tool.output_schema == without.tools[name].output_schema
    name = {"type": "string", "maxLength": 40}
    assert with_aliases.tools["createPet"].input_schema["properties"] == {
        "name": name,
        "tags": {"type": "array", "items": name},
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("openapi: 3.0.3\n? [a, b]\n: 1\n", r"has a mapping key that is not a scalar \(line 2\)"),
        ("openapi: 3.0.3\n? {a: 1}\n: 1\n", r"has a mapping key that is not a scalar \(line 2\)"),
        ("openapi: 3.0.3\nx-n: !!int abc\n", r"has a value that does not fit its YAML tag: ValueError"),
        ("openapi: 3.0.3\nx-b: !!bool maybe\n", r"has a value that does not fit its YAML tag: KeyError"),
        ("openapi: 3.0.3\nx-m: !!map text\n", r"has a value that does not fit its YAML tag: ValueError"),
        (
            "openapi: 3.0.3\nx-b: !!binary aGVsbG8=\n",
            r"could not determine a constructor for the tag .*binary",
        ),
        ("openapi: 3.0.3\nx-s: !!set {a, b}\n", r"could not determine a constructor for the tag .*set"),
    ],
    ids=["sequence key", "mapping key", "!!int abc", "!!bool maybe", "!!map text", "!!binary", "!!set"],
)
def test_yaml_that_is_no_json_value_is_refused_clearly(text, problem):
    with pytest.raises(OpenAPIError, match=problem):
        MCPKit.from_openapi(openapi_spec=text, client=Recorder().client())
    record("attacks", "YAML with a non-scalar key, a mistagged value or a non-JSON tag: refused clearly")


def test_a_document_too_large_to_fetch_is_refused_unread(monkeypatch):
    from mcpkit_openapi import loader

    monkeypatch.setattr(loader, "MAX_DOCUMENT_BYTES", 100)
    urls = served(NUMBERS.encode())
    try:
        with pytest.raises(OpenAPIError, match="larger than 100 bytes"):
            MCPKit.from_openapi(next(urls), server_url="http://api.test")
    finally:
        urls.close()
    record("attacks", "a document URL serving more than the bound: refused while downloading")

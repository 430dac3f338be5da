"""Every real document of the corpus converts under both parsers, and the parsers agree; loaded by the
user into a mapping first (``json.load``, ``yaml.safe_load``), it converts as its file does.

Documented, intended differences between the parsers (everything else must be identical):

- Warnings: ``legacy`` converts every component schema up front, so it also reports defects in
  schemas that no operation uses; ``experimental`` only sees the schemas operations reach.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from mcpkit import Client, MCPKit, Tool
from mcpkit_openapi import Conversion, convert
from mcpkit_openapi.loader import load_document
from mcpkit_openapi.model import Parameter
from mcpkit_openapi.parsers.common import METHODS
from tests.locations import CORPUS

DOCUMENTS = sorted(p.name for p in CORPUS.iterdir() if p.suffix in (".json", ".yaml", ".yml"))
PARSERS = ["legacy", "experimental"]
CLIENT = httpx.AsyncClient(base_url="http://api.test")


@functools.cache
def document(name: str) -> Any:
    return load_document(CORPUS / name)[0]


@functools.cache
def conversion(name: str, parser: str) -> Conversion:
    return convert(document(name), CLIENT, parser=parser)


def test_the_corpus_is_there():
    assert len(DOCUMENTS) == 10


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_operation_is_accounted_for(name, parser):
    raw = document(name)
    total = sum(1 for item in raw["paths"].values() for method in item if method in METHODS)
    result = conversion(name, parser)
    assert result.skipped == []
    assert result.excluded == []
    assert len(result.components) == total
    assert len({c.component.name for c in result.components}) == total


@pytest.mark.parametrize("name", DOCUMENTS)
def test_schemas_are_valid_json_schema_2020_12(name):
    checked: set[int] = set()

    def check(schema: dict[str, Any]) -> None:
        # Definitions are shared between tools: check each one once.
        for definition in schema.get("$defs", {}).values():
            if id(definition) not in checked:
                checked.add(id(definition))
                Draft202012Validator.check_schema(definition)
        Draft202012Validator.check_schema({k: v for k, v in schema.items() if k != "$defs"})

    for converted in conversion(name, "experimental").components:
        tool = converted.component
        assert isinstance(tool, Tool)
        check(tool.input_schema)
        if tool.output_schema is not None:
            check(tool.output_schema)


@pytest.mark.parametrize("name", DOCUMENTS)
async def test_listings_pass_the_sdks_wire_validation(name):
    mcp = MCPKit.from_openapi(openapi_spec=document(name), client=CLIENT, parser="experimental")
    async with Client(mcp, mode="legacy") as client:
        tools = await client.list_tools()
    assert len(tools) == len(mcp.tools)


def summary(result: Conversion) -> dict[str, Any]:
    """What must not depend on the parser: names, schemas and request plans."""
    out = {}
    for converted in result.components:
        tool = converted.component
        assert isinstance(tool, Tool)
        plan = converted.plan
        out[tool.name] = {
            "input": tool.input_schema,
            "output": tool.output_schema,
            "description": tool.description,
            "method": plan.method,
            "path": plan.path,
            "bindings": [
                (
                    b.argument,
                    b.kind,
                    b.name,
                    b.parameter and (b.parameter.style, b.parameter.explode, b.parameter.media_type),
                )
                for b in plan.bindings
            ],
            "body": plan.body and (plan.body.media_type, plan.body.required, dict(plan.body.encoding)),
            "files": sorted(plan.file_fields),
        }
    return out


def _serialisation(parameter: Parameter) -> tuple[str, bool, str | None]:
    return parameter.style, parameter.explode, parameter.media_type


@pytest.mark.parametrize("name", DOCUMENTS)
def test_both_parsers_produce_the_same_tools(name):
    legacy, experimental = summary(conversion(name, "legacy")), summary(conversion(name, "experimental"))
    assert list(legacy) == list(experimental)
    for tool in legacy:
        assert legacy[tool] == experimental[tool], tool


@functools.cache
def users_mapping(name: str) -> Any:
    """The document as a user loads it to pass a mapping: ``json.load``, or ``yaml.safe_load`` (its C
    loader here: the same mapping, faster). Unlike mcpkit's reader, these keep integers past 64 bits
    exact (openai has two) and read YAML 1.1 (response codes become integers, for one)."""
    with (CORPUS / name).open("rb") as file:
        return json.load(file) if name.endswith(".json") else yaml.load(file, Loader=yaml.CSafeLoader)


def as_doubles(value: Any) -> Any:
    """``value`` with its integers past 64 bits as the nearest double, as mcpkit reads JSON text."""
    if isinstance(value, dict):
        return {key: as_doubles(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_doubles(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return float(value)
    return value


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_mapping_a_user_loads_converts_as_the_file_does(name, parser):
    from_mapping = summary(convert(users_mapping(name), CLIENT, parser=parser))
    assert as_doubles(from_mapping) == as_doubles(summary(conversion(name, parser)))


@pytest.mark.parametrize("name", DOCUMENTS)
async def test_the_listing_of_the_mapping_a_user_loads_is_strict_json(name):
    mcp = MCPKit.from_openapi(openapi_spec=users_mapping(name), client=CLIENT, parser="experimental")
    async with Client(mcp) as client:
        tools = await client.list_tools()
    assert len(tools) == len(mcp.tools)
    listing = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    json.dumps(listing, allow_nan=False)  # no number JSON cannot carry


@pytest.mark.parametrize("name", DOCUMENTS)
def test_warnings_differ_only_as_documented(name):
    legacy = {str(w) for w in conversion(name, "legacy").warnings}
    experimental = {str(w) for w in conversion(name, "experimental").warnings}
    assert experimental <= legacy
    for extra in legacy - experimental:
        assert extra.startswith("#/components/schemas/"), extra


LISTING_BOUNDS = {"github-api.github.com.json": 4_000_000, "stripe-spec3.yaml": 10_000_000}


def server(name: str, output_schemas: str) -> MCPKit:
    return MCPKit.from_openapi(openapi_spec=document(name), client=CLIENT, output_schemas=output_schemas)


@pytest.mark.parametrize(("name", "bound"), LISTING_BOUNDS.items())
async def test_the_whole_listing_of_a_large_api_stays_small(name, bound):
    mcp = server(name, "compact")
    async with Client(mcp) as client:
        tools = await client.list_tools()
    assert len(tools) == len(mcp.tools)
    listing = json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])
    assert len(listing.encode()) < bound, f"{len(listing.encode()):,} bytes"


@pytest.mark.parametrize("name", LISTING_BOUNDS)
def test_compact_output_schemas_leave_input_schemas_whole(name):
    compact, full = server(name, "compact").tools, server(name, "full").tools
    assert list(compact) == list(full)
    for tool in compact:
        assert compact[tool].input_schema == full[tool].input_schema, tool
    # the policies did differ, where it is allowed to: in the output schemas
    assert any(compact[tool].output_schema != full[tool].output_schema for tool in compact)

"""Completions of prompt arguments and resource-template variables."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Literal

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from mcpkit import Client, MCPKit, MCPType, RouteMap
from mcpkit.completions import MAX_VALUES


@pytest.fixture(params=["auto", "legacy"], ids=["2026-07-28", "handshake-era"])
def mode(request):
    return request.param


class Tone(enum.Enum):
    FRIENDLY = "friendly"
    FORMAL = "formal"


CITIES = {"fr": ["Paris", "Lyon", "Lille"], "it": ["Rome", "Milan"]}


def cities(typed: str, arguments: Mapping[str, str]) -> list[str]:
    return [
        city
        for city in CITIES.get(arguments.get("country", ""), [])
        if city.lower().startswith(typed.lower())
    ]


async def numbers(typed: str, arguments: Mapping[str, str]) -> list[int]:
    return [n for n in range(1000) if str(n).startswith(typed)]


def make_server() -> MCPKit:
    mcp = MCPKit("completions")

    @mcp.prompt(completions={"language": ["Python", "Rust", "Ruby"], "city": cities, "count": numbers})
    def plan(
        language: str, tone: Tone, length: Literal["short", "long"], country: str, city: str, count: str
    ) -> str:
        return f"{language} {tone.value} {length} {country} {city} {count}"

    @mcp.resource("weather://{country}/{city}", completions={"city": cities, "country": list(CITIES)})
    def weather(country: str, city: str) -> str:
        return f"sunny in {city}"

    return mcp


async def test_completion_is_declared_and_completes_listed_values_by_prefix(mode):
    async with Client(make_server(), mode=mode) as client:
        assert client.server_capabilities.completions is not None
        ruby_rust = await client.complete("plan", "language", "r")
        everything = await client.complete("plan", "language")
        none = await client.complete("plan", "language", "go")
    assert (ruby_rust.values, ruby_rust.total, ruby_rust.has_more) == (["Rust", "Ruby"], 2, False)
    assert everything.values == ["Python", "Rust", "Ruby"]
    assert none.values == []


async def test_literal_and_enum_parameters_complete_by_themselves(mode):
    async with Client(make_server(), mode=mode) as client:
        tone = await client.complete("plan", "tone", "f")
        length = await client.complete("plan", "length", "s")
        free_text = await client.complete("plan", "country", "f")
    assert tone.values == ["friendly", "formal"]
    assert length.values == ["short"]
    assert free_text.values == []  # no completer: nothing to suggest


async def test_a_completer_function_sees_the_other_arguments(mode):
    async with Client(make_server(), mode=mode) as client:
        french = await client.complete("plan", "city", "l", context={"country": "fr"})
        italian = await client.complete("plan", "city", "", context={"country": "it"})
        template = await client.complete("weather://{country}/{city}", "city", "R", context={"country": "it"})
        country = await client.complete("weather://{country}/{city}", "country", "")
    assert french.values == ["Lyon", "Lille"]
    assert italian.values == ["Rome", "Milan"]
    assert template.values == ["Rome"]
    assert country.values == ["fr", "it"]


async def test_at_most_a_hundred_values_and_has_more(mode):
    async with Client(make_server(), mode=mode) as client:
        many = await client.complete("plan", "count", "")
        few = await client.complete("plan", "count", "99")
    assert len(many.values) == MAX_VALUES
    assert many.has_more is True
    assert many.total is None  # a function's values are not all counted
    assert few.values == ["99", "990", "991", "992", "993", "994", "995", "996", "997", "998", "999"]
    assert few.has_more is False


async def test_unknown_references_are_protocol_errors(mode):
    async with Client(make_server(), mode=mode) as client:
        with pytest.raises(MCPError, match="unknown prompt 'nope'") as prompt:
            await client.complete("nope", "x")
        with pytest.raises(MCPError, match="unknown resource template") as template:
            await client.complete("nope://{x}", "x")
    assert prompt.value.error.code == template.value.error.code == types.INVALID_PARAMS


def test_completers_must_name_arguments_and_be_lists_or_functions():
    mcp = MCPKit("bad")
    with pytest.raises(TypeError, match="must be a list of values or a function"):

        @mcp.prompt(completions={"topic": "ab"})
        def chat(topic: str) -> str:
            return topic

    with pytest.raises(TypeError, match="needs a URI template"):

        @mcp.resource("fixed://thing", completions={"x": ["a"]})
        def thing() -> str:
            return "thing"


async def test_generated_templates_complete_the_enums_of_the_document():
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Catalogue", "version": "1"},
        "paths": {
            "/products/{category}": {
                "get": {
                    "operationId": "list_products",
                    "parameters": [
                        {
                            "name": "category",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": ["books", "games", "garden"]},
                        },
                        {"name": "sort", "in": "query", "schema": {"$ref": "#/components/schemas/Sort"}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": {"description": "products"}},
                }
            }
        },
        "components": {"schemas": {"Sort": {"type": "string", "enum": ["price", "name"]}}},
    }
    mcp = MCPKit.from_openapi(
        document,
        server_url="http://api.test",
        route_maps=[RouteMap(methods=["GET"], mcp_type=MCPType.RESOURCE_TEMPLATE)],
    )
    [template] = mcp.resource_templates
    async with Client(mcp) as client:
        category = await client.complete(template, "category", "g")
        sort = await client.complete(template, "sort")
        free = await client.complete(template, "q", "x")
    assert category.values == ["games", "garden"]
    assert sort.values == ["price", "name"]
    assert free.values == []

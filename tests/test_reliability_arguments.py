"""Bad arguments: Hypothesis-generated arguments for every tool of corpus documents, against a
recording upstream. Arguments the input schema refuses never reach the API; accepted ones give
requests whose path stays inside the operation's template, to the same host, with no header that
the operation does not declare and no line break in any header value."""

from __future__ import annotations

import functools
import logging
import re
import string
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit import MCPKit, Tool
from mcpkit_openapi import convert
from tests.locations import CORPUS
from tests.reliability import Recorder, examples, record

DOCUMENTS = [
    "oai-petstore-v3.0.yaml",
    "oai-petstore-v2.0-swagger.json",
    "redocly-museum-v3.1.yaml",
    "spotify-web-api-sonallux.yml",
    "twilio-api-v2010.json",
]
BASE = "http://upstream.test/api"
HTTPX_HEADERS = {
    "host",
    "accept",
    "accept-encoding",
    "connection",
    "user-agent",
    "content-length",
    "content-type",
}
REFUSALS = (
    "invalid arguments for tool",
    "line break or NUL",
    "a header value must be ASCII",
    "expected base64 content",
    "the path parameter ",  # a value that would change the path's shape
)

HOSTILE = st.sampled_from(
    [
        "..",
        ".",
        "../../admin",
        "a/../../b",
        "%2e%2e",
        "%2F",
        "a/b",
        "?q=1#frag",
        "//evil.example/x",
        "http://evil.example/",
        "@evil.example",
        "x\r\nX-Injected: 1",
        "x\nSet-Cookie: a=b",
        "\x00",
        "é/日本",
        "; other=cookie",
        "",
    ]
)
TEXT = HOSTILE | st.text(alphabet=string.printable + "éü日\u2028", max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def values(schema: Any, defs: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values aimed at ``schema`` (most valid, some not: the tool's validator decides)."""
    if not isinstance(schema, dict) or depth > 5:
        return JSON
    if isinstance(schema.get("$ref"), str):
        return values(defs.get(schema["$ref"].rsplit("/", 1)[-1]), defs, depth + 1)
    if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return st.one_of([values(branch, defs, depth + 1) for branch in schema[key]])
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged: dict[str, Any] = {"properties": {}, "required": []}
        for branch in schema["allOf"]:
            branch = defs.get(branch["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in branch else branch
            merged["properties"].update(branch.get("properties", {}))
            merged["required"] += branch.get("required", [])
            merged.setdefault("type", branch.get("type"))
        return values(merged, defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([values({**schema, "type": k}, defs, depth) for k in kind])
    if kind == "string":
        if isinstance(schema.get("pattern"), str):
            try:
                return st.from_regex(schema["pattern"], fullmatch=True)
            except (re.error, ValueError):
                return TEXT
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        sized = st.text(alphabet=string.printable + "éü日", min_size=low, max_size=high or low + 12)
        return sized | HOSTILE.filter(lambda v: low <= len(v) <= (high or len(v)))
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(values(schema.get("items"), defs, depth + 1), max_size=3)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = [name for name in schema.get("required", []) if name in properties]
        optional = {n: values(s, defs, depth + 1) for n, s in properties.items() if n not in required}
        return st.fixed_dictionaries(
            {name: values(properties[name], defs, depth + 1) for name in required}, optional=optional
        )
    return JSON


def arguments(tool: Tool) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for ``tool``: aimed at its schema, aimed but with one value replaced, or anything."""
    schema = tool.input_schema
    aimed = values(schema, schema.get("$defs", {}))
    names = list(schema.get("properties", {})) or ["x"]
    spoiled = st.tuples(aimed, st.sampled_from(names), JSON).map(lambda t: {**t[0], t[1]: t[2]})
    return st.one_of(aimed, aimed, aimed, spoiled, st.dictionaries(TEXT, JSON, max_size=3))


def template_pattern(template: str) -> re.Pattern[str]:
    """The raw paths a template allows: each ``{parameter}`` is some text without ``/``, ``?`` or ``#``."""
    parts = re.split(r"\{[^{}]*\}", template)
    return re.compile("/api" + "[^/?#]*".join(re.escape(part) for part in parts))


class Harness:
    """A document's server calling a recording upstream, and what it checks per call."""

    def __init__(self, name: str) -> None:
        self.upstream = Recorder()
        conversion = convert(CORPUS / name, self.upstream.client(BASE))
        self.mcp = MCPKit.from_openapi(openapi_spec=CORPUS / name, client=self.upstream.client(BASE))
        self.plans = {c.component.name: c.plan for c in conversion.components}
        self.strategies = {name: arguments(tool) for name, tool in self.mcp.tools.items()}

    async def call(self, name: str, args: dict[str, Any]) -> None:
        tool = self.mcp.tools[name]
        valid = tool.validator.is_valid(args)
        before = len(self.upstream.requests)
        result = await self.mcp.call_tool(name, args)
        sent = self.upstream.requests[before:]
        text = "".join(getattr(block, "text", "") for block in result.content)
        if not valid:
            assert result.is_error
            assert text.startswith(f"invalid arguments for tool {name!r}"), text
            assert sent == []
            record("arguments", "invalid: refused, nothing sent")
            return
        if not sent:
            assert result.is_error
            assert any(reason in text for reason in REFUSALS), text
            record("arguments", "valid but unsendable (a line break in a header, a '/' in a path): refused")
            return
        assert len(sent) == 1
        self.check(name, sent[0])
        record("arguments", "valid: sent inside the template")

    def check(self, name: str, request: Any) -> None:
        plan = self.plans[name]
        assert request.method == plan.method
        assert request.host == "upstream.test"
        assert template_pattern(plan.path).fullmatch(request.path), (plan.path, request.path)
        declared_path_segments = plan.path.split("/")
        for index, segment in enumerate(request.path.removeprefix("/api").split("/")):
            if segment in ("..", "."):
                assert declared_path_segments[index] == segment
        declared = {b.name.lower() for b in plan.bindings if b.kind == "header"}
        for raw_name, raw_value in request.headers:
            header = raw_name.decode("latin-1").lower()
            assert header in declared | HTTPX_HEADERS | {"cookie"}, header
            assert not re.search(rb"[\r\n\x00]", raw_value), (header, raw_value)
        cookies = {b.name for b in plan.bindings if b.kind == "cookie"}
        for raw_name, raw_value in request.headers:
            if raw_name == b"cookie":
                names = {pair.split("=", 1)[0] for pair in raw_value.decode("latin-1").split("; ")}
                assert names <= cookies, names


@functools.cache
def harness(name: str) -> Harness:
    return Harness(name)


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


CHUNK = 20
"""Tools per test: each example draws arguments for every one of them (no tool is left to chance),
and a chunk's draws stay well inside the data Hypothesis allows one example."""


def chunks() -> list[tuple[str, int]]:
    """(document, first tool) of every chunk of every document's sorted tools."""
    return [(name, start) for name in DOCUMENTS for start in range(0, len(harness(name).mcp.tools), CHUNK)]


@pytest.mark.parametrize(("name", "start"), chunks())
def test_generated_arguments_for_every_tool(name, start):
    h = harness(name)
    tools = sorted(h.mcp.tools)[start : start + CHUNK]

    @settings(
        max_examples=examples(max(3, 60 // len(tools))),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(st.data())
    def run(data: st.DataObject) -> None:
        for tool in tools:
            args = data.draw(h.strategies[tool], label=tool)
            record("arguments", "generated by Hypothesis")
            anyio.run(h.call, tool, args)

    run()
    for tool in tools:  # and with no arguments at all
        anyio.run(h.call, tool, {})
    record("arguments", "tools called", len(tools))


def test_the_template_pattern_keeps_values_inside_their_segment():
    pattern = template_pattern("/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json")
    assert pattern.fullmatch("/api/2010-04-01/Accounts/AC1/Calls/CA%2F..%2F.json")
    assert not pattern.fullmatch("/api/2010-04-01/Accounts/AC1/Calls/x/../y.json")
    assert not pattern.fullmatch("/api/2010-04-01/Accounts/AC1/Calls/CA.json?x")

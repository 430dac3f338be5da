"""Shared pieces of the reliability tests: OpenAPI document strategies, a recording upstream, and the
campaign log that ``bench/campaign.py`` reads to summarise what the tests tried.

The tests record what they tried with :func:`record` (a no-op unless ``MCPKIT_CAMPAIGN_LOG`` names a
file) and size their Hypothesis runs with :func:`examples` (``MCPKIT_CAMPAIGN_SCALE`` multiplies the
number of examples, for longer campaigns than CI runs).
"""

from __future__ import annotations

import inspect
import json
import os
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import Response

# Campaign bookkeeping


def record(kind: str, what: str, count: int = 1) -> None:
    """Count ``count`` things of ``kind`` (documents, arguments, faults, calls, checks) as ``what``."""
    path = os.environ.get("MCPKIT_CAMPAIGN_LOG")
    if path and count:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"kind": kind, "what": what, "count": count}) + "\n")


def examples(base: int) -> int:
    """``base`` Hypothesis examples, scaled by ``MCPKIT_CAMPAIGN_SCALE`` (default 1)."""
    return max(1, int(base * float(os.environ.get("MCPKIT_CAMPAIGN_SCALE", "1"))))


# A recording upstream API


@dataclass
class Seen:
    """One request as it reached the upstream: method, raw path, raw query, host and headers."""

    method: str
    path: str
    query: str
    host: str
    headers: list[tuple[bytes, bytes]]
    body: bytes


Answer = Callable[[Request], Response | Awaitable[Response]]


@dataclass
class Recorder:
    """An ASGI app that records every request and answers ``{"ok": true}`` (or what ``answer`` says)."""

    requests: list[Seen] = field(default_factory=list)
    answer: Answer | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        self.requests.append(
            Seen(
                method=request.method,
                path=scope["raw_path"].decode("latin-1"),
                query=scope["query_string"].decode("latin-1"),
                host=request.headers.get("host", ""),
                headers=list(scope["headers"]),
                body=await request.body(),
            )
        )
        response = (
            self.answer(request) if self.answer else Response(b'{"ok":true}', media_type="application/json")
        )
        if inspect.isawaitable(response):
            response = await response
        await response(scope, receive, send)

    def client(self, base_url: str = "http://upstream.test/api") -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self), base_url=base_url)


# OpenAPI documents, valid and broken


_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)
"""Any JSON value: what a broken document has where an object of some kind belongs."""

_WORD = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=8)
_ODD = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=0,
    max_size=10,
)
NAMES = st.one_of(
    _WORD,
    st.sampled_from(
        ["id", "Id", "get a", "get-a", "get_a", "café", "日本語", "ñ", "a/b", "a~b", "$ref", "x" * 80]
    ),
    _ODD,
)
"""Names as documents have them: plain, colliding once sanitised, non-ASCII, odd, long, empty."""

SCHEMA_NAMES = ("Pet", "Pet_2", "Pet/2", "Ünïcode", "a~1b", "Node", "Node")


def broken(strategy: st.SearchStrategy[Any], odds: int = 25) -> st.SearchStrategy[Any]:
    """``strategy``, or (one time in ``odds``) any JSON value instead."""
    return st.integers(0, odds - 1).flatmap(lambda n: _JUNK if n == 0 else strategy)


def _ref() -> st.SearchStrategy[dict[str, Any]]:
    local = st.sampled_from(SCHEMA_NAMES).map(
        lambda n: {"$ref": "#/components/schemas/" + n.replace("~", "~0").replace("/", "~1")}
    )
    odd = st.sampled_from(
        [
            "#/components/schemas/Missing",
            "#/components/schemas/",
            "#",
            "#/paths",
            "#/info/title",
            "other.yaml#/components/schemas/Pet",
            "https://example.invalid/schemas.json#/Pet",
            "#components/schemas/Pet",
            "#/components/schemas/Pet/properties/name",
            "#/components/schemas/%50et",
        ]
    ).map(lambda ref: {"$ref": ref})
    return st.one_of(local, local, odd)


_TYPES = st.sampled_from(
    ["string", "integer", "number", "boolean", "array", "object", "null", "file", "strange"]
)


def _leaf() -> st.SearchStrategy[Any]:
    scalar = st.fixed_dictionaries(
        {"type": _TYPES},
        optional={
            "format": st.sampled_from(["int32", "date-time", "binary", "uuid", "byte"]),
            "enum": st.lists(st.integers() | st.text(max_size=3), max_size=3),
            "nullable": st.booleans(),
            "minimum": st.integers(-5, 5),
            "exclusiveMinimum": st.booleans() | st.integers(-5, 5),
            "maxLength": st.integers(0, 5),
            "pattern": st.sampled_from(["^[a-z]+$", "\\d"]),
            "default": _JUNK,
            "readOnly": st.booleans(),
            "writeOnly": st.booleans(),
            "x-extension": _JUNK,
            "description": _ODD,
        },
    )
    return st.one_of(scalar, _ref(), st.booleans(), st.just({}))


def _branches(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("object"), "properties": st.dictionaries(NAMES, inner, max_size=3)},
            optional={
                "required": st.lists(NAMES, max_size=2) | st.booleans(),
                "additionalProperties": st.booleans() | inner,
            },
        ),
        st.fixed_dictionaries({"type": st.just("array"), "items": inner | st.lists(inner, max_size=2)}),
        st.fixed_dictionaries({"allOf": st.lists(inner, max_size=2)}),
        st.fixed_dictionaries(
            {"oneOf": st.lists(inner, min_size=1, max_size=2)}, optional={"discriminator": _JUNK}
        ),
        st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=2)}),
        st.fixed_dictionaries({"not": inner}),
    )


SCHEMAS = st.recursive(_leaf(), lambda inner: broken(_branches(inner), odds=12), max_leaves=8)
"""Schemas: every kind, local references (resolvable, cyclic through components, broken, external)."""


def deep_schema(levels: int, kind: str) -> dict[str, Any]:
    """A schema ``levels`` deep, nesting by ``kind`` (``properties``, ``items``, ``allOf``, ``default``)."""
    schema: Any = {"type": "string"}
    for _ in range(levels):
        if kind == "properties":
            schema = {"type": "object", "properties": {"a": schema}}
        elif kind == "items":
            schema = {"type": "array", "items": schema}
        elif kind == "allOf":
            schema = {"allOf": [schema]}
        else:
            schema = [schema]
    return schema if kind != "default" else {"type": "array", "default": schema}


_LOCATIONS = st.sampled_from(["path", "query", "header", "cookie", "body", "formData", "nowhere"])


def _parameter() -> st.SearchStrategy[Any]:
    parameter = st.fixed_dictionaries(
        {"name": broken(NAMES, odds=20), "in": _LOCATIONS},
        optional={
            "required": broken(st.booleans()),
            "schema": SCHEMAS,
            "style": st.sampled_from(
                ["form", "simple", "deepObject", "matrix", "label", "pipeDelimited", "odd"]
            ),
            "explode": st.booleans(),
            "content": st.dictionaries(
                st.sampled_from(["application/json", "text/plain"]),
                st.fixed_dictionaries({"schema": SCHEMAS}),
                max_size=1,
            ),
            "type": _TYPES,
            "collectionFormat": st.sampled_from(["csv", "multi", "tsv"]),
        },
    )
    reference = st.sampled_from(
        [
            "#/components/parameters/Shared",
            "#/components/parameters/Loop",
            "#/components/parameters/Missing",
            "other.yaml#/P",
        ]
    ).map(lambda r: {"$ref": r})
    return broken(st.one_of(parameter, parameter, parameter, parameter, reference), odds=25)


_MEDIA = st.sampled_from(
    [
        "application/json",
        "application/vnd.api+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "text/plain",
        "application/octet-stream",
        "*/*",
        "",
    ]
)


def _content() -> st.SearchStrategy[Any]:
    return st.dictionaries(
        _MEDIA, broken(st.fixed_dictionaries({}, optional={"schema": SCHEMAS})), max_size=2
    )


def _operation() -> st.SearchStrategy[Any]:
    response = st.fixed_dictionaries({"description": st.just("ok")}, optional={"content": _content()})
    return st.fixed_dictionaries(
        {
            "responses": broken(
                st.dictionaries(
                    st.sampled_from(["200", "201", "2XX", "204", "default", "404", "abc"]),
                    broken(response),
                    max_size=2,
                )
            )
        },
        optional={
            "operationId": broken(NAMES, odds=20),
            "summary": _ODD,
            "parameters": broken(st.lists(_parameter(), max_size=3)),
            "requestBody": broken(
                st.fixed_dictionaries({"content": _content()}, optional={"required": st.booleans()})
            ),
            "tags": broken(st.lists(NAMES, max_size=2)),
            "security": broken(
                st.lists(
                    st.dictionaries(st.sampled_from(["key", "bearer", "undefined"]), st.just([]), max_size=1),
                    max_size=2,
                )
            ),
        },
    )


_SEGMENT = st.one_of(
    _WORD, st.sampled_from(["{id}", "{id}", "{日本}", "{a b}", "café", "..", "%2F", "{id}.json"])
)
PATHS = st.lists(_SEGMENT, min_size=0, max_size=3).map(lambda parts: "/" + "/".join(parts)) | st.sampled_from(
    ["", "no-slash/{id}", "//double"]
)

_METHODS = st.sampled_from(
    ["get", "put", "post", "delete", "patch", "head", "options", "trace", "parameters", "summary", "x-custom"]
)


def _path_item() -> st.SearchStrategy[Any]:
    operations = st.dictionaries(_METHODS, broken(_operation()), min_size=1, max_size=3)
    reference = st.sampled_from(["#/paths/~1loop", "#/paths/~1missing", "other.yaml#/paths/~1x"]).map(
        lambda r: {"$ref": r}
    )
    return st.one_of(operations, operations, operations, reference)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """An OpenAPI 3.0, 3.1 or Swagger 2.0 document, well formed or broken anywhere."""
    version = draw(broken(st.sampled_from(["3.0.3", "3.1.0", "2.0"]), odds=30))
    document: dict[str, Any] = {"swagger": "2.0"} if version == "2.0" else {"openapi": version}
    document["info"] = draw(
        broken(st.fixed_dictionaries({"title": _ODD, "version": st.just("1") | st.integers()}), odds=20)
    )
    document["paths"] = draw(broken(st.dictionaries(PATHS, _path_item(), min_size=1, max_size=5)))
    schemas = draw(st.dictionaries(st.sampled_from(SCHEMA_NAMES), SCHEMAS, max_size=4))
    loop = {"$ref": "#/components/parameters/Loop"}
    parameters = {"Shared": draw(_parameter()), "Loop": loop}
    schemes = {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "bearer": {"type": "http", "scheme": "bearer"},
    }
    if version == "2.0":
        document["definitions"] = schemas
        document["parameters"] = {
            k.replace("components/parameters", "parameters"): v for k, v in parameters.items()
        }
        document["securityDefinitions"] = schemes
        document["host"] = draw(st.sampled_from(["api.example.com", "", "h:1"]))
    else:
        document["components"] = draw(
            broken(
                st.just({"schemas": schemas, "parameters": parameters, "securitySchemes": schemes}), odds=20
            )
        )
        document["servers"] = draw(broken(st.just([{"url": "https://api.example.com/v1"}]), odds=10))
    if draw(st.booleans()) and isinstance(document["paths"], dict):
        document["paths"]["/loop"] = {"$ref": "#/paths/~1loop"}
    return document

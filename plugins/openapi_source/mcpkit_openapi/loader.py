"""Reading documents: a mapping, a file path, a URL, or the text itself; JSON or YAML."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

from mcpkit_openapi.errors import OpenAPIError, pointer

MAX_DEPTH = 128
"""Levels of objects and arrays a document may nest where it is read whole (YAML text, a mapping that
is copied, a Swagger 2.0 upgrade); the deepest real documents nest about 25."""


class _Loader(yaml.CSafeLoader):
    """Safe YAML loading with the YAML 1.2 core schema (what OpenAPI asks for): only ``true`` and
    ``false`` are booleans, no dates, no sexagesimal numbers (PyYAML's 1.1 rules read ``18:00`` as
    1080 and ``2023-01-01`` as a date). Mapping keys are kept as text (``200:`` is the code "200")."""

    yaml_implicit_resolvers = {}  # noqa: RUF012 - replaced, not extended: only the rules below


for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$", "-+0123456789"),
    (
        "float",
        r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^<<$", "<"),
):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    return {
        _key(loader.construct_object(key, deep=True)): loader.construct_object(value, deep=True)
        for key, value in node.value
    }


def _integer(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text, 10)


def _text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _key(key: Any) -> Any:
    if isinstance(key, bool) or not isinstance(key, (int, float)):
        return key
    return str(key)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _integer)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _text)


def parse_text(data: bytes | str, location: str) -> Any:
    """Parse JSON or YAML text; errors name ``location`` and the line."""
    raw = data.encode() if isinstance(data, str) else data
    stripped = raw.lstrip()
    if stripped.startswith((b"{", b"[")):
        try:
            return orjson.loads(raw)
        except ValueError as exc:
            raise OpenAPIError("#", f"{location} is not valid JSON: {exc}") from None
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_depth(node, location)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise OpenAPIError("#", f"{location} is not valid YAML or JSON: {exc}") from None
    finally:
        loader.dispose()


def _check_depth(root: yaml.Node, location: str) -> None:
    """Refuse YAML nested deeper than :data:`MAX_DEPTH` before it is built (building recurses)."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [value for _, value in node.value]
        else:
            continue
        if depth > MAX_DEPTH:
            line = node.start_mark.line + 1
            raise OpenAPIError("#", f"{location} nests more than {MAX_DEPTH} levels deep (line {line})")
        stack.extend((child, depth + 1) for child in children)


def load_document(spec: Any, *, timeout: float = 30.0) -> tuple[Mapping[str, Any], str | None]:
    """The document and where it came from (a path or URL, ``None`` for a mapping).

    ``spec`` is a mapping (used as is, never modified), a path (``str`` or ``os.PathLike``), an
    ``http(s)://`` URL (fetched), or the document text itself (JSON or YAML, several lines).
    """
    if isinstance(spec, dict):
        return spec, None
    if isinstance(spec, Mapping):
        return _plain(spec), None
    if isinstance(spec, bytes):
        return _require_mapping(parse_text(spec, "the document"), "the document"), None
    if isinstance(spec, str) and spec.startswith(("http://", "https://")) and "\n" not in spec:
        try:
            response = httpx.get(spec, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise OpenAPIError("#", f"cannot fetch the document from {spec}: {exc}") from None
        return _require_mapping(parse_text(response.content, spec), spec), spec
    if isinstance(spec, str) and "\n" in spec:
        return _require_mapping(parse_text(spec, "the document text"), "the document text"), None
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise OpenAPIError(
                "#", f"cannot read the document {str(path)!r}: {exc.strerror or exc}"
            ) from None
        return _require_mapping(parse_text(data, str(path)), str(path)), str(path)
    raise TypeError(
        f"openapi_spec must be a mapping, a path, a URL or the document text, not {type(spec).__name__}"
    )


def _plain(node: Any, where: tuple[Any, ...] = ()) -> Any:
    """A copy of ``node`` made of dicts and lists, as parsers expect (JSON and YAML loaders give these)."""
    if isinstance(node, (Mapping, list, tuple)) and len(where) >= MAX_DEPTH:
        raise OpenAPIError(pointer(*where), f"the document nests more than {MAX_DEPTH} levels deep")
    if isinstance(node, Mapping):
        return {key: _plain(value, (*where, key)) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(value, (*where, index)) for index, value in enumerate(node)]
    return node


def _require_mapping(document: Any, location: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise OpenAPIError("#", f"{location} must be a JSON/YAML object, not {type(document).__name__}")
    return document

"""YAML text read with the YAML 1.2 core schema, as OpenAPI asks (imported only for YAML documents)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from mcpkit_openapi.errors import OpenAPIError
from mcpkit_openapi.loader import MAX_DEPTH


def parse_yaml(raw: bytes, location: str) -> Any:
    """The value of the YAML text ``raw``; errors name ``location`` and the line."""
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

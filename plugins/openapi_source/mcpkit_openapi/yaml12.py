"""YAML text read with the YAML 1.2 core schema, as OpenAPI asks (imported only for YAML documents)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from mcpkit_openapi.errors import OpenAPIError
from mcpkit_openapi.loader import MAX_DEPTH, integer

MAX_ALIAS_EXPANSION = 250_000
"""Nodes a YAML document's aliases may repeat, in all: as many as the largest real document has (GitHub's,
258,000 nodes; converted in about 0.3 s); the real documents that use aliases repeat far fewer."""


def parse_yaml(raw: bytes, location: str) -> Any:
    """The value of the YAML text ``raw``; errors name ``location`` and the line."""
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_shape(node, location)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise OpenAPIError("#", f"{location} is not valid YAML or JSON: {exc}") from None
    except OpenAPIError:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # an explicit tag its value does not fit: !!int abc
        raise OpenAPIError("#", f"{location} has a value that does not fit its YAML tag: {exc!r}") from None
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


def _integer(loader: _Loader, node: yaml.ScalarNode) -> int | float:
    text = str(loader.construct_scalar(node))
    if text.lstrip("+-").startswith(("0o", "0x")):
        return int(text, 0)
    return integer(text)


def _text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


def _key(key: Any) -> Any:
    if isinstance(key, bool) or not isinstance(key, (int, float)):
        return key
    return str(key)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _integer)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _text)


def _check_shape(root: yaml.Node, location: str) -> None:
    """Refuse, before it is built, YAML that nests deeper than :data:`MAX_DEPTH` (building recurses),
    contains itself through an alias, has a key that is not a scalar, or whose aliases repeat more than
    :data:`MAX_ALIAS_EXPANSION` nodes (the "billion laughs": every reader of the document would walk
    the repeats). An alias's target is walked once: its height and expanded size are remembered."""
    done: dict[int, tuple[int, int]] = {}  # id(node): (levels, nodes) of the node once expanded
    open_: set[int] = set()  # the nodes whose children are being walked: the current node's ancestors
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]  # a node and its nesting level
    while stack:
        node, level = stack[-1]
        if id(node) in done:
            stack.pop()
            continue
        if isinstance(node, yaml.ScalarNode):
            stack.pop()
            done[id(node)] = (0, 1)
            continue
        children = _children(node, location)
        if id(node) not in open_:
            if level > MAX_DEPTH:
                raise _refused(location, node, f"nests more than {MAX_DEPTH} levels deep")
            open_.add(id(node))
            for child in children:
                if id(child) in open_:
                    raise _refused(location, child, "contains itself through an alias")
                stack.append((child, level + 1))
            continue
        stack.pop()
        open_.discard(id(node))
        below = [done[id(child)] for child in children]
        levels = 1 + max((levels for levels, _ in below), default=0)
        if level + levels - 1 > MAX_DEPTH:
            raise _refused(location, node, f"nests more than {MAX_DEPTH} levels deep")
        done[id(node)] = (levels, 1 + sum(nodes for _, nodes in below))
    if done[id(root)][1] - len(done) > MAX_ALIAS_EXPANSION:
        raise OpenAPIError(
            "#",
            f"{location} is refused: its aliases repeat more than {MAX_ALIAS_EXPANSION:,} nodes "
            "(a YAML alias bomb?)",
        )


def _children(node: yaml.Node, location: str) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _refused(location, key, "has a mapping key that is not a scalar")
    return [value for _, value in node.value]


def _refused(location: str, node: yaml.Node, problem: str) -> OpenAPIError:
    return OpenAPIError("#", f"{location} {problem} (line {node.start_mark.line + 1})")


for _tag in ("binary", "omap", "pairs", "set"):  # not JSON values: refused as unknown tags
    del _Loader.yaml_constructors[f"tag:yaml.org,2002:{_tag}"]

"""JSON Schema handling for tool inputs and outputs.

Tool schemas may be raw JSON Schema (what OpenAPI gives). Before they are served they are normalised
so that the SDK's wire validation accepts every listing, in both protocol eras:

- an input schema is an object schema at the root (``"type": "object"``);
- an output schema is an object schema at the root too; any other output schema is wrapped as
  ``{"type": "object", "properties": {"result": <schema>}, "required": ["result"]}`` with the
  marker ``"x-mcpkit-wrap-result": true``, and the tool's structured results are wrapped to match;
- every ``$ref`` is local and resolves inside the schema.

Arguments are validated with :mod:`jsonschema` (Draft 2020-12 unless the schema names another).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from mcpkit.exceptions import SchemaError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

WRAP_RESULT_KEY = "x-mcpkit-wrap-result"
"""Marks an output schema whose real value sits under ``"result"``."""

_MAX_REPORTED_ERRORS = 10
_MAX_MESSAGE_LENGTH = 300
_DEFINITION_KEYS = ("$defs", "definitions")
_DEFS_POINTER = "#/$defs/"

MAX_SCHEMA_DEPTH = 160
"""Levels of objects and arrays a served schema may nest (its ``$defs`` included). The SDK cannot
serialise a listing much deeper than 250 levels, and one such tool would fail every ``tools/list``."""


class SchemaNormalizer:
    """Normalises tool schemas. Definitions shared between tools (the same ``$defs`` objects, as
    generated servers produce) are walked once, not once per tool."""

    def __init__(self) -> None:
        self._scanned: dict[int, tuple[object, tuple[int, frozenset[str]]]] = {}

    def input_schema(self, schema: object, *, owner: str) -> dict[str, Any]:
        """A servable input schema for ``owner`` (a tool name, for messages); raises :class:`SchemaError`."""
        root = _resolve_root(_require_mapping(schema, owner, "input schema"), owner)
        kind = root.get("type")
        if kind is None or (isinstance(kind, list) and "object" in kind):
            root["type"] = "object"
        elif kind != "object":
            raise SchemaError(f"{owner}: an input schema must describe an object, not type {kind!r}")
        _check_object_shape(root, owner, "input schema")
        self.check(root, owner)
        return root

    def output_schema(self, schema: object, *, owner: str) -> tuple[dict[str, Any] | None, bool]:
        """A servable output schema and whether results must be wrapped under ``"result"``."""
        if schema is None:
            return None, False
        root = _resolve_root(_require_mapping(schema, owner, "output schema"), owner)
        if root.get("type") == "object" or ("type" not in root and "properties" in root):
            root["type"] = "object"
            _check_object_shape(root, owner, "output schema")
            self.check(root, owner)
            return root, False
        inner = dict(root)
        wrapped: dict[str, Any] = {
            "type": "object",
            "properties": {"result": inner},
            "required": ["result"],
            WRAP_RESULT_KEY: True,
        }
        for key in _DEFINITION_KEYS:
            if key in inner:
                wrapped[key] = inner.pop(key)
        self.check(wrapped, owner)
        return wrapped, True

    def check(self, schema: Mapping[str, Any], owner: str) -> None:
        """Raise :class:`SchemaError` unless every ``$ref`` in ``schema`` is local and resolves in it, and
        ``schema`` nests no deeper than :data:`MAX_SCHEMA_DEPTH`."""
        depth, found = _scan({k: v for k, v in schema.items() if k not in _DEFINITION_KEYS})
        refs = set(found)
        for key in _DEFINITION_KEYS:
            definitions = schema.get(key)
            if isinstance(definitions, dict):
                for definition in definitions.values():
                    definition_depth, definition_refs = self._scan_definition(definition)
                    depth = max(depth, 2 + definition_depth)
                    refs |= definition_refs
        defs = schema.get("$defs")
        for ref in refs:
            name = unquote(ref[len(_DEFS_POINTER) :]) if ref.startswith(_DEFS_POINTER) else None
            if (
                name is not None
                and "/" not in name
                and "~" not in name
                and isinstance(defs, dict)
                and name in defs
            ):
                continue
            if not ref.startswith("#"):
                raise SchemaError(
                    f"{owner}: $ref {ref!r} is not local; only '#/...' references can be served"
                )
            if _lookup(schema, ref) is None:
                raise SchemaError(f"{owner}: $ref {ref!r} does not resolve inside the schema")
        if depth > MAX_SCHEMA_DEPTH:
            raise SchemaError(
                f"{owner}: the schema nests {depth} levels deep, more than the {MAX_SCHEMA_DEPTH} "
                "an MCP listing can carry"
            )

    def _scan_definition(self, definition: object) -> tuple[int, frozenset[str]]:
        cached = self._scanned.get(id(definition))
        if cached is not None and cached[0] is definition:
            return cached[1]
        facts = _scan(definition)
        self._scanned[id(definition)] = (definition, facts)
        return facts


class SchemaValidator:
    """Checks instances against one schema: a fast yes/no from jsonschema-rs, and readable errors
    from :mod:`jsonschema` only for instances that fail (or when jsonschema-rs cannot take the schema)."""

    def __init__(self, schema: dict[str, Any], *, owner: str) -> None:
        # Imported with the first validator: a server that only lists its tools does without them.
        import jsonschema_rs
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError as JSONSchemaError
        from jsonschema.validators import validator_for

        cls = validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except JSONSchemaError as exc:
            raise SchemaError(f"{owner}: invalid JSON Schema: {exc.message}") from exc
        self._explaining: Validator = cls(schema)

        try:
            self._fast: jsonschema_rs.Validator | None = jsonschema_rs.validator_for(schema)
        except (jsonschema_rs.ValidationError, ValueError):
            self._fast = None

    def is_valid(self, instance: Any) -> bool:
        """Whether ``instance`` is valid."""
        if self._fast is not None and self._fast.is_valid(instance):
            return True
        return not any(True for _ in self._explaining.iter_errors(instance))

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        """Every way ``instance`` is invalid (slow: for error messages)."""
        return self._explaining.iter_errors(instance)


def compile_validator(schema: dict[str, Any], *, owner: str) -> SchemaValidator:
    """A validator for ``schema``; raises :class:`SchemaError` if the schema itself is invalid."""
    return SchemaValidator(schema, owner=owner)


def argument_errors(validator: SchemaValidator, arguments: dict[str, Any]) -> list[str]:
    """Readable descriptions of what is wrong with ``arguments`` (empty when they are valid)."""
    if validator.is_valid(arguments):
        return []
    errors = sorted(validator.iter_errors(arguments), key=lambda e: [str(p) for p in e.absolute_path])
    problems = []
    for error in errors[:_MAX_REPORTED_ERRORS]:
        location = "/".join(str(part) for part in error.absolute_path)
        message = error.message
        if len(message) > _MAX_MESSAGE_LENGTH:  # keep the verdict, which jsonschema puts last
            keep = _MAX_MESSAGE_LENGTH // 2
            message = f"{message[:keep]}...{message[-keep:]}"
        problems.append(f"{location}: {message}" if location else message)
    if len(errors) > _MAX_REPORTED_ERRORS:
        problems.append(f"... and {len(errors) - _MAX_REPORTED_ERRORS} more")
    return problems


def nesting_depth(value: object) -> int:
    """Levels of objects and arrays in a JSON value (``0`` for a scalar), counted without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _require_mapping(schema: object, owner: str, what: str) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise SchemaError(f"{owner}: the {what} must be a JSON object, not {type(schema).__name__}")
    return dict(schema)


def _resolve_root(root: dict[str, Any], owner: str) -> dict[str, Any]:
    """Replace a root that is only a ``$ref`` (plus definitions/annotations) by its target."""
    ref = root.get("$ref")
    if not isinstance(ref, str) or any(
        k not in {"$ref", "description", "title", *_DEFINITION_KEYS} for k in root
    ):
        return root
    target = _lookup(root, ref)
    if not isinstance(target, Mapping):
        raise SchemaError(f"{owner}: $ref {ref!r} does not resolve inside the schema")
    resolved = {**target, **{k: v for k, v in root.items() if k != "$ref" and k not in target}}
    return resolved


def _check_object_shape(root: Mapping[str, Any], owner: str, what: str) -> None:
    properties = root.get("properties", {})
    if not isinstance(properties, Mapping) or not all(
        isinstance(v, (Mapping, bool)) for v in properties.values()
    ):
        raise SchemaError(f"{owner}: the {what}'s 'properties' must map names to schemas")
    required = root.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaError(f"{owner}: the {what}'s 'required' must be a list of property names")


_VALUE_KEYWORDS = frozenset({"enum", "const", "default", "examples"})
"""Keywords whose values are data: a ``"$ref"`` key in them is not a reference."""
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs", "definitions"})
"""Keywords mapping names to schemas: a name (``"enum"``, ``"$ref"``) is not a keyword there."""
_SCHEMA, _MAP, _DATA = 0, 1, 2


def _scan(node: object) -> tuple[int, frozenset[str]]:
    """The levels of objects and arrays in ``node`` and every ``$ref`` of it as a schema (not the
    ``"$ref"`` keys of data such as ``default`` values), found in one walk without recursion."""
    deepest = 0
    refs: set[str] = set()
    # (value, its level, what it is: a schema, a map of names to schemas, or data)
    stack: list[tuple[object, int, int]] = [(node, 1, _SCHEMA)]
    while stack:
        current, depth, kind = stack.pop()
        if isinstance(current, dict):
            if depth > deepest:
                deepest = depth
            if kind == _SCHEMA:
                ref = current.get("$ref")
                if isinstance(ref, str):
                    refs.add(ref)
            for key, value in current.items():
                if isinstance(value, (dict, list)):
                    if kind != _SCHEMA:
                        stack.append((value, depth + 1, kind if kind == _DATA else _SCHEMA))
                    elif key in _VALUE_KEYWORDS:
                        stack.append((value, depth + 1, _DATA))
                    elif key in _SCHEMA_MAPS and isinstance(value, dict):
                        stack.append((value, depth + 1, _MAP))
                    else:
                        stack.append((value, depth + 1, _SCHEMA))
        elif isinstance(current, list):
            if depth > deepest:
                deepest = depth
            child_kind = _DATA if kind == _DATA else _SCHEMA
            stack.extend((item, depth + 1, child_kind) for item in current if isinstance(item, (dict, list)))
    return deepest, frozenset(refs)


def _lookup(schema: Mapping[str, Any], ref: str) -> object | None:
    """Follow a local JSON pointer (``#/a/b``); ``None`` when it does not resolve."""
    node: object = schema
    pointer = ref[1:]
    if not pointer:
        return node
    if not pointer.startswith("/"):
        return None
    for raw in unquote(pointer[1:]).split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node

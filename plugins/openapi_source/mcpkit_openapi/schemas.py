"""OpenAPI schemas to JSON Schema 2020-12, shared by every parser.

- Local ``$ref`` are rewritten to ``#/$defs/<name>``; the definitions are converted on first use and
  shared by every tool that needs them (:class:`SchemaConverter` implements
  :class:`~mcpkit_openapi.model.Definitions`).
- ``nullable`` (3.0, and Swagger's ``x-nullable``) becomes a ``"null"`` type; 3.1 type arrays pass.
- Boolean ``exclusiveMinimum``/``exclusiveMaximum`` (3.0) become their numeric 2020-12 form.
- OpenAPI-only keywords (``discriminator``, ``xml``, ``externalDocs``, ``example``, ``x-*``) are removed;
  so are keywords JSON Schema does not know, with a warning. A discriminator's meaning is kept: see
  :mod:`mcpkit_openapi.polymorphism`.
- Input forms drop ``readOnly`` properties, output forms drop ``writeOnly`` properties.
- Defects real documents have (an empty ``enum``, ``required: true`` on a property, an unknown
  ``type``, a ``$ref`` that does not resolve or is not local) are tolerated: the offending keyword is
  dropped (a broken ``$ref`` accepts any value) and a warning names the place.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson
import pydantic_core

from mcpkit.schema import nesting_depth
from mcpkit_openapi.errors import ConversionWarning, OpenAPIError
from mcpkit_openapi.model import Direction, Schema
from mcpkit_openapi.polymorphism import Hierarchy

DEFS_PREFIX = "#/$defs/"
_MAX_DEPTH = 100
"""Levels of objects and arrays one schema may nest, its values (``default``, ``enum``, ...) included:
well within what an MCP listing can carry (:data:`mcpkit.schema.MAX_SCHEMA_DEPTH`)."""
_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_SUBSCHEMA = frozenset(
    {
        "items",
        "not",
        "contains",
        "propertyNames",
        "if",
        "then",
        "else",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    }
)
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SUBSCHEMA_MAPS = frozenset({"patternProperties", "dependentSchemas"})
_KEPT = frozenset(
    {
        "title",
        "description",
        "default",
        "format",
        "const",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxContains",
        "minContains",
        "maxProperties",
        "minProperties",
        "dependentRequired",
        "readOnly",
        "writeOnly",
        "deprecated",
        "examples",
        "contentMediaType",
        "contentEncoding",
        "$comment",
    }
)
_NUMBERS = frozenset({"maximum", "minimum", "multipleOf"})
_DROPPED = frozenset(
    {
        "nullable",
        "x-nullable",
        "discriminator",
        "xml",
        "externalDocs",
        "example",
        "$schema",
        "$id",
        "$anchor",
        "$recursiveAnchor",
        "$dynamicAnchor",
    }
)
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")


def unescape(segment: str) -> str:
    """A JSON pointer segment, unescaped."""
    return segment.replace("~1", "/").replace("~0", "~")


def resolve_pointer(document: Mapping[str, Any], ref: str) -> Any:
    """The node a local ``$ref`` (``#/a/b``) points to; raises ``LookupError`` when there is none."""
    if not ref.startswith("#"):
        raise LookupError(f"$ref {ref!r} is not local to the document")
    node: Any = document
    path = ref[1:]
    if path and not path.startswith("/"):
        raise LookupError(f"$ref {ref!r} is not a JSON pointer")
    for raw in path.split("/")[1:] if path else []:
        part = unescape(raw)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise LookupError(f"$ref {ref!r} does not resolve")
    return node


def definition_name(ref: str) -> str:
    """The ``$defs`` name for a local ``$ref``: the component name when it is a valid name, else a
    cleaned name with a short hash of the pointer (so names never depend on conversion order)."""
    segments = [unescape(s) for s in ref[2:].split("/")] if ref.startswith("#/") else [ref]
    component = len(segments) == 3 and segments[:2] == ["components", "schemas"]
    raw = segments[2] if component else "_".join(segments)
    name = _NAME_CHARS.sub("_", raw)
    if not component or name != raw or not name:
        name = f"{name[:80]}_{hashlib.sha1(ref.encode()).hexdigest()[:8]}"
    return name


class SchemaConverter:
    """Converts schemas of one document. Definitions are converted on demand: once per direction if they
    have readOnly or writeOnly properties, else once for both."""

    def __init__(self, document: Mapping[str, Any], warnings: list[ConversionWarning]) -> None:
        self._document = document
        self._warnings = warnings
        self._seen_warnings: set[tuple[str, str]] = set()
        self._targets: dict[str, str] = {}
        self._converted: dict[tuple[str, Direction], Schema] = {}
        self._references: dict[tuple[str, Direction], frozenset[str]] = {}
        self._sizes: dict[tuple[str, Direction], int] = {}
        self._general: dict[tuple[str, Direction], Schema] = {}
        self._resolvable: set[str] = set()
        self._owner: str | None = None
        self._hierarchy = Hierarchy(document)
        self._directional = False
        """Whether the definition being converted has a readOnly or writeOnly property."""

    # Definitions protocol

    def get(self, name: str, direction: Direction) -> Schema:
        """The definition ``name`` in its ``direction`` form (converted on first use)."""
        key = (name, direction)
        converted = self._converted.get(key)
        if converted is None:
            ref = self._targets[name]
            refs: set[str] = set()
            self._owner = name
            self._directional = False
            try:
                converted = self._convert(resolve_pointer(self._document, ref), direction, ref, refs, 1)
            finally:
                self._owner = None
            keys = [key]
            if not self._directional:
                # No readOnly or writeOnly property: both directions are the same schema.
                keys.append((name, "output" if direction == "input" else "input"))
            for each in keys:
                self._converted[each] = converted
                self._references[each] = frozenset(refs)
        return converted

    def references(self, name: str, direction: Direction) -> frozenset[str]:
        """Names of the definitions that ``name`` refers to directly."""
        key = (name, direction)
        if key not in self._references:
            self.get(name, direction)
        return self._references[key]

    def size(self, name: str, direction: Direction) -> int:
        """Length of the definition's JSON text (cached)."""
        key = (name, direction)
        size = self._sizes.get(key)
        if size is None:
            size = self._sizes[key] = json_size(self.get(name, direction))
        return size

    def general(self, name: str, direction: Direction) -> Schema:
        """The definition with every constraint that is not monotone relaxed (see :func:`generalize`)."""
        key = (name, direction)
        general = self._general.get(key)
        if general is None:
            general = self._general[key] = generalize(self.get(name, direction))
        return general

    def stub(self, name: str, direction: Direction) -> Schema:
        """The definition's ``type``, ``title`` and ``description`` only: accepts all it accepts."""
        definition = self.get(name, direction)
        return {key: definition[key] for key in ("type", "title", "description") if key in definition}

    def subtypes(self, name: str) -> Schema | None:
        """The subtypes of the discriminated parent ``name`` as a ``oneOf`` (see :class:`Hierarchy`)."""
        return self._hierarchy.subtypes(self._targets[name], lambda ref: DEFS_PREFIX + self._register(ref))

    # Converting

    def convert(self, node: Any, direction: Direction, where: str) -> Schema:
        """Convert the schema at ``where``; the definitions it refers to are converted when asked for."""
        return self._convert(node, direction, where, set(), 1)

    def convert_all(self, refs: list[str]) -> None:
        """Convert the definitions at ``refs`` in both directions now (eager parsers)."""
        for ref in refs:
            name = self._register(ref)
            try:
                self.get(name, "input")
                self.get(name, "output")
            except OpenAPIError as exc:
                self.warn(exc.pointer, f"{exc.reason}; operations that use it are not converted")

    def warn(self, where: str, message: str) -> None:
        """Record a warning once."""
        key = (where, message)
        if key not in self._seen_warnings:
            self._seen_warnings.add(key)
            self._warnings.append(ConversionWarning(where, message))

    def _register(self, ref: str) -> str:
        name = definition_name(ref)
        self._targets.setdefault(name, ref)
        return name

    def _convert(self, node: Any, direction: Direction, where: str, refs: set[str], depth: int) -> Schema:
        # depth: the nesting level of ``node`` in its schema's JSON (1 at the root)
        if depth > _MAX_DEPTH:
            raise OpenAPIError(where, f"schema nested more than {_MAX_DEPTH} levels deep")
        if not isinstance(node, dict):
            if node is not True:
                self.warn(where, f"a schema must be an object, not {type(node).__name__}; any value accepted")
            return {}
        out: Schema = {}
        for key, value in node.items():
            # The commonest keywords first, and the pointer of a keyword made only when it is needed.
            if key in _KEPT:
                if isinstance(value, dict | list | float) and not self._value(value, where, key, depth):
                    continue
                out[key] = value
                continue
            if key == "type" and isinstance(value, str) and value in _TYPES:
                out[key] = value
                continue
            if key in _NUMBERS:
                if self._number(value, where, key):
                    out[key] = value
                continue
            if key in _DROPPED or key.startswith("x-"):
                continue
            here = f"{where}/{key}"
            if key == "$ref":
                target = self._reference(value, here, refs)
                if target is not None:
                    out["$ref"] = target
            elif key in ("$recursiveRef", "$dynamicRef"):
                if value == "#" and self._owner is not None:
                    out["$ref"] = DEFS_PREFIX + self._owner
                    refs.add(self._owner)
                else:
                    self.warn(here, f"{key} outside a reusable schema cannot be served; any value accepted")
            elif key == "properties":
                out[key] = self._properties(value, direction, here, refs, depth)
            elif key == "required":
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    out[key] = list(dict.fromkeys(value))
                    if len(out[key]) != len(value):
                        self.warn(here, "duplicate names in 'required' were dropped")
                elif value is not False:
                    self.warn(here, "'required' must be a list of property names; ignored")
            elif key == "additionalProperties":
                out[key] = (
                    value if isinstance(value, bool) else self._sub(value, direction, here, refs, depth)
                )
            elif key == "items" and isinstance(value, list):
                out["prefixItems"] = [
                    self._sub(v, direction, f"{here}/{i}", refs, depth + 1) for i, v in enumerate(value)
                ]
            elif key in _SUBSCHEMA:
                out[key] = self._sub(value, direction, here, refs, depth)
            elif key in _SUBSCHEMA_LISTS:
                if isinstance(value, list) and value:
                    out[key] = [
                        self._sub(v, direction, f"{here}/{i}", refs, depth + 1) for i, v in enumerate(value)
                    ]
                else:
                    self.warn(here, f"'{key}' must be a non-empty list of schemas; ignored")
            elif key in _SUBSCHEMA_MAPS:
                if isinstance(value, dict):
                    out[key] = {
                        k: self._sub(v, direction, f"{here}/{k}", refs, depth + 1) for k, v in value.items()
                    }
            elif key == "type":
                self._type(value, here, out)
            elif key == "enum":
                if not (isinstance(value, list) and value):
                    self.warn(here, "an empty or invalid 'enum' was ignored")
                elif self._value(value, where, key, depth):
                    out[key] = value
            elif key in ("exclusiveMinimum", "exclusiveMaximum"):
                if isinstance(value, bool):
                    bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                    if value and bound in node and self._number(node[bound], where, bound):
                        out[key] = node[bound]
                elif self._number(value, where, key):
                    out[key] = value
            else:
                self.warn(here, f"unknown schema keyword {key!r} ignored")
        for key in ("exclusiveMinimum", "exclusiveMaximum"):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if isinstance(node.get(key), bool) and node.get(key) and bound in out:
                del out[bound]
        if (
            "required" in out
            and "properties" in out
            and len(out["properties"]) != len(node.get("properties", {}))
        ):
            kept = out["properties"]
            out["required"] = [name for name in out["required"] if name in kept]
        if "discriminator" in node:
            self._directional = True  # the input and output forms differ (see Hierarchy.discriminated)
            out = self._hierarchy.discriminated(node, out, direction)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            out = _nullable(out)
        return out

    def _value(self, value: Any, where: str, key: str, depth: int) -> bool:
        """Whether the value of ``key`` of the schema node at ``where`` (at ``depth``) can be kept: not if
        it holds a number JSON cannot carry (warned); raises if it nests too deeply."""
        if isinstance(value, (dict, list)) and depth + nesting_depth(value) > _MAX_DEPTH:
            raise OpenAPIError(f"{where}/{key}", f"schema nested more than {_MAX_DEPTH} levels deep")
        if _finite(value):
            return True
        self.warn(f"{where}/{key}", f"'{key}' holds a number past a double's range (or NaN); ignored")
        return False

    def _number(self, value: Any, where: str, key: str) -> bool:
        """Whether ``value`` can be the value of the numeric keyword ``key`` (else warned)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            problem = "is not a number"
        elif isinstance(value, float) and not math.isfinite(value):
            problem = "is past a double's range (or NaN)"
        elif key == "multipleOf" and value <= 0:
            problem = "is not greater than 0"  # 1e-400 reads as 0
        else:
            return True
        self.warn(f"{where}/{key}", f"'{key}' {problem}; ignored")
        return False

    def _sub(self, node: Any, direction: Direction, where: str, refs: set[str], depth: int) -> Any:
        if isinstance(node, bool):
            return node
        return self._convert(node, direction, where, refs, depth + 1)

    def _properties(self, value: Any, direction: Direction, where: str, refs: set[str], depth: int) -> Schema:
        if not isinstance(value, dict):
            self.warn(where, "'properties' must map names to schemas; ignored")
            return {}
        hidden = "readOnly" if direction == "input" else "writeOnly"
        properties: Schema = {}
        for name, schema in value.items():
            if isinstance(schema, dict) and True in (schema.get("readOnly"), schema.get("writeOnly")):
                self._directional = True
                if schema.get(hidden) is True:
                    continue
            properties[str(name)] = self._sub(schema, direction, f"{where}/{name}", refs, depth + 1)
        return properties

    def _reference(self, value: Any, where: str, refs: set[str]) -> str | None:
        if not isinstance(value, str):
            self.warn(where, "'$ref' must be a string; any value accepted")
            return None
        if value not in self._resolvable:
            try:
                resolve_pointer(self._document, value)
            except LookupError as exc:
                self.warn(where, f"{exc}; any value accepted")
                return None
            self._resolvable.add(value)
        name = self._register(value)
        refs.add(name)
        return DEFS_PREFIX + name

    def _type(self, value: Any, where: str, out: Schema) -> None:
        if value == "file":
            out["type"] = "string"
            out["format"] = "binary"
            return
        names = value if isinstance(value, list) else [value]
        if names and all(isinstance(t, str) and t in _TYPES for t in names):
            out["type"] = value
        else:
            self.warn(where, f"unknown type {value!r} ignored")


_NOT_MONOTONE = frozenset({"not", "if", "then", "else", "unevaluatedProperties", "unevaluatedItems"})


def generalize(schema: Any) -> Any:
    """A copy of ``schema`` that stays a generalisation when parts of it are replaced by more general
    schemas: ``oneOf`` becomes ``anyOf`` (two relaxed branches may both match) and the keywords whose
    result can flip when a subschema accepts more (``not``, ``if``/``then``/``else``, ``unevaluated*``)
    are dropped. Everything the original accepts, the copy accepts."""
    if isinstance(schema, list):
        return [generalize(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    general: Schema = {}
    for key, value in schema.items():
        if key in _NOT_MONOTONE:
            continue
        if key in ("enum", "const", "default", "examples", "required"):
            general[key] = value
        else:
            general["anyOf" if key == "oneOf" else key] = generalize(value)
    if "oneOf" in schema and "anyOf" in schema:
        general["allOf"] = [*general.get("allOf", []), {"anyOf": generalize(schema["anyOf"])}]
        general["anyOf"] = generalize(schema["oneOf"])
    return general


def json_size(value: Any) -> int:
    """Length of ``value``'s compact JSON text (orjson, which refuses integers past 64 bits that a
    mapping given by the caller may hold: pydantic writes those)."""
    try:
        return len(orjson.dumps(value))
    except TypeError:
        return len(pydantic_core.to_json(value))


def _finite(value: Any) -> bool:
    """Whether every number in ``value`` is one JSON can carry (no infinity, no NaN)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, float):
            if not math.isfinite(node):
                return False
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list):
        if "null" not in kind:
            schema["type"] = [*kind, "null"]
    else:
        return {"anyOf": [schema, {"type": "null"}]}
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema

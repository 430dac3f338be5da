"""Tool arguments for an operation: its input schema and the plan that maps arguments to the request.

Arguments are flat. Each parameter is an argument under its own name. A JSON, form or multipart body
whose schema is an object with ``properties`` contributes one argument per property; any other body
is a single ``body`` argument, a polymorphic one too (a discriminated parent that subtypes extend
through ``allOf`` is a ``oneOf`` of the subtypes there, see :mod:`mcpkit_openapi.polymorphism`).
When names collide (a path and a query parameter both called ``id``, or a parameter and a body
property), the parameters are renamed ``<name>__<location>`` (``id__path``, ``id__query``) and body
properties keep their names. Unknown arguments are refused. A path parameter that allows reserved
characters says in its description that it may contain ``/``.

Files in multipart bodies (``format: binary`` or a ``contentMediaType``) take base64 text, a data URL
(``data:image/png;name=logo.png;base64,...``), or ``{"content": ..., "filename": ..., "content_type": ...}``.
Raw binary bodies take base64 text.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from mcpkit_openapi.model import Definitions, Direction, Operation, Parameter, RequestBody, Schema
from mcpkit_openapi.parsers.common import is_json
from mcpkit_openapi.schemas import DEFS_PREFIX, generalize

BindingKind = Literal["path", "query", "header", "cookie", "body", "field"]

FILE_SCHEMA: Schema = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "properties": {
                "content": {"type": "string", "description": "base64 content or a data URL"},
                "filename": {"type": "string"},
                "content_type": {"type": "string"},
            },
            "required": ["content"],
            "additionalProperties": False,
        },
    ],
    "description": "A file: base64 content, a data URL (data:<type>;name=<filename>;base64,<content>), "
    "or an object with content, filename and content_type.",
}
BINARY_SCHEMA: Schema = {
    "type": "string",
    "contentEncoding": "base64",
    "description": "The content, base64-encoded.",
}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
RESERVED_PATH = (
    "May contain '/' (sent as it is, as are the other reserved characters), not '.' or '..' segments."
)
"""Said of a path parameter with ``allowReserved: true``; the others cannot contain ``/``."""


@dataclass(frozen=True, slots=True)
class Binding:
    """Where one argument goes: a parameter, a body property (``field``), or the whole ``body``."""

    argument: str
    kind: BindingKind
    name: str
    parameter: Parameter | None = None


@dataclass(frozen=True, slots=True)
class RequestPlan:
    """How to build the request of an operation from validated arguments."""

    method: str
    path: str
    bindings: tuple[Binding, ...]
    body: RequestBody | None
    file_fields: frozenset[str]
    input_schema: Schema


def plan_operation(operation: Operation, definitions: Definitions) -> RequestPlan:
    """The arguments of ``operation``: input schema (with the ``$defs`` it needs) and request plan."""
    body = operation.request_body
    subtypes = _subtypes(body, definitions) if body is not None else None
    fields = _body_fields(body, definitions) if body is not None and subtypes is None else None
    candidates: list[tuple[str, BindingKind, Parameter | None]] = [
        (p.name, p.location, p) for p in operation.parameters
    ]
    if body is not None:
        candidates += (
            [(name, "field", None) for name in fields["properties"]]
            if fields is not None
            else [("body", "body", None)]
        )
    counts = Counter(name for name, _, _ in candidates)
    body_names = {name for name, kind, _ in candidates if kind in ("field", "body")}

    properties: Schema = {}
    required: list[str] = []
    bindings: list[Binding] = []
    file_fields: set[str] = set()
    multipart = body is not None and body.media_type.startswith("multipart/")
    body_required = set(fields.get("required", ())) if fields is not None else set()
    for name, kind, parameter in candidates:
        if kind in ("field", "body"):
            argument = name
        else:
            clash = counts[name] > 1 or name in body_names
            argument = f"{name}__{kind}" if clash else name
        if parameter is not None:
            properties[argument] = _parameter_schema(parameter)
            if parameter.required:
                required.append(argument)
        elif kind == "field":
            assert fields is not None
            assert body is not None
            schema = fields["properties"][name]
            if multipart and _is_file(schema, body, name):
                file_fields.add(name)
                schema = _file_schema(schema)
            properties[argument] = schema
            if body.required and name in body_required:
                required.append(argument)
        else:
            assert body is not None
            properties[argument] = _annotated(subtypes or _body_schema(body), body.description, False)
            if body.required:
                required.append(argument)
        bindings.append(Binding(argument, kind, name, parameter))

    input_schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        input_schema["required"] = required
    defs = with_definitions(input_schema, definitions, "input")
    return RequestPlan(
        method=operation.method,
        path=operation.path,
        bindings=tuple(bindings),
        body=body,
        file_fields=frozenset(file_fields),
        input_schema=defs,
    )


def with_definitions(
    schema: Schema, definitions: Definitions, direction: Direction, budget: int | None = None
) -> Schema:
    """``schema`` with a ``$defs`` holding the definitions it reaches, nearest first (a ``schema`` that
    is only a reference becomes the definition it names, see :func:`_lift_root`).

    With a ``budget`` (bytes of JSON), definitions that would exceed it are replaced by a stub that
    keeps only their ``type`` and description, and the rest is relaxed where a stub could otherwise
    change the result (``oneOf`` becomes ``anyOf``, ...): the schema gets more general, never narrower.
    """
    pending = deque(sorted(set(_references(schema))))
    if not pending:
        return schema
    size = 0
    kept: list[str] = []
    stubs: Schema = {}
    seen: set[str] = set()
    while pending:
        name = pending.popleft()
        if name in seen:
            continue
        seen.add(name)
        cost = definitions.size(name, direction)
        if budget is None or size + cost <= budget:
            kept.append(name)
            size += cost
            pending.extend(sorted(definitions.references(name, direction) - seen))
        else:
            stubs[name] = definitions.stub(name, direction)
    if not stubs:
        defs = {name: definitions.get(name, direction) for name in kept}
    else:
        defs = {name: definitions.general(name, direction) for name in kept} | stubs
        schema = generalize(schema)
    return _lift_root(schema, dict(sorted(defs.items())))


def _lift_root(schema: Schema, defs: Schema) -> Schema:
    """``schema`` with ``defs``; if it is only a reference to one of them, that definition becomes the
    root, and stays in ``defs`` only if something still refers to it (no second copy beside the root)."""
    ref = schema.get("$ref")
    name = ref[len(DEFS_PREFIX) :] if isinstance(ref, str) and ref.startswith(DEFS_PREFIX) else None
    if name not in defs or not set(schema) <= {"$ref", "description", "title"}:
        return {**schema, "$defs": defs}
    root = {**{key: value for key, value in schema.items() if key != "$ref"}, **defs[name]}
    rest = {key: value for key, value in defs.items() if key != name}
    if name in _references([root, *rest.values()]):
        rest = defs
    return {**root, "$defs": rest} if rest else root


def resolve_local(schema: Schema, definitions: Definitions, direction: Direction) -> Schema:
    """A schema that is only a ``$ref`` to a definition, replaced by that definition (chains followed)."""
    return _resolved(schema, definitions, direction)[1]


def _resolved(schema: Schema, definitions: Definitions, direction: Direction) -> tuple[str | None, Schema]:
    """The name of the definition a schema that is only a ``$ref`` comes to (``None``: it is none), and
    that definition (the schema itself when it is not a reference)."""
    seen: set[str] = set()
    name = None
    while set(schema) <= {"$ref", "description", "title"} and isinstance(schema.get("$ref"), str):
        name = schema["$ref"].removeprefix(DEFS_PREFIX)
        if name in seen:
            break
        seen.add(name)
        schema = definitions.get(name, direction)
    return name, schema


def _subtypes(body: RequestBody, definitions: Definitions) -> Schema | None:
    """The body's subtypes, with the parent's description, when its schema is a discriminated parent."""
    if not (is_json(body.media_type) or body.media_type.startswith(FORM_TYPES)):
        return None
    name, parent = _resolved(body.schema, definitions, "input")
    subtypes = definitions.subtypes(name) if name is not None else None
    if subtypes is None or "description" not in parent:
        return subtypes
    return {"description": parent["description"], **subtypes}


def _body_fields(body: RequestBody, definitions: Definitions) -> Schema | None:
    """The object schema of a body whose properties can be flat arguments, else ``None``."""
    if not (is_json(body.media_type) or body.media_type.startswith(FORM_TYPES)):
        return None
    schema = resolve_local(body.schema, definitions, "input")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return None
    if schema.get("type", "object") != "object" or schema.get("additionalProperties") not in (None, False):
        return None
    if any(key in schema for key in ("allOf", "anyOf", "oneOf", "$ref", "patternProperties", "not", "if")):
        return None
    return schema


def _body_schema(body: RequestBody) -> Schema:
    if (
        is_json(body.media_type)
        or body.media_type.startswith(FORM_TYPES)
        or body.media_type.startswith("text/")
    ):
        return body.schema
    return BINARY_SCHEMA


def _is_file(schema: Any, body: RequestBody, name: str) -> bool:
    if not isinstance(schema, dict):
        return False
    if _is_binary(schema):
        return True
    items = schema.get("items")
    encoding = body.encoding.get(name)
    binary_items = isinstance(items, dict) and _is_binary(items)
    return binary_items or (encoding is not None and bool(encoding.content_type) and not _textual(encoding))


def _is_binary(schema: Schema) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


def _file_schema(schema: Schema) -> Schema:
    """The argument schema of a file field: a file, or a list of files for an array field."""
    if schema.get("type") != "array":
        return FILE_SCHEMA
    files: Schema = {"type": "array", "items": FILE_SCHEMA}
    for key in ("minItems", "maxItems", "title", "description"):
        if key in schema:
            files[key] = schema[key]
    return files


def _textual(encoding: Any) -> bool:
    content_type = str(encoding.content_type)
    return content_type.startswith("text/") or is_json(content_type)


def _parameter_schema(parameter: Parameter) -> Schema:
    schema = _annotated(parameter.schema, parameter.description, parameter.deprecated)
    if parameter.location != "path" or not parameter.allow_reserved:
        return schema
    described = schema.get("description")
    return {**schema, "description": f"{described} {RESERVED_PATH}" if described else RESERVED_PATH}


def _annotated(schema: Schema, description: str | None, deprecated: bool) -> Schema:
    if not description and not deprecated:
        return schema
    annotated = dict(schema)
    if description and "description" not in annotated:
        annotated["description"] = description
    if deprecated:
        annotated["deprecated"] = True
    return annotated


def _references(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and ref.startswith(DEFS_PREFIX):
                yield ref[len(DEFS_PREFIX) :]
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend(v for v in current if isinstance(v, (dict, list)))

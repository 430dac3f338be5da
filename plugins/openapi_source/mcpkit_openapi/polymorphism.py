"""OpenAPI's polymorphism (``discriminator``) in JSON Schema, which has no discriminator.

- Inputs, a discriminated ``oneOf``/``anyOf``: each variant that refers to a component pins its
  discriminator value (``"properties": {"petType": {"const": "Cat"}}``, required), so that a value is
  validated as the variant it names, never refused for matching two variants that overlap. The values
  come from the ``mapping``, else the component's name (OpenAPI's implicit mapping). A variant that
  declares the property as a ``const`` or ``enum`` itself (as pydantic's unions do) is left as it is.
- Inputs, a discriminated parent without ``oneOf``/``anyOf`` (a Pet that Cat and Dog extend through
  ``allOf``, as in the OpenAPI specification): its subtypes are the targets of its ``mapping`` and the
  components extending it through ``allOf``, directly or through another subtype; the parent itself
  only if the mapping names it. :meth:`Hierarchy.subtypes` gives them as a ``oneOf`` of pinned
  references (for a request body; elsewhere the parent stays as it is).
- Outputs: a discriminated ``oneOf`` is an ``anyOf``. A response is checked against the variants, not
  the discriminator, and variants that overlap must not make a valid response invalid.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Any

from mcpkit_openapi.errors import pointer
from mcpkit_openapi.model import Direction, Schema


class Hierarchy:
    """The components of one document, and which extend which through ``allOf`` (indexed on first use)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        self._components: dict[str, tuple[str, Mapping[str, Any]]] | None = None
        """Reference -> (name, schema) of every component schema."""
        self._children: defaultdict[str, list[str]] = defaultdict(list)
        """Reference -> references of the components whose ``allOf`` names it."""

    def discriminated(self, node: Mapping[str, Any], converted: Schema, direction: Direction) -> Schema:
        """``converted``, the ``direction`` form of ``node``, with its discriminator's meaning: in inputs,
        each variant of a ``oneOf`` or ``anyOf`` pins its discriminator values; in outputs, a ``oneOf``
        is an ``anyOf`` (variants that overlap must not make a valid response invalid)."""
        name = discriminator_property(node)
        if name is None:
            return converted
        if direction == "output":
            if "oneOf" not in converted or "anyOf" in converted:
                return converted
            return {("anyOf" if key == "oneOf" else key): value for key, value in converted.items()}
        mapping = _mapping(node)
        pinned = dict(converted)
        for key in ("oneOf", "anyOf"):
            raw, branches = node.get(key), converted.get(key)
            if isinstance(raw, list) and isinstance(branches, list) and len(raw) == len(branches):
                pinned[key] = [self._pinned(r, b, name, mapping) for r, b in zip(raw, branches, strict=True)]
        return pinned

    def subtypes(self, ref: str, reference: Callable[[str], str]) -> Schema | None:
        """A ``oneOf`` of pinned references to the subtypes of the discriminated parent at ``ref``
        (``reference`` makes the ``$ref`` of a component); ``None`` if it is not one or has none."""
        parent = self._index().get(ref)
        name = discriminator_property(parent[1]) if parent is not None else None
        if parent is None or name is None or "oneOf" in parent[1] or "anyOf" in parent[1]:
            return None
        mapping = _mapping(parent[1])
        found = {target: None for target in mapping.values() if target in self._index()}
        seen, pending = {ref}, deque([ref])
        while pending:
            for child in self._children.get(pending.popleft(), ()):
                if child not in seen:
                    seen.add(child)
                    found[child] = None
                    pending.append(child)
        variants = [
            _pin({"$ref": reference(target)}, name, values)
            for target in found
            if (values := self._values(target, mapping))
        ]
        return {"oneOf": variants} if variants else None

    def _pinned(self, raw: Any, branch: Any, name: str, mapping: Mapping[str, str]) -> Any:
        """``branch`` (the input form of ``raw``) pinning its discriminator values, if it is only a
        reference to a component that does not pin them itself."""
        ref = raw.get("$ref") if isinstance(raw, Mapping) else None
        if not (isinstance(ref, str) and isinstance(branch, dict) and "$ref" in branch):
            return branch
        target = self._index().get(ref)
        if (
            not set(branch) <= {"$ref", "description", "title"}
            or target is None
            or _declares(target[1], name)
        ):
            return branch
        values = self._values(ref, mapping)
        return _pin(branch, name, values) if values else branch

    def _values(self, ref: str, mapping: Mapping[str, str]) -> list[str]:
        """The discriminator values naming the component at ``ref``: mapped ones, else its name."""
        mapped = [value for value, target in mapping.items() if target == ref]
        component = self._index().get(ref)
        return mapped or ([component[0]] if component is not None else [])

    def _index(self) -> dict[str, tuple[str, Mapping[str, Any]]]:
        if self._components is None:
            self._components = {}
            components = self._document.get("components")
            schemas = components.get("schemas") if isinstance(components, Mapping) else None
            for key, schema in schemas.items() if isinstance(schemas, Mapping) else ():
                if not isinstance(schema, Mapping):
                    continue
                ref = pointer("components", "schemas", str(key))
                self._components[ref] = (str(key), schema)
                members = schema.get("allOf")
                for member in members if isinstance(members, list) else ():
                    if isinstance(member, Mapping) and isinstance(member.get("$ref"), str):
                        self._children[member["$ref"]].append(ref)
        return self._components


def discriminator_property(node: Mapping[str, Any]) -> str | None:
    """The discriminator's property name (OpenAPI 3's ``propertyName``, Swagger 2.0's string)."""
    discriminator = node.get("discriminator")
    if isinstance(discriminator, Mapping):
        discriminator = discriminator.get("propertyName")
    return discriminator if isinstance(discriminator, str) and discriminator else None


def _mapping(node: Mapping[str, Any]) -> dict[str, str]:
    """The discriminator's ``mapping``: value -> reference (a bare name refers to a component)."""
    discriminator = node.get("discriminator")
    mapping = discriminator.get("mapping") if isinstance(discriminator, Mapping) else None
    if not isinstance(mapping, Mapping):
        return {}
    return {
        str(value): target if target.startswith("#") else pointer("components", "schemas", target)
        for value, target in mapping.items()
        if isinstance(target, str)
    }


def _pin(branch: Schema, name: str, values: list[str]) -> Schema:
    value: Schema = {"const": values[0]} if len(values) == 1 else {"enum": values}
    return {**branch, "properties": {name: value}, "required": [name]}


def _declares(schema: Mapping[str, Any], name: str) -> bool:
    """Whether ``schema`` pins the property ``name`` itself (``const`` or ``enum``)."""
    properties = schema.get("properties")
    declared = properties.get(name) if isinstance(properties, Mapping) else None
    return isinstance(declared, Mapping) and ("const" in declared or "enum" in declared)

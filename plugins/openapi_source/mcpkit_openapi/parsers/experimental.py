"""The ``experimental`` parser: reads the raw mapping lazily.

It never validates the document as a whole: each operation is read straight from the mapping,
``$ref`` are followed only when an operation needs them, and schema definitions are converted on
first use (when a tool's schema is built), so the parts of a huge document that no operation uses
cost nothing. An operation it cannot read is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcpkit_openapi.errors import ConversionWarning, OpenAPIError, pointer
from mcpkit_openapi.model import ParsedDocument, SkippedOperation
from mcpkit_openapi.parsers.common import (
    METHODS,
    BodySpec,
    MediaSpec,
    ParameterSpec,
    ResponseSpec,
    assemble,
    encodings,
    merge_parameters,
    prepare,
    requirements,
    response_status,
    security_schemes,
    servers,
)
from mcpkit_openapi.schemas import SchemaConverter, resolve_pointer


class ExperimentalParser:
    """Lazy parser over the raw mapping (see the module documentation)."""

    def parse(self, document: Mapping[str, Any]) -> ParsedDocument:
        """Read every operation of ``document``; schema definitions are converted on demand."""
        warnings: list[ConversionWarning] = []
        doc, version = prepare(document, warnings)
        converter = SchemaConverter(doc, warnings)
        reader = _Reader(doc, converter)
        raw_info = doc.get("info")
        info: Mapping[str, Any] = raw_info if isinstance(raw_info, dict) else {}
        paths = doc.get("paths", {})
        if not isinstance(paths, dict):
            raise OpenAPIError("#/paths", "'paths' must be an object")
        parsed = ParsedDocument(
            openapi_version=version,
            title=str(info.get("title") or "OpenAPI server"),
            version=str(info.get("version") or ""),
            description=info.get("description"),
            servers=servers(doc.get("servers")),
            operations=[],
            definitions=converter,
            warnings=warnings,
            security_schemes=security_schemes(doc, converter),
            security=requirements(doc.get("security"), "#/security", converter) or (),
        )
        for path, raw_item in paths.items():
            item_where = pointer("paths", path)
            try:
                item = reader.resolve(raw_item, item_where)
            except OpenAPIError as exc:
                converter.warn(exc.pointer, f"{exc.reason}; path item ignored")
                continue
            if not isinstance(item, dict):
                converter.warn(item_where, "a path item must be an object; ignored")
                continue
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                where = pointer("paths", path, method)
                try:
                    parsed.operations.append(reader.operation(str(path), method, item, operation, where))
                except (OpenAPIError, TypeError, ValueError, AttributeError) as exc:
                    reason = exc.reason if isinstance(exc, OpenAPIError) else f"cannot be read: {exc!r}"
                    at = exc.pointer if isinstance(exc, OpenAPIError) else where
                    parsed.skipped.append(SkippedOperation(method.upper(), str(path), at, reason))
        return parsed


class _Reader:
    def __init__(self, document: Mapping[str, Any], converter: SchemaConverter) -> None:
        self.document = document
        self.converter = converter

    def resolve(self, node: Any, where: str) -> Any:
        """Follow ``$ref`` chains (of parameters, bodies, responses, path items)."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise OpenAPIError(where, f"$ref cycle through {ref!r}")
            seen.add(ref)
            try:
                node = resolve_pointer(self.document, ref)
            except LookupError as exc:
                raise OpenAPIError(where, str(exc)) from None
            where = ref
        return node

    def operation(self, path: str, method: str, item: Mapping[str, Any], operation: Any, where: str) -> Any:
        if not isinstance(operation, dict):
            raise OpenAPIError(where, "an operation must be an object")
        shared = self.parameters(item.get("parameters"), pointer(*_split(where)[:-1], "parameters"))
        own = self.parameters(operation.get("parameters"), f"{where}/parameters")
        body = operation.get("requestBody")
        responses = operation.get("responses") or {}
        if not isinstance(responses, dict):
            raise OpenAPIError(f"{where}/responses", "'responses' must be an object")
        tags = operation.get("tags") or []
        return assemble(
            self.converter,
            method=method,
            path=path,
            where=where,
            operation_id=_text(operation.get("operationId")),
            summary=_text(operation.get("summary")),
            description=_text(operation.get("description")),
            tags=[str(t) for t in tags] if isinstance(tags, list) else [],
            deprecated=operation.get("deprecated") is True,
            parameters=merge_parameters(shared, own),
            body=self.body(body, f"{where}/requestBody") if body is not None else None,
            responses=[
                self.response(status, node, f"{where}/responses/{status}")
                for status, node in responses.items()
            ],
            security=requirements(operation.get("security"), f"{where}/security", self.converter),
            operation_servers=servers(operation.get("servers") or item.get("servers")),
        )

    def parameters(self, nodes: Any, where: str) -> list[ParameterSpec]:
        if nodes is None:
            return []
        if not isinstance(nodes, list):
            raise OpenAPIError(where, "'parameters' must be a list")
        specs = []
        for index, raw in enumerate(nodes):
            here = f"{where}/{index}"
            node = self.resolve(raw, here)
            if not isinstance(node, dict) or not isinstance(node.get("name"), str) or "in" not in node:
                raise OpenAPIError(here, "a parameter needs a 'name' and an 'in'")
            specs.append(
                ParameterSpec(
                    name=node["name"],
                    location=str(node["in"]),
                    where=here,
                    required=node.get("required") is True,
                    schema=node.get("schema"),
                    content=self.content(node.get("content")),
                    description=_text(node.get("description")),
                    style=_text(node.get("style")),
                    explode=node.get("explode") if isinstance(node.get("explode"), bool) else None,
                    allow_reserved=node.get("allowReserved") is True,
                    deprecated=node.get("deprecated") is True,
                )
            )
        return specs

    def content(self, node: Any) -> dict[str, MediaSpec] | None:
        if not isinstance(node, dict):
            return None
        return {
            str(media_type): MediaSpec(media.get("schema"), encodings(media.get("encoding")))
            for media_type, media in node.items()
            if isinstance(media, dict)
        }

    def body(self, raw: Any, where: str) -> BodySpec:
        node = self.resolve(raw, where)
        if not isinstance(node, dict):
            raise OpenAPIError(where, "a request body must be an object")
        return BodySpec(
            content=self.content(node.get("content")) or {},
            where=where,
            required=node.get("required") is True,
            description=_text(node.get("description")),
        )

    def response(self, status: Any, raw: Any, where: str) -> ResponseSpec:
        node = self.resolve(raw, where)
        if not isinstance(node, dict):
            raise OpenAPIError(where, "a response must be an object")
        return ResponseSpec(
            status=response_status(status, where, self.converter),
            where=where,
            description=_text(node.get("description")),
            content=self.content(node.get("content")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _split(where: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in where[2:].split("/")]

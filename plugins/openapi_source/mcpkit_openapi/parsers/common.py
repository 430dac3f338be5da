"""What both parsers share once they have read an operation: version handling, defaults, media types."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcpkit_openapi.errors import ConversionWarning, OpenAPIError
from mcpkit_openapi.model import (
    Encoding,
    Location,
    Operation,
    Parameter,
    RequestBody,
    Requirement,
    Response,
    SecurityScheme,
    ServerInfo,
    ServerVariable,
)
from mcpkit_openapi.schemas import SchemaConverter, resolve_pointer
from mcpkit_openapi.swagger2 import upgrade

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LOCATIONS = frozenset({"path", "query", "header", "cookie"})
_PATH_PARAMETER = re.compile(r"\{([^{}]+)\}")


def prepare(document: Mapping[str, Any], warnings: list[ConversionWarning]) -> tuple[Mapping[str, Any], str]:
    """The document in OpenAPI 3 shape (Swagger 2.0 upgraded) and its original version."""
    swagger = document.get("swagger")
    if swagger is not None:
        if str(swagger) != "2.0":
            raise OpenAPIError("#/swagger", f"unsupported Swagger version {swagger!r}; supported: 2.0")
        return upgrade(document, warnings), "2.0"
    version = document.get("openapi")
    if not isinstance(version, str):
        raise OpenAPIError("#", "not an OpenAPI document: there is no 'openapi' (or 'swagger') version field")
    if not version.startswith(("3.0", "3.1")):
        raise OpenAPIError(
            "#/openapi", f"unsupported OpenAPI version {version!r}; supported: 3.0.x, 3.1.x, 2.0"
        )
    return document, version


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """A parameter as read from the document, before conversion."""

    name: str
    location: str
    where: str
    required: bool = False
    schema: Any = None
    content: Mapping[str, Any] | None = None
    description: str | None = None
    style: str | None = None
    explode: bool | None = None
    allow_reserved: bool = False
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class MediaSpec:
    """One media type of a body or response: its schema node and (bodies) its property encodings."""

    schema: Any = None
    encoding: Mapping[str, Encoding] | None = None


@dataclass(frozen=True, slots=True)
class BodySpec:
    """A request body as read from the document."""

    content: Mapping[str, MediaSpec]
    where: str
    required: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseSpec:
    """A response as read from the document."""

    status: str
    where: str
    description: str | None = None
    content: Mapping[str, MediaSpec] | None = None


def is_json(media_type: str) -> bool:
    """Whether ``media_type`` is JSON (``application/json``, ``*/*+json``, ``*/*``)."""
    base = media_type.split(";")[0].strip().lower()
    return base in ("application/json", "*/*") or base.endswith("+json") or base.endswith("/json")


def is_success(status: str) -> bool:
    """Whether a response status (``"200"``, ``"2XX"``) is a success."""
    return status.upper().startswith("2")


def _body_rank(media_type: str) -> int:
    base = media_type.split(";")[0].strip().lower()
    if base == "application/json":
        return 0
    if is_json(base) and base != "*/*":
        return 1
    order = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
    if base in order:
        return 2 + order.index(base)
    if base.startswith("text/"):
        return 5
    return 6 if base == "*/*" else 7


def assemble(
    converter: SchemaConverter,
    *,
    method: str,
    path: str,
    where: str,
    operation_id: str | None,
    summary: str | None,
    description: str | None,
    tags: Iterable[str],
    deprecated: bool,
    parameters: list[ParameterSpec],
    body: BodySpec | None,
    responses: list[ResponseSpec],
    security: tuple[Requirement, ...] | None,
    operation_servers: list[ServerInfo],
) -> Operation:
    """Build an :class:`Operation` from what a parser read (path-level and operation-level
    parameters already merged, ``$ref`` already resolved)."""
    return Operation(
        method=method.upper(),
        path=path,
        pointer=where,
        operation_id=operation_id,
        summary=summary,
        description=description,
        tags=tuple(tags),
        deprecated=deprecated,
        parameters=_parameters(converter, path, where, parameters),
        request_body=_body(converter, body) if body is not None else None,
        responses=tuple(_response(converter, spec) for spec in responses),
        security=security,
        servers=tuple(operation_servers),
    )


def merge_parameters(shared: list[ParameterSpec], own: list[ParameterSpec]) -> list[ParameterSpec]:
    """Path-level parameters overridden by operation-level ones with the same name and location."""
    merged = {(p.name, p.location): p for p in shared}
    merged.update({(p.name, p.location): p for p in own})
    return list(merged.values())


def _parameters(
    converter: SchemaConverter, path: str, where: str, specs: list[ParameterSpec]
) -> tuple[Parameter, ...]:
    in_template = list(dict.fromkeys(_PATH_PARAMETER.findall(path)))
    declared = {spec.name for spec in specs if spec.location == "path"}
    parameters = []
    for spec in specs:
        if spec.location not in LOCATIONS:
            raise OpenAPIError(
                spec.where, f"parameter location {spec.location!r} is not one of {sorted(LOCATIONS)}"
            )
        if spec.location == "path" and spec.name not in in_template:
            converter.warn(spec.where, f"path parameter {spec.name!r} is not in the path {path!r}; ignored")
            continue
        parameters.append(_parameter(converter, spec))
    for name in in_template:
        if name not in declared:
            converter.warn(where, f"path parameter {name!r} is not declared; treated as a required string")
            parameters.append(Parameter(name=name, location="path", schema={"type": "string"}, required=True))
    return tuple(parameters)


def _parameter(converter: SchemaConverter, spec: ParameterSpec) -> Parameter:
    location: Location = spec.location  # type: ignore[assignment]
    media_type = None
    node = spec.schema
    if node is None and spec.content:
        media_type, media = next(iter(spec.content.items()))
        node = media.schema
    schema = converter.convert(node if node is not None else {}, "input", f"{spec.where}/schema")
    style = spec.style or ("form" if location in ("query", "cookie") else "simple")
    return Parameter(
        name=spec.name,
        location=location,
        schema=schema,
        required=True if location == "path" else spec.required,
        description=spec.description,
        style=style,
        explode=spec.explode if spec.explode is not None else style == "form",
        allow_reserved=spec.allow_reserved,
        media_type=media_type,
        deprecated=spec.deprecated,
    )


def _body(converter: SchemaConverter, spec: BodySpec) -> RequestBody | None:
    if not spec.content:
        converter.warn(spec.where, "the request body has no content; ignored")
        return None
    media_type = min(spec.content, key=_body_rank)
    media = spec.content[media_type]
    schema = converter.convert(
        media.schema if media.schema is not None else {}, "input", f"{spec.where}/schema"
    )
    return RequestBody(
        media_type=media_type,
        schema=schema,
        required=spec.required,
        description=spec.description,
        encoding=dict(media.encoding or {}),
    )


def _response(converter: SchemaConverter, spec: ResponseSpec) -> Response:
    if not is_success(spec.status) or not spec.content:
        return Response(spec.status, spec.description)
    media_type = next((m for m in spec.content if is_json(m)), next(iter(spec.content)))
    node = spec.content[media_type].schema
    schema = None
    if node is not None and is_json(media_type):
        schema = converter.convert(node, "output", f"{spec.where}/content/{media_type}/schema")
    return Response(spec.status, spec.description, media_type, schema)


def response_status(status: Any, where: str, converter: SchemaConverter) -> str:
    """A response status as text; numbers (unquoted YAML keys) are tolerated with a warning."""
    if isinstance(status, int) and not isinstance(status, bool):
        converter.warn(where, f"response code {status} is a number; read as '{status}'")
    return str(status)


def servers(nodes: Any) -> list[ServerInfo]:
    """The document's servers (invalid entries left out)."""
    result = []
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict) or not isinstance(node.get("url"), str):
            continue
        variables = {
            name: ServerVariable(
                default=str(variable.get("default", "")),
                enum=tuple(str(v) for v in variable.get("enum") or ()),
                description=variable.get("description"),
            )
            for name, variable in (node.get("variables") or {}).items()
            if isinstance(variable, dict)
        }
        result.append(ServerInfo(node["url"], node.get("description"), variables))
    return result


def requirements(node: Any, where: str, converter: SchemaConverter) -> tuple[Requirement, ...] | None:
    """A ``security`` list: ``None`` when absent, ``()`` when empty (no credentials needed)."""
    if node is None:
        return None
    if not isinstance(node, list) or not all(isinstance(r, dict) for r in node):
        converter.warn(where, "'security' must be a list of requirement objects; ignored")
        return None
    return tuple(
        {
            str(name): tuple(str(s) for s in scopes) if isinstance(scopes, list) else ()
            for name, scopes in r.items()
        }
        for r in node
    )


def security_schemes(document: Mapping[str, Any], converter: SchemaConverter) -> dict[str, SecurityScheme]:
    """The document's ``components.securitySchemes`` (references followed, invalid ones warned about)."""
    components = document.get("components")
    nodes = components.get("securitySchemes") if isinstance(components, dict) else None
    schemes: dict[str, SecurityScheme] = {}
    for name, raw in nodes.items() if isinstance(nodes, dict) else ():
        where = f"#/components/securitySchemes/{name}"
        node = raw
        if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
            try:
                node = resolve_pointer(document, raw["$ref"])
            except LookupError as exc:
                converter.warn(where, f"{exc}; scheme ignored")
                continue
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            converter.warn(where, "a security scheme needs a 'type'; ignored")
            continue
        raw_flows = node.get("flows")
        flows: dict[str, Any] = raw_flows if isinstance(raw_flows, dict) else {}
        raw_flow = flows.get("clientCredentials")
        token_url = raw_flow.get("tokenUrl") if isinstance(raw_flow, dict) else None
        schemes[str(name)] = SecurityScheme(
            name=str(name),
            type=node["type"],
            location=node.get("in") if isinstance(node.get("in"), str) else None,
            parameter=node.get("name") if isinstance(node.get("name"), str) else None,
            scheme=str(node["scheme"]).lower() if isinstance(node.get("scheme"), str) else None,
            flows=tuple(str(f) for f in flows),
            token_url=token_url if isinstance(token_url, str) else None,
            description=node.get("description") if isinstance(node.get("description"), str) else None,
        )
    return schemes


def encodings(node: Any) -> dict[str, Encoding]:
    """Property encodings of a form or multipart media type object."""
    result = {}
    for name, value in (node or {}).items() if isinstance(node, dict) else ():
        if isinstance(value, dict):
            result[str(name)] = Encoding(
                content_type=value.get("contentType"),
                style=value.get("style"),
                explode=value.get("explode"),
                allow_reserved=bool(value.get("allowReserved", False)),
            )
    return result

"""Swagger 2.0 documents, upgraded to the OpenAPI 3.0 shape every parser reads.

The upgrade builds a new document (the caller's is never modified):

- ``host`` + ``basePath`` + ``schemes`` become ``servers`` (https first);
- ``definitions``, ``parameters``, ``responses`` and ``securityDefinitions`` move under
  ``components`` and every ``$ref`` is rewritten to match;
- ``in: body`` parameters become a ``requestBody`` in the operation's ``consumes`` media type;
  ``in: formData`` parameters become one form body (``multipart/form-data`` when a parameter is a file
  or the operation consumes multipart, else ``application/x-www-form-urlencoded``);
- other parameters get a ``schema`` and their ``collectionFormat`` becomes ``style``/``explode``;
- response ``schema`` becomes ``content`` in the operation's ``produces`` media type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcpkit_openapi.errors import ConversionWarning, OpenAPIError, pointer
from mcpkit_openapi.loader import MAX_DEPTH
from mcpkit_openapi.schemas import resolve_pointer

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_REF_PREFIXES = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}
_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
)
_COLLECTION_FORMATS = {
    "csv": ("form", False),
    "multi": ("form", True),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
}


def upgrade(document: Mapping[str, Any], warnings: list[ConversionWarning]) -> dict[str, Any]:
    """An OpenAPI 3.0-shaped copy of a Swagger 2.0 ``document``."""
    source = _rewrite_refs(document)
    upgraded: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": source.get("info", {}),
        "servers": _servers(source),
        "paths": {},
        "components": {
            "schemas": source.get("definitions", {}),
            "parameters": source.get("parameters", {}),
            "responses": {
                name: _response(response, _list(source.get("produces")))
                for name, response in _mapping(source.get("responses")).items()
            },
            "securitySchemes": {
                name: _security_scheme(scheme)
                for name, scheme in _mapping(source.get("securityDefinitions")).items()
            },
        },
    }
    for key in ("tags", "security", "externalDocs"):
        if key in source:
            upgraded[key] = source[key]
    consumes = _list(source.get("consumes"))
    produces = _list(source.get("produces"))
    paths = source.get("paths") or {}
    if not isinstance(paths, Mapping):
        upgraded["paths"] = paths  # the parser reports it
        return upgraded
    for path, item in paths.items():
        if not isinstance(item, Mapping):
            upgraded["paths"][path] = item
            continue
        shared = [_resolve(source, p) for p in _list(item.get("parameters"))]
        new_item: dict[str, Any] = {k: v for k, v in item.items() if k not in METHODS and k != "parameters"}
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, Mapping):
                where = pointer("paths", path, method)
                new_item[method] = _operation(source, operation, shared, consumes, produces, where, warnings)
        upgraded["paths"][path] = new_item
    return upgraded


def _rewrite_refs(node: Any, where: tuple[Any, ...] = ()) -> Any:
    if isinstance(node, (Mapping, list)) and len(where) >= MAX_DEPTH:
        raise OpenAPIError(pointer(*where), f"the document nests more than {MAX_DEPTH} levels deep")
    if isinstance(node, Mapping):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                for old, new in _REF_PREFIXES.items():
                    if value.startswith(old):
                        value = new + value[len(old) :]
                        break
                out[key] = value
            else:
                out[key] = _rewrite_refs(value, (*where, key))
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, (*where, i)) for i, v in enumerate(node)]
    return node


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    if isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"].replace("#/components/parameters/", "#/parameters/")
        try:
            return resolve_pointer(document, ref)
        except LookupError:
            return node
    return node


def _servers(source: Mapping[str, Any]) -> list[dict[str, Any]]:
    host = source.get("host")
    base_path = source.get("basePath") or ""
    if not host:
        return [{"url": base_path}] if base_path else []
    schemes = _list(source.get("schemes")) or ["https"]
    scheme = "https" if "https" in schemes else str(schemes[0])
    return [{"url": f"{scheme}://{host}{base_path}"}]


def _security_scheme(scheme: Any) -> Any:
    if not isinstance(scheme, Mapping):
        return scheme
    kind = scheme.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic", "description": scheme.get("description")}
    if kind == "oauth2":
        flow_names = {
            "implicit": "implicit",
            "password": "password",
            "application": "clientCredentials",
            "accessCode": "authorizationCode",
        }
        flow: dict[str, Any] = {"scopes": scheme.get("scopes", {})}
        for key in ("authorizationUrl", "tokenUrl"):
            if key in scheme:
                flow[key] = scheme[key]
        return {"type": "oauth2", "flows": {flow_names.get(str(scheme.get("flow")), "implicit"): flow}}
    return dict(scheme)


def _parameter_schema(parameter: Mapping[str, Any]) -> dict[str, Any]:
    schema = {key: parameter[key] for key in _SCHEMA_KEYS if key in parameter}
    if isinstance(schema.get("items"), Mapping):
        schema["items"] = _parameter_schema(schema["items"])
    return schema


def _operation(
    source: Mapping[str, Any],
    operation: Mapping[str, Any],
    shared: list[Any],
    consumes: list[Any],
    produces: list[Any],
    where: str,
    warnings: list[ConversionWarning],
) -> dict[str, Any]:
    new: dict[str, Any] = {
        k: v for k, v in operation.items() if k not in ("parameters", "consumes", "produces")
    }
    consumes = [str(c) for c in _list(operation.get("consumes")) or consumes]
    produces = [str(p) for p in _list(operation.get("produces")) or produces]
    merged: dict[tuple[Any, Any], Any] = {}
    for parameter in [*shared, *(_resolve(source, p) for p in _list(operation.get("parameters")))]:
        if isinstance(parameter, Mapping):
            merged[(str(parameter.get("name")), str(parameter.get("in")))] = parameter
    parameters: list[Any] = []
    form: dict[str, Any] = {}
    form_required: list[str] = []
    has_file = False
    for parameter in merged.values():
        location = parameter.get("in")
        if location == "body":
            media_type = next(
                (c for c in consumes if "json" in str(c)), consumes[0] if consumes else "application/json"
            )
            new["requestBody"] = {
                "required": bool(parameter.get("required")),
                "description": parameter.get("description"),
                "content": {media_type: {"schema": parameter.get("schema", {})}},
            }
        elif location == "formData":
            schema = _parameter_schema(parameter)
            if parameter.get("description"):
                schema["description"] = parameter["description"]
            has_file = has_file or parameter.get("type") == "file"
            form[str(parameter.get("name"))] = schema
            if parameter.get("required"):
                form_required.append(str(parameter.get("name")))
        else:
            parameters.append(_plain_parameter(parameter, where, warnings))
    if form:
        multipart = has_file or any("multipart" in str(c) for c in consumes)
        media_type = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
        body_schema: dict[str, Any] = {"type": "object", "properties": form}
        if form_required:
            body_schema["required"] = form_required
        new["requestBody"] = {
            "required": bool(form_required),
            "content": {media_type: {"schema": body_schema}},
        }
    if parameters:
        new["parameters"] = parameters
    responses = operation.get("responses") or {}
    new["responses"] = (
        {str(status): _response(response, produces) for status, response in responses.items()}
        if isinstance(responses, Mapping)
        else responses  # the parser reports it
    )
    return new


def _plain_parameter(
    parameter: Mapping[str, Any], where: str, warnings: list[ConversionWarning]
) -> dict[str, Any]:
    converted = {
        key: parameter[key]
        for key in ("name", "in", "description", "required", "deprecated")
        if key in parameter
    }
    converted["schema"] = _parameter_schema(parameter)
    collection = parameter.get("collectionFormat")
    if parameter.get("type") == "array" and isinstance(collection, str) and collection:
        if collection not in _COLLECTION_FORMATS:
            warnings.append(
                ConversionWarning(
                    where, f"collectionFormat {collection!r} of {parameter.get('name')!r} read as csv"
                )
            )
        style, explode = _COLLECTION_FORMATS.get(collection, ("form", False))
        if parameter.get("in") in ("path", "header") and style == "form":
            style = "simple"
        converted["style"] = style
        converted["explode"] = explode
    elif parameter.get("type") == "array" and parameter.get("in") == "query":
        converted["style"], converted["explode"] = "form", False
    return converted


def _response(response: Any, produces: list[Any]) -> Any:
    if not isinstance(response, Mapping) or "$ref" in response:
        return response
    new = {k: v for k, v in response.items() if k not in ("schema", "examples", "headers")}
    if "schema" in response:
        media_type = next(
            (p for p in produces if "json" in str(p)), produces[0] if produces else "application/json"
        )
        new["content"] = {str(media_type): {"schema": response["schema"]}}
    return new

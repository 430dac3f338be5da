"""The ``legacy`` parser (the default): validates the whole document into typed models first.

Every path item, operation, parameter, request body and response — and every reusable component —
is validated into pydantic models before anything is converted, so a broken document gets all of its
problems reported at once, each with its JSON pointer. An operation with invalid parts is skipped
with those problems as the reason. All component schemas are converted eagerly, so schema defects
anywhere in the document show up as warnings too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError

from mcpkit_openapi.errors import ConversionWarning, OpenAPIError, pointer
from mcpkit_openapi.model import Encoding, ParsedDocument, SkippedOperation
from mcpkit_openapi.parsers.common import (
    METHODS,
    BodySpec,
    MediaSpec,
    ParameterSpec,
    ResponseSpec,
    assemble,
    merge_parameters,
    prepare,
    requirements,
    response_status,
    security_schemes,
    servers,
)
from mcpkit_openapi.schemas import SchemaConverter, resolve_pointer


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class _Reference(_Model):
    ref: str = Field(alias="$ref")


def _ref_or(model: type[_Model]) -> Any:
    def kind(value: Any) -> str:
        return "ref" if isinstance(value, Mapping) and "$ref" in value else "object"

    return Annotated[
        Annotated[_Reference, Tag("ref")] | Annotated[model, Tag("object")],
        Discriminator(kind),
    ]


class _Encoding(_Model):
    content_type: str | None = Field(None, alias="contentType")
    style: str | None = None
    explode: bool | None = None
    allow_reserved: bool = Field(False, alias="allowReserved")


class _MediaType(_Model):
    schema_: dict[str, Any] | bool | None = Field(None, alias="schema")
    encoding: dict[str, _Encoding] = {}


class _Parameter(_Model):
    name: str
    location: Literal["path", "query", "header", "cookie"] = Field(alias="in")
    description: str | None = None
    required: bool = False
    deprecated: bool = False
    style: (
        Literal["matrix", "label", "simple", "form", "spaceDelimited", "pipeDelimited", "deepObject"] | None
    ) = None
    explode: bool | None = None
    allow_reserved: bool = Field(False, alias="allowReserved")
    schema_: dict[str, Any] | bool | None = Field(None, alias="schema")
    content: dict[str, _MediaType] | None = None


class _RequestBody(_Model):
    description: str | None = None
    content: dict[str, _MediaType]
    required: bool = False


class _Response(_Model):
    description: str | None = None
    content: dict[str, _MediaType] | None = None


_ParameterOrRef = _ref_or(_Parameter)
_BodyOrRef = _ref_or(_RequestBody)
_ResponseOrRef = _ref_or(_Response)
_PARAMETER: TypeAdapter[Any] = TypeAdapter(_ParameterOrRef)
_BODY: TypeAdapter[Any] = TypeAdapter(_BodyOrRef)
_RESPONSE: TypeAdapter[Any] = TypeAdapter(_ResponseOrRef)


class _Operation(_Model):
    operation_id: str | None = Field(None, alias="operationId")
    summary: str | None = None
    description: str | None = None
    tags: list[str] = []
    deprecated: bool = False
    parameters: list[_ParameterOrRef] = []  # type: ignore[valid-type]
    request_body: _BodyOrRef | None = Field(None, alias="requestBody")  # type: ignore[valid-type]
    responses: dict[str | int, _ResponseOrRef] = {}  # type: ignore[valid-type]
    security: list[dict[str, list[str]]] | None = None
    servers: list[dict[str, Any]] | None = None


class _PathItem(_Model):
    ref: str | None = Field(None, alias="$ref")
    parameters: list[_ParameterOrRef] = []  # type: ignore[valid-type]
    servers: list[dict[str, Any]] | None = None


class _Info(_Model):
    model_config = ConfigDict(coerce_numbers_to_str=True)  # `version: 1.0` is common in YAML documents

    title: str
    version: str
    description: str | None = None


class _Shell(_Model):
    info: _Info
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    security: list[dict[str, list[str]]] = []


_PATH_ITEM: TypeAdapter[_PathItem] = TypeAdapter(_PathItem)
_OPERATION: TypeAdapter[_Operation] = TypeAdapter(_Operation)
_COMPONENTS: dict[str, TypeAdapter[Any]] = {
    "parameters": _PARAMETER,
    "requestBodies": _BODY,
    "responses": _RESPONSE,
}


class LegacyParser:
    """Validating, eager parser (see the module documentation)."""

    def parse(self, document: Mapping[str, Any]) -> ParsedDocument:
        """Validate all of ``document``, then convert every operation and every schema."""
        warnings: list[ConversionWarning] = []
        doc, version = prepare(document, warnings)
        try:
            shell = _Shell.model_validate(doc)
        except ValidationError as exc:
            raise OpenAPIError("#", "invalid document:\n" + _problems(exc, ())) from None
        converter = SchemaConverter(doc, warnings)
        models = _Models(doc)
        parsed = ParsedDocument(
            openapi_version=version,
            title=shell.info.title or "OpenAPI server",
            version=shell.info.version,
            description=shell.info.description,
            servers=servers(doc.get("servers")),
            operations=[],
            definitions=converter,
            warnings=warnings,
            security_schemes=security_schemes(doc, converter),
            security=requirements(shell.security, "#/security", converter) or (),
        )
        for kind, adapter in _COMPONENTS.items():
            for name in shell.components.get(kind, {}):
                at = pointer("components", kind, name)
                component = models.get(at, adapter, at)
                if isinstance(component, OpenAPIError):
                    converter.warn(component.pointer, component.reason)
        for path, raw_item in shell.paths.items():
            self._path(converter, models, parsed, path, raw_item)
        schemas = shell.components.get("schemas", {})
        converter.convert_all([pointer("components", "schemas", name) for name in schemas])
        return parsed

    def _path(
        self,
        converter: SchemaConverter,
        models: _Models,
        parsed: ParsedDocument,
        path: str,
        raw_item: Mapping[str, Any],
    ) -> None:
        item_where = pointer("paths", path)
        seen: set[str] = set()
        resolved: Any = raw_item
        while isinstance(resolved, Mapping) and isinstance(resolved.get("$ref"), str):
            ref = resolved["$ref"]
            try:
                if ref in seen:
                    raise OpenAPIError(item_where, f"$ref cycle through {ref!r}")
                seen.add(ref)
                resolved = models.raw(ref, item_where)
            except OpenAPIError as exc:
                converter.warn(exc.pointer, f"{exc.reason}; path item ignored")
                return
            item_where = ref
        if not isinstance(resolved, Mapping):
            converter.warn(pointer("paths", path), "a path item must be an object; ignored")
            return
        raw_item = resolved
        item = models.validate(item_where, _PATH_ITEM, raw_item)
        for method in METHODS:
            if method not in raw_item:
                continue
            where = pointer("paths", path, method)
            try:
                if isinstance(item, OpenAPIError):
                    raise item
                operation = models.validate(where, _OPERATION, raw_item[method])
                if isinstance(operation, OpenAPIError):
                    raise operation
                shared = [
                    self._parameter(models, p, f"{item_where}/parameters/{i}")
                    for i, p in enumerate(item.parameters)
                ]
                own = [
                    self._parameter(models, p, f"{where}/parameters/{i}")
                    for i, p in enumerate(operation.parameters)
                ]
                body = self._body(models, operation.request_body, f"{where}/requestBody")
                responses = [
                    self._response(models, converter, status, node, f"{where}/responses/{status}")
                    for status, node in operation.responses.items()
                ]
                parsed.operations.append(
                    assemble(
                        converter,
                        method=method,
                        path=path,
                        where=where,
                        operation_id=operation.operation_id,
                        summary=operation.summary,
                        description=operation.description,
                        tags=operation.tags,
                        deprecated=operation.deprecated,
                        parameters=merge_parameters(shared, own),
                        body=body,
                        responses=responses,
                        security=requirements(operation.security, f"{where}/security", converter),
                        operation_servers=servers(operation.servers or item.servers),
                    )
                )
            except OpenAPIError as exc:
                parsed.skipped.append(SkippedOperation(method.upper(), path, exc.pointer, exc.reason))

    def _parameter(self, models: _Models, node: Any, where: str) -> ParameterSpec:
        parameter = models.follow(node, where, _PARAMETER)
        return ParameterSpec(
            name=parameter.name,
            location=parameter.location,
            where=where,
            required=parameter.required,
            schema=parameter.schema_,
            content=_content(parameter.content),
            description=parameter.description,
            style=parameter.style,
            explode=parameter.explode,
            allow_reserved=parameter.allow_reserved,
            deprecated=parameter.deprecated,
        )

    def _body(self, models: _Models, node: Any, where: str) -> BodySpec | None:
        if node is None:
            return None
        body = models.follow(node, where, _BODY)
        return BodySpec(_content(body.content) or {}, where, body.required, body.description)

    def _response(
        self, models: _Models, converter: SchemaConverter, status: str | int, node: Any, where: str
    ) -> ResponseSpec:
        response = models.follow(node, where, _RESPONSE)
        return ResponseSpec(
            response_status(status, where, converter), where, response.description, _content(response.content)
        )


class _Models:
    """Typed models of the document's parts, validated once per JSON pointer."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        self._cache: dict[str, Any] = {}

    def raw(self, ref: str, where: str) -> Any:
        try:
            return resolve_pointer(self._document, ref)
        except LookupError as exc:
            raise OpenAPIError(where, str(exc)) from None

    def validate(self, where: str, adapter: TypeAdapter[Any], raw: Any) -> Any:
        """The model of ``raw`` at ``where``, or the :class:`OpenAPIError` describing what is wrong."""
        if where not in self._cache:
            try:
                self._cache[where] = adapter.validate_python(raw)
            except ValidationError as exc:
                self._cache[where] = OpenAPIError(where, "invalid:\n" + _problems(exc, _split(where)))
        return self._cache[where]

    def get(self, ref: str, adapter: TypeAdapter[Any], used_at: str) -> Any:
        """The validated model at ``ref``; a ``ref`` that does not resolve is reported at ``used_at``."""
        return self.validate(ref, adapter, self.raw(ref, used_at))

    def follow(self, node: Any, where: str, adapter: TypeAdapter[Any]) -> Any:
        """``node`` itself, or what its ``$ref`` chain points to, validated."""
        seen: set[str] = set()
        while isinstance(node, _Reference):
            ref = node.ref
            if ref in seen:
                raise OpenAPIError(where, f"$ref cycle through {ref!r}")
            seen.add(ref)
            node = self.get(ref, adapter, where)
            where = ref
        if isinstance(node, OpenAPIError):
            raise node
        return node


def _content(content: Mapping[str, _MediaType] | None) -> dict[str, MediaSpec] | None:
    if content is None:
        return None
    return {
        media_type: MediaSpec(
            media.schema_,
            {
                name: Encoding(e.content_type, e.style, e.explode, e.allow_reserved)
                for name, e in media.encoding.items()
            },
        )
        for media_type, media in content.items()
    }


def _split(where: str) -> tuple[str, ...]:
    if not where.startswith("#/"):
        return ()
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in where[2:].split("/"))


def _problems(exc: ValidationError, prefix: tuple[str, ...]) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        location = [str(part) for part in error["loc"] if part not in ("ref", "object")]
        lines.append(f"- {pointer(*prefix, *location)}: {error['msg']}")
    return "\n".join(lines)

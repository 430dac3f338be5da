"""The internal model every parser produces: operations with converted JSON Schemas.

Schemas here are JSON Schema 2020-12. They refer to shared definitions as ``{"$ref": "#/$defs/Name"}``;
:class:`Definitions` hands out each definition in its input form (``readOnly`` properties removed) or
output form (``writeOnly`` properties removed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from mcpkit_openapi.errors import ConversionWarning

Location = Literal["path", "query", "header", "cookie"]
Direction = Literal["input", "output"]
Schema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Parameter:
    """An operation parameter and how it is serialised."""

    name: str
    location: Location
    schema: Schema
    required: bool = False
    description: str | None = None
    style: str = "form"
    explode: bool = True
    allow_reserved: bool = False
    media_type: str | None = None
    """Set when the parameter is described with ``content`` (serialised as that media type)."""
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class Encoding:
    """How one property of a form or multipart body is encoded."""

    content_type: str | None = None
    style: str | None = None
    explode: bool | None = None
    allow_reserved: bool = False


@dataclass(frozen=True, slots=True)
class RequestBody:
    """The request body: the media type chosen among those offered, and its schema."""

    media_type: str
    schema: Schema
    required: bool = False
    description: str | None = None
    encoding: Mapping[str, Encoding] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Response:
    """A documented response: status (``"200"``, ``"2XX"``, ``"default"``), media type and schema."""

    status: str
    description: str | None = None
    media_type: str | None = None
    schema: Schema | None = None


@dataclass(frozen=True, slots=True)
class ServerVariable:
    """A variable of a server URL template."""

    default: str
    enum: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A server of the document: a URL template and its variables."""

    url: str
    description: str | None = None
    variables: Mapping[str, ServerVariable] = field(default_factory=dict)


Requirement = dict[str, tuple[str, ...]]
"""One security requirement: scheme name -> scopes. ``{}`` allows anonymous access."""


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """A security scheme of the document (``components.securitySchemes``)."""

    name: str
    type: str
    """``apiKey``, ``http``, ``oauth2``, ``openIdConnect`` or ``mutualTLS``."""
    location: str | None = None
    """apiKey: ``header``, ``query`` or ``cookie``."""
    parameter: str | None = None
    """apiKey: the header, query parameter or cookie name."""
    scheme: str | None = None
    """http: ``bearer``, ``basic``, ..."""
    flows: tuple[str, ...] = ()
    """oauth2: the flows the document offers."""
    token_url: str | None = None
    """oauth2: the ``tokenUrl`` of the clientCredentials flow."""
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Operation:
    """One HTTP operation of the document."""

    method: str
    path: str
    pointer: str
    operation_id: str | None = None
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    deprecated: bool = False
    parameters: tuple[Parameter, ...] = ()
    request_body: RequestBody | None = None
    responses: tuple[Response, ...] = ()
    security: tuple[Requirement, ...] | None = None
    """The operation's own ``security`` (``()`` means none needed); ``None`` inherits the document's."""
    servers: tuple[ServerInfo, ...] = ()
    """Servers of the operation or its path item, overriding the document's; empty: the document's."""


@dataclass(frozen=True, slots=True)
class SkippedOperation:
    """An operation that could not be converted, and why."""

    method: str
    path: str
    pointer: str
    reason: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.pointer}) was not converted: {self.reason}"


class Definitions(Protocol):
    """The shared schema definitions operations refer to with ``#/$defs/<name>``."""

    def get(self, name: str, direction: Direction) -> Schema:
        """The definition ``name`` in its input or output form."""
        ...

    def references(self, name: str, direction: Direction) -> frozenset[str]:
        """Names of the definitions ``name`` refers to directly."""
        ...

    def size(self, name: str, direction: Direction) -> int:
        """Length of the definition's JSON text (its references count as pointers)."""
        ...

    def general(self, name: str, direction: Direction) -> Schema:
        """The definition relaxed so that it stays a generalisation when parts of it become stubs."""
        ...

    def stub(self, name: str, direction: Direction) -> Schema:
        """A generalisation of the definition: its ``type`` and description only, no references."""
        ...

    def subtypes(self, name: str) -> Schema | None:
        """When the definition is a discriminated parent that others extend through ``allOf``: a
        ``oneOf`` of references to them, each pinning its discriminator value; else ``None``."""
        ...


@dataclass
class ParsedDocument:
    """What a parser makes of a document."""

    openapi_version: str
    title: str
    version: str
    description: str | None
    servers: list[ServerInfo]
    operations: list[Operation]
    definitions: Definitions
    security_schemes: dict[str, SecurityScheme] = field(default_factory=dict)
    security: tuple[Requirement, ...] = ()
    """The document's default security requirements (empty: none)."""
    skipped: list[SkippedOperation] = field(default_factory=list)
    warnings: list[ConversionWarning] = field(default_factory=list)

"""Components a server holds: tools, resources and resource templates.

Components are plain descriptions with an async function behind them. Their schemas may be raw JSON
Schema; :meth:`mcpkit.MCPKit.add_tool` normalises them (see :mod:`mcpkit.schema`) when the tool is
added. To change a component after adding it, add a changed copy with ``replace=True``.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final, TypeAlias

import mcp_types as types
import pydantic_core
from mcp.shared.uri_template import UriTemplate

from mcpkit.schema import WRAP_RESULT_KEY, SchemaValidator, compile_validator

Completer: TypeAlias = "Callable[[str, Mapping[str, str]], Any] | Sequence[str]"
"""Completes one argument: a list of values, or a function of (the text typed so far, the other
arguments given) returning (or awaiting) values; see :mod:`mcpkit.completions`."""

WRAPPED_RESULT_META = "mcpkit/wrapped-result"
"""``_meta`` key of results whose structured content is ``{"result": value}`` (the real value)."""


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Marks "no structured content" (``None`` is the JSON value ``null``)."""


@dataclass
class ToolResult:
    """What a tool function returns.

    ``structured_content`` is any JSON value matching the tool's output schema (the kernel wraps it
    under ``"result"`` when the schema was wrapped). ``content`` defaults to the JSON text of the
    structured content.
    """

    content: list[types.ContentBlock] | None = None
    structured_content: Any = UNSET
    is_error: bool = False
    meta: dict[str, Any] | None = None


ToolFn: TypeAlias = Callable[[dict[str, Any]], Awaitable["ToolResult | types.CallToolResult"]]
"""A tool's function: receives the validated arguments, returns a :class:`ToolResult` (or a
protocol ``CallToolResult``, passed on unchanged)."""


@dataclass(eq=False)
class Tool:
    """A tool: a name, schemas, and an async function of the (already validated) arguments."""

    name: str
    input_schema: dict[str, Any]
    fn: ToolFn
    description: str | None = None
    title: str | None = None
    output_schema: dict[str, Any] | None = None
    annotations: types.ToolAnnotations | None = None
    tags: frozenset[str] = frozenset()
    icons: list[types.Icon] | None = None
    meta: dict[str, Any] | None = None
    scopes: frozenset[str] = frozenset()
    """OAuth scopes a caller's token must hold to see and call the tool (when served with authorization)."""
    search_terms: tuple[str, ...] = ()
    """Extra words that describe the tool to search (not sent to clients)."""

    @cached_property
    def validator(self) -> SchemaValidator:
        """The compiled validator of the input schema (built on first use)."""
        return compile_validator(self.input_schema, owner=f"tool {self.name!r}")

    @property
    def wraps_result(self) -> bool:
        """Whether structured results are served wrapped as ``{"result": value}``."""
        return bool(self.output_schema and self.output_schema.get(WRAP_RESULT_KEY))

    def to_wire(self) -> dict[str, Any]:
        """The tool as ``tools/list`` carries it (JSON-ready, protocol field names)."""
        wire: dict[str, Any] = {"name": self.name, "inputSchema": self.input_schema}
        if self.title is not None:
            wire["title"] = self.title
        if self.description is not None:
            wire["description"] = self.description
        if self.output_schema is not None:
            wire["outputSchema"] = self.output_schema
        if self.annotations is not None:
            wire["annotations"] = self.annotations.model_dump(by_alias=True, exclude_none=True, mode="json")
        if self.icons:
            wire["icons"] = [
                icon.model_dump(by_alias=True, exclude_none=True, mode="json") for icon in self.icons
            ]
        if self.meta is not None:
            wire["_meta"] = self.meta
        return wire

    def to_call_result(self, result: ToolResult) -> types.CallToolResult:
        """The protocol result for ``result``, structured content wrapped as the output schema says."""
        structured: dict[str, Any] | None = None
        content = result.content
        meta = result.meta
        if result.structured_content is not UNSET:
            value = result.structured_content
            if self.wraps_result:
                structured = {"result": value}
                meta = {**(meta or {}), WRAPPED_RESULT_META: True}
            elif isinstance(value, dict):
                structured = value
            if content is None:
                content = [types.TextContent(type="text", text=to_json_text(value))]
        return types.CallToolResult(
            content=content or [],
            structured_content=structured,
            is_error=result.is_error,
            _meta=meta,
        )


def error_result(message: str) -> types.CallToolResult:
    """A tool error result (``isError``) carrying ``message``."""
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def to_json_text(value: Any) -> str:
    """Compact JSON text of a JSON value (UTF-8, not escaped to ASCII)."""
    return pydantic_core.to_json(value).decode()


@dataclass(frozen=True, slots=True)
class ResourceContent:
    """One piece of resource content: text or bytes, with its MIME type."""

    value: str | bytes
    mime_type: str | None = None


ResourceValue: TypeAlias = "str | bytes | ResourceContent | Sequence[ResourceContent]"
"""What a resource reader returns: text, bytes, or explicit content items."""


@dataclass(eq=False)
class Resource:
    """A resource at a fixed URI, read by an async function."""

    uri: str
    name: str
    read: Callable[[], Awaitable[ResourceValue]]
    description: str | None = None
    title: str | None = None
    mime_type: str | None = None
    tags: frozenset[str] = frozenset()
    icons: list[types.Icon] | None = None
    meta: dict[str, Any] | None = None
    scopes: frozenset[str] = frozenset()
    """OAuth scopes a caller's token must hold to see and read the resource."""

    def to_mcp(self) -> types.Resource:
        """The resource as the protocol lists it."""
        return types.Resource(
            uri=self.uri,
            name=self.name,
            title=self.title,
            description=self.description,
            mime_type=self.mime_type,
            icons=self.icons,
            _meta=self.meta,
        )


@dataclass(eq=False)
class ResourceTemplate:
    """Resources whose URIs match an RFC 6570 template; the reader gets the template's variables.

    Variable values arrive as strings (lists for exploded variables); the reader converts them.
    Query parameters a URI carries that the template does not declare are ignored, as a web server
    ignores unknown query parameters. ``completions`` completes variables (:mod:`mcpkit.completions`).
    """

    uri_template: str
    name: str
    read: Callable[[dict[str, Any]], Awaitable[ResourceValue]]
    description: str | None = None
    title: str | None = None
    mime_type: str | None = None
    tags: frozenset[str] = frozenset()
    icons: list[types.Icon] | None = None
    meta: dict[str, Any] | None = None
    completions: Mapping[str, Completer] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    """OAuth scopes a caller's token must hold to see and read the template's resources."""
    _parsed: UriTemplate = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._parsed = UriTemplate.parse(self.uri_template)

    def match(self, uri: str) -> dict[str, Any] | None:
        """The variables of ``uri`` if it matches this template, else ``None``."""
        variables = self._parsed.match(uri)
        if variables is None and "?" in uri and not self._parsed.query_variable_names:
            variables = self._parsed.match(uri.partition("?")[0])
        return variables

    def to_mcp(self) -> types.ResourceTemplate:
        """The template as the protocol lists it."""
        return types.ResourceTemplate(
            uri_template=self.uri_template,
            name=self.name,
            title=self.title,
            description=self.description,
            mime_type=self.mime_type,
            icons=self.icons,
            _meta=self.meta,
        )


def resource_contents(
    uri: str, value: ResourceValue, default_mime_type: str | None
) -> list[types.TextResourceContents | types.BlobResourceContents]:
    """Protocol contents for what a reader returned."""
    if isinstance(value, (str, bytes)):
        items: Sequence[ResourceContent] = [ResourceContent(value)]
    elif isinstance(value, ResourceContent):
        items = [value]
    else:
        items = value
    contents: list[types.TextResourceContents | types.BlobResourceContents] = []
    for item in items:
        mime_type = item.mime_type or default_mime_type
        if isinstance(item.value, bytes):
            blob = base64.b64encode(item.value).decode("ascii")
            contents.append(
                types.BlobResourceContents(
                    uri=uri, blob=blob, mime_type=mime_type or "application/octet-stream"
                )
            )
        else:
            contents.append(
                types.TextResourceContents(uri=uri, text=item.value, mime_type=mime_type or "text/plain")
            )
    return contents

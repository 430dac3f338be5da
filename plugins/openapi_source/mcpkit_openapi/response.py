"""HTTP responses to tool results and resource contents, and the output schemas they honour.

- A JSON success becomes structured content. It is checked against the operation's documented
  schema first: a response that does not match is an error result naming the mismatch (passing it
  on would make every MCP client reject the call).
- Text becomes text content; images and audio become image/audio content; other binary becomes an
  embedded resource. An empty success says so.
- 4xx/5xx become error results with the method, path, status and a bounded excerpt of the body.
  Redirects the caller did not follow (see :class:`~mcpkit_openapi.caller.Caller`) are errors.
"""

from __future__ import annotations

import base64
import json
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import httpx
import mcp_types as types
import orjson

from mcpkit import ResourceContent, ToolError, ToolResult
from mcpkit.components import to_json_text
from mcpkit.schema import SchemaValidator, compile_validator
from mcpkit_openapi.model import Definitions, Operation, Schema
from mcpkit_openapi.parsers.common import is_json, is_success
from mcpkit_openapi.plan import with_definitions

if TYPE_CHECKING:
    from jmespath.parser import ParsedResult

    Filter = ParsedResult  # a compiled ``response_filter`` expression

EXCERPT_CHARS = 2000
OutputSchemas = Literal["compact", "full", "none"]


COMPACT_BUDGET = 3_000
"""Bytes of definitions a compact output schema carries before the rest become stubs."""


def output_schema(
    operation: Operation, definitions: Definitions, policy: OutputSchemas = "compact"
) -> Schema | None:
    """What a success returns, as JSON Schema (with its ``$defs``); ``None`` if no success is JSON.

    ``policy``: ``"compact"`` keeps about 3 KB of definitions per tool, nearest first, and replaces
    the rest by stubs that keep only their type (more general, never narrower); ``"full"`` keeps
    every definition reached; ``"none"`` declares no output schema.
    """
    if policy == "none":
        return None
    schemas: list[Schema] = []
    seen: set[str] = set()
    empty = False
    for response in operation.responses:
        if not is_success(response.status):
            continue
        if response.media_type is None:
            empty = True
        elif response.schema is not None:
            key = json.dumps(response.schema, sort_keys=True)
            if key not in seen:
                seen.add(key)
                schemas.append(response.schema)
    if not schemas:
        return None
    schema = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    if empty:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return with_definitions(schema, definitions, "output", COMPACT_BUDGET if policy == "compact" else None)


class ResponseReader:
    """Turns the responses of one operation into results.

    ``max_bytes`` bounds what a result may carry (``None``: no bound); ``narrowing`` says how a caller
    can ask for less (the filter argument, paging parameters) when a response is too large.
    """

    def __init__(
        self,
        operation: Operation,
        schema: Schema | None,
        max_bytes: int | None = None,
        narrowing: str = "",
    ) -> None:
        self.operation = operation
        self.schema = schema
        self.max_bytes = max_bytes
        self.narrowing = narrowing

    @cached_property
    def validator(self) -> SchemaValidator | None:
        """Validator of the documented success schema (compiled on first use)."""
        if self.schema is None:
            return None
        return compile_validator(
            self.schema, owner=f"the response of {self.operation.method} {self.operation.path}"
        )

    def tool_result(self, response: httpx.Response, expression: Filter | None = None) -> ToolResult:
        """The tool result for ``response``, reduced by the JMESPath ``expression`` if given; failures
        (and results over ``max_bytes``) raise :class:`~mcpkit.ToolError`."""
        self.check_status(response)
        media_type = _media_type(response)
        if not response.content:
            if self.validator is not None:
                self._check(None, response)
                return ToolResult(structured_content=None)
            return ToolResult(
                [types.TextContent(type="text", text=f"{self._describe(response)} (no content)")]
            )
        if is_json(media_type) or (self.validator is not None and not media_type):
            data = self._json(response)
            if self.validator is not None:
                self._check(data, response)
            if expression is not None:
                data = expression.search(data)
            text = to_json_text(data)
            self._bound(len(text.encode()), text, response, "filtered " if expression else "")
            return ToolResult([types.TextContent(type="text", text=text)], data)
        if expression is not None:
            raise ToolError(f"response_filter applies to JSON; {self._describe(response)} with {media_type}")
        if self.validator is not None:
            raise ToolError(
                f"{self._describe(response)} with {media_type or 'no content type'} "
                f"where JSON is documented: {_excerpt(response)}"
            )
        self._bound(len(response.content), _excerpt(response), response, "")
        return ToolResult([_content_block(response, media_type)])

    def _bound(self, size: int, text: str, response: httpx.Response, what: str) -> None:
        if self.max_bytes is None or size <= self.max_bytes:
            return
        excerpt = text[:EXCERPT_CHARS] + ("..." if len(text) > EXCERPT_CHARS else "")
        bound = f"more than the {self.max_bytes:,} a result may carry (max_response_bytes)"
        raise ToolError(
            f"{self._describe(response)}: the {what}response is {size:,} bytes, {bound}. "
            f"{self.narrowing}Its start: {excerpt}"
        )

    def resource_value(self, response: httpx.Response, default_mime_type: str | None) -> ResourceContent:
        """The resource content for ``response``; failures raise :class:`~mcpkit.ResourceError`."""
        self.check_status(response)
        media_type = _media_type(response) or default_mime_type
        if media_type and (is_json(media_type) or media_type.startswith("text/")):
            return ResourceContent(response.text, media_type)
        return ResourceContent(response.content, media_type)

    def check_status(self, response: httpx.Response) -> None:
        """Raise :class:`~mcpkit.ToolError` unless ``response`` is a success."""
        if response.is_success:
            return
        if response.is_redirect:
            location = response.headers.get("location", "(no location)")
            raise ToolError(f"{self._describe(response)}: a redirect to {location} was not followed")
        raise ToolError(f"{self._describe(response)}: {_excerpt(response)}")

    def _describe(self, response: httpx.Response) -> str:
        reason = f" {response.reason_phrase}" if response.reason_phrase else ""
        return f"{self.operation.method} {response.request.url.path} returned {response.status_code}{reason}"

    def _json(self, response: httpx.Response) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass  # orjson refuses integers past 64 bits, which the json module reads
        try:
            return json.loads(response.content)
        except ValueError:
            raise ToolError(
                f"{self._describe(response)} with a body that is not valid JSON: {_excerpt(response)}"
            ) from None

    def _check(self, data: Any, response: httpx.Response) -> None:
        assert self.validator is not None
        if self.validator.is_valid(data):
            return
        from jsonschema.exceptions import best_match  # only for a response that does not match

        error = best_match(self.validator.iter_errors(data))
        if error is not None:
            location = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise ToolError(
                f"{self._describe(response)}, but the response does not match the documented schema "
                f"(at {location}: {error.message[:300]}). Response: {_excerpt(response)}"
            )


def compile_filter(expression: str) -> Filter:
    """A compiled JMESPath ``expression``; an invalid one raises :class:`~mcpkit.ToolError`."""
    import jmespath  # imported with the first filter: most servers have none

    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        message = " ".join(str(exc).split())
        raise ToolError(
            f"response_filter {expression!r} is not a valid JMESPath expression: {message}"
        ) from None


def narrowing_hint(filter_argument: str | None, paging: list[str]) -> str:
    """How to ask for a smaller response: the filter argument, the operation's paging parameters."""
    ways = []
    if filter_argument:
        ways.append(f"pass {filter_argument} (a JMESPath expression) to keep only what you need")
    if paging:
        ways.append(f"ask for fewer items with {', '.join(paging)}")
    return ("To narrow it, " + " or ".join(ways) + ". ") if ways else ""


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _excerpt(response: httpx.Response) -> str:
    try:
        body = response.text
    except (UnicodeDecodeError, LookupError):
        return f"({len(response.content)} bytes of binary content)"
    if not body:
        return "(empty body)"
    return (
        body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS] + f"... ({len(body)} characters in all)"
    )


def _content_block(response: httpx.Response, media_type: str) -> types.ContentBlock:
    if media_type.startswith("text/") or media_type in ("application/xml", "application/javascript"):
        return types.TextContent(type="text", text=response.text)
    data = base64.b64encode(response.content).decode("ascii")
    if media_type.startswith("image/"):
        return types.ImageContent(type="image", data=data, mime_type=media_type)
    if media_type.startswith("audio/"):
        return types.AudioContent(type="audio", data=data, mime_type=media_type)
    uri = str(response.request.url.copy_with(query=None, fragment=None))
    resource = types.BlobResourceContents(
        uri=uri, blob=data, mime_type=media_type or "application/octet-stream"
    )
    return types.EmbeddedResource(type="resource", resource=resource)

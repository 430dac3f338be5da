"""HTTP responses to tool results and resource contents, and the output schemas they honour.

- A JSON success becomes structured content. It is checked against the operation's documented
  schema first: a response that does not match is an error result naming the mismatch (passing it
  on would make every MCP client reject the call).
- Text becomes text content; images and audio become image/audio content; other binary becomes an
  embedded resource. An empty success says so.
- 4xx/5xx become error results with the method, path, status and a bounded excerpt of the body.
  Redirects the caller did not follow (see :class:`~mcpkit_openapi.caller.Caller`) are errors.
- The secrets of the call (:class:`~mcpkit_openapi.credentials.Secrets`) are masked in text content,
  structured content and resource text.

Work is bounded: a body that cannot fit ``max_bytes`` is refused as it is read, as soon as that shows
(:meth:`ResponseReader.read`); a JSON body larger than :data:`INLINE_BYTES`, or one to filter, is
parsed, checked, filtered and serialised in a worker thread, one such response at a time, so the event
loop keeps serving other calls; a filter has a budget of work (:mod:`mcpkit_openapi.filters`), and its
result is sized before it is serialised.
"""

from __future__ import annotations

import base64
import codecs
import json
from collections.abc import Callable
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
import mcp_types as types
import orjson
from anyio.lowlevel import RunVar

from mcpkit import ResourceContent, ToolError, ToolResult
from mcpkit.allocation import gc_paused
from mcpkit.schema import SchemaValidator, compile_validator, nesting_depth
from mcpkit_openapi.credentials import Secrets
from mcpkit_openapi.model import Definitions, Operation, Schema
from mcpkit_openapi.parsers.common import is_json, is_success
from mcpkit_openapi.plan import with_definitions

if TYPE_CHECKING:
    from mcpkit_openapi.filters import Budget, Filter

EXCERPT_CHARS = 2000
WHOLE_EXCERPT_BYTES = 1024 * 1024
"""A body up to this size is decoded whole for an excerpt; of a larger one, only its start."""

READ_LIMIT = 32 * 1024 * 1024
"""Bytes of a response read at most while results are bounded; a larger one is refused unread."""

INLINE_BYTES = 64 * 1024
"""A JSON response up to this size (without a filter) becomes a result on the event loop: a few
milliseconds at most. A larger one is handled in a worker thread."""

INLINE_FILTER_BYTES = 8 * 1024
INLINE_FILTER_STEPS = 2_000
"""A filter on a response up to :data:`INLINE_FILTER_BYTES` runs on the event loop while it takes at
most this many steps (about a millisecond); past that it starts again in a worker thread, with its
whole budget."""

MAX_RESULT_DEPTH = 200
"""Levels a JSON result may nest: the protocol's own serialisation (pydantic) stops near 254."""

HEAVY_AT_ONCE = 1
"""Responses handled in worker threads at once (per event loop); others wait their turn. Their work
is bounded but not small (a 32 MB response parses to hundreds of MB), and threads share one GIL."""

_HEAVY: RunVar[anyio.CapacityLimiter] = RunVar("mcpkit_openapi_heavy_responses")
T = TypeVar("T")
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

    async def tool_result(
        self, response: httpx.Response, expression: Filter | None, secrets: Secrets
    ) -> ToolResult:
        """The tool result for ``response``, reduced by the JMESPath ``expression`` if given, with
        ``secrets`` masked; failures (and results over ``max_bytes``) raise :class:`~mcpkit.ToolError`."""
        self.check_status(response)
        media_type = _media_type(response)
        if not response.content:
            if self.validator is not None:
                self._check(None, response)
                return ToolResult(structured_content=None)
            return ToolResult(
                [types.TextContent(type="text", text=f"{self._describe(response)} (no content)")]
            )
        if self._is_json(response):
            return await self._json_result(response, expression, secrets)
        if expression is not None:
            raise ToolError(f"response_filter applies to JSON; {self._describe(response)} with {media_type}")
        if self.validator is not None:
            raise ToolError(
                f"{self._describe(response)} with {media_type or 'no content type'} "
                f"where JSON is documented: {_excerpt(response)}"
            )
        self._bound(len(response.content), _excerpt(response), response, "")
        return ToolResult([_content_block(response, media_type, secrets)])

    async def _json_result(
        self, response: httpx.Response, expression: Filter | None, secrets: Secrets
    ) -> ToolResult:
        """A JSON response's result: on the event loop when that takes a moment, else in a worker
        thread, one response at a time."""
        size = len(response.content)
        if expression is None:
            if size <= INLINE_BYTES:
                return self._json(response, secrets)
            return await _in_worker(partial(self._json, response, secrets))
        from mcpkit_openapi.filters import Budget, Exhausted

        if size <= INLINE_FILTER_BYTES:
            try:
                return self._filtered(response, expression, Budget(INLINE_FILTER_STEPS), secrets)
            except Exhausted:
                pass  # more than a moment's work: start again in a worker thread
        budget = Budget.for_response(size, anyio.from_thread.check_cancelled)
        return await _in_worker(partial(self._filtered, response, expression, budget, secrets))

    def _json(self, response: httpx.Response, secrets: Secrets) -> ToolResult:
        """The result of a JSON response: checked, bounded, secrets masked."""
        data = self._parse(response)
        content = response.content
        if content.count(b"[") + content.count(b"{") > MAX_RESULT_DEPTH:  # else it cannot nest deeper
            self._refuse_deep(data, response, "")
        if self.validator is not None:
            self._check(data, response)
        # What orjson read it writes back, 15 times faster than json: finite numbers, 64-bit integers.
        raw = orjson.dumps(data)
        text = raw.decode()
        self._bound(len(raw), text, response, "")
        if secrets and secrets.in_json(text):
            data = secrets.mask_json(data)
            if self.validator is not None:
                self._check(data, response)  # "***" may break a pattern or a format
            text = orjson.dumps(data).decode()
        return ToolResult([types.TextContent(type="text", text=text)], data)

    def _filtered(
        self, response: httpx.Response, expression: Filter, budget: Budget, secrets: Secrets
    ) -> ToolResult:
        """The result of a JSON response reduced by ``expression`` within ``budget``: sized before
        it is serialised, bounded, secrets masked."""
        from mcpkit_openapi.filters import json_size

        data = self._parse(response)
        if self.validator is not None:
            self._check(data, response)
        data = expression.search(data, budget)
        # A filter can describe far more than it builds (shared parts), so size it first. Without
        # max_bytes, a filter's result may be as large as the response, or READ_LIMIT.
        if self.max_bytes is not None:
            limit = self.max_bytes
            bound = f"more than the {limit:,} a result may carry (max_response_bytes)"
        else:
            limit = max(len(response.content), READ_LIMIT)
            bound = f"more than {limit:,} bytes, the most a filter may make of it (its size, or 32 MB)"
        if json_size(data, limit, memo={}) is None:  # the memo walks shared parts once
            raise ToolError(f"{self._describe(response)}: the filtered response is {bound}. {self.narrowing}")
        self._refuse_deep(data, response, "filtered ")
        text = self._text(data, response, "filtered ")
        self._bound(len(text.encode()), text, response, "filtered ")
        if secrets and secrets.in_json(text):
            data = secrets.mask_json(data)
            text = self._text(data, response, "filtered ")
        return ToolResult([types.TextContent(type="text", text=text)], data)

    def _refuse_deep(self, data: Any, response: httpx.Response, what: str) -> None:
        """Refuse ``data`` nesting more than :data:`MAX_RESULT_DEPTH` levels."""
        depth = nesting_depth(data)
        if depth > MAX_RESULT_DEPTH:
            raise ToolError(
                f"{self._describe(response)}: the {what}response nests {depth} levels deep, more than "
                f"the {MAX_RESULT_DEPTH} a result may"
            )

    def _text(self, data: Any, response: httpx.Response, what: str) -> str:
        """A filter's result as compact JSON text; NaN and infinities (which a filter can compute, and
        orjson would write as ``null``) are refused."""
        try:
            return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except ValueError:  # only a filter makes them: to_number('1e400'), sum([1e308, 1e308])
            raise ToolError(
                f"{self._describe(response)}: the {what}response has a number JSON cannot carry "
                "(infinity or NaN)"
            ) from None

    def _bound(self, size: int, text: str, response: httpx.Response, what: str, unread: bool = False) -> None:
        """Refuse a result of ``size`` bytes (at least, if the rest is ``unread``) past ``max_bytes``."""
        if self.max_bytes is None or size <= self.max_bytes:
            return
        excerpt = text[:EXCERPT_CHARS] + ("..." if len(text) > EXCERPT_CHARS else "")
        bound = f"more than the {self.max_bytes:,} a result may carry (max_response_bytes)"
        size_text = f"over {size:,} bytes (the rest was not read)" if unread else f"{size:,} bytes"
        raise ToolError(
            f"{self._describe(response)}: the {what}response is {size_text}, {bound}. "
            f"{self.narrowing}Its start: {excerpt}"
        )

    async def read(self, response: httpx.Response, result: bool) -> httpx.Response:
        """``response`` with its body read, within bounds (without ``max_bytes``, whole). A body past
        :data:`READ_LIMIT` is refused unread; so is, for an unfiltered tool ``result``, a success that
        cannot fit ``max_bytes``, as soon as that shows: its content (JSON: whitespace and escapes
        aside, :func:`least_json_size`) already passes the bound."""
        if self.max_bytes is None:
            await response.aread()
            return response
        where = f"{response.request.method} {response.request.url.path}"
        length = response.headers.get("content-length")
        declared = (
            int(length)
            if length and length.isdigit() and "content-encoding" not in response.headers
            else None
        )
        if declared is not None and declared > READ_LIMIT:
            raise ToolError(f"{where} returned {declared:,} bytes, more than the {READ_LIMIT:,} read at most")
        could_fit = declared is not None and declared <= self.max_bytes
        counted = self._counted(response) if result and not could_fit else None
        if declared is not None and counted is None:
            await response.aread()  # as long as it says, and that is within bounds
            return response
        chunks = []
        size = least = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > READ_LIMIT:
                raise ToolError(f"{where} returned more than {READ_LIMIT:,} bytes; the rest was not read")
            chunks.append(chunk)
            if counted is not None:
                least += counted(chunk)
                if least > self.max_bytes:
                    start = _start(response, b"".join(chunks))
                    self._bound(declared or size, start, response, "", unread=declared is None)
        return _read_response(response, b"".join(chunks))

    def _counted(self, response: httpx.Response) -> Callable[[bytes], int] | None:
        """How much of each chunk a success's result must carry, at least; ``None`` for a failure."""
        if not response.is_success:
            return None
        return partial(least_json_size, limit=READ_LIMIT) if self._is_json(response) else len

    def _is_json(self, response: httpx.Response) -> bool:
        """Whether ``response`` is read as JSON: it says so, or says nothing where JSON is documented."""
        media_type = _media_type(response)
        return is_json(media_type) or (self.validator is not None and not media_type)

    def resource_value(
        self, response: httpx.Response, default_mime_type: str | None, secrets: Secrets
    ) -> ResourceContent:
        """The resource content for ``response``, ``secrets`` masked in text; failures raise
        :class:`~mcpkit.ToolError`."""
        self.check_status(response)
        media_type = _media_type(response) or default_mime_type
        if media_type and (is_json(media_type) or media_type.startswith("text/")):
            return ResourceContent(secrets.mask(response.text), media_type)
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

    def _parse(self, response: httpx.Response) -> Any:
        """The JSON body as orjson reads it, as documents are read (integers exactly within 64 bits,
        other numbers as doubles): never NaN, infinities or lone surrogates, at most 1,024 levels."""
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            reason = next((why for start, why in _UNREADABLE.items() if str(exc).startswith(start)), None)
            what = f"mcpkit cannot read as JSON ({reason})" if reason else "is not valid JSON"
            raise ToolError(
                f"{self._describe(response)} with a body that {what}: {_excerpt(response)}"
            ) from None

    def _check(self, data: Any, response: httpx.Response) -> None:
        assert self.validator is not None
        try:
            if self.validator.is_valid(data):
                return
            from jsonschema.exceptions import best_match  # only for a response that does not match

            error = best_match(self.validator.iter_errors(data))
        except RecursionError:  # a recursive schema followed down a deep response
            raise ToolError(
                f"{self._describe(response)}, but the response nests too deeply to check it against the "
                "documented schema"
            ) from None
        if error is not None:
            location = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise ToolError(
                f"{self._describe(response)}, but the response does not match the documented schema "
                f"(at {location}: {error.message[:300]}). Response: {_excerpt(response)}"
            )


def narrowing_hint(filter_argument: str | None, paging: list[str]) -> str:
    """How to ask for a smaller response: the filter argument, the operation's paging parameters."""
    ways = []
    if filter_argument:
        ways.append(f"pass {filter_argument} (a JMESPath expression) to keep only what you need")
    if paging:
        ways.append(f"ask for fewer items with {', '.join(paging)}")
    return ("To narrow it, " + " or ".join(ways) + ". ") if ways else ""


_UNREADABLE = {
    "depth limit exceeded": "nested more than 1,024 levels",
    "number is infinity": "a number too large for a double",
}
"""orjson's refusals of valid JSON text, by the start of its message, and what to say instead."""

WHITESPACE = (b" ", b"\n", b"\r", b"\t")
SLICE = 1024 * 1024


def _read_response(response: httpx.Response, content: bytes) -> httpx.Response:
    """``response`` (streamed) as a response with ``content`` read (decoded, so no encoding header)."""
    headers = [
        (key, value)
        for key, value in response.headers.multi_items()
        if key.lower() not in ("content-encoding", "content-length")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=response.extensions,
    )


def least_json_size(content: bytes, limit: int) -> int:
    """A lower bound of the size of ``content``'s compact JSON text: its bytes less its whitespace,
    less 5 per backslash (an escape is 2 to 6 bytes for at least 1). Counted a slice at a time, and
    only until it passes ``limit``."""
    least = 0
    for start in range(0, len(content), SLICE):
        end = min(start + SLICE, len(content))
        blank = sum(content.count(space, start, end) for space in WHITESPACE)
        least += end - start - blank - 5 * content.count(b"\\", start, end)
        if least > limit:
            break
    return least


async def _in_worker(work: Callable[[], T]) -> T:
    """``work()`` in a worker thread, :data:`HEAVY_AT_ONCE` at a time per event loop, the garbage
    collector paused meanwhile (the work allocates much, and frees it all together)."""
    try:
        limiter = _HEAVY.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(HEAVY_AT_ONCE)
        _HEAVY.set(limiter)

    def paused() -> T:
        with gc_paused():
            return work()

    return await anyio.to_thread.run_sync(paused, limiter=limiter)


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _excerpt(response: httpx.Response) -> str:
    """The start of the body as text (a large body is not decoded whole for it)."""
    content = response.content
    if len(content) > WHOLE_EXCERPT_BYTES:
        return _start(response, content)[:EXCERPT_CHARS] + f"... ({len(content):,} bytes in all)"
    try:
        body = response.text
    except (UnicodeDecodeError, LookupError):
        return f"({len(content)} bytes of binary content)"
    if not body:
        return "(empty body)"
    return (
        body if len(body) <= EXCERPT_CHARS else body[:EXCERPT_CHARS] + f"... ({len(body)} characters in all)"
    )


def _start(response: httpx.Response, content: bytes) -> str:
    """The text of the first bytes of ``content`` (a character cut in two at the end left out)."""
    try:
        decoder = codecs.getincrementaldecoder(response.encoding or "utf-8")()
        return decoder.decode(content[: EXCERPT_CHARS * 4])
    except (UnicodeDecodeError, LookupError):
        return "(binary content)"


def _content_block(response: httpx.Response, media_type: str, secrets: Secrets) -> types.ContentBlock:
    if media_type.startswith("text/") or media_type in ("application/xml", "application/javascript"):
        return types.TextContent(type="text", text=secrets.mask(response.text))
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

"""Building the HTTP request of an operation from validated arguments.

Parameters are serialised as their ``style``/``explode`` say (path: simple, label, matrix; query:
form, spaceDelimited, pipeDelimited, deepObject; header: simple; cookie: form).

Path values are percent-encoded, and a value that would change the path's shape once servers decode
it is refused: a ``/`` or ``\\`` (raw or percent-encoded, however many times over), and anything that
makes a ``.``, ``..`` or empty segment. A parameter with ``allowReserved: true`` keeps the reserved
characters that a path can carry unencoded, ``/`` included; its segments are held to the same rule.
Header values with control or non-ASCII characters, and cookie values with control characters, are
refused. Objects nested in form bodies use bracket notation (``metadata[key]=value``), as deepObject
does. Multipart bodies are always sent as ``multipart/form-data``, with or without files.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, unquote, unquote_to_bytes, urlencode

import httpx

from mcpkit import ToolError
from mcpkit_openapi.model import Encoding, Parameter
from mcpkit_openapi.parsers.common import is_json
from mcpkit_openapi.plan import RequestPlan

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Characters no header or cookie value may carry (a tab may)."""
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_TRIPLE = re.compile(r"(%[0-9A-Fa-f]{2})")
_RESERVED_IN_PATH = "/:@!$&'()*+,;="
"""Reserved characters an ``allowReserved`` path value keeps: all but ``?``, ``#``, ``[`` and ``]``,
which would end the path or cannot appear in one."""
MAX_DECODINGS = 3
"""Times a path value is percent-decoded when judged; one still changing after that is refused."""


def build_request(
    client: httpx.AsyncClient,
    plan: RequestPlan,
    arguments: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> httpx.Request:
    """The request for ``plan`` with ``arguments`` (already validated against the input schema),
    sent to ``base_url`` when given, else to the client's own base URL."""
    path_values: dict[str, str] = {}
    reserved: set[str] = set()
    query: list[tuple[str, str | int | float | bool | None]] = []
    request_headers: dict[str, str] = dict(headers or {})
    cookies: list[str] = []
    fields: dict[str, Any] = {}
    body: Any = None
    has_body = False
    for binding in plan.bindings:
        if binding.argument not in arguments:
            continue
        value = arguments[binding.argument]
        parameter = binding.parameter
        if binding.kind == "field":
            fields[binding.name] = value
            has_body = True
        elif binding.kind == "body":
            body, has_body = value, True
        elif value is None or parameter is None:
            continue
        elif binding.kind == "path":
            path_values[binding.name] = _path_value(parameter, value)
            if parameter.allow_reserved:
                reserved.add(binding.name)
        elif binding.kind == "query":
            query.extend(_query_pairs(parameter, value))
        elif binding.kind == "header":
            request_headers[_header_name(binding.name)] = _header_value(
                binding.name, _simple(parameter, value)
            )
        else:
            cookies.append(
                f"{binding.name}={quote(_no_control(binding.name, _cookie(parameter, value)), safe='')}"
            )
    if cookies:
        request_headers["Cookie"] = "; ".join(cookies)
    content: bytes | None = None
    files: list[tuple[str, Part]] | None = None
    if plan.body is not None and has_body:
        media_type = plan.body.media_type
        payload = fields if plan.bindings and any(b.kind == "field" for b in plan.bindings) else body
        if media_type.startswith("multipart/"):
            files = _multipart(payload, plan)
        else:
            content = _encode_body(payload, media_type, plan.body.encoding)
            request_headers["Content-Type"] = "application/json" if media_type == "*/*" else media_type
    path = _expanded(plan, path_values, reserved)
    return client.build_request(
        plan.method,
        base_url.rstrip("/") + path if base_url else path,
        params=query or None,
        headers=request_headers,
        content=content,
        files=files,
    )


def text(value: Any) -> str:
    """A parameter value as text: JSON spelling for booleans, numbers and null."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _path_value(parameter: Parameter, value: Any) -> str:
    """``value`` serialised in the parameter's style, each piece percent-encoded and checked."""

    def encode(piece: Any) -> str:
        return _path_piece(parameter, text(piece))

    style, explode = parameter.style, parameter.explode
    if style == "label":
        return "." + _joined(value, explode, ".", "=", encode)
    if style == "matrix":
        if isinstance(value, list):
            if explode:
                return "".join(f";{parameter.name}={encode(v)}" for v in value)
            return f";{parameter.name}=" + ",".join(encode(v) for v in value)
        if isinstance(value, Mapping):
            if explode:
                return "".join(f";{encode(k)}={encode(v)}" for k, v in value.items())
            return f";{parameter.name}=" + ",".join(f"{encode(k)},{encode(v)}" for k, v in value.items())
        return f";{parameter.name}={encode(value)}"
    return _joined(value, explode, ",", "=", encode)


def _path_piece(parameter: Parameter, piece: str) -> str:
    """One piece of a path value (a scalar, item, key), percent-encoded; refused if, once decoded, it
    holds a ``\\``, or a ``/`` where the parameter does not allow reserved characters."""
    reason = _separator(_decoded(piece, MAX_DECODINGS), parameter.allow_reserved)
    if reason:
        raise ToolError(f"the path parameter {parameter.name!r} {reason}")
    if not parameter.allow_reserved:
        return quote(piece, safe="")
    # Reserved expansion: reserved characters and percent-encoded triples pass, the rest is encoded.
    return "".join(
        part if index % 2 else quote(part, safe=_RESERVED_IN_PATH)
        for index, part in enumerate(_TRIPLE.split(piece))
    )


def _expanded(plan: RequestPlan, values: Mapping[str, str], reserved: set[str]) -> str:
    """The plan's path with its parameters replaced by their serialised ``values``; refused if a segment
    holding parameters would, once decoded, change the path's shape: a separator that no parameter
    of ``reserved`` (those allowing reserved characters) put there, or an empty or dot segment
    (``.``, ``..``, also before a ``;``)."""
    segments = plan.path.split("/")
    for index, template in enumerate(segments):
        names = _PLACEHOLDER.findall(template)
        if not names:
            continue
        segment = _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), template)
        decoded = _decoded(segment, MAX_DECODINGS + 1)  # once more: the encoding added here
        reason = _separator(decoded, not reserved.isdisjoint(names)) or _dot_segment(decoded, plan.path)
        if reason:
            raise ToolError(f"the path parameter {' and '.join(repr(name) for name in names)} {reason}")
        segments[index] = segment
    return "/".join(segments)


def _separator(decoded: str | None, slash_allowed: bool) -> str | None:
    """Why a decoded path value would change the path's shape by a separator (``None``: it would not)."""
    if decoded is None:
        return f"is percent-encoded more than {MAX_DECODINGS} times over"
    if "\\" in decoded:
        return "cannot contain a '\\' (nor %5C), which servers may read as '/'"
    if "/" in decoded and not slash_allowed:
        return "cannot contain a '/' (nor %2F, %252F, ...): it must stay within its own path segment"
    return None


def _dot_segment(decoded: str | None, path: str) -> str | None:
    """Why a decoded path segment would be resolved away by servers (``None``: it would not)."""
    parts = decoded.split("/") if decoded is not None else []
    if any(part == "" or part.split(";")[0] in (".", "..") for part in parts):
        return f"would make an empty, '.' or '..' segment of {path}, which servers resolve away"
    return None


def _decoded(value: str, times: int) -> str | None:
    """``value`` percent-decoded until it no longer changes; ``None`` if it still does after ``times``."""
    for _ in range(times + 1):
        decoded = unquote(value) if "%" in value else value
        if decoded == value:
            return value
        value = decoded
    return None


def _joined(value: Any, explode: bool, separator: str, pair: str, encode: Callable[[Any], str]) -> str:
    if isinstance(value, list):
        return (separator if explode else ",").join(encode(v) for v in value)
    if isinstance(value, Mapping):
        if explode:
            return separator.join(f"{encode(k)}{pair}{encode(v)}" for k, v in value.items())
        return ",".join(f"{encode(k)},{encode(v)}" for k, v in value.items())
    return str(encode(value))


def _simple(parameter: Parameter, value: Any) -> str:
    if parameter.media_type is not None:
        return text(value) if is_json(parameter.media_type) else str(value)
    return _joined(value, parameter.explode, ",", "=", text)


def _cookie(parameter: Parameter, value: Any) -> str:
    if isinstance(value, list):
        return ",".join(text(v) for v in value)
    return text(value)


def _header_name(name: str) -> str:
    if not _TOKEN.fullmatch(name):
        raise ToolError(
            f"the document names a header {name!r} that cannot be sent: it is not a valid header name"
        )
    return name


def _header_value(name: str, value: str) -> str:
    value = _no_control(name, value)
    if not value.isascii():
        character = next(c for c in value if not c.isascii())
        raise ToolError(
            f"the value of the header {name!r} contains {character!r}: a header value must be ASCII text"
        )
    return value


def _no_control(name: str, value: str) -> str:
    found = _CONTROL.search(value)
    if found:
        raise ToolError(
            f"the value of {name!r} contains the control character {found[0]!r}: a header or cookie "
            "cannot carry a line break or NUL or any other control character"
        )
    return value


def _query_pairs(parameter: Parameter, value: Any) -> list[tuple[str, str]]:
    name = parameter.name
    if parameter.media_type is not None:
        return [(name, text(value))]
    style, explode = parameter.style, parameter.explode
    if style == "deepObject":
        return _brackets(name, value)
    if isinstance(value, list):
        if explode:
            return [(name, text(v)) for v in value]
        separator = {"spaceDelimited": " ", "pipeDelimited": "|"}.get(style, ",")
        return [(name, separator.join(text(v) for v in value))]
    if isinstance(value, Mapping):
        if explode:
            return [(str(k), text(v)) for k, v in value.items()]
        return [(name, ",".join(f"{k},{text(v)}" for k, v in value.items()))]
    return [(name, text(value))]


def _brackets(prefix: str, value: Any) -> list[tuple[str, str]]:
    """``prefix[key]=value`` pairs for nested objects; ``prefix[]`` for lists of scalars, ``prefix[i]``
    for lists of objects."""
    if isinstance(value, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            pairs.extend(_brackets(f"{prefix}[{key}]", item))
        return pairs
    if isinstance(value, list):
        if all(not isinstance(v, (Mapping, list)) for v in value):
            return [(f"{prefix}[]", text(v)) for v in value]
        pairs = []
        for index, item in enumerate(value):
            pairs.extend(_brackets(f"{prefix}[{index}]", item))
        return pairs
    return [(prefix, text(value))]


def _encode_body(payload: Any, media_type: str, encoding: Mapping[str, Encoding]) -> bytes:
    if is_json(media_type):
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    if media_type.startswith("application/x-www-form-urlencoded"):
        if not isinstance(payload, Mapping):
            raise ToolError("a form body must be an object")
        pairs: list[tuple[str, str]] = []
        for key, value in payload.items():
            pairs.extend(_form_pairs(str(key), value, encoding.get(str(key))))
        return urlencode(pairs).encode()
    if media_type.startswith("text/") or isinstance(payload, (dict, list)):
        return text(payload).encode()
    return _base64(payload, "body")


def _form_pairs(name: str, value: Any, encoding: Encoding | None) -> list[tuple[str, str]]:
    if value is None:
        return []
    if encoding is not None and encoding.content_type and is_json(encoding.content_type):
        return [(name, text(value))]
    explode = True if encoding is None or encoding.explode is None else encoding.explode
    if isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
        if encoding is not None and encoding.style == "deepObject":
            return _brackets(name, value)
        return [(name, text(v)) for v in value] if explode else [(name, ",".join(text(v) for v in value))]
    if isinstance(value, (Mapping, list)):
        return _brackets(name, value)
    return [(name, text(value))]


Part = tuple[str | None, bytes, str | None]
"""A multipart part: file name (``None`` for a plain field), content, content type."""


def _multipart(payload: Any, plan: RequestPlan) -> list[tuple[str, Part]]:
    """The parts of a multipart body, in the payload's order: files, and text fields (as parts without
    a file name, so that the body is ``multipart/form-data`` even when it holds no file)."""
    if not isinstance(payload, Mapping):
        raise ToolError("a multipart body must be an object")
    parts: list[tuple[str, Part]] = []
    for key, value in payload.items():
        if value is None:
            continue
        if key in plan.file_fields:
            for item in value if isinstance(value, list) else [value]:
                parts.append((key, decode_file(item, key)))
        elif isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
            parts.extend((key, (None, text(v).encode(), None)) for v in value)
        else:
            parts.append((key, (None, text(value).encode(), None)))
    return parts


def decode_file(value: Any, field: str) -> tuple[str, bytes, str | None]:
    """A file argument (base64, data URL, or ``{content, filename, content_type}``) as
    ``(filename, bytes, content type)``."""
    filename: str | None = None
    content_type: str | None = None
    if isinstance(value, Mapping):
        filename = value.get("filename")
        content_type = value.get("content_type")
        value = value.get("content", "")
    if not isinstance(value, str):
        raise ToolError(f"{field}: a file must be given as text (base64 or a data URL)")
    if value.startswith("data:"):
        header, _, encoded = value.partition(",")
        parts = header[5:].split(";")
        content_type = content_type or parts[0] or None
        for part in parts[1:]:
            key, _, param = part.partition("=")
            if key in ("name", "filename") and param:
                filename = filename or unquote_to_bytes(param).decode()
        content = _base64(encoded, field) if "base64" in parts[1:] else unquote_to_bytes(encoded)
    else:
        content = _base64(value, field)
    return filename or field, content, content_type


def _base64(value: Any, field: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ToolError(f"{field}: expected base64 content") from None

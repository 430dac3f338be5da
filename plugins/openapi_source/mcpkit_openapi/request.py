"""Building the HTTP request of an operation from validated arguments.

Parameters are serialised as their ``style``/``explode`` say (path: simple, label, matrix; query:
form, spaceDelimited, pipeDelimited, deepObject; header: simple; cookie: form). Path values are
always percent-encoded, ``/`` included, so no argument can reach another endpoint (``../admin`` stays
one path segment). Header and cookie values with line breaks are refused. Objects nested in form
bodies use bracket notation (``metadata[key]=value``), as deepObject does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_to_bytes, urlencode

import httpx

from mcpkit import ToolError
from mcpkit_openapi.model import Encoding, Parameter
from mcpkit_openapi.parsers.common import is_json
from mcpkit_openapi.plan import RequestPlan

_FORBIDDEN_IN_HEADERS = re.compile(r"[\r\n\x00]")


def build_request(
    client: httpx.AsyncClient,
    plan: RequestPlan,
    arguments: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> httpx.Request:
    """The request for ``plan`` with ``arguments`` (already validated against the input schema),
    sent to ``base_url`` when given, else to the client's own base URL."""
    path = plan.path
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
            path = path.replace("{" + binding.name + "}", _path_value(parameter, value))
        elif binding.kind == "query":
            query.extend(_query_pairs(parameter, value))
        elif binding.kind == "header":
            request_headers[binding.name] = _checked(binding.name, _simple(parameter, value))
        else:
            cookies.append(
                f"{binding.name}={quote(_checked(binding.name, _cookie(parameter, value)), safe='')}"
            )
    if cookies:
        request_headers["Cookie"] = "; ".join(cookies)
    content: bytes | None = None
    files: list[tuple[str, tuple[str, bytes, str | None]]] | None = None
    data: dict[str, Any] | None = None
    if plan.body is not None and has_body:
        media_type = plan.body.media_type
        payload = fields if plan.bindings and any(b.kind == "field" for b in plan.bindings) else body
        if media_type.startswith("multipart/"):
            data, files = _multipart(payload, plan)
        else:
            content = _encode_body(payload, media_type, plan.body.encoding)
            request_headers["Content-Type"] = "application/json" if media_type == "*/*" else media_type
    return client.build_request(
        plan.method,
        base_url.rstrip("/") + path if base_url else path,
        params=query or None,
        headers=request_headers,
        content=content,
        data=data,
        files=files,
    )


def text(value: Any) -> str:
    """A parameter value as text: JSON spelling for booleans, numbers and null."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _segment(value: Any) -> str:
    encoded = quote(text(value), safe="")
    return encoded.replace(".", "%2E") if set(encoded) <= {"."} else encoded


def _path_value(parameter: Parameter, value: Any) -> str:
    style, explode = parameter.style, parameter.explode
    if style == "label":
        return "." + _joined(value, explode, ".", "=", _segment)
    if style == "matrix":
        if isinstance(value, list):
            if explode:
                return "".join(f";{parameter.name}={_segment(v)}" for v in value)
            return f";{parameter.name}=" + ",".join(_segment(v) for v in value)
        if isinstance(value, Mapping):
            if explode:
                return "".join(f";{_segment(k)}={_segment(v)}" for k, v in value.items())
            return f";{parameter.name}=" + ",".join(f"{_segment(k)},{_segment(v)}" for k, v in value.items())
        return f";{parameter.name}={_segment(value)}"
    return _joined(value, explode, ",", "=", _segment)


def _joined(value: Any, explode: bool, separator: str, pair: str, encode: Any) -> str:
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


def _checked(name: str, value: str) -> str:
    if _FORBIDDEN_IN_HEADERS.search(value):
        raise ToolError(
            f"the value of {name!r} contains a line break or NUL, which cannot be sent in a header"
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


def _multipart(
    payload: Any, plan: RequestPlan
) -> tuple[dict[str, Any], list[tuple[str, tuple[str, bytes, str | None]]]]:
    if not isinstance(payload, Mapping):
        raise ToolError("a multipart body must be an object")
    data: dict[str, Any] = {}
    files: list[tuple[str, tuple[str, bytes, str | None]]] = []
    for key, value in payload.items():
        if value is None:
            continue
        if key in plan.file_fields:
            for item in value if isinstance(value, list) else [value]:
                files.append((key, decode_file(item, key)))
        elif isinstance(value, list) and all(not isinstance(v, (Mapping, list)) for v in value):
            data[key] = [text(v) for v in value]
        else:
            data[key] = text(value)
    return data, files


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

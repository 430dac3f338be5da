"""Reading documents: a mapping, a file path, a URL, or the text itself; JSON or YAML."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson

from mcpkit_openapi.errors import OpenAPIError, pointer

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""Bytes of a document fetched from a URL at most (the largest real documents are about 13 MB)."""

MAX_DEPTH = 128
"""Levels of objects and arrays a document may nest where it is read whole (YAML text, a mapping that
is copied, a Swagger 2.0 upgrade); the deepest real documents nest about 25."""


def parse_text(data: bytes | str, location: str) -> Any:
    """Parse JSON or YAML text; errors name ``location`` and the line.

    Every number reads, as orjson reads JSON: integers exactly within 64 bits, other numbers as the
    nearest double; one past a double's range (``1e400``) as an infinity, which schema conversion
    drops with a warning (JSON cannot carry it).
    """
    raw = data.encode() if isinstance(data, str) else data
    stripped = raw.lstrip()
    if stripped.startswith((b"{", b"[")):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "infinity" not in str(exc):  # the one valid JSON orjson refuses: a number past a double
                raise OpenAPIError("#", f"{location} is not valid JSON: {exc}") from None
        try:
            return json.loads(raw, parse_int=integer, parse_constant=_not_json)
        except (ValueError, RecursionError) as exc:
            raise OpenAPIError("#", f"{location} is not valid JSON: {exc}") from None
    from mcpkit_openapi.yaml12 import parse_yaml  # PyYAML only for documents that need it

    return parse_yaml(raw, location)


def integer(text: str) -> int | float:
    """The decimal integer ``text`` as orjson reads it: exactly within 64 bits, else the nearest double
    (``int`` would refuse past 4300 digits), so that every form of a document reads alike."""
    if len(text.lstrip("+-0")) <= 20:
        value = int(text)
        if -(2**63) <= value < 2**64:
            return value
    return float(text)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def load_document(spec: Any, *, timeout: float = 30.0) -> tuple[Mapping[str, Any], str | None]:
    """The document and where it came from (a path or URL, ``None`` for a mapping).

    ``spec`` is a mapping (used as is, never modified), a path (``str`` or ``os.PathLike``), an
    ``http(s)://`` URL (fetched), or the document text itself (JSON or YAML, several lines).
    """
    if isinstance(spec, dict):
        return spec, None
    if isinstance(spec, Mapping):
        return _plain(spec), None
    if isinstance(spec, bytes):
        return _require_mapping(parse_text(spec, "the document"), "the document"), None
    if isinstance(spec, str) and spec.startswith(("http://", "https://")) and "\n" not in spec:
        return _require_mapping(parse_text(_fetch(spec, timeout), spec), spec), spec
    if isinstance(spec, str) and "\n" in spec:
        return _require_mapping(parse_text(spec, "the document text"), "the document text"), None
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise OpenAPIError(
                "#", f"cannot read the document {str(path)!r}: {exc.strerror or exc}"
            ) from None
        return _require_mapping(parse_text(data, str(path)), str(path)), str(path)
    raise TypeError(
        f"openapi_spec must be a mapping, a path, a URL or the document text, not {type(spec).__name__}"
    )


def _fetch(url: str, timeout: float) -> bytes:
    """The document at ``url``: at most :data:`MAX_DOCUMENT_BYTES`, within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_DOCUMENT_BYTES:
                    raise OpenAPIError(
                        "#", f"the document at {url} is larger than {MAX_DOCUMENT_BYTES:,} bytes"
                    )
                if time.monotonic() > deadline:
                    raise OpenAPIError("#", f"fetching the document from {url} took more than {timeout:g} s")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise OpenAPIError("#", f"cannot fetch the document from {url}: {exc}") from None
    return b"".join(chunks)


def _plain(node: Any, where: tuple[Any, ...] = ()) -> Any:
    """A copy of ``node`` made of dicts and lists, as parsers expect (JSON and YAML loaders give these)."""
    if isinstance(node, (Mapping, list, tuple)) and len(where) >= MAX_DEPTH:
        raise OpenAPIError(pointer(*where), f"the document nests more than {MAX_DEPTH} levels deep")
    if isinstance(node, Mapping):
        return {key: _plain(value, (*where, key)) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(value, (*where, index)) for index, value in enumerate(node)]
    return node


def _require_mapping(document: Any, location: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise OpenAPIError("#", f"{location} must be a JSON/YAML object, not {type(document).__name__}")
    return document

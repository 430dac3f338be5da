"""Reading documents: a mapping, a file path, a URL, or the text itself; JSON or YAML."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

from mcpkit_openapi.errors import OpenAPIError


class _Loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """Safe YAML loading where mapping keys are kept as text (``200:`` is the response code ``"200"``)."""


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    return {
        _key(loader.construct_object(key, deep=True)): loader.construct_object(value, deep=True)
        for key, value in node.value
    }


def _key(key: Any) -> Any:
    if isinstance(key, bool) or not isinstance(key, (int, float)):
        return key
    return str(key)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_text(data: bytes | str, location: str) -> Any:
    """Parse JSON or YAML text; errors name ``location`` and the line."""
    raw = data.encode() if isinstance(data, str) else data
    stripped = raw.lstrip()
    if stripped.startswith((b"{", b"[")):
        try:
            return orjson.loads(raw)
        except ValueError as exc:
            raise OpenAPIError("#", f"{location} is not valid JSON: {exc}") from None
    try:
        return yaml.load(raw, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise OpenAPIError("#", f"{location} is not valid YAML or JSON: {exc}") from None


def load_document(spec: Any, *, timeout: float = 30.0) -> tuple[Mapping[str, Any], str | None]:
    """The document and where it came from (a path or URL, ``None`` for a mapping).

    ``spec`` is a mapping (used as is, never modified), a path (``str`` or ``os.PathLike``), an
    ``http(s)://`` URL (fetched), or the document text itself (JSON or YAML, several lines).
    """
    if isinstance(spec, Mapping):
        return _require_mapping(spec, "the document"), None
    if isinstance(spec, bytes):
        return _require_mapping(parse_text(spec, "the document"), "the document"), None
    if isinstance(spec, str) and spec.startswith(("http://", "https://")) and "\n" not in spec:
        try:
            response = httpx.get(spec, timeout=timeout, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise OpenAPIError("#", f"cannot fetch the document from {spec}: {exc}") from None
        return _require_mapping(parse_text(response.content, spec), spec), spec
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


def _require_mapping(document: Any, location: str) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise OpenAPIError("#", f"{location} must be a JSON/YAML object, not {type(document).__name__}")
    return document

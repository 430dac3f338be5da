"""OpenAPI parsers: documents in, :class:`~mcpkit_openapi.model.ParsedDocument` out.

Two ship with the plugin, registered through ``mcpkit_register_openapi_parsers``:

- ``legacy`` (the default) validates the whole document into typed models first, so a broken
  document gets every problem reported with its JSON pointer, and converts every schema eagerly;
- ``experimental`` (``MCPKIT_EXPERIMENTAL_ENABLE_NEW_OPENAPI_PARSER=true``) reads the raw mapping
  lazily: ``$ref`` are resolved on demand and only the schemas operations use are converted, which is
  what makes it fast on huge documents.

Both produce the same operations for the same (valid) document. A third-party parser implements
:class:`Parser` and registers itself under a new name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from mcpkit_openapi.model import ParsedDocument


class Parser(Protocol):
    """Parses one OpenAPI document (3.0, 3.1 or Swagger 2.0, already loaded into a mapping)."""

    def parse(self, document: Mapping[str, Any]) -> ParsedDocument:
        """The operations of ``document``. Raises :class:`~mcpkit_openapi.errors.OpenAPIError` when the
        document as a whole cannot be understood; an operation that cannot be converted is listed in
        ``ParsedDocument.skipped`` instead."""
        ...

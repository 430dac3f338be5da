"""Errors and warnings of OpenAPI conversion. Every one names a place in the document (a JSON pointer)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mcpkit import MCPKitError

logger = logging.getLogger("mcpkit_openapi")


class OpenAPIError(MCPKitError, ValueError):
    """A document that cannot be understood; ``pointer`` says where (``#/paths/~1pets/get``)."""

    def __init__(self, pointer: str, reason: str) -> None:
        self.pointer = pointer
        self.reason = reason
        super().__init__(f"{pointer or '#'}: {reason}")


@dataclass(frozen=True, slots=True)
class ConversionWarning:
    """Something tolerated or left out while converting; ``pointer`` says where."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.message}"


def pointer(*parts: str | int) -> str:
    """A JSON pointer (``#/a/b``) to ``parts``, escaping ``~`` and ``/``."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#/" + "/".join(escaped) if parts else "#"

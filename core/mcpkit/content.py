"""Content blocks a tool or prompt returns: text, images, audio, files, resources and raw bytes.

A tool may return any protocol content block (``mcp_types.TextContent``, ``ImageContent``,
``AudioContent``, ``ResourceLink``, ``EmbeddedResource``), one of the helpers here (:class:`Image`,
:class:`Audio`, :class:`File`), ``bytes``, or a list mixing these with plain strings; such results
are sent as content, not as structured data. Files named by path are read when the result is sent,
in a worker thread, and refused past :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import anyio
import mcp_types as types

BYTES_MIME_TYPE = "application/octet-stream"
"""The MIME type of ``bytes`` returned by a tool (or a :class:`File` whose type cannot be guessed)."""

MAX_FILE_BYTES = 50 * 1024 * 1024
"""Bytes of a file read at most for one :class:`Image`, :class:`Audio` or :class:`File`."""

CONTENT_BLOCK_TYPES: tuple[type, ...] = (
    types.TextContent,
    types.ImageContent,
    types.AudioContent,
    types.ResourceLink,
    types.EmbeddedResource,
)


@dataclass(frozen=True)
class _Media:
    """Bytes given directly (``data``) or read from ``path`` when sent; ``format`` is a file extension
    (``"png"``) or a full MIME type (``"image/png"``); without it the path's extension decides."""

    path: str | Path | None = None
    data: bytes | None = None
    format: str | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise TypeError(f"{type(self).__name__} takes exactly one of path= or data=")

    def mime_type(self, default: str) -> str:
        """The MIME type: ``format``, else guessed from the path, else ``default``."""
        if self.format:
            return self.format if "/" in self.format else f"{default.split('/')[0]}/{self.format.lower()}"
        if self.path is not None:
            guessed, _ = mimetypes.guess_type(str(self.path))
            if guessed:
                return guessed
        return default

    async def read(self) -> bytes:
        """The bytes (a path is read in a worker thread, at most :data:`MAX_FILE_BYTES`)."""
        if self.data is not None:
            return self.data
        path = anyio.Path(str(self.path))
        size = (await path.stat()).st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"{self.path} is {size:,} bytes, more than the {MAX_FILE_BYTES:,} sent at most")
        return await path.read_bytes()


class Image(_Media):
    """An image to return: ``Image(path="chart.png")`` or ``Image(data=png_bytes, format="png")``."""

    async def to_content(self) -> types.ImageContent:
        """The image as a protocol content block."""
        data = base64.b64encode(await self.read()).decode("ascii")
        return types.ImageContent(type="image", data=data, mime_type=self.mime_type("image/png"))


class Audio(_Media):
    """A sound to return: ``Audio(path="hello.wav")`` or ``Audio(data=wav_bytes, format="wav")``."""

    async def to_content(self) -> types.AudioContent:
        """The audio as a protocol content block."""
        data = base64.b64encode(await self.read()).decode("ascii")
        return types.AudioContent(type="audio", data=data, mime_type=self.mime_type("audio/wav"))


@dataclass(frozen=True)
class File(_Media):
    """A file to return, embedded as a resource: ``File(path="report.pdf")`` or
    ``File(data=b"...", name="report.csv", format="text/csv")``. Text types are sent as text."""

    name: str | None = None

    async def to_content(self) -> types.EmbeddedResource:
        """The file as an embedded resource (``file:///<name>``)."""
        data = await self.read()
        name = self.name or (Path(self.path).name if self.path is not None else "file")
        mime_type = self.mime_type(BYTES_MIME_TYPE)
        uri = f"file:///{name}"
        if mime_type.startswith("text/") or mime_type in ("application/json", "application/xml"):
            try:
                text = data.decode()
            except UnicodeDecodeError:
                pass
            else:
                contents = types.TextResourceContents(uri=uri, text=text, mime_type=mime_type)
                return types.EmbeddedResource(type="resource", resource=contents)
        blob = types.BlobResourceContents(
            uri=uri, blob=base64.b64encode(data).decode("ascii"), mime_type=mime_type
        )
        return types.EmbeddedResource(type="resource", resource=blob)


MEDIA_TYPES: tuple[type, ...] = (Image, Audio, File)


def is_content(value: object) -> bool:
    """Whether a tool's return value is content (blocks, media, bytes, or a list holding some)."""
    if isinstance(value, (bytes, *CONTENT_BLOCK_TYPES, *MEDIA_TYPES)):
        return True
    if isinstance(value, (list, tuple)) and value:
        kinds = (str, bytes, *CONTENT_BLOCK_TYPES, *MEDIA_TYPES)
        return all(isinstance(item, kinds) for item in value) and not all(isinstance(i, str) for i in value)
    return False


def is_content_annotation(annotation: Any) -> bool:
    """Whether a return annotation names content (so the tool gets no output schema)."""
    content_classes = (bytes, *CONTENT_BLOCK_TYPES, *MEDIA_TYPES)
    if isinstance(annotation, type):
        return issubclass(annotation, content_classes)
    origin = get_origin(annotation)
    arguments = [a for a in get_args(annotation) if a is not type(None)]
    if origin not in (list, tuple, Sequence, Union, UnionType) or not arguments:
        return False
    parts = [a for a in arguments if a is not Ellipsis]
    return all(a is str or is_content_annotation(a) for a in parts) and any(
        is_content_annotation(a) for a in parts
    )


async def to_content_blocks(value: Any, *, uri: str = "mcpkit://result") -> list[types.ContentBlock]:
    """``value`` (content, a helper, bytes, text, or a list of these) as protocol content blocks.

    ``bytes`` become an embedded blob resource at ``uri`` of type :data:`BYTES_MIME_TYPE`.
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    blocks: list[types.ContentBlock] = []
    for item in items:
        if isinstance(item, (Image, Audio, File)):
            blocks.append(await item.to_content())
        elif isinstance(item, CONTENT_BLOCK_TYPES):
            blocks.append(item)  # type: ignore[arg-type]  # the tuple holds exactly the block types
        elif isinstance(item, bytes):
            blob = types.BlobResourceContents(
                uri=uri, blob=base64.b64encode(item).decode("ascii"), mime_type=BYTES_MIME_TYPE
            )
            blocks.append(types.EmbeddedResource(type="resource", resource=blob))
        elif isinstance(item, str):
            blocks.append(types.TextContent(type="text", text=item))
        else:
            raise TypeError(f"cannot send {type(item).__name__} as content")
    return blocks

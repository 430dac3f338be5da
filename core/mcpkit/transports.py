"""Transports: how a server is served. One method to implement, like httpx's transports.

Transports are registered by plugins through ``mcpkit_register_transports``; the kernel ships
``stdio``. The ``mcpkit-http`` plugin adds ``http`` (Streamable HTTP) and ``sse``.
"""

from __future__ import annotations

import logging
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, cast

import anyio
import anyio.to_thread
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, ErrorData, JSONRPCError

if TYPE_CHECKING:
    from mcp.shared._context_streams import ContextSendStream
    from starlette.types import ASGIApp

    from mcpkit.server import MCPKit

logger = logging.getLogger(__name__)

_READ_SIZE = 64 * 1024


class Transport(ABC):
    """Serves an :class:`~mcpkit.MCPKit` server. Options are constructor keyword arguments."""

    @abstractmethod
    async def serve(self, server: MCPKit) -> None:
        """Serve ``server`` until the transport closes or the task is cancelled."""


class ASGITransport(Transport):
    """A transport that can also hand out its ASGI application, for mounting in a web app.

    ASGI transports take the URL ``path`` the MCP endpoint is served at.
    """

    def __init__(self, *, path: str = "/mcp") -> None:
        self.path = path

    @abstractmethod
    def app(self, server: MCPKit) -> ASGIApp:
        """An ASGI application serving ``server``; it must carry a ``lifespan`` to be run by the host."""


class StdioTransport(Transport):
    """Serves one client over the process's standard input and output (what desktop clients launch).

    Each message is one line of standard input, of at most ``MCPKIT_STDIO_MAX_LINE_BYTES`` bytes
    (4 MiB by default); a longer line is never held whole: the server answers a JSON-RPC error
    (``id`` null) naming the limit and ends the session.
    """

    def __init__(self, **options: Any) -> None:
        if options:
            raise TypeError(f"the stdio transport takes no options, got: {', '.join(sorted(options))}")

    async def serve(self, server: MCPKit) -> None:
        """Serve until standard input closes (or sends a line over the limit)."""
        lowlevel = server.lowlevel_server
        with _claimed_stdin() as stdin:
            lines = BoundedLines(stdin, server.settings.stdio_max_line_bytes)
            # The SDK claims standard output as for its own reader (stray prints go to stderr).
            async with stdio_server(stdin=cast("anyio.AsyncFile[str]", lines)) as (read_stream, write_stream):
                lines.answer_on(write_stream)
                await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


class BoundedLines:
    """The lines of a binary stream as text, each at most ``limit`` bytes (without its newline).

    A longer line ends the lines: it is answered with a JSON-RPC error on the stream given to
    :meth:`answer_on` and read no further, so at most ``limit`` bytes and one read are buffered.
    """

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._answers: ContextSendStream[SessionMessage] | None = None
        self._ready = anyio.Event()

    def answer_on(self, write_stream: ContextSendStream[SessionMessage]) -> None:
        """Where to send the error refusing a line over the limit."""
        self._answers = write_stream
        self._ready.set()

    async def __aiter__(self) -> AsyncIterator[str]:
        buffer = bytearray()
        while True:
            chunk = await anyio.to_thread.run_sync(_read_some, self._stream, abandon_on_cancel=True)
            if not chunk:
                if buffer.strip():
                    yield buffer.decode("utf-8", errors="replace")
                return
            buffer += chunk
            start = 0
            end = buffer.find(b"\n", len(buffer) - len(chunk))  # what was buffered holds no newline
            while end >= 0 and end - start <= self._limit:
                yield buffer[start:end].decode("utf-8", errors="replace")
                start = end + 1
                end = buffer.find(b"\n", start)
            del buffer[:start]
            if end >= 0 or len(buffer) > self._limit:  # a whole line, or the start of one, too long
                await self._refuse()
                return

    async def _refuse(self) -> None:
        message = (
            f"a message is longer than {self._limit:,} bytes, the most one line of standard input may "
            "carry (MCPKIT_STDIO_MAX_LINE_BYTES); the server ends the session"
        )
        logger.error("%s", message)
        await self._ready.wait()
        assert self._answers is not None
        error = ErrorData(code=INVALID_REQUEST, message=message)
        await self._answers.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error)))


def _read_some(stream: IO[bytes]) -> bytes:
    """At most one read's worth of bytes (``b""`` at the end of the stream)."""
    read1 = getattr(stream, "read1", None)
    return bytes(read1(_READ_SIZE) if read1 is not None else stream.read(_READ_SIZE))


@contextmanager
def _claimed_stdin() -> Iterator[IO[bytes]]:
    """Standard input's bytes, for the server alone: while serving, file descriptor 0 reads the null
    device (as with the SDK's own reader), so tools and their child processes cannot take messages.

    The private copy of the descriptor is never closed: a worker thread may still be blocked
    reading it after the server stops.
    """
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by an object without a descriptor
        yield sys.stdin.buffer
        return
    private = os.dup(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, fd)
    os.close(null)
    try:
        yield os.fdopen(private, "rb", closefd=False)
    finally:
        os.dup2(private, fd)

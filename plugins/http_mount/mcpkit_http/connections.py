"""Bounds on the connections uvicorn serves for ``mcp.run``: a deadline for each request head, and a
cap on open connections that sheds the ones waiting on their client first.

uvicorn closes a connection only while it idles after a response (``timeout_keep_alive``): one that
never completes its first request head, or that sends a byte of the next one and stops, stays open
for ever, and enough of them exhaust the process's file descriptors. Here every connection must
send a whole request head within ``header_timeout`` seconds of opening or of its previous response
(else it gets 408, or is just closed if it sent nothing), and at most ``max_connections`` are open:
a new one beyond it closes the connection that has waited longest for its client (a request head or
body not yet complete), or, when every connection is busy with a request, is answered 503 and closed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import ClassVar

from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 1000

_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_TOO_MANY = b"too many connections, retry later"
_UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nretry-after: 1\r\nconnection: close\r\n\r\n%s" % (len(_TOO_MANY), _TOO_MANY)
)


def connection_cap(max_connections: int | None) -> int | None:
    """``max_connections``, lowered to half the files this process may open (the other half stays
    for the API calls and the server itself); ``None`` (no cap) stays ``None``."""
    if max_connections is None:
        return None
    try:
        import resource
    except ImportError:  # not on this platform (Windows): no file limit to stay under
        return max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or max_connections <= soft // 2:
        return max_connections
    cap = max(1, soft // 2)
    logger.info(
        "serving at most %d connections at once, not %d: the process may open %d files (ulimit -n)",
        cap,
        max_connections,
        soft,
    )
    return cap


class ConnectionLimits:
    """The limits of one served uvicorn server, and its connections still waiting on their client."""

    def __init__(self, *, header_timeout: float | None, max_connections: int | None) -> None:
        self.header_timeout = header_timeout
        self.max_connections = max_connections
        self._open: set[LimitedH11Protocol] = set()
        self._waiting: dict[LimitedH11Protocol, None] = {}  # oldest first
        self._refusing = False

    def protocol_class(self) -> type[H11Protocol]:
        """uvicorn's h11 protocol (``uvicorn.Config(http=...)``) enforcing these limits."""
        owner = self

        class Limited(LimitedH11Protocol):
            limits = owner

        return Limited

    def admit(self, connection: LimitedH11Protocol) -> bool:
        """Count ``connection`` in, shedding the longest-waiting one at the cap; ``False`` if full."""
        if self.max_connections is not None and len(self._open) >= self.max_connections:
            if not self._waiting:
                if not self._refusing:
                    logger.warning(
                        "%d connections are busy, the most allowed (max_connections): refusing new ones",
                        len(self._open),
                    )
                    self._refusing = True
                return False
            self.release(next(iter(self._waiting))).shed()
        self._open.add(connection)
        return True

    def release(self, connection: LimitedH11Protocol) -> LimitedH11Protocol:
        """Count ``connection`` out (closed, or about to be)."""
        self._open.discard(connection)
        self._waiting.pop(connection, None)
        if self.max_connections is not None and len(self._open) < self.max_connections:
            self._refusing = False
        return connection

    def waiting(self, connection: LimitedH11Protocol, waiting: bool) -> None:
        """Whether ``connection`` now waits on its client (for a request head or body)."""
        if not waiting:
            self._waiting.pop(connection, None)
        elif connection in self._open and connection not in self._waiting:
            self._waiting[connection] = None


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for request heads and a cap on connections."""

    limits: ClassVar[ConnectionLimits]
    _head_timer: asyncio.TimerHandle | None = None
    _awaiting_head = False
    _head_started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Admit the connection and start waiting for its first request head, or refuse it (503)."""
        super().connection_made(transport)
        if not self.limits.admit(self):
            transport.write(_UNAVAILABLE)
            transport.close()
            return
        self._await_head()

    def data_received(self, data: bytes) -> None:
        """Read as uvicorn does; the deadline ends with a request head, the wait on the client with
        its body."""
        cycle = self.cycle
        self._head_started = self._awaiting_head
        super().data_received(data)
        if self.transport.get_protocol() is not self:  # upgraded (a WebSocket): no longer ours
            self._stop_head_timer()
            self.limits.release(self)
            return
        if self.cycle is not cycle:
            self._awaiting_head = False
            self._stop_head_timer()
        if not self._awaiting_head:
            self.limits.waiting(self, self.cycle.more_body)

    def on_response_complete(self) -> None:
        """As uvicorn does; then wait for the next request head, unless one was already buffered."""
        cycle = self.cycle
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.cycle is cycle:
            self._await_head()
        else:
            self.limits.waiting(self, self.cycle.more_body)

    def connection_lost(self, exc: Exception | None) -> None:
        """Count the connection out and stop its deadline."""
        self._stop_head_timer()
        self.limits.release(self)
        super().connection_lost(exc)

    def shed(self) -> None:
        """Close the connection to make room for a new one (it was waiting on its client)."""
        self._stop_head_timer()
        self.transport.close()

    def _await_head(self) -> None:
        self._awaiting_head = True
        self.limits.waiting(self, True)
        if self.limits.header_timeout is not None:
            self._stop_head_timer()
            self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self.limits.release(self)
        if not self.transport.is_closing():
            if self._head_started:
                self.transport.write(_REQUEST_TIMEOUT)
            self.transport.close()

"""An error-handling layer: unexpected exceptions become clean protocol errors, logged and counted.

``ErrorHandling()`` placed first (outermost) catches any exception other than a protocol error
(``MCPError``) that escapes the middleware inside it or the server: it is logged with its traceback,
the request's id and an error id of its own, counted in :attr:`ErrorHandling.errors` (by method and
exception type), and the client gets ``-32603`` "internal error" naming the error id, never the
exception's text (which may hold secrets). Protocol errors pass through unchanged, counted too.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from typing import Any

from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR

from mcpkit.middleware import CallNext, Middleware, Request

LOGGER_NAME = "mcpkit.errors"
"""The logger unexpected exceptions are logged to by default."""


class ErrorHandling(Middleware):
    """Turns unexpected exceptions into clean protocol errors (see the module docstring)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger(LOGGER_NAME)
        self.errors: Counter[tuple[str, str]] = Counter()
        """Errors seen, by ``(method, kind)``: the exception's type name, or ``MCPError <code>``."""

    async def on_request(self, request: Request, call_next: CallNext) -> Any:
        """Run the rest; log, count and replace what it raises unexpectedly."""
        try:
            return await call_next()
        except MCPError as exc:
            self.errors[(request.method, f"MCPError {exc.error.code}")] += 1
            raise
        except Exception as exc:
            self.errors[(request.method, type(exc).__name__)] += 1
            error_id = uuid.uuid4().hex[:12]
            self.logger.exception(
                "%s failed unexpectedly (request %s, error %s)",
                request.method,
                request.context.request_id,
                error_id,
                extra={"mcp": {"method": request.method, "request_id": request.context.request_id}},
            )
            raise MCPError(
                code=INTERNAL_ERROR,
                message=f"internal error while handling {request.method} (error id {error_id})",
                data={"errorId": error_id},
            ) from None

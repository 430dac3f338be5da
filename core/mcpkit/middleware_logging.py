"""Structured logging and timing: one log record per request.

``RequestLogging()`` logs each request when it is answered: ``tools/call add ok 1.2 ms``. The
record's ``mcp`` attribute holds the fields for structured handlers (JSON logs): ``method``,
``target`` (the tool, prompt, resource URI or completion reference), ``outcome`` (``ok``,
``tool_error``: an error result, ``error``: a protocol error, with its ``code``, or ``exception``),
``duration_ms``, ``request_id``, ``client`` (see :func:`mcpkit.identity.client_identity`) and
``server``. Argument values can hold secrets, so they are logged only with
``include_arguments=True``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from mcp.shared.exceptions import MCPError

from mcpkit.identity import client_identity
from mcpkit.middleware import CallNext, Middleware, Request

LOGGER_NAME = "mcpkit.requests"
"""The logger requests are logged to by default."""

MAX_TARGET_CHARS = 200
"""Characters of a request's target in a log message at most (the record's ``mcp`` has it whole)."""


def request_target(request: Request) -> str | None:
    """What ``request`` is about: the tool or prompt name, the resource URI or the completion's
    reference; ``None`` for listings."""
    params = request.params
    if request.method in ("tools/call", "prompts/get"):
        target = params.get("name")
    elif request.method == "resources/read":
        target = params.get("uri")
    elif request.method == "completion/complete":
        ref = params.get("ref")
        target = (ref.get("name") or ref.get("uri")) if isinstance(ref, dict) else None
    else:
        target = None
    return target if isinstance(target, str) else None


class RequestLogging(Middleware):
    """Logs one record per request, with its duration and outcome (see the module docstring)."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.INFO,
        include_arguments: bool = False,
    ) -> None:
        self.logger = logger if logger is not None else logging.getLogger(LOGGER_NAME)
        self.level = level
        self.include_arguments = include_arguments

    async def on_request(self, request: Request, call_next: CallNext) -> Any:
        """Time the request and log how it ended."""
        if not self.logger.isEnabledFor(logging.ERROR):
            return await call_next()
        started = time.perf_counter()
        fields: dict[str, Any] = {
            "method": request.method,
            "target": request_target(request),
            "outcome": "cancelled",
        }
        if self.include_arguments and request.method in ("tools/call", "prompts/get"):
            fields["arguments"] = dict(request.arguments)
        level = self.level
        try:
            result = await call_next()
        except MCPError as exc:
            fields.update(outcome="error", code=exc.error.code)
            level = max(level, logging.WARNING)
            raise
        except Exception as exc:
            fields.update(outcome="exception", exception=type(exc).__name__)
            level = logging.ERROR
            raise
        else:
            error = isinstance(result, dict) and result.get("isError") is True
            fields["outcome"] = "tool_error" if error else "ok"
            return result
        finally:
            fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self._log(level, request, fields)

    def _log(self, level: int, request: Request, fields: dict[str, Any]) -> None:
        if not self.logger.isEnabledFor(level):
            return
        fields.update(
            request_id=request.context.request_id,
            client=client_identity(request.context),
            server=request.context.server.name,
        )
        target = "" if fields["target"] is None else " " + _printable(fields["target"])
        self.logger.log(
            level,
            "%s%s %s %.1f ms",
            fields["method"],
            target,
            fields["outcome"],
            fields["duration_ms"],
            extra={"mcp": fields},
        )


def _printable(text: str) -> str:
    """``text`` on one line, control characters escaped (a client cannot forge log lines), and cut."""
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    return escaped if len(escaped) <= MAX_TARGET_CHARS else escaped[:MAX_TARGET_CHARS] + "..."

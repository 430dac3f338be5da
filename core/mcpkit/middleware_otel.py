"""OpenTelemetry: a span per tool call, resource read and prompt, through ``opentelemetry-api``.

``Tracing()`` opens a span ``tool <name>`` around each ``tools/call`` (``resource``/``prompt`` for
``resources/read`` and ``prompts/get``) with the server's name, the method, the target and the
outcome: an error result, a protocol error or an exception sets the span's status to error (and
``error.type``). The MCP SDK already opens a span per message it serves; mcpkit's span is its child,
so a trace shows both. Without an OpenTelemetry SDK installed and configured, the API's tracer does
nothing (and costs next to nothing).
"""

from __future__ import annotations

from typing import Any

from mcp.shared.exceptions import MCPError
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, TracerProvider

from mcpkit.middleware import CallNext, Middleware, Request
from mcpkit.middleware_logging import MAX_TARGET_CHARS, request_target

TRACER_NAME = "mcpkit"

_KINDS = {"tools/call": "tool", "resources/read": "resource", "prompts/get": "prompt"}


class Tracing(Middleware):
    """A span around each tool call, resource read and prompt (see the module docstring);
    ``tracer_provider`` defaults to the global one."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer(TRACER_NAME, tracer_provider=tracer_provider)

    async def on_request(self, request: Request, call_next: CallNext) -> Any:
        """Run the rest inside a span, if the request is a call."""
        kind = _KINDS.get(request.method)
        if kind is None:
            return await call_next()
        target = (request_target(request) or "")[:MAX_TARGET_CHARS]
        attributes = {
            "mcp.method.name": request.method,
            "mcpkit.server": request.context.server.name,
            f"mcpkit.{kind}": target,
        }
        if kind == "tool":
            attributes["gen_ai.tool.name"] = target
        with self.tracer.start_as_current_span(
            f"{kind} {target}",
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = await call_next()
            except MCPError as exc:
                span.set_attribute("error.type", str(exc.error.code))
                span.set_status(StatusCode.ERROR, exc.error.message)
                raise
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.record_exception(exc)
                span.set_status(StatusCode.ERROR)
                raise
            if isinstance(result, dict) and result.get("isError") is True:
                span.set_attribute("error.type", "tool_error")
                span.set_status(StatusCode.ERROR)
            return result

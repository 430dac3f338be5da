"""Completions: suggested values for prompt arguments and resource-template variables.

Each argument may have a completer (``completions={"language": [...]}`` on ``@mcp.prompt`` or
``@mcp.resource``): a list of values, offered when they start with what was typed (ignoring case),
or a function ``(typed, arguments) -> values`` (sync or async; ``arguments`` holds the other
arguments the client has filled in). Parameters annotated with a ``Literal`` or an ``Enum`` complete
by themselves, and generated components complete parameters with an ``enum`` in the API's document.
At most :data:`MAX_VALUES` values are returned; ``hasMore`` says when there were more.
"""

from __future__ import annotations

import enum
import inspect
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, get_args, get_origin

import anyio.to_thread
import mcp_types as types
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from mcpkit.components import Completer

logger = logging.getLogger(__name__)

MAX_VALUES = 100
"""Values one completion returns at most (the protocol's limit)."""

MAX_TYPED_CHARS = 1000
"""Characters of a partial value considered at most."""


def choices_of(annotation: Any) -> list[str] | None:
    """The values of a ``Literal`` or ``Enum`` annotation as text, else ``None``."""
    if get_origin(annotation) is Literal:
        return [str(value) for value in get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    return None


def completers_for(
    annotations: Mapping[str, Any], given: Mapping[str, Completer] | None, what: str
) -> dict[str, Completer]:
    """The completers of a component's arguments: those ``given``, else their ``Literal``/``Enum``
    choices. A completer for an argument the component does not have is an error."""
    unknown = sorted(set(given or {}) - set(annotations))
    if unknown:
        raise TypeError(f"{what}: completions= names {', '.join(map(repr, unknown))}, which it does not take")
    completers: dict[str, Completer] = {}
    for name, annotation in annotations.items():
        choices = choices_of(annotation)
        if given and name in given:
            completers[name] = _checked(given[name], what, name)
        elif choices:
            completers[name] = choices
    return completers


def _checked(completer: Any, what: str, name: str) -> Completer:
    if isinstance(completer, str) or not (callable(completer) or isinstance(completer, Sequence)):
        raise TypeError(f"{what}: the completer of {name!r} must be a list of values or a function")
    if not callable(completer):
        return [str(value) for value in completer]
    checked: Completer = completer
    return checked


async def complete(
    completers: Mapping[str, Completer], argument: str, typed: str, arguments: Mapping[str, str]
) -> types.Completion:
    """The completion of ``argument`` from what was ``typed`` (no completer: no values)."""
    completer = completers.get(argument)
    if completer is None:
        return types.Completion(values=[], total=0, has_more=False)
    typed = typed[:MAX_TYPED_CHARS]
    if callable(completer):
        values = _text_values(await _call(completer, typed, arguments))
        more = len(values) > MAX_VALUES
        return types.Completion(
            values=values[:MAX_VALUES], total=None if more else len(values), has_more=more
        )
    lowered = typed.lower()
    values = [value for value in completer if value.lower().startswith(lowered)]
    return types.Completion(values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES)


async def _call(completer: Any, typed: str, arguments: Mapping[str, str]) -> Any:
    if inspect.iscoroutinefunction(inspect.unwrap(completer)):
        return await completer(typed, arguments)
    return await anyio.to_thread.run_sync(completer, typed, arguments)


def _text_values(values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise MCPError(code=INVALID_PARAMS, message="a completer must return a list of values")
    found: list[str] = []
    for value in values:
        found.append(str(value))
        if len(found) > MAX_VALUES:  # one more than is sent: enough to know there are more
            break
    return found


def reference_of(params: types.CompleteRequestParams) -> tuple[str, str]:
    """``("prompt", name)`` or ``("template", uri template)`` for a completion request."""
    ref = params.ref
    if isinstance(ref, types.PromptReference):
        return "prompt", ref.name
    return "template", ref.uri

"""Prompts: message templates a client offers its user (``prompts/list``, ``prompts/get``).

``@mcp.prompt`` turns a function into a prompt. Its parameters are the prompt's arguments (a
``Context`` parameter aside): required when they have no default, described by
``Annotated[str, Field(description=...)]``. Clients send arguments as text; a parameter of another
type is read from that text (``"3"`` for an ``int``, JSON for lists and objects). The function (sync
or async) returns text (one user message), a :class:`Message`, content (a block, :class:`Image`, ...),
or a list of these; a ``mcp_types.PromptMessage`` or ``GetPromptResult`` passes through.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import mcp_types as types
import pydantic
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from mcpkit.components import Completer
from mcpkit.content import is_content, to_content_blocks
from mcpkit.functions import AnyFunction, Signature

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Message:
    """One message of a prompt: ``Message("Review this code")`` or ``Message(Image(...), role=...)``.

    ``content`` is text, a content block, or an :class:`~mcpkit.Image`/``Audio``/``File``.
    """

    content: Any
    role: Role = "user"


PromptFn = Callable[[dict[str, str]], Awaitable[Any]]
"""A prompt's function: receives the arguments (text, checked against the declared ones) and returns
what :func:`render` accepts."""


@dataclass(eq=False)
class Prompt:
    """A prompt: a name, the arguments it takes, and an async function rendering its messages."""

    name: str
    fn: PromptFn
    arguments: tuple[types.PromptArgument, ...] = ()
    description: str | None = None
    title: str | None = None
    tags: frozenset[str] = frozenset()
    icons: list[types.Icon] | None = None
    meta: dict[str, Any] | None = None
    completions: Mapping[str, Completer] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    """OAuth scopes a caller's token must hold to see and get the prompt."""

    def to_mcp(self) -> types.Prompt:
        """The prompt as the protocol lists it."""
        return types.Prompt(
            name=self.name,
            title=self.title,
            description=self.description,
            arguments=list(self.arguments) or None,
            icons=self.icons,
            _meta=self.meta,
        )

    def check(self, arguments: Mapping[str, Any] | None) -> dict[str, str]:
        """``arguments`` if they are text and include every required one; a protocol error otherwise."""
        given = dict(arguments or {})
        known = {argument.name for argument in self.arguments}
        problems = [f"unknown argument {name!r}" for name in given if name not in known]
        problems += [f"argument {name!r} must be text" for name, v in given.items() if not isinstance(v, str)]
        problems += [
            f"missing required argument {argument.name!r}"
            for argument in self.arguments
            if argument.required and argument.name not in given
        ]
        if problems:
            raise MCPError(code=INVALID_PARAMS, message=f"prompt {self.name!r}: " + "; ".join(problems))
        return given

    async def render(self, arguments: Mapping[str, Any] | None) -> types.GetPromptResult:
        """The prompt's messages for ``arguments`` (checked first)."""
        value = await self.fn(self.check(arguments))
        if isinstance(value, types.GetPromptResult):
            return value
        return types.GetPromptResult(description=self.description, messages=await render(value))


async def render(value: Any) -> list[types.PromptMessage]:
    """What a prompt function returned, as protocol messages (text and content are the user's)."""
    items = value if isinstance(value, (list, tuple)) and not is_content(value) else [value]
    messages: list[types.PromptMessage] = []
    for item in items:
        if isinstance(item, types.PromptMessage):
            messages.append(item)
        elif isinstance(item, Message):
            messages.extend(await _messages(item.content, item.role))
        elif isinstance(item, Mapping):
            messages.append(types.PromptMessage.model_validate(item))
        else:
            messages.extend(await _messages(item, "user"))
    return messages


async def _messages(content: Any, role: Role) -> list[types.PromptMessage]:
    if not isinstance(content, str) and not is_content(content):
        raise TypeError(f"a prompt message holds text or content, not {type(content).__name__}")
    return [types.PromptMessage(role=role, content=block) for block in await to_content_blocks(content)]


def prompt_from_function(
    fn: AnyFunction,
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    tags: frozenset[str] = frozenset(),
    icons: list[types.Icon] | None = None,
    meta: dict[str, Any] | None = None,
    completions: Mapping[str, Completer] | None = None,
) -> Prompt:
    """A :class:`Prompt` calling ``fn``; its arguments come from ``fn``'s signature."""
    from mcpkit.completions import completers_for

    prompt_name = name or fn.__name__
    what = f"prompt {prompt_name!r}"
    signature = Signature(fn, what)
    fields = signature.model.model_fields
    schema = signature.input_schema().get("properties", {})
    arguments = tuple(
        types.PromptArgument(
            name=argument,
            description=_argument_description(schema.get(argument, {}), signature.annotations[argument]),
            required=fields[argument].is_required(),
        )
        for argument in signature.names
    )
    readers = {argument: _reader(signature.annotations[argument]) for argument in signature.names}

    async def run(arguments: dict[str, str]) -> Any:
        try:
            values = {name: readers[name](text) for name, text in arguments.items()}
            return await signature.call(values)
        except pydantic.ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"]) or "(arguments)"
            raise MCPError(
                code=INVALID_PARAMS, message=f"{what}: invalid argument {where}: {error['msg']}"
            ) from None

    return Prompt(
        name=prompt_name,
        fn=run,
        arguments=arguments,
        description=description if description is not None else inspect.getdoc(fn),
        title=title,
        tags=tags,
        icons=icons,
        meta=meta,
        completions=completers_for(signature.annotations, completions, what),
    )


def _argument_description(schema: Mapping[str, Any], annotation: Any) -> str | None:
    """The argument's description; a non-text argument says how to write it."""
    description = schema.get("description")
    if annotation is str or schema.get("type") == "string":
        return description
    kind = schema.get("type") or "JSON"
    hint = f"({kind}, as text)" if kind in ("integer", "number", "boolean") else "(JSON text)"
    return f"{description} {hint}" if description else hint


def _reader(annotation: Any) -> Callable[[str], Any]:
    """How an argument's text becomes its value: as it is for text, parsed for other types."""
    if annotation is str:
        return lambda text: text
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)

    def read(text: str) -> Any:
        try:
            return adapter.validate_json(text)
        except pydantic.ValidationError:
            return text  # validated with the other arguments, which says what is wrong

    return read

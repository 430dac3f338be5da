"""``mcpkit list`` and ``mcpkit call``: reach any server, say what it serves, call one of its tools."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import anyio
import mcp_types as types
from mcp.client.stdio import StdioServerParameters

from mcpkit.cli_errors import CommandError, UsageError, describe
from mcpkit.client import Client, ToolCallResult
from mcpkit.server import MCPKit

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

_TOOL_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
_NAMES_SHOWN = 20


@dataclass(frozen=True)
class Connection:
    """How to reach a server: an ``MCPKit`` (in memory), a URL (Streamable HTTP, or SSE), or a
    command line serving over stdio (run in the current directory, with this environment)."""

    target: MCPKit | str | list[str]
    transport: Literal["http", "sse"] = "http"
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 60.0

    def client(self, **handlers: Any) -> Client:
        """A client of the server (error results are returned, not raised)."""
        target: Any = self.target
        if isinstance(target, list):
            target = StdioServerParameters(
                command=target[0], args=target[1:], env=dict(os.environ), cwd=os.getcwd()
            )
        return Client(
            target,
            transport=self.transport,
            headers=self.headers,
            timeout=self.timeout,
            raise_on_error=False,
            **handlers,
        )

    def describe(self) -> str:
        """The server, for messages (a URL's password left out)."""
        if isinstance(self.target, MCPKit):
            return repr(self.target.name)
        if isinstance(self.target, str):
            parts = urlsplit(self.target)
            if parts.password is None:
                return self.target
            return urlunsplit(
                parts._replace(netloc=f"{parts.username}:***@{parts.netloc.rpartition('@')[2]}")
            )
        return shlex.join(self.target)

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work()`` in an event loop, bounded by the timeout; what fails is a :class:`CommandError`."""

        async def bounded() -> T:
            with anyio.fail_after(self.timeout):
                return await work()

        try:
            return anyio.run(bounded)
        except Exception as exc:
            cause = _first_cause(exc)
            if isinstance(cause, CommandError | UsageError):
                raise cause from None
            if isinstance(cause, TimeoutError):
                raise CommandError(f"{self.describe()} gave no answer within {self.timeout:g} s") from None
            raise CommandError(f"{self.describe()}: {describe(cause)}") from None


def _first_cause(exc: BaseException) -> BaseException:
    """The first error inside exception groups (what went wrong, not the task group that saw it)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


# mcpkit list


@dataclass(frozen=True)
class Listing:
    """What a server serves."""

    server: types.Implementation | None
    tools: list[types.Tool]
    resources: list[types.Resource]
    resource_templates: list[types.ResourceTemplate]
    prompts: list[types.Prompt]

    def as_json(self) -> dict[str, Any]:
        """The listing as ``mcpkit list --json`` prints it: the protocol's objects, by kind."""
        return {
            "server": _dump(self.server) if self.server else None,
            "tools": [_dump(tool) for tool in self.tools],
            "resources": [_dump(resource) for resource in self.resources],
            "resource_templates": [_dump(template) for template in self.resource_templates],
            "prompts": [_dump(prompt) for prompt in self.prompts],
        }


def list_server(connection: Connection, *, json: bool, console: Console) -> None:
    """Print what the server serves: tables, or JSON."""

    async def fetch() -> Listing:
        async with connection.client() as client:
            capabilities = client.server_capabilities
            has_resources = capabilities.resources is not None
            return Listing(
                client.server_info,
                await client.list_tools() if capabilities.tools is not None else [],
                await client.list_resources() if has_resources else [],
                await client.list_resource_templates() if has_resources else [],
                await client.list_prompts() if capabilities.prompts is not None else [],
            )

    listing = connection.run(fetch)
    if json:
        console.print_json(data=listing.as_json())
        return
    _print_listing(listing, console)


def _print_listing(listing: Listing, console: Console) -> None:
    from mcpkit.cli import counted, plain_table

    server = listing.server
    title = " ".join(part for part in (server.name, server.version) if part) if server else "The server"
    counts = [
        counted(len(listing.tools), "tool"),
        counted(len(listing.resources), "resource"),
        counted(len(listing.resource_templates), "resource template"),
        counted(len(listing.prompts), "prompt"),
    ]
    console.print(f"{title}: {', '.join(counts)}", markup=False, soft_wrap=True)
    sections = [
        (
            "Tools",
            ("Name", "Arguments", "Description"),
            [(t.name, _arguments(t.input_schema), _first_line(t.description)) for t in listing.tools],
        ),
        (
            "Resources",
            ("URI", "Name", "Description"),
            [(str(r.uri), r.name, _first_line(r.description)) for r in listing.resources],
        ),
        (
            "Resource templates",
            ("URI template", "Name", "Description"),
            [(t.uri_template, t.name, _first_line(t.description)) for t in listing.resource_templates],
        ),
        (
            "Prompts",
            ("Name", "Arguments", "Description"),
            [
                (p.name, _prompt_arguments(p.arguments or []), _first_line(p.description))
                for p in listing.prompts
            ],
        ),
    ]
    for title, columns, rows in sections:
        if rows:
            console.print(plain_table(title, columns, rows))


def _arguments(schema: Mapping[str, Any]) -> str:
    """A tool's arguments: ``name: type`` (``name?`` when optional)."""
    required = set(schema.get("required") or ())
    properties: Mapping[str, Any] = schema.get("properties") or {}
    return ", ".join(
        f"{name}{'' if name in required else '?'}: {_type(value)}" for name, value in properties.items()
    )


def _type(schema: Any) -> str:
    """A schema's type in a word or two: ``string``, ``array | null``; ``any`` when it says none."""
    if not isinstance(schema, Mapping):
        return "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind:
        return str(kind)
    members = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(members, list) and members:
        return " | ".join(dict.fromkeys(_type(member) for member in members))
    return "any"


def _prompt_arguments(arguments: Sequence[types.PromptArgument]) -> str:
    return ", ".join(a.name + ("" if a.required else "?") for a in arguments)


def _first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


# mcpkit call


def split_call(words: Sequence[str], *, has_command: bool) -> tuple[str | None, str, list[str]]:
    """``[TARGET] TOOL [ARGUMENT...]`` as TARGET (``None``: the project, or ``--command``), TOOL and
    the arguments. An argument contains ``=`` or is a JSON object and a tool name never does, so the
    first word is TARGET exactly when the second is not an argument."""
    if not words:
        raise UsageError("call takes [TARGET] TOOL [ARGUMENT...]: give the tool's name")
    if not has_command and len(words) >= 2 and not _is_argument(words[1]):
        target, tool, *arguments = words
    else:
        target, (tool, *arguments) = None, words
    if not _TOOL_NAME.fullmatch(tool):
        raise UsageError(f"{tool!r} is not a tool name (1-128 characters of A-Za-z0-9_.-)")
    return target, tool, arguments


def _is_argument(word: str) -> bool:
    return "=" in word or word.lstrip().startswith("{")


def parse_arguments(words: Sequence[str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of a call: ``NAME=VALUE`` words and JSON objects, in order. A VALUE is text for
    an argument whose schema says it is a string, else JSON when it parses as JSON, else text."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    arguments: dict[str, Any] = {}
    for word in words:
        if word.lstrip().startswith("{"):
            arguments.update(_json_object(word))
            continue
        name, equals, text = word.partition("=")
        if not equals or not name:
            raise UsageError(f"an argument is NAME=VALUE or a JSON object, not {word!r}")
        arguments[name] = text if _takes_text(properties.get(name)) else _json_or_text(text)
    return arguments


def _json_object(word: str) -> dict[str, Any]:
    try:
        value = json.loads(word)
    except ValueError as exc:
        raise UsageError(f"an argument starts like a JSON object but is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError("a JSON argument must be an object of arguments by name")
    return value


def _takes_text(schema: Any) -> bool:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def call_tool(
    connection: Connection, tool: str, words: Sequence[str], *, json: bool, console: Console, errors: Console
) -> None:
    """Call ``tool`` with the arguments ``words`` give; print its result (text, or JSON), its progress
    and log messages at ``info`` and above (standard error). An error result is a
    :class:`CommandError`."""

    async def progress(done: float, total: float | None, message: str | None) -> None:
        of = f"/{total:g}" if total is not None else ""
        errors.print(f"progress {done:g}{of}" + (f": {message}" if message else ""), markup=False)

    async def log(params: types.LoggingMessageNotificationParams) -> None:
        errors.print(f"{params.level}: {params.data}", markup=False, soft_wrap=True)

    async def work() -> ToolCallResult:
        async with connection.client(progress_handler=progress, log_handler=log, log_level="info") as client:
            tools = {t.name: t for t in await client.list_tools()}
            if tool not in tools:
                names = sorted(tools)
                more = f", ... ({len(names)} in all)" if len(names) > _NAMES_SHOWN else ""
                listed = ", ".join(names[:_NAMES_SHOWN]) + more
                raise CommandError(
                    f"{connection.describe()} has no tool {tool!r}; its tools: {listed or 'none'}"
                )
            return await client.call_tool(tool, parse_arguments(words, tools[tool].input_schema))

    result = connection.run(work)
    if json:
        console.print_json(data=_result_json(result))
    elif not result.is_error:
        _print_result(result, console)
    if result.is_error:
        raise CommandError(f"tool {tool!r} failed: {result.text or '(no message)'}")


def _result_json(result: ToolCallResult) -> dict[str, Any]:
    document: dict[str, Any] = {
        "content": [_dump(block) for block in result.content],
        "isError": result.is_error,
    }
    if result.structured_content is not None:
        document["structuredContent"] = result.structured_content
    return document


def _print_result(result: ToolCallResult, console: Console) -> None:
    """The content blocks: text as it is, anything else described; structured content alone as JSON."""
    if not result.content and result.structured_content is not None:
        console.print_json(data=result.structured_content)
        return
    for block in result.content:
        console.print(_block(block), markup=False, soft_wrap=True, highlight=False)


def _block(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        size = len(block.data) * 3 // 4 - block.data[-2:].count("=")  # base64: 4 characters for 3 bytes
        return f"[{block.type}, {block.mime_type}, {size:,} bytes]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}]"
    if isinstance(block, types.EmbeddedResource):
        contents = block.resource
        if isinstance(contents, types.TextResourceContents):
            return contents.text
        return f"[resource {contents.uri}, {contents.mime_type or 'binary'}]"
    return f"[{block.type}]"

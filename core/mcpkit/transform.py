"""Tool transformation: a tool derived from another, with a new name, description and arguments.

Any tool can be the parent: hand-written, generated from an API, proxied, or mounted. The derived
tool's arguments can be renamed, re-described, given defaults, or hidden with a fixed value; its
input schema and the validation of its calls follow the changed arguments, and the parent gets its
own argument names back (then checked against its own schema too)::

    from mcpkit.transform import ArgTransform, transform_tool

    search = transform_tool(
        mcp.tools["list_issues_repos__owner___repo__issues_get"],
        name="find_issues",
        description="Find issues of our main repository.",
        args={
            "owner": ArgTransform(hide=True, value="acme"),
            "repo": ArgTransform(hide=True, value="widgets"),
            "q": ArgTransform(name="query", description="Words to look for."),
        },
    )
    mcp.add_tool(search)

``wrap`` runs around the call: ``async def wrap(arguments, forward)`` receives the derived tool's
arguments (its own names) and ``forward(arguments)``, which maps them and calls the parent; it
returns what the tool returns (a ``ToolResult``, a ``CallToolResult``, text, or a JSON value).
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

import mcp_types as types

from mcpkit.components import Tool, ToolResult, error_result, to_json_text
from mcpkit.schema import argument_errors


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

Forward = Callable[[dict[str, Any]], Awaitable["ToolResult | types.CallToolResult"]]
Wrap = Callable[[dict[str, Any], Forward], Awaitable[Any]]


@dataclass(frozen=True)
class ArgTransform:
    """How one argument of the parent changes: a new ``name`` or ``description``, a ``default``
    (the argument is no longer required), or ``hide`` (left out of the schema; the parent gets
    ``value``, else its own default)."""

    name: str | None = None
    description: str | None = None
    default: Any = MISSING
    hide: bool = False
    value: Any = MISSING


def transform_tool(
    tool: Tool,
    *,
    name: str | None = None,
    description: str | None = None,
    title: str | None = None,
    args: Mapping[str, ArgTransform] | None = None,
    wrap: Wrap | None = None,
    output_schema: dict[str, Any] | _Missing | None = MISSING,
    tags: frozenset[str] | None = None,
    annotations: types.ToolAnnotations | None = None,
) -> Tool:
    """A new tool calling ``tool`` with changed arguments (see the module docstring).

    ``output_schema`` replaces the parent's (``None``: no output schema), for a ``wrap`` that
    changes the result's shape. Unknown argument names, names that would clash, and a hidden
    required argument with neither a value nor a default raise ``ValueError``.
    """
    plan = _Plan(tool, dict(args or {}))

    async def forward(arguments: dict[str, Any]) -> ToolResult | types.CallToolResult:
        parent_arguments = plan.parent_arguments(arguments)
        problems = argument_errors(tool.validator, parent_arguments)
        if problems:
            return error_result(
                f"the arguments of {tool.name!r} (which {name or tool.name!r} calls) are invalid:\n- "
                + "\n- ".join(problems)
            )
        return await tool.fn(parent_arguments)

    async def run(arguments: dict[str, Any]) -> ToolResult | types.CallToolResult:
        if wrap is None:
            return await forward(arguments)
        return _as_result(await wrap(dict(arguments), forward))

    return replace(
        tool,
        name=name or tool.name,
        description=description if description is not None else tool.description,
        title=title if title is not None else tool.title,
        input_schema=plan.input_schema,
        output_schema=tool.output_schema if isinstance(output_schema, _Missing) else output_schema,
        fn=run,
        tags=tool.tags if tags is None else frozenset(tags),
        annotations=annotations if annotations is not None else tool.annotations,
    )


class _Plan:
    """The derived input schema, and the way back to the parent's arguments."""

    def __init__(self, tool: Tool, args: dict[str, ArgTransform]) -> None:
        schema = copy.deepcopy(tool.input_schema)
        properties: dict[str, Any] = schema.get("properties", {})
        required: list[str] = list(schema.get("required", []))
        unknown = sorted(set(args) - set(properties))
        if unknown:
            raise ValueError(f"tool {tool.name!r} has no arguments {', '.join(map(repr, unknown))}")
        self.renames: dict[str, str] = {}  # derived name -> parent name
        self.fixed: dict[str, Any] = {}  # parent name -> value sent
        self.defaults: dict[str, Any] = {}  # derived name -> default filled in
        new_properties: dict[str, Any] = {}
        new_required: list[str] = []
        for parent_name, prop in properties.items():
            change = args.get(parent_name, ArgTransform())
            if change.hide:
                self._hide(tool, parent_name, prop, change, parent_name in required)
                continue
            derived = change.name or parent_name
            if derived in new_properties:
                raise ValueError(f"tool {tool.name!r}: two arguments would be called {derived!r}")
            prop = dict(prop)
            if change.description is not None:
                prop["description"] = change.description
            if not isinstance(change.default, _Missing):
                prop["default"] = change.default
                self.defaults[derived] = change.default
            elif parent_name in required:
                new_required.append(derived)
            new_properties[derived] = prop
            self.renames[derived] = parent_name
        schema["properties"] = new_properties
        if new_required:
            schema["required"] = new_required
        else:
            schema.pop("required", None)
        self.input_schema = schema

    def _hide(
        self, tool: Tool, name: str, prop: Mapping[str, Any], change: ArgTransform, required: bool
    ) -> None:
        if not isinstance(change.value, _Missing):
            self.fixed[name] = change.value
        elif not isinstance(change.default, _Missing):
            self.fixed[name] = change.default
        elif required and "default" not in prop:
            raise ValueError(f"tool {tool.name!r}: the hidden argument {name!r} is required; give it a value")

    def parent_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The parent's arguments for the derived tool's ``arguments``; hidden values always win, so a
        caller cannot override them (even where the parent's schema allows other arguments)."""
        parent = {self.renames.get(key, key): value for key, value in {**self.defaults, **arguments}.items()}
        return {**parent, **self.fixed}


def _as_result(value: Any) -> ToolResult | types.CallToolResult:
    """What a ``wrap`` returned, as a tool result."""
    if isinstance(value, (ToolResult, types.CallToolResult)):
        return value
    if isinstance(value, str):
        return ToolResult([types.TextContent(type="text", text=value)])
    if isinstance(value, dict):
        return ToolResult(structured_content=value)
    return ToolResult([types.TextContent(type="text", text=to_json_text(value))])

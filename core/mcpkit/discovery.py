"""Discovery mode: large servers list two tools, ``search_tools`` and ``call_tool``, instead of all.

A 1,000-tool listing does not fit a model's context (some clients send only the first 40 tools). In
discovery mode ``tools/list`` returns ``search_tools`` (find tools by what they do; the results carry
full input schemas, so the model can call at once) and ``call_tool`` (call any tool by name), plus the
tools the server pins. Every tool stays callable directly by its name; resources are unaffected.

``discovery="search"`` turns it on, ``"auto"`` turns it on when the server has more than
:data:`AUTO_THRESHOLD` tools, ``"off"`` (the default) lists every tool. The search index is built on
the first search and again only after the tools change.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import mcp_types as types

from mcpkit.components import Tool, ToolResult, to_json_text
from mcpkit.exceptions import ToolError
from mcpkit.scopes import missing_scopes
from mcpkit.search import SearchIndex, build_index

if TYPE_CHECKING:
    from mcpkit.server import MCPKit

DiscoveryMode = Literal["off", "search", "auto"]
SEARCH_TOOL = "search_tools"
CALL_TOOL = "call_tool"
AUTO_THRESHOLD = 40
"""With ``discovery="auto"``, discovery mode starts above this many tools."""
DEFAULT_LIMIT = 5
MAX_LIMIT = 50
MAX_QUERY_CHARS = 1000
"""Characters of a search query at most (a longer one is refused before any search)."""
ECHO_CHARS = 100
"""Characters of a query repeated back in the "no match" text at most."""

SEARCH_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_QUERY_CHARS,
            "description": "What you want to do, in a few words.",
        },
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
            "description": "How many tools to return, best match first.",
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}
SEARCH_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tools": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "inputSchema": {"type": "object"},
                },
                "required": ["name", "inputSchema"],
            },
        }
    },
    "required": ["tools"],
}
CALL_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "The tool's name, as search_tools gave it."},
        "arguments": {"type": "object", "description": "The tool's arguments, as its inputSchema says."},
    },
    "required": ["name"],
    "additionalProperties": False,
}


class Discovery:
    """The discovery tools of one server, and its search index."""

    def __init__(
        self,
        server: MCPKit,
        mode: DiscoveryMode,
        pinned: Iterable[str],
        strategy: Callable[[], Callable[..., SearchIndex]],
    ) -> None:
        if mode not in ("off", "search", "auto"):
            raise ValueError(f"discovery must be 'off', 'search' or 'auto', not {mode!r}")
        self.mode = mode
        self.pinned = tuple(dict.fromkeys(pinned))
        self._server = server
        self._strategy = strategy
        self._index: SearchIndex | None = None
        self.tools: Mapping[str, Tool] = {
            SEARCH_TOOL: Tool(
                name=SEARCH_TOOL,
                input_schema=SEARCH_INPUT,
                output_schema=SEARCH_OUTPUT,
                fn=self._search,
                description=(
                    "Find the tools for a task, best match first. Describe the task in a few words "
                    "(for example 'create an issue' or 'refund a payment'); each result has the tool's "
                    f"input schema, so you can call it right away with {CALL_TOOL}."
                ),
                annotations=types.ToolAnnotations(read_only_hint=True),
            ),
            CALL_TOOL: Tool(
                name=CALL_TOOL,
                input_schema=CALL_INPUT,
                fn=self._call,
                description=(
                    f"Call a tool found with {SEARCH_TOOL}: give its name and its arguments. The "
                    "arguments are checked against the tool's input schema first."
                ),
            ),
        }

    def active(self, tool_count: int) -> bool:
        """Whether a server with ``tool_count`` tools lists only the discovery tools."""
        return self.mode == "search" or (self.mode == "auto" and tool_count > AUTO_THRESHOLD)

    def invalidate(self) -> None:
        """Forget the search index (the tools changed)."""
        self._index = None

    def search(self, query: str, limit: int = DEFAULT_LIMIT) -> list[Tool]:
        """The tools best matching ``query``."""
        if self._index is None:
            self._index = build_index(self._strategy(), self._server.enabled_tools.values())
        tools = self._server.enabled_tools
        found = (tools[name] for name in self._index.search(query, limit) if name in tools)
        return [tool for tool in found if not missing_scopes(tool.scopes)]

    async def _search(self, arguments: dict[str, Any]) -> ToolResult:
        found = self.search(arguments["query"], arguments.get("limit", DEFAULT_LIMIT))
        results = []
        for tool in found:
            entry: dict[str, Any] = {"name": tool.name, "inputSchema": tool.input_schema}
            if tool.title:
                entry["title"] = tool.title
            if tool.description:
                entry["description"] = tool.description
            results.append(entry)
        structured = {"tools": results}
        if results:
            return ToolResult(structured_content=structured)
        query = arguments["query"]
        shown = query if len(query) <= ECHO_CHARS else query[:ECHO_CHARS] + "..."
        hint = (
            f"No tool matches {shown!r}. Search again in the API's own words: the action "
            "(list, get, create, update, delete, ...) and the thing it acts on."
        )
        content: list[types.ContentBlock] = [
            types.TextContent(type="text", text=text) for text in (to_json_text(structured), hint)
        ]
        return ToolResult(content=content, structured_content=structured)

    async def _call(self, arguments: dict[str, Any]) -> types.CallToolResult:
        name = arguments["name"]
        if name in self.tools:
            raise ToolError(f"{CALL_TOOL} calls the server's tools, not {name!r} itself")
        if name not in self._server.enabled_tools:
            close = difflib.get_close_matches(name, self._server.enabled_tools, n=3)
            hint = (
                f"; did you mean {', '.join(map(repr, close))}?"
                if close
                else f"; use {SEARCH_TOOL} to find one"
            )
            raise ToolError(f"unknown tool {name!r}{hint}")
        return await self._server.call_tool(name, arguments.get("arguments") or {})

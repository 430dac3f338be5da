"""Composition: one server in front of others, their components under prefixes.

``parent.mount(child, prefix="billing")`` is live: the parent serves the child's components as they
are at each request (added, removed, enabled later), the child's lifespan runs with the parent's,
and its change notifications reach the parent's clients. ``parent.import_server(child, prefix=...)``
copies the child's components once, as they are.

Prefixes: a tool or prompt ``refund`` becomes ``billing_refund``; a resource ``invoices://2024/7``
becomes ``invoices://billing/2024/7`` (the prefix is the first path segment after the scheme), and so
does a template ``invoices://{year}/{number}``. Names must stay valid MCP tool names (1-64 characters
of ``A-Za-z0-9_.-``). A component whose served name or URI another one already takes is refused when
mounting or importing; if a later change of a mounted server causes a clash, the parent's own
component (or the first mount's) is served and the clash is logged.

Requests for a mounted component go to the mounted server, through its own middleware, with a
:class:`~mcpkit.Context` whose ``server`` is the mounted server (so ``ctx.read_resource`` reads its
own resources); discovery search on the parent searches the mounted servers' tools too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import mcp_types as types
from pydantic import BaseModel

from mcpkit.components import Resource, ResourceTemplate, Tool
from mcpkit.naming import is_valid_name
from mcpkit.prompts import Prompt

if TYPE_CHECKING:
    from mcpkit.middleware import Request
    from mcpkit.server import MCPKit

logger = logging.getLogger(__name__)

Kind = Literal["tool", "resource", "template", "prompt"]
_PREFIX = re.compile(r"[A-Za-z0-9_.-]{1,48}")


def check_prefix(prefix: str | None) -> None:
    """Refuse a prefix that cannot start valid names and URI segments."""
    if prefix is not None and (not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix)):
        raise ValueError(f"prefix {prefix!r} must be 1-48 characters of A-Za-z0-9_.-")


def prefixed_name(prefix: str | None, name: str) -> str:
    """``prefix_name`` (the name itself without a prefix)."""
    return name if prefix is None else f"{prefix}_{name}"


def prefixed_uri(prefix: str | None, uri: str) -> str:
    """``scheme://prefix/rest`` for ``scheme://rest`` (``prefix/uri`` for a URI without a scheme)."""
    if prefix is None:
        return uri
    scheme, separator, rest = uri.partition("://")
    return f"{scheme}://{prefix}/{rest}" if separator else f"{prefix}/{uri}"


def unprefixed_uri(prefix: str | None, uri: str) -> str | None:
    """The mounted server's URI for the parent's ``uri``, or ``None`` if it lacks the prefix."""
    if prefix is None:
        return uri
    scheme, separator, rest = uri.partition("://")
    if separator:
        return f"{scheme}://{rest[len(prefix) + 1 :]}" if rest.startswith(f"{prefix}/") else None
    return uri[len(prefix) + 1 :] if uri.startswith(f"{prefix}/") else None


@dataclass(frozen=True)
class Mount:
    """A server mounted under a prefix."""

    server: MCPKit
    prefix: str | None


@dataclass
class Catalog:
    """What a server serves at the moment, mounted servers included (enabled components only), by
    served name or URI; ``origins`` says which mounted server serves what, under its own key."""

    tools: dict[str, Tool] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    templates: dict[str, ResourceTemplate] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)
    origins: dict[tuple[Kind, str], tuple[Mount, str]] = field(default_factory=dict)

    def add_mounted(self, mount: Mount, catalog: Catalog, *, strict: bool) -> None:
        """Add a mounted server's catalog under its prefix; a clash raises (``strict``) or is logged."""
        prefix = mount.prefix
        for name, tool in catalog.tools.items():
            self._add("tool", self.tools, prefixed_name(prefix, name), name, mount, tool, strict)
        for uri, resource in catalog.resources.items():
            self._add("resource", self.resources, prefixed_uri(prefix, uri), uri, mount, resource, strict)
        for uri_template, template in catalog.templates.items():
            served = prefixed_uri(prefix, uri_template)
            self._add("template", self.templates, served, uri_template, mount, template, strict)
        for name, prompt in catalog.prompts.items():
            self._add("prompt", self.prompts, prefixed_name(prefix, name), name, mount, prompt, strict)

    def _add(
        self,
        kind: Kind,
        served: dict[str, Any],
        key: str,
        original: str,
        mount: Mount,
        component: Tool | Resource | ResourceTemplate | Prompt,
        strict: bool,
    ) -> None:
        problem = None
        if key in served:
            problem = f"the {kind} {key!r} of {mount.server.name!r} clashes with one already served"
        elif kind == "tool" and not is_valid_name(key):
            problem = f"the tool name {key!r} of {mount.server.name!r} is not a valid MCP tool name"
        if problem is not None:
            if strict:
                raise ValueError(f"{problem}; choose another prefix")
            logger.warning("%s; it is not served", problem)
            return
        served[key] = renamed(kind, component, key)
        self.origins[(kind, key)] = (mount, original)


def renamed(
    kind: Kind, component: Tool | Resource | ResourceTemplate | Prompt, key: str
) -> Tool | Resource | ResourceTemplate | Prompt:
    """A copy of ``component`` served as ``key`` (its name, or its URI/URI template)."""
    field_name = {"tool": "name", "prompt": "name", "resource": "uri", "template": "uri_template"}[kind]
    changes: dict[str, Any] = {field_name: key}
    return replace(component, **changes)


def ancestors(server: MCPKit) -> set[MCPKit]:
    """The servers ``server`` is mounted in, directly or not."""
    found: set[MCPKit] = set()
    pending = list(server._parents)
    while pending:
        parent = pending.pop()
        if parent not in found:
            found.add(parent)
            pending.extend(parent._parents)
    return found


def imported_catalog(served: Catalog, server: MCPKit, prefix: str | None) -> Catalog:
    """``server``'s enabled components under ``prefix``, for a parent that serves ``served``; a clash
    with each other or with ``served`` raises ``ValueError``."""
    check_prefix(prefix)
    imported = Catalog()
    imported.add_mounted(Mount(server, prefix), server.catalog(), strict=True)
    for kind in ("tools", "resources", "templates", "prompts"):
        clash = sorted(getattr(imported, kind).keys() & getattr(served, kind).keys())
        if clash:
            raise ValueError(f"importing {server.name!r}: {kind} {', '.join(clash)} are served already")
    return imported


async def pass_on(mount: Mount, state: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A request for a mounted component (``params`` in the mounted server's names), handled by the
    mounted server, its middleware included, with a Context of its own (``state``: what the mounted
    server's lifespan yielded)."""
    from mcpkit.context import current_context, serving
    from mcpkit.middleware import Request

    child = mount.server
    parent = current_context()
    sdk = parent.sdk if parent is not None else None
    with serving(child, sdk, state) as context:
        result: dict[str, Any] = await child.middleware(Request(method, params, context, _answer))
        return result


async def read_mounted(
    mount: Mount, state: Any, uri: str
) -> list[types.TextResourceContents | types.BlobResourceContents]:
    """The contents of a mounted server's resource, under the parent's ``uri``."""
    child_uri = unprefixed_uri(mount.prefix, uri)
    assert child_uri is not None  # the catalog served it under the prefix
    answer = await pass_on(mount, state, "resources/read", {"uri": child_uri})
    result = types.ReadResourceResult.model_validate(answer)
    return [item.model_copy(update={"uri": uri}) for item in result.contents]


async def _answer(request: Request) -> dict[str, Any]:
    """The mounted server's own answer to a request its parent passed on, as the protocol's JSON."""
    server = request.context.server
    params = request.params
    result: BaseModel
    if request.method == "tools/call":
        result = await server.call_tool(params["name"], params.get("arguments"))
    elif request.method == "resources/read":
        result = types.ReadResourceResult(contents=await server.read_resource(params["uri"]))
    else:
        result = await server.get_prompt(params["name"], params.get("arguments"))
    return result.model_dump(by_alias=True, mode="json", exclude_none=True)

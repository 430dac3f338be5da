"""Operations to kernel components: tools, resources and resource templates that call the API.

Resource URIs: an operation mapped to a resource is ``resource://<name>``; one mapped to a template is
``resource://<name>/{path_param}/...{?query_param,...}``. Template variables arrive as text and are
converted to the types the operation's schema asks for (integers, numbers, booleans, comma-separated
arrays) before they are validated. A resource whose operation has required query or header
parameters becomes a template; one that needs a header parameter or a body stays a tool.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import mcp_types as types

from mcpkit import MCPType, Resource, ResourceError, ResourceTemplate, Tool, ToolResult
from mcpkit.schema import SchemaValidator, argument_errors, compile_validator
from mcpkit.sources import PlannedRoute
from mcpkit_openapi.caller import Access, Caller
from mcpkit_openapi.errors import ConversionWarning
from mcpkit_openapi.model import Definitions, Operation, Requirement, Schema, SecurityScheme
from mcpkit_openapi.plan import RequestPlan, plan_operation, resolve_local
from mcpkit_openapi.response import OutputSchemas, ResponseReader, narrowing_hint, output_schema

Component = Tool | Resource | ResourceTemplate

_VARIABLE_CHARS = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class Shaping:
    """How results are shaped: the ``response_filter`` argument, and the bound of a result."""

    response_filter: bool = False
    max_response_bytes: int | None = 100_000


def build_component(
    planned: PlannedRoute,
    operation: Operation,
    definitions: Definitions,
    access: Access,
    *,
    tags: frozenset[str],
    detailed_descriptions: bool,
    output_schemas: OutputSchemas,
    shaping: Shaping,
    warnings: list[ConversionWarning],
    scopes: frozenset[str] = frozenset(),
) -> tuple[Component, RequestPlan]:
    """The component ``planned`` asks for (falling back to a tool when a resource cannot work), and
    the request plan behind it; ``scopes``: those a caller's token must hold (:mod:`mcpkit.scopes`)."""
    plan = plan_operation(operation, definitions)
    filtering = shaping.response_filter and FILTER_ARGUMENT not in plan.input_schema["properties"]
    if shaping.response_filter and not filtering:
        warnings.append(
            ConversionWarning(
                operation.pointer, f"has a parameter named {FILTER_ARGUMENT}; no filter argument"
            )
        )
    narrowing = narrowing_hint(FILTER_ARGUMENT if filtering else None, paging_arguments(plan))
    schema = output_schema(operation, definitions, output_schemas)
    reader = ResponseReader(operation, schema, shaping.max_response_bytes, narrowing)
    caller = Caller(plan, reader, access)
    description = describe(operation, plan, detailed_descriptions)
    all_tags = frozenset(operation.tags) | planned.mcp_tags | tags
    mcp_type = planned.mcp_type
    if mcp_type in (MCPType.RESOURCE, MCPType.RESOURCE_TEMPLATE):
        unusable = plan.body is not None or any(
            b.parameter is not None and b.parameter.location in ("header", "cookie") and b.parameter.required
            for b in plan.bindings
        )
        if unusable:
            warnings.append(
                ConversionWarning(operation.pointer, "needs a body or header/cookie parameters; made a tool")
            )
            mcp_type = MCPType.TOOL
        elif mcp_type is MCPType.RESOURCE and plan.input_schema.get("required"):
            warnings.append(
                ConversionWarning(operation.pointer, "has required parameters; made a resource template")
            )
            mcp_type = MCPType.RESOURCE_TEMPLATE
    mime_type = next(
        (r.media_type for r in operation.responses if r.media_type and r.status.startswith("2")), None
    )
    if mcp_type is MCPType.RESOURCE:
        return Resource(
            uri=f"resource://{planned.name}",
            name=planned.name,
            read=_resource_reader(caller, mime_type),
            description=description,
            title=operation.summary,
            mime_type=mime_type,
            tags=all_tags,
            scopes=scopes,
        ), plan
    if mcp_type is MCPType.RESOURCE_TEMPLATE:
        reader_fn, uri_template, completions = _template(planned.name, caller, mime_type, definitions)
        return ResourceTemplate(
            uri_template=uri_template,
            name=planned.name,
            read=reader_fn,
            description=description,
            title=operation.summary,
            mime_type=mime_type,
            tags=all_tags,
            completions=completions,
            scopes=scopes,
        ), plan

    async def run(arguments: dict[str, Any]) -> ToolResult:
        text = arguments.pop(FILTER_ARGUMENT, None) if filtering else None
        if text is None:
            return await caller.tool_result(arguments)
        from mcpkit_openapi.filters import compile_filter  # imports jmespath: most calls have no filter

        return await caller.tool_result(arguments, compile_filter(text))  # compiled before anything is sent

    return Tool(
        name=planned.name,
        input_schema=_with_filter(plan.input_schema) if filtering else plan.input_schema,
        fn=run,
        description=description,
        title=operation.summary,
        output_schema=_filterable(schema) if filtering and schema is not None else schema,
        annotations=tool_annotations(operation),
        tags=all_tags,
        search_terms=search_terms(operation),
        scopes=scopes,
    ), plan


def security_scopes(
    requirements: tuple[Requirement, ...], schemes: Mapping[str, SecurityScheme]
) -> frozenset[str]:
    """The OAuth scopes an operation's effective ``security`` asks for: those of the ``oauth2`` and
    ``openIdConnect`` schemes of its first requirement. None when some requirement needs no OAuth
    scope (another scheme suffices, or ``{}``: anonymous access)."""
    scoped = [
        frozenset(
            scope
            for name, scopes in requirement.items()
            if name in schemes and schemes[name].type in ("oauth2", "openIdConnect")
            for scope in scopes
        )
        for requirement in requirements
    ]
    if not scoped or not all(scoped):
        return frozenset()
    return scoped[0]


def tool_annotations(operation: Operation) -> types.ToolAnnotations:
    """Hints from HTTP semantics: GET/HEAD/OPTIONS read-only, DELETE destructive, PUT/DELETE idempotent."""
    method = operation.method
    if method in ("GET", "HEAD", "OPTIONS"):
        return types.ToolAnnotations(title=operation.summary, read_only_hint=True)
    if method == "DELETE":
        return types.ToolAnnotations(title=operation.summary, destructive_hint=True, idempotent_hint=True)
    if method == "PUT":
        return types.ToolAnnotations(title=operation.summary, read_only_hint=False, idempotent_hint=True)
    return types.ToolAnnotations(title=operation.summary, read_only_hint=False)


def describe(operation: Operation, plan: RequestPlan, detailed: bool) -> str | None:
    """The description (else the summary); ``detailed`` adds the arguments and responses."""
    text = operation.description or operation.summary
    if not detailed:
        return text
    lines = [text] if text else []
    documented = [b for b in plan.bindings if b.parameter is not None and b.parameter.description]
    if documented:
        lines += ["", "Arguments:"]
        lines += [f"- {b.argument} ({b.kind}): {b.parameter.description}" for b in documented if b.parameter]
    responses = [r for r in operation.responses if r.description]
    if responses:
        lines += ["", "Responses:"]
        lines += [f"- {r.status}: {r.description}" for r in responses]
    return "\n".join(lines) or None


def _resource_reader(caller: Caller, mime_type: str | None) -> Any:
    async def read() -> Any:
        return await caller.resource_value({}, mime_type)

    return read


class _Arguments:
    """Template variables (text) to validated tool arguments."""

    def __init__(self, plan: RequestPlan, definitions: Definitions, variables: dict[str, str]) -> None:
        self.plan = plan
        self.definitions = definitions
        self.variables = variables

    @cached_property
    def validator(self) -> SchemaValidator:
        return compile_validator(self.plan.input_schema, owner=f"{self.plan.method} {self.plan.path}")

    def convert(self, values: Mapping[str, Any]) -> dict[str, Any]:
        properties = self.plan.input_schema["properties"]
        arguments = {}
        for variable, argument in self.variables.items():
            if variable in values and values[variable] not in (None, ""):
                arguments[argument] = _typed(values[variable], properties[argument], self.definitions)
        problems = argument_errors(self.validator, arguments)
        if problems:
            raise ResourceError("invalid resource URI: " + "; ".join(problems))
        return arguments


def _template(
    name: str, caller: Caller, mime_type: str | None, definitions: Definitions
) -> tuple[Any, str, dict[str, list[str]]]:
    """The reader and URI template of a template, and the completions of its variables that have
    an ``enum`` in the document."""
    plan = caller.plan
    variables: dict[str, str] = {}
    path_parts: list[str] = []
    query_parts: list[str] = []
    for binding in plan.bindings:
        if binding.parameter is None or binding.kind not in ("path", "query"):
            continue
        variable = _VARIABLE_CHARS.sub("_", binding.argument) or "value"
        while variable in variables:
            variable += "_"
        variables[variable] = binding.argument
        (path_parts if binding.kind == "path" else query_parts).append(variable)
    uri = f"resource://{name}" + "".join("/{" + v + "}" for v in path_parts)
    if query_parts:
        uri += "{?" + ",".join(query_parts) + "}"
    arguments = _Arguments(plan, definitions, variables)

    async def read(values: dict[str, Any]) -> Any:
        return await caller.resource_value(arguments.convert(values), mime_type)

    properties = plan.input_schema["properties"]
    completions = {}
    for variable, argument in variables.items():
        choices = _choices(properties[argument], definitions)
        if choices:
            completions[variable] = choices
    return read, uri, completions


def _choices(schema: Schema, definitions: Definitions) -> list[str]:
    """The ``enum`` values of a parameter (of its items, for an array), as text."""
    schema = resolve_local(schema, definitions, "input")
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict):
        schema = resolve_local(items, definitions, "input")
    values = schema.get("enum")
    return (
        [v if isinstance(v, str) else json.dumps(v) for v in values if v is not None]
        if isinstance(values, list)
        else []
    )


def _typed(value: Any, schema: Schema, definitions: Definitions) -> Any:
    schema = resolve_local(schema, definitions, "input")
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if isinstance(value, list) or "array" in kinds:
        items = value if isinstance(value, list) else str(value).split(",")
        items_schema = schema.get("items")
        item_schema: Schema = items_schema if isinstance(items_schema, dict) else {}
        return [_typed(item, item_schema, definitions) for item in items]
    try:
        if "integer" in kinds:
            return int(value)
        if "number" in kinds:
            return float(value)
        if "boolean" in kinds and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if "object" in kinds:
            return json.loads(value)
    except ValueError:
        return value
    return value


FILTER_ARGUMENT = "response_filter"
FILTER_SCHEMA: Schema = {
    "type": "string",
    "description": (
        "A JMESPath expression applied to the JSON response before it is returned, to keep only "
        "what you need; for example items[].{id: id, name: name}."
    ),
}
_INTENTS = {
    "GET": "get list read show fetch find search retrieve view look",
    "HEAD": "check exists",
    "OPTIONS": "options",
    "POST": "create add new make send start submit post",
    "PUT": "update replace set change edit modify",
    "PATCH": "update change edit modify set",
    "DELETE": "delete remove cancel destroy revoke erase",
}
_PAGING = re.compile(
    r"^(page|per_?page|page_?size|page_?token|limit|offset|cursor|after|before|starting_after|ending_before|"
    r"max_?results|top|skip|count|size|next_?token)$",
    re.IGNORECASE,
)


def search_terms(operation: Operation) -> tuple[str, ...]:
    """Words for discovery search: the HTTP method as intent words, and the path's literal segments."""
    segments = [part for part in operation.path.split("/") if part and not part.startswith("{")]
    return (_INTENTS.get(operation.method, operation.method.lower()), *segments)


def paging_arguments(plan: RequestPlan) -> list[str]:
    """Arguments that page or limit a listing (``per_page``, ``limit``, ``cursor``, ...)."""
    return [b.argument for b in plan.bindings if b.kind == "query" and _PAGING.match(b.name)]


def _with_filter(schema: Schema) -> Schema:
    return {**schema, "properties": {**schema["properties"], FILTER_ARGUMENT: FILTER_SCHEMA}}


def _filterable(schema: Schema) -> Schema:
    """The output schema of a tool whose results may be filtered: the documented one, or anything."""
    documented = {k: v for k, v in schema.items() if k != "$defs"}
    general: Schema = {"anyOf": [documented, {"description": "the result of response_filter"}]}
    if "$defs" in schema:
        general["$defs"] = schema["$defs"]
    return general

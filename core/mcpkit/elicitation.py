"""Asking the client during a request: elicitation (the user) and sampling (the client's model).

One API for both protocol eras. In the handshake era (2024-11-05 .. 2025-11-25) a question is a
server-to-client request on the request's back-channel. In the 2026-07-28 protocol the server cannot
send requests: the call ends with an *input-required* result carrying the question, the client asks
and calls again with the answer, and the component runs again from the start; answers given in
earlier rounds ride the (sealed) ``requestState``, so each question is asked once. Code before a
question may therefore run more than once in that era: ask before doing anything irreversible.

A client that did not declare the capability a question needs is refused before anything is sent,
with the protocol's ``-32021`` error naming the capability.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import mcp_types as types
import pydantic
from mcp.shared.exceptions import MCPError
from mcp_types import MISSING_REQUIRED_CLIENT_CAPABILITY
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcpkit.exceptions import ToolError

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext

T = TypeVar("T")

_PRIMITIVE_TYPES = frozenset({"string", "number", "integer", "boolean"})
_STATE_VERSION = 1
MAX_ROUNDS_STATE_BYTES = 64 * 1024
"""Bytes of recorded answers a request state may carry; a component asking more is refused."""


@dataclass(frozen=True, slots=True)
class AcceptedElicitation(Generic[T]):
    """The user accepted and answered: ``data`` is the answer, of the type asked for."""

    data: T
    action: Literal["accept"] = "accept"


@dataclass(frozen=True, slots=True)
class DeclinedElicitation:
    """The user declined to answer."""

    action: Literal["decline"] = "decline"


@dataclass(frozen=True, slots=True)
class CancelledElicitation:
    """The user dismissed the question without choosing."""

    action: Literal["cancel"] = "cancel"


ElicitationResult = AcceptedElicitation[T] | DeclinedElicitation | CancelledElicitation


class MissingCapabilityError(MCPError):
    """The client did not declare a capability the request needs (protocol error ``-32021``).

    It is a protocol error, not a tool error: it ends the request, whatever the component was doing.
    """

    def __init__(self, capability: str, required: types.ClientCapabilities, what: str) -> None:
        data = types.MissingRequiredClientCapabilityErrorData(required_capabilities=required)
        super().__init__(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message=f"{what} needs the client's {capability!r} capability, which this client did not declare",
            data=data.model_dump(by_alias=True, mode="json", exclude_none=True),
        )


class InputRequired(BaseException):
    """Raised inside a component when the 2026-07-28 protocol needs the client's input first.

    It derives from ``BaseException`` so that a component's ``except Exception`` does not swallow
    it; the server turns it into an ``InputRequiredResult``.
    """

    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


@dataclass(frozen=True)
class _Form:
    """How a response type is asked for and read back."""

    schema: dict[str, Any]
    adapter: pydantic.TypeAdapter[Any] | None
    wrapped: bool

    def read(self, content: Mapping[str, Any] | None) -> Any:
        """The answer as the type asked for; content that does not fit raises
        :class:`~mcpkit.ToolError` (a clean error result when the component does not catch it)."""
        if self.adapter is None:
            return None
        try:
            value = self.adapter.validate_python(dict(content or {}))
        except pydantic.ValidationError as exc:
            raise ToolError(f"the answer does not match the question's schema: {_first_error(exc)}") from None
        return value.value if self.wrapped else value


def _first_error(exc: pydantic.ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(root)"
    return f"{where}: {error['msg']}"


def form_for(response_type: Any) -> _Form:
    """The elicitation form for ``response_type``: ``None`` (a yes/no question), a scalar type
    (``bool``, ``int``, ``float``, ``str``), a ``Literal``/``Enum`` or a list of strings (choices),
    or a dataclass, ``TypedDict`` or pydantic model of such fields (a form)."""
    if isinstance(response_type, list):
        response_type = tuple(response_type)
    try:
        return _form(response_type)
    except TypeError as exc:
        raise TypeError(f"cannot ask for {response_type!r}: {exc}") from None


@lru_cache(maxsize=256)
def _form(response_type: Any) -> _Form:
    if response_type is None:
        return _Form({"type": "object", "properties": {}}, None, False)
    if isinstance(response_type, tuple):
        if not response_type or not all(isinstance(choice, str) for choice in response_type):
            raise TypeError("a list of choices must hold strings")
        response_type = Literal[response_type]
    wrapped = not _is_object_type(response_type)
    model: Any = pydantic.create_model("Answer", value=(response_type, ...)) if wrapped else response_type
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(model)
    generated = adapter.json_schema()
    properties = _flat_properties(generated)
    schema = {"type": "object", "properties": properties, "required": generated.get("required", [])}
    return _Form(schema, adapter, wrapped)


def _is_object_type(response_type: Any) -> bool:
    if isinstance(response_type, type):
        return (
            issubclass(response_type, pydantic.BaseModel)
            or dataclasses.is_dataclass(response_type)
            or (issubclass(response_type, dict) and hasattr(response_type, "__annotations__"))
        )
    return False


def _flat_properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a form, each a string, number, integer, boolean or a choice (forms are flat)."""
    definitions = schema.get("$defs", {})
    properties: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if "$ref" in prop:  # an Enum field: pydantic puts its choices in $defs
            target = definitions.get(prop["$ref"].rsplit("/", 1)[-1], {})
            prop = {**{k: v for k, v in prop.items() if k != "$ref"}, **target}
        prop = {k: v for k, v in prop.items() if k != "title"}
        items = prop.get("items", {})
        choices = isinstance(items, dict) and ("enum" in items or "anyOf" in items)
        if prop.get("type") not in _PRIMITIVE_TYPES and not (prop.get("type") == "array" and choices):
            raise TypeError(f"field {name!r} is not a string, number, integer, boolean or a choice")
        properties[name] = prop
    return properties


@dataclass
class Asking:
    """The questions of one request in the 2026-07-28 protocol: answers from earlier rounds (the
    request state) and this round (``inputResponses``), and the questions asked so far."""

    responses: Mapping[str, Any] = field(default_factory=dict)
    recorded: dict[str, Any] = field(default_factory=dict)
    asked: dict[str, str] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> Asking:
        """The answers a request carries (``inputResponses`` and the unsealed ``requestState``)."""
        params = params or {}
        responses = params.get("inputResponses") or {}
        state = _decode_state(params.get("requestState"))
        return cls(
            responses=responses if isinstance(responses, Mapping) else {},
            recorded=dict(state.get("answers", {})),
            asked=dict(state.get("asked", {})),
        )

    def answer(self, request: types.ElicitRequest | types.CreateMessageRequest) -> tuple[str, Any | None]:
        """The key of the next question and its answer (wire data), if the client gave one."""
        key = f"q{self.count}"
        self.count += 1
        digest = _digest(request)
        entry = self.recorded.get(key)
        if isinstance(entry, Mapping) and entry.get("q") == digest:
            return key, entry.get("r")
        if self.asked.get(key) == digest and isinstance(self.responses.get(key), Mapping):
            response = self.responses[key]
            self.recorded[key] = {"q": digest, "r": response}
            return key, response
        self.recorded.pop(key, None)
        return key, None

    def required(self, key: str, request: types.ElicitRequest | types.CreateMessageRequest) -> InputRequired:
        """The signal that ends this round with ``request`` as the question ``key``."""
        kept = {k: v for k, v in self.recorded.items() if int(k[1:]) < int(key[1:])}
        state = json.dumps(
            {"v": _STATE_VERSION, "answers": kept, "asked": {key: _digest(request)}}, separators=(",", ":")
        )
        if len(state) > MAX_ROUNDS_STATE_BYTES:
            raise ValueError(f"the answers of this request exceed {MAX_ROUNDS_STATE_BYTES:,} bytes")
        return InputRequired(types.InputRequiredResult(input_requests={key: request}, request_state=state))


def _digest(request: types.ElicitRequest | types.CreateMessageRequest) -> str:
    """A short digest of the question as asked: a reworded question is asked again."""
    wire = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw = hashlib.sha256(json.dumps(wire, sort_keys=True, separators=(",", ":")).encode()).digest()
    return base64.urlsafe_b64encode(raw[:12]).decode()


def _decode_state(state: object) -> Mapping[str, Any]:
    """The request state this server minted (the SDK's boundary has verified and unsealed it)."""
    if not isinstance(state, str) or not state:
        return {}
    try:
        decoded = json.loads(state)
    except ValueError:
        return {}
    if not isinstance(decoded, Mapping) or decoded.get("v") != _STATE_VERSION:
        return {}
    return decoded


def uses_input_required(sdk: ServerRequestContext[Any, Any]) -> bool:
    """Whether this request asks through input-required results (the 2026-07-28 protocol)."""
    return sdk.protocol_version in MODERN_PROTOCOL_VERSIONS


def require_capability(
    sdk: ServerRequestContext[Any, Any], request: types.ElicitRequest | types.CreateMessageRequest, what: str
) -> None:
    """Refuse before sending unless the client declared what ``request`` needs: form elicitation
    (a bare ``elicitation: {}`` counts), URL elicitation, or sampling."""
    capabilities = sdk.session.client_capabilities
    if isinstance(request, types.CreateMessageRequest):
        if capabilities is None or capabilities.sampling is None:
            required = types.ClientCapabilities(sampling=types.SamplingCapability())
            raise MissingCapabilityError("sampling", required, what)
        return
    elicitation = capabilities.elicitation if capabilities is not None else None
    if isinstance(request.params, types.ElicitRequestURLParams):
        if elicitation is None or elicitation.url is None:
            url = types.ElicitationCapability(url=types.UrlElicitationCapability())
            raise MissingCapabilityError("elicitation", types.ClientCapabilities(elicitation=url), what)
        return
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        form = types.ElicitationCapability(form=types.FormElicitationCapability())
        raise MissingCapabilityError("elicitation", types.ClientCapabilities(elicitation=form), what)


def elicit_result(form: _Form, result: types.ElicitResult) -> ElicitationResult[Any]:
    """The typed outcome of an elicitation answer; content that does not fit raises ``ToolError``."""
    if result.action == "accept":
        return AcceptedElicitation(form.read(result.content))
    if result.action == "decline":
        return DeclinedElicitation()
    return CancelledElicitation()


def sampling_messages(messages: str | Sequence[str | types.SamplingMessage]) -> list[types.SamplingMessage]:
    """``messages`` (text, or a list of texts and messages) as sampling messages; texts are the user's."""
    items = [messages] if isinstance(messages, str) else list(messages)
    return [
        item
        if isinstance(item, types.SamplingMessage)
        else types.SamplingMessage(role="user", content=types.TextContent(type="text", text=item))
        for item in items
    ]

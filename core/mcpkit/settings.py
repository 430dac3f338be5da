"""Settings read from the environment (prefix ``MCPKIT_``) or passed explicitly.

Every field can be set as ``MCPKIT_<FIELD_NAME>``; list fields take comma-separated values.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_NameList = Annotated[list[str], NoDecode]

DEFAULT_OPENAPI_PARSER = "legacy"
EXPERIMENTAL_OPENAPI_PARSER = "experimental"


class Settings(BaseSettings):
    """mcpkit's settings. ``Settings()`` reads the environment; keyword arguments override it."""

    model_config = SettingsConfigDict(env_prefix="MCPKIT_", extra="forbid", validate_default=True)

    disable_plugins: _NameList = Field(default_factory=list)
    """Plugins not to load, by entry-point or distribution name (``MCPKIT_DISABLE_PLUGINS=a,b``)."""

    load_plugins: Annotated[list[str] | None, NoDecode] = None
    """If set, load only these plugins (the kernel's built-ins always load); empty means none."""

    openapi_parser: str | None = None
    """Name of the OpenAPI parser to use; wins over ``experimental_enable_new_openapi_parser``."""

    experimental_enable_new_openapi_parser: bool = False
    """Use the ``experimental`` OpenAPI parser instead of ``legacy``."""

    name_strategy: str = "default"
    """Name strategy that turns operations into component names."""

    route_mappers: _NameList = Field(default_factory=list)
    """Route mappers (from plugins) applied, in order, after the route maps of a conversion."""

    forward_headers: _NameList = Field(default_factory=list)
    """Incoming HTTP headers that generated tools forward to the API (none by default)."""

    output_schemas: Literal["compact", "full", "none"] = "compact"
    """Output schemas of generated tools: ``compact`` (about 3 KB of definitions each, the rest
    generalised), ``full`` (every definition reached) or ``none``."""

    auth: dict[str, Any] = Field(default_factory=dict, repr=False)
    """Credentials for OpenAPI security schemes, by scheme name (``MCPKIT_AUTH`` as JSON), merged under
    the ``auth=`` option of ``from_openapi``/``from_fastapi``. Never shown in reprs."""

    response_filter: bool = False
    """Give every tool generated from an HTTP operation a ``response_filter`` argument (JMESPath)."""

    max_response_bytes: int | None = 100_000
    """Bound of a generated tool's result; a larger response becomes an error saying how to narrow
    it. ``none`` (or ``MCPKIT_MAX_RESPONSE_BYTES=none``) removes the bound."""

    discovery: Literal["off", "search", "auto"] = "off"
    """Discovery mode: list only ``search_tools`` and ``call_tool`` (``search``), or do so above 40
    tools (``auto``)."""

    search_strategy: str = "bm25"
    """Search strategy of discovery mode."""

    mask_error_details: bool = False
    """Hide the text of unexpected exceptions from clients (they are still logged)."""

    stdio_max_line_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    """Bytes one message (a line) over stdio may take; a longer one ends the session with an error."""

    allowed_hosts: _NameList = Field(default_factory=list)
    """``mcpkit serve`` over HTTP/SSE: the Host headers accepted (Host/Origin validation on); none
    given: the transport's default (loopback names on a loopback bind)."""

    allowed_origins: _NameList = Field(default_factory=list)
    """``mcpkit serve`` over HTTP/SSE: the Origin headers accepted; none given: from the hosts."""

    http_path: str | None = None
    """``mcpkit serve`` over HTTP/SSE: the endpoint's path (default ``/mcp``; ``/sse`` for SSE)."""

    stateless_http: bool = False
    """``mcpkit serve --transport http``: keep no sessions (any worker process can answer)."""

    oauth_issuer: str | None = None
    """``mcpkit serve`` over HTTP/SSE: serve as an OAuth protected resource accepting the JWTs this
    authorization server issues (needs ``oauth_audience``)."""

    oauth_audience: str | None = None
    """``mcpkit serve`` with ``oauth_issuer``: this server's canonical URL, the tokens' audience."""

    oauth_jwks_uri: str | None = None
    """``mcpkit serve`` with ``oauth_issuer``: the issuer's signing keys (default: from its metadata)."""

    oauth_scopes: _NameList = Field(default_factory=list)
    """``mcpkit serve`` with ``oauth_issuer``: scopes every token must hold."""

    @field_validator(
        "disable_plugins",
        "load_plugins",
        "route_mappers",
        "forward_headers",
        "allowed_hosts",
        "allowed_origins",
        "oauth_scopes",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("max_response_bytes", mode="before")
    @classmethod
    def _none_words(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "none", "off"):
            return None
        return value

    @property
    def selected_openapi_parser(self) -> str:
        """The OpenAPI parser these settings select: explicit name, else the env flag, else ``legacy``."""
        if self.openapi_parser:
            return self.openapi_parser
        if self.experimental_enable_new_openapi_parser:
            return EXPERIMENTAL_OPENAPI_PARSER
        return DEFAULT_OPENAPI_PARSER

"""The project file: what ``mcpkit serve`` serves with no TARGET, and how.

``mcpkit.toml`` (its top-level keys), or the ``[tool.mcpkit]`` table of ``pyproject.toml``, in the
project's directory: the source (a TARGET, as on the command line), its conversion options, the
transport and the HTTP options. Credentials, and headers that carry secrets, are given by reference to
environment variables (``{env = "NAME"}``), read when the server is built. Unknown keys and bad values
are refused with the file, the key and the valid choices (docs/cli.md#the-project-file).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mcpkit.cli_errors import CommandError, UsageError
from mcpkit.targets import is_module_reference

MCPKIT_TOML = "mcpkit.toml"
PYPROJECT_TOML = "pyproject.toml"
MAX_PROJECT_FILE_BYTES = 1_000_000
"""A project file larger than this is refused unread."""

_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)
_LITERAL_CHOICES = re.compile(r"'[^']*'")


class EnvironmentReference(BaseModel):
    """``{env = "NAME"}``: the value of the environment variable ``NAME``, read when it is used."""

    model_config = _STRICT

    env: str = Field(pattern=_ENV_NAME)


class HTTPOptions(BaseModel):
    """``[tool.mcpkit.http]``: the options of ``mcpkit serve --transport http`` (and ``sse``)."""

    model_config = _STRICT

    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    path: str | None = Field(default=None, pattern=r"^/")
    allowed_hosts: list[str] = Field(default_factory=list)
    allowed_origins: list[str] = Field(default_factory=list)
    stateless: bool = False
    forward_headers: list[str] = Field(default_factory=list)
    oauth_issuer: str | None = None
    oauth_audience: str | None = None
    oauth_jwks_uri: str | None = None
    oauth_scopes: list[str] = Field(default_factory=list)


class ProjectSettings(BaseModel):
    """``[tool.mcpkit]``: the keys of a project file."""

    model_config = _STRICT

    source: str = Field(min_length=1)
    transport: str | None = None
    name: str | None = None
    base_url: str | None = None
    route_maps: Literal["tools", "resources"] | None = None
    include_tags: list[str] = Field(default_factory=list)
    exclude_tags: list[str] = Field(default_factory=list)
    route_mappers: list[str] | None = None
    name_strategy: str | None = None
    parser: str | None = None
    output_schemas: Literal["compact", "full", "none"] | None = None
    response_filter: bool | None = None
    max_response_bytes: int | Literal["none"] | None = None
    """A positive number of bytes, or ``"none"`` (no bound)."""
    discovery: Literal["off", "search", "auto"] | None = None
    timeout: float | None = Field(default=None, gt=0)
    headers: dict[str, str | EnvironmentReference] = Field(default_factory=dict)
    auth: dict[str, EnvironmentReference] = Field(default_factory=dict)
    http: HTTPOptions = Field(default_factory=HTTPOptions)

    @field_validator("auth", mode="before")
    @classmethod
    def _credentials_by_reference(cls, value: object) -> object:
        if isinstance(value, Mapping) and any(isinstance(v, str) for v in value.values()):
            raise ValueError(
                'give each credential by reference to an environment variable, {env = "NAME"}: '
                "a secret written in a project file ends up in version control"
            )
        return value

    @field_validator("headers", mode="before")
    @classmethod
    def _header_values(cls, value: object) -> object:
        if isinstance(value, Mapping):
            for name, content in value.items():
                if not (isinstance(content, str) or _is_reference(content)):
                    raise ValueError(f'{name}: give the value as a string, or {{env = "NAME"}}')
        return value

    @field_validator("max_response_bytes", mode="before")
    @classmethod
    def _bound(cls, value: object) -> object:
        if value is None or value == "none" or (type(value) is int and value > 0):
            return value
        raise ValueError(f"give a positive number of bytes, or 'none', not {value!r}")


def _is_reference(value: object) -> bool:
    """Whether ``value`` is ``{env = "NAME"}`` with a valid variable name."""
    return (
        isinstance(value, Mapping)
        and set(value) == {"env"}
        and isinstance(value["env"], str)
        and re.fullmatch(_ENV_NAME, value["env"]) is not None
    )


@dataclass(frozen=True, slots=True)
class Project:
    """A project file, read and checked: where it is, and what it says."""

    file: Path
    table: str
    """Where its keys are: ``tool.mcpkit`` in ``pyproject.toml``, none in ``mcpkit.toml``."""
    settings: ProjectSettings
    name: str | None = None
    """The name of the Python project (``[project] name`` in ``pyproject.toml``), if there is one."""

    @property
    def directory(self) -> Path:
        """The project's directory (absolute): relative paths in the file are relative to it."""
        return self.file.parent.resolve()

    def key(self, *parts: str) -> str:
        """``file: tool.mcpkit.a.b``: where a value is, for messages."""
        return f"{self.file}: {'.'.join([self.table, *parts] if self.table else parts)}"

    @property
    def source(self) -> str:
        """The TARGET the project serves; a file path relative to the project's directory."""
        source = self.settings.source
        if source.startswith(("http://", "https://")) or is_module_reference(source):
            return source
        return str(self.directory / source)

    def environment_variables(self) -> list[str]:
        """The environment variables the project refers to (credentials, headers), sorted."""
        references = [*self.settings.auth.values(), *self.settings.headers.values()]
        return sorted({r.env for r in references if isinstance(r, EnvironmentReference)})

    def credentials(self) -> dict[str, str]:
        """The credentials by security scheme, read from the environment now."""
        return {name: self._read(ref, "auth", name) for name, ref in self.settings.auth.items()}

    def headers(self) -> dict[str, str]:
        """The headers sent to the API, references read from the environment now."""
        return {
            name: value if isinstance(value, str) else self._read(value, "headers", name)
            for name, value in self.settings.headers.items()
        }

    def _read(self, reference: EnvironmentReference, *key: str) -> str:
        value = os.environ.get(reference.env)
        if value is None:
            raise CommandError(
                f"{self.key(*key)} refers to the environment variable {reference.env}, which is not set"
            )
        return value


def find_project(directory: Path) -> Project | None:
    """The project file of ``directory``: ``mcpkit.toml``, else ``pyproject.toml`` if it has a
    ``[tool.mcpkit]`` table; both is a :class:`UsageError`."""
    own = directory / MCPKIT_TOML
    pyproject = directory / PYPROJECT_TOML
    python_project = _read_toml(pyproject) if pyproject.is_file() else {}
    in_pyproject = _tool_table(pyproject, python_project)
    metadata = python_project.get("project")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    name = name if isinstance(name, str) else None
    if own.is_file():
        if in_pyproject is not None:
            raise UsageError(f"{own} and [tool.mcpkit] in {pyproject} both configure the project; keep one")
        return _checked(own, "", _read_toml(own), name)
    if in_pyproject is not None:
        return _checked(pyproject, "tool.mcpkit", in_pyproject, name)
    return None


def _tool_table(pyproject: Path, document: dict[str, Any]) -> dict[str, Any] | None:
    tool = document.get("tool")
    table = tool.get("mcpkit") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UsageError(f"{pyproject}: tool.mcpkit: expected a table, got {type(table).__name__}")
    return table


def _read_toml(file: Path) -> dict[str, Any]:
    import tomllib

    size = file.stat().st_size
    if size > MAX_PROJECT_FILE_BYTES:
        raise UsageError(f"{file}: {size:,} bytes; a project file may take {MAX_PROJECT_FILE_BYTES:,}")
    try:
        with file.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{file}: not valid TOML: {exc}") from None


def _checked(file: Path, table: str, values: dict[str, Any], name: str | None) -> Project:
    try:
        settings = ProjectSettings.model_validate(values)
    except ValidationError as exc:
        problems = [_problem(file, table, error) for error in exc.errors()]
        raise UsageError("; ".join(problems)) from None
    return Project(file, table, settings, name)


def _problem(file: Path, table: str, error: Any) -> str:
    """One validation error: the file, the key, and what is wrong (the valid keys or choices)."""
    location = [str(part) for part in error["loc"] if not _is_union_member(part)]
    key = f"{file}: {'.'.join([table, *location] if table else location)}"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{key}: unknown key; valid keys: {', '.join(_keys_at(location[:-1]))}"
    if kind == "missing":
        return f"{key}: missing (required)"
    if kind == "literal_error":
        choices = ", ".join(_LITERAL_CHOICES.findall(error["ctx"]["expected"]))
        return f"{key}: {error['input']!r} is not valid; valid choices: {choices}"
    if kind == "value_error":
        return f"{key}: {error['ctx']['error']}"
    if kind == "string_pattern_mismatch":
        expected = (
            "a URL path, starting with /" if location[-1:] == ["path"] else "an environment variable name"
        )
        return f"{key}: {error['input']!r} is not {expected}"
    return f"{key}: {error['msg']} (got {error['input']!r})"


def _is_union_member(part: object) -> bool:
    """Whether ``part`` of an error location is pydantic's name of a union's member."""
    return part in {"str", "int", "EnvironmentReference", "literal['none']"}


def _keys_at(location: list[str]) -> list[str]:
    model: type[BaseModel] = ProjectSettings
    if location[:1] == ["http"]:
        model = HTTPOptions
    elif location[:1] in (["auth"], ["headers"]):
        model = EnvironmentReference
    return list(model.model_fields)

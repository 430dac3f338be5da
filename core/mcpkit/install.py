"""``mcpkit install``: add a server to the configuration of the clients people use.

Each client keeps its servers in a JSON file, under ``mcpServers`` (Claude Desktop, Claude Code,
Cursor) or ``servers`` (VS Code). The entry added launches ``mcpkit serve`` over stdio; every other
key and entry of the file is kept. A secret is passed by reference where the client can read one
(Claude Code ``${NAME}``, Cursor ``${env:NAME}``, VS Code ``${input:NAME}``, which it asks for once),
and refused elsewhere rather than written.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpkit.cli_errors import CommandError
from mcpkit.targets import is_module_reference

if TYPE_CHECKING:
    from mcpkit.project import Project

MAX_CONFIG_BYTES = 10_000_000
"""A configuration file larger than this is refused unread."""

_NOT_A_NAME = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class ServerEntry:
    """What to add: the entry's name, the command launching the server, and its environment."""

    name: str
    command: list[str]
    """The program and its arguments."""
    env: dict[str, str]
    """Variables written as they are."""
    secrets: list[str]
    """Variables passed by reference, never written."""


@dataclass(frozen=True)
class ClientFormat:
    """How one client stores its servers."""

    title: str
    servers_key: str
    default_config: Callable[[], Path | None]
    reference: Callable[[str], str] | None
    """How the client refers to an environment variable (``None``: it cannot)."""
    typed: bool = False
    """Whether an entry says ``"type": "stdio"``."""
    inputs: bool = False
    """Whether secrets are ``inputs`` the client asks for (VS Code)."""
    next_step: str = ""


def _claude_desktop_config() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    if sys.platform == "win32":
        roaming = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(roaming) / "Claude" / "claude_desktop_config.json"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "Claude" / "claude_desktop_config.json"


CLIENTS: dict[str, ClientFormat] = {
    "claude-desktop": ClientFormat(
        "Claude Desktop", "mcpServers", _claude_desktop_config, None, next_step="restart Claude Desktop"
    ),
    "claude-code": ClientFormat(
        "Claude Code",
        "mcpServers",
        lambda: Path(".mcp.json"),
        lambda name: f"${{{name}}}",
        typed=True,
        next_step="Claude Code asks to approve the project's servers when it starts here",
    ),
    "cursor": ClientFormat(
        "Cursor",
        "mcpServers",
        lambda: Path.home() / ".cursor" / "mcp.json",
        lambda name: f"${{env:{name}}}",
        typed=True,
        next_step="Cursor loads it from its MCP settings",
    ),
    "vscode": ClientFormat(
        "VS Code",
        "servers",
        lambda: Path(".vscode") / "mcp.json",
        lambda name: f"${{input:{name}}}",
        typed=True,
        inputs=True,
        next_step="start it from the file in VS Code (it asks for each input once)",
    ),
    "mcp-json": ClientFormat("an mcp.json file", "mcpServers", lambda: None, None),
}
"""The clients ``mcpkit install`` knows, by name."""


def default_name(target: str, project: Project | None) -> str:
    """The entry's name when none is given: the project's server name, else its Python project's
    name, else its directory's; the module of a ``module:attr``; the file's name without its suffix
    (a URL's too)."""
    if project is not None:
        text = project.settings.name or project.name or project.directory.resolve().name
    elif is_module_reference(target):
        text = target.partition(":")[0].rsplit(".", 1)[-1]
    else:
        text = Path(target.split("?")[0].rstrip("/").partition(".py:")[0]).stem
    return _NOT_A_NAME.sub("-", text.lower()).strip("-") or "mcpkit"


def add_server(
    client: str,
    entry: ServerEntry,
    *,
    config: Path | None,
    dry_run: bool,
    replace: bool,
    report: Callable[[str], None],
) -> None:
    """Add ``entry`` to ``client``'s configuration file (``config``, else the client's own), or print
    the change (``dry_run``), or print the entry (``mcp-json`` with no file)."""
    form = CLIENTS[client]
    secrets = [name for name in entry.secrets if name not in entry.env]
    if secrets and form.reference is None:
        raise CommandError(
            f"{form.title} cannot read a secret from the environment ({', '.join(secrets)}): give each as "
            "--env NAME=VALUE to write its value into the configuration, or use another client"
        )
    server = _server_config(form, entry, secrets)
    path = config or form.default_config()
    if path is not None:
        path = path.absolute()
    if path is None:
        report(json.dumps({form.servers_key: {entry.name: server}}, indent=2, ensure_ascii=False))
        return
    old_text = _read(path)
    document = _parse(path, old_text)
    servers = document.get(form.servers_key, {})
    if not isinstance(servers, dict):
        raise CommandError(f"{path}: {form.servers_key} is not an object; nothing was written")
    existing = servers.get(entry.name)
    if existing == server and not (form.inputs and _missing_inputs(document, secrets)):
        report(f"mcpkit: {path} already has the server {entry.name!r}; nothing to change")
        return
    if existing is not None and not replace:
        raise CommandError(
            f"{path} already has a server named {entry.name!r}: --replace replaces it, --name gives "
            "this one another name"
        )
    document[form.servers_key] = {**servers, entry.name: server}
    if form.inputs:
        _add_inputs(document, secrets, entry.name)
    new_text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if dry_run:
        report(_diff(path, old_text, new_text) + f"mcpkit: --dry-run: {path} was not changed")
        return
    _write(path, new_text)
    verb = "replaced" if existing is not None else "added"
    report(f"mcpkit: {verb} the server {entry.name!r} in {path} ({form.title}); {form.next_step or 'done'}")


def _server_config(form: ClientFormat, entry: ServerEntry, secrets: list[str]) -> dict[str, Any]:
    server: dict[str, Any] = {"type": "stdio"} if form.typed else {}
    server.update(command=entry.command[0], args=entry.command[1:])
    references = {name: form.reference(name) for name in secrets} if form.reference else {}
    env = {**entry.env, **references}
    if env:
        server["env"] = env
    return server


def _missing_inputs(document: dict[str, Any], secrets: list[str]) -> list[str]:
    inputs = document.get("inputs")
    known = {i.get("id") for i in inputs if isinstance(i, dict)} if isinstance(inputs, list) else set()
    return [name for name in secrets if name not in known]


def _add_inputs(document: dict[str, Any], secrets: list[str], server: str) -> None:
    """VS Code asks once for each ``${input:NAME}``, and keeps the answer in its secret storage."""
    inputs = document.get("inputs", [])
    if not isinstance(inputs, list):
        raise CommandError("the configuration's inputs is not a list; nothing was written")
    for name in _missing_inputs(document, secrets):
        inputs.append(
            {
                "type": "promptString",
                "id": name,
                "description": f"{name} for the server {server!r}",
                "password": True,
            }
        )
    if inputs:
        document["inputs"] = inputs


def _read(path: Path) -> str | None:
    if not path.exists():
        return None
    if not path.is_file():
        raise CommandError(f"{path} is not a file; nothing was written")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise CommandError(
            f"{path}: {size:,} bytes is more than a configuration file may take ({MAX_CONFIG_BYTES:,})"
        )
    return path.read_text(encoding="utf-8")


def _parse(path: Path, text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CommandError(
            f"{path} is not valid JSON ({exc}); nothing was written. If it holds comments, add the entry "
            "by hand: --dry-run prints it"
        ) from None
    if not isinstance(document, dict):
        raise CommandError(
            f"{path} holds a JSON {type(document).__name__}, not an object; nothing was written"
        )
    return document


def _diff(path: Path, old: str | None, new: str) -> str:
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=str(path) if old is not None else "/dev/null",
        tofile=str(path),
    )
    return "".join(lines)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, keeping its permissions (new: owner only); a
    symbolic link is followed."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

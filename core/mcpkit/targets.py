"""What a command-line TARGET names, and the server it becomes.

A TARGET is an ``http(s)://`` URL or a file path (an OpenAPI document, say), or a Python object named
as ``module:attr`` or ``file.py[:attr]`` (an :class:`~mcpkit.MCPKit` server, a function returning
one, a FastAPI app, ...). The command line does not know these kinds: the target resolvers plugins
register (``mcpkit_register_target_resolvers``) are asked in turn, and the first that claims the
target says how to build it, as a :class:`Target`. The kernel's own resolver, ``mcpkit``, claims
``MCPKit`` servers.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mcpkit.cli_errors import CommandError, describe
from mcpkit.plugins import TARGET_RESOLVERS, get_plugin_host
from mcpkit.server import MCPKit

_MODULE_REFERENCE = re.compile(r"(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)")
_FILE_REFERENCE = re.compile(r"(?P<file>.+\.py)(?::(?P<attr>[A-Za-z_][\w.]*))?")
_URL_SCHEMES = ("http://", "https://")
_KINDS_SERVED = (
    "an MCPKit server, a function returning one, a FastAPI app or an OpenAPI document, or what a "
    "plugin serves (docs/cli.md#targets)"
)


@dataclass(frozen=True, slots=True)
class Target:
    """What a target resolver made of a TARGET: how to build its server, and how to inspect it.

    - ``kind``: what the target is, for messages (``"OpenAPI document"``, ``"MCPKit server"``).
    - ``build(**options)``: the server. ``options`` are those of ``MCPKit.from_openapi`` that the
      command line sets (``name``, ``auth``, ``route_maps``, ``route_map_fn``, ``route_mappers``,
      ``name_strategy``, ``parser``, ``output_schemas``, ``response_filter``, ``max_response_bytes``,
      ``discovery``, ``timeout``, ``forward_headers``) and two more: ``base_url`` (where the API is)
      and ``headers`` (sent with every request to it). Only the options given are passed.
    - ``inspect(*, settings, **options)``: what ``build`` makes, as ``mcpkit inspect --json``
      prints it (:class:`mcpkit.sources.InspectableSource`), calling nothing; ``options`` are
      ``route_maps``, ``route_map_fn``, ``route_mappers``, ``name_strategy`` and ``parser``.
      ``None``: the target cannot be inspected.
    - ``converts``: whether the target is an API to convert, which takes those options; a ready
      server (``False``) is served as it is and any such option is refused.
    """

    kind: str
    build: Callable[..., MCPKit]
    inspect: Callable[..., dict[str, Any]] | None = None
    converts: bool = True


TargetResolver = Callable[[object], Target | None]
"""``resolver(target) -> Target | None``: claims a target (a :class:`Target`) or leaves it (``None``)."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """A TARGET, the resolver that claimed it (its registered name) and what it made of it."""

    text: str
    resolver: str
    target: Target


def is_module_reference(text: str) -> bool:
    """Whether ``text`` names a Python object as ``module:attr`` (``file.py:attr`` names a file)."""
    return _FILE_REFERENCE.fullmatch(text) is None and _MODULE_REFERENCE.fullmatch(text) is not None


def resolve(text: str, directory: Path | None = None) -> Resolved:
    """The server TARGET ``text`` names (not built yet); a ``module:attr`` is imported from
    ``directory`` (default: the current one). A target nothing claims is a :class:`CommandError`
    saying what is served and which well-known plugins are missing."""
    if not text.startswith(_URL_SCHEMES):
        file = _FILE_REFERENCE.fullmatch(text)
        if file is not None:
            imported = import_file(Path(file["file"]))
            if file["attr"]:
                return _claim_object(text, _attribute(imported, file["attr"], file["file"]))
            return _only_server(text, imported)
        module = _MODULE_REFERENCE.fullmatch(text)
        if module is not None:
            return _claim_object(text, import_object(module["module"], module["attr"], directory))
        path = Path(text)
        if path.is_dir():
            raise CommandError(
                f"{text!r} is a directory with no project file (mcpkit.toml, or pyproject.toml)"
            )
        if not path.exists():
            raise CommandError(
                f"no file {text!r}; a TARGET is a file, an http(s) URL, module:attr or file.py[:attr]"
            )
    found = claim(text)
    if found is None:
        raise _unserved(text, "a file" if not text.startswith(_URL_SCHEMES) else "a URL")
    return Resolved(text, *found)


def claim(value: object) -> tuple[str, Target] | None:
    """The first target resolver (in plugin load order) that claims ``value``: its name and target."""
    for registration in get_plugin_host().target_resolvers:
        try:
            target = registration.value(value)
        except Exception as exc:
            raise CommandError(
                f"the target resolver {registration.name!r} (plugin {registration.plugin!r}) failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if target is None:
            continue
        if not isinstance(target, Target):
            raise CommandError(
                f"the target resolver {registration.name!r} (plugin {registration.plugin!r}) returned "
                f"{type(target).__name__}, not a mcpkit.targets.Target"
            )
        return registration.name, target
    return None


def _claim_object(text: str, value: object) -> Resolved:
    """``value`` as a target; a function nobody claims is called, and what it returns is claimed."""
    found = claim(value)
    if found is None and inspect.isroutine(value):
        value = _call_factory(text, value)
        found = claim(value)
        if found is None:
            raise _unserved(text, f"a function returning {_a(value)}")
    if found is None:
        raise _unserved(text, _a(value))
    return Resolved(text, *found)


def _call_factory(text: str, factory: Callable[[], Any]) -> Any:
    """What ``factory()`` returns (awaited, for an ``async def``)."""
    try:
        if inspect.iscoroutinefunction(factory):
            import anyio

            return anyio.run(factory)
        return factory()
    except Exception as exc:
        raise CommandError(f"calling {text}() failed: {type(exc).__name__}: {exc}") from None


def _only_server(text: str, module: ModuleType) -> Resolved:
    """The server a file defines: its only ready server (an ``MCPKit``), else its only target."""
    found = servers_in(module)
    ready = {name: claimed for name, claimed in found.items() if not claimed[1].converts}
    chosen = ready if len(ready) == 1 else found
    if len(chosen) == 1:
        [(resolver, target)] = chosen.values()
        return Resolved(text, resolver, target)
    if not found:
        raise CommandError(f"{text} defines no server ({_KINDS_SERVED}); name one as {text}:NAME")
    names = ", ".join(sorted(found))
    raise CommandError(f"{text} defines several servers ({names}); name one as {text}:NAME")


def servers_in(module: ModuleType) -> dict[str, tuple[str, Target]]:
    """The module-level values of ``module`` that a target resolver claims, by name. Functions,
    classes, modules and private names are left out: nothing is called."""
    found: dict[str, tuple[str, Target]] = {}
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, ModuleType | type) or inspect.isroutine(value):
            continue
        if isinstance(value, str | bytes | int | float):
            continue
        claimed = claim(value)
        if claimed is not None:
            found[name] = claimed
    return found


def _unserved(text: str, what: str) -> CommandError:
    """Nothing claims ``text``: what is served, and the well-known resolvers that are not installed."""
    registry = get_plugin_host().target_resolvers
    missing = [
        f"pip install {install!r} serves {name} targets"
        for name, install in TARGET_RESOLVERS.install_hints.items()
        if name not in registry
    ]
    hint = f"; not installed: {'; '.join(missing)}" if missing else ""
    return CommandError(f"nothing serves {text} ({what}): a TARGET is {_KINDS_SERVED}{hint}")


def _a(value: object) -> str:
    if isinstance(value, type):
        return f"the class {value.__name__}, not an instance"
    return f"a value of type {type(value).__name__}"


# Importing


def import_object(module_name: str, attribute: str, directory: Path | None = None) -> Any:
    """The object ``module:attr`` names, the module imported from ``directory`` (default: the
    current directory) first."""
    here = str(directory.resolve()) if directory is not None else os.getcwd()
    _on_path(here)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and f"{module_name}.".startswith(f"{exc.name}."):  # it, or its package
            raise CommandError(f"no module named {exc.name!r} in {here} or on the Python path") from None
        raise _import_failed(module_name, exc, here) from None
    except Exception as exc:
        raise _import_failed(module_name, exc, here) from None
    return _attribute(module, attribute, f"module {module_name!r}")


def import_file(path: Path) -> ModuleType:
    """The module in the Python file ``path``, its directory put on ``sys.path`` first (so that its
    sibling modules import). It is named for the file (``server.py``: ``server``) unless another
    module has that name."""
    if not path.is_file():
        raise CommandError(f"no file {str(path)!r}")
    path = path.resolve()
    _on_path(str(path.parent))
    name = path.stem if _free_module_name(path.stem, path) else f"mcpkit_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CommandError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise _import_failed(path.name, exc, str(path.parent)) from None
    return module


def _free_module_name(name: str, path: Path) -> bool:
    """Whether ``name`` is a valid module name that no other module already has."""
    if not name.isidentifier():
        return False
    existing = sys.modules.get(name)
    return existing is None or getattr(existing, "__file__", None) == str(path)


def _attribute(module: ModuleType, attribute: str, where: str) -> Any:
    """``module``'s (dotted) ``attribute``; ``where`` names the module in the error."""
    found: Any = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            servers = sorted(servers_in(module))
            hint = f"; servers in it: {', '.join(servers)}" if servers else ""
            raise CommandError(f"{where} has no attribute {attribute!r}{hint}")
        found = getattr(found, part)
    return found


def _on_path(directory: str) -> None:
    """Put ``directory`` (absolute: a relative entry's finder is cached for the first directory it
    meant) first on ``sys.path``."""
    if directory not in sys.path:
        sys.path.insert(0, directory)


def _import_failed(module_name: str, exc: Exception, directory: str) -> CommandError:
    return CommandError(f"importing {module_name!r} failed: {describe(exc)}{_where(exc, directory)}")


def _where(exc: BaseException, directory: str) -> str:
    """`` (file.py, line N)``: the last place in ``directory``'s files that the error went through."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(directory)]
    if not frames:
        return ""
    return f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})"


# The kernel's resolver: MCPKit servers


def server_target(value: object) -> Target | None:
    """The ``mcpkit`` target resolver: an :class:`~mcpkit.MCPKit` server, served as it is."""
    if not isinstance(value, MCPKit):
        return None
    server = value

    def build(**options: Any) -> MCPKit:
        return server

    def report(**options: Any) -> dict[str, Any]:
        return server_report(server)

    return Target("MCPKit server", build, report, converts=False)


def server_report(server: MCPKit) -> dict[str, Any]:
    """What ``server`` serves, as ``mcpkit inspect --json`` prints it: its enabled components (those
    of mounted servers included) with their kind, name, tags, and annotations (a tool), URI (a
    resource or template) or arguments (a prompt)."""
    catalog = server.catalog()
    components: list[dict[str, Any]] = []
    for tool in catalog.tools.values():
        annotations = (
            tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        )
        components.append(_entry("tool", tool.name, tool.tags, annotations=annotations))
    for resource in catalog.resources.values():
        components.append(_entry("resource", resource.name, resource.tags, uri=resource.uri))
    for template in catalog.templates.values():
        components.append(
            _entry("resource_template", template.name, template.tags, uri=template.uri_template)
        )
    for prompt in catalog.prompts.values():
        arguments = [{"name": a.name, "required": bool(a.required)} for a in prompt.arguments]
        components.append(_entry("prompt", prompt.name, prompt.tags, arguments=arguments))
    return {
        "title": server.name,
        "version": server.lowlevel_server.version or "",
        "components": components,
        "excluded": [],
        "skipped": [],
        "warnings": [],
    }


def _entry(kind: str, name: str, tags: frozenset[str], **details: Any) -> dict[str, Any]:
    return {"kind": kind, "name": name, "method": None, "path": None, "tags": sorted(tags), **details}

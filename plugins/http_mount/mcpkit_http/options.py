"""Checks of transport options, so that mistakes fail early with a clear message."""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

N = TypeVar("N", int, float)

_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")

_UVICORN_RESERVED = {
    "app": "the transport passes its own app",
    "host": "pass host= to the transport",
    "port": "pass port= to the transport",
    "log_level": "pass log_level= to the transport",
    "http": "the transport serves its own h11 protocol, which enforces header_timeout and max_connections",
    "workers": (
        "several workers need an import string: serve app = mcp.http_app(stateless=True) with "
        "`uvicorn module:app --workers N`"
    ),
}


def check_path(option: str, path: object) -> str:
    """``path`` if it is a fixed URL path (``/mcp``); a ``ValueError`` saying what is wrong otherwise."""
    if not isinstance(path, str):
        raise TypeError(f"{option} must be a string like '/mcp', got {type(path).__name__}")
    if not path.startswith("/"):
        raise ValueError(f"{option} must start with '/', got {path!r} (did you mean {'/' + path!r}?)")
    if "//" in path or not _PATH.fullmatch(path):
        raise ValueError(
            f"{option} must be a plain URL path without '//', parameters, query or fragment, got {path!r}"
        )
    return path


def check_limit(option: str, value: object, kind: type[N]) -> N | None:
    """``value`` if it is a positive number of ``kind`` (a float may be given as an int), or ``None``
    (no limit); a clear error otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise TypeError(f"{option} must be a positive {kind.__name__} or None (no limit), got {value!r}")
    if not value > 0:
        raise ValueError(f"{option} must be positive (None for no limit), got {value!r}")
    return kind(value)


def check_uvicorn_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Extra ``uvicorn.Config`` keyword arguments, refusing those the transport sets itself."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise TypeError(f"uvicorn_config must be a mapping of uvicorn.Config arguments, got {config!r}")
    for key in config:
        if key in _UVICORN_RESERVED:
            raise ValueError(f"uvicorn_config cannot set {key!r}: {_UVICORN_RESERVED[key]}")
    return dict(config)


def reject_unknown(transport: str, unknown: Mapping[str, Any], signatures: Iterable[Any]) -> None:
    """Raise a ``TypeError`` naming each unknown option, a close match, and the valid ones."""
    if not unknown:
        return
    valid = sorted(
        {
            name
            for function in signatures
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        }
    )
    problems = []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, valid, n=1)
        problems.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise TypeError(
        f"the {transport} transport does not take {', '.join(problems)}; valid options: {', '.join(valid)}"
    )

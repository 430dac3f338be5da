"""The two errors of the ``mcpkit`` command: the command line is wrong, or the command failed."""

from __future__ import annotations

from mcpkit.exceptions import MCPKitError


class UsageError(MCPKitError):
    """The command line (or the project file standing for it) is wrong: exit code 2."""


class CommandError(MCPKitError):
    """The command was understood but failed: exit code 1."""


def describe(exc: BaseException) -> str:
    """One line saying what went wrong: the message of mcpkit's own and of common errors, else the
    exception's type and message."""
    known = (MCPKitError, ValueError, TypeError, OSError)
    text = str(exc) if isinstance(exc, known) and str(exc) else f"{type(exc).__name__}: {exc}"
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())

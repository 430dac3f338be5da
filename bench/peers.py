"""The peers measured beside mcpkit, each installed into its own virtual environment.

- ``fastmcp``: FastMCP 4.1.6 (on the MCP SDK 2.3.0, like mcpkit), in ``.bench-venv``;
- ``fastapi-mcp``: fastapi-mcp 0.4.0, which needs the SDK 1.x (``mcp<2``; with 2.x it fails at import
  time), in ``.bench-venv-fastapi-mcp``.

Both get the FastAPI stack (fastapi, starlette, uvicorn, httpx, python-multipart) pinned to the versions
of the environment running the benchmark, so the same app code runs on the same framework everywhere.
Benchmarks run peer code in a subprocess with that environment's Python; a script prints one JSON
object on its last line. ``python bench/peers.py`` (re)creates both environments.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / ".bench-venv"
SHARED = ("fastapi", "starlette", "uvicorn", "httpx", "python-multipart", "anyio")
PEERS = ["fastmcp==4.1.6", "pyyaml>=6"]
ENVIRONMENTS: dict[str, tuple[Path, list[str]]] = {
    "fastmcp": (PEER_VENV, PEERS),
    "fastapi-mcp": (ROOT / ".bench-venv-fastapi-mcp", ["fastapi-mcp==0.4.0", "mcp<2", "pyyaml>=6"]),
}


def pins() -> list[str]:
    """The FastAPI stack at this environment's versions (what is installed here, nothing else)."""
    found = []
    for name in SHARED:
        try:
            found.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            continue
    return found


def peer_python(name: str = "fastmcp") -> Path:
    """The Python of the peer environment ``name``, creating the environment on first use."""
    where, packages = ENVIRONMENTS[name]
    wanted = [*packages, *pins()]
    python = where / "bin" / "python"
    marker = where / "peers.txt"
    if not python.exists() or not marker.exists() or marker.read_text() != "\n".join(wanted):
        print(f"installing {' '.join(wanted)} into {where.name}/ ...", file=sys.stderr, flush=True)
        venv.create(where, with_pip=True, clear=True)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *wanted],
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode != 0:
            raise RuntimeError(f"installing {wanted} failed:\n{install.stderr[-3000:]}")
        marker.write_text("\n".join(wanted))
    return python


def run_peer(code: str, *args: str, timeout: float = 900, env: str = "fastmcp") -> dict[str, Any]:
    """Run ``code`` (a Python script) with the Python of peer environment ``env``; its last line is JSON."""
    command = [str(peer_python(env)), "-c", code, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"peer script failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def installed(env: str, *packages: str) -> dict[str, str]:
    """Versions of ``packages`` in peer environment ``env``."""
    code = (
        "import json, sys\nfrom importlib.metadata import version\n"
        "print(json.dumps({p: version(p) for p in sys.argv[1:]}))"
    )
    return {k: str(v) for k, v in run_peer(code, *packages, env=env).items()}


if __name__ == "__main__":
    for environment in ENVIRONMENTS:
        print(peer_python(environment), file=sys.stderr)

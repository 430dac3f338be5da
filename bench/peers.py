"""The peers measured beside mcpkit, installed into their own virtual environment (``.bench-venv``).

Benchmarks run peer code in a subprocess with that environment's Python; the script prints one JSON
object on its last line. ``python bench/peers.py`` (re)creates the environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / ".bench-venv"
PEERS = ["fastmcp==4.1.6", "pyyaml>=6"]


def peer_python() -> Path:
    """The peers' Python, creating the environment on first use."""
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / "peers.txt"
    if not python.exists() or not marker.exists() or marker.read_text() != "\n".join(PEERS):
        venv.create(PEER_VENV, with_pip=True, clear=True)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *PEERS],
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode != 0:
            raise RuntimeError(f"installing {PEERS} failed:\n{install.stderr[-3000:]}")
        marker.write_text("\n".join(PEERS))
    return python


def run_peer(code: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``code`` (a Python script) with the peers' Python; its last output line is JSON."""
    result = subprocess.run(
        [str(peer_python()), "-c", code, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"peer script failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    print(peer_python(), file=sys.stderr)

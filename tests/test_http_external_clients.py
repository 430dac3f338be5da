"""CI's external client checks (scripts/external_clients.py) skip with a reason where npm is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_external_client_checks_skip_with_a_reason_without_npm(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # a PATH with no npm on it
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "external_clients.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("external client checks skipped: npm is not installed")


def test_ci_runs_the_external_client_checks():
    assert "python scripts/external_clients.py" in (ROOT / ".ci" / "run").read_text().splitlines()

"""Shared fixtures: a clean plugin host per test, and installable fake plugin distributions."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcpkit.plugins import reset_plugin_host


@pytest.fixture(autouse=True)
def _fresh_plugin_host() -> Iterator[None]:
    """Every test starts and ends with a process-wide plugin host that reloads the environment."""
    reset_plugin_host()
    yield
    reset_plugin_host()


FakeDistribution = Callable[..., Path]


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeDistribution:
    """Install a real (if tiny) distribution on ``sys.path``: a module plus a dist-info with entry points.

    ``fake_distribution("acme-mcp", {"acme": "acme_plugin"}, {"acme_plugin": "<source>"})``
    """
    site = tmp_path / "site-packages"
    site.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(site))

    def install(dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> Path:
        for module, source in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(source))
            sys.modules.pop(module, None)
        info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "\n".join(f"{name} = {target}" for name, target in entry_points.items())
        (info / "entry_points.txt").write_text(f"[mcpkit]\n{lines}\n")
        return info

    return install

"""Docs stay true: their Python blocks run, and CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(document: Path) -> list[tuple[str, str]]:
    text = document.read_text()
    where = document.relative_to(ROOT)
    return [(f"{where} block {i + 1}", match.group(1)) for i, match in enumerate(BLOCK.finditer(text))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_python_blocks_run(document, tmp_path, monkeypatch):
    """The blocks of one page run in order in one namespace, as a reader would run them."""
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for where, code in python_blocks(document):
        exec(compile(code, where, "exec"), namespace)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    [test_command] = re.findall(r"^# Run the tests:.*\n(.+)$", readme, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci

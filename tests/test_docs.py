"""Docs stay true: every code block of README.md and docs/*.md is run or checked, as its fence says.

The rule, by the fence's info string (a language, then optional ``key=value`` attributes):

- ``python``: run. The blocks of a page run in order, in one namespace, in a fresh working directory
  that is also on ``sys.path`` (so a module written by an earlier block can be imported).
- ``console``: a shell session. Each ``$ mcpkit ...`` line runs the command in-process
  (:func:`mcpkit.cli.main`) in the page's working directory; it must exit 0, or the code a trailing
  ``# exit N`` gives. The lines after it, up to the next ``$``, are output: each must appear in what
  the command printed (runs of spaces count as one; lines made only of table borders and ``...``
  lines, which stand for lines left out, are not compared). Any other command, and ``mcpkit serve``
  unless it is expected to fail, fails the test: show it as text.
- any language with ``file=NAME``: not run; written to NAME in the working directory, for the blocks
  after it (a document to serve, a module to import).
- any language with ``source=PATH`` (and optionally ``lines=FIRST-LAST``): a copy of that repository
  file (or of those lines); it must match exactly. The file itself is tested where it lives.
- ``json``, ``toml``, ``yaml``: must parse.
- ``text``: shown, never run: install commands, servers that run until stopped, sample output,
  settings that need your own paths. Its ``mcpkit ...`` command lines are checked, not run: they must
  be command lines the CLI accepts (:func:`mcpkit.cli.parse_command_line`).
- any other language, or none, fails the test: say which rule applies.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mcpkit.cli import main, parse_command_line

ROOT = Path(__file__).parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
PARSERS = {"json": json.loads, "toml": tomllib.loads, "yaml": yaml.safe_load}
BORDERS = re.compile(r"^[\s\u2500-\u257f]*$")
EXIT = re.compile(r"\s#\s*exit\s+(\d+)\s*$")


@dataclass(frozen=True)
class Block:
    where: str
    language: str
    attributes: dict[str, str]
    text: str


def blocks(document: Path) -> list[Block]:
    found = []
    where = document.relative_to(ROOT)
    for i, match in enumerate(FENCE.finditer(document.read_text())):
        language, *rest = match.group(1).split() or [""]
        attributes = dict(part.split("=", 1) for part in rest)
        found.append(Block(f"{where} block {i + 1}", language, attributes, match.group(2)))
    return found


def mcpkit_command(line: str) -> list[str] | None:
    """The arguments of an ``mcpkit`` command line (environment assignments before it skipped)."""
    words = shlex.split(line, comments=True)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words.pop(0)
    return words[1:] if words and words[0] == "mcpkit" else None


def normalised(text: str) -> str:
    return " ".join(text.split())


def run_console(block: Block, capsys) -> None:
    session: list[tuple[str, list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            session.append((line[2:], []))
        else:
            assert session, f"{block.where}: output before any command"
            session[-1][1].append(line)
    for command, expected in session:
        argv = mcpkit_command(command)
        assert argv is not None, f"{block.where}: only mcpkit commands run; show {command!r} as text"
        exit_match = EXIT.search(command)
        serves = argv[:1] == ["serve"] and not exit_match
        assert not serves, f"{block.where}: a server runs until stopped; show {command!r} as text"
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == (int(exit_match.group(1)) if exit_match else 0), (
            f"{block.where}: {command}\n{out}{err}"
        )
        printed = normalised(out + err)
        for line in expected:
            if line.strip() != "..." and not BORDERS.fullmatch(line):
                assert normalised(line) in printed, (
                    f"{block.where}: {command} did not print {line!r}:\n{out}{err}"
                )


def check_text(block: Block) -> None:
    for line in block.text.splitlines():
        argv = mcpkit_command(line.removeprefix("$ ")) if line.strip() else None
        if argv is not None:
            parse_command_line(argv)


@pytest.fixture
def page_directory(tmp_path, monkeypatch):
    """A fresh working directory on sys.path; modules imported from it are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    monkeypatch.setenv("COLUMNS", "100")  # the width the docs' tables were printed at
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[str(d.relative_to(ROOT)) for d in DOCUMENTS])
def test_every_block_runs_or_is_checked(document, page_directory, capsys):
    namespace = {"__name__": "__docs__"}
    for block in blocks(document):
        if "source" in block.attributes:
            source = (ROOT / block.attributes["source"]).read_text()
            if "lines" in block.attributes:
                first, last = map(int, block.attributes["lines"].split("-"))
                source = "".join(source.splitlines(keepends=True)[first - 1 : last])
            assert block.text == source, f"{block.where} differs from {block.attributes['source']}"
        elif "file" in block.attributes:
            path = page_directory / block.attributes["file"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
        elif block.language == "python":
            exec(compile(block.text, block.where, "exec", dont_inherit=True), namespace)
        elif block.language == "console":
            run_console(block, capsys)
        elif block.language in PARSERS:
            PARSERS[block.language](block.text)
        elif block.language == "text":
            check_text(block)
        else:
            pytest.fail(
                f"{block.where}: fence {block.language or '(none)'!r}: use python, console, text, json, toml or yaml"
            )


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    [test_command] = re.findall(r"^# Run the tests:.*\n(.+)$", readme, re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def test_every_page_is_linked_from_the_index_and_the_readme():
    index = (ROOT / "docs" / "index.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "index.md":
            assert f"({page.name}" in index, f"docs/index.md does not link {page.name}"
            assert f"(docs/{page.name}" in readme, f"README.md does not link docs/{page.name}"

"""Every hook is named mcpkit_*, typed, documented in its docstring and in docs/hooks.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from mcpkit import hookspecs
from mcpkit.plugins import KINDS, PluginHost

HOOKS = [
    (name, fn) for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "mcpkit_spec")
]
DOCS = (Path(__file__).parent.parent / "docs" / "hooks.md").read_text()


def test_there_are_hooks_for_every_extension_point():
    assert {name for name, _ in HOOKS} == {
        "mcpkit_register_sources",
        "mcpkit_register_name_strategies",
        "mcpkit_register_route_mappers",
        "mcpkit_register_transports",
        "mcpkit_register_openapi_parsers",
        "mcpkit_register_search_strategies",
        "mcpkit_register_target_resolvers",
        "mcpkit_handle_request",
    }


@pytest.mark.parametrize(("name", "fn"), HOOKS, ids=[name for name, _ in HOOKS])
def test_hook_is_typed_and_documented(name, fn):
    assert name.startswith("mcpkit_")
    doc = inspect.getdoc(fn)
    assert doc, f"{name} has no docstring"
    assert len(doc.split()) >= 20, f"{name}'s docstring is too thin to be a contract"
    signature = inspect.signature(fn)
    assert signature.return_annotation != inspect.Signature.empty, f"{name} has no return annotation"
    for param in signature.parameters.values():
        assert param.annotation != inspect.Parameter.empty, f"{name}({param.name}) is not annotated"
    assert re.search(rf"^## {name}$", DOCS, re.MULTILINE), f"docs/hooks.md has no section for {name}"


def test_docs_describe_no_hook_that_does_not_exist():
    documented = set(re.findall(r"^## (mcpkit_\w+)$", DOCS, re.MULTILINE))
    assert documented == {name for name, _ in HOOKS}


def test_every_register_hook_feeds_exactly_one_registry():
    register_hooks = sorted(name for name, _ in HOOKS if name.startswith("mcpkit_register_"))
    assert sorted(kind.hook for kind in KINDS) == register_hooks
    host = PluginHost(load_entry_points=False)
    for kind in KINDS:
        assert host.registry(kind).names() == []

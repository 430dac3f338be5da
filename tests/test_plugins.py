"""Plugin loading through real entry points: good, broken, invalid, disabled, selected, duplicated."""

from __future__ import annotations

import logging

import pluggy
import pytest

from mcpkit import MCPKit, MCPType, MissingPluginError, RegistrationError, Route, Settings, UnknownNameError
from mcpkit.plugins import PluginHost, get_plugin_host, hookimpl
from mcpkit.transports import StdioTransport

GOOD_PLUGIN = """
from mcpkit import MCPType, hookimpl
from mcpkit.transports import Transport

class LoopbackTransport(Transport):
    async def serve(self, server):
        return None

def only_reads(route, mcp_type):
    return None if route.method == "GET" else MCPType.EXCLUDE

@hookimpl
def mcpkit_register_transports(register):
    register("loopback", LoopbackTransport)

@hookimpl
def mcpkit_register_route_mappers(register):
    register("only-reads", only_reads)

@hookimpl
def mcpkit_register_name_strategies(register):
    register("shouty", lambda route: (route.operation_id or "op").upper())
"""


def test_kernel_builtins_load_through_their_entry_point():
    host = PluginHost()
    kernel = next(p for p in host.plugins if p.name == "mcpkit")
    assert kernel.distribution == "mcpkit"
    assert kernel.hooks == (
        "mcpkit_register_name_strategies",
        "mcpkit_register_search_strategies",
        "mcpkit_register_target_resolvers",
        "mcpkit_register_transports",
    )
    assert host.transports.get("stdio") is StdioTransport
    assert host.transports.registration("stdio").plugin == "mcpkit"
    assert "default" in host.name_strategies


def test_third_party_plugin_is_found_and_credited(fake_distribution):
    fake_distribution("acme-mcp", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    host = PluginHost()
    acme = next(p for p in host.plugins if p.name == "acme")
    assert (acme.distribution, acme.version) == ("acme-mcp", "1.0")
    assert set(acme.hooks) == {
        "mcpkit_register_transports",
        "mcpkit_register_route_mappers",
        "mcpkit_register_name_strategies",
    }
    assert host.transports.registration("loopback").plugin == "acme"
    mapper = host.route_mappers.get("only-reads")
    assert mapper(Route("POST", "/x"), MCPType.TOOL) is MCPType.EXCLUDE
    assert host.failures == []


def test_plugin_that_fails_to_import_is_reported_and_skipped(fake_distribution, caplog):
    fake_distribution("broken-mcp", {"broken": "broken_plugin"}, {"broken_plugin": "import does_not_exist\n"})
    fake_distribution("acme-mcp", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    with caplog.at_level(logging.WARNING, logger="mcpkit.plugins"):
        host = PluginHost()
    [failure] = host.failures
    assert failure.plugin == "broken"
    assert failure.entry_point == "broken = broken_plugin"
    assert failure.distribution == "broken-mcp"
    assert "does_not_exist" in failure.error
    assert "broken-mcp" in caplog.text
    assert "does_not_exist" in caplog.text
    assert "loopback" in host.transports  # the good plugin still loaded
    assert "broken" not in {p.name for p in host.plugins}


def test_plugin_implementing_an_unknown_hook_is_rejected(fake_distribution):
    typo = "from mcpkit import hookimpl\n@hookimpl\ndef mcpkit_register_transport(register):\n    pass\n"
    fake_distribution("typo-mcp", {"typo": "typo_plugin"}, {"typo_plugin": typo})
    host = PluginHost()
    [failure] = host.failures
    assert failure.plugin == "typo"
    assert "mcpkit_register_transport" in failure.error
    assert "typo" not in {p.name for p in host.plugins}


def test_plugin_with_a_wrong_hook_signature_is_rejected(fake_distribution, monkeypatch):
    bad = (
        "from mcpkit import hookimpl\n@hookimpl\ndef mcpkit_register_transports(register, extra):\n    pass\n"
    )
    fake_distribution("bad-mcp", {"bad": "bad_plugin"}, {"bad_plugin": bad})
    monkeypatch.setenv("MCPKIT_LOAD_PLUGINS", "bad")
    host = PluginHost(Settings())
    [failure] = host.failures
    assert "extra" in failure.error
    assert host.transports.names() == ["stdio"]


def test_hook_that_raises_is_reported_and_others_still_register(fake_distribution, monkeypatch):
    raising = (
        "from mcpkit import hookimpl\n"
        "@hookimpl\n"
        "def mcpkit_register_transports(register):\n"
        "    raise RuntimeError('kaboom')\n"
    )
    fake_distribution("raising-mcp", {"raising": "raising_plugin"}, {"raising_plugin": raising})
    fake_distribution("acme-mcp", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    monkeypatch.setenv("MCPKIT_LOAD_PLUGINS", "raising,acme")
    host = PluginHost(Settings())
    assert host.transports.names() == ["loopback", "stdio"]
    [failure] = host.failures
    assert failure.plugin == "raising"
    assert "kaboom" in failure.error


def test_duplicate_names_are_refused_and_the_first_registration_kept(fake_distribution):
    dup = (
        "from mcpkit import hookimpl\n"
        "from mcpkit.transports import StdioTransport\n"
        "class Other(StdioTransport):\n"
        "    pass\n"
        "@hookimpl\n"
        "def mcpkit_register_transports(register):\n"
        "    register('stdio', Other)\n"
    )
    fake_distribution("dup-mcp", {"dup": "dup_plugin"}, {"dup_plugin": dup})
    host = PluginHost()
    assert host.transports.get("stdio") is StdioTransport
    [failure] = host.failures
    assert "already registered" in failure.error
    assert "'mcpkit'" in failure.error


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("Bad Name", StdioTransport, "is invalid"),
        ("fine", object, "expected a subclass of mcpkit.transports.Transport"),
    ],
)
def test_invalid_registrations_are_refused(name, value, message):
    class Plugin:
        @hookimpl
        def mcpkit_register_transports(self, register):
            register(name, value)

    host = PluginHost(load_entry_points=False)
    host.register(Plugin(), name="inline")
    assert host.transports.names() == []
    [failure] = host.failures
    assert message in failure.error


def test_register_callback_raises_registration_error_for_the_plugin_to_see():
    seen = []

    class Plugin:
        @hookimpl
        def mcpkit_register_name_strategies(self, register):
            register("one", lambda route: "x")
            try:
                register("one", lambda route: "y")
            except RegistrationError as exc:
                seen.append(str(exc))

    host = PluginHost(load_entry_points=False)
    host.register(Plugin(), name="inline")
    assert host.name_strategies.names() == ["one"]
    assert "already registered" in seen[0]


def test_plugin_registered_in_a_test_is_validated_and_used():
    class NotAPlugin:
        @hookimpl
        def mcpkit_register_nothing(self, register):
            pass

    host = PluginHost(load_entry_points=False)
    with pytest.raises(pluggy.PluginValidationError):
        host.register(NotAPlugin(), name="wrong")
    assert "wrong" not in {p.name for p in host.plugins}

    class Good:
        @hookimpl
        def mcpkit_register_route_mappers(self, register):
            register("nothing", lambda route, mcp_type: None)

    host.register(Good(), name="good")
    assert host.route_mappers.registration("nothing").plugin == "good"
    host.unregister("good")
    assert "nothing" not in host.route_mappers


@pytest.mark.parametrize("disable", ["acme", "acme-mcp", "other, acme"])
def test_disable_plugins_by_entry_point_or_distribution(fake_distribution, monkeypatch, disable):
    fake_distribution("acme-mcp", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", disable)
    host = get_plugin_host()
    assert "acme" not in {p.name for p in host.plugins}
    [skipped] = [s for s in host.skipped if s.name == "acme"]
    assert skipped.reason == "disabled by MCPKIT_DISABLE_PLUGINS"
    assert "loopback" not in host.transports


def test_load_plugins_selects_plugins_but_never_drops_the_kernel(fake_distribution, monkeypatch):
    fake_distribution("acme-mcp", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN})
    monkeypatch.setenv("MCPKIT_LOAD_PLUGINS", "acme")
    names = {p.name for p in PluginHost(Settings()).plugins}
    assert names == {"mcpkit", "acme"}

    monkeypatch.setenv("MCPKIT_LOAD_PLUGINS", "")
    host = PluginHost(Settings())
    assert {p.name for p in host.plugins} == {"mcpkit"}
    assert {s.reason for s in host.skipped} == {"not listed in MCPKIT_LOAD_PLUGINS"}


def test_unknown_name_lists_the_valid_choices():
    host = PluginHost()
    with pytest.raises(UnknownNameError) as info:
        host.name_strategies.get("fancy")
    assert str(info.value).startswith("unknown name strategy 'fancy'; valid choices: 'default'")


def test_missing_plugin_names_the_install_command(monkeypatch):
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "mcpkit-http,mcpkit-fastapi")
    mcp = MCPKit("x")
    with pytest.raises(MissingPluginError, match=r"pip install 'mcpkit\[http\]'"):
        mcp.http_app()
    with pytest.raises(MissingPluginError, match=r"pip install 'mcpkit\[http\]'"):
        mcp.run(transport="sse")
    with pytest.raises(MissingPluginError, match=r"pip install 'mcpkit\[fastapi\]'"):
        MCPKit.from_fastapi(app=object())


def test_missing_plugin_error_mentions_plugins_that_failed_to_load(fake_distribution, monkeypatch):
    fake_distribution(
        "broken-mcp", {"broken": "broken_plugin"}, {"broken_plugin": "raise ImportError('no')\n"}
    )
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", "mcpkit-http")
    with pytest.raises(MissingPluginError) as info:
        get_plugin_host().transports.get("http")
    assert "broken-mcp" in str(info.value)

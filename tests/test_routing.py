"""Route maps, route mappers, name strategies and the route planning every source shares."""

from __future__ import annotations

import logging

import pytest

from mcpkit import MCPType, Route, RouteMap, Settings, UnknownNameError
from mcpkit.naming import NameAllocator, default_name_strategy, is_valid_name, sanitize_name
from mcpkit.plugins import PluginHost, hookimpl
from mcpkit.routing import map_route
from mcpkit.sources import plan_routes

GET_ITEM = Route("GET", "/items/{item_id}", operation_id="get_item", tags=("items",))
LIST_ITEMS = Route("GET", "/items", operation_id="list_items", tags=("items", "public"))
CREATE_ITEM = Route("POST", "/items", operation_id="create_item", tags=("items",))
DELETE_ITEM = Route("DELETE", "/items/{item_id}", tags=("items", "admin"))

SPEC_MAPS = [
    RouteMap(methods=["GET"], pattern=r".*\{.*\}.*", mcp_type=MCPType.RESOURCE_TEMPLATE),
    RouteMap(methods=["GET"], pattern=r".*", mcp_type=MCPType.RESOURCE),
]


def test_default_is_tool():
    assert map_route(CREATE_ITEM).mcp_type is MCPType.TOOL


def test_user_maps_first_match_wins():
    assert map_route(GET_ITEM, SPEC_MAPS).mcp_type is MCPType.RESOURCE_TEMPLATE
    assert map_route(LIST_ITEMS, SPEC_MAPS).mcp_type is MCPType.RESOURCE
    assert map_route(CREATE_ITEM, SPEC_MAPS).mcp_type is MCPType.TOOL


def test_maps_match_on_methods_pattern_and_all_tags():
    admin = RouteMap(tags={"admin"}, mcp_type=MCPType.EXCLUDE, mcp_tags={"dangerous"})
    assert map_route(DELETE_ITEM, [admin]).mcp_type is MCPType.EXCLUDE
    assert map_route(GET_ITEM, [admin]).mcp_type is MCPType.TOOL
    both = RouteMap(tags={"items", "public"}, mcp_type=MCPType.RESOURCE, mcp_tags={"open"})
    assert map_route(LIST_ITEMS, [both]).mcp_tags == frozenset({"open"})
    assert map_route(GET_ITEM, [both]).mcp_type is MCPType.TOOL
    lower = RouteMap(methods=["delete"], pattern=r"^/items/", mcp_type=MCPType.EXCLUDE)
    assert map_route(DELETE_ITEM, [lower]).mcp_type is MCPType.EXCLUDE


def test_route_map_fn_has_the_last_word_after_mappers():
    seen: list[tuple[str, MCPType]] = []

    def mapper(route: Route, mcp_type: MCPType) -> MCPType | None:
        seen.append(("mapper", mcp_type))
        return MCPType.EXCLUDE if route.method == "DELETE" else None

    def route_map_fn(route: Route, mcp_type: MCPType) -> MCPType | None:
        seen.append(("fn", mcp_type))
        return MCPType.TOOL if route.operation_id is None else None

    decision = map_route(DELETE_ITEM, SPEC_MAPS, route_map_fn, [mapper])
    assert decision.mcp_type is MCPType.TOOL
    assert seen == [("mapper", MCPType.TOOL), ("fn", MCPType.EXCLUDE)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"methods": ["FETCH"]}, "are not HTTP methods"),
        ({"methods": "GET"}, "must be '\\*' or a list"),
        ({"pattern": "(unclosed"}, "not a valid regular expression"),
        ({"mcp_type": "widget"}, "'widget' is not a valid MCPType"),
    ],
)
def test_bad_route_maps_fail_at_construction(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        RouteMap(**kwargs)


def test_default_names():
    assert default_name_strategy(GET_ITEM) == "get_item"
    assert default_name_strategy(DELETE_ITEM) == "delete_items_item_id"
    assert default_name_strategy(Route("GET", "/")) == "get_root"
    # An operationId with nothing a name can keep gives way to the method and path.
    assert default_name_strategy(Route("GET", "/orders/{id}", operation_id="注文を取得")) == "get_orders_id"


def test_sanitize_makes_valid_deterministic_names():
    assert sanitize_name("list pets (v2)/all") == "list_pets_v2_all"
    assert sanitize_name("émoji🙂") == "emoji"
    assert sanitize_name("récupérer_café") == "recuperer_cafe"
    assert sanitize_name("???") == "unnamed"
    long_a, long_b = "a" * 70 + "x", "a" * 70 + "y"
    assert len(sanitize_name(long_a)) == 64
    assert sanitize_name(long_a) != sanitize_name(long_b)
    assert sanitize_name(long_a) == sanitize_name(long_a)
    assert all(is_valid_name(sanitize_name(n)) for n in [long_a, "a.b-c_d", "x" * 64])


def test_allocator_suffixes_taken_names_and_claims_exactly():
    names = NameAllocator({"taken"})
    assert [names.allocate("dup"), names.allocate("dup"), names.allocate("dup")] == ["dup", "dup_2", "dup_3"]
    assert names.allocate("taken") == "taken_2"
    assert len(names.allocate("z" * 64)) == 64
    assert names.allocate("z" * 64) == "z" * 62 + "_2"
    assert names.claim("exact") == "exact"
    with pytest.raises(ValueError, match="used twice"):
        names.claim("exact")
    with pytest.raises(ValueError, match="not a valid MCP name"):
        names.claim("not valid")


def plan(routes, **kwargs):
    return plan_routes(routes, settings=kwargs.pop("settings", Settings()), plugins=PluginHost(), **kwargs)


def test_plan_names_types_and_exclusions():
    routes = [GET_ITEM, LIST_ITEMS, CREATE_ITEM, DELETE_ITEM, Route("POST", "/x", operation_id="create_item")]
    planned = plan(routes, route_maps=[*SPEC_MAPS, RouteMap(tags={"admin"}, mcp_type=MCPType.EXCLUDE)])
    assert [(p.name, p.mcp_type) for p in planned] == [
        ("get_item", MCPType.RESOURCE_TEMPLATE),
        ("list_items", MCPType.RESOURCE),
        ("create_item", MCPType.TOOL),
        ("create_item_2", MCPType.TOOL),
    ]


def test_plan_uses_mcp_names_exactly_and_before_generated_names(caplog):
    routes = [Route("GET", "/a", operation_id="a"), Route("GET", "/b", operation_id="short")]
    with caplog.at_level(logging.WARNING):
        planned = plan(routes, mcp_names={"a": "short", "missing_op": "x"})
    assert [p.name for p in planned] == ["short", "short_2"]
    assert "mcp_names names operations that do not exist: 'missing_op'" in caplog.text
    with pytest.raises(ValueError, match=r"mcp_names\['a'\]: 'bad name' is not a valid MCP name"):
        plan(routes, mcp_names={"a": "bad name"})
    with pytest.raises(ValueError, match=r"mcp_names\['short'\]: the name 'same' is used twice"):
        plan(routes, mcp_names={"a": "same", "short": "same"})


class ShoutingPlugin:
    @hookimpl
    def mcpkit_register_name_strategies(self, register):
        register("shout", lambda route: (route.operation_id or route.path).upper())

    @hookimpl
    def mcpkit_register_route_mappers(self, register):
        register("reads-only", lambda route, mcp_type: None if route.method == "GET" else MCPType.EXCLUDE)


def test_plan_applies_plugin_strategies_and_mappers_selected_by_name(monkeypatch):
    host = PluginHost()
    host.register(ShoutingPlugin(), name="shouting")
    routes = [GET_ITEM, CREATE_ITEM]
    planned = plan_routes(
        routes, settings=Settings(), plugins=host, name_strategy="shout", route_mappers=["reads-only"]
    )
    assert [p.name for p in planned] == ["GET_ITEM"]

    monkeypatch.setenv("MCPKIT_NAME_STRATEGY", "shout")
    monkeypatch.setenv("MCPKIT_ROUTE_MAPPERS", "reads-only")
    planned = plan_routes(routes, settings=Settings(), plugins=host)
    assert [p.name for p in planned] == ["GET_ITEM"]
    everything = plan_routes(routes, settings=Settings(), plugins=host, route_mappers=[])
    assert [p.name for p in everything] == ["GET_ITEM", "CREATE_ITEM"]  # [] overrides the settings: none

    with pytest.raises(UnknownNameError, match="unknown route mapper 'nope'; valid choices: 'reads-only'"):
        plan_routes(routes, settings=Settings(), plugins=host, route_mappers=["nope"])

"""Settings come from MCPKIT_* environment variables; explicit values win."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mcpkit import Settings


def test_defaults(monkeypatch):
    for name in ("MCPKIT_OPENAPI_PARSER", "MCPKIT_EXPERIMENTAL_ENABLE_NEW_OPENAPI_PARSER"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.selected_openapi_parser == "legacy"
    assert settings.disable_plugins == []
    assert settings.load_plugins is None
    assert settings.name_strategy == "default"
    assert settings.mask_error_details is False


def test_parser_selection(monkeypatch):
    monkeypatch.setenv("MCPKIT_EXPERIMENTAL_ENABLE_NEW_OPENAPI_PARSER", "true")
    assert Settings().selected_openapi_parser == "experimental"
    monkeypatch.setenv("MCPKIT_OPENAPI_PARSER", "acme")
    assert Settings().selected_openapi_parser == "acme"
    assert Settings(openapi_parser="legacy").selected_openapi_parser == "legacy"


def test_lists_are_comma_separated(monkeypatch):
    monkeypatch.setenv("MCPKIT_DISABLE_PLUGINS", " a, b ,,c ")
    monkeypatch.setenv("MCPKIT_LOAD_PLUGINS", "")
    monkeypatch.setenv("MCPKIT_ROUTE_MAPPERS", "readonly")
    settings = Settings()
    assert settings.disable_plugins == ["a", "b", "c"]
    assert settings.load_plugins == []
    assert settings.route_mappers == ["readonly"]


def test_unknown_settings_and_bad_values_are_errors(monkeypatch):
    with pytest.raises(ValidationError):
        Settings(no_such_setting=True)
    monkeypatch.setenv("MCPKIT_MASK_ERROR_DETAILS", "perhaps")
    with pytest.raises(ValidationError, match="mask_error_details"):
        Settings()

"""``mcpkit serve --oauth-*``: mistakes are usage errors found before anything is built or served
(serving as a protected resource end to end: plugins/http_mount/tests/test_authorization_cli.py)."""

from __future__ import annotations

import pytest

from mcpkit.cli import EXIT_USAGE, main

DOCUMENT = '{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}'


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--oauth-issuer", "https://as.example"], "needs --oauth-audience"),
        (["--oauth-audience", "https://mcp.example/mcp"], "need --oauth-issuer"),
        (["--oauth-scopes", "a,b"], "need --oauth-issuer"),
        (
            ["--transport", "stdio", "--oauth-issuer", "https://as.example"],
            "apply to --transport http or sse",
        ),
    ],
)
def test_oauth_options_are_checked_first(argv, message, tmp_path, monkeypatch, capsys):
    (tmp_path / "api.json").write_text(DOCUMENT)
    monkeypatch.chdir(tmp_path)
    argv = argv if "--transport" in argv else ["--transport", "http", *argv]
    assert main(["serve", "api.json", *argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err
    assert "Converting" not in err  # refused before the document was read


def test_the_settings_need_an_audience_too(tmp_path, monkeypatch, capsys):
    (tmp_path / "api.json").write_text(DOCUMENT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MCPKIT_OAUTH_ISSUER", "https://as.example")
    assert main(["serve", "api.json", "--transport", "http"]) == EXIT_USAGE
    assert "needs --oauth-audience" in capsys.readouterr().err

"""The ``mcpkit`` command: serve any server, try it, call it, add it to the clients people use.

- ``mcpkit serve [TARGET]`` serves TARGET over stdio, HTTP or SSE;
- ``mcpkit inspect [TARGET]`` shows the components TARGET becomes (a table, or ``--json``);
- ``mcpkit dev [TARGET]`` serves over HTTP, restarting on every change, with the MCP Inspector;
- ``mcpkit install CLIENT [TARGET]`` adds the server to a client's configuration;
- ``mcpkit list [TARGET]`` and ``mcpkit call [TARGET] TOOL [ARG...]`` list and call any server;
- ``mcpkit plugins`` lists the plugins loaded, failed and skipped.

A TARGET is whatever a plugin's target resolver claims (:mod:`mcpkit.targets`: an OpenAPI document, a
FastAPI app, an ``MCPKit`` server, ...); with none, the project file of the current directory
(:mod:`mcpkit.project`). Options map onto ``MCPKit.from_openapi``, ``MCPKit.from_fastapi`` and
``mcp.run``; docs/cli.md describes each. An error is one line on standard error. Exit codes:
:data:`EXIT_OK`, :data:`EXIT_FAILED` (the command was understood but failed), :data:`EXIT_USAGE`
(the command line or the project file is wrong), :data:`EXIT_INTERRUPTED`.

The command-line libraries (cyclopts, rich), httpx and the plugins are imported when a command runs,
never by ``import mcpkit``.
"""

from __future__ import annotations

import json as json_module
import os
import re
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcpkit import __version__
from mcpkit.cli_errors import CommandError, UsageError, describe
from mcpkit.exceptions import MissingPluginError, UnknownNameError
from mcpkit.plugins import KINDS, get_plugin_host
from mcpkit.project import Project, find_project
from mcpkit.registry import Registry
from mcpkit.routing import MCPType, Route, RouteMap, RouteMapFn
from mcpkit.server import MCPKit
from mcpkit.settings import Settings
from mcpkit.targets import Resolved, resolve

if TYPE_CHECKING:
    from cyclopts import App
    from rich.console import Console
    from rich.table import Table

    from mcpkit.calls import Connection

__all__ = ["CommandError", "UsageError", "main", "parse_command_line"]

EXIT_OK = 0
EXIT_FAILED = 1
"""The command was understood but failed: the source, its conversion, a plugin or the server."""
EXIT_USAGE = 2
"""The command line is wrong: an unknown command or option, a missing or malformed value."""
EXIT_INTERRUPTED = 130

OutputSchemas = Literal["compact", "full", "none"]
DiscoveryMode = Literal["off", "search", "auto"]
ClientName = Literal["claude-desktop", "claude-code", "cursor", "vscode", "mcp-json"]

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HTTP_TRANSPORTS = frozenset({"http", "sse"})
_WARNINGS_SHOWN = 10
_WHOLE_COLUMNS = frozenset({"Kind", "Name", "Method", "Plugin"})
_HTTP_OPTIONS = frozenset(
    {
        "host",
        "port",
        "allowed_host",
        "allowed_origin",
        "path",
        "stateless",
        "forward_header",
        "oauth_issuer",
        "oauth_audience",
        "oauth_jwks_uri",
        "oauth_scopes",
    }
)
"""The options of ``serve`` that the project file's ``[http]`` table holds."""
_DEV_OWN_OPTIONS = frozenset({"--transport", "--host", "--port", "--path", "--directory"})
_CONVERSION_OPTIONS = (
    "base_url",
    "name",
    "resources",
    "include_tags",
    "exclude_tags",
    "route_mapper",
    "name_strategy",
    "parser",
    "output_schemas",
    "response_filter",
    "max_response_bytes",
    "discovery",
    "timeout",
    "forward_header",
)
"""The options of ``serve`` that convert an API; a ready server (an ``MCPKit``) takes none."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mcpkit`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    from cyclopts import CycloptsError

    tokens = list(sys.argv[1:] if argv is None else argv)
    try:
        _app()(tokens, exit_on_error=False, print_error=False, result_action="return_value")
    except CycloptsError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        return _fail(describe(exc), EXIT_FAILED)
    return EXIT_OK


def parse_command_line(argv: Sequence[str]) -> None:
    """Check ``argv`` as :func:`main` would read it, without running anything: a bad command line
    raises ``cyclopts.CycloptsError`` (the docs' examples of long-running commands are checked so)."""
    _app().parse_args(list(argv), exit_on_error=False, print_error=False)


def _app() -> App:
    from cyclopts import App, Parameter

    app = App(
        name="mcpkit",
        help="Serve any MCP server (an API, a FastAPI app, one written with mcpkit), try it, call it, "
        "add it to your clients. Docs: docs/cli.md",
        version=__version__,
        default_parameter=Parameter(negative=()),
        suppress_keyboard_interrupt=False,  # Ctrl+C is EXIT_INTERRUPTED, in main
    )
    app.command(serve)
    app.command(inspect_target, name="inspect")
    app.command(dev)
    app.command(install)
    app.command(list_target, name="list")
    app.command(call)
    app.command(plugins)
    return app


# Commands


def serve(
    target: str | None = None,
    /,
    *,
    directory: Path | None = None,
    transport: str | None = None,
    host: str | None = None,
    port: int | None = None,
    allowed_host: list[str] | None = None,
    allowed_origin: list[str] | None = None,
    path: str | None = None,
    stateless: bool = False,
    forward_header: list[str] | None = None,
    oauth_issuer: str | None = None,
    oauth_audience: str | None = None,
    oauth_jwks_uri: str | None = None,
    oauth_scopes: list[str] | None = None,
    base_url: str | None = None,
    header: list[str] | None = None,
    auth: list[str] | None = None,
    name: str | None = None,
    resources: bool = False,
    include_tags: list[str] | None = None,
    exclude_tags: list[str] | None = None,
    route_mapper: list[str] | None = None,
    name_strategy: str | None = None,
    parser: str | None = None,
    output_schemas: OutputSchemas | None = None,
    response_filter: bool = False,
    max_response_bytes: str | None = None,
    discovery: DiscoveryMode | None = None,
    timeout: float | None = None,
) -> None:
    """Serve TARGET as an MCP server until stopped.

    Parameters
    ----------
    target
        What to serve: an OpenAPI document (a file or an http(s) URL), module:attr or
        file.py[:attr] (an MCPKit server, a function returning one, a FastAPI app), a directory (its
        project file), or what a plugin serves. Default: the project file of the current directory.
    directory
        Change to this directory first: module:attr is imported, and the project file read, there.
    transport
        stdio (what desktop clients launch), http (Streamable HTTP at /mcp), sse, or a plugin's
        (default: the project's, else stdio).
    host
        Address to bind (http, sse; default 127.0.0.1).
    port
        Port to bind (http, sse; default 8000).
    allowed_host
        A Host header clients may send (http, sse), as NAME or NAME:PORT (NAME:* for any port);
        repeatable. Turns Host/Origin validation on (default: MCPKIT_ALLOWED_HOSTS, else the
        loopback names when bound to a loopback address, else no validation).
    allowed_origin
        An Origin header browsers may send (http, sse), like https://app.example; repeatable
        (default: MCPKIT_ALLOWED_ORIGINS, else http(s):// with each allowed host).
    path
        The endpoint's URL path (http, sse; default: MCPKIT_HTTP_PATH, else /mcp, /sse for sse).
    stateless
        Keep no sessions, so that any worker process can answer any request (http; default:
        MCPKIT_STATELESS_HTTP).
    forward_header
        An incoming HTTP header that tools pass on to the API (http, sse); repeatable (default:
        MCPKIT_FORWARD_HEADERS).
    oauth_issuer
        Serve as an OAuth protected resource (http, sse): only bearer tokens this authorization
        server issued are accepted (JWTs; default: MCPKIT_OAUTH_ISSUER). Needs --oauth-audience.
    oauth_audience
        This server's canonical URL, the audience tokens must be issued for, like
        https://mcp.example.com/mcp (default: MCPKIT_OAUTH_AUDIENCE).
    oauth_jwks_uri
        Where the issuer publishes its signing keys (default: MCPKIT_OAUTH_JWKS_URI, else found
        through the issuer's RFC 8414 or OpenID metadata).
    oauth_scopes
        Scopes every token must hold, advertised to clients (repeatable or comma-separated;
        default: MCPKIT_OAUTH_SCOPES).
    base_url
        Where the API is (an OpenAPI document; default: the document's servers), or the URL a
        FastAPI app sees (default http://localhost).
    header
        'Name: value' sent with every request to the API; repeatable.
    auth
        NAME=VALUE: the credential of the security scheme NAME; VALUE may be JSON
        (["user", "password"] for basic, {"client_id": ..., "client_secret": ...} for OAuth2).
        Repeatable. MCPKIT_AUTH keeps secrets off the command line.
    name
        The server's name (default: the API's title).
    resources
        GET operations become resources (resource templates when the path has parameters).
    include_tags
        Keep only operations with one of these tags (repeatable or comma-separated).
    exclude_tags
        Leave out operations with one of these tags (repeatable or comma-separated).
    route_mapper
        A plugin route mapper to apply, by name; repeatable (default: MCPKIT_ROUTE_MAPPERS).
    name_strategy
        The name strategy, by name (default: MCPKIT_NAME_STRATEGY; fastapi for FastAPI apps).
    parser
        The OpenAPI parser, by name: legacy, experimental or a plugin's.
    output_schemas
        Output schemas of the tools (default: MCPKIT_OUTPUT_SCHEMAS, else compact).
    response_filter
        Give every tool a response_filter argument (a JMESPath expression).
    max_response_bytes
        Bound of a tool's result in bytes, or none (default: 100000).
    discovery
        off lists every tool; search lists only search_tools and call_tool; auto does so above
        40 tools (default: MCPKIT_DISCOVERY, else off).
    timeout
        Seconds a whole call to the API may take, from connecting to the last byte of the response
        (default 30).
    """
    if directory is not None:
        _change_directory(directory)
    text, project = _project(target)
    _check_names(transport=transport, route_mappers=route_mapper, name_strategy=name_strategy, parser=parser)
    given = _given(
        transport=transport,
        host=host,
        port=port,
        allowed_host=allowed_host,
        allowed_origin=allowed_origin,
        path=path,
        stateless=stateless or None,
        forward_header=forward_header,
        oauth_issuer=oauth_issuer,
        oauth_audience=oauth_audience,
        oauth_jwks_uri=oauth_jwks_uri,
        oauth_scopes=oauth_scopes,
        base_url=base_url,
        name=name,
        resources=resources or None,
        include_tags=include_tags,
        exclude_tags=exclude_tags,
        route_mapper=route_mapper,
        name_strategy=name_strategy,
        parser=parser,
        output_schemas=output_schemas,
        response_filter=response_filter or None,
        max_response_bytes=max_response_bytes,
        discovery=discovery,
        timeout=timeout,
    )
    values = {**_project_values(project), **given}
    transport = values.get("transport", "stdio")
    if transport not in _HTTP_TRANSPORTS:  # the project's [http] table is for http and sse only
        values = {key: value for key, value in values.items() if key not in _HTTP_OPTIONS or key in given}
    if values.get("stateless") and transport != "http":
        raise UsageError(f"--stateless applies to --transport http, not {transport}")
    oauth = _oauth_options(
        transport,
        Settings(),
        issuer=values.get("oauth_issuer"),
        audience=values.get("oauth_audience"),
        jwks_uri=values.get("oauth_jwks_uri"),
        scopes=split_tags(values.get("oauth_scopes")),
    )
    headers = {**(project.headers() if project else {}), **parse_headers(header or [])}
    credentials = {**_project_credentials(project), **parse_auth(auth or [])}
    server = _server(text, project, values, headers, credentials)
    _stderr().print(f"mcpkit: serving {_summary(server)} over {transport}", highlight=False, soft_wrap=True)
    serving = _serving_options(
        transport,
        server.settings,
        allowed_hosts=values.get("allowed_host"),
        allowed_origins=values.get("allowed_origin"),
        path=values.get("path"),
        stateless=bool(values.get("stateless")),
    )
    server.run(
        transport=transport, **_given(host=values.get("host"), port=values.get("port")), **serving, **oauth
    )


def inspect_target(
    target: str | None = None,
    /,
    *,
    json: bool = False,
    resources: bool = False,
    include_tags: list[str] | None = None,
    exclude_tags: list[str] | None = None,
    route_mapper: list[str] | None = None,
    name_strategy: str | None = None,
    parser: str | None = None,
) -> None:
    """Show what TARGET becomes: each component's kind, name and annotations (a resource's URI, a
    prompt's arguments), the method and path of the operation behind it, and the operations that
    could not be converted. Nothing is called.

    Parameters
    ----------
    target
        What to inspect, as for serve (default: the project file of the current directory).
    json
        Print JSON for machines instead of tables.
    resources
        GET operations become resources (resource templates when the path has parameters).
    include_tags
        Keep only operations with one of these tags (repeatable or comma-separated).
    exclude_tags
        Leave out operations with one of these tags (repeatable or comma-separated).
    route_mapper
        A plugin route mapper to apply, by name; repeatable.
    name_strategy
        The name strategy, by name.
    parser
        The OpenAPI parser, by name.
    """
    text, project = _project(target)
    _check_names(route_mappers=route_mapper, name_strategy=name_strategy, parser=parser)
    given = _given(
        resources=resources or None,
        include_tags=include_tags,
        exclude_tags=exclude_tags,
        route_mapper=route_mapper,
        name_strategy=name_strategy,
        parser=parser,
    )
    values = {key: value for key, value in _project_values(project).items() if key in _ROUTE_OPTIONS}
    values.update(given)
    resolved = _resolve(text, project)
    inspect = resolved.target.inspect
    if inspect is None:
        raise CommandError(
            f"{text} ({resolved.target.kind}) cannot be inspected: its target has no inspect()"
        )
    options = _route_options(values)
    _refuse_options(resolved, list(values))
    with _progress(f"Inspecting {text}"):
        report = {"source": text, **inspect(settings=Settings(), **options)}
    if json:
        _print_json(report)
    else:
        _print_report(report, converted=resolved.target.converts)


def dev(
    target: str | None = None,
    /,
    *serve_options: str,
    host: str | None = None,
    port: int | None = None,
    path: str | None = None,
    inspector: Annotated[bool, _negative("--no-inspector")] = True,
    reload_dir: list[Path] | None = None,
) -> None:
    """Serve TARGET over HTTP for development: restart it whenever a file changes, and start the MCP
    Inspector pointed at it. Stop with Ctrl+C.

    Parameters
    ----------
    target
        What to serve, as for serve (default: the project file of the current directory).
    serve_options
        Options of serve after --, like -- --resources --auth token=... (not --transport, --host,
        --port, --path: give those to dev).
    host
        Address to bind (default: the project's, else 127.0.0.1).
    port
        Port to bind (default: the project's, else 8000).
    path
        The endpoint's URL path (default: the project's, else MCPKIT_HTTP_PATH, else /mcp).
    inspector
        Start the MCP Inspector (npx @modelcontextprotocol/inspector; needs Node.js 22 or later).
        Without Node.js, the command to run is printed instead.
    reload_dir
        A directory whose changes restart the server; repeatable (default: the current directory and
        the target's).
    """
    from mcpkit.dev import DevServer, run_dev

    target, passed = _split_passthrough(target, serve_options)
    own = sorted(_DEV_OWN_OPTIONS & {option.partition("=")[0] for option in passed})
    if own:
        raise UsageError(f"{', '.join(own)}: give these to mcpkit dev itself, not after --")
    text, project = _project(target)
    http = project.settings.http if project else None
    host = host or (http.host if http else None) or "127.0.0.1"
    port = port or (http.port if http else None) or 8000
    path = path or (http.path if http else None) or Settings().http_path or "/mcp"
    argv = [*([target] if target else []), "--transport", "http", "--host", host, "--port", str(port)]
    argv += ["--path", path, *passed]
    parse_command_line(["serve", *argv])
    file = _file_of(text)
    watched = [Path.cwd(), *(reload_dir or [])]
    watched += [project.directory] if project else [file.resolve().parent] if file else []
    run_dev(
        DevServer(
            command=[sys.executable, "-m", "mcpkit.cli", "serve", *argv],
            url=f"http://{_url_host(host)}:{port}{path}",
        ),
        watched=watched,
        inspector=inspector,
        report=_stderr_line,
    )


def install(
    client: ClientName,
    target: str | None = None,
    /,
    *serve_options: str,
    name: str | None = None,
    env: list[str] | None = None,
    secret: list[str] | None = None,
    config: Path | None = None,
    dry_run: bool = False,
    replace: bool = False,
) -> None:
    """Add TARGET to CLIENT's configuration, as a server it launches (mcpkit serve, over stdio) in the
    current directory. Other entries are kept.

    Parameters
    ----------
    client
        claude-desktop, claude-code (.mcp.json here), cursor (~/.cursor/mcp.json), vscode
        (.vscode/mcp.json here), or mcp-json (the mcpServers JSON, printed).
    target
        What to serve, as for serve (default: the project file of the current directory).
    serve_options
        Options of serve after --, like -- --resources --transport stdio.
    name
        The server's name in the configuration (default: the project's name, else the target's).
    env
        KEY=VALUE: an environment variable the server gets, written as it is; repeatable.
    secret
        NAME: an environment variable the server gets by reference, never written: the client reads
        it from its own environment (claude-code, cursor) or asks for it (vscode); repeatable. The
        variables the project file refers to are added.
    config
        The configuration file to change (default: the client's own; mcp-json: none, printed).
    dry_run
        Print the change instead of making it.
    replace
        Replace an entry of the same name.
    """
    from mcpkit.install import ServerEntry, add_server, default_name

    target, passed = _split_passthrough(target, serve_options)
    parse_command_line(["serve", *([target] if target else []), *passed])
    text, project = _project(target)
    _resolve(text, project)  # the server must be found now, not when the client starts it
    secrets = [*(project.environment_variables() if project else []), *(secret or [])]
    serve_command = ["serve", "--directory", str(Path.cwd()), *([target] if target else []), *passed]
    entry = ServerEntry(
        name=name or default_name(text, project),
        command=[*_mcpkit_command(), *serve_command],
        env=_environment(env or []),
        secrets=_variable_names(secrets),
    )
    add_server(client, entry, config=config, dry_run=dry_run, replace=replace, report=_stdout_line)


def list_target(
    target: str | None = None,
    /,
    *,
    command: str | None = None,
    header: list[str] | None = None,
    sse: bool = False,
    json: bool = False,
    timeout: float = 60.0,
) -> None:
    """List the tools, resources, resource templates and prompts of a server.

    Parameters
    ----------
    target
        The server: an http(s) URL of a running one (Streamable HTTP, or SSE with --sse), or what
        serve takes, built here and connected in memory (default: the project file of the current
        directory).
    command
        A command line that serves over stdio, like 'python server.py', instead of TARGET.
    header
        'Name: value' sent with every request to a URL; repeatable.
    sse
        The URL serves SSE, not Streamable HTTP.
    json
        Print JSON for machines instead of tables.
    timeout
        Seconds to wait for each answer.
    """
    from mcpkit.calls import list_server

    connection = _connection(target, command, header, sse, timeout)
    list_server(connection, json=json, console=_stdout())


def call(
    *words: str,
    command: str | None = None,
    header: list[str] | None = None,
    sse: bool = False,
    json: bool = False,
    timeout: float = 60.0,
) -> None:
    """Call a tool of a server: [TARGET] TOOL [ARGUMENT...]. An ARGUMENT is NAME=VALUE (VALUE is JSON,
    or text for a string argument) or a JSON object of arguments.

    Parameters
    ----------
    words
        [TARGET] TOOL [ARGUMENT...]: TARGET as for list (default: the project file of the current
        directory, or --command), the tool's name, its arguments.
    command
        A command line that serves over stdio, like 'python server.py', instead of TARGET.
    header
        'Name: value' sent with every request to a URL; repeatable.
    sse
        The URL serves SSE, not Streamable HTTP.
    json
        Print the whole result as JSON for machines.
    timeout
        Seconds to wait for the result.
    """
    from mcpkit.calls import call_tool, split_call

    target, tool, arguments = split_call(words, has_command=command is not None)
    connection = _connection(target, command, header, sse, timeout)
    call_tool(connection, tool, arguments, json=json, console=_stdout(), errors=_stderr())


def plugins(*, json: bool = False) -> None:
    """List the plugins: those loaded (their distribution, the hooks they implement and what they
    provide), those that failed to load and why, and those skipped on purpose.

    Parameters
    ----------
    json
        Print JSON for machines instead of tables.
    """
    report = plugins_report()
    if json:
        _print_json(report)
    else:
        _print_plugins(report)


# Arguments


def parse_headers(values: Sequence[str]) -> dict[str, str]:
    """``--header 'Name: value'`` values as a mapping; a malformed one is a :class:`UsageError`.

    The value is never repeated in the error: it is often a secret.
    """
    headers: dict[str, str] = {}
    for value in values:
        name, colon, content = value.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name.strip()):
            raise UsageError(
                "--header takes 'Name: value' (a header name, a colon, the value); "
                "a value given has no header name before a colon"
            )
        headers[name.strip()] = content.strip()
    return headers


def parse_header_names(option: str, values: Sequence[str]) -> list[str]:
    """Header names given to ``option`` (repeatable or comma-separated); a malformed one is a
    :class:`UsageError`."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if not _HEADER_NAME.fullmatch(name):
            raise UsageError(f"{option} takes header names like X-User-Token, not {name!r}")
    return names


def parse_auth(values: Sequence[str]) -> dict[str, Any]:
    """``--auth NAME=VALUE`` values by security scheme name (see :func:`credential`)."""
    credentials: dict[str, Any] = {}
    for value in values:
        scheme, equals, secret = value.partition("=")
        if not equals or not scheme.strip() or not secret:
            raise UsageError("--auth takes NAME=VALUE: a security scheme name, '=', its credential")
        credentials[scheme.strip()] = credential(scheme.strip(), secret)
    return credentials


def credential(scheme: str, secret: str) -> Any:
    """The credential of security scheme ``scheme``: ``secret`` parsed as JSON when it starts with
    ``[`` or ``{`` (a basic pair, an OAuth2 mapping), else as it stands. The secret is never repeated
    in the error."""
    if not secret.lstrip().startswith(("[", "{")):
        return secret
    try:
        return json_module.loads(secret)
    except ValueError as exc:
        raise UsageError(
            f"--auth {scheme}=...: the value starts like JSON but is not valid JSON "
            f"(at character {getattr(exc, 'pos', '?')})"
        ) from None


def parse_max_response_bytes(value: str) -> int | None:
    """``--max-response-bytes``: a positive number of bytes, or ``none`` (no bound: ``None``)."""
    if value.strip().lower() == "none":
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise UsageError(f"--max-response-bytes takes a positive number of bytes or 'none', not {value!r}")
    return number


def split_tags(values: Sequence[str] | None) -> frozenset[str]:
    """Tags given as repeated options, each possibly comma-separated."""
    return frozenset(tag.strip() for value in values or () for tag in value.split(",") if tag.strip())


def tag_filter(include: frozenset[str], exclude: frozenset[str]) -> RouteMapFn:
    """A ``route_map_fn`` keeping operations with one of ``include`` (when given) and none of ``exclude``."""

    def route_map_fn(route: Route, mcp_type: MCPType) -> MCPType | None:
        tags = set(route.tags)
        if (include and not tags & include) or tags & exclude:
            return MCPType.EXCLUDE
        return None

    return route_map_fn


RESOURCE_ROUTE_MAPS = (
    RouteMap(methods=["GET"], pattern=r"\{", mcp_type=MCPType.RESOURCE_TEMPLATE),
    RouteMap(methods=["GET"], mcp_type=MCPType.RESOURCE),
)
"""``--resources``: GET operations become resource templates (path parameters) or resources."""


def _conversion_options(
    resources: bool,
    include_tags: Sequence[str] | None,
    exclude_tags: Sequence[str] | None,
    route_mappers: Sequence[str] | None,
    name_strategy: str | None,
    parser: str | None,
    output_schemas: OutputSchemas | None,
) -> dict[str, Any]:
    include, exclude = split_tags(include_tags), split_tags(exclude_tags)
    return _given(
        route_maps=list(RESOURCE_ROUTE_MAPS) if resources else None,
        route_map_fn=tag_filter(include, exclude) if include or exclude else None,
        route_mappers=list(route_mappers) if route_mappers else None,
        name_strategy=name_strategy,
        parser=parser,
        output_schemas=output_schemas,
    )


def _serving_options(
    transport: str,
    settings: Settings,
    *,
    allowed_hosts: Sequence[str] | None,
    allowed_origins: Sequence[str] | None,
    path: str | None,
    stateless: bool,
) -> dict[str, Any]:
    """The HTTP serving options given on the command line; over ``http`` and ``sse``, the settings
    fill in those not given (``MCPKIT_ALLOWED_HOSTS``, ``MCPKIT_ALLOWED_ORIGINS``,
    ``MCPKIT_HTTP_PATH``, ``MCPKIT_STATELESS_HTTP``)."""
    if transport in _HTTP_TRANSPORTS:
        allowed_hosts = allowed_hosts or settings.allowed_hosts
        allowed_origins = allowed_origins or settings.allowed_origins
        path = path or settings.http_path
        stateless = stateless or (transport == "http" and settings.stateless_http)
    return _given(
        allowed_hosts=list(allowed_hosts) if allowed_hosts else None,
        allowed_origins=list(allowed_origins) if allowed_origins else None,
        path=path,
        stateless=stateless or None,
    )


def _oauth_options(
    transport: str,
    settings: Settings,
    *,
    issuer: str | None,
    audience: str | None,
    jwks_uri: str | None,
    scopes: frozenset[str],
) -> dict[str, Any]:
    """The transport options serving as an OAuth protected resource (``--oauth-*``, else the
    ``MCPKIT_OAUTH_*`` settings); none when no issuer is given."""
    given = issuer or audience or jwks_uri or scopes
    if transport not in _HTTP_TRANSPORTS:
        if given:
            raise UsageError(f"--oauth-* options apply to --transport http or sse, not {transport}")
        return {}
    issuer = issuer or settings.oauth_issuer
    audience = audience or settings.oauth_audience
    jwks_uri = jwks_uri or settings.oauth_jwks_uri
    scopes = scopes or frozenset(settings.oauth_scopes)
    if not issuer:
        if audience or jwks_uri or scopes:
            raise UsageError(
                "--oauth-audience, --oauth-jwks-uri and --oauth-scopes (MCPKIT_OAUTH_*) need --oauth-issuer"
            )
        return {}
    if not audience:
        raise UsageError(
            "--oauth-issuer (MCPKIT_OAUTH_ISSUER) needs --oauth-audience (MCPKIT_OAUTH_AUDIENCE), "
            "this server's canonical URL"
        )
    return _given(
        oauth_issuer=issuer,
        oauth_audience=audience,
        oauth_jwks_uri=jwks_uri,
        oauth_scopes=sorted(scopes) or None,
    )


def _given(**options: Any) -> dict[str, Any]:
    """The options that were given (not ``None``), so that defaults and settings apply to the rest."""
    return {key: value for key, value in options.items() if value is not None}


def _check_names(
    *,
    transport: str | None = None,
    route_mappers: Sequence[str] | None = None,
    name_strategy: str | None = None,
    parser: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Plugin names are checked before any work: an unknown one is a :class:`UsageError` listing the
    valid ones; a well-known one whose plugin is missing raises :class:`MissingPluginError`.
    ``labels`` say where each name was given (default: its option)."""
    host = get_plugin_host()
    where = {
        "transport": "--transport",
        "name_strategy": "--name-strategy",
        "parser": "--parser",
        "route_mappers": "--route-mapper",
        **(labels or {}),
    }
    lookups: list[tuple[str, Registry[Any], str | None]] = [
        (where["transport"], host.transports, transport),
        (where["name_strategy"], host.name_strategies, name_strategy),
        (where["parser"], host.openapi_parsers, parser),
        *((where["route_mappers"], host.route_mappers, mapper) for mapper in route_mappers or ()),
    ]
    for option, registry, name in lookups:
        if name is None:
            continue
        try:
            registry.get(name)
        except MissingPluginError:
            raise
        except UnknownNameError as exc:
            raise UsageError(f"{option}: {exc}") from None


# Targets and projects

_ROUTE_OPTIONS = frozenset(
    {"resources", "include_tags", "exclude_tags", "route_mapper", "name_strategy", "parser"}
)
"""The options of ``serve`` that ``inspect`` takes too: they decide what the operations become."""


def _project(target: str | None) -> tuple[str, Project | None]:
    """The TARGET to resolve, and the project it is from: with no TARGET, or a directory, the project
    file there (checked, plugin names included)."""
    if target is not None and not Path(target).is_dir():
        return target, None
    project = find_project(Path(target or "."))
    if project is None:
        where = "in this directory" if target in (None, ".") else f"in {target}"
        raise UsageError(
            f"no TARGET, and no project file {where} (mcpkit.toml, or [tool.mcpkit] in pyproject.toml); "
            "give a TARGET or write a project file (docs/cli.md#the-project-file)"
        )
    settings = project.settings
    _check_names(
        transport=settings.transport,
        route_mappers=settings.route_mappers,
        name_strategy=settings.name_strategy,
        parser=settings.parser,
        labels={key: project.key(key) for key in ("transport", "route_mappers", "name_strategy", "parser")},
    )
    return project.source, project


def _project_values(project: Project | None) -> dict[str, Any]:
    """The project's options, named as ``serve``'s (headers and credentials aside)."""
    if project is None:
        return {}
    settings, http = project.settings, project.settings.http
    bound = settings.max_response_bytes
    return _given(
        transport=settings.transport,
        host=http.host,
        port=http.port,
        allowed_host=http.allowed_hosts or None,
        allowed_origin=http.allowed_origins or None,
        path=http.path,
        stateless=http.stateless or None,
        forward_header=http.forward_headers or None,
        oauth_issuer=http.oauth_issuer,
        oauth_audience=http.oauth_audience,
        oauth_jwks_uri=http.oauth_jwks_uri,
        oauth_scopes=http.oauth_scopes or None,
        base_url=settings.base_url,
        name=settings.name,
        resources=settings.route_maps == "resources" or None,
        include_tags=settings.include_tags or None,
        exclude_tags=settings.exclude_tags or None,
        route_mapper=settings.route_mappers,
        name_strategy=settings.name_strategy,
        parser=settings.parser,
        output_schemas=settings.output_schemas,
        response_filter=settings.response_filter,
        max_response_bytes=None if bound is None else str(bound),
        discovery=settings.discovery,
        timeout=settings.timeout,
    )


def _project_credentials(project: Project | None) -> dict[str, Any]:
    """The project's credentials, read from the environment, as ``--auth`` reads its values."""
    if project is None:
        return {}
    return {scheme: credential(scheme, secret) for scheme, secret in project.credentials().items()}


def _resolve(text: str, project: Project | None) -> Resolved:
    with _progress(f"Loading {text}"):
        return resolve(text, project.directory if project else None)


def _route_options(values: Mapping[str, Any]) -> dict[str, Any]:
    return _conversion_options(
        bool(values.get("resources")),
        values.get("include_tags"),
        values.get("exclude_tags"),
        values.get("route_mapper"),
        values.get("name_strategy"),
        values.get("parser"),
        values.get("output_schemas"),
    )


def _build_options(
    values: Mapping[str, Any], headers: Mapping[str, str], credentials: Mapping[str, Any]
) -> dict[str, Any]:
    """The options of :attr:`Target.build` that ``values`` (named as ``serve``'s) give."""
    options = _route_options(values)
    options.update(
        _given(
            name=values.get("name"),
            auth=dict(credentials) or None,
            response_filter=values.get("response_filter") or None,
            discovery=values.get("discovery"),
            timeout=values.get("timeout"),
            forward_headers=parse_header_names("--forward-header", values.get("forward_header") or [])
            or None,
            base_url=values.get("base_url"),
            headers=dict(headers) or None,
        )
    )
    if "max_response_bytes" in values:
        options["max_response_bytes"] = parse_max_response_bytes(values["max_response_bytes"])
    return options


def _server(
    text: str,
    project: Project | None,
    values: Mapping[str, Any],
    headers: Mapping[str, str],
    credentials: Mapping[str, Any],
) -> MCPKit:
    """The server TARGET ``text`` names, built with the options ``values`` (named as ``serve``'s),
    ``headers`` and ``credentials`` give; a ready server refuses them."""
    options = _build_options(values, headers, credentials)
    resolved = _resolve(text, project)
    given = [key for key in _CONVERSION_OPTIONS if key in values]
    _refuse_options(resolved, given + [name for name, v in (("header", headers), ("auth", credentials)) if v])
    with _progress(f"Building {text}"):
        return resolved.target.build(**options)


def _refuse_options(resolved: Resolved, given: Sequence[str]) -> None:
    """A ready server (an ``MCPKit``) is served as it is: conversion options are a :class:`UsageError`."""
    if resolved.target.converts or not given:
        return
    flags = ", ".join(f"--{name.replace('_', '-')}" for name in given)
    raise UsageError(
        f"{resolved.text} is an {resolved.target.kind}, served as it is: {flags} (given here or in the "
        "project file) convert an API, like an OpenAPI document or a FastAPI app"
    )


def _change_directory(directory: Path) -> None:
    try:
        os.chdir(directory)
    except OSError as exc:
        raise CommandError(f"--directory {directory}: {exc.strerror}") from None


def _split_passthrough(target: str | None, rest: Sequence[str]) -> tuple[str | None, list[str]]:
    """TARGET and the options after ``--``: with no TARGET, the first option took its place."""
    if target is not None and target.startswith("-"):
        return None, [target, *rest]
    return target, list(rest)


def _negative(flag: str) -> Any:
    """A cyclopts parameter whose negative form is ``flag`` (``--no-inspector``)."""
    from cyclopts import Parameter

    return Parameter(negative=flag)


def _file_of(text: str) -> Path | None:
    """The file TARGET ``text`` names, if it names one (a document, ``file.py[:attr]``)."""
    path = Path(text.partition(".py:")[0] + ".py") if ".py:" in text else Path(text)
    return path if path.is_file() else None


def _url_host(host: str) -> str:
    """``host`` as a URL's host: a wildcard bind is reached on the loopback, IPv6 in brackets."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"[{host}]" if ":" in host else host


def _mcpkit_command() -> list[str]:
    """How a client launches this mcpkit: the ``mcpkit`` script beside this Python, else
    ``python -m mcpkit.cli``."""
    script = Path(sys.executable).with_name("mcpkit")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mcpkit.cli"]


_ENVIRONMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _environment(values: Sequence[str]) -> dict[str, str]:
    """``--env KEY=VALUE`` values as a mapping."""
    environment: dict[str, str] = {}
    for value in values:
        key, equals, content = value.partition("=")
        if not equals or not _ENVIRONMENT_NAME.fullmatch(key):
            raise UsageError("--env takes KEY=VALUE: an environment variable name, '=', its value")
        environment[key] = content
    return environment


def _variable_names(names: Sequence[str]) -> list[str]:
    """Environment variable names, checked, each once, in order."""
    for name in names:
        if not _ENVIRONMENT_NAME.fullmatch(name):
            raise UsageError(f"--secret takes an environment variable name, not {name!r}")
    return list(dict.fromkeys(names))


def _connection(
    target: str | None, command: str | None, header: Sequence[str] | None, sse: bool, timeout: float
) -> Connection:
    """How ``list`` and ``call`` reach the server: a URL, a command over stdio, or TARGET (else the
    project) built here and connected in memory."""
    from mcpkit.calls import Connection

    if timeout <= 0:
        raise UsageError(f"--timeout takes a positive number of seconds, not {timeout}")
    is_url = target is not None and target.startswith(("http://", "https://"))
    if (header or sse) and not is_url:
        raise UsageError("--header and --sse apply to a TARGET that is a URL")
    if command is not None:
        if target is not None:
            raise UsageError("give a TARGET or --command, not both")
        words = shlex.split(command)
        if not words:
            raise UsageError("--command takes a command line, like 'python server.py'")
        return Connection(words, timeout=timeout)
    if target is not None and is_url:
        return Connection(
            target, transport="sse" if sse else "http", headers=parse_headers(header or []), timeout=timeout
        )
    text, project = _project(target)
    headers = project.headers() if project else {}
    server = _server(text, project, _project_values(project), headers, _project_credentials(project))
    return Connection(server, timeout=timeout)


# Reports

# Reports


def plugins_report() -> dict[str, Any]:
    """What ``plugins --json`` prints: the loaded plugins with the hooks each implements (and the
    names each hook registered), the failures, and the plugins skipped."""
    host = get_plugin_host()
    registered: dict[tuple[str, str], list[str]] = {}
    for kind in KINDS:  # building every registry also records the hooks that fail
        for registration in host.registry(kind):
            registered.setdefault((registration.plugin, kind.hook), []).append(registration.name)
    return {
        "plugins": [
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "hooks": {hook: registered.get((info.name, hook), []) for hook in info.hooks},
            }
            for info in host.plugins
        ],
        "failures": [
            {
                "plugin": failure.plugin,
                "entry_point": failure.entry_point,
                "distribution": failure.distribution,
                "error": failure.error,
            }
            for failure in host.failures
        ],
        "skipped": [
            {"plugin": skipped.name, "distribution": skipped.distribution, "reason": skipped.reason}
            for skipped in host.skipped
        ],
    }


# Output


def _summary(server: MCPKit) -> str:
    """``'name' (2 tools, 1 resource, 0 resource templates, 1 prompt)``: what is served (prompts
    only when there are some)."""
    catalog = server.catalog()
    prompts = f", {counted(len(catalog.prompts), 'prompt')}" if catalog.prompts else ""
    counts = (
        counted(len(catalog.tools), "tool"),
        counted(len(catalog.resources), "resource"),
        counted(len(catalog.templates), "resource template"),
    )
    return f"{server.name!r} ({', '.join(counts)}{prompts})"


def counted(number: int, noun: str) -> str:
    """``1 tool``, ``2 tools``, ``1,000 tools``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _print_json(report: dict[str, Any]) -> None:
    sys.stdout.write(json_module.dumps(report, indent=2) + "\n")


def _print_report(report: dict[str, Any], *, converted: bool) -> None:
    """``inspect``'s tables: the components (with the operation behind each, for a ``converted``
    API), what could not be converted, and the defects of the document that were tolerated."""
    console = _stdout()
    components = report["components"]
    kinds = [c["kind"] for c in components]
    prompts = kinds.count("prompt")
    console.print(
        f"{report['title']} {report['version']}: {counted(kinds.count('tool'), 'tool')}, "
        f"{counted(kinds.count('resource'), 'resource')}, "
        f"{counted(kinds.count('resource_template'), 'resource template')}"
        + (f", {counted(prompts, 'prompt')}" if prompts else "")
        + (f"; {counted(len(report['excluded']), 'operation')} excluded by route maps" if converted else ""),
        markup=False,
        soft_wrap=True,
    )
    rows: list[tuple[str, ...]]
    if converted:
        columns: tuple[str, ...] = ("Kind", "Name", "Method", "Path", "Annotations or URI")
        rows = [(c["kind"], c["name"], c["method"] or "", c["path"] or "", _details(c)) for c in components]
    else:
        columns = ("Kind", "Name", "Annotations, URI or arguments")
        rows = [(c["kind"], c["name"], _details(c)) for c in components]
    console.print(plain_table(None, columns, rows))
    skipped = report["skipped"]
    if skipped:
        rows = [(s["method"], s["path"], s["reason"]) for s in skipped]
        console.print(plain_table(f"Not converted ({len(skipped)})", ("Method", "Path", "Why"), rows))
    warnings = report["warnings"]
    if warnings:
        console.print(f"{counted(len(warnings), 'defect')} of the document tolerated:", markup=False)
        for w in warnings[:_WARNINGS_SHOWN]:
            console.print(f"  {w['pointer']}: {w['message']}", markup=False)
        if len(warnings) > _WARNINGS_SHOWN:
            console.print(f"  ... and {len(warnings) - _WARNINGS_SHOWN} more (--json lists them all)")


def _details(component: Mapping[str, Any]) -> str:
    """A component's annotations (a tool), URI (a resource) or arguments (a prompt; ``?``: optional)."""
    if component.get("uri"):
        return str(component["uri"])
    if "arguments" in component:
        return ", ".join(a["name"] + ("" if a["required"] else "?") for a in component["arguments"])
    return ", ".join(_hints(component.get("annotations") or {}))


def _hints(annotations: dict[str, Any]) -> list[str]:
    words = {
        "readOnlyHint": "read-only",
        "destructiveHint": "destructive",
        "idempotentHint": "idempotent",
        "openWorldHint": "open-world",
    }
    return [word for key, word in words.items() if annotations.get(key)]


def _print_plugins(report: dict[str, Any]) -> None:
    console = _stdout()
    rows: list[tuple[str, ...]] = [
        (
            p["name"],
            f"{p['distribution']} {p['version']}" if p["distribution"] else "(registered in code)",
            "\n".join(
                f"{hook.removeprefix('mcpkit_register_')}: {', '.join(names) or '-'}"
                for hook, names in p["hooks"].items()
            ),
        )
        for p in report["plugins"]
    ]
    console.print(plain_table("Loaded plugins", ("Plugin", "Distribution", "Hooks: names registered"), rows))
    if report["failures"]:
        rows = [
            (f["plugin"], f["entry_point"], f["distribution"] or "", f["error"]) for f in report["failures"]
        ]
        console.print(plain_table("Failed to load", ("Plugin", "Entry point", "Distribution", "Error"), rows))
    if report["skipped"]:
        rows = [(s["plugin"], s["distribution"] or "", s["reason"]) for s in report["skipped"]]
        console.print(plain_table("Skipped", ("Plugin", "Distribution", "Reason"), rows))


def plain_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A table of plain text (no rich markup is read from the cells)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title)
    for column in columns:  # nothing is cut short: names stay whole, other cells fold
        table.add_column(column, no_wrap=column in _WHOLE_COLUMNS, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _stdout() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextmanager
def _progress(message: str) -> Iterator[None]:
    """A spinner on standard error while a long step runs, when standard error is a terminal."""
    console = _stderr()
    if not console.is_terminal:
        yield
        return
    with console.status(f"{message}..."):
        yield


def _stdout_line(message: str) -> None:
    _stdout().print(message, markup=False, soft_wrap=True)


def _stderr_line(message: str) -> None:
    _stderr().print(message, markup=False, soft_wrap=True)


def _fail(message: str, code: int) -> int:
    from rich.markup import escape

    _stderr().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

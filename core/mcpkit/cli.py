"""The ``mcpkit`` command: serve an API as an MCP server, show what it becomes, list the plugins.

- ``mcpkit serve SOURCE`` serves an OpenAPI document (a path or an ``http(s)://`` URL) or a FastAPI
  app (``module:attr``, imported from the current directory) over stdio, HTTP or SSE;
- ``mcpkit inspect SOURCE`` shows the components SOURCE becomes (a table, or ``--json``) and the
  operations that could not be converted;
- ``mcpkit plugins`` lists the plugins loaded, failed and skipped.

Options map onto ``MCPKit.from_openapi``, ``MCPKit.from_fastapi`` and ``mcp.run``; docs/cli.md
describes each. An error is one line on standard error. Exit codes: :data:`EXIT_OK`,
:data:`EXIT_FAILED` (the command was understood but failed), :data:`EXIT_USAGE` (the command line
is wrong), :data:`EXIT_INTERRUPTED`.

The command-line libraries (cyclopts, rich), httpx and the plugins are imported when a command runs,
never by ``import mcpkit``.
"""

from __future__ import annotations

import importlib
import json as json_module
import os
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mcpkit import __version__
from mcpkit.exceptions import MCPKitError, MissingPluginError, UnknownNameError
from mcpkit.plugins import KINDS, get_plugin_host
from mcpkit.registry import Registry
from mcpkit.routing import MCPType, Route, RouteMap, RouteMapFn
from mcpkit.server import MCPKit
from mcpkit.settings import Settings
from mcpkit.sources import InspectableSource

if TYPE_CHECKING:
    from cyclopts import App
    from rich.console import Console
    from rich.table import Table

EXIT_OK = 0
EXIT_FAILED = 1
"""The command was understood but failed: the source, its conversion, a plugin or the server."""
EXIT_USAGE = 2
"""The command line is wrong: an unknown command or option, a missing or malformed value."""
EXIT_INTERRUPTED = 130

OutputSchemas = Literal["compact", "full", "none"]
DiscoveryMode = Literal["off", "search", "auto"]


_APP_REFERENCE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HTTP_TRANSPORTS = frozenset({"http", "sse"})
_WARNINGS_SHOWN = 10
_WHOLE_COLUMNS = frozenset({"Kind", "Name", "Method", "Plugin"})


class UsageError(MCPKitError):
    """The command line is wrong (exit code 2)."""


class CommandError(MCPKitError):
    """The command failed (exit code 1)."""


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
        return _fail(_describe(exc), EXIT_FAILED)
    return EXIT_OK


def parse_command_line(argv: Sequence[str]) -> None:
    """Check ``argv`` as :func:`main` would read it, without running anything: a bad command line
    raises ``cyclopts.CycloptsError`` (the docs' examples of long-running commands are checked so)."""
    _app().parse_args(list(argv), exit_on_error=False, print_error=False)


def _app() -> App:
    from cyclopts import App, Parameter

    app = App(
        name="mcpkit",
        help="Turn HTTP APIs into MCP servers. Docs: docs/cli.md",
        version=__version__,
        default_parameter=Parameter(negative=()),
        suppress_keyboard_interrupt=False,  # Ctrl+C is EXIT_INTERRUPTED, in main
    )
    app.command(serve)
    app.command(inspect_source, name="inspect")
    app.command(plugins)
    return app


# Commands


def serve(
    source: str,
    /,
    *,
    transport: str = "stdio",
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
    """Serve SOURCE as an MCP server until stopped.

    Parameters
    ----------
    source
        An OpenAPI document (a file path or an http(s) URL), or a FastAPI app as module:attr
        (imported from the current directory).
    transport
        stdio (what desktop clients launch), http (Streamable HTTP at /mcp), sse, or a plugin's.
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
    _check_names(transport=transport, route_mappers=route_mapper, name_strategy=name_strategy, parser=parser)
    if stateless and transport != "http":
        raise UsageError(f"--stateless applies to --transport http, not {transport}")
    oauth = _oauth_options(
        transport,
        Settings(),
        issuer=oauth_issuer,
        audience=oauth_audience,
        jwks_uri=oauth_jwks_uri,
        scopes=split_tags(oauth_scopes),
    )
    headers = parse_headers(header or [])
    options = _conversion_options(
        resources, include_tags, exclude_tags, route_mapper, name_strategy, parser, output_schemas
    )
    options.update(
        _given(
            name=name,
            auth=parse_auth(auth or []) or None,
            response_filter=response_filter or None,
            discovery=discovery,
            timeout=timeout,
            forward_headers=parse_header_names("--forward-header", forward_header or []) or None,
        )
    )
    if max_response_bytes is not None:
        options["max_response_bytes"] = parse_max_response_bytes(max_response_bytes)
    with _progress(f"Converting {source}"):
        server = _build_server(source, base_url, headers, options)
    _stderr().print(f"mcpkit: serving {_summary(server)} over {transport}", highlight=False, soft_wrap=True)
    serving = _serving_options(
        transport,
        server.settings,
        allowed_hosts=allowed_host,
        allowed_origins=allowed_origin,
        path=path,
        stateless=stateless,
    )
    server.run(transport=transport, **_given(host=host, port=port), **serving, **oauth)


def inspect_source(
    source: str,
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
    """Show what SOURCE becomes: each component's kind, name, method, path and annotations, and the
    operations that could not be converted. Nothing is called.

    Parameters
    ----------
    source
        An OpenAPI document (a file path or an http(s) URL), or a FastAPI app as module:attr.
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
    _check_names(route_mappers=route_mapper, name_strategy=name_strategy, parser=parser)
    options = _conversion_options(
        resources, include_tags, exclude_tags, route_mapper, name_strategy, parser, None
    )
    with _progress(f"Converting {source}"):
        report = _inspect(source, options)
    if json:
        _print_json(report)
    else:
        _print_conversion(report)


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
    """``--auth NAME=VALUE`` values by security scheme name. A VALUE starting with ``[`` or ``{`` is
    JSON (a basic pair, an OAuth2 mapping); anything else is the credential as it stands."""
    credentials: dict[str, Any] = {}
    for value in values:
        scheme, equals, secret = value.partition("=")
        if not equals or not scheme.strip() or not secret:
            raise UsageError("--auth takes NAME=VALUE: a security scheme name, '=', its credential")
        if secret.lstrip().startswith(("[", "{")):
            try:
                credentials[scheme.strip()] = json_module.loads(secret)
            except ValueError as exc:
                raise UsageError(
                    f"--auth {scheme.strip()}=...: the value starts like JSON but is not valid JSON "
                    f"(at character {getattr(exc, 'pos', '?')})"
                ) from None
        else:
            credentials[scheme.strip()] = secret
    return credentials


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
) -> None:
    """Plugin names are checked before any work: an unknown one is a :class:`UsageError` listing the
    valid ones; a well-known one whose plugin is missing raises :class:`MissingPluginError`."""
    host = get_plugin_host()
    lookups: list[tuple[str, Registry[Any], str | None]] = [
        ("--transport", host.transports, transport),
        ("--name-strategy", host.name_strategies, name_strategy),
        ("--parser", host.openapi_parsers, parser),
        *(("--route-mapper", host.route_mappers, mapper) for mapper in route_mappers or ()),
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


# Sources


@dataclass(frozen=True, slots=True)
class Source:
    """What SOURCE names: an OpenAPI document (``"openapi"``) or a FastAPI app (``"fastapi"``)."""

    text: str
    kind: Literal["openapi", "fastapi"]


def resolve_source(text: str) -> Source:
    """Tell an OpenAPI document (an existing file or an http(s) URL) from a FastAPI app (module:attr)."""
    if text.startswith(("http://", "https://")):
        return Source(text, "openapi")
    path = Path(text)
    if path.is_dir():
        raise CommandError(f"{text!r} is a directory; give an OpenAPI document or module:attr")
    if path.is_file():
        return Source(text, "openapi")
    if _APP_REFERENCE.fullmatch(text):
        return Source(text, "fastapi")
    raise CommandError(
        f"no file {text!r}; a SOURCE is an OpenAPI document (a file or an http(s) URL) "
        "or a FastAPI app as module:attr"
    )


def import_app(reference: str) -> Any:
    """The object ``module:attr`` names, the module imported from the current directory first."""
    module_name, _, attribute = reference.partition(":")
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and f"{module_name}.".startswith(f"{exc.name}."):  # it, or its package
            raise CommandError(f"no module named {exc.name!r} in {here} or on the Python path") from None
        raise _import_failed(module_name, exc, here) from None
    except Exception as exc:
        raise _import_failed(module_name, exc, here) from None
    found: Any = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            apps = sorted(n for n, v in vars(module).items() if _is_app(v))
            hint = f"; FastAPI apps in it: {', '.join(apps)}" if apps else ""
            raise CommandError(f"module {module_name!r} has no attribute {attribute!r}{hint}")
        found = getattr(found, part)
    return found


def _is_app(value: object) -> bool:
    """Whether ``value`` looks like a FastAPI app instance (not the class)."""
    return not isinstance(value, type) and callable(getattr(value, "openapi", None))


def _import_failed(module_name: str, exc: Exception, directory: str) -> CommandError:
    return CommandError(f"importing {module_name!r} failed: {_describe(exc)}{_where(exc, directory)}")


def _where(exc: BaseException, directory: str) -> str:
    """`` (file.py, line N)``: the last place in ``directory``'s files that the error went through."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(directory)]
    if not frames:
        return ""
    return f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})"


def _build_server(
    text: str, base_url: str | None, headers: dict[str, str], options: dict[str, Any]
) -> MCPKit:
    source = resolve_source(text)
    get_plugin_host().sources.get(source.kind)  # a missing plugin names its pip install
    if source.kind == "fastapi":
        app_kwargs = _given(headers=headers or None, base_url=base_url)
        return MCPKit.from_fastapi(import_app(text), httpx_client_kwargs=app_kwargs or None, **options)
    client_kwargs = {"headers": headers} if headers else None
    return MCPKit.from_openapi(
        text, **_given(server_url=base_url, httpx_client_kwargs=client_kwargs), **options
    )


def _inspect(text: str, options: dict[str, Any]) -> dict[str, Any]:
    """What SOURCE becomes, as its source plugin reports it (nothing is built or called)."""
    source = resolve_source(text)
    plugin = get_plugin_host().sources.get(source.kind)  # a missing plugin names its pip install
    if not isinstance(plugin, InspectableSource):
        raise CommandError(f"the {source.kind!r} source plugin cannot inspect: it has no inspect() method")
    target = import_app(text) if source.kind == "fastapi" else text
    return {"source": text, **plugin.inspect(target, settings=Settings(), **options)}


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
    return (
        f"{server.name!r} ({_count(len(server.tools), 'tool')}, {_count(len(server.resources), 'resource')}, "
        f"{_count(len(server.resource_templates), 'resource template')})"
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _print_json(report: dict[str, Any]) -> None:
    sys.stdout.write(json_module.dumps(report, indent=2) + "\n")


def _print_conversion(report: dict[str, Any]) -> None:
    console = _stdout()
    components = report["components"]
    kinds = [c["kind"] for c in components]
    console.print(
        f"{report['title']} {report['version']}: {_count(kinds.count('tool'), 'tool')}, "
        f"{_count(kinds.count('resource'), 'resource')}, "
        f"{_count(kinds.count('resource_template'), 'resource template')}; "
        f"{_count(len(report['excluded']), 'operation')} excluded by route maps",
        markup=False,
        soft_wrap=True,
    )
    rows: list[tuple[str, ...]] = [
        (c["kind"], c["name"], c["method"], c["path"], c.get("uri") or ", ".join(_hints(c["annotations"])))
        for c in components
    ]
    console.print(_table(None, ("Kind", "Name", "Method", "Path", "Annotations or URI"), rows))
    skipped = report["skipped"]
    if skipped:
        rows = [(s["method"], s["path"], s["reason"]) for s in skipped]
        console.print(_table(f"Not converted ({len(skipped)})", ("Method", "Path", "Why"), rows))
    warnings = report["warnings"]
    if warnings:
        console.print(f"{_count(len(warnings), 'defect')} of the document tolerated:", markup=False)
        for w in warnings[:_WARNINGS_SHOWN]:
            console.print(f"  {w['pointer']}: {w['message']}", markup=False)
        if len(warnings) > _WARNINGS_SHOWN:
            console.print(f"  ... and {len(warnings) - _WARNINGS_SHOWN} more (--json lists them all)")


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
    console.print(_table("Loaded plugins", ("Plugin", "Distribution", "Hooks: names registered"), rows))
    if report["failures"]:
        rows = [
            (f["plugin"], f["entry_point"], f["distribution"] or "", f["error"]) for f in report["failures"]
        ]
        console.print(_table("Failed to load", ("Plugin", "Entry point", "Distribution", "Error"), rows))
    if report["skipped"]:
        rows = [(s["plugin"], s["distribution"] or "", s["reason"]) for s in report["skipped"]]
        console.print(_table("Skipped", ("Plugin", "Distribution", "Reason"), rows))


def _table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
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


def _describe(exc: BaseException) -> str:
    """One line saying what went wrong: the message of mcpkit's own and of common errors, else the
    exception's type and message."""
    known = (MCPKitError, ValueError, TypeError, OSError)
    text = str(exc) if isinstance(exc, known) and str(exc) else f"{type(exc).__name__}: {exc}"
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def _fail(message: str, code: int) -> int:
    from rich.markup import escape

    _stderr().print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

"""Proxies (``MCPKit.as_proxy``): a server forwarding to another MCP server, in memory, over real HTTP
(uvicorn on 127.0.0.1), SSE and stdio, in both protocol eras on both sides; relays of progress, logs,
elicitation and sampling; listings kept in sync; a remote that goes down and comes back; hostile
remotes (stalls, oversized messages, endless or unservable listings)."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
import pytest
import uvicorn
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types import MISSING_REQUIRED_CLIENT_CAPABILITY

from mcpkit import Client, Context, MCPKit
from mcpkit.middleware import CallNext, Middleware, Request
from tests.locations import ROOT
from tests.reliability import record
from tests.servers import free_port

ERAS = ("legacy", "auto")
BOTH_SIDES = [(remote, client) for remote in ERAS for client in ERAS]


def remote_server() -> MCPKit:
    """The proxied server: every kind of component, and tools that talk back to the client."""
    mcp = MCPKit("remote")

    @mcp.tool
    async def add(a: int, b: int, ctx: Context) -> int:
        """Add two numbers."""
        await ctx.info(f"adding {a} and {b}")
        await ctx.report_progress(1, 2, "halfway")
        return a + b

    @mcp.tool
    async def greet(ctx: Context) -> str:
        """Ask the user's name and greet them."""
        answer = await ctx.elicit("Your name?", str)
        return f"hello {answer.data}" if answer.action == "accept" else answer.action

    @mcp.tool
    async def haiku(topic: str, ctx: Context) -> str:
        """A haiku by the client's model."""
        result = await ctx.sample(f"a haiku about {topic}")
        return result.content.text

    @mcp.resource("data://fixed", mime_type="text/plain")
    def fixed() -> str:
        return "fixed text"

    @mcp.resource("data://blob")
    def blob() -> bytes:
        return b"\x00\x01\x02"

    @mcp.resource("items://{kind}/{number}", completions={"kind": ["book", "bike"]})
    def item(kind: str, number: int) -> str:
        return f"{kind} {number}"

    @mcp.prompt(completions={"language": ["python", "perl"]})
    def review(code: str, language: str = "python") -> str:
        """Review code."""
        return f"Review this {language}: {code}"

    return mcp


@asynccontextmanager
async def served(mcp: MCPKit, port: int = 0, **options: Any) -> AsyncIterator[str]:
    """``mcp`` over Streamable HTTP (or ``transport="sse"``) by uvicorn on 127.0.0.1 (``port``, else a
    free one) until the block ends; yields the endpoint's URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    app = mcp.http_app(**options)
    config = uvicorn.Config(app, log_level="critical", lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    path = "/sse" if options.get("transport") == "sse" else "/mcp"
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve, [sock])
        for _ in range(1000):  # 10 s at most
            if server.started:
                break
            await anyio.sleep(0.01)
        else:
            raise RuntimeError("uvicorn did not start")
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
        finally:
            server.should_exit = True
    sock.close()


class Talk:
    """What a client of the proxy received, and how it answers."""

    def __init__(self) -> None:
        self.logs: list[Any] = []
        self.progress: list[tuple[float, float | None, str | None]] = []
        self.tools_changed = anyio.Event()

    async def log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params.data)

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((progress, total, message))

    async def elicit(self, params: types.ElicitRequestParams) -> dict[str, Any]:
        assert isinstance(params, types.ElicitRequestFormParams)
        kind = params.requested_schema["properties"]["value"]["type"]
        return {"value": False if kind == "boolean" else "Ada"}

    async def sample(self, params: types.CreateMessageRequestParams) -> str:
        text = params.messages[0].content
        assert isinstance(text, types.TextContent)
        return f"verse on {text.text.rsplit(' ', 1)[-1]}"

    async def message(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.tools_changed.set()

    def client(self, server: MCPKit | str, mode: str, **options: Any) -> Client:
        return Client(
            server,
            mode=mode,
            log_handler=self.log,
            log_level="debug",
            progress_handler=self.on_progress,
            elicitation_handler=self.elicit,
            sampling_handler=self.sample,
            message_handler=self.message,
            **options,
        )


async def check_everything_forwarded(client: Client) -> None:
    """Every kind of component of :func:`remote_server`, through ``client``."""
    assert sorted(tool.name for tool in await client.list_tools()) == ["add", "greet", "haiku"]
    assert (await client.call_tool("add", {"a": 2, "b": 3})).data == 5
    assert [str(r.uri) for r in await client.list_resources()] == ["data://fixed", "data://blob"]
    templates = await client.list_resource_templates()
    assert [t.uri_template for t in templates] == ["items://{kind}/{number}"]
    [fixed] = await client.read_resource("data://fixed")
    assert isinstance(fixed, types.TextResourceContents)
    assert (fixed.text, fixed.mime_type) == ("fixed text", "text/plain")
    [blob] = await client.read_resource("data://blob")
    assert isinstance(blob, types.BlobResourceContents)
    assert blob.blob == "AAEC"
    [item] = await client.read_resource("items://bike/7")
    assert isinstance(item, types.TextResourceContents)
    assert item.text == "bike 7"
    [prompt] = await client.list_prompts()
    assert prompt.name == "review"
    assert [a.name for a in prompt.arguments or []] == ["code", "language"]
    got = await client.get_prompt("review", {"code": "x = 1", "language": "perl"})
    assert isinstance(got.messages[0].content, types.TextContent)
    assert got.messages[0].content.text == "Review this perl: x = 1"
    assert (await client.complete("review", "language", "p")).values == ["python", "perl"]
    assert (await client.complete("items://{kind}/{number}", "kind", "bo")).values == ["book"]


@pytest.mark.parametrize(("remote_mode", "mode"), BOTH_SIDES)
async def test_everything_is_forwarded_in_memory(remote_mode: str, mode: str) -> None:
    proxy = MCPKit.as_proxy(Client(remote_server(), mode=remote_mode))
    async with Client(proxy, mode=mode) as client:
        await check_everything_forwarded(client)


@pytest.mark.parametrize(("remote_mode", "mode"), BOTH_SIDES)
async def test_progress_logs_questions_and_sampling_are_relayed_over_http(
    remote_mode: str, mode: str
) -> None:
    async with served(remote_server()) as url:
        proxy = MCPKit.as_proxy(Client(url, mode=remote_mode))
        talk = Talk()
        async with talk.client(proxy, mode) as client:
            assert (await client.call_tool("add", {"a": 1, "b": 2})).data == 3
            assert talk.logs == ["adding 1 and 2"]
            assert talk.progress == [(1, 2, "halfway")]
            assert (await client.call_tool("greet")).data == "hello Ada"
            assert (await client.call_tool("haiku", {"topic": "rain"})).data == "verse on rain"
            await check_everything_forwarded(client)


@pytest.mark.parametrize("remote_mode", ERAS)
async def test_a_stdio_command_is_proxied(remote_mode: str) -> None:
    """The example's notes server, a subprocess over stdio, behind a proxy served in memory."""
    command = Client([sys.executable, "-c", NOTES_OVER_STDIO], mode=remote_mode)
    proxy = MCPKit.as_proxy(command)
    talk = Talk()
    async with talk.client(proxy, "auto") as client:
        names = {tool.name for tool in await client.list_tools()}
        assert names == {"add_note", "delete_note", "summarize_notes"}
        assert (await client.call_tool("add_note", {"text": "buy milk"})).data == 1
        assert talk.logs == ["writing note 1"]
        assert talk.progress == [(1, 1, "saved")]
        async with anyio.create_task_group() as tasks:  # one process, one request at a time: all answered
            for text in ("a", "b", "c"):
                tasks.start_soon(client.call_tool, "add_note", {"text": text})
        [contents] = await client.read_resource("notes://all")
        assert isinstance(contents, types.TextResourceContents)
        assert "buy milk" in contents.text
        assert (await client.call_tool("delete_note", {"number": 1})).data == "note 1 kept"


NOTES_OVER_STDIO = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import runpy; runpy.run_module('examples.gateway.notes', run_name='__main__')"


async def test_an_sse_server_is_proxied() -> None:
    async with served(remote_server(), transport="sse") as url:
        proxy = MCPKit.as_proxy(Client(url, transport="sse"))
        talk = Talk()
        async with talk.client(proxy, "legacy") as client:
            await check_everything_forwarded(client)
            assert (await client.call_tool("greet")).data == "hello Ada"
            assert talk.logs == ["adding 2 and 3"]


@pytest.mark.parametrize("remote_mode", ERAS)
async def test_a_remote_that_goes_down_gives_clear_errors_and_is_used_again_when_back(
    remote_mode: str,
) -> None:
    remote, port = remote_server(), free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    proxy = MCPKit.as_proxy(Client(url, mode=remote_mode), connect_timeout=5)
    async with Client(proxy, raise_on_error=False) as client:  # the remote is not up yet
        with pytest.raises(
            MCPError, match=f"listing the tools failed: cannot connect to the proxied server {url}"
        ):
            await client.list_tools()
        async with served(remote, port=port):
            assert len(await client.list_tools()) == 3
            assert (await client.call_tool("add", {"a": 1, "b": 1})).data == 2
        down = await client.call_tool("add", {"a": 1, "b": 1})  # not sent twice: the session may be stale
        assert down.is_error
        assert down.text.startswith(
            (
                f"cannot connect to the proxied server {url}: ",
                f"the connection to the proxied server {url} failed: ",
            )
        )
        assert len(await client.list_tools()) == 3  # what was last listed
        with pytest.raises(MCPError, match=f"cannot connect to the proxied server {url}"):
            await client.read_resource("data://fixed")
        async with served(remote, port=port):
            assert (await client.call_tool("add", {"a": 2, "b": 2})).data == 4
            [contents] = await client.read_resource("data://fixed")
            assert isinstance(contents, types.TextResourceContents)
            assert contents.text == "fixed text"
    record("attacks", "proxied server down, then back on the same port: clear errors, then served again", 2)


async def next_tool_change(client: Client, talk: Talk, change: Any) -> None:
    """Make ``change()`` happen and wait until ``client`` is told its tools changed (a handshake-era
    client by a notification, a 2026-07-28 one on a ``subscriptions/listen`` stream)."""
    if client.protocol_version != "2026-07-28":
        talk.tools_changed = anyio.Event()
        change()
        with anyio.fail_after(10):
            await talk.tools_changed.wait()
        return
    async with client.listen(tools=True) as events:
        change()
        with anyio.fail_after(10):
            async for event in events:
                assert type(event).__name__ == "ToolsListChanged"
                break


@pytest.mark.parametrize(("remote_mode", "mode"), BOTH_SIDES)
async def test_the_remotes_changes_reach_the_proxys_clients(remote_mode: str, mode: str) -> None:
    remote = remote_server()

    def add_tool() -> None:
        @remote.tool
        def later() -> str:
            return "added later"

    async with served(remote) as url:
        proxy = MCPKit.as_proxy(Client(url, mode=remote_mode))
        talk = Talk()
        async with talk.client(proxy, mode) as client:
            assert len(await client.list_tools()) == 3
            await next_tool_change(client, talk, add_tool)
            assert (await client.call_tool("later")).data == "added later"
            await next_tool_change(client, talk, lambda: remote.remove_tool("later"))
            assert "later" not in [tool.name for tool in await client.list_tools()]


async def test_each_listing_of_the_proxy_lists_the_remote_again() -> None:
    remote = remote_server()
    proxy = MCPKit.as_proxy(remote)
    async with Client(proxy) as client:
        assert len(await client.list_tools()) == 3
        remote.remove_tool("greet")  # no serving run of the remote's own: no notification reaches the proxy
        remote.remove_resource("data://blob")
        remote.remove_prompt("review")
        assert sorted(tool.name for tool in await client.list_tools()) == ["add", "haiku"]
        assert [str(r.uri) for r in await client.list_resources()] == ["data://fixed"]
        assert await client.list_prompts() == []
        assert proxy.tools.keys() == {"add", "haiku"}


async def test_a_stalled_remote_call_does_not_stall_the_proxys_other_clients() -> None:
    remote, release = remote_server(), anyio.Event()

    @remote.tool
    async def stall() -> str:
        await release.wait()
        return "late"

    finished: list[str] = []
    async with served(remote) as url:
        proxy = MCPKit.as_proxy(url, timeout=2)
        async with Client(proxy, raise_on_error=False) as first, Client(proxy) as second:

            async def stalled() -> None:
                result = await first.call_tool("stall")
                finished.append(result.text)

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(stalled)
                assert (await second.call_tool("add", {"a": 4, "b": 5})).data == 9
                finished.append("the other client's call")
        release.set()
    assert finished == [
        "the other client's call",
        f"the proxied server {url} did not answer within 2 s",
    ]
    record("attacks", "a proxied call that never answers: timed out, other clients served meanwhile", 1)


@pytest.mark.parametrize("json_response", [True, False])
async def test_oversized_answers_of_the_remote_are_refused(json_response: bool) -> None:
    remote = remote_server()

    @remote.tool
    def big() -> str:
        return "x" * 50_000

    async with served(remote, json_response=json_response) as url:
        proxy = MCPKit.as_proxy(Client(url, mode="legacy"), max_message_bytes=20_000)
        async with Client(proxy, raise_on_error=False) as client:
            refused = await client.call_tool("big")
            assert refused.is_error
            assert url in refused.text
            assert refused.text in (
                f"the proxied server {url} sent an answer that cannot be read: "
                "Failed to parse JSON response: the response exceeds 20,000 bytes",
                f"the connection to the proxied server {url} failed: "
                "SSE stream failed: Server-sent event exceeded the 20000 byte limit.",
            )
            assert "Traceback" not in refused.text
            assert (await client.call_tool("add", {"a": 1, "b": 2})).data == 3
    record("attacks", "a proxied answer larger than max_message_bytes (JSON and SSE): refused", 1)


class Listing(Middleware):
    """A hostile remote's middleware: answers ``tools/list`` with ``page`` (and a next cursor, forever)."""

    def __init__(self, page: dict[str, Any]) -> None:
        self.page = page

    async def on_list_tools(self, request: Request, call_next: CallNext) -> Any:
        return self.page


def tool_wire(name: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "inputSchema": {"type": "object", **schema}}


@pytest.mark.parametrize(
    ("page", "error"),
    [
        ({"tools": [tool_wire("a")], "nextCursor": "again"}, "lists its tools in more than 100 pages"),
        ({"tools": [tool_wire(f"t{n}") for n in range(10_001)]}, "lists more than 10,000 tools"),
    ],
)
async def test_endless_or_huge_listings_of_the_remote_are_refused(page: dict[str, Any], error: str) -> None:
    proxy = MCPKit.as_proxy(MCPKit("hostile", middleware=[Listing(page)]))
    async with Client(proxy) as client:
        with pytest.raises(MCPError, match=f"listing the tools failed: 'hostile' \\(in memory\\) {error}"):
            await client.list_tools()
    record("attacks", f"a proxied server whose tool listing {error}: refused", 1)


async def test_components_the_proxy_cannot_serve_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    listing = {
        "tools": [
            tool_wire("fine"),
            tool_wire("not a valid name!"),
            tool_wire("dangling", properties={"x": {"$ref": "#/$defs/missing"}}),
        ]
    }
    proxy = MCPKit.as_proxy(MCPKit("hostile", middleware=[Listing(listing)]))
    async with Client(proxy) as client:
        assert [tool.name for tool in await client.list_tools()] == ["fine"]
    assert "'not a valid name!' is not a valid MCP tool name" in caplog.text
    assert "dangling" in caplog.text
    record("attacks", "a proxied server listing invalid names and unresolvable schemas: skipped", 2)


class Calls(Middleware):
    """Records the tools called through the server."""

    def __init__(self) -> None:
        self.names: list[str | None] = []

    async def on_call_tool(self, request: Request, call_next: CallNext) -> Any:
        self.names.append(request.tool_name)
        return await call_next()


async def test_discovery_middleware_and_a_filter_in_front_of_a_remote() -> None:
    calls = Calls()
    async with served(remote_server()) as url:
        proxy = MCPKit.as_proxy(url, name="front", discovery="search", middleware=[calls])
        proxy.disable("greet")
        async with Client(proxy) as client:
            assert [tool.name for tool in await client.list_tools()] == ["search_tools", "call_tool"]
            found = await client.call_tool("search_tools", {"query": "add two numbers"})
            assert found.data["tools"][0]["name"] == "add"
            assert "greet" not in [tool["name"] for tool in found.data["tools"]]
            result = await client.call_tool("call_tool", {"name": "add", "arguments": {"a": 2, "b": 2}})
            assert result.data == 4
            assert (await client.call_tool("add", {"a": 1, "b": 1})).data == 2
            with pytest.raises(MCPError, match="unknown tool 'greet'"):
                await client.call_tool("greet")
    assert calls.names == ["search_tools", "call_tool", "add", "greet"]


@pytest.mark.parametrize("mode", ERAS)
async def test_a_proxy_mounted_into_a_gateway(mode: str) -> None:
    remote = remote_server()
    async with served(remote) as url:
        gateway = MCPKit("gateway")

        @gateway.tool
        def local() -> str:
            return "local"

        gateway.mount(MCPKit.as_proxy(Client(url, mode=mode)), prefix="remote")
        talk = Talk()
        async with talk.client(gateway, mode) as client:
            names = sorted(tool.name for tool in await client.list_tools())
            assert names == ["local", "remote_add", "remote_greet", "remote_haiku"]
            assert (await client.call_tool("remote_add", {"a": 1, "b": 2})).data == 3
            assert talk.progress == [(1, 2, "halfway")]
            assert talk.logs == ["adding 1 and 2"]
            assert (await client.call_tool("remote_greet")).data == "hello Ada"
            [item] = await client.read_resource("items://remote/book/3")
            assert isinstance(item, types.TextResourceContents)
            assert item.text == "book 3"

            def add_tool() -> None:
                @remote.tool
                def later() -> str:
                    return "added later"

            await next_tool_change(client, talk, add_tool)
            assert (await client.call_tool("remote_later")).data == "added later"


@pytest.mark.parametrize(("remote_mode", "mode"), BOTH_SIDES)
async def test_a_question_to_a_client_without_the_capability_is_refused(remote_mode: str, mode: str) -> None:
    proxy = MCPKit.as_proxy(Client(remote_server(), mode=remote_mode))
    async with Client(proxy, mode=mode) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("greet")
        assert refused.value.error.code == MISSING_REQUIRED_CLIENT_CAPABILITY
        assert "elicitation" in refused.value.error.message
        assert (await client.call_tool("add", {"a": 1, "b": 1})).data == 2


async def test_errors_name_the_remote_without_its_credentials() -> None:
    url = f"http://user:pa55word@127.0.0.1:{free_port()}/mcp?api_key=s3cret"
    proxy = MCPKit.as_proxy(Client(url, headers={"Authorization": "Bearer t0ken"}), connect_timeout=2)
    async with Client(proxy) as client:
        with pytest.raises(MCPError) as failed:
            await client.list_tools()
    message = failed.value.error.message
    assert f"http://127.0.0.1:{url.split(':')[3].split('/')[0]}/mcp" in message
    for secret in ("user", "pa55word", "s3cret", "t0ken"):
        assert secret not in message


async def test_outside_a_serving_run_each_request_connects_on_its_own() -> None:
    remote = remote_server()
    proxy = MCPKit.as_proxy(remote)
    async with Client(proxy):
        pass  # loads the remote's components
    assert (await proxy.call_tool("add", {"a": 3, "b": 4})).structured_content == {"result": 7}
    archive = MCPKit("archive")
    archive.import_server(proxy, prefix="copy")
    async with Client(archive) as client:
        assert (await client.call_tool("copy_add", {"a": 1, "b": 1})).data == 2
        [contents] = await client.read_resource("data://copy/fixed")
        assert isinstance(contents, types.TextResourceContents)
        assert contents.text == "fixed text"


@pytest.mark.parametrize("target", [42, object(), ["python", 3], []])
def test_a_target_the_proxy_cannot_connect_to_again_is_refused(target: Any) -> None:
    with pytest.raises(TypeError, match="as_proxy needs a target it can connect to again"):
        MCPKit.as_proxy(target)


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"connect_timeout": float("inf")}, {"max_sessions": 0}, {"max_message_bytes": 0}],
)
def test_bounds_must_be_bounds(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        MCPKit.as_proxy("http://127.0.0.1:9/mcp", **options)


class CountListings(Middleware):
    def __init__(self) -> None:
        self.listings = 0

    async def on_list_tools(self, request: Request, call_next: CallNext) -> Any:
        self.listings += 1
        return await call_next()


async def test_a_flood_of_change_notifications_is_a_few_listings() -> None:
    counter = CountListings()
    remote = MCPKit("flooding", middleware=[counter])

    @remote.tool
    async def flood(ctx: Context) -> str:
        assert ctx.sdk is not None
        for _ in range(1000):
            await ctx.sdk.session.send_notification(types.ToolListChangedNotification())
        return "sent"

    proxy = MCPKit.as_proxy(Client(remote, mode="legacy"))
    async with Client(proxy) as client:
        assert (await client.call_tool("flood")).data == "sent"
        await anyio.sleep(0.5)  # let the notifications arrive (fewer would only lower the count)
        assert [tool.name for tool in await client.list_tools()] == ["flood"]
    assert 2 <= counter.listings <= 20  # the first load, the listing, a reload per RELOAD_DELAY at most
    record("attacks", "1,000 list_changed notifications from a proxied server: a few reloads", 1000)


async def test_the_proxys_own_components_win_over_the_remotes() -> None:
    proxy = MCPKit.as_proxy(remote_server())

    @proxy.tool
    def add(a: int, b: int) -> str:
        return "the proxy's own add"

    async with Client(proxy) as client:
        assert (await client.call_tool("add", {"a": 1, "b": 2})).data == "the proxy's own add"
        assert sorted(tool.name for tool in await client.list_tools()) == ["add", "greet", "haiku"]


@pytest.mark.parametrize("mode", ERAS)
async def test_a_url_elicitation_is_relayed(mode: str) -> None:
    remote = MCPKit("signin")

    @remote.tool
    async def sign_in(ctx: Context) -> str:
        assert ctx.sdk is not None
        params = types.ElicitRequestURLParams(
            message="Sign in", url="https://auth.example/start", elicitation_id="e-1"
        )
        metadata = ServerMessageMetadata(related_request_id=ctx.sdk.request_id)
        answer = await ctx.sdk.session.send_request(
            types.ElicitRequest(params=params), types.ElicitResult, metadata=metadata
        )
        return answer.action

    asked: list[str] = []

    async def elicit(params: types.ElicitRequestParams) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestURLParams)
        asked.append(params.url)
        return types.ElicitResult(action="accept")

    proxy = MCPKit.as_proxy(Client(remote, mode="legacy"))
    async with Client(proxy, mode=mode, elicitation_handler=elicit) as client:
        assert (await client.call_tool("sign_in")).data == "accept"
    assert asked == ["https://auth.example/start"]
    async with Client(proxy, mode=mode) as client:
        with pytest.raises(MCPError) as refused:
            await client.call_tool("sign_in")
        assert refused.value.error.code == MISSING_REQUIRED_CLIENT_CAPABILITY


PROXY_OVER_STDIO = "import sys; from mcpkit import MCPKit; MCPKit.as_proxy(sys.argv[1]).run()"


@pytest.mark.parametrize("mode", ERAS)
async def test_a_remote_http_server_served_over_stdio_as_a_desktop_client_starts_it(mode: str) -> None:
    async with served(remote_server()) as url:
        talk = Talk()
        async with talk.client([sys.executable, "-c", PROXY_OVER_STDIO, url], mode) as client:
            assert (await client.call_tool("add", {"a": 20, "b": 22})).data == 42
            assert talk.logs == ["adding 20 and 22"]
            assert talk.progress == [(1, 2, "halfway")]
            assert (await client.call_tool("greet")).data == "hello Ada"
            assert (await client.call_tool("haiku", {"topic": "snow"})).data == "verse on snow"

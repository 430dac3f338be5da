"""Requests to the app behave as a direct HTTP client sees them: parameters, bodies, uploads, forms,
credentials, response models, status codes, errors, and timeouts that really bound the wait."""

from __future__ import annotations

import base64
import copy
import logging
import threading
from typing import Annotated, Any

import anyio
import httpx
import pytest
from fastapi import Cookie, Depends, FastAPI, File, Form, Header, HTTPException, Query, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer
from pydantic import BaseModel

from mcpkit import Client, MCPKit

MODES = ["auto", "legacy"]


class UserIn(BaseModel):
    name: str
    password: str


class UserOut(BaseModel):
    name: str


bearer = HTTPBearer()
basic = HTTPBasic()


def api() -> FastAPI:
    app = FastAPI()

    @app.post("/users", status_code=201, response_model=UserOut)
    async def create_user(user: UserIn) -> Any:
        if user.name == "taken":
            raise HTTPException(409, detail={"code": "name_taken", "name": user.name})
        return user  # the response model drops the password, as FastAPI does for any client

    @app.get("/search")
    async def search(
        tag: Annotated[list[str], Query()],
        x_request_id: Annotated[str, Header()],
        limit: int = 10,
    ) -> dict[str, Any]:
        return {"tag": tag, "request_id": x_request_id, "limit": limit}

    @app.post("/files")
    async def upload(
        document: UploadFile, attachments: Annotated[list[UploadFile], File()], note: Annotated[str, Form()]
    ) -> dict[str, Any]:
        files = [document, *attachments]
        return {
            "note": note,
            "files": [[f.filename, f.content_type, (await f.read()).decode()] for f in files],
        }

    @app.post("/login")
    async def login(username: Annotated[str, Form()], remember: Annotated[bool, Form()] = False) -> str:
        return f"{username} remember={remember}"

    @app.get("/me")
    async def me(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
        return credentials.credentials

    @app.get("/basic")
    async def basic_user(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
        return credentials.username

    @app.get("/session")
    async def session(session_id: Annotated[str | None, Cookie()] = None) -> str | None:
        return session_id

    @app.delete("/users/{name}", status_code=204)
    async def delete_user(name: str) -> None:
        return None

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("the database is on fire")

    return app


def connect(mode: str) -> Client:
    return Client(MCPKit.from_fastapi(app=api()), mode=mode, raise_on_error=False)


@pytest.mark.parametrize("mode", MODES)
async def test_response_models_and_status_codes(mode):
    async with connect(mode) as client:
        created = await client.call_tool("create_user_users_post", {"name": "ada", "password": "s3cret"})
        assert created.data == {"name": "ada"}
        assert "s3cret" not in created.text
        deleted = await client.call_tool("delete_user", {"name": "ada"})
        assert not deleted.is_error
        assert deleted.text == "DELETE /users/ada returned 204 No Content (no content)"


@pytest.mark.parametrize("mode", MODES)
async def test_http_exception_details_come_back_as_the_api_sent_them(mode):
    async with connect(mode) as client:
        conflict = await client.call_tool("create_user_users_post", {"name": "taken", "password": "x"})
        assert conflict.is_error
        assert conflict.text == (
            'POST /users returned 409 Conflict: {"detail":{"code":"name_taken","name":"taken"}}'
        )


@pytest.mark.parametrize("mode", MODES)
async def test_an_unhandled_exception_is_a_500_for_the_tool_and_logged(mode, caplog):
    async with connect(mode) as client:
        caplog.set_level(logging.ERROR, "mcpkit_fastapi")
        crashed = await client.call_tool("crash_crash_get")
        assert crashed.is_error
        assert crashed.text == "GET /crash returned 500 Internal Server Error: Internal Server Error"
        assert "the app raised while serving GET /crash" in caplog.text
        assert "the database is on fire" in caplog.text


@pytest.mark.parametrize("mode", MODES)
async def test_query_lists_headers_and_defaults(mode):
    async with connect(mode) as client:
        result = await client.call_tool("search_search_get", {"tag": ["a", "b c"], "x-request-id": "r-1"})
        assert result.data == {"tag": ["a", "b c"], "request_id": "r-1", "limit": 10}


@pytest.mark.parametrize("mode", MODES)
async def test_file_uploads_and_form_fields_in_one_multipart_body(mode):
    async with connect(mode) as client:
        text = base64.b64encode(b"hello").decode()
        result = await client.call_tool(
            "upload_files_post",
            {
                "document": {"content": text, "filename": "a.txt", "content_type": "text/plain"},
                "attachments": [
                    "data:text/csv;name=b.csv;base64," + base64.b64encode(b"x,y").decode(),
                    {"content": base64.b64encode(b"{}").decode(), "filename": "c.json"},
                ],
                "note": "three files",
            },
        )
        assert result.data == {
            "note": "three files",
            "files": [
                ["a.txt", "text/plain", "hello"],
                ["b.csv", "text/csv", "x,y"],
                ["c.json", "application/json", "{}"],
            ],
        }


@pytest.mark.parametrize("mode", MODES)
async def test_url_encoded_forms(mode):
    async with connect(mode) as client:
        assert (await client.call_tool("login_login_post", {"username": "ada", "remember": True})).data == (
            "ada remember=True"
        )
        refused = await client.call_tool("login_login_post", {"remember": True})
        assert refused.is_error
        assert "'username' is a required property" in refused.text


@pytest.mark.parametrize("mode", MODES)
async def test_dependencies_reading_headers_see_no_credentials_unless_configured(mode):
    async with connect(mode) as client:
        refused = await client.call_tool("me_me_get")
        assert refused.is_error
        assert refused.text == 'GET /me returned 401 Unauthorized: {"detail":"Not authenticated"}'


async def test_headers_auth_and_cookies_of_httpx_client_kwargs_reach_every_request():
    kwargs: dict[str, Any] = {
        "headers": {"Authorization": "Bearer token-1", "X-Request-Id": "fixed"},
        "cookies": {"session_id": "s-42"},
    }
    original = copy.deepcopy(kwargs)
    mcp = MCPKit.from_fastapi(app=api(), httpx_client_kwargs=kwargs)
    async with Client(mcp) as client:
        assert (await client.call_tool("me_me_get")).data == "***"  # it arrived; echoed, it is masked
        assert (await client.call_tool("session_session_get")).data == "s-42"  # too short to mask
        for _ in range(2):
            assert (await client.call_tool("me_me_get")).data == "***"
    assert kwargs == original

    basic = MCPKit.from_fastapi(app=api(), httpx_client_kwargs={"auth": httpx.BasicAuth("grace", "pw")})
    async with Client(basic) as client:
        assert (await client.call_tool("basic_user_basic_get")).data == "grace"


def slow_api(release: threading.Event) -> FastAPI:
    app = FastAPI()

    @app.get("/async-wait")
    async def async_wait() -> str:
        await anyio.sleep_forever()
        return "never"

    @app.get("/sync-wait")
    def sync_wait() -> str:  # runs in a worker thread, which cannot be cancelled
        release.wait()
        return "released"

    @app.get("/fast")
    async def fast() -> str:
        return "fast"

    return app


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ["async_wait_async_wait_get", "sync_wait_sync_wait_get"])
@pytest.mark.parametrize("option", ["timeout", "httpx_client_kwargs"])
async def test_a_timeout_really_bounds_a_slow_endpoint(mode, endpoint, option):
    """Without a real bound this test would hang (and fail on the suite's timeout)."""
    release = threading.Event()
    options: dict[str, Any] = (
        {"timeout": 0.2} if option == "timeout" else {"httpx_client_kwargs": {"timeout": 0.2}}
    )
    mcp = MCPKit.from_fastapi(app=slow_api(release), **options)
    try:
        async with Client(mcp, mode=mode, raise_on_error=False) as client:
            slow = await client.call_tool(endpoint)
            assert slow.is_error
            assert "timed out" in slow.text
            assert (await client.call_tool("fast_fast_get")).data == "fast"  # the server is still fine
            release.set()  # the abandoned thread may finish; the run ends once it has
    finally:
        release.set()


async def test_a_timeout_bounds_a_direct_call_outside_a_server_run():
    mcp = MCPKit.from_fastapi(app=slow_api(threading.Event()), timeout=0.2)
    result = await mcp.call_tool("async_wait_async_wait_get", {})
    assert result.is_error
    assert "GET /async-wait timed out after 0.2 s" in result.content[0].text  # type: ignore[union-attr]


async def test_a_path_converter_route_takes_slashes_and_others_do_not():
    app = FastAPI()

    @app.get("/files/{file_path:path}")
    def read_file(file_path: str) -> str:
        return file_path

    @app.get("/users/{user_id}")
    def read_user(user_id: str) -> str:
        return user_id

    cached = app.openapi()
    mcp = MCPKit.from_fastapi(app=app)
    async with Client(mcp, raise_on_error=False) as client:
        nested = await client.call_tool("read_file", {"file_path": "docs/guide/intro.md"})
        escaped = await client.call_tool("read_user", {"user_id": "42/secret"})
        climbing = await client.call_tool("read_file", {"file_path": "../etc/passwd"})
    assert nested.data == "docs/guide/intro.md"
    assert escaped.is_error
    assert "cannot contain a '/'" in escaped.text
    assert climbing.is_error
    # The app's own document is left as it was.
    assert "allowReserved" not in str(cached)
    assert app.openapi() is cached

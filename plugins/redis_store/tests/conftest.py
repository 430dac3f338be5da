"""Fixtures of the Redis stores' tests: a real Redis server started for the session (Debian's
``redis-server``; .ci/run installs it), emptied before each test, and a client of it per test."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from mcpkit.plugins import reset_plugin_host
from tests.servers import free_port


@pytest.fixture(autouse=True)
def _fresh_plugin_host() -> Iterator[None]:
    reset_plugin_host()
    yield
    reset_plugin_host()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server on 127.0.0.1 that lives as long as the test session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server (.ci/run does)")
    directory: Path = tmp_path_factory.mktemp("redis")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(directory)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(500):  # 10 s at most
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None:
                    pytest.fail(f"redis-server exited with {process.returncode}")
                time.sleep(0.02)
        else:
            pytest.fail("redis-server did not start")
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def redis_client(redis_server: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A client of the emptied Redis server, for this test's event loop."""
    client = redis.asyncio.Redis.from_url(redis_server)
    await client.flushall()
    yield client
    await client.aclose()

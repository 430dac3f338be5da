"""``from_fastapi`` on synthetic FastAPI apps of 10, 100 and 1,000 routes: mcpkit, FastMCP, fastapi-mcp.

    python bench/fastapi_build.py [--rounds 3] [--routes 10 100 1000]

Each measurement runs in a fresh process (the peers in their own environments, bench/peers.py): the
app is generated first (not timed), then the server is built from it (``MCPKit.from_fastapi(app=app)``,
``FastMCP.from_fastapi(app=app)``, ``FastApiMCP(app)``; each generates the app's OpenAPI document
itself, which is part of the work) and its tools are listed in memory, with the harness of
bench/convert.py (build, first and repeated ``tools/list``, peak memory). fastapi-mcp has no in-memory
client of its own: it is listed through the SDK's ``create_connected_server_and_client_session`` on its
low-level server (``FastApiMCP.server``), as its own tests do.

The apps: routes in groups of four over a resource with its own models (an output model with a nested
model, a list and optional fields; an input model): list (query parameters), get (path parameter),
create (JSON body, 201), and replace (two path parameters, a query parameter and a JSON body).
"""

# No ``from __future__ import annotations``: the endpoints are annotated with models made at run time.
import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import convert  # bench/*.py: a script's folder is first on sys.path
import peers

SYSTEMS = ("mcpkit", "fastmcp", "fastapi-mcp")
SIZES = (10, 100, 1000)


def make_app(routes: int) -> Any:
    """A FastAPI app with ``routes`` routes (see the module's docstring)."""
    from fastapi import FastAPI, Path, Query
    from pydantic import BaseModel, Field, create_model

    class Owner(BaseModel):
        id: int
        name: str
        email: str | None = None

    app = FastAPI(title=f"Synthetic API ({routes} routes)", version="1.0")
    models: dict[int, tuple[type[BaseModel], type[BaseModel]]] = {}

    def resource(group: int) -> tuple[type[BaseModel], type[BaseModel]]:
        if group not in models:
            item_in = create_model(
                f"Item{group}In",
                name=(str, Field(min_length=1, max_length=80)),
                price=(float, Field(gt=0)),
                tags=(list[str], []),
                description=(str | None, None),
            )
            item = create_model(f"Item{group}", __base__=item_in, id=(int, ...), owner=(Owner, ...))
            models[group] = (item_in, item)
        return models[group]

    def sample(item: type[BaseModel], item_id: int = 1) -> Any:
        return item(id=item_id, name="x", price=1.0, owner=Owner(id=1, name="o"))

    def add(index: int) -> None:
        group, kind = divmod(index, 4)
        item_in, item = resource(group)
        base = f"/resources{group}"
        if kind == 0:

            async def list_items(
                q: str | None = Query(None, max_length=50),
                limit: int = Query(10, ge=1, le=100),
                offset: int = 0,
            ) -> Any:
                return [sample(item)][offset : offset + limit]

            app.get(base + "/items", response_model=list[item], name=f"list_items_{group}")(list_items)
        elif kind == 1:

            async def get_item(item_id: int = Path(ge=1)) -> Any:
                return sample(item, item_id)

            app.get(base + "/items/{item_id}", response_model=item, name=f"get_item_{group}")(get_item)
        elif kind == 2:

            async def create_item(body: item_in) -> Any:
                return item(**body.model_dump(), id=1, owner=Owner(id=1, name="o"))

            app.post(base + "/items", response_model=item, status_code=201, name=f"create_item_{group}")(
                create_item
            )
        else:

            async def replace_item(user_id: int, item_id: int, body: item_in, notify: bool = False) -> Any:
                return item(**body.model_dump(), id=item_id, owner=Owner(id=user_id, name="o"))

            app.put(base + "/users/{user_id}/items/{item_id}", response_model=item, name=f"replace_{group}")(
                replace_item
            )

    for index in range(routes):
        add(index)
    return app


def _mcpkit(app: Any) -> tuple[Callable[[], Any], Any, Any]:
    from mcpkit import Client, MCPKit
    from mcpkit.plugins import get_plugin_host

    assert "fastapi" in get_plugin_host().sources  # plugin discovery is start-up, like imports: not timed

    async def list_tools(connection: Any) -> Any:  # as in bench/convert.py: mcpkit.Client.list_tools
        import mcp_types

        return mcp_types.ListToolsResult.model_construct(tools=await connection.list_tools())

    return lambda: MCPKit.from_fastapi(app=app), Client, list_tools


def _fastmcp(app: Any) -> tuple[Callable[[], Any], Any, Any]:
    from fastmcp import Client, FastMCP

    async def list_tools(connection: Any) -> Any:
        return await connection.list_tools_mcp()

    return lambda: FastMCP.from_fastapi(app=app), Client, list_tools


def _fastapi_mcp(app: Any) -> tuple[Callable[[], Any], Any, Any]:
    from fastapi_mcp import FastApiMCP
    from mcp.shared.memory import create_connected_server_and_client_session

    async def list_tools(session: Any) -> Any:
        return await session.list_tools()

    return (
        lambda: FastApiMCP(app),
        lambda mcp: create_connected_server_and_client_session(mcp.server),
        list_tools,
    )


ADAPTERS = {"mcpkit": _mcpkit, "fastmcp": _fastmcp, "fastapi-mcp": _fastapi_mcp}


def measure(system: str, routes: int) -> dict[str, Any]:
    """One fresh-process measurement (run as ``fastapi_build.py --one SYSTEM ROUTES``)."""
    app = make_app(routes)
    return dict(convert.timed(*ADAPTERS[system](app)))


def run(system: str, routes: int, timeout: float = 900) -> dict[str, Any]:
    """Measure ``system`` on the app of ``routes`` routes in a fresh process of its environment."""
    python = sys.executable if system == "mcpkit" else str(peers.peer_python(system))
    output = subprocess.run(
        [python, __file__, "--one", system, str(routes)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if output.returncode != 0:
        raise RuntimeError(f"{system} ({routes} routes) failed:\n{output.stderr[-3000:]}")
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def main() -> None:
    options = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--routes", type=int, nargs="*", default=list(SIZES))
    options.add_argument("--one", nargs=2, metavar=("SYSTEM", "ROUTES"), help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]))))
        return
    print(f"{args.rounds} rounds, medians, each measurement in a fresh process\n")
    print(f"{'routes':>6} {'system':<12} {'tools':>5} {'build s':>8} {'1st list s':>10} {'peak MB':>8}")
    for routes in args.routes:
        for system in SYSTEMS:
            rounds = [run(system, routes) for _ in range(args.rounds)]

            def median(key: str, rounds: list[dict[str, Any]] = rounds) -> float:
                return statistics.median(r[key] for r in rounds)

            print(
                f"{routes:>6} {system:<12} {rounds[0]['tools']:>5} {median('build'):>8.3f} "
                f"{median('first_list'):>10.3f} {median('peak_mb'):>8.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

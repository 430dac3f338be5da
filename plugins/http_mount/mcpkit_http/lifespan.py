"""Combining lifespans: run an app's own lifespan and the MCP app's together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

AppT = TypeVar("AppT")
Lifespan = Callable[[AppT], AbstractAsyncContextManager[Any]]
"""A Starlette/FastAPI lifespan: called with the app, returns an async context manager."""


def combine_lifespans(*lifespans: Lifespan[AppT]) -> Lifespan[AppT]:
    """One lifespan that enters ``lifespans`` in order and exits them in reverse.

    The state each one yields (a mapping, or ``None``) is merged into one dict, so ``request.state``
    sees all of it; two lifespans yielding the same key is an error. If one fails to start, those
    already started are exited.

    ``FastAPI(lifespan=combine_lifespans(my_lifespan, mcp_app.lifespan))``, or for an existing app
    ``app.router.lifespan_context = combine_lifespans(app.router.lifespan_context, mcp_app.lifespan)``.
    """
    for lifespan in lifespans:
        if not callable(lifespan):
            raise TypeError(f"a lifespan must be callable with the app, got {type(lifespan).__name__}")

    @asynccontextmanager
    async def combined(app: AppT) -> AsyncIterator[dict[str, Any]]:
        state: dict[str, Any] = {}
        async with AsyncExitStack() as stack:
            for lifespan in lifespans:
                entered = await stack.enter_async_context(lifespan(app))
                if entered is None:
                    continue
                if not isinstance(entered, Mapping):
                    raise TypeError(f"lifespan {lifespan!r} yielded {type(entered).__name__}, not a mapping")
                clash = state.keys() & entered.keys()
                if clash:
                    raise ValueError(f"two lifespans yield the same state keys: {', '.join(sorted(clash))}")
                state.update(entered)
            yield state

    return combined

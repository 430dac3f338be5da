"""Base URLs from the document's ``servers`` (and Swagger 2.0's ``schemes``/``host``/``basePath``).

Without a client (or with one that has no absolute ``base_url``), requests go to the first server
whose URL is absolute once its variables are filled (their defaults, overridden by
``server_variables``) and relative URLs are resolved against the document's own URL (when it was
fetched from one). Servers of a path item or an operation override the document's for that
operation. ``server_url`` replaces them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urljoin

from mcpkit_openapi.errors import OpenAPIError
from mcpkit_openapi.model import ParsedDocument, ServerInfo


class Servers:
    """Resolves the base URL of the document and of each operation."""

    def __init__(
        self,
        document: ParsedDocument,
        location: str | None,
        server_url: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self._document = document
        self._location = location if location and location.startswith(("http://", "https://")) else None
        self._server_url = server_url
        self._variables = dict(variables or {})
        known = {name for server in self._all() for name in server.variables}
        unknown = set(self._variables) - known
        if unknown:
            valid = ", ".join(repr(v) for v in sorted(known)) or "the servers have none"
            raise ValueError(f"server_variables names unknown variables {sorted(unknown)}; valid: {valid}")
        for server in self._all():
            for name, variable in server.variables.items():
                value = self._variables.get(name)
                if value is not None and variable.enum and value not in variable.enum:
                    raise ValueError(
                        f"server variable {name!r} must be one of {list(variable.enum)}, not {value!r}"
                    )
        if server_url is not None and not server_url.startswith(("http://", "https://")):
            raise ValueError(f"server_url must be an absolute http(s) URL, not {server_url!r}")

    def base_url(self, servers: Sequence[ServerInfo]) -> str:
        """The base URL for an operation whose own servers are ``servers`` (empty: the document's)."""
        if self._server_url is not None:
            return self._server_url
        for server in servers or self._document.servers:
            url = server.url
            for name, variable in server.variables.items():
                url = url.replace("{" + name + "}", self._variables.get(name, variable.default))
            if self._location is not None:
                url = urljoin(self._location, url)
            if url.startswith(("http://", "https://")):
                return url
        raise OpenAPIError(
            "#/servers",
            "no client was given and the document names no absolute server URL; "
            "pass server_url='https://...' or client=httpx.AsyncClient(base_url='https://...')",
        )

    def _all(self) -> list[ServerInfo]:
        return [*self._document.servers, *(s for op in self._document.operations for s in op.servers)]

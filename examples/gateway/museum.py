"""The gateway's vendor API: the Redocly Museum API (a corpus document), and a small stand-in for its
server that answers its operations from memory and insists on the document's HTTP basic credentials.

The MCP server is built from the document as published (``tests/corpus/redocly-museum-v3.1.yaml``)
with ``MCPKit.from_openapi``; the credentials go through ``auth=``, keyed by the document's security
scheme, so they reach the API and never the model.
"""

from __future__ import annotations

import base64
import datetime
import secrets
import uuid
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mcpkit import MCPKit

DOCUMENT = Path(__file__).resolve().parents[2] / "tests" / "corpus" / "redocly-museum-v3.1.yaml"
"""The Redocly Museum API, OpenAPI 3.1, as published."""
SCHEME = "MuseumPlaceholderAuth"
"""The document's security scheme (HTTP basic)."""
# The smallest PNG there is (1x1, transparent): the stand-in's ticket "QR code".
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def create_server(base_url: str, username: str, password: str) -> MCPKit:
    """The museum's MCP server, calling the API at ``base_url`` with these credentials."""
    return MCPKit.from_openapi(DOCUMENT, server_url=base_url, auth={SCHEME: (username, password)})


def create_upstream(username: str, password: str) -> Starlette:
    """A stand-in for the museum's API server, requiring these basic credentials."""
    events: dict[str, dict[str, Any]] = {
        "dad4bce8-f5cb-4078-a211-995864315e39": {
            "eventId": "dad4bce8-f5cb-4078-a211-995864315e39",
            "name": "Mermaid Treasure Identification and Analysis",
            "location": "Under the seaaa",
            "eventDescription": "Join us as we review and classify a rare collection of thingamabobs.",
            "dates": ["2023-09-05", "2023-09-08"],
            "price": 30,
        }
    }
    expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def authorized(request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    def error(status: int, title: str) -> JSONResponse:
        return JSONResponse({"type": "object", "title": title}, status_code=status)

    async def museum_hours(request: Request) -> Response:
        start = _date(request.query_params.get("startDate")) or datetime.date(2023, 9, 11)
        limit = request.query_params.get("limit", "10")
        if not limit.isdigit() or not 1 <= int(limit) <= 30:
            return error(400, "limit must be 1 to 30")
        days = (start + datetime.timedelta(days=offset) for offset in range(int(limit)))
        return JSONResponse(
            [{"date": day.isoformat(), "timeOpen": "09:00", "timeClose": "18:00"} for day in days]
        )

    async def special_events(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(list(events.values()))
        event = {**await request.json(), "eventId": str(uuid.uuid4())}
        events[event["eventId"]] = event
        return JSONResponse(event, status_code=201)

    async def special_event(request: Request) -> Response:
        event = events.get(request.path_params["eventId"])
        if event is None:
            return error(404, "Event not found")
        if request.method == "DELETE":
            del events[event["eventId"]]
            return Response(status_code=204)
        if request.method == "PATCH":
            event.update(await request.json())
        return JSONResponse(event)

    async def tickets(request: Request) -> Response:
        ticket = await request.json()
        kind = "event" if ticket.get("ticketType") == "event" else "general entry"
        confirmation = {
            **ticket,
            "ticketId": str(uuid.uuid4()),
            "message": f"Museum {kind} ticket purchased",
            "confirmationCode": f"ticket-{secrets.token_hex(4)}",
        }
        return JSONResponse(confirmation, status_code=201)

    async def ticket_code(request: Request) -> Response:
        return Response(PIXEL, media_type="image/png")

    def guarded(endpoint: Any) -> Any:
        async def checked(request: Request) -> Response:
            if not authorized(request):
                return error(401, "Unauthorized")
            response: Response = await endpoint(request)
            return response

        return checked

    return Starlette(
        routes=[
            Route("/museum-hours", guarded(museum_hours)),
            Route("/special-events", guarded(special_events), methods=["GET", "POST"]),
            Route("/special-events/{eventId}", guarded(special_event), methods=["GET", "PATCH", "DELETE"]),
            Route("/tickets", guarded(tickets), methods=["POST"]),
            Route("/tickets/{ticketId}/qr", guarded(ticket_code)),
        ]
    )


def _date(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text) if text else None
    except ValueError:
        return None

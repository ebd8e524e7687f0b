"""JSON responses as the service sends them (OBSERVED §1: `application/json; charset=utf-8`)."""

from __future__ import annotations

import json

from starlette.responses import Response

from .faults import switch

JSON_TYPE = "application/json; charset=utf-8"
NO_CONTENT_TYPE = switch("no-content-type")


def json_response(hub, status: int, payload, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    response = Response(body, status_code=status, headers=headers)
    if not hub.has(NO_CONTENT_TYPE):
        response.headers["Content-Type"] = JSON_TYPE
    return response

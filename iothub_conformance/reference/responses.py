"""JSON responses as the service sends them (OBSERVED §1: `application/json; charset=utf-8`)."""

from __future__ import annotations

import json

from starlette.responses import Response

JSON_TYPE = "application/json; charset=utf-8"


def json_response(hub, status: int, payload, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    response = Response(body, status_code=status, headers=headers)
    if not hub.has("no-content-type"):
        response.headers["Content-Type"] = JSON_TYPE
    return response

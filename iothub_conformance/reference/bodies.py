"""Request bodies are read whole, and capped, before any handler sees the request.

Why read first: a handler that answers before the body is in (a 401, a 404) leaves the server parsing the rest of the
body after the response; a malformed chunk then makes the HTTP server fail outside any request and log it as an
error. Read first, a malformed chunk, a short body or a client that leaves arrive as a disconnect while no response has
started, and the reference simply stops: the server has already answered 400 to the bad framing, or the client is gone.
Why cap: no request the reference serves needs more than a device-to-cloud message of 256 KB (a fault may lift that
limit to MAX_REQUEST_BODY), so a larger body is refused with 413 without being held in memory.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import rp_routes
from .error_envelope import MESSAGE_TOO_LARGE, error_response
from .hub import Hub
from .resource_provider import ResourceProvider

MAX_REQUEST_BODY = 1024 * 1024  # the most the reference reads of any request body; a larger one gets 413
RP_TOO_LARGE = "RequestEntityTooLarge"  # the resource provider's code for it: the status's own name (RFC 9110 §15.5.14)


class ClientGone(Exception):
    """The connection ended before the whole request arrived: there is no one left to answer."""


class RequestBodies:
    def __init__(self, app: ASGIApp, hub: Hub, rp: ResourceProvider, limit: int = MAX_REQUEST_BODY):
        self.app = app
        self.hub = hub
        self.rp = rp
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._too_large(scope, receive, send)
            return
        try:
            body = await read_whole(receive, self.limit)
        except ClientGone:
            return
        if body is None:
            await self._too_large(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The rest of the body is never read, so the connection cannot carry another request: close it.
        headers = {"Connection": "close"}
        detail = f"the request body is larger than the {self.limit} bytes this hub reads"
        if rp_routes.is_rp_path(scope["path"]):
            response = rp_routes.rp_error(self.rp, 413, RP_TOO_LARGE, detail, headers)
        else:
            response = error_response(self.hub, 413, MESSAGE_TOO_LARGE, detail, headers=headers)
        await response(scope, receive, send)


async def read_whole(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes `limit` bytes. Raises ClientGone on a disconnect before its end."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.strip()
            if not text.isdigit():
                return None  # the server judges the framing; this only spares reading what is declared too large
            return int(text) if len(text) <= 18 else 10**18  # more digits than any size: too large, and no int() of it
    return None


"""In-memory blob storage for the embedded reference, so an out-of-the-box run exercises import/export jobs.

It answers the few Blob REST calls jobs make (put, get, delete, list) for containers reached by a container SAS URI,
through an httpx transport (no socket). Real storage — Azure, or Azurite in the project's own tests — is used instead
whenever a run is given `--blob-container`.
"""

from __future__ import annotations

import secrets
import threading
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import httpx

HOST = "conformance-storage.blob.core.windows.net"


class MemoryStorage:
    def __init__(self) -> None:
        self.sig = secrets.token_urlsafe(24)
        self.containers: dict[str, dict[str, bytes]] = {}
        self.lock = threading.Lock()

    def container_uri(self, name: str) -> str:
        """Create the container and give its SAS URI (read, write, delete, list)."""
        with self.lock:
            self.containers.setdefault(name, {})
        return f"https://{HOST}/{name}?sv=2020-10-02&sr=c&sp=rwdl&sig={self.sig}"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)
        if query.get("sig") != [self.sig]:
            return _error(403, "AuthenticationFailed")
        container, _, blob = unquote(request.url.path).lstrip("/").partition("/")
        with self.lock:
            blobs = self.containers.get(container)
            if blobs is None:
                return _error(404, "ContainerNotFound")
            if not blob:
                if request.method == "GET" and query.get("comp") == ["list"]:
                    prefix = (query.get("prefix") or [""])[0]
                    return _listing(sorted(name for name in blobs if name.startswith(prefix)))
                return _error(400, "InvalidQueryParameterValue")
            if request.method == "PUT":
                blobs[blob] = request.read()
                return httpx.Response(201)
            if request.method == "GET":
                return httpx.Response(200, content=blobs[blob]) if blob in blobs else _error(404, "BlobNotFound")
            if request.method == "DELETE":
                return httpx.Response(202) if blobs.pop(blob, None) is not None else _error(404, "BlobNotFound")
        return _error(405, "UnsupportedHttpVerb")


def _listing(names: list[str]) -> httpx.Response:
    items = "".join(f"<Blob><Name>{escape(name)}</Name></Blob>" for name in names)
    body = f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>{items}</Blobs><NextMarker/>' \
           "</EnumerationResults>"
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/xml"})


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, headers={"x-ms-error-code": code})

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
# What the in-memory storage holds at most, all containers together: an export of the reference's 1,000 devices is
# under 1 MB, and a run deletes its blobs. A put that would pass it is refused as Azure Storage refuses a body too
# large (413 RequestBodyTooLarge), so a job reports a failure instead of memory growing without end.
MAX_BYTES = 64 * 1024 * 1024


class MemoryStorage:
    def __init__(self) -> None:
        self.sig = secrets.token_urlsafe(24)
        self.containers: dict[str, dict[str, bytes]] = {}
        self.held = 0  # bytes of every blob, at most MAX_BYTES
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
                content = request.read()
                held = self.held - len(blobs.get(blob, b"")) + len(content)
                if held > MAX_BYTES:
                    return _error(413, "RequestBodyTooLarge")
                blobs[blob], self.held = content, held
                return httpx.Response(201)
            if request.method == "GET":
                return httpx.Response(200, content=blobs[blob]) if blob in blobs else _error(404, "BlobNotFound")
            if request.method == "DELETE":
                removed = blobs.pop(blob, None)
                if removed is None:
                    return _error(404, "BlobNotFound")
                self.held -= len(removed)
                return httpx.Response(202)
        return _error(405, "UnsupportedHttpVerb")


def _listing(names: list[str]) -> httpx.Response:
    items = "".join(f"<Blob><Name>{escape(name)}</Name></Blob>" for name in names)
    body = f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>{items}</Blobs><NextMarker/>' \
           "</EnumerationResults>"
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "application/xml"})


def _error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, headers={"x-ms-error-code": code})

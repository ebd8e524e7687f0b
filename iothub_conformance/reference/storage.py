"""In-memory blob storage for the embedded reference, so an out-of-the-box run exercises import/export jobs.

It answers the few Blob REST calls jobs make (put, get, delete, list) for containers reached by a container SAS URI,
through an httpx transport (no socket). Real storage — Azure, or Azurite in the project's own tests — is used instead
whenever a run is given `--blob-container`.

File upload (file_upload.py) hands a device a SAS for one blob, as the hub does ("a storage token … specific to the
file the device wishes to upload", docs/sources/iot-hub-devguide-file-upload__2021-07-30_0238602a.md; the page's
sample token is `sr=b&…&se=…&sp=rw`): `blob_sas` signs one, and `handle` lets it read and write that blob only, until
its expiry by the storage's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from xml.sax.saxutils import escape

import httpx

HOST = "conformance-storage.blob.core.windows.net"
# What the in-memory storage holds at most, all containers together: an export of the reference's 1,000 devices is
# under 1 MB, and a run deletes its blobs. A put that would pass it is refused as Azure Storage refuses a body too
# large (413 RequestBodyTooLarge), so a job reports a failure instead of memory growing without end.
MAX_BYTES = 64 * 1024 * 1024


BLOB_SAS_VERSION = "2020-10-02"
SE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # a SAS's se, as the file-upload page's sample token shows it


class MemoryTransport(httpx.MockTransport):
    """The in-memory storage's transport: it says which storage it reaches, so the hub that was given it can sign
    blob SAS tokens for that storage (file_upload.py). With `passthrough`, requests to any other host go there (real
    storage given for jobs, while file uploads stay in memory)."""

    def __init__(self, storage: MemoryStorage, passthrough: httpx.BaseTransport | None = None) -> None:
        super().__init__(storage.handle)
        self.storage = storage
        self.passthrough = passthrough

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.passthrough is not None and request.url.host != HOST:
            return self.passthrough.handle_request(request)
        return super().handle_request(request)


class MemoryStorage:
    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.sig = secrets.token_urlsafe(24)
        self.key = secrets.token_bytes(32)  # signs blob SAS tokens (blob_sas)
        self.clock = clock  # what a blob SAS's se is compared with; None: the wall clock
        self.containers: dict[str, dict[str, bytes]] = {}
        self.held = 0  # bytes of every blob, at most MAX_BYTES
        self.lock = threading.Lock()

    def now(self) -> float:
        return self.clock() if self.clock is not None else datetime.now(UTC).timestamp()

    def blob_sas(self, container: str, blob: str, expires_at: float) -> str:
        """A SAS token ('?…') that reads and writes the one blob `container`/`blob` until `expires_at`; the container
        is made if need be."""
        with self.lock:
            self.containers.setdefault(container, {})
        se = datetime.fromtimestamp(int(expires_at), UTC).strftime(SE_FORMAT)
        query = urlencode({"sv": BLOB_SAS_VERSION, "sr": "b", "sig": self._blob_signature(container, blob, se),
                           "se": se, "sp": "rw"})
        return f"?{query}"

    def _blob_signature(self, container: str, blob: str, se: str) -> str:
        digest = hmac.new(self.key, f"{container}/{blob}\n{se}\nrw".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def _blob_sas_allows(self, query: dict[str, list[str]], container: str, blob: str, method: str) -> bool:
        """Whether a blob SAS (sr=b) lets `method` reach `container`/`blob`: its signature is for that blob, it has
        not expired, and it reads (GET) or writes (PUT) only."""
        se = (query.get("se") or [""])[0]
        wanted = self._blob_signature(container, blob, se)
        if not blob or not hmac.compare_digest((query.get("sig") or [""])[0], wanted):
            return False
        try:
            expires = datetime.strptime(se, SE_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            return False
        return self.now() < expires and method in ("GET", "PUT")

    def container_uri(self, name: str) -> str:
        """Create the container and give its SAS URI (read, write, delete, list)."""
        with self.lock:
            self.containers.setdefault(name, {})
        return f"https://{HOST}/{name}?sv=2020-10-02&sr=c&sp=rwdl&sig={self.sig}"

    def transport(self, passthrough: httpx.BaseTransport | None = None) -> MemoryTransport:
        return MemoryTransport(self, passthrough)

    def handle(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query, keep_blank_values=True)
        container, _, blob = unquote(request.url.path).lstrip("/").partition("/")
        if query.get("sr") == ["b"]:
            if not self._blob_sas_allows(query, container, blob, request.method):
                return _error(403, "AuthenticationFailed")
        elif query.get("sig") != [self.sig]:
            return _error(403, "AuthenticationFailed")
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

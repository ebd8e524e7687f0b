"""A blob container reached through a container SAS URI, over plain HTTP (Azure Storage Blob REST API).

Import and export jobs read and write blob containers given as SAS URIs (retrieve-import-export-job.md:
inputBlobContainerUri / outputBlobContainerUri). The reference hub uses this to do the job; the suite uses it to
write import input and read export output. Only what jobs need: put, get, list, delete of block blobs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

STORAGE_VERSION = "2020-10-02"  # x-ms-version: a Blob REST version that Azurite and Azure Storage both accept
TIMEOUT = 30.0


class BlobError(RuntimeError):
    """The container refused a request, or could not be reached. The message never holds the SAS."""


class Container:
    def __init__(self, sas_uri: str, client: httpx.Client | None = None, timeout: float = TIMEOUT) -> None:
        parts = urlsplit(sas_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.strip("/"):
            raise BlobError("a blob container SAS URI looks like https://<account>.blob.core.windows.net/<container>"
                            "?<sas>")
        self.base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        self.sas = parts.query
        self.client = client or httpx.Client(timeout=timeout)
        self._owns_client = client is None

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    @property
    def uri(self) -> str:
        """The container's SAS URI, as a job body names it."""
        return f"{self.base}?{self.sas}"

    @property
    def name(self) -> str:
        return self.base.rsplit("/", 1)[-1]

    def _url(self, blob: str | None = None, extra: str = "") -> str:
        path = self.base + ("/" + quote(blob, safe="/") if blob else "")
        query = "&".join(q for q in (extra, self.sas) if q)
        return f"{path}?{query}" if query else path

    def _send(self, method: str, url: str, what: str, **kwargs) -> httpx.Response:
        headers = {"x-ms-version": STORAGE_VERSION, **kwargs.pop("headers", {})}
        try:
            response = self.client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise BlobError(f"{what}: blob storage unreachable ({type(exc).__name__})") from None
        return response

    def put(self, blob: str, data: bytes, content_type: str = "text/plain") -> None:
        response = self._send("PUT", self._url(blob), f"put blob {blob!r}", content=data,
                              headers={"x-ms-blob-type": "BlockBlob", "Content-Type": content_type})
        if response.status_code != 201:
            raise BlobError(f"put blob {blob!r} into container {self.name!r}: {response.status_code}")

    def get(self, blob: str) -> bytes | None:
        """The blob's content, or None when there is no such blob."""
        response = self._send("GET", self._url(blob), f"get blob {blob!r}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise BlobError(f"get blob {blob!r} from container {self.name!r}: {response.status_code}")
        return response.content

    def delete(self, blob: str) -> None:
        response = self._send("DELETE", self._url(blob), f"delete blob {blob!r}")
        if response.status_code not in (202, 404):
            raise BlobError(f"delete blob {blob!r} from container {self.name!r}: {response.status_code}")

    def list(self, prefix: str = "") -> list[str]:
        names: list[str] = []
        marker = ""
        while True:
            extra = "restype=container&comp=list" + (f"&prefix={quote(prefix, safe='')}" if prefix else "")
            extra += f"&marker={quote(marker, safe='')}" if marker else ""
            response = self._send("GET", self._url(extra=extra), f"list container {self.name!r}")
            if response.status_code != 200:
                raise BlobError(f"list container {self.name!r}: {response.status_code}")
            try:
                root = ElementTree.fromstring(response.content)
            except ElementTree.ParseError:
                raise BlobError(f"list container {self.name!r}: the answer is not XML") from None
            names += [node.text or "" for node in root.iter("Name")]
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return names

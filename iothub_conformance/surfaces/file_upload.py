"""Device-side file upload as a device makes it (specs/2021-04-12/file-upload.yaml): ask for a SAS URI, put the blob
there, notify the hub. Sources: docs/sources/iot-hub-devguide-file-upload__2021-07-30_0238602a.md,
docs/sources/INVENTORY-2021-04-12.md §3.4.

The upload goes to the storage the hub names in its answer. The suite contacts only hosts the user named (DESIGN:
Safety): the embedded reference's in-memory storage (through Target.blob_transport, no socket), or the account of
--blob-container. Any other storage host makes the upload tests skip, saying which host.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import httpx

from iothub_conformance.rules.error_codes import error_code
from iothub_conformance.rules.failures import NotTestable, PreconditionFailed, answered, json_of
from iothub_conformance.surfaces.devices import path as device_path
from iothub_conformance.surfaces.messaging import DeviceClient

BLOB_TIMEOUT = 30.0
STORAGE_VERSION = "2020-10-02"  # x-ms-version: a Blob REST version that Azurite and Azure Storage both accept
# A hub with no storage account: the swagger's error-code enum and the error-codes page name it
# (INVENTORY-2021-04-12.md §3.4).
STORAGE_NOT_CONFIGURED = "DefaultStorageEndpointNotConfigured"


class StorageNotReachable(Exception):
    """The SAS URI names storage the run may not contact; the message says which host and what to pass."""


def sas_uri(answer: dict, scheme: str = "https") -> str:
    """https://{hostName}/{containerName}/{blobName}{sasToken}, as the file-upload page and the SDKs build it."""
    return (f"{scheme}://{answer.get('hostName')}/{answer.get('containerName')}/{answer.get('blobName')}"
            f"{answer.get('sasToken')}")


class FileUploads:
    """One device's file-upload requests, signed with its own key, and its blob requests."""

    def __init__(self, device: DeviceClient, target) -> None:
        self.device = device
        self.target = target
        self._blobs: httpx.Client | None = None

    def _post(self, suffix: str, body: dict, headers: dict | None = None) -> httpx.Response:
        hdrs = {"Authorization": self.device.token(), **(headers or {})}
        return self.device.client.post(device_path(self.device.device_id) + suffix, json=body, headers=hdrs,
                                       params={"api-version": self.device.api_version})

    def request_sas(self, blob_name: str, headers: dict | None = None) -> httpx.Response:
        """The SAS URI request; NotTestable when, signed as the device itself, the hub says it has no storage."""
        response = self._post("/files", {"blobName": blob_name}, headers)
        if headers is None and no_storage(response):
            raise NotTestable(NO_STORAGE)
        return response

    def sas(self, blob_name: str) -> dict:
        """The answer of a SAS URI request the test relies on: PreconditionFailed unless 200 with an object."""
        response = self.request_sas(blob_name)
        answer = json_of(response)
        if response.status_code != 200 or not isinstance(answer, dict):
            raise PreconditionFailed(f"could not get a SAS URI for {blob_name!r}: {answered(response)}")
        return answer

    def notify(self, correlation_id: str, success: bool = True, headers: dict | None = None) -> httpx.Response:
        return self._post("/files/notifications", {"correlationId": correlation_id, **_status(success)}, headers)

    def notify_in_path(self, correlation_id: str, success: bool = True) -> httpx.Response:
        """The completion as the Node.js device SDK sends it: the id URL-encoded in the path, not in the body."""
        return self._post("/files/notifications/" + quote(correlation_id, safe=""), _status(success))

    # -- the blob, through the SAS URI -------------------------------------------------------------------------------

    def blob_uri(self, answer: dict) -> str:
        """The answer's SAS URI, if the run may reach its host, else StorageNotReachable."""
        host = str(answer.get("hostName") or "")
        if self.target.blob_transport is not None:
            return sas_uri(answer)  # the embedded reference's in-memory storage answers whatever the host
        named = urlsplit(self.target.blob_container or "")
        if named.netloc and host.split("/", 1)[0].lower() == named.netloc.rpartition("@")[2].lower():
            return sas_uri(answer, named.scheme)
        raise StorageNotReachable(f"the SAS URI names storage host {host[:100]!r}, which the run was not told it may "
                                  "contact: pass --blob-container <a container SAS URI of that account> to test "
                                  "uploads")

    def _blob_client(self) -> httpx.Client:
        if self._blobs is None:
            transport = self.target.blob_transport
            self._blobs = httpx.Client(transport=transport, timeout=BLOB_TIMEOUT) if transport is not None else \
                httpx.Client(timeout=BLOB_TIMEOUT, verify=self.target.ca_bundle or True)
        return self._blobs

    def put_blob(self, uri: str, data: bytes) -> httpx.Response:
        """Put Blob of a block blob, as the file-upload page's example."""
        return self._blob_client().put(uri, content=data, headers={
            "x-ms-blob-type": "BlockBlob", "x-ms-version": STORAGE_VERSION,
            "Content-Type": "text/plain; charset=UTF-8"})

    def get_blob(self, uri: str) -> httpx.Response:
        return self._blob_client().get(uri, headers={"x-ms-version": STORAGE_VERSION})

    def close(self) -> None:
        if self._blobs is not None:
            self._blobs.close()


def _status(success: bool) -> dict:
    return {"isSuccess": success, "statusCode": 200 if success else 500,
            "statusDescription": "uploaded by the conformance suite" if success else "upload failed"}


def other_blob(uri: str, name: str) -> str:
    """The same SAS URI for another blob of the container: the last path segment replaced by `name`."""
    parts = urlsplit(uri)
    folder = parts.path.rsplit("/", 1)[0]
    return parts._replace(path=f"{folder}/{quote(name)}").geturl()


NO_STORAGE = (f"the hub has no storage account for file uploads (POST /files → 400 {STORAGE_NOT_CONFIGURED}): "
              "associate one with it to test file uploads (a served reference: serve --file-upload-container URL)")


def no_storage(response: httpx.Response) -> bool:
    return response.status_code == 400 and error_code(response.headers.get("iothub-errorcode"),
                                                      response.content) == STORAGE_NOT_CONFIGURED

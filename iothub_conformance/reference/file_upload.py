"""File uploads of the reference hub (api-version 2021-04-12, device side): the SAS URI a device asks for, the uploads
open per device, the completion notification, and the file-upload notification the hub then makes for the service.

Sources: docs/sources/iot-hub-devguide-file-upload__2021-07-30_0238602a.md (the whole flow, the response's fields,
blobName = {deviceId}/{blobName}, the sasToken's leading '?', "ten concurrent file uploads", resources kept "until the
SAS URI time-to-live (TTL) expires", the service-side notification's fields);
docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md (403006); docs/sources/INVENTORY.md §4b (403006 → 403);
docs/sources/INVENTORY-2021-04-12.md §3.4 (the Node.js SDK's /files/notifications/{correlationId}, §10 C14) and §7
(the error names the swagger lists: InvalidFileUploadCorrelationId, ExpiredFileUploadCorrelationId).

No source states the SAS TTL a hub uses by default, nor the HTTP status of an unknown or expired correlation id: the
reference takes one hour (SAS_TTL_SECONDS) and 400, and the suite asserts neither value (it reads the TTL from the
token's se, and asks only for a refusal).

Storage: the in-memory storage behind hub.blob_transport (storage.MemoryStorage), which signs a SAS for the one blob,
or real storage given as a container SAS URL (hub.file_upload_container: `serve --file-upload-container`), whose SAS
the hub hands out as it is (the reference holds no account key to narrow it to one blob).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import httpx

from .faults import switch
from .storage import HOST as MEMORY_HOST
from .storage import MemoryStorage
from .uploads import Upload

if TYPE_CHECKING:
    from .hub import Hub

MAX_ACTIVE_PER_DEVICE = 10  # file-upload page; 403006 "Number of active file upload requests cannot exceed 10"
SAS_TTL_SECONDS = 3600  # the reference's choice: no source states the default
NOTIFICATIONS_KEPT = 1000  # the newest service-side notifications kept (memory stays bounded)
MEMORY_CONTAINER = "file-uploads"  # the in-memory storage's container for uploads
LIMIT_CODE = "DeviceMaximumActiveFileUploadLimitExceeded"
INVALID_CORRELATION = "InvalidFileUploadCorrelationId"
EXPIRED_CORRELATION = "ExpiredFileUploadCorrelationId"
STORAGE_NOT_CONFIGURED = "DefaultStorageEndpointNotConfigured"
STORAGE_VERSION = "2020-10-02"  # x-ms-version of the one request the hub makes to real storage (measure_real_blob)
BLOB_TIMEOUT = 10.0

BLOB_NAME_UNPREFIXED = switch("file-upload-blob-name-unprefixed")
SAS_FOR_ANOTHER_BLOB = switch("file-upload-sas-for-another-blob")
CONTAINER_WIDE_SAS = switch("file-upload-container-wide-sas")
NO_UPLOAD_LIMIT = switch("file-upload-no-limit")
EXPIRED_UPLOADS_KEPT = switch("file-upload-expired-uploads-kept")
CORRELATION_REUSABLE = switch("file-upload-correlation-reusable")
UNKNOWN_CORRELATION_ACCEPTED = switch("file-upload-unknown-correlation-accepted")
NO_SERVICE_NOTIFICATION = switch("file-upload-no-service-notification")


class UploadRefused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _storage(hub: Hub) -> MemoryStorage | None:
    storage = getattr(hub.blob_transport, "storage", None)
    if isinstance(storage, MemoryStorage):
        if storage.clock is None:
            storage.clock = hub.clock.now  # a SAS the hub signs expires by the hub's clock, which tests move
        return storage
    return None


def container_parts(url: str) -> tuple[str, str, str]:
    """(hostName, containerName, sasToken) of a container SAS URL, such that https://{hostName}/{containerName}/
    {blobName}{sasToken} names a blob of it: for a path-style URL (Azurite: http://127.0.0.1:10000/devstoreaccount1/c)
    hostName keeps the account segment ("127.0.0.1:10000/devstoreaccount1"), the SDKs' https being redirected to the
    emulator's port by whoever runs them."""
    parts = urlsplit(url)
    path = parts.path.strip("/")
    if parts.scheme not in ("http", "https") or not parts.netloc or not path or not parts.query:
        raise ValueError("a file-upload container is a container SAS URL: https://<account>.blob.core.windows.net/"
                         "<container>?<sas> (or Azurite's http://127.0.0.1:<port>/<account>/<container>?<sas>)")
    prefix, _, container = path.rpartition("/")
    host = parts.netloc.rpartition("@")[2] + (f"/{prefix}" if prefix else "")
    return host, unquote(container), f"?{parts.query}"


def _new_correlation_id() -> str:
    # Opaque base64 like the service's (the file-upload page's sample); it may hold '/' and '+', which the Node.js
    # SDK URL-encodes in its /files/notifications/{correlationId}.
    return base64.b64encode(secrets.token_bytes(33)).decode()


def _release_stale(hub: Hub, now: float) -> None:
    """Forget the uploads whose SAS expired and those of devices no longer registered. Call under `lock`."""
    for correlation_id, upload in list(hub.file_uploads.items()):
        expired = upload.expires_at <= now and not hub.has(EXPIRED_UPLOADS_KEPT)
        if expired or upload.device_id not in hub.devices:
            del hub.file_uploads[correlation_id]


def start(hub: Hub, device_id: str, blob_name: str) -> dict[str, str]:
    """A new upload for the device: the response body of POST /devices/{id}/files. Call under `lock`."""
    now = hub.clock.now()
    _release_stale(hub, now)
    active = sum(1 for upload in hub.file_uploads.values() if upload.device_id == device_id)
    if active >= MAX_ACTIVE_PER_DEVICE and not hub.has(NO_UPLOAD_LIMIT):
        raise UploadRefused(403, LIMIT_CODE, f"Number of active file upload requests cannot exceed "
                                             f"{MAX_ACTIVE_PER_DEVICE}")
    full_name = blob_name if hub.has(BLOB_NAME_UNPREFIXED) else f"{device_id}/{blob_name}"
    expires_at = now + SAS_TTL_SECONDS
    storage = _storage(hub)
    if hub.file_upload_container:
        host, container, token = container_parts(hub.file_upload_container)
    elif storage is not None:
        host, container = MEMORY_HOST, MEMORY_CONTAINER
        signed_for = blob_name if hub.has(SAS_FOR_ANOTHER_BLOB) else full_name
        if hub.has(CONTAINER_WIDE_SAS):
            token = "?" + urlsplit(storage.container_uri(container)).query
        else:
            token = storage.blob_sas(container, signed_for, expires_at)
    else:
        raise UploadRefused(400, STORAGE_NOT_CONFIGURED, "no storage account is associated with this hub")
    correlation_id = _new_correlation_id()
    hub.file_uploads[correlation_id] = Upload(correlation_id, device_id, full_name, host, container,
                                              f"https://{host}/{container}/{full_name}", expires_at)
    return {"correlationId": correlation_id, "hostName": host, "containerName": container, "blobName": full_name,
            "sasToken": token}


def complete(hub: Hub, device_id: str, correlation_id: str, is_success: bool) -> Upload:
    """The device's completion notification: the upload is released and, on success, the service-side notification
    made. Call under `lock`."""
    now = hub.clock.now()
    upload = hub.file_uploads.get(correlation_id)
    if upload is None or upload.device_id != device_id:
        if hub.has(UNKNOWN_CORRELATION_ACCEPTED):
            return Upload(correlation_id, device_id, "", "", "", "", now)
        raise UploadRefused(400, INVALID_CORRELATION, "no open file upload of this device has that correlationId")
    if upload.expires_at <= now:
        del hub.file_uploads[correlation_id]
        raise UploadRefused(400, EXPIRED_CORRELATION, "the file upload's SAS URI has expired")
    if not hub.has(CORRELATION_REUSABLE):
        del hub.file_uploads[correlation_id]
    if is_success and not hub.has(NO_SERVICE_NOTIFICATION):
        upload.size = _blob_size(hub, upload)
        _notify_service(hub, upload, now)
    return upload


def _blob_size(hub: Hub, upload: Upload) -> int | None:
    storage = _storage(hub)
    if storage is None or upload.host_name != MEMORY_HOST:
        return None  # real storage: the reference does not read it back
    with storage.lock:
        content = storage.containers.get(upload.container, {}).get(upload.blob_name)
    return None if content is None else len(content)


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _notify_service(hub: Hub, upload: Upload, now: float) -> None:
    """The notification the file-upload page shows (deviceId, blobUri, blobName, lastUpdatedTime, blobSizeInBytes,
    enqueuedTimeUtc); the real service delivers it over AMQP only, so the reference keeps it as state."""
    hub.file_upload_notifications.append({
        "deviceId": upload.device_id, "blobUri": upload.blob_uri, "blobName": upload.blob_name,
        "lastUpdatedTime": _stamp(now), "blobSizeInBytes": upload.size, "enqueuedTimeUtc": _stamp(now)})
    del hub.file_upload_notifications[:-NOTIFICATIONS_KEPT]


def measure_real_blob(hub: Hub, upload: Upload) -> None:
    """On real storage (hub.file_upload_container), the notification's blobSizeInBytes is the blob's Content-Length,
    read with the container's SAS; call without `lock` (it is a network request). Unreadable: it stays null."""
    if not hub.file_upload_container or upload.host_name == MEMORY_HOST:
        return
    parts = urlsplit(hub.file_upload_container)
    url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/{quote(upload.blob_name)}?{parts.query}"
    try:
        response = httpx.head(url, headers={"x-ms-version": STORAGE_VERSION}, timeout=BLOB_TIMEOUT)
        size = int(response.headers["content-length"]) if response.status_code == 200 else None
    except (httpx.HTTPError, KeyError, ValueError):
        size = None
    with hub.lock:
        for notice in hub.file_upload_notifications:
            if notice["blobName"] == upload.blob_name and notice["blobUri"] == upload.blob_uri:
                notice["blobSizeInBytes"] = size


def notifications(hub: Hub, device_id: str) -> list[dict[str, object]]:
    """The service-side notifications made for the device's uploads, oldest first."""
    with hub.lock:
        return [dict(n) for n in hub.file_upload_notifications if n["deviceId"] == device_id]

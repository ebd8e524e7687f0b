"""The state of one open file upload (file_upload.py makes and settles them; the hub holds them by correlationId):
a module of its own, so the hub's state names it without importing the flow that needs the hub."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Upload:
    """One open upload: the blob it is for and when its SAS expires (hub clock)."""

    correlation_id: str
    device_id: str
    blob_name: str  # {deviceId}/{blobName}, as answered
    host_name: str
    container: str
    blob_uri: str  # https://{hostName}/{containerName}/{blobName}, without the SAS
    expires_at: float
    size: int | None = None  # what the blob held at the completion, when the storage tells

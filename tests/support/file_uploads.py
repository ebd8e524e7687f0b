"""The reference's file upload (api-version 2021-04-12) driven as a device does, for the tests of
reference/file_upload.py, routes_2021_files.py and their fault switches."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from iothub_conformance.reference.storage import MemoryStorage
from tests.support.reference_api import ReferenceApi

V21 = {"api-version": "2021-04-12"}


class Uploads:
    """A reference hub whose file uploads go to an in-memory storage, with the devices it was given."""

    def __init__(self, *faults: str, devices: tuple[str, ...] = ("d1", "d2"), **kwargs) -> None:
        self.api = ReferenceApi(*faults, params=V21, **kwargs)
        self.storage = MemoryStorage()
        self.api.hub.blob_transport = self.storage.transport()
        self.blobs = httpx.Client(transport=self.api.hub.blob_transport)
        self.api.devices(*devices)

    @property
    def hub(self):
        return self.api.hub

    def sas(self, device_id: str = "d1", blob_name: str = "f.txt", token=None) -> httpx.Response:
        return self.api.request("POST", f"/devices/{device_id}/files", json={"blobName": blob_name},
                                token=token or self.api.device_token(device_id))

    def opened(self, device_id: str = "d1", blob_name: str = "f.txt") -> dict:
        response = self.sas(device_id, blob_name)
        assert response.status_code == 200, response.text
        return response.json()

    def notify(self, correlation_id: str, device_id: str = "d1", success: bool = True, token=None,
               **extra) -> httpx.Response:
        body = {"correlationId": correlation_id, "isSuccess": success, "statusCode": 200,
                "statusDescription": "done", **extra}
        return self.api.request("POST", f"/devices/{device_id}/files/notifications", json=body,
                                token=token or self.api.device_token(device_id))

    def notify_in_path(self, correlation_id: str, device_id: str = "d1", success: bool = True) -> httpx.Response:
        return self.api.request("POST", f"/devices/{device_id}/files/notifications/{quote(correlation_id, safe='')}",
                                json={"isSuccess": success, "statusCode": 200, "statusDescription": "done"},
                                token=self.api.device_token(device_id))

    def put(self, answer: dict, data: bytes = b"hello world", blob: str | None = None) -> httpx.Response:
        uri = f"https://{answer['hostName']}/{answer['containerName']}/{blob or answer['blobName']}{answer['sasToken']}"
        return self.blobs.put(uri, content=data, headers={"x-ms-blob-type": "BlockBlob"})

    def stored(self, answer: dict) -> bytes | None:
        return self.storage.containers.get(answer["containerName"], {}).get(answer["blobName"])

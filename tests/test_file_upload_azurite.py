"""File upload on real storage: the reference given an Azurite container (as `serve --file-upload-container` gives
it) hands out SAS URIs that azure-storage-blob and plain Put Blob reach once the https of the SAS URI is sent to
Azurite's port, as a redirected SDK's would be; the completion's notification reads the blob's size back."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
from azure.storage.blob import BlobClient

from iothub_conformance.http.blobs import Container
from iothub_conformance.reference import file_upload
from tests.support.file_uploads import Uploads

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")


@pytest.fixture
def on_azurite(azurite):
    container = azurite.container(permission="rcwl")
    up = Uploads()
    up.hub.file_upload_container = container
    return up, container


def redirected(answer: dict, container: str) -> str:
    """The SAS URI the SDKs build (https://{hostName}/{containerName}/{blobName}{sasToken}), sent to Azurite's plain
    http port as the Node.js SDK's redirect hook sends it."""
    uri = f"https://{answer['hostName']}/{answer['containerName']}/{answer['blobName']}{answer['sasToken']}"
    assert uri.startswith(f"https://{urlsplit(container).netloc}/")
    return "http://" + uri.removeprefix("https://")


def test_the_sas_uri_reaches_azurite_and_the_completion_notifies_the_blobs_size(on_azurite):
    up, container = on_azurite
    answer = up.opened("d1", "report.txt")
    assert answer["hostName"] == f"{urlsplit(container).netloc}/devstoreaccount1"
    assert answer["blobName"] == "d1/report.txt" and answer["containerName"] == Container(container).name
    BlobClient.from_blob_url(redirected(answer, container)).upload_blob(b"hello azurite", overwrite=True)
    with Container(container) as stored:
        assert stored.get("d1/report.txt") == b"hello azurite"
    assert up.notify(answer["correlationId"]).status_code == 204
    (notice,) = file_upload.notifications(up.hub, "d1")
    assert notice["blobName"] == "d1/report.txt" and notice["blobSizeInBytes"] == len(b"hello azurite")
    assert notice["blobUri"].endswith(f"/{answer['containerName']}/d1/report.txt")


def test_a_plain_put_blob_through_the_sas_uri_is_taken(on_azurite):
    up, container = on_azurite
    answer = up.opened("d2", "plain.bin")
    put = httpx.put(redirected(answer, container), content=b"\x00\x01", timeout=10,
                    headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": "2020-10-02"})
    assert put.status_code == 201
    with Container(container) as stored:
        assert stored.get("d2/plain.bin") == b"\x00\x01"

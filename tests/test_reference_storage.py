"""The embedded reference's in-memory blob storage answers the Blob REST calls jobs make, and only with its SAS."""

import httpx
import pytest

from iothub_conformance.http.blobs import BlobError, Container
from iothub_conformance.reference.storage import MemoryStorage


@pytest.fixture
def storage():
    return MemoryStorage()


def opened(storage, uri):
    return Container(uri, client=httpx.Client(transport=storage.transport()))


def test_put_get_list_delete(storage):
    with opened(storage, storage.container_uri("jobs")) as container:
        container.put("conf-a/one.txt", b"1\n")
        container.put("conf-b.txt", b"2\n")
        assert container.get("conf-a/one.txt") == b"1\n"
        assert container.list() == ["conf-a/one.txt", "conf-b.txt"]
        assert container.list(prefix="conf-a") == ["conf-a/one.txt"]
        container.delete("conf-a/one.txt")
        assert container.get("conf-a/one.txt") is None
        assert container.list() == ["conf-b.txt"]


def test_a_wrong_signature_is_refused(storage):
    uri = storage.container_uri("jobs").rsplit("sig=", 1)[0] + "sig=wrong"
    with opened(storage, uri) as container, pytest.raises(BlobError, match="403"):
        container.put("x.txt", b"x")


def test_a_container_that_does_not_exist_is_404(storage):
    uri = storage.container_uri("jobs").replace("/jobs?", "/missing?")
    with opened(storage, uri) as container, pytest.raises(BlobError, match="404"):
        container.list()

"""The reference's device-side file upload at api-version 2021-04-12 (reference/file_upload.py,
routes_2021_files.py, the blob SAS of storage.py) and `serve --file-upload-container`. Time moves by
hub.clock.advance."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest

from iothub_conformance import cli
from iothub_conformance.reference import file_upload
from iothub_conformance.reference.storage import HOST, MemoryStorage
from tests.support.file_uploads import V21, Uploads
from tests.support.reference_api import ReferenceApi, error_code

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")


@pytest.fixture
def up():
    return Uploads()


def token_fields(answer: dict) -> dict[str, str]:
    assert answer["sasToken"].startswith("?")
    return {name: values[0] for name, values in parse_qs(answer["sasToken"][1:]).items()}


def test_a_sas_uri_answer_names_a_blob_of_the_device_with_a_blob_sas(up):
    answer = up.opened("d1", "dir/f.txt")
    assert set(answer) == {"correlationId", "hostName", "containerName", "blobName", "sasToken"}
    assert answer["hostName"] == HOST and answer["containerName"] == file_upload.MEMORY_CONTAINER
    assert answer["blobName"] == "d1/dir/f.txt"
    fields = token_fields(answer)
    assert fields["sr"] == "b" and fields["sp"] == "rw" and fields["sig"]
    expires = datetime.strptime(fields["se"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    assert abs(expires - (up.hub.clock.now() + file_upload.SAS_TTL_SECONDS)) < 2


def test_the_blob_sas_writes_and_reads_its_blob_only_and_not_after_it_expires(up):
    answer = up.opened()
    assert up.put(answer, b"hello world").status_code == 201
    assert up.stored(answer) == b"hello world"
    uri = f"https://{HOST}/{answer['containerName']}/{answer['blobName']}{answer['sasToken']}"
    assert up.blobs.get(uri).content == b"hello world"
    assert up.blobs.delete(uri).status_code == 403  # read and write only
    assert up.put(answer, b"x", blob="d1/other.txt").status_code == 403
    assert up.put(answer, b"x", blob="d2/f.txt").status_code == 403
    assert "d1/other.txt" not in up.storage.containers[answer["containerName"]]
    up.hub.clock.advance(file_upload.SAS_TTL_SECONDS + 1)
    assert up.put(answer, b"late").status_code == 403
    assert up.stored(answer) == b"hello world"


def test_a_blob_sas_of_one_storage_means_nothing_to_another():
    one, other = MemoryStorage(), MemoryStorage()
    token = one.blob_sas("c", "d/b", 2**31)
    other.containers["c"] = {}
    response = other.transport().handle_request(httpx.Request("PUT", f"https://{HOST}/c/d/b{token}", content=b"x"))
    assert response.status_code == 403


def test_a_completion_answers_204_and_the_correlation_id_is_then_gone(up):
    answer = up.opened()
    up.put(answer)
    assert up.notify(answer["correlationId"]).status_code == 204
    again = up.notify(answer["correlationId"])
    assert again.status_code == 400 and error_code(again) == file_upload.INVALID_CORRELATION
    assert up.hub.file_uploads == {}


def test_unknown_and_other_devices_correlation_ids_are_refused(up):
    mine = up.opened("d1")
    for response in (up.notify("bm90LWdpdmVu"), up.notify(mine["correlationId"], device_id="d2")):
        assert response.status_code == 400 and error_code(response) == file_upload.INVALID_CORRELATION
    assert up.notify(mine["correlationId"]).status_code == 204  # still open for its own device


def test_the_correlation_id_in_the_path_completes_as_the_nodejs_sdk_sends_it(up):
    answer = up.opened()
    while "/" not in answer["correlationId"] and "+" not in answer["correlationId"]:  # an id that needs encoding
        up.notify(answer["correlationId"], success=False)
        answer = up.opened()
    up.put(answer)
    assert up.notify_in_path(answer["correlationId"]).status_code == 204
    assert up.notify(answer["correlationId"]).status_code == 400
    assert [n["blobName"] for n in up.hub.file_upload_notifications] == ["d1/f.txt"]


def test_an_expired_upload_is_refused_and_released(up):
    answer = up.opened()
    up.hub.clock.advance(file_upload.SAS_TTL_SECONDS)
    response = up.notify(answer["correlationId"])
    assert response.status_code == 400 and error_code(response) == file_upload.EXPIRED_CORRELATION
    assert up.hub.file_uploads == {}


def test_ten_uploads_per_device_then_403006_until_one_is_completed_or_expires(up):
    answers = [up.opened("d1", f"f{n}") for n in range(file_upload.MAX_ACTIVE_PER_DEVICE)]
    refused = up.sas("d1", "f10")
    assert refused.status_code == 403 and error_code(refused) == file_upload.LIMIT_CODE
    assert "cannot exceed 10" in refused.json()["Message"]
    assert up.sas("d2", "f").status_code == 200  # the limit is the device's
    assert up.notify(answers[0]["correlationId"], success=False).status_code == 204
    assert up.sas("d1", "f11").status_code == 200
    assert up.sas("d1", "f12").status_code == 403
    up.hub.clock.advance(file_upload.SAS_TTL_SECONDS + 1)
    assert up.sas("d1", "f13").status_code == 200
    assert sum(u.device_id == "d1" for u in up.hub.file_uploads.values()) == 1


def test_uploads_of_a_deleted_device_are_released(up):
    up.opened("d2")
    assert up.api.delete_device("d2").status_code == 204
    up.opened("d1")
    assert {u.device_id for u in up.hub.file_uploads.values()} == {"d1"}


def test_a_successful_completion_makes_one_notification_for_the_service(up):
    answer = up.opened("d1", "pic.jpg")
    up.put(answer, b"1234567")
    up.notify(answer["correlationId"])
    failed = up.opened("d1", "lost.jpg")
    up.notify(failed["correlationId"], success=False)
    (notice,) = file_upload.notifications(up.hub, "d1")
    assert notice["deviceId"] == "d1" and notice["blobName"] == "d1/pic.jpg" and notice["blobSizeInBytes"] == 7
    assert notice["blobUri"] == f"https://{HOST}/{answer['containerName']}/d1/pic.jpg"
    assert notice["enqueuedTimeUtc"].endswith("Z") and notice["lastUpdatedTime"].endswith("Z")
    assert file_upload.notifications(up.hub, "d2") == []


def test_the_notifications_kept_are_bounded(up):
    with up.hub.lock:
        for n in range(file_upload.NOTIFICATIONS_KEPT + 5):
            upload = file_upload.Upload(str(n), "d1", "d1/x", HOST, "c", "u", up.hub.clock.now() + 60)
            file_upload._notify_service(up.hub, upload, up.hub.clock.now())
    assert len(up.hub.file_upload_notifications) == file_upload.NOTIFICATIONS_KEPT
    assert up.hub.file_upload_notifications[-1]["deviceId"] == "d1"


def test_device_connect_for_that_device_is_needed(up):
    for token in (None, up.api.policy("service"), up.api.policy("registryReadWrite"), up.api.device_token("d2")):
        response = up.api.request("POST", "/devices/d1/files", json={"blobName": "f"}, token=token)
        assert response.status_code == 401, token
    assert up.hub.file_uploads == {}
    assert up.sas("d1", token=up.api.policy("device")).status_code == 200
    missing = up.api.request("POST", "/devices/nobody/files", json={"blobName": "f"})
    assert missing.status_code == 404 and error_code(missing) == "DeviceNotFound"


@pytest.mark.parametrize("params", [{}, {"api-version": "2016-02-03"}, {"api-version": "2020-09-30"}])
def test_only_2021_04_12_is_served(up, params):
    response = up.api.request("POST", "/devices/d1/files", json={"blobName": "f"}, params=params,
                              token=up.api.device_token("d1"))
    assert response.status_code == 400 and error_code(response) == "InvalidProtocolVersion"


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"blobName": 3}', b'{"blobName": "/"}', b"{}"])
def test_a_bad_sas_uri_request_is_400(up, body):
    response = up.api.request("POST", "/devices/d1/files", content=body, token=up.api.device_token("d1"))
    assert response.status_code == 400 and error_code(response) in ("IotHubFormatError", "ArgumentInvalid")


@pytest.mark.parametrize("extra", [{"isSuccess": "yes"}, {"statusCode": "200"}, {"statusCode": 2**31},
                                   {"statusDescription": 5}, {"correlationId": 7}])
def test_a_bad_completion_is_400_and_keeps_the_upload(up, extra):
    answer = up.opened()
    response = up.notify(answer["correlationId"], **extra)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert answer["correlationId"] in up.hub.file_uploads


def test_without_storage_a_sas_uri_request_says_none_is_configured():
    api = ReferenceApi(params=V21)
    api.hub.blob_transport = None
    api.device("d1")
    response = api.request("POST", "/devices/d1/files", json={"blobName": "f"}, token=api.device_token("d1"))
    assert response.status_code == 400 and error_code(response) == file_upload.STORAGE_NOT_CONFIGURED


def test_a_real_container_is_handed_out_as_given(up):
    up.hub.file_upload_container = "http://127.0.0.1:10000/devstoreaccount1/uploads?sv=2020-10-02&sr=c&sp=rcw&sig=abc"
    answer = up.opened("d1", "f.txt")
    assert answer["hostName"] == "127.0.0.1:10000/devstoreaccount1" and answer["containerName"] == "uploads"
    assert answer["blobName"] == "d1/f.txt" and answer["sasToken"] == "?sv=2020-10-02&sr=c&sp=rcw&sig=abc"
    assert file_upload.container_parts("https://acct.blob.core.windows.net/c?sv=1&sig=x") == \
        ("acct.blob.core.windows.net", "c", "?sv=1&sig=x")


@pytest.mark.parametrize("url", ["ftp://h/c?sig=x", "https://acct.blob.core.windows.net/c", "https:///c?sig=x",
                                 "https://acct.blob.core.windows.net/?sig=x", "not a url"])
def test_serve_refuses_a_container_that_is_not_a_container_sas_url_in_one_line(capsys, url):
    assert cli.main(["serve", "--file-upload-container", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --file-upload-container:") and "sig=x" not in err[0]

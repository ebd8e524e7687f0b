"""Each fault switch of the 2021-04-12 file upload (reference/faults_2021_files.py) changes the reference's behaviour
as its description says, and a hub without it does not. Time moves by hub.clock.advance."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import file_upload
from tests.support.file_uploads import Uploads
from tests.support.reference_api import SURFACE_PREFIXES, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

FILE_FAULTS = faults_breaking(*SURFACE_PREFIXES["files 2021"])


def test_every_file_upload_fault_has_a_test_here():
    assert FILE_FAULTS
    missing = [name for name in FILE_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def hubs(fault: str) -> tuple[Uploads, Uploads]:
    """A hub without the fault and one with it, each with the devices d1 and d2."""
    return Uploads(), Uploads(fault)


def test_fault_file_upload_blob_name_unprefixed():
    for up, wanted in zip(hubs("file-upload-blob-name-unprefixed"), ("d1/f.txt", "f.txt"), strict=True):
        assert up.opened("d1", "f.txt")["blobName"] == wanted


def test_fault_file_upload_sas_for_another_blob():
    for up, status in zip(hubs("file-upload-sas-for-another-blob"), (201, 403), strict=True):
        assert up.put(up.opened()).status_code == status


def test_fault_file_upload_container_wide_sas():
    for up, status in zip(hubs("file-upload-container-wide-sas"), (403, 201), strict=True):
        answer = up.opened()
        assert up.put(answer).status_code == 201
        assert up.put(answer, blob="d2/not-mine.txt").status_code == status


def test_fault_file_upload_no_limit():
    for up, status in zip(hubs("file-upload-no-limit"), (403, 200), strict=True):
        for n in range(file_upload.MAX_ACTIVE_PER_DEVICE):
            up.opened("d1", f"f{n}")
        assert up.sas("d1", "f10").status_code == status


def test_fault_file_upload_expired_uploads_kept():
    for up, status in zip(hubs("file-upload-expired-uploads-kept"), (200, 403), strict=True):
        for n in range(file_upload.MAX_ACTIVE_PER_DEVICE):
            up.opened("d1", f"f{n}")
        up.hub.clock.advance(file_upload.SAS_TTL_SECONDS + 1)
        assert up.sas("d1", "late").status_code == status


def test_fault_file_upload_correlation_reusable():
    for up, status in zip(hubs("file-upload-correlation-reusable"), (400, 204), strict=True):
        answer = up.opened()
        assert up.notify(answer["correlationId"]).status_code == 204
        assert up.notify(answer["correlationId"]).status_code == status


def test_fault_file_upload_unknown_correlation_accepted():
    for up, status in zip(hubs("file-upload-unknown-correlation-accepted"), (400, 204), strict=True):
        assert up.notify("bmV2ZXItZ2l2ZW4=").status_code == status
        assert up.hub.file_upload_notifications == []


def test_fault_file_upload_no_service_notification():
    for up, count in zip(hubs("file-upload-no-service-notification"), (1, 0), strict=True):
        answer = up.opened()
        up.put(answer)
        assert up.notify(answer["correlationId"]).status_code == 204
        assert len(file_upload.notifications(up.hub, "d1")) == count


def test_fault_file_upload_notify_refused():
    for up, status in zip(hubs("file-upload-notify-refused"), (204, 400), strict=True):
        answer = up.opened()
        assert up.notify(answer["correlationId"]).status_code == status
        assert (answer["correlationId"] in up.hub.file_uploads) is (status == 400)


def test_fault_file_upload_path_notify_not_served():
    for up, status in zip(hubs("file-upload-path-notify-not-served"), (204, 404), strict=True):
        assert up.notify_in_path(up.opened()["correlationId"]).status_code == status


def test_fault_file_upload_any_device_token():
    for up, status in zip(hubs("file-upload-any-device-token"), (401, 200), strict=True):
        assert up.sas("d1", token=up.api.device_token("d2")).status_code == status
        # a policy without DeviceConnect is refused either way
        assert up.sas("d1", token=up.api.policy("service")).status_code == 401

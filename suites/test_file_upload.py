"""Device-side file upload at api-version 2021-04-12 (specs/2021-04-12/file-upload.yaml;
docs/sources/iot-hub-devguide-file-upload__2021-07-30_0238602a.md; docs/sources/INVENTORY-2021-04-12.md §3.4, §9, §10
C14, C15). Each test signs as the device, with its own key, uploads through the SAS URI the hub answered and reads the
blob back with it. The spec's link (SAS URI → completion with its correlationId) is followed by
test_a_correlation_id_completes_one_upload_only, which then completes again; property tests over the spec.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

from urllib.parse import parse_qs, quote

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import NotTestable, PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.devices import Registry
from iothub_conformance.surfaces.file_upload import NO_STORAGE, FileUploads, StorageNotReachable, no_storage, other_blob
from iothub_conformance.surfaces.messaging import DeviceClient
from iothub_conformance.targets import session

pytestmark = pytest.mark.api_version("2021-04-12")
V2021 = "2021-04-12"
LIMIT = 10  # the file-upload page: ten concurrent file uploads per device
LIMIT_CODE = "DeviceMaximumActiveFileUploadLimitExceeded"
CONTENT = b"hello world"  # the file-upload page's Put Blob example


def device_of(registry: Registry, client, target, label: str) -> DeviceClient:
    device_id, created = registry.make(label)
    return DeviceClient.of_created(client, target, device_id, created, V2021)


@pytest.fixture
def uploads(registry, client, target):
    made = FileUploads(device_of(registry, client, target, "file"), target)
    yield made
    made.close()


def uploaded(uploads: FileUploads, blob_name: str, data: bytes = CONTENT) -> dict:
    """A SAS URI answer whose blob now holds `data`: PreconditionFailed unless the upload was taken; a skip when the
    run may not contact the storage the hub named."""
    answer = uploads.sas(blob_name)
    try:
        uri = uploads.blob_uri(answer)
    except StorageNotReachable as exc:
        pytest.skip(str(exc))
    put = uploads.put_blob(uri, data)
    if put.status_code != 201:
        raise PreconditionFailed(f"the upload through the SAS URI answered {put.status_code}, expected 201")
    return answer


def correlation(answer: dict) -> str:
    value = answer.get("correlationId")
    if not isinstance(value, str) or not value:
        raise PreconditionFailed(f"the SAS URI answer has no correlationId: {str(list(answer))[:200]}")
    return value


def completed(uploads: FileUploads, answer: dict) -> None:
    response = uploads.notify(correlation(answer))
    if response.status_code != 204:
        raise PreconditionFailed(f"the completion of an upload was not taken: {answered(response)}")


def refused(response) -> bool:
    return 400 <= response.status_code < 500 and response.status_code != 401


@pytest.mark.requirement("FILE-SAS-001")
def test_a_sas_uri_request_answers_the_elements_of_a_blob_sas_uri(uploads):
    response = uploads.request_sas("conformance.txt")
    answer = json_of(response)
    expect("FILE-SAS-001", response.status_code == 200 and isinstance(answer, dict),
           f"POST /files: {answered(response)}, expected 200 with a JSON object")
    for name in ("correlationId", "hostName", "containerName", "blobName", "sasToken"):
        expect("FILE-SAS-001", isinstance(answer.get(name), str) and answer[name], f"{name} is {answer.get(name)!r}"
               if name != "sasToken" else "sasToken is not a non-empty string")
    wanted = f"{uploads.device.device_id}/conformance.txt"
    expect("FILE-SAS-001", answer["blobName"] == wanted, f"blobName is {answer['blobName']!r}, expected {wanted!r}")
    expect("FILE-SAS-001", answer["sasToken"].startswith("?"), "the sasToken does not start with '?'")
    uploads.notify(answer["correlationId"], success=False)


@pytest.mark.requirement("FILE-SAS-002")
def test_the_sas_uri_takes_the_blob_and_reads_it_back(uploads):
    answer = uploads.sas("roundtrip.txt")
    try:
        uri = uploads.blob_uri(answer)
    except StorageNotReachable as exc:
        pytest.skip(str(exc))
    put = uploads.put_blob(uri, CONTENT)
    expect("FILE-SAS-002", put.status_code == 201, f"Put Blob through the SAS URI answered {put.status_code}, "
                                                   "expected 201")
    read = uploads.get_blob(uri)
    expect("FILE-SAS-002", read.status_code == 200 and read.content == CONTENT,
           f"reading the blob back through the SAS URI answered {read.status_code} with {read.content[:40]!r}, "
           f"expected 200 with {CONTENT!r}")
    uploads.notify(correlation(answer))


@pytest.mark.requirement("FILE-SAS-003")
def test_the_sas_token_writes_no_other_blob(uploads):
    answer = uploaded(uploads, "mine.txt")  # the token writes its own blob, so a refusal below is about scope
    uri = uploads.blob_uri(answer)
    outside = uploads.put_blob(other_blob(uri, "not-mine.txt"), b"outside")
    expect("FILE-SAS-003", not 200 <= outside.status_code < 300,
           f"the SAS of {answer.get('blobName')!r} wrote another blob of the container: {outside.status_code}")
    uploads.notify(correlation(answer))


@pytest.mark.requirement("FILE-NOTIFY-001")
def test_a_completion_answers_204(uploads):
    answer = uploaded(uploads, "done.txt")
    response = uploads.notify(correlation(answer))
    expect("FILE-NOTIFY-001", response.status_code == 204, f"the completion: {answered(response)}, expected 204")


@pytest.mark.requirement("FILE-NOTIFY-002")
def test_a_correlation_id_completes_one_upload_only(uploads):
    answer = uploaded(uploads, "once.txt")
    completed(uploads, answer)
    again = uploads.notify(correlation(answer))
    expect("FILE-NOTIFY-002", refused(again), f"a second completion with the same correlationId: {answered(again)}, "
                                              "expected a 4xx refusal")


@pytest.mark.requirement("FILE-NOTIFY-003")
def test_a_correlation_id_never_given_is_refused(uploads):
    answer = uploads.sas("real.txt")  # the device may upload: the refusal below is about the id
    response = uploads.notify("Y29uZm9ybWFuY2UtbmV2ZXItZ2l2ZW4=")
    if response.status_code == 401:
        raise PreconditionFailed(f"the device's own token was refused: {answered(response)}")
    expect("FILE-NOTIFY-003", refused(response), f"a completion with a made-up correlationId: {answered(response)}, "
                                                 "expected a 4xx refusal")
    uploads.notify(correlation(answer), success=False)


@pytest.mark.requirement("FILE-NOTIFY-004")
def test_a_completion_with_the_correlation_id_in_the_path_completes_the_upload(uploads, profile_rule):
    profile_rule("file_notify_path")
    answer = uploaded(uploads, "node.txt")
    response = uploads.notify_in_path(correlation(answer))
    expect("FILE-NOTIFY-004", 200 <= response.status_code < 300,
           f"the completion at /files/notifications/{{correlationId}}: {answered(response)}, expected 2xx")
    again = uploads.notify(correlation(answer))
    expect("FILE-NOTIFY-004", refused(again), f"after it, the documented completion with the same id: "
                                              f"{answered(again)}: the upload was not completed")


def open_all(uploads: FileUploads, label: str) -> list[dict]:
    answers = [uploads.sas(f"{label}-{n}.txt") for n in range(LIMIT)]
    return answers


def close_all(uploads: FileUploads, answers: list[dict]) -> None:
    for answer in answers:
        if isinstance(answer.get("correlationId"), str):
            uploads.notify(answer["correlationId"], success=False)


@pytest.mark.requirement("FILE-LIMIT-001")
def test_a_device_has_at_most_ten_uploads_open(uploads):
    answers = open_all(uploads, "limit")
    try:
        eleventh = uploads.request_sas("limit-11.txt")
        if eleventh.status_code == 200:
            answers.append(json_of(eleventh) or {})
        expect("FILE-LIMIT-001", eleventh.status_code == 403, f"the 11th SAS URI request with 10 open: "
                                                              f"{answered(eleventh)}, expected 403")
        code = eleventh.headers.get("iothub-errorcode")
        expect("FILE-LIMIT-001", code == LIMIT_CODE, f"the 403 names {code!r}, expected {LIMIT_CODE}")
        completed(uploads, answers.pop(0))
        room = uploads.request_sas("limit-room.txt")
        if room.status_code == 200:
            answers.append(json_of(room) or {})
        expect("FILE-LIMIT-001", room.status_code == 200, f"after one completion, a SAS URI request: {answered(room)}, "
                                                          "expected 200")
    finally:
        close_all(uploads, answers)


def expiry(answer: dict) -> str:
    token = str(answer.get("sasToken") or "")
    values = parse_qs(token.removeprefix("?")).get("se")
    if not values:
        raise PreconditionFailed("the sasToken names no se (expiry) to wait for")
    return values[0]


def epoch(se: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(se.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise PreconditionFailed(f"the sasToken's se {se[:40]!r} is not an ISO 8601 time") from None


@pytest.mark.requirement("FILE-TTL-001")
def test_an_upload_never_completed_stops_counting_when_its_sas_expires(uploads, clock):
    answers = open_all(uploads, "ttl")
    full = uploads.request_sas("ttl-11.txt")
    if full.status_code != 403:
        close_all(uploads, [*answers, json_of(full) or {}])
        raise PreconditionFailed(f"the 11th SAS URI request with 10 open was not refused: {answered(full)}")
    latest = max(epoch(expiry(answer)) for answer in answers)
    clock.advance(max(0.0, latest - clock.now()) + 1)
    after = uploads.request_sas("ttl-after.txt")
    if after.status_code == 200:
        close_all(uploads, [json_of(after) or {}])
    expect("FILE-TTL-001", after.status_code == 200, f"with 10 uploads past their SAS expiry, a SAS URI request: "
                                                     f"{answered(after)}, expected 200")


@pytest.mark.requirement("FILE-NOTICE-001")
def test_a_successful_completion_makes_one_notification_for_the_service(uploads, target):
    read = getattr(target.controls, "file_upload_notifications", None)
    if read is None:
        pytest.skip("the service-side file-upload notifications come over AMQP only: the target offers no control "
                    "file_upload_notifications to read them")
    device_id = uploads.device.device_id
    before = len(read(device_id))
    answer = uploaded(uploads, "notice.txt")
    completed(uploads, answer)
    made = read(device_id)[before:]
    expect("FILE-NOTICE-001", len(made) == 1, f"the completion made {len(made)} notifications, expected 1")
    notice = made[0]
    expect("FILE-NOTICE-001", notice.get("deviceId") == device_id, f"deviceId is {notice.get('deviceId')!r}")
    expect("FILE-NOTICE-001", notice.get("blobName") == answer.get("blobName"),
           f"blobName is {notice.get('blobName')!r}, the upload's {answer.get('blobName')!r}")
    suffix = f"/{answer.get('containerName')}/{answer.get('blobName')}"
    expect("FILE-NOTICE-001", str(notice.get("blobUri", "")).endswith(suffix),
           f"blobUri {str(notice.get('blobUri'))[:200]!r} does not end with {suffix!r}")
    expect("FILE-NOTICE-001", notice.get("blobSizeInBytes") == len(CONTENT),
           f"blobSizeInBytes is {notice.get('blobSizeInBytes')!r}, the blob holds {len(CONTENT)} bytes")


@pytest.mark.requirement("FILE-AUTH-001")
def test_another_devices_token_is_refused_and_opens_nothing(uploads, registry, client, target):
    other = FileUploads(device_of(registry, client, target, "file-other"), target)
    mine = uploads.device
    wrong = {"Authorization": other.device.token()}
    answer = uploads.sas("auth.txt")
    for label, response in (
            ("SAS URI request", uploads.request_sas("auth-other.txt", headers=wrong)),
            ("completion", uploads.notify(correlation(answer), headers=wrong)),
            ("completion in the path", uploads._post("/files/notifications/" + quote(correlation(answer), safe=""),
                                                     {"isSuccess": True}, wrong))):
        expect("FILE-AUTH-001", response.status_code == 401,
               f"device {other.device.device_id}'s token on {mine.device_id}'s {label}: {answered(response)}, "
               "expected 401")
    still = uploads.notify(correlation(answer))
    expect("FILE-AUTH-001", still.status_code == 204, f"after the refused completions, the device's own: "
                                                      f"{answered(still)}, expected 204 (the upload still open)")
    other.close()


# -- generated requests (schemathesis) over specs/2021-04-12/file-upload.yaml --------------------------------------

schema = openapi.load("file-upload", V2021)
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)
SAS_OPERATION = "Device_CreateFileUploadSasUri"


@pytest.fixture(scope="module")
def generated_device(target):
    registry = Registry(session.client(), V2021, target.name_prefix)
    device = device_of(registry, session.client(), target, "prop-file")
    yield FileUploads(device, target)
    registry.cleanup()


def as_device(case, uploads: FileUploads) -> str | None:
    """The run's own device, signed as itself; a completion names an upload opened for it (its correlationId is
    returned)."""
    case.path_parameters = {**(case.path_parameters or {}), "deviceId": quote(uploads.device.device_id, safe="")}
    case.headers = {**(case.headers or {}), "Authorization": uploads.device.token()}
    operation = case.operation.definition.raw.get("operationId")
    if operation == SAS_OPERATION:
        return None
    fresh = correlation(uploads.sas("generated.txt"))
    if "correlationId" in case.path_parameters:
        case.path_parameters["correlationId"] = quote(fresh, safe="")
    elif isinstance(case.body, dict):
        case.body["correlationId"] = fresh
    return fresh


def release(uploads: FileUploads, response, opened: str | None) -> None:
    """Close what the generated case left open, so the next ones stay under the device's limit: the upload a SAS URI
    request opened, or the one opened for a completion the target did not take."""
    answer = json_of(response)
    if response.status_code == 200 and isinstance(answer, dict) and isinstance(answer.get("correlationId"), str):
        uploads.notify(answer["correlationId"], success=False)
    elif opened is not None and not 200 <= response.status_code < 300:
        uploads.notify(opened, success=False)


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_file_upload_requests_conform_to_the_spec_and_checks(case, generated_device, client):
    try:
        opened = as_device(case, generated_device)
    except NotTestable as exc:
        pytest.skip(str(exc))  # at once: hypothesis would take it for a failure to shrink
    response = cases.send(client, case)
    if no_storage(response):
        pytest.skip(NO_STORAGE)
    release(generated_device, response, opened)
    conforms(case, response, "COMMON-SPEC-001")

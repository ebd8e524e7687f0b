"""Error envelope check (profile rule error_envelope) and error_code()."""

from __future__ import annotations

import httpx
import pytest
import respx

from iothub_conformance.checks import envelope as errors
from iothub_conformance.checks.context import Context
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.failures import only

BASE = "https://hub.example"
API = {"api-version": "2016-02-03"}
ENVELOPE = {"Message": "ErrorCode:DeviceNotFound;Device d1 not found.",
            "ExceptionMessage": "Tracking ID:abc-G:0-TimeStamp:03/03/2016 01:02:03"}


def exchange(status: int = 404, headers: dict | None = None, json=None, content: bytes | None = None,
             method: str = "GET") -> httpx.Response:
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path="/devices/d1").respond(status, headers=headers or {}, json=json,
                                                              content=content)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, "/devices/d1", params=API)


def envelope(**changes) -> dict:
    body = dict(ENVELOPE)
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


CODE = {"iothub-errorcode": "DeviceNotFound"}


@pytest.mark.parametrize("status", [400, 401, 404, 412, 429, 500])
def test_iothub_envelope_passes(status):
    assert errors.verify(exchange(status, headers=CODE, json=ENVELOPE), Context(IOTHUB)) == []


def test_successful_responses_are_not_checked():
    assert errors.verify(exchange(200, json={"deviceId": "d1"}), Context(IOTHUB)) == []
    assert errors.verify(exchange(204, method="DELETE"), Context(IOTHUB)) == []


def test_missing_exception_message_fails():
    only(errors.verify(exchange(headers=CODE, json=envelope(ExceptionMessage=None)), Context(IOTHUB)), "COMMON-ERR-001",
         r".*ExceptionMessage")


def test_non_string_exception_message_fails():
    only(errors.verify(exchange(headers=CODE, json=envelope(ExceptionMessage={"id": 1})), Context(IOTHUB)), "COMMON-ERR-001")


@pytest.mark.parametrize("message", ["Device d1 not found.", "ErrorCode:DeviceNotFound Device d1",
                                     "errorcode:DeviceNotFound;x", " ErrorCode:DeviceNotFound;x", None, 404])
def test_message_without_an_error_code_fails(message):
    # None: no Message
    only(errors.verify(exchange(headers=CODE, json=envelope(Message=message)), Context(IOTHUB)), "COMMON-ERR-001",
         r".*Message")


def test_header_naming_another_code_fails():
    only(errors.verify(exchange(headers={"iothub-errorcode": "IotHubNotFound"}, json=ENVELOPE), Context(IOTHUB)),
         "COMMON-ERR-001", r".*'IotHubNotFound'.*'DeviceNotFound'")


def test_missing_header_fails():
    only(errors.verify(exchange(json=ENVELOPE), Context(IOTHUB)), "COMMON-ERR-001", r".*iothub-errorcode")


@pytest.mark.parametrize("content", [b"Not Found", b"", b"<html>500</html>"])
def test_non_json_body_fails(content):
    only(errors.verify(exchange(headers=CODE, content=content), Context(IOTHUB)), "COMMON-ERR-001", r".*not a JSON object")


def test_json_that_is_not_an_object_fails():
    only(errors.verify(exchange(headers=CODE, json=[ENVELOPE]), Context(IOTHUB)), "COMMON-ERR-001", r".*not a JSON object")


@pytest.mark.parametrize("kwargs", [
    {"json": ENVELOPE, "headers": CODE},
    {"json": envelope(ExceptionMessage=None)},
    {"json": {"error": {"code": "NotFound"}}},
    {"content": b"Not Found"},
    {"content": b""},
])
def test_docs_strict_accepts_any_error_body(kwargs):
    assert errors.verify(exchange(**kwargs), Context(DOCS_STRICT)) == []


def test_error_code_reads_the_header():
    assert errors.error_code(exchange(headers={"iothub-errorcode": "InvalidProtocolVersion"}, json=ENVELOPE)) \
        == "InvalidProtocolVersion"


def test_error_code_reads_the_message_without_a_header():
    assert errors.error_code(exchange(json=ENVELOPE)) == "DeviceNotFound"


def test_error_code_is_none_without_header_or_coded_message():
    assert errors.error_code(exchange(json={"Message": "no code here"})) is None
    assert errors.error_code(exchange(content=b"Not Found")) is None
    assert errors.error_code(exchange(json=["ErrorCode:X;"])) is None


def _bulk(headers: dict, json) -> httpx.Response:
    with respx.mock(base_url=BASE) as mock:
        mock.post("/devices").respond(400, headers=headers, json=json)
        with httpx.Client(base_url=BASE) as client:
            return client.post("/devices", params={"api-version": "2021-04-12"}, json=[])


BULK_RESULT = {"isSuccessful": False, "errors": [{"deviceId": "d1", "errorCode": "DeviceAlreadyExists",
                                                  "errorStatus": "exists", "operation": "create"}], "warnings": []}


def test_a_bulk_partial_failure_carries_its_result_not_the_envelope():
    # The swagger documents a BulkRegistryOperationResult for the bulk call's 400; the spec judges that body.
    assert errors.verify(_bulk({"iothub-errorcode": "BulkRegistryOperationFailure"}, BULK_RESULT), Context(IOTHUB)) == []


def test_any_other_bulk_400_still_needs_the_envelope():
    only(errors.verify(_bulk({"iothub-errorcode": "ArgumentInvalid"}, BULK_RESULT), Context(IOTHUB)), "COMMON-ERR-001")
    only(errors.verify(_bulk({"iothub-errorcode": "BulkRegistryOperationFailure"}, {"errors": []}), Context(IOTHUB)),
         "COMMON-ERR-001")

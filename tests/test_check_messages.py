"""Messaging checks: the lock ETag's form, the received message's headers, and the exemptions other checks make for
messaging responses (the lock is not a version tag; a message body is not an API JSON body)."""

from __future__ import annotations

import httpx
import pytest
import respx

from iothub_conformance.checks import etag, headers, lock, received, request_id
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB

BASE = "https://hub.example"
RECEIVE = "/devices/d1/messages/devicebound"
GOOD = {
    "ETag": '"0f8fad5b-d9cb-469f-a165-70867728950e"',
    "IoTHub-SequenceNumber": "7",
    "IoTHub-EnqueuedTime": "2026-11-25T10:00:00.0000000Z",
    "IoTHub-ExpiryTime": "2026-11-25T11:00:00.0000000Z",
    "IoTHub-MessageId": "m1",
    "IoTHub-app-color": "blue",
    "Content-Type": "text/plain",
    "x-ms-request-id": "r-1",
}


def exchange(method="GET", path=RECEIVE, status=200, headers=None, content=b"hello") -> httpx.Response:
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path=path).respond(status, headers=headers or {}, content=content)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, path, params={"api-version": "2016-02-03"})


def without(name: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != name}


# -- the lock ETag -----------------------------------------------------------------------------------------------

def test_quoted_lock_passes():
    lock.verify(exchange(headers=GOOD), IOTHUB)


def test_unquoted_lock_fails_under_iothub():
    with pytest.raises(AssertionError, match=r"^\[MSG-LOCK-001\]"):
        lock.verify(exchange(headers={**GOOD, "ETag": "0f8fad5b"}), IOTHUB)


def test_unquoted_lock_passes_under_docs_strict():
    lock.verify(exchange(headers={**GOOD, "ETag": "0f8fad5b"}), DOCS_STRICT)


def test_missing_lock_fails_under_both_profiles():
    for profile in (IOTHUB, DOCS_STRICT):
        with pytest.raises(AssertionError, match=r"^\[MSG-RECV-002\]"):
            lock.verify(exchange(headers=without("ETag")), profile)


def test_lock_check_ignores_an_empty_queue_and_other_operations():
    lock.verify(exchange(status=204, headers={}, content=b""), IOTHUB)
    lock.verify(exchange("DELETE", RECEIVE + "/abc", status=204, headers={}, content=b""), IOTHUB)


def test_etag_check_does_not_treat_the_lock_as_a_version_tag():
    # Unquoted, and on a response without a device body: both would fail DI-ETAG rules on a device response.
    etag.verify(exchange(headers={**GOOD, "ETag": "not-an-rfc-7232-tag"}), IOTHUB)
    etag.verify(exchange("POST", RECEIVE + "/abc/abandon", status=204, headers={}, content=b""), IOTHUB)


# -- the received message ----------------------------------------------------------------------------------------

def test_received_message_with_documented_headers_passes():
    received.verify(exchange(headers=GOOD), IOTHUB, sent={"IoTHub-MessageId": "m1", "IoTHub-app-color": "blue",
                                                          "Content-Type": "text/plain"}, body=b"hello")


@pytest.mark.parametrize("name", ["IoTHub-SequenceNumber", "IoTHub-EnqueuedTime", "IoTHub-ExpiryTime"])
def test_missing_documented_header_fails(name):
    with pytest.raises(AssertionError, match=r"^\[MSG-RECV-002\]"):
        received.verify(exchange(headers=without(name)), DOCS_STRICT)


def test_sdk_expiry_header_is_accepted_under_iothub_only():
    response = exchange(headers={**without("IoTHub-ExpiryTime"), "iothub-expiry": "2026-11-25T11:00:00Z"})
    received.verify(response, IOTHUB)
    with pytest.raises(AssertionError, match=r"\[MSG-RECV-002\].*IoTHub-ExpiryTime"):
        received.verify(response, DOCS_STRICT)


@pytest.mark.parametrize("value", ["yesterday", "25/11/2026 10:00", ""])
def test_enqueued_time_that_is_not_iso8601_fails(value):
    with pytest.raises(AssertionError, match=r"\[MSG-RECV-002\].*ISO 8601"):
        received.verify(exchange(headers={**GOOD, "IoTHub-EnqueuedTime": value}), IOTHUB)


def test_a_property_that_does_not_come_back_fails():
    with pytest.raises(AssertionError, match=r"\[MSG-RECV-002\].*IoTHub-app-size"):
        received.verify(exchange(headers=GOOD), IOTHUB, sent={"IoTHub-app-size": "3"})


def test_a_property_that_comes_back_changed_fails():
    with pytest.raises(AssertionError, match=r"\[MSG-RECV-002\].*IoTHub-MessageId"):
        received.verify(exchange(headers=GOOD), IOTHUB, sent={"IoTHub-MessageId": "m2"})


def test_a_changed_body_fails():
    with pytest.raises(AssertionError, match=r"\[MSG-RECV-002\].*body"):
        received.verify(exchange(headers=GOOD, content=b"hellO"), IOTHUB, body=b"hello")


def test_content_type_parameters_do_not_count_as_a_change():
    response = exchange(headers={**GOOD, "Content-Type": "text/plain; charset=utf-8"})
    received.verify(response, IOTHUB, sent={"Content-Type": "text/plain"})


# -- other checks on messaging responses -------------------------------------------------------------------------

def test_a_json_message_body_is_not_held_to_the_api_content_type():
    headers.verify_content_type(exchange(headers={**GOOD, "Content-Type": "text/plain"}, content=b'{"a": 1}'))


def test_a_json_error_on_a_messaging_path_still_needs_application_json():
    with pytest.raises(AssertionError, match=r"^\[COMMON-HDR-001\]"):
        headers.verify_content_type(exchange(status=401, headers={"Content-Type": "text/plain"},
                                             content=b'{"Message": "ErrorCode:IotHubUnauthorizedAccess;no"}'))


def test_request_id_on_messaging_is_required_by_iothub_only():
    response = exchange(status=204, headers={}, content=b"")
    with pytest.raises(AssertionError, match=r"^\[COMMON-REQID-001\]"):
        request_id.verify(response, profile=IOTHUB)
    request_id.verify(response, profile=DOCS_STRICT)


def test_request_id_on_device_identities_is_required_by_both_profiles():
    response = exchange(path="/devices/d1", headers={}, content=b"{}")
    for profile in (IOTHUB, DOCS_STRICT):
        with pytest.raises(AssertionError, match=r"^\[COMMON-REQID-001\]"):
            request_id.verify(response, profile=profile)

"""Messaging checks: the lock ETag's form, the received message's headers, and the exemptions other checks make for
messaging responses (the lock is not a version tag; a message body is not an API JSON body)."""

from __future__ import annotations

import httpx
import pytest
import respx

from iothub_conformance.checks import etag, headers, lock, received, request_id
from iothub_conformance.checks.context import Context
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.failures import only

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


def exchange(method="GET", path=RECEIVE, status=200, headers=None, content=b"hello",
             api_version="2016-02-03") -> httpx.Response:
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path=path).respond(status, headers=headers or {}, content=content)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, path, params={"api-version": api_version})


def without(name: str) -> dict:
    return {k: v for k, v in GOOD.items() if k != name}


# -- the lock ETag -----------------------------------------------------------------------------------------------

def test_quoted_lock_passes():
    assert lock.verify(exchange(headers=GOOD), Context(IOTHUB)) == []


def test_unquoted_lock_fails_under_iothub():
    only(lock.verify(exchange(headers={**GOOD, "ETag": "0f8fad5b"}), Context(IOTHUB)), "MSG-LOCK-001")


def test_unquoted_lock_passes_under_docs_strict():
    assert lock.verify(exchange(headers={**GOOD, "ETag": "0f8fad5b"}), Context(DOCS_STRICT)) == []


def test_missing_lock_fails_under_both_profiles():
    for profile in (IOTHUB, Context(DOCS_STRICT)):
        only(lock.verify(exchange(headers=without("ETag")), Context(profile)), "MSG-RECV-002")


def test_lock_check_ignores_an_empty_queue_and_other_operations():
    assert lock.verify(exchange(status=204, headers={}, content=b""), Context(IOTHUB)) == []
    assert lock.verify(exchange("DELETE", RECEIVE + "/abc", status=204, headers={}, content=b""), Context(IOTHUB)) == []


def test_etag_check_does_not_treat_the_lock_as_a_version_tag():
    # Unquoted, and on a response without a device body: both would fail DI-ETAG rules on a device response.
    assert etag.verify(exchange(headers={**GOOD, "ETag": "not-an-rfc-7232-tag"}), Context(IOTHUB)) == []
    assert etag.verify(exchange("POST", RECEIVE + "/abc/abandon", status=204, headers={}, content=b""),
                       Context(IOTHUB)) == []


# -- the received message ----------------------------------------------------------------------------------------

def test_received_message_with_documented_headers_passes():
    sent = {"IoTHub-MessageId": "m1", "IoTHub-app-color": "blue", "Content-Type": "text/plain"}
    assert received.verify(exchange(headers=GOOD), Context(IOTHUB, sent=sent, body=b"hello")) == []


@pytest.mark.parametrize("name", ["IoTHub-SequenceNumber", "IoTHub-EnqueuedTime", "IoTHub-ExpiryTime"])
def test_missing_documented_header_fails(name):
    only(received.verify(exchange(headers=without(name)), Context(DOCS_STRICT)), "MSG-RECV-002")


def test_sdk_expiry_header_is_accepted_under_iothub_only():
    response = exchange(headers={**without("IoTHub-ExpiryTime"), "iothub-expiry": "2026-11-25T11:00:00Z"})
    assert received.verify(response, Context(IOTHUB)) == []
    only(received.verify(response, Context(DOCS_STRICT)), "MSG-RECV-002", r".*IoTHub-ExpiryTime")


@pytest.mark.parametrize("value", ["yesterday", "25/11/2026 10:00", ""])
def test_enqueued_time_that_is_not_iso8601_fails(value):
    only(received.verify(exchange(headers={**GOOD, "IoTHub-EnqueuedTime": value}), Context(IOTHUB)), "MSG-RECV-002",
         r".*ISO 8601")


def test_a_property_that_does_not_come_back_fails():
    only(received.verify(exchange(headers=GOOD), Context(IOTHUB, sent={"IoTHub-app-size": "3"})), "MSG-RECV-002",
         r".*IoTHub-app-size")


def test_a_property_that_comes_back_changed_fails():
    only(received.verify(exchange(headers=GOOD), Context(IOTHUB, sent={"IoTHub-MessageId": "m2"})), "MSG-RECV-002",
         r".*IoTHub-MessageId")


def test_a_changed_body_fails():
    only(received.verify(exchange(headers=GOOD, content=b"hellO"), Context(IOTHUB, body=b"hello")), "MSG-RECV-002",
         r".*body")


def test_content_type_parameters_do_not_count_as_a_change():
    response = exchange(headers={**GOOD, "Content-Type": "text/plain; charset=utf-8"})
    assert received.verify(response, Context(IOTHUB, sent={"Content-Type": "text/plain"})) == []


# -- other checks on messaging responses -------------------------------------------------------------------------

def test_a_json_message_body_is_not_held_to_the_api_content_type():
    assert headers.verify_content_type(exchange(headers={**GOOD, "Content-Type": "text/plain"}, content=b'{"a": 1}'),
                                       Context()) == []


def test_a_json_error_on_a_messaging_path_still_needs_application_json():
    only(headers.verify_content_type(exchange(status=401, headers={"Content-Type": "text/plain"},
                                              content=b'{"Message": "ErrorCode:IotHubUnauthorizedAccess;no"}'),
                                     Context()), "COMMON-HDR-001")


def test_request_id_on_messaging_is_required_by_iothub_only():
    response = exchange(status=204, headers={}, content=b"")
    only(request_id.verify(response, Context(IOTHUB)), "COMMON-REQID-001")
    assert request_id.verify(response, Context(DOCS_STRICT)) == []


def test_request_id_on_device_identities_is_required_by_both_profiles():
    response = exchange(path="/devices/d1", headers={}, content=b"{}")
    for profile in (IOTHUB, Context(DOCS_STRICT)):
        only(request_id.verify(response, Context(profile)), "COMMON-REQID-001")


@pytest.mark.parametrize("path", [RECEIVE, "/devices/d1/messages/deviceBound"])
def test_the_2016_receive_headers_are_not_asked_of_a_2021_receive(path):
    # MSG-RECV-002 is the 2016 receive page's; at 2021-04-12 C2D-RECV-003 judges the headers SDKs read.
    bare = exchange(path=path, headers={"ETag": GOOD["ETag"]}, api_version="2021-04-12")
    assert received.verify(bare, Context(DOCS_STRICT)) == []
    at_2016 = received.verify(exchange(path=path, headers={"ETag": GOOD["ETag"]}), Context(DOCS_STRICT))
    assert at_2016 and {f.requirement for f in at_2016} == {"MSG-RECV-002"}


def test_the_2016_lock_rules_are_not_asked_of_a_2021_receive():
    unquoted = {**GOOD, "ETag": "0f8fad5b"}
    assert lock.verify(exchange(headers=unquoted, api_version="2021-04-12"), Context(IOTHUB)) == []
    assert lock.verify(exchange(headers=without("ETag"), api_version="2021-04-12"), Context(IOTHUB)) == []
    only(lock.verify(exchange(headers=unquoted), Context(IOTHUB)), "MSG-LOCK-001")

"""x-ms-request-id check: present, non-empty, and unique across the journal."""

from __future__ import annotations

import httpx
import pytest
import respx

from iothub_conformance.checks import request_id
from iothub_conformance.checks.context import Context
from iothub_conformance.evidence.journal import Journal
from tests.support.failures import only

BASE = "https://hub.example"
API = {"api-version": "2016-02-03"}


def exchange(method: str = "GET", path: str = "/devices/d1", status: int = 200, headers: dict | None = None,
             json=None) -> httpx.Response:
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path=path).respond(status, headers=headers or {}, json=json)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, path, params=API)


def test_present_request_id_passes():
    assert request_id.verify(exchange(headers={"x-ms-request-id": "r-1"}, json={"deviceId": "d1"}), Context()) == []


def test_request_id_on_an_error_response_passes():
    response = exchange(status=404, headers={"x-ms-request-id": "r-404"}, json={"Message": "ErrorCode:X;gone"})
    assert request_id.verify(response, Context()) == []


def test_missing_request_id_fails():
    only(request_id.verify(exchange(json={"deviceId": "d1"}), Context()), "COMMON-REQID-001")


def test_missing_request_id_on_an_error_response_fails():
    only(request_id.verify(exchange(status=500, json={"Message": "ErrorCode:ServerError;boom"}), Context()),
         "COMMON-REQID-001")


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_request_id_fails(value):
    only(request_id.verify(exchange(headers={"x-ms-request-id": value}), Context()), "COMMON-REQID-001")


def test_unique_request_ids_across_a_journal_pass():
    journal = Journal()
    responses = [exchange(headers={"x-ms-request-id": f"r-{i}"}) for i in range(3)]
    for response in responses:
        journal.record(response)
    for response in responses:
        assert request_id.verify(response, Context(journal=journal)) == []


def test_repeated_request_id_across_a_journal_fails():
    journal = Journal()
    first = exchange(headers={"x-ms-request-id": "same"})
    second = exchange(method="PUT", headers={"x-ms-request-id": "same"})
    journal.record(first)
    assert request_id.verify(first, Context(journal=journal)) == []  # seen once so far
    journal.record(second)
    only(request_id.verify(second, Context(journal=journal)), "COMMON-REQID-002", r".*'same'.*2 responses")


def test_repeated_request_id_on_another_path_fails():
    journal = Journal()
    first = exchange(path="/devices/d1", headers={"x-ms-request-id": "dup"})
    second = exchange(path="/statistics/devices", headers={"x-ms-request-id": "dup"})
    journal.record(first)
    journal.record(second)
    only(request_id.verify(second, Context(journal=journal)), "COMMON-REQID-002")


def test_without_a_journal_uniqueness_is_not_checked():
    response = exchange(headers={"x-ms-request-id": "same"})
    assert request_id.verify(response, Context()) == []
    assert request_id.verify(response, Context()) == []

"""ETag check: presence, RFC 7232 syntax, header/body agreement, and stability/change through the journal."""

from __future__ import annotations

import itertools

import httpx
import pytest
import respx

from iothub_conformance.checks import etag
from iothub_conformance.evidence.journal import Journal
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB

BASE = "https://hub.example"
API = {"api-version": "2016-02-03"}
_ids = itertools.count(1)


def exchange(method: str = "GET", path: str = "/devices/d1", status: int = 200, etag_header: str | None = None,
             json=None, request_id: str | None = None) -> httpx.Response:
    headers = {"x-ms-request-id": request_id or f"r-{next(_ids)}"}
    if etag_header is not None:
        headers["ETag"] = etag_header
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path=path).respond(status, headers=headers, json=json)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, path, params=API)


def device(tag: str = "AAAAAAAAAAE=") -> dict:
    return {"deviceId": "d1", "generationId": "636", "etag": tag, "status": "enabled"}


def recorded(journal: Journal, *responses: httpx.Response) -> httpx.Response:
    for response in responses:
        journal.record(response)
    return responses[-1]


# -- presence ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_quoted_etag_matching_the_body_passes(method):
    etag.verify(exchange(method, etag_header='"AAAAAAAAAAE="', json=device("AAAAAAAAAAE=")), IOTHUB)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_missing_etag_on_a_device_read_or_write_fails(method):
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-001\]"):
        etag.verify(exchange(method, json=device()), IOTHUB)


def test_missing_etag_on_a_create_fails():
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-001\]"):
        etag.verify(exchange("PUT", status=201, json=device()), DOCS_STRICT)


def test_missing_etag_on_delete_is_fine_under_iothub():
    etag.verify(exchange("DELETE", status=204), IOTHUB)


def test_missing_etag_on_delete_fails_under_docs_strict():
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-001\]"):
        etag.verify(exchange("DELETE", status=204), DOCS_STRICT)


def test_etag_on_delete_passes_under_docs_strict():
    etag.verify(exchange("DELETE", status=204, etag_header='"e1"'), DOCS_STRICT)


# -- syntax -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ['"e1"', 'W/"e1"', '""', '"AAAAAAAAAAE="'])
def test_valid_entity_tags_pass(value):
    etag.verify(exchange(etag_header=value, json={"deviceId": "d1"}), IOTHUB)


@pytest.mark.parametrize("value", ["e1", 'w/"e1"', '"e1', 'e1"', '"e"1"', 'W/e1'])
def test_malformed_entity_tags_fail(value):
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-002\]"):
        etag.verify(exchange(etag_header=value, json={"deviceId": "d1"}), IOTHUB)


def test_malformed_entity_tag_on_delete_fails():
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-002\]"):
        etag.verify(exchange("DELETE", status=204, etag_header="e1"), IOTHUB)


# -- header and body --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body_tag", ["e1", '"e1"'])
def test_body_etag_equal_to_the_header_with_or_without_quotes_passes(body_tag):
    etag.verify(exchange(etag_header='"e1"', json=device(body_tag)), IOTHUB)


def test_body_without_etag_passes():
    etag.verify(exchange(etag_header='"e1"', json={"deviceId": "d1"}), IOTHUB)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_header_differing_from_the_body_etag_fails(method):
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-003\]"):
        etag.verify(exchange(method, etag_header='"e1"', json=device("e2")), IOTHUB)


def test_several_failures_are_reported_together():
    with pytest.raises(AssertionError) as raised:
        etag.verify(exchange(etag_header="e1", json=device("e2")), IOTHUB)
    lines = str(raised.value).splitlines()
    assert [line[:13] for line in lines] == ["[DI-ETAG-002]", "[DI-ETAG-003]"]


def test_opaque_strips_weakness_and_quotes():
    assert etag.opaque('"abc"') == "abc"
    assert etag.opaque('W/"abc"') == "abc"
    assert etag.opaque("abc") == "abc"
    assert etag.opaque('""') == ""


# -- out of scope -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/devices", "/statistics/devices", "/statistics/service",
                                  "/devices/d1/messages/deviceBound"])
def test_responses_not_scoped_to_one_device_are_ignored(path):
    etag.verify(exchange(path=path, json=[]), DOCS_STRICT)


@pytest.mark.parametrize("status", [400, 401, 404, 412, 500])
def test_error_statuses_are_ignored(status):
    etag.verify(exchange(status=status, etag_header="not-quoted", json={"Message": "ErrorCode:X;y"}), DOCS_STRICT)
    etag.verify(exchange("PUT", status=status, json={"Message": "ErrorCode:X;y"}), DOCS_STRICT)


# -- history ----------------------------------------------------------------------------------------------------------

def test_reads_with_the_same_etag_pass():
    journal = Journal()
    first = exchange(etag_header='"e1"', json=device("e1"))
    second = exchange(etag_header='"e1"', json=device("e1"))
    recorded(journal, first, second)
    etag.verify(first, IOTHUB, journal)
    etag.verify(second, IOTHUB, journal)


def test_a_read_after_a_read_with_another_etag_fails():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange(etag_header='"e2"', json=device("e2")))
    with pytest.raises(AssertionError, match=r'^\[DI-ETAG-005\].*"e1".*"e2"'):
        etag.verify(response, IOTHUB, journal)


def test_a_read_after_a_write_compares_with_the_write():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", etag_header='"e2"', json=device("e2")),
                        exchange(etag_header='"e2"', json=device("e2")))
    etag.verify(response, IOTHUB, journal)


def test_a_read_after_a_write_with_another_etag_fails():
    journal = Journal()
    response = recorded(journal, exchange("PUT", etag_header='"e2"', json=device("e2")),
                        exchange(etag_header='"e3"', json=device("e3")))
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-005\]"):
        etag.verify(response, IOTHUB, journal)


def test_a_write_that_changes_the_etag_passes():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", etag_header='"e2"', json=device("e2")))
    etag.verify(response, IOTHUB, journal)


def test_a_write_that_keeps_the_previous_etag_fails():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", etag_header='"e1"', json=device("e1")))
    with pytest.raises(AssertionError, match=r'^\[DI-ETAG-004\].*"e1"'):
        etag.verify(response, IOTHUB, journal)


def test_a_refused_write_in_between_is_not_a_write():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", status=412, json={"Message": "ErrorCode:PreconditionFailed;x"}),
                        exchange(etag_header='"e2"', json=device("e2")))
    with pytest.raises(AssertionError, match=r"^\[DI-ETAG-005\]"):
        etag.verify(response, IOTHUB, journal)


@pytest.mark.parametrize(("method", "status"), [("DELETE", 204), ("PUT", 500), ("GET", 404)])
def test_a_write_or_unknown_outcome_in_between_resets_the_history(method, status):
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange(method, status=status),
                        exchange(etag_header='"e2"', json=device("e2")))
    etag.verify(response, IOTHUB, journal)


def test_history_is_kept_per_device():
    journal = Journal()
    response = recorded(journal, exchange(path="/devices/d1", etag_header='"e1"', json=device("e1")),
                        exchange(path="/devices/d2", etag_header='"e2"', json={"deviceId": "d2", "etag": "e2"}))
    etag.verify(response, IOTHUB, journal)


def test_a_response_missing_from_the_journal_skips_the_history():
    journal = Journal()
    journal.record(exchange(etag_header='"e1"', json=device("e1")))
    etag.verify(exchange(etag_header='"e2"', json=device("e2")), IOTHUB, journal)

"""ETag check: presence, RFC 7232 syntax, header/body agreement, and stability/change through the journal."""

from __future__ import annotations

import itertools

import httpx
import pytest
import respx

from iothub_conformance.checks import etag
from iothub_conformance.checks.context import Context
from iothub_conformance.evidence.journal import Journal
from iothub_conformance.rules.failures import RequirementFailures, raise_all
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.failures import only

BASE = "https://hub.example"
API = {"api-version": "2016-02-03"}
_ids = itertools.count(1)


def exchange(method: str = "GET", path: str = "/devices/d1", status: int = 200, etag_header: str | None = None,
             json=None, request_id: str | None = None, api_version: str = "2016-02-03") -> httpx.Response:
    headers = {"x-ms-request-id": request_id or f"r-{next(_ids)}"}
    if etag_header is not None:
        headers["ETag"] = etag_header
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path=path).respond(status, headers=headers, json=json)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, path, params={**API, "api-version": api_version})


def device(tag: str = "AAAAAAAAAAE=") -> dict:
    return {"deviceId": "d1", "generationId": "636", "etag": tag, "status": "enabled"}


def recorded(journal: Journal, *responses: httpx.Response) -> httpx.Response:
    for response in responses:
        journal.record(response)
    return responses[-1]


# -- presence ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_quoted_etag_matching_the_body_passes(method):
    assert etag.verify(exchange(method, etag_header='"AAAAAAAAAAE="', json=device("AAAAAAAAAAE=")), Context(IOTHUB)) == []


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_missing_etag_on_a_device_read_or_write_fails(method):
    only(etag.verify(exchange(method, json=device()), Context(IOTHUB)), "DI-ETAG-001")


@pytest.mark.parametrize("version", ["2016-11-14", "2021-04-12"])
def test_the_2016_device_rules_judge_the_2016_run_only(version):
    # DI-ETAG-* come from the 2016 pages; a 2021-04-12 device response is judged by its own requirements (DEVICE-*).
    missing = etag.verify(exchange("GET", json=device(), api_version=version), Context(IOTHUB))
    assert (missing == []) is (version == "2021-04-12"), missing


def test_missing_etag_on_a_create_fails():
    only(etag.verify(exchange("PUT", status=201, json=device()), Context(DOCS_STRICT)), "DI-ETAG-001")


def test_missing_etag_on_delete_is_fine_under_iothub():
    assert etag.verify(exchange("DELETE", status=204), Context(IOTHUB)) == []


def test_missing_etag_on_delete_fails_under_docs_strict():
    only(etag.verify(exchange("DELETE", status=204), Context(DOCS_STRICT)), "DI-ETAG-001")


def test_etag_on_delete_passes_under_docs_strict():
    assert etag.verify(exchange("DELETE", status=204, etag_header='"e1"'), Context(DOCS_STRICT)) == []


# -- syntax -----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ['"e1"', 'W/"e1"', '""', '"AAAAAAAAAAE="'])
def test_valid_entity_tags_pass(value):
    assert etag.verify(exchange(etag_header=value, json={"deviceId": "d1"}), Context(IOTHUB)) == []


@pytest.mark.parametrize("value", ["e1", 'w/"e1"', '"e1', 'e1"', '"e"1"', 'W/e1'])
def test_malformed_entity_tags_fail(value):
    only(etag.verify(exchange(etag_header=value, json={"deviceId": "d1"}), Context(IOTHUB)), "DI-ETAG-002")


def test_malformed_entity_tag_on_delete_fails():
    only(etag.verify(exchange("DELETE", status=204, etag_header="e1"), Context(IOTHUB)), "DI-ETAG-002")


# -- header and body --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body_tag", ["e1", '"e1"'])
def test_body_etag_equal_to_the_header_with_or_without_quotes_passes(body_tag):
    assert etag.verify(exchange(etag_header='"e1"', json=device(body_tag)), Context(IOTHUB)) == []


def test_body_without_etag_passes():
    assert etag.verify(exchange(etag_header='"e1"', json={"deviceId": "d1"}), Context(IOTHUB)) == []


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_header_differing_from_the_body_etag_fails(method):
    only(etag.verify(exchange(method, etag_header='"e1"', json=device("e2")), Context(IOTHUB)), "DI-ETAG-003")


def test_several_failures_are_reported_together():
    failures = etag.verify(exchange(etag_header="e1", json=device("e2")), Context(IOTHUB))
    assert [f.requirement for f in failures] == ["DI-ETAG-002", "DI-ETAG-003"]
    # The schemathesis check raises them as one group: neither is dropped.
    with pytest.raises(RequirementFailures) as raised:
        raise_all(failures)
    assert raised.value.failures == tuple(failures)
    assert [line[:13] for line in str(raised.value).splitlines()] == ["[DI-ETAG-002]", "[DI-ETAG-003]"]


def test_opaque_strips_weakness_and_quotes():
    assert etag.opaque('"abc"') == "abc"
    assert etag.opaque('W/"abc"') == "abc"
    assert etag.opaque("abc") == "abc"
    assert etag.opaque('""') == ""


# -- out of scope -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/devices", "/statistics/devices", "/statistics/service",
                                  "/devices/d1/messages/deviceBound"])
def test_responses_not_scoped_to_one_device_are_ignored(path):
    assert etag.verify(exchange(path=path, json=[]), Context(DOCS_STRICT)) == []


@pytest.mark.parametrize("status", [400, 401, 404, 412, 500])
def test_error_statuses_are_ignored(status):
    assert etag.verify(exchange(status=status, etag_header="not-quoted", json={"Message": "ErrorCode:X;y"}),
                       Context(DOCS_STRICT)) == []
    assert etag.verify(exchange("PUT", status=status, json={"Message": "ErrorCode:X;y"}), Context(DOCS_STRICT)) == []


# -- history ----------------------------------------------------------------------------------------------------------

def test_reads_with_the_same_etag_pass():
    journal = Journal()
    first = exchange(etag_header='"e1"', json=device("e1"))
    second = exchange(etag_header='"e1"', json=device("e1"))
    recorded(journal, first, second)
    assert etag.verify(first, Context(IOTHUB, journal)) == []
    assert etag.verify(second, Context(IOTHUB, journal)) == []


def test_a_read_after_a_read_with_another_etag_fails():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange(etag_header='"e2"', json=device("e2")))
    only(etag.verify(response, Context(IOTHUB, journal)), "DI-ETAG-005", r'.*"e1".*"e2"')


def test_a_read_after_a_write_compares_with_the_write():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", etag_header='"e2"', json=device("e2")),
                        exchange(etag_header='"e2"', json=device("e2")))
    assert etag.verify(response, Context(IOTHUB, journal)) == []


def test_a_read_after_a_write_with_another_etag_fails():
    journal = Journal()
    response = recorded(journal, exchange("PUT", etag_header='"e2"', json=device("e2")),
                        exchange(etag_header='"e3"', json=device("e3")))
    only(etag.verify(response, Context(IOTHUB, journal)), "DI-ETAG-005")


def test_a_write_that_changes_the_etag_passes():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", etag_header='"e2"', json=device("e2")))
    assert etag.verify(response, Context(IOTHUB, journal)) == []


def test_a_write_that_keeps_the_previous_etag_fails():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", etag_header='"e1"', json=device("e1")))
    only(etag.verify(response, Context(IOTHUB, journal)), "DI-ETAG-004", r'.*"e1"')


def test_a_refused_write_in_between_is_not_a_write():
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange("PUT", status=412, json={"Message": "ErrorCode:PreconditionFailed;x"}),
                        exchange(etag_header='"e2"', json=device("e2")))
    only(etag.verify(response, Context(IOTHUB, journal)), "DI-ETAG-005")


@pytest.mark.parametrize(("method", "status"), [("DELETE", 204), ("PUT", 500), ("GET", 404)])
def test_a_write_or_unknown_outcome_in_between_resets_the_history(method, status):
    journal = Journal()
    response = recorded(journal, exchange(etag_header='"e1"', json=device("e1")),
                        exchange(method, status=status),
                        exchange(etag_header='"e2"', json=device("e2")))
    assert etag.verify(response, Context(IOTHUB, journal)) == []


def test_history_is_kept_per_device():
    journal = Journal()
    response = recorded(journal, exchange(path="/devices/d1", etag_header='"e1"', json=device("e1")),
                        exchange(path="/devices/d2", etag_header='"e2"', json={"deviceId": "d2", "etag": "e2"}))
    assert etag.verify(response, Context(IOTHUB, journal)) == []


def test_a_response_missing_from_the_journal_skips_the_history():
    journal = Journal()
    journal.record(exchange(etag_header='"e1"', json=device("e1")))
    assert etag.verify(exchange(etag_header='"e2"', json=device("e2")), Context(IOTHUB, journal)) == []


def test_a_repeated_request_id_skips_the_history_instead_of_judging_the_wrong_pair():
    # A target that repeats x-ms-request-id (COMMON-REQID-002 fails it) cannot have its responses placed in the
    # journal: this PUT did change the ETag, and the later read that shares its id must not make it look unchanged.
    journal = Journal()
    read = exchange(etag_header='"e1"', json=device("e1"), request_id="same")
    write = exchange("PUT", etag_header='"e2"', json=device("e2"), request_id="same")
    recorded(journal, read, write, exchange(etag_header='"e2"', json=device("e2"), request_id="same"))
    assert etag.verify(write, Context(IOTHUB, journal)) == []

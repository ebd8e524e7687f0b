"""api-version checks: a missing or unsupported version is refused, a supported one is accepted."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
import respx

from iothub_conformance.checks import api_version
from iothub_conformance.checks.context import Context
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from iothub_conformance.targets import session

BASE = "https://hub.example"


def error(code: str) -> dict:
    return {"Message": f"ErrorCode:{code};something about the request",
            "ExceptionMessage": "Tracking ID:abc-TimeStamp:03/03/2016 01:02:03"}


def exchange(status: int, code: str | None = None, method: str = "GET", params: dict | None = None,
             header: bool = True) -> httpx.Response:
    headers = {"iothub-errorcode": code} if code and header else {}
    body = error(code) if code else {"deviceId": "d1"}
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path="/devices/d1").respond(status, headers=headers, json=body)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, "/devices/d1", params=params or {})


# -- verify_refused ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header", [True, False])
def test_refused_with_400_and_invalid_protocol_version_passes(header):
    response = exchange(400, "InvalidProtocolVersion", header=header)
    assert api_version.verify_refused(response, Context(IOTHUB), "COMMON-APIVER-001", "no api-version") == []


@pytest.mark.parametrize(("requirement", "what"), [("COMMON-APIVER-001", "no api-version"),
                                                   ("COMMON-APIVER-002", "api-version=1999-01-01")])
@pytest.mark.parametrize("profile", [IOTHUB, DOCS_STRICT])
def test_accepted_when_it_should_be_refused_fails_with_the_given_requirement(requirement, what, profile):
    failures = api_version.verify_refused(exchange(200), Context(profile), requirement, what)
    assert len(failures) == 1
    assert failures[0].requirement == requirement
    assert what in failures[0].detail and "→ 200" in failures[0].detail


def test_refused_with_another_status_fails():
    failures = api_version.verify_refused(exchange(404, "DeviceNotFound"), Context(IOTHUB), "COMMON-APIVER-002", "x")
    assert len(failures) == 1 and failures[0].requirement == "COMMON-APIVER-002"


@pytest.mark.parametrize("code", ["ArgumentInvalid", None])
def test_refused_with_another_code_fails_under_iothub(code):
    failures = api_version.verify_refused(exchange(400, code), Context(IOTHUB), "COMMON-APIVER-001", "no api-version")
    assert len(failures) == 1
    assert failures[0].requirement == "COMMON-APIVER-004"
    assert "'InvalidProtocolVersion'" in failures[0].detail


@pytest.mark.parametrize("code", ["InvalidProtocolVersion", "ArgumentInvalid", None])
def test_refused_with_any_code_passes_under_docs_strict(code):
    failures = api_version.verify_refused(exchange(400, code), Context(DOCS_STRICT), "COMMON-APIVER-001", "no api-version")
    assert failures == []


# -- verify_accepted --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("profile", [IOTHUB, DOCS_STRICT])
def test_a_supported_version_answered_without_400_passes(method, profile):
    assert api_version.verify_accepted(exchange(200, method=method), Context(profile), "2016-02-03") == []


@pytest.mark.parametrize("code, profile", [("InvalidProtocolVersion", IOTHUB), (None, IOTHUB),
                                           ("ArgumentInvalid", DOCS_STRICT), ("InvalidProtocolVersion", DOCS_STRICT),
                                           (None, DOCS_STRICT)])
def test_a_read_answered_400_fails(code, profile):
    failures = api_version.verify_accepted(exchange(400, code, params={"api-version": "2016-02-03"}), Context(profile),
                                           "2016-02-03")
    assert len(failures) == 1
    assert failures[0].requirement == "COMMON-APIVER-003"
    assert "2016-02-03" in failures[0].detail


def test_a_read_refused_for_a_header_naming_another_code_passes_where_the_profile_names_the_code():
    # e.g. a receive refused for its IoTHub-MessageLockTimeout: iothub names InvalidProtocolVersion for api-version
    # errors, so ArgumentInvalid is about something else.
    response = exchange(400, "ArgumentInvalid", params={"api-version": "2016-02-03"})
    assert api_version.verify_accepted(response, Context(IOTHUB), "2016-02-03") == []


def test_a_write_refused_for_its_body_passes():
    response = exchange(400, "ArgumentInvalid", method="PUT")
    assert api_version.verify_accepted(response, Context(IOTHUB), "2016-02-03") == []


@pytest.mark.parametrize("header", [True, False])
def test_a_write_refused_for_its_version_fails(header):
    response = exchange(400, "InvalidProtocolVersion", method="PUT", header=header)
    failures = api_version.verify_accepted(response, Context(IOTHUB), "2016-02-03")
    assert len(failures) == 1
    assert failures[0].requirement == "COMMON-APIVER-003"
    assert "InvalidProtocolVersion" in failures[0].detail


def test_a_write_answered_400_passes_under_docs_strict():
    response = exchange(400, "InvalidProtocolVersion", method="PUT")
    assert api_version.verify_accepted(response, Context(DOCS_STRICT), "2016-02-03") == []


# -- the schemathesis check's probe -----------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_the_probe_runs_only_after_the_case_was_served(monkeypatch, status):
    # A refused case (a target answering 400 to everything, say) cannot show that a missing api-version is refused
    # for the api-version's sake, so no probe is sent and nothing is judged of it.
    monkeypatch.setattr(session, "current", lambda: SimpleNamespace(api_version="2016-02-03", profile=IOTHUB))
    monkeypatch.setattr(Context, "of_run", classmethod(lambda cls: cls(IOTHUB)))
    probed = []
    monkeypatch.setattr(session, "probe_once", lambda check, operation, probe: probed.append(operation) or [])
    case = SimpleNamespace(query={"api-version": "2016-02-03"}, operation=SimpleNamespace(label="PUT /devices/{id}"))
    api_version.api_version_handling(None, exchange(status, "ArgumentInvalid", method="PUT"), case)
    assert probed == []
    api_version.api_version_handling(None, exchange(201, method="PUT"), case)
    assert probed == ["PUT /devices/{id}"]

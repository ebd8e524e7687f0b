"""A failure is data: RequirementFailure names its requirement, schemathesis' own check failures map to the spec
requirement, and the plugin and results read the ids from the exceptions, never from their text."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
import respx
from schemathesis.core.failures import CustomFailure, FailureGroup

from iothub_conformance.checks import spec
from iothub_conformance.pytest_plugin import plugin
from iothub_conformance.report.summary import Collector
from iothub_conformance.rules.failures import (
    PreconditionFailed,
    RequirementFailure,
    RequirementFailures,
    expect,
    raise_all,
    typed_failures,
)
from iothub_conformance.surfaces import openapi

BASE = "https://hub.example"
DEVICE = {"deviceId": "conf-d1", "generationId": "636", "etag": "AAAB", "status": "enabled",
          "connectionState": "Disconnected", "statusReason": "", "lastActivityTime": "0001-01-01T00:00:00",
          "cloudToDeviceMessageCount": 0, "authentication": {"symmetricKey": {"primaryKey": "cA==",
                                                                             "secondaryKey": "cw=="}}}


# -- the typed failure ------------------------------------------------------------------------------------------

def test_a_failure_names_its_requirement_detail_and_evidence():
    failure = RequirementFailure("DI-GET-002", "GET of a device that does not exist", "GET /devices/x → 200")
    assert isinstance(failure, AssertionError)  # pytest and schemathesis report it as a failure
    assert (failure.requirement, failure.detail, failure.evidence) == ("DI-GET-002", "GET of a device that does not "
                                                                       "exist", "GET /devices/x → 200")
    assert str(failure) == "[DI-GET-002] GET of a device that does not exist: GET /devices/x → 200"
    assert str(RequirementFailure("DI-GET-002", "no evidence")) == "[DI-GET-002] no evidence"


def test_an_unknown_requirement_is_a_bug_at_once():
    with pytest.raises(ValueError, match="unknown requirement id 'DI-NOPE-001'"):
        RequirementFailure("DI-NOPE-001", "x")
    with pytest.raises(ValueError):
        expect("DI-NOPE-001", False, "x")


def test_expect_raises_only_when_the_condition_does_not_hold():
    expect("DI-GET-001", True, "fine")
    with pytest.raises(RequirementFailure) as raised:
        expect("DI-GET-001", 0, "GET answered x", "GET /devices/d → 200")
    assert raised.value.requirement == "DI-GET-001" and raised.value.evidence == "GET /devices/d → 200"


def test_raise_all_raises_nothing_one_or_a_group_that_drops_none():
    raise_all([])
    one = RequirementFailure("DI-ETAG-002", "a")
    with pytest.raises(RequirementFailure) as single:
        raise_all([one])
    assert single.value is one
    two = [one, RequirementFailure("DI-ETAG-003", "b")]
    with pytest.raises(RequirementFailures) as group:
        raise_all(iter(two))
    assert list(group.value.failures) == two and isinstance(group.value, AssertionError)
    assert typed_failures(group.value) == two
    with pytest.raises(ValueError):
        RequirementFailures([])


def test_typed_failures_are_found_in_exception_groups_and_nothing_else_is_taken_for_one():
    one, two = RequirementFailure("DI-ETAG-002", "a"), RequirementFailure("DI-ETAG-003", "b")
    assert typed_failures(ExceptionGroup("hypothesis found 2", [one, RequirementFailures([two])])) == [one, two]
    assert typed_failures(AssertionError("[DI-ETAG-002] text that names an id")) is None
    assert typed_failures(ExceptionGroup("mixed", [one, ValueError("x")])) is None


# -- schemathesis' own checks -----------------------------------------------------------------------------------

def device_read(etag: str) -> tuple:
    """A generated case for GET /devices/{deviceId} and the response a respx fake gives it."""
    schema = openapi.load("device-identities")
    case = schema["/devices/{deviceId}"]["GET"].Case(path_parameters={"deviceId": "conf-d1"},
                                                     query={"api-version": "2016-02-03"})
    with respx.mock(base_url=BASE) as mock:
        mock.get("/devices/conf-d1").respond(200, json=DEVICE, headers={"ETag": etag, "x-ms-request-id": "r-1"})
        with httpx.Client(base_url=BASE) as client:
            response = client.get("/devices/conf-d1", params={"api-version": "2016-02-03"})
    return case, response


def test_a_conforming_response_passes_the_spec():
    case, response = device_read('"AAAB"')
    spec.conforms(case, response)


def test_an_unquoted_etag_fails_the_spec_requirement_by_schemathesis_own_check():
    case, response = device_read("AAAB")  # the unquoted-etag fault's answer
    with pytest.raises(spec.Departures) as raised:
        spec.conforms(case, response)
    [failure] = typed_failures(raised.value)
    assert failure.requirement == "COMMON-SPEC-001"
    assert failure.detail.startswith("GET /devices/{deviceId}: ST108 Response header does not conform to the schema")
    assert "does not match" in failure.evidence
    assert isinstance(raised.value.__cause__, FailureGroup)  # schemathesis' own report (its curl line) stays attached
    # Like schemathesis' own group, not an Exception: hypothesis reports the example instead of replaying it.
    assert not isinstance(raised.value, Exception) and plugin._is_check_failure(raised.value)
    with pytest.raises(spec.Departures) as rp:
        spec.conforms(case, response, "RP-READ-001")
    assert [f.requirement for f in typed_failures(rp.value)] == ["RP-READ-001"]


def test_built_in_and_custom_check_failures_are_split_and_nothing_is_dropped():
    case, response = device_read("AAAB")
    with pytest.raises(FailureGroup) as raised:
        case.validate_response(response)
    built_in = raised.value.exceptions[0]
    ours = CustomFailure(operation="GET /devices/{deviceId}", title="Custom check failed: `etag_rfc7232`",
                         message="x", exception=RequirementFailures([RequirementFailure("DI-ETAG-002", "unquoted"),
                                                                     RequirementFailure("DI-ETAG-003", "differs")]))
    untyped = CustomFailure(operation="GET /devices/{deviceId}", title="Custom check failed: `theirs`", message="y",
                            exception=AssertionError("a check outside the suite"))
    typed, other = spec.split(FailureGroup([built_in, ours, untyped]))
    assert [f.requirement for f in typed] == ["COMMON-SPEC-001", "DI-ETAG-002", "DI-ETAG-003"]
    assert other == [untyped]
    precondition = PreconditionFailed("no device")
    assert spec.split(precondition) == ([], [precondition])  # not a departure: the caller reports an error


# -- the plugin and the results read the typed failures ---------------------------------------------------------

def report(findings: list[list[str]], claimed: str) -> SimpleNamespace:
    import json

    return SimpleNamespace(when="call", passed=False, skipped=False, failed=True, nodeid="suites/t.py::t",
                           longrepr="E   whatever the traceback says [DI-GET-001]",
                           user_properties=[("requirements", claimed), ("outcome", "fail"),
                                            ("findings", json.dumps(findings))])


def test_the_plugin_reads_the_requirements_from_the_exception():
    case, response = device_read("AAAB")
    with pytest.raises(FailureGroup) as raised:
        case.validate_response(response)  # no suite helper mapped it: the plugin maps it, explicitly
    found = plugin._findings(raised.value, ["COMMON-SPEC-001", "COMMON-REQID-001"])
    assert [rid for rid, _ in found] == ["COMMON-SPEC-001"] and "ST108" in found[0][1]
    typed = RequirementFailures([RequirementFailure("DI-ETAG-002", "a"), RequirementFailure("DI-ETAG-005", "b")])
    assert [rid for rid, _ in plugin._findings(typed, ["DI-ETAG-001"])] == ["DI-ETAG-002", "DI-ETAG-005"]
    # A bare assertion names no requirement (its text may look as if it did): the test's first one fails.
    assert plugin._findings(AssertionError("[DI-ETAG-002] x"), ["DI-ETAG-001", "DI-ETAG-002"]) == \
        [["DI-ETAG-001", "[DI-ETAG-002] x"]]


def test_results_fail_the_requirements_the_findings_name_and_skip_the_rest_of_the_test():
    collector = Collector(SimpleNamespace())
    collector.record(report([["COMMON-SPEC-001", "[COMMON-SPEC-001] GET /devices/{deviceId}: ST108 …"],
                             ["DI-ETAG-002", "[DI-ETAG-002] a"], ["DI-ETAG-002", "[DI-ETAG-002] b"]],
                            "COMMON-SPEC-001,COMMON-REQID-001,DI-ETAG-002"))
    assert collector.status("COMMON-SPEC-001") == "fail" and collector.status("DI-ETAG-002") == "fail"
    assert collector.results["DI-ETAG-002"][0].detail == "[DI-ETAG-002] a\n[DI-ETAG-002] b"
    assert collector.status("COMMON-REQID-001") == "skip"
    # The longrepr names DI-GET-001; it is not read for an id.
    assert "DI-GET-001" not in collector.results


def test_a_failure_without_findings_fails_the_tests_first_requirement():
    collector = Collector(SimpleNamespace())
    collector.record(report([], "DI-GET-001,DI-GET-002"))
    assert collector.status("DI-GET-001") == "fail" and collector.status("DI-GET-002") == "skip"
    assert collector.results["DI-GET-001"][0].detail == "whatever the traceback says [DI-GET-001]"

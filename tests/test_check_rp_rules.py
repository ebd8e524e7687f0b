"""The resource provider's response rules (checks/rp_rules.py): x-ms-request-id, a hub's ETag header, and the
ErrorDetails envelope the profile asks for; data-plane responses are left to the other checks."""

from __future__ import annotations

import httpx
import pytest
import respx

from iothub_conformance.checks import rp_rules as rules
from iothub_conformance.checks.context import Context
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.failures import only

BASE = "https://arm.example"
HUBS = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Devices/IotHubs"


def answer(status=200, json=None, headers=None, path=f"{HUBS}/conf-x", method="GET") -> httpx.Response:
    headers = {"x-ms-request-id": "r1", **(headers or {})}
    with respx.mock(base_url=BASE) as mock:
        mock.route(method=method, path=path).respond(status, json=json, headers=headers)
        with httpx.Client(base_url=BASE) as client:
            return client.request(method, path, params={"api-version": "2016-02-03"})


def test_a_conforming_rp_response_passes():
    assert rules.verify(answer(json={"name": "conf-x", "etag": "AAAB"}, headers={"ETag": '"AAAB"'}),
                        Context(IOTHUB)) == []
    assert rules.verify(answer(404, json={"Code": "NotFound", "HttpStatusCode": "404", "Message": "no",
                                          "Details": ""}), Context(IOTHUB)) == []


@pytest.mark.parametrize(("kwargs", "requirement", "said"), [
    ({"headers": {"x-ms-request-id": ""}}, "RP-REQID-001", "x-ms-request-id"),
    ({"json": {"etag": "AAAB"}, "headers": {"ETag": "AAAB"}}, "RP-ETAG-001", "in double quotes"),
    ({"json": {"etag": "AAAB"}, "headers": {"ETag": '"other"'}}, "RP-ETAG-001", "in double quotes"),
    ({"status": 404, "json": {"Message": "no"}}, "RP-ERR-001", "Code is missing"),
    ({"status": 404, "json": {"Code": "NotFound", "Message": "no", "HttpStatusCode": "400"}}, "RP-ERR-001",
     "HttpStatusCode 400 is not the response's status 404"),
    ({"status": 401, "json": None}, "RP-ERR-001", "not a JSON object"),
], ids=["empty-request-id", "unquoted-etag", "other-etag", "no-code", "wrong-status", "no-body"])
def test_an_rp_response_breaking_a_rule_fails_naming_it(kwargs, requirement, said):
    only(rules.verify(answer(**kwargs), Context(IOTHUB)), requirement, said)


def test_error_details_are_not_required_under_docs_strict():
    assert rules.verify(answer(404, json={"Message": "no"}), Context(DOCS_STRICT)) == []


def test_data_plane_responses_are_not_judged_by_the_rp_rules():
    assert rules.verify(answer(404, json={}, headers={"x-ms-request-id": ""}, path="/devices/d1"), Context(IOTHUB)) == []


def test_a_hub_body_etag_without_the_header_passes_iothub_and_fails_docs_strict():
    # The real resource provider sends the body etag alone (profile rule rp_etag_header); ARM16 wants the header too.
    hub = answer(json={"name": "conf-x", "etag": "AAAB"})
    assert rules.verify(hub, Context(IOTHUB)) == []
    only(rules.verify(hub, Context(DOCS_STRICT)), "RP-ETAG-001", "no ETag header")


@pytest.mark.parametrize("state", ["Active", 1])
def test_a_hub_state_as_a_name_or_an_integer_passes_iothub(state):
    assert rules.verify(answer(json={"name": "conf-x", "properties": {"state": state}}), Context(IOTHUB)) == []


@pytest.mark.parametrize("body", [
    {"name": "conf-x", "properties": {"state": "Active"}},
    {"value": [{"name": "a", "properties": {"state": 1}}, {"name": "b", "properties": {"state": "Activating"}}]},
], ids=["a hub", "a list"])
def test_a_hub_state_as_a_name_fails_docs_strict(body):
    only(rules.verify(answer(json=body), Context(DOCS_STRICT)), "RP-STATE-001", "not of type integer")


@pytest.mark.parametrize("state", [None, {"x": 1}, True])
def test_a_hub_state_of_another_type_fails_every_profile(state):
    for profile in (IOTHUB, DOCS_STRICT):
        only(rules.verify(answer(json={"name": "conf-x", "properties": {"state": state}}), Context(profile)),
             "RP-STATE-001", "properties.state")


def test_every_rule_an_rp_response_breaks_is_reported():
    # One response, three departures: none hides another (the traffic judge counts each requirement on its own).
    found = rules.verify(answer(404, json={"etag": "AAAB", "Message": "no"}, headers={"x-ms-request-id": ""}),
                         Context(DOCS_STRICT))
    assert {f.requirement for f in found} == {"RP-REQID-001"}
    found = rules.verify(answer(404, json={"Message": "no"}, headers={"x-ms-request-id": ""}), Context(IOTHUB))
    assert {f.requirement for f in found} == {"RP-REQID-001", "RP-ERR-001"}

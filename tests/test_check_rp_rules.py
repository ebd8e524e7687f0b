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
    ({"json": {"etag": "AAAB"}}, "RP-ETAG-001", "no ETag header"),
    ({"json": {"etag": "AAAB"}, "headers": {"ETag": "AAAB"}}, "RP-ETAG-001", "in double quotes"),
    ({"json": {"etag": "AAAB"}, "headers": {"ETag": '"other"'}}, "RP-ETAG-001", "in double quotes"),
    ({"status": 404, "json": {"Message": "no"}}, "RP-ERR-001", "Code is missing"),
    ({"status": 404, "json": {"Code": "NotFound", "Message": "no", "HttpStatusCode": "400"}}, "RP-ERR-001",
     "HttpStatusCode 400 is not the response's status 404"),
    ({"status": 401, "json": None}, "RP-ERR-001", "not a JSON object"),
], ids=["empty-request-id", "no-etag-header", "unquoted-etag", "other-etag", "no-code", "wrong-status", "no-body"])
def test_an_rp_response_breaking_a_rule_fails_naming_it(kwargs, requirement, said):
    only(rules.verify(answer(**kwargs), Context(IOTHUB)), requirement, said)


def test_error_details_are_not_required_under_docs_strict():
    assert rules.verify(answer(404, json={"Message": "no"}), Context(DOCS_STRICT)) == []


def test_data_plane_responses_are_not_judged_by_the_rp_rules():
    assert rules.verify(answer(404, json={}, headers={"x-ms-request-id": ""}, path="/devices/d1"), Context(IOTHUB)) == []

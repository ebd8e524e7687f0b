"""The reference's Edge device-scope calls (routes_2021_scope.py) and the device and module credentials of its
device-facing endpoints at api-version 2021-04-12 (authorization.py)."""

from __future__ import annotations

import base64

import pytest

from iothub_conformance.http import sas
from tests.support.reference_api import ReferenceApi, error_code

V21 = {"api-version": "2021-04-12"}
EDGE_V = {"api-version": "2018-08-30-preview"}
SCOPE = "ms-azure-iot-edge://edge1-1"
LIST = "/devices/edge1/modules/%24edgeHub/devicesAndModulesInDeviceScope"
ONE = "/devices/edge1/modules/%24edgeHub/deviceAndModuleInDeviceScope"
TARGET = "/devices/edge1/modules/%24edgeHub/devicesAndModulesInTargetDeviceScope"


def edge_hub(*faults: str) -> tuple[ReferenceApi, str]:
    """A hub with Edge device edge1 (its $edgeHub module), children c1–c3 in its scope, and `other` in none; the
    $edgeHub module's token."""
    api = ReferenceApi(*faults, params=V21)
    rows: list[tuple[str, dict]] = [("edge1", {"capabilities": {"iotEdge": True}, "deviceScope": SCOPE}),
                            ("c1", {"deviceScope": SCOPE, "parentScopes": [SCOPE]}), ("c2", {"deviceScope": SCOPE}),
                            ("c3", {"deviceScope": SCOPE}), ("other", {})]
    for device_id, body in rows:
        response = api.put_device(device_id, {"deviceId": device_id, **body}, params=V21)
        assert response.status_code == 200, response.text
        api.keys[device_id] = response.json()["authentication"]["symmetricKey"]["primaryKey"]
    module = api.request("PUT", "/devices/edge1/modules/%24edgeHub", json={"moduleId": "$edgeHub", "deviceId": "edge1"})
    assert module.status_code in (200, 201), module.text
    key = module.json()["authentication"]["symmetricKey"]["primaryKey"]
    return api, sas.build_token(f"{api.hub.host_name}/devices/edge1/modules/$edgeHub", key)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [device["deviceId"] for device in response.json()["devices"]]


def test_the_scope_lists_its_devices_with_their_scopes_and_modules():
    api, token = edge_hub()
    response = api.request("GET", LIST, token=token, params=EDGE_V)
    assert ids(response) == ["c1", "c2", "c3", "edge1"]
    body = response.json()
    assert body["continuationLink"] is None and [m["moduleId"] for m in body["modules"]] == ["$edgeHub"]
    assert body["devices"][0]["deviceScope"] == SCOPE and body["devices"][0]["parentScopes"] == [SCOPE]
    assert ids(api.request("GET", LIST, token=token, params={"api-version": "2019-10-01"})) == ids(response)


def test_pages_follow_their_continuation_links_to_the_end():
    api, token = edge_hub()
    first = api.request("GET", LIST, token=token, params={**EDGE_V, "deviceCount": "3"})
    assert ids(first) == ["c1", "c2", "c3"]
    link = first.json()["continuationLink"]
    assert link.startswith(LIST + "?deviceCount=3&continuationToken=") and link.endswith("api-version=2018-08-30-preview")
    second = api.client.get(link, headers={"Authorization": token})
    assert ids(second) == ["edge1"] and second.json()["continuationLink"] is None


@pytest.mark.parametrize("count", ["-1", "1001", "x"])
def test_a_device_count_outside_0_to_1000_is_400(count):
    api, token = edge_hub()
    response = api.request("GET", LIST, token=token, params={**EDGE_V, "deviceCount": count})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_a_continuation_token_not_given_by_the_hub_is_400_never_500():
    api, token = edge_hub()
    bad = base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=")
    for value in ("%%%", bad):
        assert api.request("GET", LIST, token=token, params={**EDGE_V, "continuationToken": value}).status_code == 400


def test_one_identity_of_the_scope_and_none_outside_it():
    api, token = edge_hub()
    assert ids(api.request("GET", ONE, token=token, params={**EDGE_V, "targetDeviceId": "c2"})) == ["c2"]
    module = api.request("GET", ONE, token=token, params={**EDGE_V, "targetDeviceId": "edge1",
                                                           "targetModuleId": "$edgeHub"})
    assert [m["moduleId"] for m in module.json()["modules"]] == ["$edgeHub"]
    assert api.request("GET", ONE, token=token, params={**EDGE_V, "targetDeviceId": "other"}).status_code == 404
    assert api.request("GET", ONE, token=token, params=EDGE_V).status_code == 400


def test_the_target_scope_call_pages_with_its_body():
    api, token = edge_hub()
    version = {"api-version": "2020-06-30-preview"}
    first = api.request("POST", TARGET, token=token, params=version,
                        json={"pageSize": 2, "continuationLink": "", "authChain": "edge1"})
    assert ids(first) == ["c1", "c2"]
    rest = api.request("POST", TARGET, token=token, params=version,
                       json={"pageSize": 2, "continuationLink": first.json()["continuationLink"], "authChain": "edge1"})
    assert ids(rest) == ["c3", "edge1"]
    for body in (b"[1]", b"{", b'{"pageSize": "a lot"}', b'{"authChain": 3}'):
        answered = api.request("POST", TARGET, token=token, params=version, content=body)
        assert answered.status_code == 400, body


def test_each_call_takes_its_own_api_versions_only():
    api, token = edge_hub()
    for version in ("2021-04-12", "2020-06-30-preview"):
        refused = api.request("GET", LIST, token=token, params={"api-version": version})
        assert refused.status_code == 400 and error_code(refused) == "InvalidProtocolVersion"
    assert api.request("POST", TARGET, token=token, params=EDGE_V, json={"pageSize": 1}).status_code == 400


def test_only_the_edge_hub_modules_own_token_is_taken():
    api, token = edge_hub()
    host = api.hub.host_name
    for other in (api.device_token("c1"), api.device_token("edge1"), api.policy(), None,
                  sas.build_token(f"{host}/devices/edge1/modules/$edgeHub", api.keys["edge1"])):
        assert api.request("GET", LIST, token=other, params=EDGE_V).status_code == 401
    expired = sas.build_token(sas.parse_token(token).resource_uri, "AAAA", expiry=1_000_000_000)
    assert api.request("GET", LIST, token=expired, params=EDGE_V).status_code == 401


def test_a_device_that_is_not_an_edge_device_or_has_no_such_module():
    api, token = edge_hub()
    api.request("PUT", "/devices/other/modules/%24edgeHub", json={"moduleId": "$edgeHub", "deviceId": "other"})
    module = api.request("GET", "/devices/other/modules/%24edgeHub").json()
    other = sas.build_token(f"{api.hub.host_name}/devices/other/modules/$edgeHub",
                            module["authentication"]["symmetricKey"]["primaryKey"])
    refused = api.request("GET", "/devices/other/modules/%24edgeHub/devicesAndModulesInDeviceScope", token=other,
                          params=EDGE_V)
    assert refused.status_code == 400 and error_code(refused) == "ArgumentInvalid"


# -- device and module credentials at 2021-04-12 -----------------------------------------------------------------


def test_the_2016_verdicts_of_device_tokens_are_unchanged():
    api = ReferenceApi()
    api.devices("dev1", "dev2")
    assert api.send("dev1", b"x").status_code == 204
    assert api.send("dev1", b"x", token=api.device_token("dev2")).status_code == 401
    assert api.send("dev1", b"x", token=api.policy("service")).status_code == 401

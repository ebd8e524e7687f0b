"""Each fault switch of the 2021-04-12 device and module credentials and of the Edge device scope
(reference/faults_2021_scope.py) changes the reference as its description says, and a hub without it does not."""

from __future__ import annotations

import pytest

from iothub_conformance.http import sas
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

SCOPE_FAULTS = faults_breaking(*SURFACE_PREFIXES["credentials and scope 2021"])
V21 = {"api-version": "2021-04-12"}
EDGE_V = {"api-version": "2018-08-30-preview"}
SCOPE = "ms-azure-iot-edge://edge1-1"
LIST = "/devices/edge1/modules/%24edgeHub/devicesAndModulesInDeviceScope"


def hub(*faults: str) -> tuple[ReferenceApi, str]:
    """Edge device edge1 with $edgeHub (its token returned), children c1–c3 in its scope, `other` in none, device d2 and
    module m1 on d2."""
    api = ReferenceApi(*faults, params=V21)
    rows: list[tuple[str, dict]] = [("edge1", {"capabilities": {"iotEdge": True}, "deviceScope": SCOPE}),
                            ("c1", {"deviceScope": SCOPE, "parentScopes": [SCOPE]}), ("c2", {"deviceScope": SCOPE}),
                            ("c3", {"deviceScope": SCOPE}), ("other", {}), ("d2", {})]
    for device_id, body in rows:
        response = api.put_device(device_id, {"deviceId": device_id, **body}, params=V21)
        api.keys[device_id] = response.json()["authentication"]["symmetricKey"]["primaryKey"]
    module = api.request("PUT", "/devices/edge1/modules/%24edgeHub", json={"moduleId": "$edgeHub", "deviceId": "edge1"})
    key = module.json()["authentication"]["symmetricKey"]["primaryKey"]
    m1 = api.request("PUT", "/devices/d2/modules/m1", json={"moduleId": "m1", "deviceId": "d2"}).json()
    api.keys["d2/m1"] = m1["authentication"]["symmetricKey"]["primaryKey"]
    return api, sas.build_token(f"{api.hub.host_name}/devices/edge1/modules/$edgeHub", key)


def pair(fault: str) -> tuple[tuple[ReferenceApi, str], tuple[ReferenceApi, str]]:
    return hub(), hub(fault)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [device["deviceId"] for device in response.json()["devices"]]


def status(api: ReferenceApi, method: str, url: str, token, params=V21, **kwargs) -> int:
    return api.request(method, url, token=token, params=params, **kwargs).status_code


def test_every_credentials_and_scope_fault_has_a_test_here():
    assert len(SCOPE_FAULTS) == 15
    missing = [name for name in SCOPE_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


# -- device and module credentials: authorize() judges a DeviceConnect request at 2021-04-12 -----------------------
# (the device endpoints' routes call it; a bare request keeps these tests apart from those routes)


def _authorize(api: ReferenceApi, token: str | None, path: str, device_id: str, module_id: str | None = None,
               permission: str = "DeviceConnect", version: str = "2021-04-12") -> str | None:
    from starlette.requests import Request

    from iothub_conformance.reference.authorization import authorize

    headers = [] if token is None else [(b"authorization", token.encode())]
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "headers": headers,
             "query_string": f"api-version={version}".encode(), "app": None}
    return authorize(api.hub, Request(scope), permission, device_id, module_id)


def _expired(api: ReferenceApi, device_id: str) -> str:
    return sas.build_token(f"{api.hub.host_name}/devices/{device_id}", api.keys[device_id], expiry=1_000_000_000)


EVENTS = "/devices/c1/messages/events"


def test_fault_devauth_2021_refuse_device_tokens():
    (good, _), (bad, _) = pair("devauth-2021-refuse-device-tokens")
    assert _authorize(good, good.device_token("c1"), EVENTS, "c1") is None
    assert _authorize(bad, bad.device_token("c1"), EVENTS, "c1") is not None
    assert _authorize(bad, bad.device_token("c1"), EVENTS, "c1", version="2016-02-03") is None


def test_fault_devauth_2021_refuse_policy_tokens():
    (good, _), (bad, _) = pair("devauth-2021-refuse-policy-tokens")
    for api, verdict in ((good, True), (bad, False)):
        token = sas.build_token(f"{api.hub.host_name}/devices/c1", api.hub.policies["device"].key, "device")
        assert (_authorize(api, token, EVENTS, "c1") is None) is verdict


def test_fault_devauth_2021_device_token_any_device():
    (good, _), (bad, _) = pair("devauth-2021-device-token-any-device")
    assert _authorize(good, good.device_token("c2"), EVENTS, "c1") is not None
    assert _authorize(bad, bad.device_token("c2"), EVENTS, "c1") is None
    assert _authorize(bad, bad.device_token("c2"), EVENTS, "c1", version="2016-02-03") is not None


def test_fault_devauth_2021_policy_without_device_connect():
    (good, _), (bad, _) = pair("devauth-2021-policy-without-device-connect")
    assert _authorize(good, good.policy("service"), EVENTS, "c1") is not None
    assert _authorize(bad, bad.policy("service"), EVENTS, "c1") is None


def test_fault_devauth_2021_expired_device_token():
    (good, _), (bad, _) = pair("devauth-2021-expired-device-token")
    assert _authorize(good, _expired(good, "c1"), EVENTS, "c1") is not None
    assert _authorize(bad, _expired(bad, "c1"), EVENTS, "c1") is None


def test_fault_devauth_2021_module_token_as_device():
    (good, _), (bad, _) = pair("devauth-2021-module-token-as-device")
    for api, verdict in ((good, False), (bad, True)):
        token = sas.build_token(f"{api.hub.host_name}/devices/d2/modules/m1", api.keys["d2/m1"])
        assert (_authorize(api, token, "/devices/d2/messages/events", "d2") is None) is verdict


def test_fault_devauth_2021_device_token_serves_service():
    (good, _), (bad, _) = pair("devauth-2021-device-token-serves-service")
    assert status(good, "GET", "/devices/c1", good.device_token("c1")) == 401
    assert status(bad, "GET", "/devices/c1", bad.device_token("c1")) == 200


# -- Edge device scope ---------------------------------------------------------------------------------------------


def test_fault_scope_2021_edge_versions_refused():
    (good, gt), (bad, bt) = pair("scope-2021-edge-versions-refused")
    assert status(good, "GET", LIST, gt, EDGE_V) == 200 and status(bad, "GET", LIST, bt, EDGE_V) == 400


def test_fault_scope_2021_scope_ignored():
    (good, gt), (bad, bt) = pair("scope-2021-scope-ignored")
    assert "other" not in ids(good.request("GET", LIST, token=gt, params=EDGE_V))
    assert "other" in ids(bad.request("GET", LIST, token=bt, params=EDGE_V))


def test_fault_scope_2021_no_continuation_link():
    (good, gt), (bad, bt) = pair("scope-2021-no-continuation-link")
    query = {**EDGE_V, "deviceCount": "2"}
    assert good.request("GET", LIST, token=gt, params=query).json()["continuationLink"]
    page = bad.request("GET", LIST, token=bt, params=query).json()
    assert len(page["devices"]) == 2 and page["continuationLink"] is None


def test_fault_scope_2021_one_ignores_target():
    (good, gt), (bad, bt) = pair("scope-2021-one-ignores-target")
    one = "/devices/edge1/modules/%24edgeHub/deviceAndModuleInDeviceScope"
    query = {**EDGE_V, "targetDeviceId": "c2"}
    assert ids(good.request("GET", one, token=gt, params=query)) == ["c2"]
    assert len(ids(bad.request("GET", one, token=bt, params=query))) == 4


def test_fault_scope_2021_target_scope_empty():
    (good, gt), (bad, bt) = pair("scope-2021-target-scope-empty")
    target = "/devices/edge1/modules/%24edgeHub/devicesAndModulesInTargetDeviceScope"
    body = {"pageSize": 10, "continuationLink": "", "authChain": "edge1"}
    version = {"api-version": "2020-06-30-preview"}
    assert len(ids(good.request("POST", target, token=gt, params=version, json=body))) == 4
    assert ids(bad.request("POST", target, token=bt, params=version, json=body)) == []


def test_fault_scope_2021_listing_drops_scopes():
    (good, gt), (bad, bt) = pair("scope-2021-listing-drops-scopes")
    assert good.request("GET", LIST, token=gt, params=EDGE_V).json()["devices"][0]["deviceScope"] == SCOPE
    assert "deviceScope" not in bad.request("GET", LIST, token=bt, params=EDGE_V).json()["devices"][0]
    assert bad.get_device("c1", params=V21).json()["deviceScope"] == SCOPE  # the registry keeps it


def test_fault_scope_2021_foreign_token():
    (good, _), (bad, _) = pair("scope-2021-foreign-token")
    assert status(good, "GET", LIST, good.device_token("c1"), EDGE_V) == 401
    assert status(bad, "GET", LIST, bad.device_token("c1"), EDGE_V) == 200


def test_fault_scope_2021_expired_token():
    (good, gt), (bad, bt) = pair("scope-2021-expired-token")
    for api, token, verdict in ((good, gt, 401), (bad, bt, 200)):
        module_key = api.hub.modules["edge1"]["$edgeHub"].keys()[0]
        expired = sas.build_token(sas.parse_token(token).resource_uri, module_key, expiry=1_000_000_000)
        assert status(api, "GET", LIST, expired, EDGE_V) == verdict

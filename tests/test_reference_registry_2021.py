"""The reference's registry at api-version 2021-04-12 (devices, modules, bulk, statistics, purge) beside an unchanged
2016-02-03: the 2016 answers are the ones recorded before 2021 was served (tests/golden/registry-2016-02-03.json, made
with the reference of commit 8e6804f), module identities and module-scoped tokens as other surfaces rely on them, and
no input answered with a 500."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.requests import Request

from iothub_conformance.http import sas
from iothub_conformance.reference.authorization import authorize
from iothub_conformance.reference.modules import Module
from iothub_conformance.reference.policies import DEVICE_CONNECT, REGISTRY_READ
from tests.support.reference_api import API, ReferenceApi

V21 = {"api-version": "2021-04-12"}
GOLDEN = Path(__file__).parent / "golden" / "registry-2016-02-03.json"
VARYING = re.compile(r'"(etag|generationId|primaryKey|secondaryKey|statusUpdatedTime)":"[^"]*"')


def normalized(label, response) -> list:
    """A response with what differs from run to run (etags, ids, keys, times, tracking ids) blanked, as recorded."""
    body = VARYING.sub(r'"\1":"…"', response.text)
    body = re.sub(r"Tracking ID:[0-9a-f]+-G:0-TimeStamp:[0-9/ :]+", "Tracking ID:…", body)
    heads = sorted([k, "…" if k in ("etag", "x-ms-request-id", "content-length") else v]
                   for k, v in response.headers.items())
    return [label, response.status_code, heads, body]


def test_the_2016_registry_answers_as_before_2021_was_served():
    api = ReferenceApi()
    c, params = api.client, API
    headers = {"Authorization": api.policy()}
    exchanges = [
        ("put", c.put("/devices/d1", params=params, json={"deviceId": "d1", "status": "disabled"}, headers=headers)),
        ("get", c.get("/devices/d1", params=params, headers=headers)),
        ("list", c.get("/devices", params=params, headers=headers)),
        ("stats", c.get("/statistics/devices", params=params, headers=headers)),
        ("service", c.get("/statistics/service", params=params, headers=headers)),
        ("post", c.post("/devices", params=params, json=[], headers=headers)),
        ("patch", c.patch("/devices/d1", params=params, headers=headers)),
        ("missing", c.get("/devices/none", params=params, headers=headers)),
        ("delete-noifmatch", c.delete("/devices/d1", params=params, headers=headers)),
        ("delete", c.delete("/devices/d1", params=params, headers={**headers, "If-Match": "*"})),
    ]
    assert [normalized(label, r) for label, r in exchanges] == json.loads(GOLDEN.read_text())


def test_a_2021_device_carries_the_swagger_fields_and_a_2016_read_of_it_does_not():
    api = ReferenceApi()
    created = api.request("PUT", "/devices/d1", params=V21, json={"deviceId": "d1", "capabilities": {"iotEdge": True}})
    assert created.status_code == 200 and created.headers["ETag"] == f'"{created.json()["etag"]}"'
    assert created.json()["capabilities"] == {"iotEdge": True} and created.json()["authentication"]["type"] == "sas"
    old = api.request("GET", "/devices/d1", params=API).json()
    assert "capabilities" not in old and "type" not in old["authentication"]


def test_modules_live_in_hub_modules_and_go_with_their_device():
    api = ReferenceApi()
    api.request("PUT", "/devices/d1", params=V21, json={"deviceId": "d1"})
    made = api.request("PUT", "/devices/d1/modules/m1", params=V21, json={"moduleId": "m1", "managedBy": "IotEdge"})
    assert made.status_code == 201
    with api.hub.lock:
        module = api.hub.modules["d1"]["m1"]
    assert isinstance(module, Module) and module.managed_by == "IotEdge" and module.etag == made.json()["etag"]
    assert api.request("DELETE", "/devices/d1", params=V21).status_code == 204
    assert "d1" not in api.hub.modules
    assert api.request("GET", "/devices/d1/modules/m1", params=V21).status_code == 404


def _request(api: ReferenceApi, path: str, token: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
                    "headers": [(b"authorization", token.encode())], "app": api.client.app})


def test_a_module_token_grants_device_connect_for_its_module_only():
    api = ReferenceApi()
    api.request("PUT", "/devices/d1", params=V21, json={"deviceId": "d1"})
    key = api.request("PUT", "/devices/d1/modules/m1", params=V21,
                      json={"moduleId": "m1"}).json()["authentication"]["symmetricKey"]["primaryKey"]
    token = sas.build_token(f"{api.hub.host_name}/devices/d1/modules/m1", key)
    path = "/devices/d1/modules/m1"
    assert authorize(api.hub, _request(api, path, token), DEVICE_CONNECT, "d1", "m1") is None
    assert "its own module" in authorize(api.hub, _request(api, path, token), DEVICE_CONNECT, "d1", "m2")
    assert "its own module" in authorize(api.hub, _request(api, path, token), DEVICE_CONNECT, "d1")  # a device call
    assert "RegistryRead" in authorize(api.hub, _request(api, path, token), REGISTRY_READ, "d1", "m1")
    forged = sas.build_token(f"{api.hub.host_name}/devices/d1/modules/m1", api.hub.policies["device"].key)
    assert "signature" in authorize(api.hub, _request(api, path, forged), DEVICE_CONNECT, "d1", "m1")
    unknown = sas.build_token(f"{api.hub.host_name}/devices/d1/modules/m9", key)
    assert "no module" in authorize(api.hub, _request(api, "/devices/d1/modules/m9", unknown), DEVICE_CONNECT, "d1",
                                    "m9")


def test_bulk_applies_each_item_and_reports_the_failed_ones():
    api = ReferenceApi()
    api.request("PUT", "/devices/old", params=V21, json={"deviceId": "old"})
    response = api.request("POST", "/devices", params=V21, json=[
        {"id": "new", "importMode": "create"}, {"id": "old", "importMode": "create"},
        {"id": "absent", "importMode": "update"}])
    assert response.status_code == 400 and response.headers["iothub-errorcode"] == "BulkRegistryOperationFailure"
    body = response.json()
    assert body["isSuccessful"] is False
    assert [(e["deviceId"], e["errorCode"]) for e in body["errors"]] == [("old", "DeviceAlreadyExists"),
                                                                         ("absent", "DeviceNotFound")]
    assert api.request("GET", "/devices/new", params=V21).status_code == 200


@pytest.mark.parametrize("items, code", [
    ([{"id": f"d{n}", "importMode": "create"} for n in range(101)], "ArgumentInvalid"),
    ([{"id": "twice", "importMode": "create"}, {"id": "twice", "importMode": "delete"}], "DeviceDefinedMultipleTimes"),
])
def test_bulk_refuses_more_than_100_devices_or_one_twice(items, code):
    api = ReferenceApi()
    response = api.request("POST", "/devices", params=V21, json=items)
    assert response.status_code == 400 and response.headers["iothub-errorcode"] == code
    assert not api.hub.devices


def test_the_51st_module_is_refused():
    api = ReferenceApi()
    api.request("PUT", "/devices/d1", params=V21, json={"deviceId": "d1"})
    for n in range(50):
        assert api.request("PUT", f"/devices/d1/modules/m{n}", params=V21, json={}).status_code == 201
    refused = api.request("PUT", "/devices/d1/modules/m50", params=V21, json={})
    assert refused.status_code == 413 and refused.headers["iothub-errorcode"] == "TooManyModulesOnDevice"
    assert len(api.hub.modules["d1"]) == 50


def test_purge_empties_the_queue_and_counts_what_it_held():
    api = ReferenceApi()
    api.request("PUT", "/devices/d1", params=V21, json={"deviceId": "d1"})
    for n in range(2):
        assert api.hub.enqueue("d1", b"m%d" % n, {}).status == 200
    response = api.request("DELETE", "/devices/d1/commands", params=V21)
    assert response.json() == {"totalMessagesPurged": 2, "deviceId": "d1", "moduleId": None}
    with api.hub.lock:
        assert api.hub.queued("d1") == 0


@pytest.mark.parametrize("method, path, body, headers", [
    ("POST", "/devices", b"[", {}), ("POST", "/devices", b'{"a": 1}', {}), ("POST", "/devices", b"[1, null, []]", {}),
    ("POST", "/devices", b'[{"id": "x", "importMode": "create", "authentication": {"type": 5}}]', {}),
    ("PUT", "/devices/d1", b'{"capabilities": []}', {}), ("PUT", "/devices/d1", b"null", {}),
    ("PUT", "/devices/d1/modules/m1", b'{"authentication": "x"}', {}), ("PUT", "/devices/d1/modules/m1", b"[]", {}),
    ("PUT", "/devices/d1", b"{}", {"If-Match": 'W/"x", ,"'}), ("DELETE", "/devices/d%20%01/commands", b"", {}),
    ("GET", "/devices", b"", {}), ("GET", "/devices/d1/modules/" + "m" * 200, b"", {}),
])
def test_no_input_is_answered_with_a_500(method, path, body, headers):
    api = ReferenceApi()
    api.request("PUT", "/devices/d1", params=V21, json={"deviceId": "d1"})
    params = {**V21, "top": "99999999999999999999"} if path == "/devices" and method == "GET" else V21
    response = api.request(method, path, params=params, content=body, headers=headers)
    assert response.status_code < 500, response.text

"""The reference's twins, direct methods and query at api-version 2021-04-12 (routes_2021_twins.py,
twin_documents.py, methods.py, query.py), and that the 2016-11-14 twin keeps its representation."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import modules as module_state
from iothub_conformance.rules.profiles import DOCS_STRICT
from tests.support.reference_api import TWIN_API, ReferenceApi, error_code

V21 = {"api-version": "2021-04-12"}


def add_module(api: ReferenceApi, device_id: str, module_id: str) -> None:
    with api.hub.lock:
        api.hub.modules.setdefault(device_id, {})[module_id] = module_state.new_module(
            api.hub, device_id, module_id, module_state.ModuleInput())


@pytest.fixture
def api():
    made = ReferenceApi(params=V21)
    made.devices("d1", "d2", "d3")
    return made


def test_twin_has_identity_sections_versions_and_metadata(api):
    twin = api.request("GET", "/twins/d1").json()
    assert twin["deviceId"] == "d1" and twin["version"] == 1 and twin["status"] == "enabled"
    assert twin["deviceEtag"] == api.get_device("d1").json()["etag"]
    assert "generationId" not in twin and "connectionStateUpdatedTime" not in twin
    for section in ("desired", "reported"):
        assert twin["properties"][section]["$version"] == 1
        assert twin["properties"][section]["$metadata"]["$lastUpdated"].endswith("Z")
    assert '"' not in twin["etag"]


def test_patch_merges_removes_nulls_stamps_metadata_and_moves_versions(api):
    first = api.request("PATCH", "/twins/d1", json={"tags": {"a": 1, "b": 2},
                                                     "properties": {"desired": {"x": {"y": 1}, "z": 2}}}).json()
    second = api.request("PATCH", "/twins/d1", json={"tags": {"b": None}, "properties": {"desired": {"z": None}}})
    assert second.status_code == 200
    twin = second.json()
    assert twin["tags"] == {"a": 1}
    desired = twin["properties"]["desired"]
    assert {k: v for k, v in desired.items() if not k.startswith("$")} == {"x": {"y": 1}}
    assert desired["$version"] == 3 and twin["version"] == 3 and twin["etag"] != first["etag"]
    meta = desired["$metadata"]
    assert "z" not in meta and meta["x"]["y"]["$lastUpdatedVersion"] == 2 and meta["$lastUpdatedVersion"] == 3
    assert "ETag" not in second.headers
    assert api.request("GET", "/twins/d1").json()["etag"] == twin["etag"]


def test_put_replaces_tags_and_desired(api):
    api.request("PATCH", "/twins/d1", json={"tags": {"a": 1}, "properties": {"desired": {"x": 1}}})
    twin = api.request("PUT", "/twins/d1", json={"tags": {"b": 2}, "properties": {"desired": {"y": 3}}}).json()
    assert twin["tags"] == {"b": 2}
    assert {k for k in twin["properties"]["desired"] if not k.startswith("$")} == {"y"}


def test_if_match_quoted_current_and_star_apply_stale_is_412_and_changes_nothing(api):
    etag = api.request("GET", "/twins/d1").json()["etag"]
    applied = api.request("PATCH", "/twins/d1", headers={"If-Match": f'"{etag}"'}, json={"tags": {"a": 1}})
    assert applied.status_code == 200
    stale = api.request("PUT", "/twins/d1", headers={"If-Match": f'"{etag}"'}, json={"tags": {"a": 2}})
    assert stale.status_code == 412 and error_code(stale) == "PreconditionFailed"
    assert api.request("GET", "/twins/d1").json()["tags"] == {"a": 1}
    assert api.request("PATCH", "/twins/d1", headers={"If-Match": "*"}, json={"tags": {"a": 3}}).status_code == 200


def test_reported_cannot_be_written_by_the_service_and_limits_hold(api):
    refused = api.request("PATCH", "/twins/d1", json={"properties": {"reported": {"r": 1}}})
    assert refused.status_code == 400
    deep: dict = {"v": 1}
    for _ in range(11):
        deep = {"k": deep}
    assert api.request("PATCH", "/twins/d1", json={"tags": deep}).status_code == 400
    assert api.request("PATCH", "/twins/d1", json={"tags": {"big": "x" * 9000}}).status_code == 400
    assert api.request("GET", "/twins/d1").json()["tags"] == {}


def test_arrays_follow_the_profile():
    assert ReferenceApi(params=V21).request("GET", "/twins/x").status_code == 404
    accepting = ReferenceApi(params=V21)
    accepting.device("d1")
    assert accepting.request("PATCH", "/twins/d1", json={"tags": {"a": [1, 2]}}).json()["tags"] == {"a": [1, 2]}
    strict = ReferenceApi(params=V21, profile=DOCS_STRICT)
    strict.device("d1")
    assert strict.request("PATCH", "/twins/d1", json={"tags": {"a": [1, 2]}}).status_code == 400


def test_the_2016_twin_keeps_its_representation_and_405(api):
    api.request("PATCH", "/twins/d1", json={"tags": {"a": 1}})
    old = api.request("GET", "/twins/d1", params=TWIN_API)
    assert set(old.json()) == {"deviceId", "etag", "version", "tags", "properties"}
    assert old.json()["properties"] == {"desired": {"$version": 1}, "reported": {"$version": 1}}
    assert old.headers["ETag"] == f'"{old.json()["etag"]}"'
    put = api.request("PUT", "/twins/d1", params=TWIN_API, json={})
    assert put.status_code == 405 and put.headers["Allow"] == "GET, HEAD, PATCH"


def test_module_twins_live_with_their_module(api):
    assert api.request("GET", "/twins/d1/modules/m1").status_code == 404
    add_module(api, "d1", "m1")
    twin = api.request("PATCH", "/twins/d1/modules/m1", json={"tags": {"t": 1}}).json()
    assert twin["moduleId"] == "m1" and twin["tags"] == {"t": 1}
    add_module(api, "d1", "m1")  # made again: a new generationId
    assert api.request("GET", "/twins/d1/modules/m1").json()["tags"] == {}


def test_methods_reach_devices_and_modules_time_out_and_refuse_bounds(api):
    calls = []
    api.hub.method_handlers["d1"] = lambda name, payload: (calls.append(("d1", name)) or (201, {"got": payload}))
    add_module(api, "d1", "m1")
    api.hub.module_method_handlers[("d1", "m1")] = lambda name, payload: (202, {"module": True})
    body = {"methodName": "reboot", "payload": {"a": 1}, "responseTimeoutInSeconds": 10}
    assert api.request("POST", "/twins/d1/methods", json=body).json() == {"status": 201, "payload": {"got": {"a": 1}}}
    assert api.request("POST", "/twins/d1/modules/m1/methods", json=body).json()["status"] == 202
    offline = api.request("POST", "/twins/d2/methods", json=body)
    assert offline.status_code == 404 and error_code(offline) == "DeviceNotOnline"
    unknown = api.request("POST", "/twins/nobody/methods", json=body)
    assert unknown.status_code == 404 and error_code(unknown) == "DeviceNotFound"
    api.hub.method_latency[("d1", None)] = 11
    slow = api.request("POST", "/twins/d1/methods", json=body)
    assert slow.status_code == 504 and error_code(slow) == "GatewayTimeout"
    for bad in ({"responseTimeoutInSeconds": 301}, {"responseTimeoutInSeconds": 4}, {"connectTimeoutInSeconds": 301}):
        assert api.request("POST", "/twins/d1/methods", json={**body, **bad}).status_code == 400
    big = api.request("POST", "/twins/d1/methods", json={"methodName": "m", "payload": {"x": "y" * (128 * 1024)}})
    assert big.status_code == 413
    assert calls == [("d1", "reboot")]


def test_query_selects_pages_and_survives_changes_between_pages(api):
    api.devices("d4", "d5")
    api.request("PATCH", "/twins/d2", json={"tags": {"site": "n"}})
    picked = api.request("POST", "/devices/query", json={"query": "SELECT * FROM devices WHERE tags.site = 'n'"})
    assert [t["deviceId"] for t in picked.json()] == ["d2"] and picked.headers["x-ms-item-type"] == "twin"
    query = {"query": "SELECT * FROM devices"}
    first = api.request("POST", "/devices/query", json=query, headers={"x-ms-max-item-count": "2"})
    assert [t["deviceId"] for t in first.json()] == ["d1", "d2"]
    api.delete_device("d1", if_match="*")
    api.device("d0")
    rest = api.request("POST", "/devices/query", json=query,
                       headers={"x-ms-max-item-count": "2", "x-ms-continuation": first.headers["x-ms-continuation"]})
    assert [t["deviceId"] for t in rest.json()] == ["d3", "d4"]
    counted = api.request("POST", "/devices/query", json={
        "query": "SELECT tags.site AS site, COUNT() AS n FROM devices GROUP BY tags.site"})
    assert counted.headers["x-ms-item-type"] == "raw" and {"site": "n", "n": 1} in counted.json()
    bad = api.request("POST", "/devices/query", json={"query": "SELECT FROM"})
    assert bad.status_code == 400 and error_code(bad) == "ArgumentInvalid"
    forged = api.request("POST", "/devices/query", json=query, headers={"x-ms-continuation": "bm9wZQ"})
    assert forged.status_code == 400

"""Each fault switch of the 2021-04-12 twins, direct methods and query (reference/faults_2021_twins.py) changes the
reference's behaviour as its description says, and a hub without it does not."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import modules as module_state
from iothub_conformance.rules.profiles import IOTHUB
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, error_code, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

TWIN_FAULTS = faults_breaking(*SURFACE_PREFIXES["twins, methods and query 2021"])
V21 = {"api-version": "2021-04-12"}
CALL = {"methodName": "m", "payload": {"a": 1}, "responseTimeoutInSeconds": 10}


def add_module(api: ReferenceApi, device_id: str, module_id: str) -> None:
    with api.hub.lock:
        api.hub.modules.setdefault(device_id, {})[module_id] = module_state.new_module(
            api.hub, device_id, module_id, module_state.ModuleInput())


def hubs(fault: str, profile=IOTHUB) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each with devices d1, d2, d3 and module m1 on d1."""
    pair = ReferenceApi(params=V21, profile=profile), ReferenceApi(fault, params=V21, profile=profile)
    for api in pair:
        api.devices("d1", "d2", "d3")
        add_module(api, "d1", "m1")
    return pair


def twin(api: ReferenceApi, path: str = "/twins/d1") -> dict:
    response = api.request("GET", path)
    assert response.status_code == 200, response.text
    return response.json()


def patch(api: ReferenceApi, body: dict, path: str = "/twins/d1", **headers):
    return api.request("PATCH", path, json=body, headers=headers)


def put(api: ReferenceApi, body: dict, path: str = "/twins/d1", **headers):
    return api.request("PUT", path, json=body, headers=headers)


def query(api: ReferenceApi, text: str, **headers):
    return api.request("POST", "/devices/query", json={"query": text}, headers=headers)


def test_every_twin_method_and_query_fault_has_a_test_here():
    assert len(TWIN_FAULTS) == 34
    missing = [name for name in TWIN_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


# -- device twins --------------------------------------------------------------------------------------------------


def test_fault_twin_version_missing():
    good, bad = hubs("twin-version-missing")
    assert twin(good)["version"] == 1 and "version" not in twin(bad)
    assert twin(bad, "/twins/d1/modules/m1")["version"] == 1  # module twins keep theirs


def test_fault_twin_unknown_device_200():
    good, bad = hubs("twin-unknown-device-200")
    assert good.request("GET", "/twins/ghost").status_code == 404
    answered = bad.request("GET", "/twins/ghost")
    assert answered.status_code == 200 and answered.json()["tags"] == {}
    assert patch(bad, {"tags": {"a": 1}}, "/twins/ghost").status_code == 404  # only reads invent a twin


def test_fault_twin_identity_missing():
    good, bad = hubs("twin-identity-missing")
    assert twin(good)["status"] == "enabled" and twin(good)["deviceEtag"]
    assert "status" not in twin(bad) and "deviceEtag" not in twin(bad)


def test_fault_no_twin_metadata():
    good, bad = hubs("no-twin-metadata")
    assert "$metadata" in twin(good)["properties"]["desired"]
    assert all("$metadata" not in section for section in twin(bad)["properties"].values())


def test_fault_twin_patch_null_kept():
    good, bad = hubs("twin-patch-null-kept")
    for api in (good, bad):
        patch(api, {"tags": {"a": 1, "b": 2}})
        patch(api, {"tags": {"b": None}})
    assert twin(good)["tags"] == {"a": 1} and twin(bad)["tags"] == {"a": 1, "b": "null"}


def test_fault_twin_replace_merges():
    good, bad = hubs("twin-replace-merges")
    for api in (good, bad):
        patch(api, {"tags": {"old": 1}})
        put(api, {"tags": {"new": 2}})
        patch(api, {"tags": {"old": 1}}, "/twins/d1/modules/m1")
        put(api, {"tags": {"new": 2}}, "/twins/d1/modules/m1")
    assert twin(good)["tags"] == {"new": 2} and twin(bad)["tags"] == {"old": 1, "new": 2}
    assert twin(bad, "/twins/d1/modules/m1")["tags"] == {"old": 1, "new": 2}  # the declared collateral


def test_fault_twin_service_writes_reported():
    good, bad = hubs("twin-service-writes-reported")
    assert patch(good, {"properties": {"reported": {"r": 1}}}).status_code == 400
    assert patch(bad, {"properties": {"reported": {"r": 1}}}).status_code == 200
    assert twin(bad)["properties"]["reported"]["r"] == 1 and "r" not in twin(good)["properties"]["reported"]


def test_fault_twin_version_frozen():
    good, bad = hubs("twin-version-frozen")
    assert patch(good, {"properties": {"desired": {"x": 1}}}).json()["version"] == 2
    frozen = patch(bad, {"properties": {"desired": {"x": 1}}}).json()
    assert frozen["version"] == 1 and frozen["properties"]["desired"]["$version"] == 1


def test_fault_twin_etag_unchanged():
    good, bad = hubs("twin-etag-unchanged")
    for api, same in ((good, False), (bad, True)):
        before = twin(api)["etag"]
        assert (patch(api, {"tags": {"a": 1}}).json()["etag"] == before) is same


def test_fault_twin_ignore_if_match():
    good, bad = hubs("twin-ignore-if-match")
    for api, status in ((good, 412), (bad, 200)):
        assert patch(api, {"tags": {"a": 1}}, **{"If-Match": '"stale"'}).status_code == status
        assert patch(api, {"tags": {"a": 1}}, "/twins/d1/modules/m1", **{"If-Match": '"stale"'}).status_code == 412


def test_fault_twin_quoted_if_match_refused():
    good, bad = hubs("twin-quoted-if-match-refused")
    for api, status in ((good, 200), (bad, 412)):
        assert patch(api, {"tags": {"a": 1}}, **{"If-Match": f'"{twin(api)["etag"]}"'}).status_code == status
    assert patch(bad, {"tags": {"a": 3}}, **{"If-Match": "*"}).status_code == 200


def _deep(levels: int) -> dict:
    value: dict = {"v": 1}
    for _ in range(levels):
        value = {"k": value}
    return value


def test_fault_twin_no_depth_limit():
    good, bad = hubs("twin-no-depth-limit")
    assert patch(good, {"tags": _deep(12)}).status_code == 400
    assert patch(bad, {"tags": _deep(12)}).status_code == 200
    assert patch(bad, {"moduleId": "m1", "tags": _deep(12)}, "/twins/d1/modules/m1").status_code == 400


def test_fault_twin_no_size_limit():
    good, bad = hubs("twin-no-size-limit")
    big = {f"k{n}": "x" * 2000 for n in range(5)}
    assert patch(good, {"tags": big}).status_code == 400
    assert patch(bad, {"tags": big}).status_code == 200 and twin(bad)["tags"] == big


def test_fault_twin_arrays_refused():
    good, bad = hubs("twin-arrays-refused")
    assert patch(good, {"tags": {"a": [1, 2]}}).status_code == 200
    refused = patch(bad, {"tags": {"a": [1, 2]}})
    assert refused.status_code == 400 and error_code(refused) == "ArgumentInvalid"


# -- module twins --------------------------------------------------------------------------------------------------


def test_fault_module_twin_no_module_id():
    good, bad = hubs("module-twin-no-module-id")
    assert twin(good, "/twins/d1/modules/m1")["moduleId"] == "m1"
    assert "moduleId" not in twin(bad, "/twins/d1/modules/m1")


def test_fault_module_twin_unknown_module_200():
    good, bad = hubs("module-twin-unknown-module-200")
    assert good.request("GET", "/twins/d1/modules/ghost").status_code == 404
    answered = bad.request("GET", "/twins/d1/modules/ghost")
    assert answered.status_code == 200 and answered.json()["moduleId"] == "ghost"


def test_fault_module_twin_patch_ignored():
    good, bad = hubs("module-twin-patch-ignored")
    for api, tags in ((good, {"a": 1}), (bad, {})):
        assert patch(api, {"tags": {"a": 1}}, "/twins/d1/modules/m1").status_code == 200
        assert twin(api, "/twins/d1/modules/m1")["tags"] == tags
    assert patch(bad, {"tags": {"a": 1}}).json()["tags"] == {"a": 1}  # device twins still change


def test_fault_module_twin_ignore_if_match():
    good, bad = hubs("module-twin-ignore-if-match")
    for api, status in ((good, 412), (bad, 200)):
        assert put(api, {"tags": {"a": 1}}, "/twins/d1/modules/m1", **{"If-Match": '"stale"'}).status_code == status
    assert patch(bad, {"tags": {"a": 1}}, **{"If-Match": '"stale"'}).status_code == 412


def test_fault_module_twin_outlives_module():
    good, bad = hubs("module-twin-outlives-module")
    for api in (good, bad):
        patch(api, {"tags": {"old": 1}}, "/twins/d1/modules/m1")
        add_module(api, "d1", "m1")  # the module made again: another generationId
    assert twin(good, "/twins/d1/modules/m1")["tags"] == {}
    assert twin(bad, "/twins/d1/modules/m1")["tags"] == {"old": 1}


# -- direct methods ------------------------------------------------------------------------------------------------


def online(*apis: ReferenceApi) -> None:
    for api in apis:
        api.hub.method_handlers["d1"] = lambda name, payload: (201, {"device": payload})
        api.hub.module_method_handlers[("d1", "m1")] = lambda name, payload: (202, {"module": payload})


def call(api: ReferenceApi, path: str = "/twins/d1/methods", body: dict | None = None):
    return api.request("POST", path, json=CALL if body is None else body)


def test_fault_method_status_dropped():
    good, bad = hubs("method-status-dropped")
    online(good, bad)
    assert call(good).json() == {"status": 201, "payload": {"device": {"a": 1}}}
    assert call(bad).json() == {"status": 200, "payload": None}
    assert call(bad, "/twins/d1/modules/m1/methods").json() == {"status": 200, "payload": None}


def test_fault_module_method_goes_to_device():
    good, bad = hubs("module-method-goes-to-device")
    online(good, bad)
    assert call(good, "/twins/d1/modules/m1/methods").json()["status"] == 202
    assert call(bad, "/twins/d1/modules/m1/methods").json()["status"] == 201


def test_fault_method_offline_gateway_timeout():
    good, bad = hubs("method-offline-gateway-timeout")
    assert error_code(call(good, "/twins/d2/methods")) == "DeviceNotOnline"
    timed_out = call(bad, "/twins/d2/methods")
    assert timed_out.status_code == 504 and error_code(timed_out) == "GatewayTimeout"


def test_fault_method_unknown_device_not_online():
    good, bad = hubs("method-unknown-device-not-online")
    assert error_code(call(good, "/twins/ghost/methods")) == "DeviceNotFound"
    assert error_code(call(bad, "/twins/ghost/methods")) == "DeviceNotOnline"


def test_fault_method_no_timeout():
    good, bad = hubs("method-no-timeout")
    online(good, bad)
    for api in (good, bad):
        api.hub.method_latency[("d1", None)] = 20
    assert call(good).status_code == 504 and call(bad).status_code == 200


def test_fault_method_timeout_unbounded():
    good, bad = hubs("method-timeout-unbounded")
    online(good, bad)
    for timeouts in ({"responseTimeoutInSeconds": 301}, {"connectTimeoutInSeconds": -1}):
        assert call(good, body={**CALL, **timeouts}).status_code == 400
        assert call(bad, body={**CALL, **timeouts}).status_code == 200


def test_fault_method_no_payload_limit():
    good, bad = hubs("method-no-payload-limit")
    online(good, bad)
    large = {**CALL, "payload": {"x": "y" * (128 * 1024)}}
    assert call(good, body=large).status_code == 413
    assert call(bad, body=large).status_code == 200


# -- query ---------------------------------------------------------------------------------------------------------

ALL = "SELECT * FROM devices WHERE deviceId IN ['d1', 'd2', 'd3']"


def test_fault_query_twin_without_properties():
    good, bad = hubs("query-twin-without-properties")
    assert all("properties" in item for item in query(good, ALL).json())
    assert all("properties" not in item and "tags" in item for item in query(bad, ALL).json())


def test_fault_query_not_ignored():
    good, bad = hubs("query-not-ignored")
    for api in (good, bad):
        patch(api, {"tags": {"n": 1}})
    text = "SELECT * FROM devices WHERE NOT (tags.n = 1)"
    assert [t["deviceId"] for t in query(bad, text).json()] == ["d1"]
    assert "d1" not in [t["deviceId"] for t in query(good, text).json()]


def test_fault_query_modules_empty():
    good, bad = hubs("query-modules-empty")
    text = "SELECT * FROM devices.modules WHERE deviceId IN ['d1']"
    assert [t["moduleId"] for t in query(good, text).json()] == ["m1"]
    assert query(bad, text).json() == []


def test_fault_query_group_by_ignored():
    good, bad = hubs("query-group-by-ignored")
    for api in (good, bad):
        patch(api, {"tags": {"g": "a"}})
        patch(api, {"tags": {"g": "b"}}, "/twins/d2")
    text = "SELECT tags.g AS g, COUNT() AS n FROM devices WHERE deviceId IN ['d1', 'd2'] GROUP BY tags.g"
    assert sorted((row["g"], row["n"]) for row in query(good, text).json()) == [("a", 1), ("b", 1)]
    assert [row["n"] for row in query(bad, text).json()] == [2]


def test_fault_query_page_size_ignored():
    good, bad = hubs("query-page-size-ignored")
    assert len(query(good, ALL, **{"x-ms-max-item-count": "2"}).json()) == 2
    page = query(bad, ALL, **{"x-ms-max-item-count": "2"})
    assert len(page.json()) == 3 and "x-ms-continuation" not in page.headers


def _after_a_removal(api: ReferenceApi) -> list[str]:
    first = query(api, ALL, **{"x-ms-max-item-count": "2"})
    assert [t["deviceId"] for t in first.json()] == ["d1", "d2"]
    api.delete_device("d1", if_match="*")
    rest = query(api, ALL, **{"x-ms-max-item-count": "2", "x-ms-continuation": first.headers["x-ms-continuation"]})
    return [t["deviceId"] for t in rest.json()]


def test_fault_query_continuation_by_offset():
    good, bad = hubs("query-continuation-by-offset")
    assert _after_a_removal(good) == ["d3"]
    assert _after_a_removal(bad) == []  # d3 was skipped


def test_fault_query_no_item_type():
    good, bad = hubs("query-no-item-type")
    assert query(good, ALL).headers["x-ms-item-type"] == "twin"
    assert "x-ms-item-type" not in query(bad, ALL).headers and query(bad, ALL).status_code == 200


def test_fault_query_bad_query_empty_200():
    good, bad = hubs("query-bad-query-empty-200")
    assert query(good, "SELECT * FROM devices WHERE").status_code == 400
    answered = query(bad, "SELECT * FROM devices WHERE")
    assert answered.status_code == 200 and answered.json() == []

"""Each fault switch of the 2021-04-12 configurations (reference/faults_2021_configurations.py) changes the reference's
behaviour as its description says, and a hub without it does not."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import configurations as state
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, error_code, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

CONFIG_FAULTS = faults_breaking(*SURFACE_PREFIXES["configurations 2021"])
V21 = {"api-version": "2021-04-12"}
CONTENT = {"deviceContent": {"properties.desired.x": {"a": 1}}}
EDGE = {"modulesContent": {"$edgeAgent": {"properties.desired": {}}}}


def hubs(fault: str) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each with devices d1, d2 tagged env=t."""
    pair = ReferenceApi(params=V21), ReferenceApi(fault, params=V21)
    for api in pair:
        api.devices("d1", "d2")
        for device_id in ("d1", "d2"):
            assert api.request("PATCH", f"/twins/{device_id}", json={"tags": {"env": "t"}}).status_code == 200
    return pair


def put(api: ReferenceApi, configuration_id: str = "c1", headers=None, **body):
    sent = {"content": CONTENT, "targetCondition": "tags.env = 't'", "priority": 10, **body}
    return api.request("PUT", f"/configurations/{configuration_id}", json=sent, headers=headers)


def read(api: ReferenceApi, configuration_id: str = "c1") -> dict:
    response = api.request("GET", f"/configurations/{configuration_id}")
    assert response.status_code == 200, response.text
    return response.json()


def counts(configuration: dict) -> tuple[int, int]:
    results = configuration["systemMetrics"]["results"]
    return results[state.TARGETED], results[state.APPLIED]


def test_every_configuration_fault_has_a_test_here():
    assert len(CONFIG_FAULTS) == 24
    missing = [name for name in CONFIG_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def test_fault_config_labels_dropped():
    good, bad = hubs("config-labels-dropped")
    for api in (good, bad):
        put(api, labels={"k": "v"})
    assert read(good)["labels"] == {"k": "v"} and read(bad)["labels"] == {}


def test_fault_config_update_keeps_etag():
    good, bad = hubs("config-update-keeps-etag")
    for api, same in ((good, False), (bad, True)):
        etag = put(api).json()["etag"]
        assert (put(api, priority=2).json()["etag"] == etag) is same


def test_fault_config_not_found_names_device():
    good, bad = hubs("config-not-found-names-device")
    assert error_code(good.request("GET", "/configurations/none")) == state.NOT_FOUND
    assert error_code(bad.request("GET", "/configurations/none")) == "DeviceNotFound"


def test_fault_config_content_mutable():
    good, bad = hubs("config-content-mutable")
    other = {"deviceContent": {"properties.desired.x": {"a": 2}}}
    for api, status in ((good, 400), (bad, 200)):
        put(api)
        assert put(api, content=other).status_code == status
    assert read(bad)["content"] == other


def test_fault_config_ignore_if_match():
    good, bad = hubs("config-ignore-if-match")
    for api, status in ((good, 412), (bad, 200)):
        etag = put(api).json()["etag"]
        put(api, priority=2)
        assert put(api, priority=3, headers={"If-Match": f'"{etag}"'}).status_code == status


def test_fault_config_unquoted_if_match_stale():
    good, bad = hubs("config-unquoted-if-match-stale")
    for api, status in ((good, 200), (bad, 412)):
        etag = put(api).json()["etag"]
        assert put(api, priority=2, headers={"If-Match": etag}).status_code == status
        assert put(api, priority=2, headers={"If-Match": "*"}).status_code == 200  # the wildcard still works


def test_fault_config_delete_ignored():
    good, bad = hubs("config-delete-ignored")
    for api, left in ((good, 404), (bad, 200)):
        put(api)
        assert api.request("DELETE", "/configurations/c1").status_code == 204
        assert api.request("GET", "/configurations/c1").status_code == left


def test_fault_config_list_ignores_top():
    good, bad = hubs("config-list-ignores-top")
    for api, length in ((good, 1), (bad, 2)):
        put(api, "a")
        put(api, "b")
        assert len(api.request("GET", "/configurations", params={**V21, "top": 1}).json()) == length


def test_fault_config_id_unchecked():
    good, bad = hubs("config-id-unchecked")
    assert put(good, "Upper").status_code == 400
    assert put(bad, "Upper").status_code == 201


def test_fault_config_target_unchecked():
    good, bad = hubs("config-target-unchecked")
    assert put(good, targetCondition="tags.env =").status_code == 400
    stored = put(bad, targetCondition="tags.env =")
    assert stored.status_code == 201 and counts(stored.json()) == (0, 0)


def test_fault_config_metrics_unbounded():
    good, bad = hubs("config-metrics-unbounded")
    six = {"metrics": {"queries": {f"m{n}": "SELECT * FROM devices" for n in range(6)}}}
    assert put(good, **six).status_code == 400
    assert put(bad, **six).status_code == 201


def test_fault_config_count_unbounded():
    good, bad = hubs("config-count-unbounded")
    for api, status in ((good, 403), (bad, 201)):
        for n in range(state.MAX_CONFIGURATIONS):
            put(api, f"c{n}", targetCondition="deviceId = 'none'")
        assert put(api, "one-more").status_code == status


def test_fault_config_applied_ignores_priority():
    good, bad = hubs("config-applied-ignores-priority")
    for api, applied in ((good, 1), (bad, 2)):
        put(api, "low")
        put(api, "high", targetCondition="deviceId = 'd2'", priority=20)
        api.advance(state.RUN_INTERVAL)
        assert counts(read(api, "low")) == (2, applied)


def test_fault_config_tie_oldest_wins():
    good, bad = hubs("config-tie-oldest-wins")
    for api, older, newer in ((good, 0, 1), (bad, 1, 0)):
        put(api, "older", targetCondition="deviceId = 'd2'", priority=20)
        api.advance(1)
        put(api, "newer", targetCondition="deviceId = 'd2'", priority=20)
        api.advance(state.RUN_INTERVAL)
        assert (counts(read(api, "older"))[1], counts(read(api, "newer"))[1]) == (older, newer)


def test_fault_config_custom_metric_zero():
    good, bad = hubs("config-custom-metric-zero")
    for api, result in ((good, 2), (bad, 0)):
        made = put(api, metrics={"queries": {"tagged": "SELECT deviceId FROM devices WHERE tags.env = 't'"}})
        assert made.json()["metrics"]["results"] == {"tagged": result}


def test_fault_config_metrics_never_refresh():
    good, bad = hubs("config-metrics-never-refresh")
    for api, targeted in ((good, 1), (bad, 0)):
        put(api, targetCondition="tags.env = 'later'")
        assert api.request("PATCH", "/twins/d1", json={"tags": {"env": "later"}}).status_code == 200
        api.advance(state.RUN_INTERVAL)
        assert counts(read(api))[0] == targeted


def test_fault_config_test_queries_no_errors():
    good, bad = hubs("config-test-queries-no-errors")
    wrong = {"targetCondition": "tags.env =", "customMetricQueries": {"a": "SELECT"}}
    assert good.request("POST", "/configurations/testQueries", json=wrong).json()["targetConditionError"]
    assert bad.request("POST", "/configurations/testQueries", json=wrong).json() == {
        "targetConditionError": "", "customMetricQueryErrors": {}}


def test_fault_config_apply_answers_200():
    good, bad = hubs("config-apply-answers-200")
    assert good.request("POST", "/devices/d1/applyConfigurationContent", json=EDGE).status_code == 204
    answered = bad.request("POST", "/devices/d1/applyConfigurationContent", json=EDGE)
    assert answered.status_code == 200 and answered.json() == {}


def test_fault_config_apply_unknown_device_204():
    good, bad = hubs("config-apply-unknown-device-204")
    assert good.request("POST", "/devices/ghost/applyConfigurationContent", json=EDGE).status_code == 404
    assert bad.request("POST", "/devices/ghost/applyConfigurationContent", json=EDGE).status_code == 204


# -- content in the twins ---------------------------------------------------------------------------------------------

def desired(api: ReferenceApi, device_id: str) -> dict:
    response = api.request("GET", f"/twins/{device_id}")
    assert response.status_code == 200, response.text
    return {k: v for k, v in response.json()["properties"]["desired"].items() if not k.startswith("$")}


def test_fault_config_content_not_applied():
    good, bad = hubs("config-content-not-applied")
    for api, seen in ((good, {"x": {"a": 1}}), (bad, {})):
        put(api)
        assert desired(api, "d1") == seen


def test_fault_config_content_last_run_wins():
    good, bad = hubs("config-content-last-run-wins")
    for api, winner in ((good, "high"), (bad, "low")):
        put(api, "high", content={"deviceContent": {"properties.desired.x": {"v": "high"}}}, priority=20)
        put(api, "low", content={"deviceContent": {"properties.desired.x": {"v": "low"}}}, priority=5)
        assert desired(api, "d1") == {"x": {"v": winner}}


def test_fault_config_content_kept_when_untargeted():
    good, bad = hubs("config-content-kept-when-untargeted")
    for api, seen in ((good, {}), (bad, {"x": {"a": 1}})):
        made = put(api).json()
        moved = put(api, headers={"If-Match": made["etag"]}, targetCondition="deviceId = 'd2'")
        assert moved.status_code == 200 and desired(api, "d1") == seen and desired(api, "d2") == {"x": {"a": 1}}


def test_fault_config_delete_no_fallback():
    good, bad = hubs("config-delete-no-fallback")
    for api, seen in ((good, "low"), (bad, "high")):
        put(api, "low", content={"deviceContent": {"properties.desired.x": {"v": "low"}}}, priority=5)
        put(api, "high", content={"deviceContent": {"properties.desired.x": {"v": "high"}}}, priority=20)
        assert api.request("DELETE", "/configurations/high", headers={"If-Match": "*"}).status_code == 204
        api.advance(state.RUN_INTERVAL)
        read(api, "low")  # the lower configuration runs again: a bad hub still leaves the twin as it was
        assert desired(api, "d1") == {"x": {"v": seen}}


def test_fault_config_status_unseen():
    good, bad = hubs("config-status-unseen")
    status = "SELECT deviceId FROM devices WHERE configurations.[[c1]].status = 'Applied'"
    for api, count in ((good, 2), (bad, 0)):
        assert put(api, metrics={"queries": {"applied": status}}).json()["metrics"]["results"] == {"applied": count}

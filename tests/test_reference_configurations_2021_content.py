"""The reference writes a configuration's content into the twins it targets (configurations.py settle, forget): the
priority between configurations, a twin leaving the scope, a delete, module twins, the twin write path's versions and
the `configurations.[[id]].status` a query sees
(docs/sources/iot-hub-automatic-device-management__2019-12-13_01a0b363.md)."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import configurations as state
from iothub_conformance.reference import modules as module_state
from tests.support.reference_api import ReferenceApi

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

V21 = {"api-version": "2021-04-12"}


@pytest.fixture
def api():
    made = ReferenceApi(params=V21)
    made.devices("d1", "d2", "d3")
    for device_id in ("d1", "d2"):
        assert made.request("PATCH", f"/twins/{device_id}", json={"tags": {"env": "t"}}).status_code == 200
    return made


def put(api: ReferenceApi, configuration_id: str, content: dict, condition: str = "tags.env = 't'",
        priority: int = 10, **body):
    sent = {"content": {"deviceContent": content}, "targetCondition": condition, "priority": priority, **body}
    response = api.request("PUT", f"/configurations/{configuration_id}", json=sent)
    assert response.status_code in (200, 201), response.text
    return response.json()


def twin(api: ReferenceApi, device_id: str, module_id: str | None = None) -> dict:
    path = f"/twins/{device_id}" + (f"/modules/{module_id}" if module_id else "")
    response = api.request("GET", path)
    assert response.status_code == 200, response.text
    return response.json()


def desired(api: ReferenceApi, device_id: str) -> dict:
    return {k: v for k, v in twin(api, device_id)["properties"]["desired"].items() if not k.startswith("$")}


def test_the_content_reaches_the_targeted_twins_only_through_the_twin_write_path(api):
    before = twin(api, "d1")
    put(api, "c1", {"properties.desired.chiller-water": {"temperature": 66, "pressure": 28},
                    "properties.desired.fan.speed": 3})
    after = twin(api, "d1")
    assert desired(api, "d1") == {"chiller-water": {"temperature": 66, "pressure": 28}, "fan": {"speed": 3}}
    assert desired(api, "d2") == desired(api, "d1") and desired(api, "d3") == {}
    # one write: the etag, the twin version and the desired $version move; $metadata stamps the new keys
    assert after["etag"] != before["etag"] and after["version"] == before["version"] + 1
    assert after["properties"]["desired"]["$version"] == before["properties"]["desired"]["$version"] + 1
    assert "$lastUpdated" in after["properties"]["desired"]["$metadata"]["chiller-water"]["temperature"]


def test_a_later_run_does_not_write_again_and_a_twin_tagged_later_gets_the_content(api):
    put(api, "c1", {"properties.desired.x": {"a": 1}})
    version = twin(api, "d1")["properties"]["desired"]["$version"]
    assert api.request("PATCH", "/twins/d3", json={"tags": {"env": "t"}}).status_code == 200
    api.advance(state.RUN_INTERVAL - 1)
    api.request("GET", "/configurations/c1")
    assert desired(api, "d3") == {}  # not yet run again
    api.advance(1)
    api.request("GET", "/configurations/c1")
    assert desired(api, "d3") == {"x": {"a": 1}}
    assert twin(api, "d1")["properties"]["desired"]["$version"] == version  # nothing new to write on d1


def test_a_null_value_removes_the_property(api):
    assert api.request("PATCH", "/twins/d1", json={"properties": {"desired": {"old": 1, "keep": 2}}}).status_code == 200
    put(api, "c1", {"properties.desired.old": None})
    assert desired(api, "d1") == {"keep": 2}


def test_the_highest_priority_wins_a_path_whatever_the_order_and_the_newest_on_a_tie(api):
    put(api, "high", {"properties.desired.x": {"v": "high"}}, priority=20)
    put(api, "low", {"properties.desired.x": {"v": "low"}, "properties.desired.y": 1}, priority=5)
    assert desired(api, "d1") == {"x": {"v": "high"}, "y": 1}  # low still sets the path nobody else does
    api.advance(2)
    put(api, "tie", {"properties.desired.x": {"v": "tie"}}, condition="deviceId = 'd2'", priority=20)
    assert desired(api, "d2")["x"] == {"v": "tie"} and desired(api, "d1")["x"] == {"v": "high"}
    api.advance(state.RUN_INTERVAL)
    for configuration_id in ("high", "low", "tie"):
        api.request("GET", f"/configurations/{configuration_id}")
    assert desired(api, "d2")["x"] == {"v": "tie"} and desired(api, "d1")["x"] == {"v": "high"}


def test_a_twin_that_leaves_the_scope_loses_the_settings_and_takes_the_next_configuration(api):
    put(api, "low", {"properties.desired.x": {"v": "low"}}, priority=5)
    made = put(api, "high", {"properties.desired.x": {"v": "high"}, "properties.desired.only": 1}, priority=20)
    assert desired(api, "d1") == {"x": {"v": "high"}, "only": 1}
    moved = api.request("PUT", "/configurations/high", headers={"If-Match": made["etag"]},
                        json={**made, "targetCondition": "deviceId = 'd2'"})
    assert moved.status_code == 200, moved.text
    assert desired(api, "d1") == {"x": {"v": "low"}}  # "only" removed, x by the next highest priority
    assert desired(api, "d2") == {"x": {"v": "high"}, "only": 1}


def test_a_twin_that_leaves_every_scope_loses_the_settings_and_nothing_else_changes(api):
    put(api, "c1", {"properties.desired.x": {"a": 1}})
    assert api.request("PATCH", "/twins/d1", json={"properties": {"desired": {"mine": 1}},
                                                    "tags": {"env": "other"}}).status_code == 200
    api.advance(state.RUN_INTERVAL)
    api.request("GET", "/configurations/c1")
    assert desired(api, "d1") == {"mine": 1} and desired(api, "d2") == {"x": {"a": 1}}


def test_a_delete_hands_the_twins_to_the_next_configuration_and_keeps_what_no_other_sets(api):
    put(api, "low", {"properties.desired.x": {"v": "low"}}, priority=5)
    put(api, "high", {"properties.desired.x": {"v": "high"}, "properties.desired.only": 1}, priority=20)
    assert api.request("DELETE", "/configurations/high", headers={"If-Match": "*"}).status_code == 204
    # "take on their next highest priority configuration"; the page says nothing of removing the deleted one's own
    assert desired(api, "d1") == {"x": {"v": "low"}, "only": 1}


def test_module_content_reaches_the_module_twins_a_module_condition_selects(api):
    for device_id, module_id in (("d1", "m1"), ("d2", "m2")):
        with api.hub.lock:
            api.hub.modules.setdefault(device_id, {})[module_id] = module_state.new_module(
                api.hub, device_id, module_id, module_state.ModuleInput())
    assert api.request("PATCH", "/twins/d1/modules/m1", json={"tags": {"role": "m"}}).status_code == 200
    sent = {"content": {"moduleContent": {"properties.desired.mod": {"on": True}}},
            "targetCondition": "FROM devices.modules WHERE tags.role = 'm'", "priority": 1}
    assert api.request("PUT", "/configurations/mods", json=sent).status_code == 201
    assert twin(api, "d1", "m1")["properties"]["desired"]["mod"] == {"on": True}
    assert "mod" not in twin(api, "d2", "m2")["properties"]["desired"]
    assert "mod" not in desired(api, "d1")


def test_content_the_twin_rules_refuse_is_not_written_and_nothing_fails(api):
    made = api.request("PUT", "/configurations/c1", json={"content": {"deviceContent": {
        "properties.desired.x": {"bad key": 1}, "tags.t": 1}}, "targetCondition": "*", "priority": 1})
    assert made.status_code == 201
    assert desired(api, "d1") == {} and twin(api, "d1")["tags"] == {"env": "t"}


def test_a_status_metric_counts_the_twins_the_configuration_was_applied_to(api):
    status = "SELECT deviceId FROM devices WHERE configurations.[[c-1]].status = 'Applied'"
    tested = api.request("POST", "/configurations/testQueries", json={"customMetricQueries": {"applied": status}})
    assert tested.json()["customMetricQueryErrors"] == {}
    made = put(api, "c-1", {"properties.desired.x": {"a": 1}}, metrics={"queries": {"applied": status}})
    assert made["metrics"]["results"] == {"applied": 2}
    rows = api.request("POST", "/devices/query", json={"query": status}).json()
    assert sorted(row["deviceId"] for row in rows) == ["d1", "d2"]
    assert "configurations" not in twin(api, "d1")  # the twin document shows no such member
    other = "SELECT deviceId FROM devices WHERE configurations.[[nothing]].status = 'Applied'"
    assert api.request("POST", "/devices/query", json={"query": other}).json() == []

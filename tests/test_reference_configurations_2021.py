"""The reference's configurations and applyConfigurationContent at api-version 2021-04-12 (configurations.py,
routes_2021_configurations.py): ids, bodies, If-Match, the count limit, the metrics of each run and testQueries."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import configurations as state
from tests.support.reference_api import ReferenceApi, error_code

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

V21 = {"api-version": "2021-04-12"}
PATH = "properties.desired.x"


@pytest.fixture
def api():
    made = ReferenceApi(params=V21)
    made.devices("d1", "d2", "d3")
    for device_id in ("d1", "d2"):
        assert made.request("PATCH", f"/twins/{device_id}", json={"tags": {"env": "t"}}).status_code == 200
    return made


def put(api: ReferenceApi, configuration_id: str, condition: str = "tags.env = 't'", priority: int = 10,
        content: dict | None = None, **body):
    headers = body.pop("headers", None)
    sent = {"content": content if content is not None else {"deviceContent": {PATH: {"a": 1}}},
            "targetCondition": condition, "priority": priority, **body}
    return api.request("PUT", f"/configurations/{configuration_id}", json=sent, headers=headers)


def read(api: ReferenceApi, configuration_id: str) -> dict:
    response = api.request("GET", f"/configurations/{configuration_id}")
    assert response.status_code == 200, response.text
    return response.json()


def counts(configuration: dict) -> tuple[int, int]:
    results = configuration["systemMetrics"]["results"]
    return results[state.TARGETED], results[state.APPLIED]


def test_create_is_201_update_200_and_the_document_has_every_field(api):
    created = put(api, "c1", labels={"k": "v"})
    assert created.status_code == 201
    document = created.json()
    assert document["id"] == "c1" and document["labels"] == {"k": "v"} and document["priority"] == 10
    assert document["createdTimeUtc"].endswith("Z") and document["etag"] and '"' not in document["etag"]
    api.advance(1)
    updated = put(api, "c1", priority=11, headers={"If-Match": document["etag"]})
    assert updated.status_code == 200 and updated.json()["priority"] == 11
    assert updated.json()["etag"] != document["etag"]
    assert updated.json()["createdTimeUtc"] == document["createdTimeUtc"]
    assert updated.json()["lastUpdatedTimeUtc"] > document["lastUpdatedTimeUtc"]
    assert "ETag" not in updated.headers  # the swagger declares none


def test_the_content_cannot_change_and_an_update_without_content_keeps_it(api):
    put(api, "c1")
    refused = put(api, "c1", content={"deviceContent": {PATH: {"a": 2}}})
    assert refused.status_code == 400 and error_code(refused) == state.IMMUTABLE_CONTENT
    kept = api.request("PUT", "/configurations/c1", json={"targetCondition": "*", "priority": 1})
    assert kept.status_code == 200 and kept.json()["content"] == {"deviceContent": {PATH: {"a": 1}}}


@pytest.mark.parametrize("form", ["{etag}", '"{etag}"', "*", '"*"'])
def test_if_match_takes_the_etag_as_given_or_quoted_and_both_wildcards(api, form):
    etag = put(api, "c1").json()["etag"]
    assert put(api, "c1", priority=2, headers={"If-Match": form.format(etag=etag)}).status_code == 200
    stale = put(api, "c1", priority=3, headers={"If-Match": form.format(etag=etag)})
    assert stale.status_code == (200 if "*" in form else 412)
    current = read(api, "c1")["etag"]
    assert api.request("DELETE", "/configurations/c1", headers={"If-Match": form.format(etag=current)}).status_code \
        == 204


def test_stale_delete_is_412_and_a_missing_one_404_configuration_not_found(api):
    etag = put(api, "c1").json()["etag"]
    put(api, "c1", priority=5)
    refused = api.request("DELETE", "/configurations/c1", headers={"If-Match": f'"{etag}"'})
    assert refused.status_code == 412 and error_code(refused) == "PreconditionFailed"
    assert api.request("DELETE", "/configurations/c1").status_code == 204
    for method in ("GET", "DELETE"):
        missing = api.request(method, "/configurations/c1")
        assert missing.status_code == 404 and error_code(missing) == state.NOT_FOUND
    assert api.request("PUT", "/configurations/c9", json={}, headers={"If-Match": "*"}).status_code == 412


@pytest.mark.parametrize("configuration_id", ["Upper", "a b", "a&b", "a^b", "a[b", "a]b", "a{b", "a}b", "a\\b",
                                              "a|b", 'a"b', "a<b", "a>b", "x" * 129])
def test_ids_the_page_does_not_allow_are_400(api, configuration_id):
    response = put(api, configuration_id)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert not api.hub.configurations


@pytest.mark.parametrize(("body", "code"), [
    ({"targetCondition": "tags.env ="}, state.BAD_TARGET),
    ({"targetCondition": "from devices.modules where"}, state.BAD_TARGET),
    ({"metrics": {"queries": {f"m{n}": "SELECT * FROM devices" for n in range(6)}}}, state.BAD_METRICS),
    ({"metrics": {"queries": {"m": "SELECT FROM"}}}, state.BAD_METRICS),
    ({"content": {"modulesContent": {"m": 1}}}, state.BAD_CONTENT),
    ({"priority": "high"}, "ArgumentInvalid"),
    ({"labels": {"a": 1}}, "ArgumentInvalid"),
    ({"id": "other"}, "ArgumentInvalid"),
])
def test_bodies_the_sources_refuse_are_400_with_the_swaggers_error_names(api, body, code):
    response = api.request("PUT", "/configurations/c1", json={"targetCondition": "*", **body})
    assert response.status_code == 400 and error_code(response) == code
    assert api.request("PUT", "/configurations/c2", content=b"{not json").status_code == 400


def test_a_hub_holds_100_configurations(api):
    for n in range(state.MAX_CONFIGURATIONS):
        assert put(api, f"c{n}").status_code == 201
    refused = put(api, "one-more")
    assert refused.status_code == 403 and error_code(refused) == state.COUNT_LIMIT
    assert put(api, "c0", priority=1).status_code == 200  # an update is no new configuration


def test_the_list_is_in_creation_order_and_top_is_bounded(api):
    for configuration_id in ("b", "a", "c"):
        put(api, configuration_id)
    listed = api.request("GET", "/configurations").json()
    assert [c["id"] for c in listed] == ["b", "a", "c"]
    assert len(api.request("GET", "/configurations", params={**V21, "top": 2}).json()) == 2
    assert len(api.request("GET", "/configurations", params={**V21, "top": 2**31 - 1}).json()) == 3
    for top in ("0", "-1", "x", str(2**31)):
        assert api.request("GET", "/configurations", params={**V21, "top": top}).status_code == 400


def test_targeted_and_applied_follow_priority_and_the_newest_of_a_tie(api):
    put(api, "low", priority=10)
    put(api, "high", condition="deviceId = 'd2'", priority=20)
    api.advance(1)
    put(api, "newest", condition="deviceId IN ['d2', 'd3']", priority=20)
    put(api, "other-path", condition="deviceId = 'd2'", priority=1, content={"deviceContent": {"tags.y": 1}})
    api.advance(state.RUN_INTERVAL)
    assert counts(read(api, "low")) == (2, 1)
    assert counts(read(api, "high")) == (1, 0)
    assert counts(read(api, "newest")) == (2, 2)
    assert counts(read(api, "other-path")) == (1, 1)  # a partial modification: no other configuration sets tags.y


def test_metrics_are_what_the_last_run_saw(api):
    put(api, "c1", metrics={"queries": {"tagged": "SELECT deviceId FROM devices WHERE tags.env = 't'"}})
    assert counts(read(api, "c1")) == (2, 2)
    assert api.request("PATCH", "/twins/d3", json={"tags": {"env": "t"}}).status_code == 200
    api.advance(state.RUN_INTERVAL - 1)
    assert counts(read(api, "c1")) == (2, 2) and read(api, "c1")["metrics"]["results"] == {"tagged": 2}
    api.advance(1)
    assert counts(read(api, "c1")) == (3, 3) and read(api, "c1")["metrics"]["results"] == {"tagged": 3}


def test_the_interval_between_runs_is_the_hubs_to_set(api):
    # What `serve --configuration-interval` sets: a served hub runs on the wall clock, which no suite can move.
    api.hub.configuration_interval = 2.0
    put(api, "c1")
    assert api.request("PATCH", "/twins/d3", json={"tags": {"env": "t"}}).status_code == 200
    api.advance(1.5)
    assert counts(read(api, "c1")) == (2, 2)
    api.advance(0.5)
    assert counts(read(api, "c1")) == (3, 3)


def test_module_configurations_target_module_twins(api):
    from iothub_conformance.reference import modules as module_state

    with api.hub.lock:
        api.hub.modules.setdefault("d1", {})["m1"] = module_state.new_module(api.hub, "d1", "m1",
                                                                             module_state.ModuleInput())
    made = put(api, "mods", condition="from devices.modules where moduleId = 'm1'",
               content={"moduleContent": {PATH: {"a": 1}}})
    assert made.status_code == 201 and counts(made.json()) == (1, 1)
    assert put(api, "every-module", condition="from devices.modules where *").status_code == 400


def test_test_queries_names_each_error(api):
    answer = api.request("POST", "/configurations/testQueries",
                         json={"targetCondition": "tags.env = 't'", "customMetricQueries": {"a": "SELECT * FROM devices"}})
    assert answer.status_code == 200 and answer.json() == {"targetConditionError": "", "customMetricQueryErrors": {}}
    answer = api.request("POST", "/configurations/testQueries",
                         json={"targetCondition": "tags.env =", "customMetricQueries": {"a": "SELECT", "b": "SELECT * "
                                                                                                         "FROM devices"}})
    errors = answer.json()
    assert errors["targetConditionError"] and set(errors["customMetricQueryErrors"]) == {"a"}
    assert api.request("POST", "/configurations/testQueries", json=[1]).status_code == 400


def test_apply_content_is_204_on_a_device_404_for_an_unknown_one_and_400_for_a_bad_body(api):
    content = {"modulesContent": {"$edgeAgent": {"properties.desired": {}}}}
    assert api.request("POST", "/devices/d1/applyConfigurationContent", json=content).status_code == 204
    missing = api.request("POST", "/devices/ghost/applyConfigurationContent", json=content)
    assert missing.status_code == 404 and error_code(missing) == "DeviceNotFound"
    for body in ([], {"modulesContent": {"m": 1}}):
        assert api.request("POST", "/devices/d1/applyConfigurationContent", json=body).status_code == 400
    # A member ConfigurationContent lacks is ignored, as the service's reader ignores one.
    assert api.request("POST", "/devices/d1/applyConfigurationContent", json={"x": {}}).status_code == 204


def test_api_version_and_permissions_come_first(api):
    assert api.request("GET", "/configurations", params={}).status_code == 400
    assert api.request("GET", "/configurations", params={"api-version": "2016-02-03"}).status_code == 400
    reader = api.policy("registryRead")
    assert api.request("GET", "/configurations", token=reader).status_code == 200
    assert api.request("PUT", "/configurations/c1", token=reader, json={}).status_code == 401
    assert api.request("PUT", "/configurations/c1", token=api.policy("registryReadWrite"), json={}).status_code == 201
    assert api.request("PATCH", "/configurations/c1").status_code == 405


def test_testqueries_takes_post_only_and_is_never_read_as_a_configuration(api):
    for method in ("GET", "PUT", "DELETE"):
        response = api.request(method, "/configurations/testQueries", json={"id": "testQueries"})
        assert response.status_code == 405 and response.headers["allow"] == "POST", (method, response.text)
    assert "testQueries" not in api.hub.configurations


def test_a_content_member_the_model_lacks_is_ignored(api):
    body = {"targetCondition": "*", "content": {"other": {}, "deviceContent": {"properties.desired.x": 1}}}
    response = api.request("PUT", "/configurations/c1", json=body)
    assert response.status_code in (200, 201), response.text
    assert response.json()["content"].get("other") is None

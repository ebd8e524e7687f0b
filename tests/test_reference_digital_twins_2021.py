"""The reference's IoT Plug and Play digital twins at api-version 2021-04-12 (digital_twins.py,
routes_2021_digital_twins.py): the view of a device twin, JSON Patch updates, commands, and that the device twin of a
device that announced no model is what it was."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import digital_twins, twin_documents
from iothub_conformance.rules.profiles import DOCS_STRICT
from iothub_conformance.targets.embedded import EmbeddedControls
from tests.support.reference_api import TWIN_API, ReferenceApi, error_code

V21 = {"api-version": "2021-04-12"}
MODEL = "dtmi:com:example:TemperatureController;1"


@pytest.fixture
def api():
    made = ReferenceApi(params=V21)
    made.devices("d1", "d2")
    digital_twins.announce(made.hub, "d1", MODEL)
    return made


def report(api: ReferenceApi, reported: dict, device_id: str = "d1") -> None:
    twin_documents.report(api.hub, device_id, None, reported)


def dt(api: ReferenceApi, device_id: str = "d1"):
    response = api.request("GET", f"/digitaltwins/{device_id}")
    assert response.status_code == 200, response.text
    return response.json(), response


def patch(api: ReferenceApi, operations, **headers):
    return api.request("PATCH", "/digitaltwins/d1", json=operations, headers=headers)


def desired(api: ReferenceApi, device_id: str = "d1") -> dict:
    section = api.request("GET", f"/twins/{device_id}").json()["properties"]["desired"]
    return {k: v for k, v in section.items() if not k.startswith("$")}


def test_the_view_is_the_concepts_pages_sample_of_a_device_twin(api):
    report(api, {"serialNumber": "alwinexlepaho8329",
                 "thermostat1": {"__t": "c", "maxTempSinceLastReboot": 25.3,
                                 "targetTemperature": {"value": 21.8, "ac": 200, "av": 2,
                                                       "ad": "Successfully executed patch"}}})
    assert patch(api, [{"op": "add", "path": "/thermostat1/targetTemperature", "value": 21.8}]).status_code == 202
    body, response = dt(api)
    assert body["$dtId"] == "d1" and body["serialNumber"] == "alwinexlepaho8329"
    assert body["$metadata"]["$model"] == MODEL and body["$metadata"]["serialNumber"]["lastUpdateTime"].endswith("Z")
    component = body["thermostat1"]
    assert "__t" not in component and component["maxTempSinceLastReboot"] == 25.3
    assert component["targetTemperature"] == 21.8
    entry = component["$metadata"]["targetTemperature"]
    assert {k: entry[k] for k in ("desiredValue", "desiredVersion", "ackVersion", "ackCode", "ackDescription")} == {
        "desiredValue": 21.8, "desiredVersion": 2, "ackVersion": 2, "ackCode": 200,
        "ackDescription": "Successfully executed patch"}
    assert entry["lastUpdateTime"].endswith("Z")
    assert response.headers["ETag"] == f'"{api.request("GET", "/twins/d1").json()["etag"]}"'


def test_the_device_twin_shows_the_model_id_only_when_one_was_announced(api):
    assert api.request("GET", "/twins/d1").json()["modelId"] == MODEL
    assert "modelId" not in api.request("GET", "/twins/d2").json()
    assert "modelId" not in api.request("GET", "/twins/d1", params=TWIN_API).json()  # the 2016-11-14 twin is unchanged
    body, _ = dt(api, "d2")
    assert body == {"$dtId": "d2", "$metadata": {}}


def test_announce_through_the_embedded_controls_and_an_unknown_device(api):
    controls = EmbeddedControls(api.hub)
    controls.connect_pnp_device("d2", "dtmi:example:Other;1")
    assert dt(api, "d2")[0]["$metadata"]["$model"] == "dtmi:example:Other;1"
    with pytest.raises(LookupError):
        controls.connect_pnp_device("ghost", MODEL)


def test_patch_adds_replaces_and_removes_desired_values_and_answers_202_with_etag_and_location(api):
    _, before = dt(api)
    response = patch(api, [{"op": "add", "path": "/fanSpeed", "value": 2.0},
                           {"op": "add", "path": "/thermostat1/targetTemperature", "value": 21.4}])
    assert response.status_code == 202 and response.content == b""
    assert response.headers["Location"].endswith("/digitaltwins/d1")
    assert response.headers["ETag"] != before.headers["ETag"]
    assert response.headers["ETag"] == dt(api)[1].headers["ETag"]
    assert desired(api) == {"fanSpeed": 2.0, "thermostat1": {"__t": "c", "targetTemperature": 21.4}}
    assert patch(api, [{"op": "replace", "path": "/fanSpeed", "value": 3}]).status_code == 202
    assert patch(api, [{"op": "remove", "path": "/thermostat1/targetTemperature"}]).status_code == 202
    assert desired(api) == {"fanSpeed": 3, "thermostat1": {"__t": "c"}}
    assert patch(api, [{"op": "remove", "path": "/thermostat1"}]).status_code == 202
    assert desired(api) == {"fanSpeed": 3}
    assert dt(api)[0]["$metadata"]["fanSpeed"] == {"desiredValue": 3, "desiredVersion": 3}  # the version that set it


def test_a_component_write_needs_the_marker_and_replaces_its_desired_values(api):
    report(api, {"thermostat1": {"__t": "c", "maxTemp": 1}})
    patch(api, [{"op": "add", "path": "/thermostat1/a", "value": 1}, {"op": "add", "path": "/thermostat1/b", "value": 2}])
    refused = patch(api, [{"op": "replace", "path": "/thermostat1", "value": {"a": 5}}])
    assert refused.status_code == 400 and error_code(refused) == "ArgumentInvalid"
    assert "is not digital twin conformant property" in refused.json()["Message"]
    assert desired(api)["thermostat1"] == {"__t": "c", "a": 1, "b": 2}
    assert patch(api, [{"op": "replace", "path": "/thermostat1", "value": {"a": 5, "$metadata": {}}}]).status_code == 202
    assert desired(api)["thermostat1"] == {"__t": "c", "a": 5}
    assert patch(api, [{"op": "add", "path": "/thermostat2", "value": {"x": 1, "$metadata": {}}}]).status_code == 202
    assert desired(api)["thermostat2"] == {"__t": "c", "x": 1}
    marked = patch(api, [{"op": "add", "path": "/thermostat3", "value": {"x": 1, "$metadata": {"k": 1}}}])
    assert marked.status_code == 400


@pytest.mark.parametrize("operations", [
    [{"op": "add", "path": "/1abc", "value": 1}], [{"op": "add", "path": "/abc_", "value": 1}],
    [{"op": "add", "path": "/_abc", "value": 1}], [{"op": "add", "path": "/" + "a" * 65, "value": 1}],
    [{"op": "add", "path": "/ok", "value": {"bad-name": 1}}], [{"op": "add", "path": "/ok", "value": [1]}],
    [{"op": "add", "path": "/ok", "value": {"a": {"b": [1]}}}],
    [{"op": "add", "path": "/ok", "value": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}],
    [{"op": "move", "path": "/ok", "from": "/x"}], [{"op": "add", "path": "/ok"}], [{"op": "add", "path": "ok", "value": 1}],
    [{"op": "add", "path": "/a/b/c", "value": 1}], {"op": "add"}, ["add"],
    [{"op": "add", "path": "/fine", "value": 1}, {"op": "add", "path": "/bad-one", "value": 1}],
])
def test_a_patch_outside_the_rules_is_400_and_changes_nothing(api, operations):
    before = api.request("GET", "/twins/d1").json()
    response = patch(api, operations)
    assert response.status_code == 400 and error_code(response) in ("ArgumentInvalid", "IotHubFormatError")
    assert api.request("GET", "/twins/d1").json()["etag"] == before["etag"]


def test_five_levels_are_taken_and_a_root_property_has_no_fields_to_patch(api):
    five = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    assert patch(api, [{"op": "add", "path": "/ok", "value": five}]).status_code == 202
    assert patch(api, [{"op": "add", "path": "/ok/a", "value": 1}]).status_code == 400


def test_if_match_takes_the_etag_as_given_and_an_earlier_one_is_412(api):
    _, first = dt(api)
    assert patch(api, [{"op": "add", "path": "/p", "value": 1}], **{"If-Match": first.headers["ETag"]}).status_code == 202
    stale = patch(api, [{"op": "add", "path": "/p", "value": 2}], **{"If-Match": first.headers["ETag"]})
    assert stale.status_code == 412 and error_code(stale) == "PreconditionFailed"
    assert desired(api) == {"p": 1}
    assert patch(api, [{"op": "add", "path": "/p", "value": 3}], **{"If-Match": "*"}).status_code == 202
    assert patch(api, [{"op": "add", "path": "/p", "value": 4}], **{"If-Match": "nonsense"}).status_code == 400


def test_docs_strict_serves_a_weak_etag_that_if_match_takes_back():
    api = ReferenceApi(params=V21, profile=DOCS_STRICT)
    api.devices("d1")
    _, response = dt(api)
    assert response.headers["ETag"].startswith('W/"')
    assert patch(api, [{"op": "add", "path": "/p", "value": 1}], **{"If-Match": response.headers["ETag"]}).status_code == 202
    assert patch(api, [{"op": "add", "path": "/p", "value": 1}], **{"If-Match": response.headers["ETag"]}).status_code == 412


def test_unknown_devices_are_404_device_not_found_and_bad_ids_400(api):
    for method, path, body in (("GET", "/digitaltwins/ghost", None), ("PATCH", "/digitaltwins/ghost", []),
                               ("POST", "/digitaltwins/ghost/commands/c", {}),
                               ("POST", "/digitaltwins/ghost/components/x/commands/c", {})):
        response = api.request(method, path, json=body)
        assert response.status_code == 404 and error_code(response) == "DeviceNotFound", (method, path)
    assert api.request("GET", "/digitaltwins/bad%20id").status_code == 400
    assert api.request("GET", "/digitaltwins/d1", params={}).status_code == 400
    assert api.request("GET", "/digitaltwins/d1", token=None).status_code == 401


def test_commands_reach_the_handler_and_answer_its_status_and_payload(api):
    calls = []
    api.hub.method_handlers["d1"] = lambda name, payload: (calls.append((name, payload)) or (201, {"n": name}))
    root = api.request("POST", "/digitaltwins/d1/commands/reboot", json={"a": 1})
    assert root.status_code == 200 and root.json() == {"n": "reboot"} and root.headers["x-ms-command-statuscode"] == "201"
    assert root.headers["x-ms-request-id"]
    part = api.request("POST", "/digitaltwins/d1/components/thermostat1/commands/getMaxMinReport", content=b"")
    assert part.status_code == 200 and part.json() == {"n": "thermostat1*getMaxMinReport"}
    assert calls == [("reboot", {"a": 1}), ("thermostat1*getMaxMinReport", None)]
    assert api.request("POST", "/digitaltwins/d1/commands/x", content=b"{nope").status_code == 400


def test_commands_offline_timeouts_and_bounds(api):
    offline = api.request("POST", "/digitaltwins/d1/commands/reboot", json={})
    assert offline.status_code == 404 and error_code(offline) == "DeviceNotOnline"
    api.hub.method_handlers["d1"] = lambda name, payload: (200, None)
    for value in ("4", "301", "x", str(2**31)):
        bad = api.request("POST", "/digitaltwins/d1/commands/c", json={},
                          params={**V21, "responseTimeoutInSeconds": value})
        assert bad.status_code == 400, value
    assert api.request("POST", "/digitaltwins/d1/commands/c", json={},
                       params={**V21, "connectTimeoutInSeconds": "301"}).status_code == 400
    api.hub.method_latency[("d1", None)] = 20.0
    slow = api.request("POST", "/digitaltwins/d1/commands/c", json={}, params={**V21, "responseTimeoutInSeconds": "10"})
    assert slow.status_code == 504 and error_code(slow) == "GatewayTimeout"
    assert api.request("POST", "/digitaltwins/d1/commands/c", json={},
                       params={**V21, "responseTimeoutInSeconds": "30"}).status_code == 200


def test_docs_strict_takes_the_direct_methods_bounds_for_commands():
    api = ReferenceApi(params=V21, profile=DOCS_STRICT)
    api.devices("d1")
    api.hub.method_handlers["d1"] = lambda name, payload: (200, None)
    assert api.request("POST", "/digitaltwins/d1/commands/c", json={},
                       params={**V21, "responseTimeoutInSeconds": "1"}).status_code == 200
    assert api.request("POST", "/digitaltwins/d1/commands/c", json={},
                       params={**V21, "responseTimeoutInSeconds": "301"}).status_code == 400

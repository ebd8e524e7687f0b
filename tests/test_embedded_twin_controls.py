"""The embedded target's controls for twins and direct methods (targets/controls.py): a module answers its own
methods, a simulated delay makes a method time out, and a simulated device reports properties the service reads."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import modules as module_state
from iothub_conformance.targets.controls import Controls
from iothub_conformance.targets.embedded import EmbeddedControls
from tests.support.reference_api import ReferenceApi, error_code

V21 = {"api-version": "2021-04-12"}
CALL = {"methodName": "ping", "payload": {"n": 1}, "responseTimeoutInSeconds": 10}


@pytest.fixture
def api() -> ReferenceApi:
    made = ReferenceApi(params=V21)
    made.devices("d1", "d2")
    with made.hub.lock:
        made.hub.modules.setdefault("d1", {})["m1"] = module_state.new_module(made.hub, "d1", "m1",
                                                                             module_state.ModuleInput())
    return made


@pytest.fixture
def controls(api) -> Controls:
    return EmbeddedControls(api.hub)


def test_a_module_answers_its_own_methods_and_not_its_devices(api, controls):
    controls.answer_methods("d1", lambda name, payload: (201, {"who": "module", "name": name}), module_id="m1")
    module = api.request("POST", "/twins/d1/modules/m1/methods", json=CALL)
    assert module.status_code == 200 and module.json() == {"status": 201, "payload": {"who": "module", "name": "ping"}}
    device = api.request("POST", "/twins/d1/methods", json=CALL)
    assert device.status_code == 404 and error_code(device) == "DeviceNotOnline"
    assert controls.answering() == []  # modules are not listed as devices online
    controls.stop_answering("d1", module_id="m1")
    assert api.request("POST", "/twins/d1/modules/m1/methods", json=CALL).status_code == 404


def test_a_device_answers_until_it_stops(api, controls):
    controls.answer_methods("d2", lambda name, payload: (200, payload))
    assert controls.answering() == ["d2"]
    assert api.request("POST", "/twins/d2/methods", json=CALL).json() == {"status": 200, "payload": {"n": 1}}
    controls.stop_answering("d2")
    assert controls.answering() == []
    assert api.request("POST", "/twins/d2/methods", json=CALL).status_code == 404


def test_a_delay_longer_than_the_timeout_is_a_504_and_a_shorter_one_answers(api, controls):
    controls.answer_methods("d2", lambda name, payload: (200, None))
    controls.delay_methods("d2", 11)
    slow = api.request("POST", "/twins/d2/methods", json=CALL)
    assert slow.status_code == 504 and error_code(slow) == "GatewayTimeout"
    assert api.request("POST", "/twins/d2/methods", json={**CALL, "responseTimeoutInSeconds": 12}).status_code == 200
    controls.delay_methods("d2", 0)
    assert api.request("POST", "/twins/d2/methods", json=CALL).status_code == 200
    controls.answer_methods("d1", lambda name, payload: (200, None), module_id="m1")
    controls.delay_methods("d1", 30, module_id="m1")
    assert api.request("POST", "/twins/d1/modules/m1/methods", json=CALL).status_code == 504
    assert api.request("POST", "/twins/d2/methods", json=CALL).status_code == 200  # the module's delay only


def test_reported_properties_merge_into_the_twin_and_move_its_reported_version_and_etag(api, controls):
    before = api.request("GET", "/twins/d1").json()
    controls.report_properties("d1", {"temp": 21, "fw": {"v": "1.0"}})
    controls.report_properties("d1", {"temp": None, "fw": {"ok": True}})
    after = api.request("GET", "/twins/d1").json()
    reported = after["properties"]["reported"]
    assert {k: v for k, v in reported.items() if not k.startswith("$")} == {"fw": {"v": "1.0", "ok": True}}
    assert reported["$version"] == before["properties"]["reported"]["$version"] + 2
    assert reported["$metadata"]["fw"]["ok"]["$lastUpdated"].endswith("Z")
    assert after["etag"] != before["etag"] and after["version"] == before["version"]
    controls.report_properties("d1", {"where": "module"}, module_id="m1")
    module = api.request("GET", "/twins/d1/modules/m1").json()["properties"]["reported"]
    assert module["where"] == "module" and "where" not in api.request("GET", "/twins/d1").json()["properties"]["reported"]


def test_reporting_for_no_device_or_a_refused_patch_raises(controls):
    with pytest.raises(LookupError):
        controls.report_properties("nobody", {"a": 1})
    with pytest.raises(LookupError):
        controls.report_properties("d1", {"a": 1}, module_id="absent")
    with pytest.raises(ValueError, match="32768"):
        controls.report_properties("d1", {"big": "x" * 40_000})
    with pytest.raises(ValueError, match="key"):
        controls.report_properties("d1", {"a.b": 1})

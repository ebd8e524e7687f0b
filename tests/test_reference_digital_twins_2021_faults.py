"""Each fault switch of the 2021-04-12 digital twins (reference/faults_2021_digital_twins.py) changes the reference's
behaviour as its description says, and a hub without it does not."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import digital_twins, twin_documents
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, error_code, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

PNP_FAULTS = faults_breaking(*SURFACE_PREFIXES["digital twins 2021"])
V21 = {"api-version": "2021-04-12"}
MODEL = "dtmi:com:example:TemperatureController;1"


def hubs(fault: str) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each with Plug and Play device d1 (answering commands with 201) and d2."""
    pair = ReferenceApi(params=V21), ReferenceApi(fault, params=V21)
    for api in pair:
        api.devices("d1", "d2")
        digital_twins.announce(api.hub, "d1", MODEL)
        api.hub.method_handlers["d1"] = lambda name, payload: (201, {"name": name})
    return pair


def report(api: ReferenceApi, reported: dict) -> None:
    twin_documents.report(api.hub, "d1", None, reported)


def view(api: ReferenceApi) -> dict:
    response = api.request("GET", "/digitaltwins/d1")
    assert response.status_code == 200, response.text
    return response.json()


def patch(api: ReferenceApi, operations, **headers):
    return api.request("PATCH", "/digitaltwins/d1", json=operations, headers=headers)


def desired(api: ReferenceApi) -> dict:
    section = api.request("GET", "/twins/d1").json()["properties"]["desired"]
    return {k: v for k, v in section.items() if not k.startswith("$")}


def command(api: ReferenceApi, path: str = "/digitaltwins/d1/commands/reboot", **params):
    return api.request("POST", path, json={}, params={**V21, **params})


def test_every_digital_twin_fault_has_a_test_here():
    assert len(PNP_FAULTS) == 16
    missing = [name for name in PNP_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def test_fault_pnp_no_dtid():
    good, bad = hubs("pnp-no-dtid")
    assert view(good)["$dtId"] == "d1" and "$dtId" not in view(bad)
    assert view(bad)["$metadata"]["$model"] == MODEL


def test_fault_pnp_unknown_device_200():
    good, bad = hubs("pnp-unknown-device-200")
    assert good.request("GET", "/digitaltwins/ghost").status_code == 404
    assert bad.request("GET", "/digitaltwins/ghost").status_code == 200
    assert patch(bad, []).status_code == 202 and bad.request("PATCH", "/digitaltwins/ghost", json=[]).status_code == 404


def test_fault_pnp_reported_not_at_root():
    good, bad = hubs("pnp-reported-not-at-root")
    for api in (good, bad):
        report(api, {"serialNumber": "s1", "fan": {"value": 1, "ac": 200, "av": 1}})
    assert view(good)["serialNumber"] == "s1" and "serialNumber" not in view(bad)
    assert view(bad)["fan"] == 1  # acknowledged writable properties keep their value


def test_fault_pnp_component_marker_shown():
    good, bad = hubs("pnp-component-marker-shown")
    for api in (good, bad):
        report(api, {"thermostat1": {"__t": "c", "t": 1}})
    assert view(good)["thermostat1"] == {"t": 1, "$metadata": {"t": view(good)["thermostat1"]["$metadata"]["t"]}}
    assert view(bad)["thermostat1"] == {"__t": "c", "t": 1}


def test_fault_pnp_ack_metadata_missing():
    good, bad = hubs("pnp-ack-metadata-missing")
    for api in (good, bad):
        patch(api, [{"op": "add", "path": "/fan", "value": 2}])
        report(api, {"fan": {"value": 2, "ac": 200, "av": 2, "ad": "done"}})
    assert view(good)["$metadata"]["fan"]["ackCode"] == 200
    entry = view(bad)["$metadata"]["fan"]
    assert not {"ackVersion", "ackCode", "ackDescription"} & set(entry) and entry["desiredValue"] == 2


def test_fault_pnp_patch_no_location():
    good, bad = hubs("pnp-patch-no-location")
    operations = [{"op": "add", "path": "/p", "value": 1}]
    assert patch(good, operations).headers["Location"].endswith("/digitaltwins/d1")
    answered = patch(bad, operations)
    assert answered.status_code == 202 and "Location" not in answered.headers and answered.headers["ETag"]


def test_fault_pnp_remove_ignored():
    good, bad = hubs("pnp-remove-ignored")
    for api in (good, bad):
        patch(api, [{"op": "add", "path": "/p", "value": 1}])
        assert patch(api, [{"op": "remove", "path": "/p"}]).status_code == 202
    assert desired(good) == {} and desired(bad) == {"p": 1}


def test_fault_pnp_component_marker_not_required():
    good, bad = hubs("pnp-component-marker-not-required")
    for api in (good, bad):
        report(api, {"thermostat1": {"__t": "c", "t": 1}})
    operations = [{"op": "replace", "path": "/thermostat1", "value": {"target": 5}}]
    assert patch(good, operations).status_code == 400
    assert patch(bad, operations).status_code == 202 and desired(bad)["thermostat1"] == {"__t": "c", "target": 5}


def test_fault_pnp_arrays_accepted():
    good, bad = hubs("pnp-arrays-accepted")
    operations = [{"op": "add", "path": "/list", "value": [1, 2]}]
    assert patch(good, operations).status_code == 400
    assert patch(bad, operations).status_code == 202 and desired(bad) == {"list": [1, 2]}
    assert patch(bad, [{"op": "add", "path": "/1bad", "value": 1}]).status_code == 400  # names still judged


def test_fault_pnp_ignore_if_match():
    good, bad = hubs("pnp-ignore-if-match")
    for api, status in ((good, 412), (bad, 202)):
        assert patch(api, [{"op": "add", "path": "/p", "value": 1}], **{"If-Match": '"stale"'}).status_code == status


def test_fault_pnp_patch_no_etag():
    good, bad = hubs("pnp-patch-no-etag")
    operations = [{"op": "add", "path": "/p", "value": 1}]
    assert patch(good, operations).headers["ETag"]
    answered = patch(bad, operations)
    assert answered.status_code == 202 and "ETag" not in answered.headers
    assert bad.request("GET", "/digitaltwins/d1").headers["ETag"]  # the GET keeps its ETag


def test_fault_pnp_command_status_dropped():
    good, bad = hubs("pnp-command-status-dropped")
    assert command(good).headers["x-ms-command-statuscode"] == "201"
    answered = command(bad)
    assert answered.headers["x-ms-command-statuscode"] == "200" and answered.json() == {"name": "reboot"}


def test_fault_pnp_component_command_bare_name():
    good, bad = hubs("pnp-component-command-bare-name")
    path = "/digitaltwins/d1/components/thermostat1/commands/reboot"
    assert command(good, path).json() == {"name": "thermostat1*reboot"}
    assert command(bad, path).json() == {"name": "reboot"}


def test_fault_pnp_command_offline_504():
    good, bad = hubs("pnp-command-offline-504")
    path = "/digitaltwins/d2/commands/reboot"
    assert error_code(command(good, path)) == "DeviceNotOnline"
    answered = command(bad, path)
    assert answered.status_code == 504 and error_code(answered) == "GatewayTimeout"


def test_fault_pnp_command_timeout_unbounded():
    good, bad = hubs("pnp-command-timeout-unbounded")
    for value in ("1", "301"):
        assert command(good, responseTimeoutInSeconds=value).status_code == 400
        assert command(bad, responseTimeoutInSeconds=value).status_code == 200


def test_fault_pnp_command_no_timeout():
    good, bad = hubs("pnp-command-no-timeout")
    for api in (good, bad):
        api.hub.method_latency[("d1", None)] = 20.0
    assert command(good, responseTimeoutInSeconds="10").status_code == 504
    assert command(bad, responseTimeoutInSeconds="10").status_code == 200

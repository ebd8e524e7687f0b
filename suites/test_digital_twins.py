"""IoT Plug and Play digital twins at api-version 2021-04-12 (docs/sources/service-2021-04-12.json,
DigitalTwin_GetDigitalTwin, DigitalTwin_UpdateDigitalTwin, DigitalTwin_InvokeRootLevelCommand,
DigitalTwin_InvokeComponentCommand; docs/sources/INVENTORY-2021-04-12.md §2.12, §6, §9, §10 C4, C6, C28;
docs/sources/pnp-concepts-digital-twin__2020-07-17_00e046fd.md;
docs/sources/pnp-howto-manage-digital-twin__2020-12-17_354e0e7a.md).
Property tests and a stateful run over specs/2021-04-12/digital-twins.yaml.

The devices are the run's, connected as Plug and Play devices through the target's controls (connect_pnp_device; the
embedded reference simulates them); they report properties (report_properties) and answer commands (answer_methods).
A target without those controls gets skips that say which is missing.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.core.transport import Response

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.entity_tags import ENTITY_TAG
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.devices import path as device_path
from iothub_conformance.surfaces.digital_twins import DigitalTwins, add, remove, replace, twin_path
from iothub_conformance.surfaces.twins import Twins, user_properties
from iothub_conformance.targets import session

pytestmark = pytest.mark.api_version("2021-04-12")
V2021 = "2021-04-12"
MODEL = "dtmi:com:example:TemperatureController;1"  # the pages' sample model
# concepts page: "The timestamps are in UTC and encoded in the ISO8601 format YYYY-MM-DDTHH:MM:SS.mmmZ" (the page's
# own samples carry seven fraction digits, so any number of them is taken).
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def need(controls, name: str, why: str):
    found = getattr(controls, name, None) if controls is not None else None
    if found is None:
        pytest.skip(f"the target offers no control {name!r}: {why} (the embedded reference simulates it)")
    return found


class PnpDevice:
    """A run device connected as a Plug and Play device; records the commands it gets."""

    def __init__(self, target, registry, label: str = "pnp") -> None:
        self.controls = target.controls
        connect = need(self.controls, "connect_pnp_device", "no device of this run can connect as a Plug and Play device")
        self.device_id = registry.make(label)[0]
        connect(self.device_id, MODEL)
        self.calls: list[tuple[str, object]] = []
        self.online = False

    def report(self, reported: dict) -> None:
        need(self.controls, "report_properties", "no device of this run can report properties")(self.device_id, reported)

    def answer(self, status: int = 200, reply: object = None) -> None:
        def handler(name, payload):
            self.calls.append((name, payload))
            return status, {"echo": payload} if reply is None else reply

        need(self.controls, "answer_methods", "no device of this run can answer commands")(self.device_id, handler)
        self.online = True

    def delay(self, seconds: float) -> None:
        need(self.controls, "delay_methods", "no simulated device can be made slow")(self.device_id, seconds)

    def stop(self) -> None:
        if self.online:
            self.controls.stop_answering(self.device_id)


@pytest.fixture
def pnp(target, registry):
    made = PnpDevice(target, registry)
    yield made
    made.stop()


@pytest.fixture
def dt(registry):
    return DigitalTwins(registry)


@pytest.fixture
def twins(registry):
    return Twins(registry)


def desired(twins: Twins, device_id: str, what: str = "") -> dict:
    twin = twins.read(device_id, what=what)
    return user_properties((twin.get("properties") or {}).get("desired"))


def desired_version(twins: Twins, device_id: str) -> object:
    return ((twins.read(device_id).get("properties") or {}).get("desired") or {}).get("$version")


def meta(document: dict, *names: str) -> dict:
    """The $metadata entry of a property: meta(doc, "p") at the root, meta(doc, "c", "p") in component c."""
    holder = document if len(names) == 1 else document.get(names[0])
    entry = ((holder or {}).get("$metadata") or {}).get(names[-1]) if isinstance(holder, dict) else None
    return entry if isinstance(entry, dict) else {}


# -- the view ------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("PNP-GET-001")
def test_the_digital_twin_names_the_device_and_its_model(dt, pnp):
    response = dt.get(pnp.device_id)
    body = json_of(response)
    expect("PNP-GET-001", response.status_code == 200 and isinstance(body, dict), f"GET: {answered(response)}")
    expect("PNP-GET-001", body.get("$dtId") == pnp.device_id, f"$dtId is {body.get('$dtId')!r}, expected "
                                                              f"{pnp.device_id!r}")
    model = (body.get("$metadata") or {}).get("$model") if isinstance(body.get("$metadata"), dict) else None
    expect("PNP-GET-001", model == MODEL, f"$metadata.$model is {model!r}, the device announced {MODEL!r}")


@pytest.mark.requirement("PNP-GET-002")
def test_an_unregistered_device_has_no_digital_twin(dt, pnp, registry):
    dt.read(pnp.device_id, "of a registered device")  # so the 404s below are about the device, not the path
    missing = registry.name("nodt")
    for label, response in (("GET", dt.get(missing)), ("PATCH", dt.patch(missing, [add("/p", 1)])),
                            ("command", dt.command(missing, "reboot", {})),
                            ("component command", dt.command(missing, "reboot", {}, component="c1"))):
        expect("PNP-GET-002", response.status_code == 404, f"{label} of an unregistered device: {answered(response)}, "
                                                           "expected 404")
        code = response.headers.get("iothub-errorcode")
        expect("PNP-GET-002", code == "DeviceNotFound", f"{label}: 404 names {code!r}, expected DeviceNotFound")


@pytest.mark.requirement("PNP-PROP-001")
def test_a_reported_read_only_property_is_a_root_property(dt, pnp):
    pnp.report({"serialNumber": "conformance-42"})
    body, _ = dt.read(pnp.device_id)
    expect("PNP-PROP-001", body.get("serialNumber") == "conformance-42",
           f"the root serialNumber is {body.get('serialNumber')!r}, the device reported 'conformance-42'")
    stamp = meta(body, "serialNumber").get("lastUpdateTime")
    expect("PNP-PROP-001", isinstance(stamp, str) and STAMP.match(stamp),
           f"$metadata.serialNumber.lastUpdateTime is {stamp!r}, not a UTC ISO 8601 time")


@pytest.mark.requirement("PNP-COMPONENT-001")
def test_a_component_is_an_object_with_its_own_metadata(dt, pnp):
    pnp.report({"thermostat1": {"__t": "c", "maxTempSinceLastReboot": 25.3}})
    body, _ = dt.read(pnp.device_id)
    component = body.get("thermostat1")
    expect("PNP-COMPONENT-001", isinstance(component, dict), f"thermostat1 is {component!r}, expected an object")
    expect("PNP-COMPONENT-001", component.get("maxTempSinceLastReboot") == 25.3,
           f"thermostat1.maxTempSinceLastReboot is {component.get('maxTempSinceLastReboot')!r}, reported 25.3")
    expect("PNP-COMPONENT-001", isinstance(component.get("$metadata"), dict),
           f"thermostat1 has no $metadata object: {component!r}")
    expect("PNP-COMPONENT-001", "__t" not in component, f"thermostat1 keeps the device twin's marker: {component!r}")
    stamp = meta(body, "thermostat1", "maxTempSinceLastReboot").get("lastUpdateTime")
    expect("PNP-COMPONENT-001", isinstance(stamp, str) and STAMP.match(stamp),
           f"thermostat1.$metadata.maxTempSinceLastReboot.lastUpdateTime is {stamp!r}")


@pytest.mark.requirement("PNP-WRITABLE-001")
def test_an_acknowledged_writable_property_shows_its_synchronization_state(dt, twins, pnp):
    dt.patched(pnp.device_id, [add("/fanSpeed", 2.0)], "to set a desired fanSpeed")
    version = desired_version(twins, pnp.device_id)
    if not isinstance(version, int):
        raise PreconditionFailed(f"the device twin's desired $version is {version!r}")
    pnp.report({"fanSpeed": {"value": 3.0, "ac": 200, "av": version, "ad": "Successfully executed patch"}})
    body, _ = dt.read(pnp.device_id)
    expect("PNP-WRITABLE-001", body.get("fanSpeed") == 3.0, f"fanSpeed is {body.get('fanSpeed')!r}, reported 3.0")
    entry = meta(body, "fanSpeed")
    wanted = {"desiredValue": 2.0, "desiredVersion": version, "ackVersion": version, "ackCode": 200,
              "ackDescription": "Successfully executed patch"}
    wrong = {k: entry.get(k) for k, v in wanted.items() if entry.get(k) != v}
    expect("PNP-WRITABLE-001", not wrong, f"$metadata.fanSpeed differs from {wanted}: {wrong}")
    stamp = entry.get("lastUpdateTime")
    expect("PNP-WRITABLE-001", isinstance(stamp, str) and STAMP.match(stamp),
           f"$metadata.fanSpeed.lastUpdateTime is {stamp!r}")


# -- updates -------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("PNP-PATCH-001")
def test_add_and_replace_set_desired_values(dt, twins, pnp):
    pnp.report({"thermostat1": {"__t": "c", "maxTempSinceLastReboot": 25.3}})
    response = dt.patch(pnp.device_id, [add("/fanSpeed", 2.0), add("/thermostat1/targetTemperature", 21.4)])
    expect("PNP-PATCH-001", response.status_code == 202, f"PATCH: {answered(response)}, expected 202")
    location = response.headers.get("Location", "")
    expect("PNP-PATCH-001", location.endswith(twin_path(pnp.device_id)),
           f"Location is {location!r}, expected the digital twin's URI (…{twin_path(pnp.device_id)})")
    dt.patched(pnp.device_id, [replace("/fanSpeed", 4.0)], "with a replace")
    held = desired(twins, pnp.device_id, "after the patches")
    expect("PNP-PATCH-001", held.get("fanSpeed") == 4.0, f"the device twin's desired fanSpeed is "
                                                          f"{held.get('fanSpeed')!r}, expected 4.0")
    component = held.get("thermostat1")
    expect("PNP-PATCH-001", isinstance(component, dict) and component.get("__t") == "c"
           and component.get("targetTemperature") == 21.4,
           f"the device twin's desired thermostat1 is {component!r}, expected a component holding targetTemperature")
    version = desired_version(twins, pnp.device_id)
    body, _ = dt.read(pnp.device_id)
    for names, value in ((("fanSpeed",), 4.0), (("thermostat1", "targetTemperature"), 21.4)):
        entry = meta(body, *names)
        expect("PNP-PATCH-001", entry.get("desiredValue") == value,
               f"{'.'.join(names)}: desiredValue is {entry.get('desiredValue')!r}, expected {value}")
    expect("PNP-PATCH-001", meta(body, "fanSpeed").get("desiredVersion") == version,
           f"fanSpeed's desiredVersion is {meta(body, 'fanSpeed').get('desiredVersion')!r}, the desired $version "
           f"{version!r}")


@pytest.mark.requirement("PNP-PATCH-002")
def test_remove_clears_a_desired_value(dt, twins, pnp):
    dt.patched(pnp.device_id, [add("/fanSpeed", 2.0), add("/thermostat1/targetTemperature", 21.4)], "to set values")
    response = dt.patch(pnp.device_id, [remove("/fanSpeed"), remove("/thermostat1/targetTemperature")])
    expect("PNP-PATCH-002", response.status_code == 202, f"PATCH remove: {answered(response)}, expected 202")
    held = desired(twins, pnp.device_id, "after the remove")
    expect("PNP-PATCH-002", "fanSpeed" not in held, f"the device twin still desires fanSpeed: {held!r}")
    inner = held.get("thermostat1") if isinstance(held.get("thermostat1"), dict) else {}
    expect("PNP-PATCH-002", "targetTemperature" not in inner, f"the device twin still desires "
                                                              f"thermostat1.targetTemperature: {held!r}")
    body, _ = dt.read(pnp.device_id)
    for names in (("fanSpeed",), ("thermostat1", "targetTemperature")):
        expect("PNP-PATCH-002", "desiredValue" not in meta(body, *names),
               f"{'.'.join(names)} still shows a desiredValue: {meta(body, *names)!r}")


@pytest.mark.requirement("PNP-PATCH-003")
def test_a_component_write_needs_its_metadata_marker_and_replaces_the_desired_values(dt, twins, pnp):
    pnp.report({"thermostat1": {"__t": "c", "maxTempSinceLastReboot": 25.3}})
    dt.patched(pnp.device_id, [add("/thermostat1/targetTemperature", 21.4), add("/thermostat1/other", 42)],
               "to set two desired values")
    before = desired(twins, pnp.device_id, "before the unmarked write")
    response = dt.patch(pnp.device_id, [replace("/thermostat1", {"targetTemperature": 20.0})])
    expect("PNP-PATCH-003", response.status_code == 400, f"a component replace without $metadata: "
                                                         f"{answered(response)}, expected 400")
    after = desired(twins, pnp.device_id, "after the unmarked write")
    expect("PNP-PATCH-003", after == before, f"the refused write changed the desired properties to {after!r}")
    response = dt.patch(pnp.device_id, [replace("/thermostat1", {"targetTemperature": 20.0, "$metadata": {}})])
    expect("PNP-PATCH-003", response.status_code == 202, f"a component replace with $metadata: {answered(response)}, "
                                                         "expected 202")
    component = desired(twins, pnp.device_id, "after the marked write").get("thermostat1")
    expect("PNP-PATCH-003", isinstance(component, dict) and component.get("targetTemperature") == 20.0,
           f"the component's desired targetTemperature is not 20.0: {component!r}")
    expect("PNP-PATCH-003", isinstance(component, dict) and "other" not in component,
           f"the replace kept the desired value of 'other', which it did not provide: {component!r}")


@pytest.mark.requirement("PNP-PATCH-004")
def test_names_arrays_and_depth_outside_the_rules_are_400_and_change_nothing(dt, twins, pnp):
    dt.patched(pnp.device_id, [add("/shallow", {"a": {"b": 1}})], "with a value two levels deep")
    before = desired(twins, pnp.device_id, "before the refused patches")
    deep: object = 1
    for level in range(8):
        deep = {f"l{level}": deep}
    for label, operation in (("a name starting with a digit", add("/1abc", 1)),
                             ("a name ending with an underscore", add("/abc_", 1)),
                             ("a name of 65 characters", add("/" + "a" * 65, 1)),
                             ("a field name with a hyphen", add("/okName", {"bad-name": 1})),
                             ("an array value", add("/list", [1, 2])),
                             ("an array inside an object", add("/holder", {"items": [1]})),
                             ("an object eight levels deep", add("/deep", deep))):
        response = dt.patch(pnp.device_id, [operation])
        expect("PNP-PATCH-004", response.status_code == 400, f"a patch with {label}: {answered(response)}, "
                                                             "expected 400")
    after = desired(twins, pnp.device_id, "after the refused patches")
    expect("PNP-PATCH-004", after == before, f"the refused patches changed the desired properties to {after!r}")


@pytest.mark.requirement("PNP-COND-001")
def test_if_match_the_last_etag_applies_and_an_earlier_one_is_412(dt, twins, pnp):
    _, first = dt.read(pnp.device_id)
    stale = first.headers.get("ETag")
    if not stale:
        raise PreconditionFailed(f"the digital twin answered no ETag to send back: {answered(first)}")
    dt.patched(pnp.device_id, [add("/fanSpeed", 1.0)], "to move the ETag")
    _, current = dt.read(pnp.device_id, "after the patch")
    response = dt.patch(pnp.device_id, [add("/fanSpeed", 2.0)], if_match=current.headers.get("ETag"))
    expect("PNP-COND-001", response.status_code == 202, f"PATCH with If-Match {current.headers.get('ETag')} (the "
                                                        f"last ETag): {answered(response)}, expected 202")
    before = desired(twins, pnp.device_id, "before the stale patch")
    response = dt.patch(pnp.device_id, [add("/fanSpeed", 3.0)], if_match=stale)
    expect("PNP-COND-001", response.status_code == 412, f"PATCH with an earlier ETag {stale} in If-Match: "
                                                        f"{answered(response)}, expected 412")
    after = desired(twins, pnp.device_id, "after the stale patch")
    expect("PNP-COND-001", after == before and after.get("fanSpeed") == 2.0,
           f"the refused patch changed the desired properties: {before!r} → {after!r}")


@pytest.mark.requirement("PNP-ETAG-001")
def test_the_etag_header_is_an_entity_tag_that_moves_with_patches(dt, pnp, profile):
    form = profile["digital_twin_etag"].value
    _, first = dt.read(pnp.device_id)
    _, again = dt.read(pnp.device_id, "again")
    tag = first.headers.get("ETag")
    expect("PNP-ETAG-001", isinstance(tag, str) and re.fullmatch(ENTITY_TAG, tag),
           f"the GET's ETag header {tag!r} is not an RFC 7232 entity-tag")
    if form == "weak":
        expect("PNP-ETAG-001", tag.startswith("W/"), f"the ETag {tag!r} is not weak (profile: W/\"…\")")
    expect("PNP-ETAG-001", again.headers.get("ETag") == tag, f"a read moved the ETag: {tag} → "
                                                             f"{again.headers.get('ETag')}")
    patched = dt.patched(pnp.device_id, [add("/fanSpeed", 5.0)])
    moved = patched.headers.get("ETag")
    expect("PNP-ETAG-001", isinstance(moved, str) and re.fullmatch(ENTITY_TAG, moved) and moved != tag,
           f"the PATCH's ETag header is {moved!r}, expected a new entity-tag (before: {tag})")
    _, after = dt.read(pnp.device_id, "after the patch")
    expect("PNP-ETAG-001", after.headers.get("ETag") == moved,
           f"the PATCH answered ETag {moved!r}, the next GET {after.headers.get('ETag')!r}")


# -- commands ------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("PNP-CMD-001")
def test_a_root_command_reaches_the_device_and_its_answer_comes_back(dt, pnp):
    pnp.answer(201, {"done": True, "n": 7})
    response = dt.command(pnp.device_id, "reboot", {"delay": 3}, responseTimeoutInSeconds=10)
    expect("PNP-CMD-001", response.status_code == 200, f"the command: {answered(response)}, expected 200")
    expect("PNP-CMD-001", json_of(response) == {"done": True, "n": 7},
           f"the body is {json_of(response)!r}, the device answered {{'done': True, 'n': 7}}")
    status = response.headers.get("x-ms-command-statuscode")
    expect("PNP-CMD-001", status == "201", f"x-ms-command-statuscode is {status!r}, the device answered 201")
    expect("PNP-CMD-001", bool(response.headers.get("x-ms-request-id")), "the answer carries no x-ms-request-id")
    expect("PNP-CMD-001", pnp.calls == [("reboot", {"delay": 3})],
           f"the device got {pnp.calls!r}, expected one method 'reboot' with payload {{'delay': 3}}")


@pytest.mark.requirement("PNP-CMD-002")
def test_a_component_command_reaches_the_device_as_component_star_command(dt, pnp):
    pnp.answer(202, {"who": "thermostat1"})
    response = dt.command(pnp.device_id, "getMaxMinReport", {"since": "2020-01-01"}, component="thermostat1")
    expect("PNP-CMD-002", response.status_code == 200, f"the component command: {answered(response)}, expected 200")
    expect("PNP-CMD-002", json_of(response) == {"who": "thermostat1"}, f"the body is {json_of(response)!r}")
    status = response.headers.get("x-ms-command-statuscode")
    expect("PNP-CMD-002", status == "202", f"x-ms-command-statuscode is {status!r}, the device answered 202")
    expect("PNP-CMD-002", pnp.calls == [("thermostat1*getMaxMinReport", {"since": "2020-01-01"})],
           f"the device got {pnp.calls!r}, expected the method 'thermostat1*getMaxMinReport'")


@pytest.mark.requirement("PNP-CMD-003")
def test_a_command_for_a_device_not_online_is_404(dt, pnp, profile_rule):
    status, code = profile_rule("method_offline")
    for label, response in (("root command", dt.command(pnp.device_id, "reboot", {})),
                            ("component command", dt.command(pnp.device_id, "reboot", {}, component="c1"))):
        expect("PNP-CMD-003", response.status_code == status, f"the {label} of a device not online: "
                                                              f"{answered(response)}, expected {status}")
        named = response.headers.get("iothub-errorcode")
        expect("PNP-CMD-003", code is None or named == code, f"the {label}'s {status} names {named!r}, expected "
                                                             f"{code}")


@pytest.mark.requirement("PNP-CMD-004")
def test_a_response_timeout_outside_the_profiles_bounds_is_400(dt, pnp, profile_rule):
    least, most = profile_rule("pnp_command_timeout_bounds")
    pnp.answer()
    inside = dt.command(pnp.device_id, "ping", {}, responseTimeoutInSeconds=most)
    if inside.status_code != 200:
        raise PreconditionFailed(f"a command with responseTimeoutInSeconds={most} was not served: {answered(inside)}")
    calls = len(pnp.calls)
    for value in [most + 1, *([least - 1] if least else [])]:
        for component in (None, "c1"):
            response = dt.command(pnp.device_id, "ping", {}, component, responseTimeoutInSeconds=value)
            expect("PNP-CMD-004", response.status_code == 400,
                   f"responseTimeoutInSeconds={value}{' (component)' if component else ''}: {answered(response)}, "
                   f"expected 400 (profile: {least} to {most})")
    expect("PNP-CMD-004", len(pnp.calls) == calls, f"the device was called with a refused timeout: {pnp.calls[calls:]}")


@pytest.mark.requirement("PNP-CMD-005")
def test_a_device_slower_than_the_response_timeout_makes_it_504(dt, pnp):
    pnp.answer()
    pnp.delay(20)
    for component in (None, "thermostat1"):
        response = dt.command(pnp.device_id, "slow", {}, component, responseTimeoutInSeconds=10)
        expect("PNP-CMD-005", response.status_code == 504,
               f"a command the device answers in 20 s with responseTimeoutInSeconds=10: {answered(response)}, "
               "expected 504")
        named = response.headers.get("iothub-errorcode")
        expect("PNP-CMD-005", named == "GatewayTimeout", f"the 504 names {named!r}, expected GatewayTimeout")


# -- the whole life of a Plug and Play device ----------------------------------------------------------------------


@pytest.mark.requirement("PNP-GET-001", "PNP-GET-002", "PNP-PATCH-001", "PNP-CMD-001")
def test_a_plug_and_play_device_from_registration_to_deletion(dt, twins, target, registry):
    """register → connect with a model id → GET shows $model → PATCH a property → GET shows the desired value and the
    device twin's desired property → command → delete (then the digital twin is gone)."""
    device = PnpDevice(target, registry, "pnplife")
    try:
        body, _ = dt.read(device.device_id)
        expect("PNP-GET-001", (body.get("$metadata") or {}).get("$model") == MODEL,
               f"$metadata.$model is {(body.get('$metadata') or {}).get('$model')!r}")
        response = dt.patch(device.device_id, [add("/targetTemperature", 22.5)])
        expect("PNP-PATCH-001", response.status_code == 202, f"PATCH: {answered(response)}, expected 202")
        body, _ = dt.read(device.device_id, "after the patch")
        expect("PNP-PATCH-001", meta(body, "targetTemperature").get("desiredValue") == 22.5,
               f"targetTemperature's $metadata is {meta(body, 'targetTemperature')!r}, expected desiredValue 22.5")
        held = desired(twins, device.device_id)
        expect("PNP-PATCH-001", held.get("targetTemperature") == 22.5, f"the device twin desires {held!r}")
        device.answer(200, {"ok": True})
        answer = dt.command(device.device_id, "reboot", {"now": True})
        expect("PNP-CMD-001", answer.status_code == 200 and json_of(answer) == {"ok": True},
               f"the command: {answered(answer)}")
    finally:
        device.stop()
    deleted = registry.delete(device.device_id)
    if deleted.status_code not in (200, 204):
        raise PreconditionFailed(f"could not delete {device.device_id}: {answered(deleted)}")
    gone = dt.get(device.device_id)
    expect("PNP-GET-002", gone.status_code == 404,
           f"the digital twin of the deleted device: {answered(gone)}, expected 404")


# -- generated requests (schemathesis) over specs/2021-04-12/digital-twins.yaml -----------------------------------

schema = openapi.load("digital-twins", V2021)
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.fixture(scope="module")
def generated_pnp(target, client):
    """A Plug and Play device for the generated requests, answering commands where the target can simulate it."""
    from iothub_conformance.surfaces.devices import Registry

    registry = Registry(client, V2021, target.name_prefix)
    device_id, _ = registry.make("prop-pnp")
    connect = getattr(target.controls, "connect_pnp_device", None)
    answer = getattr(target.controls, "answer_methods", None)
    if connect is not None:
        connect(device_id, MODEL)
    if answer is not None:
        answer(device_id, lambda name, payload: (200, {"name": name}))
    yield device_id
    if answer is not None:
        target.controls.stop_answering(device_id)
    registry.cleanup()


def own_request(case, device_id: str, bounds: tuple | None) -> None:
    """The run's device, timeouts within the profile's bounds (the bounds are judged above), no If-Match (a generated
    one is stale: PNP-COND-001 judges that)."""
    case.path_parameters["id"] = quote(device_id, safe="")
    query = case.query or {}
    least, most = bounds or (5, 300)
    for name, low in (("responseTimeoutInSeconds", least or 0), ("connectTimeoutInSeconds", 0)):
        value = query.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            query[name] = min(max(value, low), most)
    if case.headers:
        case.headers.pop("If-Match", None)


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_digital_twin_requests_conform_to_the_spec_and_checks(case, generated_pnp, profile, client):
    own_request(case, generated_pnp, profile.value("pnp_command_timeout_bounds"))
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")


class DigitalTwinLinks(schema.as_state_machine()):  # type: ignore[misc]
    """GET → PATCH → GET → command, following the spec's links, on a Plug and Play device made in setup."""

    scenarios = 0

    def setup(self):
        type(self).scenarios += 1
        target = session.current()
        self.device_id = f"{target.name_prefix}s21-pnp{self.scenarios}"
        made = session.client().put(device_path(self.device_id), params={"api-version": V2021},
                                    json={"deviceId": self.device_id})
        if made.status_code not in (200, 201):
            raise PreconditionFailed(f"could not create {self.device_id}: {answered(made)}")
        connect = getattr(target.controls, "connect_pnp_device", None)
        if connect is not None:
            connect(self.device_id, MODEL)
        answer = getattr(target.controls, "answer_methods", None)
        if answer is not None:
            answer(self.device_id, lambda name, payload: (200, None))

    def teardown(self):
        controls = session.current().controls
        if getattr(controls, "stop_answering", None) is not None:
            controls.stop_answering(self.device_id)
        session.client().delete(device_path(self.device_id), params={"api-version": V2021}, headers={"If-Match": "*"})

    def call(self, case, **kwargs):
        own_request(case, self.device_id, session.current().profile.value("pnp_command_timeout_bounds"))
        return Response.from_any(cases.send(session.client(), case))

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        conforms(case, response, "COMMON-SPEC-001", additional_checks=additional_checks, transport_kwargs=kwargs or None)


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
def test_linked_digital_twin_requests_conform(target):
    DigitalTwinLinks.run(settings=settings(SETTINGS, max_examples=max(2, openapi.max_examples() // 3),
                                           stateful_step_count=5))


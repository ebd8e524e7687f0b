"""Module identities at api-version 2021-04-12 (docs/sources/service-2021-04-12.json, Modules_*;
docs/sources/INVENTORY-2021-04-12.md §2.3, §6, §7.2; docs/sources/iot-hub-devguide-module-twins__2020-06-29_ccf574a5.md).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces.modules import Modules

pytestmark = pytest.mark.api_version("2021-04-12")


@pytest.fixture
def modules(registry):
    return Modules(registry)


@pytest.fixture
def device_id(registry):
    return registry.make("mod")[0]


@pytest.mark.requirement("MODULE-CREATE-001")
def test_create_answers_the_profile_status_and_the_module(modules, device_id, profile_rule):
    allowed = sorted(profile_rule("module_create_statuses_2021"))
    response = modules.put(device_id, "edge", {"moduleId": "edge", "deviceId": device_id, "managedBy": "IotEdge"})
    body = json_of(response)
    expect("MODULE-CREATE-001", response.status_code in allowed, f"module create: {answered(response)}; allowed {allowed}")
    expect("MODULE-CREATE-001", isinstance(body, dict), f"module create answered {str(body)[:200]}")
    got = (body.get("moduleId"), body.get("deviceId"), body.get("managedBy"))
    expect("MODULE-CREATE-001", got == ("edge", device_id, "IotEdge"),
           f"module create answered moduleId, deviceId, managedBy {got}")
    missing = [name for name in ("generationId", "etag") if not body.get(name)]
    expect("MODULE-CREATE-001", not missing, f"the created module lacks {missing}")


@pytest.mark.requirement("MODULE-CREATE-002")
def test_create_without_keys_generates_two(modules, device_id):
    keys = (json_of(modules.make(device_id, "keys")).get("authentication") or {}).get("symmetricKey") or {}
    expect("MODULE-CREATE-002", keys.get("primaryKey") and keys.get("secondaryKey"), f"no generated keys: {keys}")
    expect("MODULE-CREATE-002", keys["primaryKey"] != keys["secondaryKey"], "the two generated keys are the same")


@pytest.mark.requirement("MODULE-GET-001")
def test_get_answers_what_was_stored(modules, device_id):
    created = json_of(modules.make(device_id, "stored", managedBy="conformance"))
    response = modules.get(device_id, "stored")
    body = json_of(response)
    expect("MODULE-GET-001", response.status_code == 200 and isinstance(body, dict), f"GET: {answered(response)}")
    names = ("moduleId", "deviceId", "generationId", "managedBy")
    got, stored = tuple(body.get(n) for n in names), tuple(created.get(n) for n in names)
    expect("MODULE-GET-001", got == stored and got[3] == "conformance", f"GET answered {got}, stored {stored}")


@pytest.mark.requirement("MODULE-GET-002")
def test_a_missing_module_is_404_module_not_found(modules, registry, device_id):
    modules.make(device_id, "present")
    modules.read(device_id, "present")
    response = modules.get(device_id, "absent")
    expect("MODULE-GET-002", response.status_code == 404, f"GET of a missing module: {answered(response)}")
    code = response.headers.get("iothub-errorcode")
    expect("MODULE-GET-002", code == "ModuleNotFound", f"404 names {code!r}, expected ModuleNotFound")
    orphan = modules.get(registry.name("nodevice"), "absent")
    expect("MODULE-GET-002", orphan.status_code == 404 and orphan.headers.get("iothub-errorcode") == "DeviceNotFound",
           f"GET of a module of a missing device: {answered(orphan)}, expected 404 DeviceNotFound")


@pytest.mark.requirement("MODULE-LIST-001")
def test_list_answers_exactly_the_devices_modules(modules, device_id):
    for name in ("one", "two"):
        modules.make(device_id, name)
    response = modules.list(device_id)
    body = json_of(response)
    expect("MODULE-LIST-001", response.status_code == 200 and isinstance(body, list), f"list: {answered(response)}")
    listed = sorted(m.get("moduleId") for m in body if isinstance(m, dict))
    expect("MODULE-LIST-001", listed == ["one", "two"], f"the list names {listed}, expected ['one', 'two']")


@pytest.mark.requirement("MODULE-UPDATE-001")
def test_update_applies_and_keeps_the_ids(modules, device_id):
    created = json_of(modules.make(device_id, "upd", managedBy="before"))
    response = modules.put(device_id, "upd", {"moduleId": "upd", "deviceId": device_id, "managedBy": "after",
                                              "generationId": "client-made"}, if_match=f'"{created.get("etag")}"')
    body = json_of(response)
    expect("MODULE-UPDATE-001", response.status_code == 200 and isinstance(body, dict), f"update: {answered(response)}")
    expect("MODULE-UPDATE-001", body.get("managedBy") == "after", f"update answered managedBy {body.get('managedBy')!r}")
    expect("MODULE-UPDATE-001", body.get("etag") != created.get("etag"), f"the update kept etag {body.get('etag')!r}")
    stored = modules.read(device_id, "upd", "after the update")
    for field in ("moduleId", "generationId"):
        expect("MODULE-UPDATE-001", body.get(field) == stored.get(field) == created.get(field),
               f"{field} {created.get(field)!r} became {body.get(field)!r} / {stored.get(field)!r}")


@pytest.mark.requirement("MODULE-COND-001")
def test_a_stale_if_match_is_refused_and_the_current_one_proceeds(modules, device_id):
    created = json_of(modules.make(device_id, "cond", managedBy="kept"))
    put = modules.put(device_id, "cond", {"moduleId": "cond", "managedBy": "changed"}, if_match='"stale-etag"')
    expect("MODULE-COND-001", put.status_code == 412, f"PUT with a stale If-Match: {answered(put)}")
    delete = modules.delete(device_id, "cond", if_match='"stale-etag"')
    expect("MODULE-COND-001", delete.status_code == 412, f"DELETE with a stale If-Match: {answered(delete)}")
    after = modules.read(device_id, "cond", "after the refused writes")
    expect("MODULE-COND-001", (after.get("managedBy"), after.get("etag")) == ("kept", created.get("etag")),
           f"the refused writes changed the module: {after.get('managedBy')!r}, etag {after.get('etag')!r}")
    current = modules.put(device_id, "cond", {"moduleId": "cond", "managedBy": "changed"},
                          if_match=f'"{after.get("etag")}"')
    expect("MODULE-COND-001", current.status_code == 200, f"PUT with the current If-Match: {answered(current)}")


@pytest.mark.requirement("MODULE-DELETE-001")
def test_delete_removes_the_module(modules, device_id):
    modules.make(device_id, "gone")
    response = modules.delete(device_id, "gone", if_match="*")
    expect("MODULE-DELETE-001", response.status_code == 204, f"DELETE with If-Match *: {answered(response)}")
    after = modules.get(device_id, "gone")
    expect("MODULE-DELETE-001", after.status_code == 404 and after.headers.get("iothub-errorcode") == "ModuleNotFound",
           f"the deleted module reads {answered(after)}, expected 404 ModuleNotFound")


@pytest.mark.requirement("MODULE-LIMIT-001")
def test_a_device_holds_at_most_50_modules(modules, device_id):
    for n in range(50):
        modules.make(device_id, f"m{n:02d}")
    response = modules.put(device_id, "m50")
    expect("MODULE-LIMIT-001", response.status_code == 413, f"the 51st module: {answered(response)}, expected 413")
    code = response.headers.get("iothub-errorcode")
    expect("MODULE-LIMIT-001", code == "TooManyModulesOnDevice", f"413 names {code!r}, expected TooManyModulesOnDevice")
    expect("MODULE-LIMIT-001", modules.get(device_id, "m50").status_code == 404, "the refused 51st module was stored")


@pytest.mark.requirement("MODULE-SAS-001")
def test_a_module_token_does_not_read_the_registry(modules, device_id, target):
    created = json_of(modules.make(device_id, "sas"))
    key = ((created.get("authentication") or {}).get("symmetricKey") or {}).get("primaryKey")
    if not key:
        raise PreconditionFailed(f"module sas of {device_id} has no key to sign a module-scoped token with")
    token = modules.token(target.connection.host_name, device_id, "sas", key)
    response = modules.get(device_id, "sas", headers={"Authorization": token})
    expect("MODULE-SAS-001", response.status_code == 401,
           f"GET of the module with its own module-scoped token: {answered(response)}, expected 401")

"""Devices and statistics at api-version 2021-04-12 (docs/sources/service-2021-04-12.json, Devices_*, Statistics_*;
docs/sources/INVENTORY-2021-04-12.md §2.1, §6, §10).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.checks.etag import opaque
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, require_object
from iothub_conformance.surfaces.modules import Modules

pytestmark = pytest.mark.api_version("2021-04-12")


def etag_of(response, what: str) -> str:
    """The device's ETag header, else its body etag quoted (the form the SDKs send back, INVENTORY-2021-04-12.md §6)."""
    header = response.headers.get("ETag")
    body = json_of(response)
    if header:
        return header
    if isinstance(body, dict) and body.get("etag"):
        return f'"{body["etag"]}"'
    raise PreconditionFailed(f"no ETag to send back {what}: {answered(response)}")


@pytest.mark.requirement("DEVICE-CREATE-001")
def test_create_answers_the_profile_status_and_the_identity(registry, profile_rule):
    allowed = sorted(profile_rule("device_create_statuses_2021"))
    device_id, response = registry.create("create21")
    body = json_of(response)
    expect("DEVICE-CREATE-001", response.status_code in allowed, f"create: {answered(response)}; allowed {allowed}")
    expect("DEVICE-CREATE-001", isinstance(body, dict) and body.get("deviceId") == device_id,
           f"create of {device_id} answered {str(body)[:200]}")
    missing = [name for name in ("generationId", "etag") if not body.get(name)]
    expect("DEVICE-CREATE-001", not missing, f"the created identity lacks {missing}")
    kind = (body.get("authentication") or {}).get("type")
    expect("DEVICE-CREATE-001", kind in ("sas", "selfSigned", "certificateAuthority", "none"),
           f"authentication.type is {kind!r}")


@pytest.mark.requirement("DEVICE-CREATE-002")
def test_create_without_keys_generates_two(registry):
    _, response = registry.make("keys21")
    auth = json_of(response).get("authentication") or {}
    keys = auth.get("symmetricKey") or {}
    expect("DEVICE-CREATE-002", keys.get("primaryKey") and keys.get("secondaryKey"), f"no generated keys: {auth}")
    expect("DEVICE-CREATE-002", keys["primaryKey"] != keys["secondaryKey"], "the two generated keys are the same")
    expect("DEVICE-CREATE-002", auth.get("type") == "sas", f"authentication.type is {auth.get('type')!r}, not sas")


@pytest.mark.requirement("DEVICE-GET-001")
def test_get_answers_what_was_stored(registry, profile_rule):
    fields = profile_rule("identity_field_names_2021")
    device_id, created = registry.make("get21", status="disabled", statusReason="conformance",
                                       capabilities={"iotEdge": True})
    response = registry.get(device_id)
    body = json_of(response)
    expect("DEVICE-GET-001", response.status_code == 200 and isinstance(body, dict), f"GET: {answered(response)}")
    got = (body.get("status"), body.get("statusReason"), (body.get("capabilities") or {}).get("iotEdge"))
    expect("DEVICE-GET-001", got == ("disabled", "conformance", True),
           f"GET answered status, statusReason, capabilities.iotEdge {got}; stored ('disabled', 'conformance', True)")
    expect("DEVICE-GET-001", body.get("generationId") == json_of(created).get("generationId"),
           f"GET answered generationId {body.get('generationId')!r}, the create {json_of(created).get('generationId')!r}")
    absent = [name for name in fields if name not in body]
    expect("DEVICE-GET-001", not absent, f"the identity lacks the fields {absent}")


@pytest.mark.requirement("DEVICE-GET-002")
def test_get_of_a_missing_device_is_404_device_not_found(registry):
    present, _ = registry.make("present21")
    registry.read(present)  # a registry that serves a present device: its 404 for a missing one is evidence
    response = registry.get(registry.name("missing21"))
    expect("DEVICE-GET-002", response.status_code == 404, f"GET of a missing device: {answered(response)}")
    code = response.headers.get("iothub-errorcode")
    expect("DEVICE-GET-002", code == "DeviceNotFound", f"404 names error code {code!r}, expected DeviceNotFound")


@pytest.mark.requirement("DEVICE-UPDATE-001")
def test_update_applies_and_keeps_the_generation_id(registry):
    device_id, created = registry.make("update21")
    generation = json_of(created).get("generationId")
    response = registry.put(device_id, {"deviceId": device_id, "status": "disabled", "generationId": "client-made"},
                            if_match=etag_of(created, "for the update"))
    body = json_of(response)
    expect("DEVICE-UPDATE-001", response.status_code == 200 and isinstance(body, dict), f"update: {answered(response)}")
    expect("DEVICE-UPDATE-001", body.get("status") == "disabled", f"update answered status {body.get('status')!r}")
    stored = json_of(registry.read(device_id, "after the update"))
    expect("DEVICE-UPDATE-001", body.get("generationId") == stored.get("generationId") == generation,
           f"generationId {generation!r} became {body.get('generationId')!r} / {stored.get('generationId')!r}")


@pytest.mark.requirement("DEVICE-ETAG-001")
def test_device_responses_carry_the_quoted_body_etag(registry, profile_rule):
    profile_rule("device_etag_header_2021")
    device_id, created = registry.make("etag21")
    for label, response in (("PUT", created), ("GET", registry.read(device_id))):
        header, body = response.headers.get("ETag"), json_of(response)
        expect("DEVICE-ETAG-001", header is not None, f"{label} {answered(response)} has no ETag header")
        expect("DEVICE-ETAG-001", header == f'"{body.get("etag")}"',
               f"{label}: ETag header {header!r} is not the body etag {body.get('etag')!r} quoted")


@pytest.mark.requirement("DEVICE-ETAG-002")
def test_every_write_gives_a_new_etag(registry):
    device_id, created = registry.make("etagw21")
    seen = [json_of(created).get("etag")]
    for reason in ("first", "second"):
        response = registry.put(device_id, {"deviceId": device_id, "statusReason": reason}, if_match="*")
        require_object(response, f"could not update {device_id}", field="etag")
        etag = json_of(response)["etag"]
        expect("DEVICE-ETAG-002", etag not in seen, f"PUT {device_id} answered 200 with an etag it had: {etag!r}")
        seen.append(etag)


@pytest.mark.requirement("DEVICE-COND-001")
def test_a_stale_if_match_is_refused_and_the_current_one_proceeds(registry):
    device_id, created = registry.make("cond21")
    before = json_of(registry.read(device_id, "before the stale PUT"))
    response = registry.put(device_id, {"deviceId": device_id, "status": "disabled"}, if_match='"stale-etag"')
    expect("DEVICE-COND-001", response.status_code == 412, f"PUT with a stale If-Match: {answered(response)}")
    expect("DEVICE-COND-001", response.headers.get("iothub-errorcode") == "PreconditionFailed",
           f"412 names {response.headers.get('iothub-errorcode')!r}, expected PreconditionFailed")
    after = json_of(registry.read(device_id, "after the stale PUT"))
    expect("DEVICE-COND-001", after.get("status") == before.get("status") and after.get("etag") == before.get("etag"),
           f"the refused PUT changed the device: {before.get('etag')} → {after.get('etag')}")
    current = registry.put(device_id, {"deviceId": device_id, "status": "disabled"},
                           if_match=f'"{opaque(after.get("etag") or "")}"')
    expect("DEVICE-COND-001", current.status_code == 200, f"PUT with the current If-Match: {answered(current)}")


@pytest.mark.requirement("DEVICE-COND-002")
def test_a_delete_with_a_stale_if_match_is_refused(registry):
    device_id, _ = registry.make("conddel21")
    response = registry.delete(device_id, if_match='"stale-etag"')
    expect("DEVICE-COND-002", response.status_code == 412, f"DELETE with a stale If-Match: {answered(response)}")
    expect("DEVICE-COND-002", registry.exists(device_id, "after the refused DELETE"),
           f"DELETE of {device_id} answered 412 but the device is gone")


@pytest.mark.requirement("DEVICE-DELETE-001")
@pytest.mark.parametrize("if_match", ["*", "none"])
def test_delete_removes_the_device(registry, profile, if_match):
    if if_match == "none" and profile.value("delete_requires_if_match_2021"):
        pytest.skip(f"profile {profile.name} requires If-Match on DELETE")
    device_id, _ = registry.make("del21")
    response = registry.delete(device_id, if_match=None if if_match == "none" else "*")
    expect("DEVICE-DELETE-001", response.status_code == 204, f"DELETE (If-Match {if_match}): {answered(response)}")
    expect("DEVICE-DELETE-001", not registry.exists(device_id, "after its delete"),
           f"{device_id} still reads 200 after DELETE → 204")


@pytest.mark.requirement("DEVICE-DELETE-002")
def test_deleting_a_device_deletes_its_modules(registry):
    modules = Modules(registry)
    device_id, _ = registry.make("delmod21")
    modules.make(device_id, "m1")
    modules.read(device_id, "m1", "before its device is deleted")
    deleted = registry.delete(device_id, if_match="*")
    if deleted.status_code != 204:
        raise PreconditionFailed(f"could not delete the device: {answered(deleted)}")
    response = modules.get(device_id, "m1")
    expect("DEVICE-DELETE-002", response.status_code == 404,
           f"the module of a deleted device: {answered(response)}, expected 404")


@pytest.mark.requirement("DEVICE-LIST-001")
def test_list_answers_at_most_top(registry):
    made = [registry.make("list21")[0] for _ in range(3)]
    everything = registry.client.get("/devices", params={"api-version": "2021-04-12"})
    body = json_of(everything)
    expect("DEVICE-LIST-001", everything.status_code == 200 and isinstance(body, list),
           f"GET /devices: {answered(everything)}, expected a JSON array")
    if len(body) < 3:
        raise PreconditionFailed(f"the list holds {len(body)} devices after this test created 3")
    listed = {d.get("deviceId") for d in body if isinstance(d, dict)}
    if len(body) < 1000:
        expect("DEVICE-LIST-001", set(made) <= listed, f"the list of {len(body)} lacks {sorted(set(made) - listed)}")
    top = registry.client.get("/devices", params={"api-version": "2021-04-12", "top": "2"})
    expect("DEVICE-LIST-001", top.status_code == 200 and isinstance(json_of(top), list), f"top=2: {answered(top)}")
    expect("DEVICE-LIST-001", len(json_of(top)) <= 2, f"top=2 answered {len(json_of(top))} devices")


@pytest.mark.requirement("STATS-DEVICES-001")
def test_device_statistics_have_the_2021_shape(registry, profile_rule):
    fields = profile_rule("stats_shape_2021")
    registry.make("statsoff21", status="disabled")
    response = registry.client.get("/statistics/devices", params={"api-version": "2021-04-12"})
    body = json_of(response)
    expect("STATS-DEVICES-001", response.status_code == 200 and isinstance(body, dict), f"statistics: {answered(response)}")
    wrong = [name for name in fields if not isinstance(body.get(name), int) or isinstance(body.get(name), bool)]
    expect("STATS-DEVICES-001", not wrong, f"statistics {body} lack integer {wrong}")
    expect("STATS-DEVICES-001", body["totalDeviceCount"] == body["enabledDeviceCount"] + body["disabledDeviceCount"],
           f"total {body['totalDeviceCount']} is not enabled + disabled ({body})")
    expect("STATS-DEVICES-001", body["disabledDeviceCount"] >= 1, f"a disabled device exists, statistics say {body}")


@pytest.mark.requirement("STATS-SERVICE-001")
def test_service_statistics_count_connected_devices(client):
    response = client.get("/statistics/service", params={"api-version": "2021-04-12"})
    body = json_of(response)
    expect("STATS-SERVICE-001", response.status_code == 200 and isinstance(body, dict), f"statistics: {answered(response)}")
    count = body.get("connectedDeviceCount")
    expect("STATS-SERVICE-001", isinstance(count, int) and not isinstance(count, bool) and count >= 0,
           f"connectedDeviceCount is {count!r} in {body}")

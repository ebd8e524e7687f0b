"""The bulk registry operation at api-version 2021-04-12 (docs/sources/service-2021-04-12.json,
BulkRegistry_UpdateRegistry; docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md, importMode;
docs/sources/INVENTORY-2021-04-12.md §2.2). Every item names a device of this run.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces.modules import Bulk

pytestmark = pytest.mark.api_version("2021-04-12")


@pytest.fixture
def bulk(registry):
    return Bulk(registry)


def result(requirement: str, response, status: int, successful: bool) -> dict:
    body = json_of(response)
    expect(requirement, response.status_code == status, f"bulk: {answered(response)}, expected {status}")
    expect(requirement, isinstance(body, dict) and body.get("isSuccessful") is successful,
           f"bulk answered {str(body)[:300]}, expected isSuccessful {successful}")
    return body


@pytest.mark.requirement("BULK-CREATE-001")
def test_bulk_create_creates_every_device(bulk, registry):
    ids = [registry.name("bulk") for _ in range(3)]
    body = result("BULK-CREATE-001", bulk.post([{"id": i, "importMode": "create"} for i in ids]), 200, True)
    expect("BULK-CREATE-001", not body.get("errors"), f"a successful bulk create lists errors {body.get('errors')}")
    for device_id in ids:
        response = registry.get(device_id)
        keys = ((json_of(response) or {}).get("authentication") or {}).get("symmetricKey") or {}
        expect("BULK-CREATE-001", response.status_code == 200 and keys.get("primaryKey"),
               f"{device_id} after the bulk create: {answered(response)} {keys}")


@pytest.mark.requirement("BULK-UPDATE-001")
def test_bulk_update_applies_with_and_without_the_etag(bulk, registry):
    plain, _ = registry.make("bulkupd")
    matched, created = registry.make("bulkupdm")
    etag = json_of(created).get("etag")
    result("BULK-UPDATE-001", bulk.post([
        {"id": plain, "importMode": "update", "status": "disabled"},
        {"id": matched, "importMode": "updateIfMatchETag", "eTag": etag, "status": "disabled"}]), 200, True)
    for device_id in (plain, matched):
        status = json_of(registry.read(device_id, "after the bulk update")).get("status")
        expect("BULK-UPDATE-001", status == "disabled", f"{device_id} reads status {status!r} after the bulk update")


@pytest.mark.requirement("BULK-DELETE-001")
def test_bulk_delete_deletes(bulk, registry):
    plain, _ = registry.make("bulkdel")
    matched, created = registry.make("bulkdelm")
    result("BULK-DELETE-001", bulk.post([
        {"id": plain, "importMode": "delete"},
        {"id": matched, "importMode": "deleteIfMatchETag", "eTag": json_of(created).get("etag")}]), 200, True)
    for device_id in (plain, matched):
        expect("BULK-DELETE-001", not registry.exists(device_id, "after the bulk delete"),
               f"{device_id} still exists after the bulk delete")


@pytest.mark.requirement("BULK-ETAG-001")
@pytest.mark.parametrize("mode", ["updateIfMatchETag", "deleteIfMatchETag"])
def test_a_stale_etag_fails_the_item(bulk, registry, mode):
    device_id, created = registry.make("bulketag")
    body = result("BULK-ETAG-001", bulk.post([{"id": device_id, "importMode": mode, "eTag": "stale-etag",
                                               "status": "disabled"}]), 400, False)
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    expect("BULK-ETAG-001", [e.get("deviceId") for e in errors] == [device_id], f"errors {errors} for {device_id}")
    expect("BULK-ETAG-001", errors[0].get("errorCode") in ("PreconditionFailed", "EtagDoesNotMatch"),
           f"the stale eTag's error code is {errors[0].get('errorCode')!r}")
    after = json_of(registry.read(device_id, f"after the refused {mode}"))
    expect("BULK-ETAG-001", after.get("etag") == json_of(created).get("etag") and after.get("status") == "enabled",
           f"the refused {mode} changed {device_id}: {after.get('status')!r}, etag {after.get('etag')!r}")


@pytest.mark.requirement("BULK-PARTIAL-001")
def test_one_failed_item_is_reported_alone(bulk, registry):
    existing, created = registry.make("bulkdup")
    fresh = registry.name("bulkfresh")
    body = result("BULK-PARTIAL-001", bulk.post([{"id": fresh, "importMode": "create"},
                                                  {"id": existing, "importMode": "create", "status": "disabled"}]),
                  400, False)
    errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    expect("BULK-PARTIAL-001", [e.get("deviceId") for e in errors] == [existing],
           f"errors name {[e.get('deviceId') for e in errors]}, expected only {existing}")
    expect("BULK-PARTIAL-001", errors[0].get("errorCode") == "DeviceAlreadyExists",
           f"the existing id's error code is {errors[0].get('errorCode')!r}, expected DeviceAlreadyExists")
    after = json_of(registry.read(existing, "after the failed create"))
    expect("BULK-PARTIAL-001", after.get("etag") == json_of(created).get("etag"),
           f"the failed create changed {existing}")


@pytest.mark.requirement("BULK-LIMIT-001")
@pytest.mark.parametrize("case", ["101-devices", "one-device-twice"])
def test_too_many_or_repeated_devices_are_refused(bulk, registry, case):
    if case == "101-devices":
        items = [{"id": registry.name("bulkmax"), "importMode": "create"} for _ in range(101)]
    else:
        repeated = registry.name("bulktwice")
        items = [{"id": repeated, "importMode": "create"}, {"id": repeated, "importMode": "create"}]
    # The same call within the limits is served: else a 400 shows nothing (a target refusing every bulk call).
    served = bulk.post([{"id": registry.name("bulkok"), "importMode": "create"}])
    if served.status_code != 200:
        raise PreconditionFailed(f"a bulk create of one new device is not served: {answered(served)}")
    response = bulk.post(items)
    expect("BULK-LIMIT-001", response.status_code == 400, f"bulk of {case}: {answered(response)}, expected 400")
    made = [item["id"] for item in items[:3] if registry.exists(item["id"], f"after the refused bulk of {case}")]
    expect("BULK-LIMIT-001", not made, f"the refused bulk of {case} created {made}")

"""Device identities: create, read, update, delete, list, statistics (api-version 2016-02-03 pages).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.checks import etag as etag_check
from iothub_conformance.checks.context import Context
from iothub_conformance.rules.failures import answered, expect, json_of, raise_all, require, require_etag, require_object

SPECIALS = "-:.+%_#*?!(),=@;$'"


def present_and_missing(registry) -> str:
    """A 404 for a missing device is evidence only from a registry that answers for a present one: this creates and
    reads back one device (else PreconditionFailed) and returns the name of one that does not exist."""
    device_id, _ = registry.make("present")
    registry.read(device_id)
    return registry.name("missing")


@pytest.mark.requirement("DI-CREATE-001")
def test_create_device_returns_profile_status_and_full_identity(registry, profile):
    device_id, response = registry.create("create")
    allowed = sorted(profile.value("create_statuses"))
    expect("DI-CREATE-001", response.status_code in allowed,
           f"create: {answered(response)}; profile {profile.name} allows {allowed}")
    body = json_of(response)
    expect("DI-CREATE-001", isinstance(body, dict), f"create: {answered(response)} without a JSON identity")
    expect("DI-CREATE-001", body.get("deviceId") == device_id,
           f"create of {device_id} answered deviceId {body.get('deviceId')!r}")
    expect("DI-CREATE-001", body.get("generationId") and body.get("etag"), f"identity lacks generationId or etag: {body}")


@pytest.mark.requirement("DI-CREATE-002")
def test_create_without_authentication_generates_two_keys(registry):
    _, response = registry.make("keys")
    keys = (json_of(response).get("authentication") or {}).get("symmetricKey") or {}
    expect("DI-CREATE-002", keys.get("primaryKey") and keys.get("secondaryKey"), f"no generated keys: {keys}")
    expect("DI-CREATE-002", keys["primaryKey"] != keys["secondaryKey"], "the two generated keys are the same")


@pytest.mark.requirement("DI-ID-001")
@pytest.mark.parametrize("label", ["all-specials", "longest"])
def test_valid_device_ids_round_trip(registry, label):
    if label == "all-specials":
        device_id = registry.name("id") + SPECIALS
    else:
        device_id = registry.name("id")
        device_id += "x" * (128 - len(device_id))
    response = registry.put(device_id)
    expect("DI-ID-001", response.status_code in (200, 201), f"valid deviceId {device_id!r} refused: {answered(response)}")
    read = registry.get(device_id)
    body = json_of(read)
    expect("DI-ID-001", read.status_code == 200 and isinstance(body, dict),
           f"valid deviceId {device_id!r} reads back: {answered(read)}")
    expect("DI-ID-001", body.get("deviceId") == device_id, f"{device_id!r} reads back as {body.get('deviceId')!r}")


@pytest.mark.requirement("DI-ID-002")
@pytest.mark.parametrize("suffix", ["x" * 129, "sp ace", "ümlaut", "angle<>"])
def test_invalid_device_ids_are_refused_with_400(registry, suffix):
    valid, _ = registry.make("bad")  # the same create without the invalid suffix is served: else a 400 shows nothing
    device_id = valid + suffix
    response = registry.put(device_id, {"deviceId": device_id})
    expect("DI-ID-002", response.status_code == 400,
           f"deviceId {device_id!r}: {answered(response)}, expected 400")


@pytest.mark.requirement("DI-GET-001")
def test_get_device_returns_stored_identity(registry):
    device_id, created = registry.make("get", status="disabled", statusReason="conformance")
    response = registry.get(device_id)
    body = json_of(response)
    expect("DI-GET-001", response.status_code == 200 and isinstance(body, dict),
           f"GET of a created device: {answered(response)}")
    got, stored = (body.get("deviceId"), body.get("status"), body.get("statusReason")), (device_id, "disabled",
                                                                                          "conformance")
    expect("DI-GET-001", got == stored, f"GET answered {got}, stored {stored}")
    expect("DI-GET-001", body.get("generationId") == json_of(created).get("generationId"),
           f"GET answered generationId {body.get('generationId')!r}, create gave {json_of(created).get('generationId')!r}")


@pytest.mark.requirement("DI-GET-002")
def test_get_missing_device_returns_404(registry):
    missing = present_and_missing(registry)
    response = registry.get(missing)
    expect("DI-GET-002", response.status_code == 404,
           f"GET of a device that does not exist: {answered(response)}, expected 404")


@pytest.mark.requirement("DI-UPDATE-001")
def test_update_returns_200_and_keeps_generation_id(registry):
    device_id, created = registry.make("update")
    generation = json_of(created).get("generationId")
    response = registry.put(device_id, {"deviceId": device_id, "status": "disabled", "generationId": "client-made"},
                            if_match="*")
    body = json_of(response)
    expect("DI-UPDATE-001", response.status_code == 200 and isinstance(body, dict),
           f"update: {answered(response)}, expected 200")
    expect("DI-UPDATE-001", body.get("status") == "disabled", f"update to disabled answered status {body.get('status')!r}")
    expect("DI-UPDATE-001", body.get("generationId") == generation,
           f"update answered generationId {body.get('generationId')!r}: it must stay the server's {generation!r}")
    stored = json_of(registry.read(device_id, "after the update")).get("generationId")
    expect("DI-UPDATE-001", stored == generation,
           f"after the update the device reads back generationId {stored!r}, not {generation!r}")


@pytest.mark.requirement("DI-DELETE-001")
def test_delete_with_wildcard_removes_device(registry):
    device_id, _ = registry.make("delete")
    response = registry.delete(device_id, if_match="*")
    expect("DI-DELETE-001", response.status_code == 204, f"DELETE with If-Match *: {answered(response)}, expected 204")
    expect("DI-DELETE-001", not registry.exists(device_id, "after its delete"),
           f"{device_id} still reads back 200 after DELETE → 204")


@pytest.mark.requirement("DI-DELETE-002")
def test_delete_missing_device_returns_404(registry):
    missing = present_and_missing(registry)
    response = registry.delete(missing, if_match="*")
    expect("DI-DELETE-002", response.status_code == 404,
           f"DELETE of a device that does not exist: {answered(response)}, expected 404")


@pytest.mark.requirement("DI-DELETE-003")
def test_delete_without_if_match_follows_profile(registry, profile):
    device_id, _ = registry.make("noifmatch")
    response = registry.delete(device_id, if_match=None)
    if profile.value("delete_requires_if_match"):
        expect("DI-DELETE-003", 400 <= response.status_code < 500,
               f"DELETE without If-Match: {answered(response)}, expected 4xx")
        expect("DI-DELETE-003", registry.exists(device_id, "after a refused DELETE"),
               "DELETE without If-Match was refused but the "
               "device is gone")
    else:
        expect("DI-DELETE-003", response.status_code == 204, f"DELETE without If-Match: {answered(response)}, expected 204")
        expect("DI-DELETE-003", not registry.exists(device_id, "after its delete"),
               f"{device_id} still reads back 200 after DELETE → 204")


def device_list(response, what: str, requirement: str) -> list:
    body = json_of(response)
    expect(requirement, response.status_code == 200 and isinstance(body, list),
           f"{what}: {answered(response)}, expected 200 with a JSON array")
    return body


@pytest.mark.requirement("DI-LIST-001")
def test_list_devices_honours_top(registry, client, api_version):
    for _ in range(3):
        registry.make("list")
    top = device_list(client.get("/devices", params={"api-version": api_version, "top": 2}), "GET /devices?top=2",
                      "DI-LIST-001")
    expect("DI-LIST-001", len(top) <= 2, f"top=2 gave {len(top)} devices")
    everything = device_list(client.get("/devices", params={"api-version": api_version}), "GET /devices", "DI-LIST-001")
    expect("DI-LIST-001", len(everything) <= 1000, f"GET /devices gave {len(everything)} devices, more than 1000")
    listed = {d.get("deviceId") for d in everything if isinstance(d, dict)}
    missing = sorted(set(registry.created) - listed)
    expect("DI-LIST-001", not missing or len(everything) == 1000, f"created devices missing from the list: {missing}")


@pytest.mark.requirement("DI-LIST-002")
@pytest.mark.parametrize("top", [0, 1001, -5])
def test_top_outside_range_is_taken_as_1000(registry, client, api_version, top):
    made = {registry.make("top")[0], registry.make("top")[0]}
    stats = require_object(client.get("/statistics/devices", params={"api-version": api_version}),
                           "could not count the registry's devices", field="totalDeviceCount")
    total = stats["totalDeviceCount"]
    if isinstance(total, int) and total > 1000:
        pytest.skip(f"the hub holds {total} devices: a list of 1000 need not show the run's own")
    listed_devices = device_list(client.get("/devices", params={"api-version": api_version, "top": top}),
                                 f"GET /devices?top={top}", "DI-LIST-002")
    # The run's own devices, not a count: others (another worker, the hub's users) may add or remove theirs meanwhile.
    listed = {d.get("deviceId") for d in listed_devices if isinstance(d, dict)}
    expect("DI-LIST-002", made <= listed,
           f"top={top} returned {len(listed)} devices without the run's {sorted(made - listed)}")


@pytest.mark.requirement("DI-STATS-001")
def test_registry_statistics_count_devices(registry, client, api_version):
    before = client.get("/statistics/devices", params={"api-version": api_version})
    expect("DI-STATS-001", before.status_code == 200, f"registry statistics: {answered(before)}, expected 200")
    registry.make("stats", status="disabled")
    response = client.get("/statistics/devices", params={"api-version": api_version})
    after = json_of(response)
    expect("DI-STATS-001", response.status_code == 200 and isinstance(after, dict),
           f"registry statistics: {answered(response)}")
    expect("DI-STATS-001", isinstance(after.get("totalDeviceCount"), int),
           f"totalDeviceCount is {after.get('totalDeviceCount')!r}")
    expect("DI-STATS-001", after["totalDeviceCount"] >= 1, "totalDeviceCount is 0 with the run's device in the registry")
    by_status = after.get("totalDevicesByStatus")
    if by_status is not None:
        counted = by_status.get("enabled", 0) + by_status.get("disabled", 0)
        expect("DI-STATS-001", counted == after["totalDeviceCount"],
               f"devices by status add up to {counted}, totalDeviceCount is {after['totalDeviceCount']}")


@pytest.mark.requirement("DI-STATS-002")
def test_service_statistics_report_connected_devices(client, api_version):
    response = client.get("/statistics/service", params={"api-version": api_version})
    body = json_of(response)
    expect("DI-STATS-002", response.status_code == 200 and isinstance(body, dict),
           f"service statistics: {answered(response)}")
    expect("DI-STATS-002", isinstance(body.get("totalConnectedDevices"), int),
           f"totalConnectedDevices is {body.get('totalConnectedDevices')!r}, not a number")


@pytest.mark.requirement("DI-ETAG-001", "DI-ETAG-002")
def test_device_responses_carry_rfc7232_etag(registry, profile):
    device_id, created = registry.make("etag")
    context = Context(profile)
    raise_all(etag_check.verify(created, context))
    raise_all(etag_check.verify(registry.read(device_id), context))
    raise_all(etag_check.verify(require(registry.put(device_id, if_match="*"), f"could not update {device_id}"), context))
    raise_all(etag_check.verify(require(registry.delete(device_id, if_match="*"), f"could not delete {device_id}",
                                        (200, 204)), context))


@pytest.mark.requirement("DI-ETAG-003")
def test_device_etag_header_matches_body_etag(registry, profile):
    device_id, created = registry.make("etagbody")
    responses = [created, registry.read(device_id),
                 require(registry.put(device_id, if_match="*"), f"could not update {device_id}")]
    for response in responses:
        require_object(response, "no body etag to compare the ETag header with", (200, 201), field="etag")
        require_etag(response, "no ETag header to compare the body etag with")
        raise_all(etag_check.verify(response, Context(profile)))


@pytest.mark.requirement("DI-ETAG-004")
def test_etag_changes_on_every_write(registry):
    device_id, created = registry.make("etagwrite")
    seen = [require_etag(created, f"the create of {device_id}")]
    for status in ("disabled", "enabled", "enabled"):
        response = require(registry.put(device_id, {"deviceId": device_id, "status": status}, if_match="*"),
                           f"could not update {device_id}")
        seen.append(require_etag(response, f"the update of {device_id}"))
    expect("DI-ETAG-004", len(set(seen)) == len(seen), f"ETag repeated across writes: {seen}")


@pytest.mark.requirement("DI-ETAG-005")
def test_etag_stable_across_reads(registry):
    device_id, created = registry.make("etagread")
    first = require_etag(created, f"the create of {device_id}")
    reads = [require_etag(registry.read(device_id), f"a read of {device_id}") for _ in range(3)]
    expect("DI-ETAG-005", reads == [first] * 3, f"ETag moved without a write: {first} → {reads}")

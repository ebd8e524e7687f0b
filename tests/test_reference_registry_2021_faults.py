"""Each fault switch of the 2021-04-12 registry (reference/faults_2021_registry.py: devices, statistics, bulk, modules,
purge, the permissions each operation needs) changes the reference's behaviour as its description says, and a hub
without it does not; where a fault is the 2021 handlers', the 2016-02-03 answer beside it stays."""

from __future__ import annotations

import pytest

from iothub_conformance.http import sas
from tests.support.reference_api import API, SURFACE_PREFIXES, ReferenceApi, error_code, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

REGISTRY_FAULTS = faults_breaking(*SURFACE_PREFIXES["registry 2021"])
V21 = {"api-version": "2021-04-12"}


def test_every_registry_2021_fault_has_a_test_here():
    assert len(REGISTRY_FAULTS) == 36
    missing = [name for name in REGISTRY_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def hubs(fault: str) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each holding the device d1 (made at 2021-04-12)."""
    pair = ReferenceApi(params=V21), ReferenceApi(fault, params=V21)
    for api in pair:
        assert put(api, "d1").status_code in (200, 201)
    return pair


def put(api: ReferenceApi, device_id: str, body: dict | None = None, token=None, **headers):
    body = {"deviceId": device_id} if body is None else body
    kwargs = {} if token is None else {"token": token}
    return api.request("PUT", f"/devices/{device_id}", json=body, headers=headers, **kwargs)


def get(api: ReferenceApi, path: str, token=None, **kwargs):
    return api.request("GET", path, **({} if token is None else {"token": token}), **kwargs)


def device(api: ReferenceApi, device_id: str = "d1") -> dict:
    response = get(api, f"/devices/{device_id}")
    assert response.status_code == 200, response.text
    return response.json()


def module(api: ReferenceApi, device_id: str, module_id: str, body: dict | None = None, token=None, **headers):
    kwargs = {} if token is None else {"token": token}
    return api.request("PUT", f"/devices/{device_id}/modules/{module_id}", json={} if body is None else body,
                       headers=headers, **kwargs)


def bulk(api: ReferenceApi, items: list[dict], token=None):
    return api.request("POST", "/devices", json=items, **({} if token is None else {"token": token}))


# -- devices ------------------------------------------------------------------------------------------------------


def test_fault_device_2021_create_returns_201():
    good, bad = hubs("device-2021-create-returns-201")
    for api, status in ((good, 200), (bad, 201)):
        assert put(api, "new").status_code == status
        assert put(api, "new", {"deviceId": "new", "status": "disabled"}).status_code == 200  # updates answer 200
    assert (good.put_named("old", params=API).status_code, bad.put_named("old", params=API).status_code) == (200, 200)


def test_fault_device_2021_no_generated_keys():
    good, bad = hubs("device-2021-no-generated-keys")
    for api, generated in ((good, True), (bad, False)):
        keys = put(api, "k").json()["authentication"]["symmetricKey"]
        assert bool(keys["primaryKey"] and keys["secondaryKey"]) is generated
        given = {"primaryKey": "a" * 44, "secondaryKey": "b" * 44}
        body = {"deviceId": "given", "authentication": {"symmetricKey": given}}
        assert put(api, "given", body).json()["authentication"]["symmetricKey"] == given  # given keys are kept


def test_fault_device_2021_drops_capabilities():
    good, bad = hubs("device-2021-drops-capabilities")
    for api, shown in ((good, True), (bad, False)):
        put(api, "edge", {"deviceId": "edge", "capabilities": {"iotEdge": True}})
        assert device(api, "edge")["capabilities"] == {"iotEdge": shown}
        assert api.hub.devices["edge"].iot_edge is True  # what is stored is right; only the answer drops it


def test_fault_device_2021_missing_code():
    good, bad = hubs("device-2021-missing-code")
    for api, code in ((good, "DeviceNotFound"), (bad, "NotFound")):
        missing = get(api, "/devices/ghost")
        assert missing.status_code == 404 and error_code(missing) == code
    assert error_code(get(bad, "/devices/ghost", params=API)) == "DeviceNotFound"  # the 2016 answer stays


def test_fault_device_2021_update_new_generation_id():
    good, bad = hubs("device-2021-update-new-generation-id")
    for api, kept in ((good, True), (bad, False)):
        before = device(api)["generationId"]
        updated = put(api, "d1", {"deviceId": "d1", "status": "disabled"}).json()
        assert updated["status"] == "disabled" and (updated["generationId"] == before) is kept
        assert device(api)["generationId"] == updated["generationId"]


def test_fault_device_2021_no_etag_header():
    good, bad = hubs("device-2021-no-etag-header")
    for api, header in ((good, True), (bad, False)):
        for response in (get(api, "/devices/d1"), put(api, "d1")):
            assert ("ETag" in response.headers) is header and response.json()["etag"]
    assert "ETag" in get(bad, "/devices/d1", params=API).headers  # the 2016 answer stays


def test_fault_device_2021_etag_unchanged_on_write():
    good, bad = hubs("device-2021-etag-unchanged-on-write")
    for api, same in ((good, False), (bad, True)):
        before = device(api)["etag"]
        after = put(api, "d1", {"deviceId": "d1", "status": "disabled"}).json()
        assert after["status"] == "disabled" and (after["etag"] == before) is same


def test_fault_device_2021_ignore_if_match():
    good, bad = hubs("device-2021-ignore-if-match")
    for api, (put_status, delete_status) in ((good, (412, 412)), (bad, (200, 204))):
        stale = {"If-Match": '"stale"'}
        assert put(api, "d1", {"deviceId": "d1", "status": "disabled"}, **stale).status_code == put_status
        assert api.request("DELETE", "/devices/d1", headers=stale).status_code == delete_status
    assert "d1" in good.hub.devices and good.hub.devices["d1"].status == "enabled"
    assert "d1" not in bad.hub.devices


def test_fault_device_2021_delete_needs_if_match():
    good, bad = hubs("device-2021-delete-needs-if-match")
    assert good.request("DELETE", "/devices/d1").status_code == 204
    refused = bad.request("DELETE", "/devices/d1")
    assert refused.status_code == 428 and error_code(refused) == "PreconditionRequired" and "d1" in bad.hub.devices
    assert bad.request("DELETE", "/devices/d1", headers={"If-Match": "*"}).status_code == 204


def test_fault_device_2021_delete_keeps_modules():
    good, bad = hubs("device-2021-delete-keeps-modules")
    for api, status in ((good, 404), (bad, 200)):
        assert module(api, "d1", "m1").status_code == 201
        assert api.request("DELETE", "/devices/d1").status_code == 204
        assert get(api, "/devices/d1").status_code == 404  # the device itself goes either way
        assert get(api, "/devices/d1/modules/m1").status_code == status
        never = get(api, "/devices/never/modules/m1")  # a device that never was: DeviceNotFound either way
        assert never.status_code == 404 and error_code(never) == "DeviceNotFound"


def test_fault_device_2021_list_ignores_top():
    good, bad = hubs("device-2021-list-ignores-top")
    for api, listed in ((good, 1), (bad, 3)):
        put(api, "d2")
        put(api, "d3")
        assert len(get(api, "/devices", params={**V21, "top": "1"}).json()) == listed
        assert len(get(api, "/devices").json()) == 3


# -- statistics ---------------------------------------------------------------------------------------------------


def test_fault_stats_2021_old_shape():
    good, bad = hubs("stats-2021-old-shape")
    for api in (good, bad):
        put(api, "off", {"deviceId": "off", "status": "disabled"})
    assert get(good, "/statistics/devices").json() == {"totalDeviceCount": 2, "enabledDeviceCount": 1,
                                                      "disabledDeviceCount": 1}
    assert get(bad, "/statistics/devices").json() == {"totalDeviceCount": 2,
                                                     "totalDevicesByStatus": {"enabled": 1, "disabled": 1}}


def test_fault_stats_2021_service_old_shape():
    good, bad = hubs("stats-2021-service-old-shape")
    assert get(good, "/statistics/service").json() == {"connectedDeviceCount": 0}
    assert get(bad, "/statistics/service").json() == {"totalConnectedDevices": 0}
    assert get(bad, "/statistics/devices").json()["enabledDeviceCount"] == 1  # device statistics keep their shape


# -- bulk registry ------------------------------------------------------------------------------------------------


def test_fault_bulk_create_not_stored():
    good, bad = hubs("bulk-create-not-stored")
    for api, stored in ((good, True), (bad, False)):
        answered = bulk(api, [{"id": "b1", "importMode": "create"}])
        assert answered.status_code == 200 and answered.json()["isSuccessful"] is True
        assert ("b1" in api.hub.devices) is stored


def test_fault_bulk_update_not_applied():
    good, bad = hubs("bulk-update-not-applied")
    for api, status in ((good, "disabled"), (bad, "enabled")):
        answered = bulk(api, [{"id": "d1", "importMode": "update", "status": "disabled"}])
        assert answered.status_code == 200 and answered.json()["isSuccessful"] is True
        assert device(api)["status"] == status


def test_fault_bulk_delete_not_applied():
    good, bad = hubs("bulk-delete-not-applied")
    for api, kept in ((good, False), (bad, True)):
        answered = bulk(api, [{"id": "d1", "importMode": "delete"}])
        assert answered.status_code == 200 and answered.json()["isSuccessful"] is True
        assert ("d1" in api.hub.devices) is kept


def test_fault_bulk_ignores_etag():
    good, bad = hubs("bulk-ignores-etag")
    for api, status, applied in ((good, 400, "enabled"), (bad, 200, "disabled")):
        stale = bulk(api, [{"id": "d1", "importMode": "updateIfMatchETag", "eTag": "stale", "status": "disabled"}])
        assert stale.status_code == status and device(api)["status"] == applied
    gone = bulk(good, [{"id": "d1", "importMode": "deleteIfMatchETag", "eTag": "stale"}])
    assert gone.json()["errors"][0]["errorCode"] == "PreconditionFailed" and "d1" in good.hub.devices
    assert bulk(bad, [{"id": "d1", "importMode": "deleteIfMatchETag", "eTag": "stale"}]).status_code == 200
    assert "d1" not in bad.hub.devices


def test_fault_bulk_partial_reports_success():
    good, bad = hubs("bulk-partial-reports-success")
    for api, status in ((good, 400), (bad, 200)):
        answered = bulk(api, [{"id": "d1", "importMode": "create"}, {"id": "fresh", "importMode": "create"}])
        body = answered.json()
        assert answered.status_code == status and body["isSuccessful"] is (status == 200)
        assert [(e["deviceId"], e["errorCode"]) for e in body["errors"]] == [("d1", "DeviceAlreadyExists")]
        assert "fresh" in api.hub.devices


def test_fault_bulk_no_limit():
    good, bad = hubs("bulk-no-limit")
    many = [{"id": f"n{n}", "importMode": "create"} for n in range(101)]
    twice = [{"id": "t", "importMode": "create"}, {"id": "t", "importMode": "delete"}]
    assert bulk(good, many).status_code == 400 and "n0" not in good.hub.devices
    assert error_code(bulk(good, twice)) == "DeviceDefinedMultipleTimes"
    assert bulk(bad, many).status_code == 200 and "n100" in bad.hub.devices
    assert bulk(bad, twice).status_code == 200 and "t" not in bad.hub.devices  # created, then deleted


# -- modules ------------------------------------------------------------------------------------------------------


def test_fault_module_drops_managed_by():
    good, bad = hubs("module-drops-managed-by")
    for api, managed in ((good, "IotEdge"), (bad, None)):
        assert module(api, "d1", "m1", {"managedBy": "IotEdge"}).json()["managedBy"] == managed
        assert get(api, "/devices/d1/modules/m1").json()["managedBy"] == managed
        assert module(api, "d1", "m1", {"managedBy": "later"}).json()["managedBy"] == "later"  # updates store it


def test_fault_module_no_generated_keys():
    good, bad = hubs("module-no-generated-keys")
    for api, generated in ((good, True), (bad, False)):
        keys = module(api, "d1", "m1").json()["authentication"]["symmetricKey"]
        assert bool(keys["primaryKey"] and keys["secondaryKey"]) is generated
    assert put(bad, "d2").json()["authentication"]["symmetricKey"]["primaryKey"]  # devices still get theirs


def test_fault_module_get_new_generation_id():
    good, bad = hubs("module-get-new-generation-id")
    for api, same in ((good, True), (bad, False)):
        created = module(api, "d1", "m1").json()["generationId"]
        assert (get(api, "/devices/d1/modules/m1").json()["generationId"] == created) is same
        assert api.hub.modules["d1"]["m1"].generation_id == created  # the stored one is right


def test_fault_module_missing_device_code():
    good, bad = hubs("module-missing-device-code")
    for api, code in ((good, "ModuleNotFound"), (bad, "DeviceNotFound")):
        missing = get(api, "/devices/d1/modules/ghost")
        assert missing.status_code == 404 and error_code(missing) == code


def test_fault_module_list_empty():
    good, bad = hubs("module-list-empty")
    for api, listed in ((good, ["m1", "m2"]), (bad, [])):
        module(api, "d1", "m1")
        module(api, "d1", "m2")
        assert [m["moduleId"] for m in get(api, "/devices/d1/modules").json()] == listed
        assert get(api, "/devices/d1/modules/m2").status_code == 200  # each module is still there


def test_fault_module_update_new_generation_id():
    good, bad = hubs("module-update-new-generation-id")
    for api, kept in ((good, True), (bad, False)):
        created = module(api, "d1", "m1").json()
        updated = module(api, "d1", "m1", {"managedBy": "after", "generationId": "client-made"}).json()
        assert updated["managedBy"] == "after" and (updated["generationId"] == created["generationId"]) is kept
        assert updated["generationId"] != "client-made"


def test_fault_module_ignore_if_match():
    good, bad = hubs("module-ignore-if-match")
    for api, (put_status, delete_status) in ((good, (412, 412)), (bad, (200, 204))):
        module(api, "d1", "m1")
        stale = {"If-Match": '"stale"'}
        assert module(api, "d1", "m1", {"managedBy": "x"}, **stale).status_code == put_status
        assert api.request("DELETE", "/devices/d1/modules/m1", headers=stale).status_code == delete_status
    assert "m1" in good.hub.modules["d1"] and "m1" not in bad.hub.modules["d1"]


def test_fault_module_delete_keeps():
    good, bad = hubs("module-delete-keeps")
    for api, status in ((good, 404), (bad, 200)):
        module(api, "d1", "m1")
        assert api.request("DELETE", "/devices/d1/modules/m1", headers={"If-Match": "*"}).status_code == 204
        assert get(api, "/devices/d1/modules/m1").status_code == status
        never = get(api, "/devices/never/modules/m1")  # a device that never was: DeviceNotFound either way
        assert never.status_code == 404 and error_code(never) == "DeviceNotFound"


def test_fault_module_no_limit():
    good, bad = hubs("module-no-limit")
    for api, status in ((good, 413), (bad, 201)):
        for n in range(50):
            assert module(api, "d1", f"m{n}").status_code == 201
        assert module(api, "d1", "m50").status_code == status
    assert len(good.hub.modules["d1"]) == 50 and len(bad.hub.modules["d1"]) == 51


def test_fault_module_token_reads_registry():
    good, bad = hubs("module-token-reads-registry")
    for api, status in ((good, 401), (bad, 200)):
        key = module(api, "d1", "m1").json()["authentication"]["symmetricKey"]["primaryKey"]
        token = sas_token(api, "d1/modules/m1", key)
        assert get(api, "/devices/d1/modules/m1", token=token).status_code == status
        assert get(api, "/devices/d1/modules", token=token).status_code == 401  # only the module's own GET
        assert get(api, "/devices/d1", token=token).status_code == 401


def sas_token(api: ReferenceApi, scope: str, key: str) -> str:
    return sas.build_token(f"{api.hub.host_name}/devices/{scope}", key)


# -- cloud-to-device purge ----------------------------------------------------------------------------------------


def test_fault_purge_keeps_messages():
    good, bad = hubs("purge-keeps-messages")
    for api, (purged, left) in ((good, (2, 0)), (bad, (0, 2))):
        for n in range(2):
            assert api.hub.enqueue("d1", b"m%d" % n, {}).status == 200
        answered = api.request("DELETE", "/devices/d1/commands")
        assert answered.status_code == 200 and answered.json()["totalMessagesPurged"] == purged
        with api.hub.lock:
            assert api.hub.queued("d1") == left


def test_fault_purge_omits_device_id():
    good, bad = hubs("purge-omits-device-id")
    assert good.request("DELETE", "/devices/d1/commands").json() == {"totalMessagesPurged": 0, "deviceId": "d1",
                                                                     "moduleId": None}
    assert bad.request("DELETE", "/devices/d1/commands").json() == {"totalMessagesPurged": 0, "moduleId": None}


# -- permissions --------------------------------------------------------------------------------------------------


def test_fault_perm_2021_service_token_reads_modules():
    good, bad = hubs("perm-2021-service-token-reads-modules")
    for api, status in ((good, 401), (bad, 200)):
        module(api, "d1", "m1")
        service, device_policy = api.policy("service"), api.policy("device")
        assert get(api, "/devices/d1/modules", token=service).status_code == status
        assert get(api, "/devices/d1/modules/m1", token=service).status_code == status
        assert get(api, "/devices/d1/modules/m1", token=device_policy).status_code == 401  # DeviceConnect: still not
        assert get(api, "/devices/d1", token=service).status_code == 401  # devices keep their rule
        assert get(api, "/devices/d1/modules/m1", token=api.policy("registryRead")).status_code == 200


def test_fault_perm_2021_read_token_writes_modules():
    good, bad = hubs("perm-2021-read-token-writes-modules")
    for api, (made, changed, gone, bulk_status) in ((good, (401, 401, 401, 401)), (bad, (201, 200, 204, 200))):
        reader = api.policy("registryRead")
        assert module(api, "d1", "m1", token=reader).status_code == made
        module(api, "d1", "m2")
        assert module(api, "d1", "m2", {"managedBy": "x"}, token=reader).status_code == changed
        assert api.request("DELETE", "/devices/d1/modules/m2", token=reader).status_code == gone
        assert bulk(api, [{"id": "b1", "importMode": "create"}], token=reader).status_code == bulk_status
        assert put(api, "d9", token=reader).status_code == 401  # device writes keep their rule
        assert module(api, "d1", "m3", token=api.policy("service")).status_code == 401  # ServiceConnect: still not
    assert "m1" not in good.hub.modules["d1"] and "b1" not in good.hub.devices
    assert "m1" in bad.hub.modules["d1"] and "m2" not in bad.hub.modules["d1"] and "b1" in bad.hub.devices


def _service_operations(api: ReferenceApi, token: str) -> dict[str, int]:
    """The status of each ServiceConnect operation (twins, query, a direct method) signed with `token`."""
    api.hub.method_handlers["d1"] = lambda name, payload: (200, {"echo": payload})
    call = {"methodName": "m", "payload": 1, "responseTimeoutInSeconds": 5}
    return {
        "twin": get(api, "/twins/d1", token=token).status_code,
        "twin patch": api.request("PATCH", "/twins/d1", json={"tags": {"t": 1}}, token=token).status_code,
        "query": api.request("POST", "/devices/query", json={"query": "SELECT * FROM devices"}, token=token).status_code,
        "method": api.request("POST", "/twins/d1/methods", json=call, token=token).status_code,
    }


@pytest.mark.parametrize("what", ["twin", "query", "method"])
def test_only_the_faults_own_service_operation_takes_a_registry_token(what):
    # Each fault opens its own operation to a RegistryRead token, and no other; the service policy is served anyway.
    fault = {"twin": "perm-2021-registry-token-serves-twins", "query": "perm-2021-registry-token-queries",
             "method": "perm-2021-registry-token-invokes-methods"}[what]
    good, bad = hubs(fault)
    assert set(_service_operations(good, good.policy("registryRead")).values()) == {401}
    loosened = _service_operations(bad, bad.policy("registryRead"))
    opened = {name for name, status in loosened.items() if status != 401}
    assert opened == ({"twin", "twin patch"} if what == "twin" else {what}), loosened
    assert all(status == 200 for status in _service_operations(bad, bad.policy("service")).values())
    assert set(_service_operations(bad, bad.policy("device")).values()) == {401}  # DeviceConnect: still not


def test_fault_perm_2021_registry_token_serves_twins():
    test_only_the_faults_own_service_operation_takes_a_registry_token("twin")


def test_fault_perm_2021_registry_token_queries():
    test_only_the_faults_own_service_operation_takes_a_registry_token("query")


def test_fault_perm_2021_registry_token_invokes_methods():
    test_only_the_faults_own_service_operation_takes_a_registry_token("method")

"""Each resource-provider fault switch changes the reference's behaviour as its description says, and a hub without it
does not. See test_reference_rp.py for the client; time moves by hub.clock.advance."""

from __future__ import annotations

import json

import pytest

from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.reference_api import (
    API,
    GROUP,
    GUID,
    SUB,
    SURFACE_PREFIXES,
    ReferenceApi,
    faults_breaking,
    group_path,
    hub_path,
    import_line,
    rp_api,
    rp_error_code,
)

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

RP_FAULTS = faults_breaking(*SURFACE_PREFIXES["resource provider"])
CHECK_NAME = f"/subscriptions/{SUB}/providers/Microsoft.Devices/checkNameAvailability"


def hubs(fault: str, profile=IOTHUB) -> tuple[ReferenceApi, ReferenceApi]:
    """A reference without the fault and one with it."""
    return rp_api(profile=profile), rp_api(profile=profile, faults=[fault])


def test_every_rp_fault_has_a_test_here():
    assert RP_FAULTS
    missing = [name for name in RP_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def test_data_plane_faults_leave_the_rp_alone():
    rp = rp_api(faults=["drop-request-id", "error-envelope-plain", "no-content-type", "repeat-request-id"])
    missing = rp.get_hub("ghost")
    assert missing.status_code == 404 and rp_error_code(missing) == "ResourceNotFound"
    ids = {rp.get_hub("ghost").headers["x-ms-request-id"] for _ in range(3)}
    assert len(ids) == 3 and all(GUID.match(value) for value in ids)


def test_rp_faults_leave_the_data_plane_alone():
    rp = rp_api(faults=["rp-drop-request-id", "rp-plain-errors", "rp-no-auth-required"])
    response = rp.client.get("/devices/nobody", params=API)
    assert response.status_code == 401 and "x-ms-request-id" in response.headers
    assert response.json()["Message"].startswith("ErrorCode:")


def test_fault_rp_no_auth_required():
    good, bad = hubs("rp-no-auth-required")
    assert good.rp_request("GET", group_path(), token=None).status_code == 401
    assert bad.rp_request("GET", group_path(), token=None).status_code == 200
    assert bad.rp_request("GET", group_path(), token="wrong").status_code == 401


def test_fault_rp_accept_any_token():
    good, bad = hubs("rp-accept-any-token")
    assert good.rp_request("GET", group_path(), token="wrong").status_code == 401
    assert bad.rp_request("GET", group_path(), token="wrong").status_code == 200
    assert bad.rp_request("GET", group_path(), token=None).status_code == 401


def test_fault_rp_drop_request_id():
    good, bad = hubs("rp-drop-request-id")
    for rp, present in ((good, True), (bad, False)):
        assert ("x-ms-request-id" in rp.rp_request("GET", group_path()).headers) is present
        assert ("x-ms-request-id" in rp.get_hub("ghost").headers) is present
        assert ("x-ms-request-id" in rp.put_hub("rid-hub").headers) is present
    assert "x-ms-request-id" in bad.client.get("/devices", params=API).headers


def test_fault_rp_accept_missing_api_version():
    good, bad = hubs("rp-accept-missing-api-version")
    assert good.rp_request("GET", group_path(), params={}).status_code == 400
    assert bad.rp_request("GET", group_path(), params={}).status_code == 200
    wrong = bad.rp_request("GET", group_path(), params={"api-version": "2020-01-01"})
    assert wrong.status_code == 400 and rp_error_code(wrong) == "UnsupportedApiVersionValue"


def test_fault_rp_plain_errors():
    good, bad = hubs("rp-plain-errors")
    assert rp_error_code(good.get_hub("ghost")) == "ResourceNotFound"
    for response in (bad.get_hub("ghost"), bad.rp_request("GET", group_path(), token=None),
                     bad.rp_request("GET", f"/subscriptions/{SUB}/nowhere")):
        assert response.status_code in (401, 404)
        assert response.headers["content-type"].startswith("text/plain") and response.text == "error"
    assert bad.put_hub("plain-hub").status_code == 201


def test_fault_rp_create_returns_200():
    good, bad = hubs("rp-create-returns-200")
    assert good.put_hub("sync-hub").status_code == 201
    created = bad.put_hub("sync-hub")
    assert created.status_code == 200 and "azure-asyncoperation" not in created.headers
    assert created.json()["properties"]["provisioningState"] == "Succeeded"
    assert bad.get_hub("sync-hub").json()["properties"]["provisioningState"] == "Succeeded"
    assert bad.put_hub("sync-hub").status_code == 200  # an update answers as without the fault


def test_fault_rp_operation_never_ends():
    good, bad = hubs("rp-operation-never-ends")
    for rp, final in ((good, "Succeeded"), (bad, "InProgress")):
        status_url = rp.put_hub("forever-hub").headers["azure-asyncoperation"]
        rp.advance(100)
        assert rp.status(status_url).json() == {"status": final}
        assert rp.get_hub("forever-hub").json()["properties"]["provisioningState"] == "Succeeded"
        deleted = rp.delete_hub("forever-hub")
        rp.advance(100)
        assert rp.status(deleted.headers["location"]).status_code == (200 if final == "Succeeded" else 202)
        assert rp.status(deleted.headers["azure-asyncoperation"]).json() == {"status": final}
        assert rp.get_hub("forever-hub").status_code == 404  # the hub itself still goes


def test_fault_rp_succeeded_before_hub_exists():
    good, bad = hubs("rp-succeeded-before-hub-exists")
    running = good.put_hub("early-hub")
    assert good.status(running.headers["azure-asyncoperation"]).json() == {"status": "InProgress"}
    assert good.get_hub("early-hub").status_code == 200
    early = bad.put_hub("early-hub")
    assert early.status_code == 201
    assert bad.status(early.headers["azure-asyncoperation"]).json() == {"status": "Succeeded"}
    assert bad.get_hub("early-hub").status_code == 404
    bad.advance()
    got = bad.get_hub("early-hub")
    assert got.status_code == 200 and got.json()["properties"]["provisioningState"] == "Succeeded"


def test_fault_rp_delete_keeps_hub():
    good, bad = hubs("rp-delete-keeps-hub")
    for rp, after in ((good, 404), (bad, 200)):
        rp.create_hub("kept-hub")
        deleted = rp.delete_hub("kept-hub")
        assert deleted.status_code == 202
        rp.advance()
        assert rp.status(deleted.headers["azure-asyncoperation"]).json() == {"status": "Succeeded"}
        assert rp.status(deleted.headers["location"]).status_code == 200
        assert rp.get_hub("kept-hub").status_code == after
        rp.advance(100)
        assert rp.get_hub("kept-hub").status_code == after


def test_fault_rp_delete_no_location():
    good, bad = hubs("rp-delete-no-location")
    for rp, has_location in ((good, True), (bad, False)):
        rp.create_hub("noloc-hub")
        deleted = rp.delete_hub("noloc-hub")
        assert deleted.status_code == 202 and "azure-asyncoperation" in deleted.headers
        assert ("location" in deleted.headers, "retry-after" in deleted.headers) == (has_location, has_location)
        rp.advance()
        assert rp.get_hub("noloc-hub").status_code == 404


def test_fault_rp_get_reveals_keys():
    good, bad = hubs("rp-get-reveals-keys")
    assert good.create_hub("keys-hub")["properties"]["authorizationPolicies"]
    assert good.get_hub("keys-hub").json()["properties"]["authorizationPolicies"] is None
    created = bad.create_hub("keys-hub")
    assert bad.get_hub("keys-hub").json()["properties"]["authorizationPolicies"] == created["properties"][
        "authorizationPolicies"]
    assert bad.rp_request("GET", group_path()).json()["value"][0]["properties"]["authorizationPolicies"] is None


def test_fault_rp_update_ignored():
    good, bad = hubs("rp-update-ignored")
    for rp, stored in ((good, {"v": "2"}), (bad, {"v": "1"})):
        rp.create_hub("ignored-hub", tags={"v": "1"})
        updated = rp.put_hub("ignored-hub", tags={"v": "2"})
        assert updated.status_code == 200 and updated.json()["tags"] == {"v": "2"}
        assert rp.get_hub("ignored-hub").json()["tags"] == stored
    assert bad.put_hub("new-hub", tags={"v": "3"}).status_code == 201
    assert bad.get_hub("new-hub").json()["tags"] == {"v": "3"}  # a create is stored


def test_fault_rp_listkeys_drops_policy():
    good, bad = hubs("rp-listkeys-drops-policy")
    for rp, count in ((good, 5), (bad, 4)):
        rp.create_hub("drop-hub")
        assert len(rp.rp_request("POST", hub_path("drop-hub") + "/listkeys").json()["value"]) == count
        assert len(rp.rp_request("POST", hub_path("drop-hub") + "/IoTHubKeys/listkeys").json()[
            "authorizationPolicies"]) == count
        assert rp.rp_request("POST", hub_path("drop-hub") + "/IotHubKeys/registryReadWrite/listkeys").status_code == 200


def test_fault_rp_keyname_ignored():
    good, bad = hubs("rp-keyname-ignored")
    for rp, service, unknown in ((good, "service", 404), (bad, "iothubowner", 200)):
        rp.create_hub("name-hub")
        assert rp.rp_request("POST", hub_path("name-hub") + "/IotHubKeys/service/listkeys").json()["keyName"] == service
        assert rp.rp_request("POST", hub_path("name-hub") + "/IotHubKeys/nobody/listkeys").status_code == unknown


def test_fault_rp_page_repeats_item():
    good, bad = hubs("rp-page-repeats-item")
    names = [f"page-hub-{index}" for index in range(5)]
    for rp in (good, bad):
        for name in names:
            rp.create_hub(name)
    assert [[item["name"] for item in page] for page in good.pages(group_path())] == [names[:2], names[2:4], names[4:]]
    assert [[item["name"] for item in page] for page in bad.pages(group_path())] == [
        names[:2], names[1:4], names[3:]]


def test_fault_rp_nextlink_dropped():
    good, bad = hubs("rp-nextlink-dropped")
    for rp in (good, bad):
        for index in range(3):
            rp.create_hub(f"link-hub-{index}")
    assert good.rp_request("GET", group_path()).json()["nextLink"]
    first = bad.rp_request("GET", group_path()).json()
    assert len(first["value"]) == 2 and first["nextLink"] is None
    assert bad.rp_request("GET", f"/subscriptions/{SUB}/providers/Microsoft.Devices/IotHubs").json()["nextLink"] is None


def test_fault_rp_ignore_if_match():
    good, bad = hubs("rp-ignore-if-match")
    for rp, status, stored in ((good, 412, {"v": "1"}), (bad, 200, {"v": "2"})):
        rp.create_hub("im-hub", tags={"v": "1"})
        assert rp.put_hub("im-hub", headers={"If-Match": '"stale"'}, tags={"v": "2"}).status_code == status
        assert rp.get_hub("im-hub").json()["tags"] == stored
        assert rp.put_hub("im-hub", headers={"If-None-Match": "*"}, tags={"v": "3"}).status_code == status
        assert rp.delete_hub("im-hub", headers={"If-Match": '"stale"'}).status_code == 412
    assert bad.put_hub("missing-hub", headers={"If-Match": "*"}).status_code == 201


def test_fault_rp_delete_ignores_if_match():
    good, bad = hubs("rp-delete-ignores-if-match")
    for rp, status in ((good, 412), (bad, 202)):
        rp.create_hub("dim-hub")
        assert rp.put_hub("dim-hub", headers={"If-Match": '"stale"'}).status_code == 412
        assert rp.delete_hub("dim-hub", headers={"If-Match": '"stale"'}).status_code == status


def test_fault_rp_write_before_precondition():
    good, bad = hubs("rp-write-before-precondition")
    for rp, stored in ((good, {"v": "1"}), (bad, {"v": "2"})):
        rp.create_hub("wbp-hub", tags={"v": "1"})
        refused = rp.put_hub("wbp-hub", headers={"If-Match": '"stale"'}, tags={"v": "2"})
        assert refused.status_code == 412 and rp_error_code(refused) == "PreconditionFailed"
        assert rp.get_hub("wbp-hub").json()["tags"] == stored
    assert bad.put_hub("wbp-new", headers={"If-Match": '"x"'}).status_code == 412
    assert bad.get_hub("wbp-new").status_code == 404


def test_fault_rp_no_etag_header():
    good, bad = hubs("rp-no-etag-header")
    for rp, present in ((good, True), (bad, False)):
        created = rp.put_hub("etag-hub")
        assert ("etag" in created.headers) is present and created.json()["etag"]
        assert ("etag" in rp.get_hub("etag-hub").headers) is present


def test_fault_rp_state_as_name():
    # The docs dialect (docs-strict) shows properties.state; the fault names it as the real service does.
    good, bad = hubs("rp-state-as-name", profile=DOCS_STRICT)
    for rp, state in ((good, 1), (bad, "Active")):
        rp.create_hub("state-hub")
        assert rp.get_hub("state-hub").json()["properties"]["state"] == state


def test_fault_rp_etag_unchanged_on_update():
    good, bad = hubs("rp-etag-unchanged-on-update")
    for rp, same in ((good, False), (bad, True)):
        first = rp.create_hub("same-etag-hub")["etag"]
        updated = rp.put_hub("same-etag-hub", tags={"v": "2"})
        assert updated.status_code == 200 and (updated.json()["etag"] == first) is same
        assert rp.get_hub("same-etag-hub").json()["tags"] == {"v": "2"}
    assert bad.create_hub("other-hub")["etag"] != bad.get_hub("same-etag-hub").json()["etag"]


def consumer_group_urls(name: str) -> tuple[str, str]:
    return hub_path(name) + "/eventHubEndpoints/events/ConsumerGroups", hub_path(name) + "/events/ConsumerGroups"


def test_fault_rp_cg_create_ignored():
    good, bad = hubs("rp-cg-create-ignored")
    for rp, groups in ((good, ["$default", "a", "b"]), (bad, ["$default"])):
        rp.create_hub("cg-hub")
        arm16, docs = consumer_group_urls("cg-hub")
        assert rp.rp_request("PUT", arm16 + "/a").status_code == 200
        assert rp.rp_request("PUT", docs + "/b").status_code == 201
        assert rp.rp_request("GET", docs).json() == groups
        assert rp.rp_request("GET", arm16).json()["value"] == groups


def test_fault_rp_cg_delete_ignored():
    good, bad = hubs("rp-cg-delete-ignored")
    for rp, groups in ((good, ["$default"]), (bad, ["$default", "a", "b"])):
        rp.create_hub("cg-hub")
        arm16, docs = consumer_group_urls("cg-hub")
        rp.rp_request("PUT", arm16 + "/a")
        rp.rp_request("PUT", docs + "/b")
        assert rp.rp_request("DELETE", arm16 + "/a").status_code == 200
        assert rp.rp_request("DELETE", docs + "/b").status_code == 204
        assert rp.rp_request("GET", docs).json() == groups


def test_fault_rp_cg_missing_hub_succeeds():
    good, bad = hubs("rp-cg-missing-hub-succeeds")
    arm16, docs = consumer_group_urls("ghost-hub")
    for method, url in (("PUT", arm16 + "/a"), ("PUT", docs + "/a"), ("GET", docs), ("GET", arm16),
                        ("DELETE", docs + "/a")):
        assert good.rp_request(method, url).status_code == 404
    assert bad.rp_request("PUT", arm16 + "/a").status_code == 200
    assert bad.rp_request("PUT", docs + "/a").status_code == 201
    assert bad.rp_request("GET", docs).json() == ["$default"]
    assert bad.rp_request("GET", arm16).json()["value"] == ["$default"]
    assert bad.rp_request("DELETE", docs + "/a").status_code == 204
    assert bad.get_hub("ghost-hub").status_code == 404
    bad.create_hub("real-hub")
    bad.rp_request("PUT", consumer_group_urls("real-hub")[1] + "/kept")
    assert bad.rp_request("GET", consumer_group_urls("real-hub")[1]).json() == ["$default", "kept"]


def test_fault_rp_name_always_available():
    good, bad = hubs("rp-name-always-available")
    for rp, available in ((good, False), (bad, True)):
        rp.create_hub("taken-hub")
        assert rp.rp_request("POST", CHECK_NAME, json={"Name": "taken-hub"}).json()["nameAvailable"] is available
        assert rp.rp_request("POST", CHECK_NAME, json={"Name": "-bad"}).json()["nameAvailable"] is available
        assert rp.rp_request("POST", CHECK_NAME, json={"Name": "free-hub"}).json()["nameAvailable"] is True


def test_fault_rp_stats_zero():
    good, bad = hubs("rp-stats-zero")
    for rp, total in ((good, 2), (bad, 0)):
        rp.create_hub("stats-hub")
        rp.import_lines("stats-hub", [import_line("a"), import_line("b")])
        assert rp.rp_request("GET", hub_path("stats-hub") + "/IotHubStats").json()["totalDeviceCount"] == total
        quota = rp.rp_request("GET", hub_path("stats-hub") + "/quotaMetrics").json()["value"]
        assert next(item for item in quota if item["Name"] == "TotalDeviceCount")["CurrentValue"] == 2


def export(rp: ReferenceApi, name: str) -> str:
    response = rp.rp_request("POST", hub_path(name) + "/exportDevices", json={
        "ExportBlobContainerUri": rp.storage.container_uri("exports"), "ExcludeKeys": True})
    assert response.status_code == 200, response.text
    rp.advance(rp.provider.job_delay)
    return response.json()["jobId"]


def test_fault_rp_export_never_completes():
    good, bad = hubs("rp-export-never-completes")
    for rp, status in ((good, "completed"), (bad, "running")):
        rp.create_hub("export-hub")
        import_id = rp.import_lines("export-hub", [import_line("a")])
        job_id = export(rp, "export-hub")
        rp.advance(100)
        assert rp.hub_job("export-hub", job_id)["status"] == status
        assert rp.hub_job("export-hub", import_id)["status"] == "completed"
    assert "devices.txt" not in bad.storage.containers["exports"]


def test_fault_rp_import_ignores_blob():
    good, bad = hubs("rp-import-ignores-blob")
    for rp, total in ((good, 2), (bad, 0)):
        rp.create_hub("import-hub")
        job_id = rp.import_lines("import-hub", [import_line("a"), import_line("b")])
        assert rp.hub_job("import-hub", job_id)["status"] == "completed"
        assert rp.rp_request("GET", hub_path("import-hub") + "/IotHubStats").json()["totalDeviceCount"] == total
        assert rp.hub_job("import-hub", export(rp, "import-hub"))["status"] == "completed"
    exported = bad.storage.containers["exports"]["devices.txt"].decode()
    assert exported == ""  # the export ran over the registry the import left empty
    assert [json.loads(text)["id"] for text in good.storage.containers["exports"]["devices.txt"].decode().splitlines()
            ] == ["a", "b"]


def test_fault_rp_quota_values_as_strings():
    good, bad = hubs("rp-quota-values-as-strings")
    for rp, kind in ((good, int), (bad, str)):
        rp.create_hub("quota-hub")
        items = rp.rp_request("GET", hub_path("quota-hub") + "/quotaMetrics").json()["value"]
        assert items and all(isinstance(m["CurrentValue"], kind) and isinstance(m["MaxValue"], kind) for m in items)


def test_faults_are_per_hub():
    """A fault switch of one reference leaves another reference alone (GROUP is only a name here)."""
    bad = rp_api(faults=["rp-nextlink-dropped"])
    good = rp_api()
    for rp in (good, bad):
        for index in range(3):
            rp.create_hub(f"iso-hub-{index}", group=GROUP)
    assert good.rp_request("GET", group_path()).json()["nextLink"]

"""The reference's resource provider (ARM, api-version 2016-02-03: the rp__*.md pages, INVENTORY §1, §2c, §7 items 8-9),
request by request. Time moves by hub.clock.advance, never by sleeping; blobs live in reference/storage.py's
MemoryStorage."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iothub_conformance.reference import REFERENCE_RP_TOKEN, Hub, create_app
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.reference_api import (
    API,
    GROUP,
    SUB,
    group_path,
    hub_body,
    hub_path,
    import_line,
    rp_api,
    rp_error_code,
)

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
JSON_TYPE = "application/json; charset=utf-8"
RIGHTS = ("RegistryRead", "RegistryWrite", "ServiceConnect", "DeviceConnect")


# -- create, get, update, delete -------------------------------------------------------------------------------------

def test_create_is_a_long_running_operation_ending_after_the_delay():
    rp = rp_api()
    created = rp.put_hub("hub-a", tags={"k": "v"})
    assert created.status_code == 201
    assert created.headers["content-type"] == JSON_TYPE and GUID.match(created.headers["x-ms-request-id"])
    payload = created.json()
    assert created.headers["etag"] == f'"{payload["etag"]}"'
    assert payload["properties"]["provisioningState"] == "Activating"
    status_url = created.headers["azure-asyncoperation"]
    parts = urlsplit(status_url)
    assert (parts.scheme, parts.netloc) == ("https", "management.conformance.local")
    assert parts.path.startswith(f"/subscriptions/{SUB}/providers/Microsoft.Devices/")
    assert parse_qs(parts.query)["api-version"] == ["2016-02-03"]

    running = rp.status(status_url)
    assert running.status_code == 200 and running.json() == {"status": "InProgress"}
    assert int(running.headers["retry-after"]) >= 1
    got = rp.get_hub("hub-a")
    assert got.status_code == 200 and got.json()["properties"]["provisioningState"] == "Activating"

    rp.advance(0.5)
    assert rp.status(status_url).json() == {"status": "InProgress"}
    rp.advance(0.5)
    done = rp.status(status_url)
    assert done.json() == {"status": "Succeeded"} and "retry-after" not in done.headers
    got = rp.get_hub("hub-a")
    assert got.json()["properties"]["provisioningState"] == "Succeeded"
    assert got.headers["etag"] == f'"{payload["etag"]}"' and got.json()["etag"] == payload["etag"]
    assert rp.status(status_url).headers["x-ms-request-id"] != done.headers["x-ms-request-id"]


def test_the_delay_is_the_providers_delay():
    rp = rp_api()
    rp.provider.delay = 30
    status_url = rp.put_hub("slow-hub").headers["azure-asyncoperation"]
    assert rp.status(status_url).headers["retry-after"] == "30"
    rp.advance(29.5)
    assert rp.status(status_url).json()["status"] == "InProgress"
    assert rp.status(status_url).headers["retry-after"] == "1"
    rp.advance(1)
    assert rp.status(status_url).json()["status"] == "Succeeded"


def test_arm16_hub_shape():
    rp = rp_api()
    created = rp.create_hub("Shape-Hub", tags={"owner": "me"}, sku="S2", capacity=3, properties={
        "eventHubEndpoints": {"events": {"retentionTimeInDays": 3, "partitionCount": 4}},
        "cloudToDevice": {"maxDeliveryCount": 20, "defaultTtlAsIso8601": "PT2H",
                          "feedback": {"maxDeliveryCount": 5, "ttlAsIso8601": "PT3H", "lockDurationAsIso8601": "PT30S"}}})
    got = rp.get_hub("shape-hub").json()  # names compare case-insensitively
    assert set(got) == {"id", "name", "type", "location", "tags", "subscriptionid", "resourcegroup", "etag",
                        "properties", "sku"}
    assert got["id"] == hub_path("Shape-Hub") and got["name"] == "Shape-Hub"
    assert got["type"] == "Microsoft.Devices/IotHubs" and got["location"] == "West US" and got["tags"] == {"owner": "me"}
    assert (got["subscriptionid"], got["resourcegroup"]) == (SUB, GROUP)
    assert got["sku"] == {"name": "S2", "tier": "Standard", "capacity": 3}
    properties = got["properties"]
    assert properties["authorizationPolicies"] is None
    assert properties["hostName"] == "shape-hub.azure-devices.net"
    events = properties["eventHubEndpoints"]["events"]
    assert (events["retentionTimeInDays"], events["partitionCount"], events["partitionIds"]) == (3, 4, ["0", "1", "2", "3"])
    assert isinstance(events["path"], str) and events["endpoint"].startswith("sb://")
    assert set(properties["eventHubEndpoints"]["operationsMonitoringEvents"]) == set(events)
    assert properties["cloudToDevice"] == {"maxDeliveryCount": 20, "defaultTtlAsIso8601": "PT2H", "feedback": {
        "maxDeliveryCount": 5, "ttlAsIso8601": "PT3H", "lockDurationAsIso8601": "PT30S"}}
    assert properties["provisioningState"] == "Succeeded"
    # The PUT answer carried the keys: the default policies in ARM16 shape.
    policies = {item["keyName"]: item for item in created["properties"]["authorizationPolicies"]}
    assert set(policies) == {"iothubowner", "service", "device", "registryRead", "registryReadWrite"}
    assert policies["iothubowner"]["rights"] == ", ".join(RIGHTS)
    assert policies["registryReadWrite"]["rights"] == "RegistryRead, RegistryWrite"
    assert all(len(item["primaryKey"]) == 44 and item["primaryKey"] != item["secondaryKey"] for item in policies.values())


def test_policies_in_either_shape_and_generated_keys():
    rp = rp_api()
    key = "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLiE="
    created = rp.create_hub("policy-hub", properties={"authorizationPolicies": [
        {"keyName": "a", "primaryKey": key, "rights": "DeviceConnect, RegistryRead"},
        {"name": "b", "permissions": ["ServiceConnect"], "secondaryKey": key}]})
    policies = {item["keyName"]: item for item in created["properties"]["authorizationPolicies"]}
    assert policies["a"]["rights"] == "RegistryRead, DeviceConnect" and policies["a"]["primaryKey"] == key
    assert policies["b"]["rights"] == "ServiceConnect" and policies["b"]["secondaryKey"] == key
    assert policies["b"]["primaryKey"] not in (key, "")
    assert rp.hub_keys("policy-hub") == policies
    # The hub's own registry takes the same policies and keys.
    registry = rp.provider.find(SUB, GROUP, "policy-hub").registry
    assert registry.policies["a"].key == key and registry.host_name == "policy-hub.azure-devices.net"


def test_update_answers_200_with_a_fresh_etag_and_is_stored():
    rp = rp_api()
    first = rp.create_hub("upd-hub")
    updated = rp.put_hub("upd-hub", tags={"new": "tag"}, capacity=2)
    assert updated.status_code == 200 and "azure-asyncoperation" not in updated.headers
    assert updated.json()["etag"] != first["etag"]
    assert updated.headers["etag"] == f'"{updated.json()["etag"]}"'
    assert updated.json()["properties"]["authorizationPolicies"]  # a PUT answer carries the keys
    got = rp.get_hub("upd-hub").json()
    assert got["tags"] == {"new": "tag"} and got["sku"]["capacity"] == 2 and got["etag"] == updated.json()["etag"]
    again = rp.put_hub("upd-hub", tags={"new": "tag"}, capacity=2)
    assert again.json()["etag"] not in (first["etag"], updated.json()["etag"])


def test_delete_is_a_long_running_operation_through_terminating():
    rp = rp_api()
    rp.create_hub("del-hub")
    deleted = rp.delete_hub("del-hub")
    assert deleted.status_code == 202 and deleted.content == b""
    assert int(deleted.headers["retry-after"]) >= 1
    location, status_url = deleted.headers["location"], deleted.headers["azure-asyncoperation"]
    for url in (location, status_url):
        parts = urlsplit(url)
        assert parts.netloc == "management.conformance.local" and "api-version=2016-02-03" in parts.query
    assert rp.get_hub("del-hub").json()["properties"]["provisioningState"] == "Terminating"
    pending = rp.status(location)
    assert pending.status_code == 202 and int(pending.headers["retry-after"]) >= 1
    assert rp.status(status_url).json() == {"status": "InProgress"}
    rp.advance()
    result = rp.status(location)
    assert result.status_code == 200 and result.content == b""
    assert rp.status(status_url).json() == {"status": "Succeeded"}
    gone = rp.get_hub("del-hub")
    assert gone.status_code == 404 and rp_error_code(gone) == "ResourceNotFound"
    assert rp.delete_hub("del-hub").status_code == 204
    assert rp.rp_request("GET", f"/subscriptions/{SUB}/providers/Microsoft.Devices/IotHubs").json()["value"] == []


def test_a_hub_can_be_recreated_after_its_delete():
    rp = rp_api()
    rp.create_hub("again-hub")
    rp.delete_hub("again-hub")
    rp.advance()
    assert rp.put_hub("again-hub").status_code == 201


# -- lists -----------------------------------------------------------------------------------------------------------

def test_hub_lists_page_with_absolute_next_links():
    rp = rp_api()
    names = [f"list-hub-{index}" for index in range(5)]
    for name in reversed(names):
        rp.create_hub(name)
    rp.create_hub("other-group-hub", group="other")
    pages = rp.pages(group_path())
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item["name"] for page in pages for item in page] == names
    assert all(item["properties"]["authorizationPolicies"] is None for page in pages for item in page)
    first = rp.rp_request("GET", group_path()).json()
    parts = urlsplit(first["nextLink"])
    assert parts.netloc == "management.conformance.local" and parse_qs(parts.query)["api-version"] == ["2016-02-03"]
    everything = rp.pages(f"/subscriptions/{SUB}/providers/Microsoft.Devices/IotHubs")
    assert sorted(item["name"] for page in everything for item in page) == sorted([*names, "other-group-hub"])
    assert rp.rp_request("GET", group_path("nobody")).json() == {"value": [], "nextLink": None}
    rp.provider.page_size = 10
    assert rp.rp_request("GET", group_path()).json()["nextLink"] is None


def test_next_links_follow_the_requests_scheme_and_host():
    rp = rp_api(base_url="http://127.0.0.1:8123")
    rp.create_hub("host-hub-1")
    rp.create_hub("host-hub-2")
    rp.create_hub("host-hub-3")
    link = rp.rp_request("GET", group_path()).json()["nextLink"]
    assert link.startswith("http://127.0.0.1:8123/subscriptions/")
    assert rp.put_hub("host-hub-4").headers["azure-asyncoperation"].startswith("http://127.0.0.1:8123/subscriptions/")


# -- keys ------------------------------------------------------------------------------------------------------------

def test_list_keys_both_paths_and_key_by_name():
    rp = rp_api()
    created = rp.create_hub("keys-hub")
    arm16 = rp.rp_request("POST", hub_path("keys-hub") + "/listkeys")
    assert arm16.status_code == 200 and arm16.json()["nextLink"] is None
    assert arm16.json()["value"] == created["properties"]["authorizationPolicies"]
    docs = rp.rp_request("POST", hub_path("keys-hub") + "/IoTHubKeys/listkeys")
    assert docs.status_code == 200
    by_name = {item["name"]: item for item in docs.json()["authorizationPolicies"]}
    assert by_name["registryReadWrite"]["permissions"] == ["RegistryRead", "RegistryWrite"]
    assert {name: item["primaryKey"] for name, item in by_name.items()} == {
        item["keyName"]: item["primaryKey"] for item in arm16.json()["value"]}
    one = rp.rp_request("POST", hub_path("keys-hub") + "/IotHubKeys/SERVICE/listkeys")
    assert one.status_code == 200 and one.json() == rp.hub_keys("keys-hub")["service"]
    unknown = rp.rp_request("POST", hub_path("keys-hub") + "/IotHubKeys/nobody/listkeys")
    assert unknown.status_code == 404 and rp_error_code(unknown) == "ResourceNotFound"
    for path in ("/listkeys", "/IoTHubKeys/listkeys", "/IotHubKeys/service/listkeys"):
        assert rp.rp_request("POST", hub_path("no-such-hub") + path).status_code == 404


# -- consumer groups -------------------------------------------------------------------------------------------------

def test_arm16_consumer_groups():
    rp = rp_api()
    rp.create_hub("cg-hub")
    base = hub_path("cg-hub") + "/eventHubEndpoints/events/ConsumerGroups"
    assert rp.rp_request("GET", base).json() == {"value": ["$default"], "nextLink": None}
    created = rp.rp_request("PUT", base + "/readers")
    assert created.status_code == 200
    assert created.json() == {"tags": {}, "id": hub_path("cg-hub") + "/eventHubEndpoints/events/ConsumerGroups/readers",
                              "name": "readers"}
    assert rp.rp_request("GET", base + "/readers").json()["name"] == "readers"
    assert rp.rp_request("GET", base).json()["value"] == ["$default", "readers"]
    monitoring = hub_path("cg-hub") + "/eventHubEndpoints/operationsMonitoringEvents/ConsumerGroups"
    assert rp.rp_request("GET", monitoring).json()["value"] == ["$default"]
    deleted = rp.rp_request("DELETE", base + "/readers")
    assert deleted.status_code == 200 and deleted.content == b""
    missing = rp.rp_request("GET", base + "/readers")
    assert missing.status_code == 404 and rp_error_code(missing) == "ResourceNotFound"
    unknown = hub_path("cg-hub") + "/eventHubEndpoints/nowhere/ConsumerGroups"
    assert rp.rp_request("GET", unknown).status_code == 404
    assert rp.rp_request("PUT", unknown + "/x").status_code == 404


def test_docs_consumer_groups_share_the_events_endpoint():
    rp = rp_api()
    rp.create_hub("docs-cg-hub")
    base = hub_path("docs-cg-hub") + "/events/ConsumerGroups"
    created = rp.rp_request("PUT", base + "/cg1")
    assert created.status_code == 201 and created.content == b""
    listed = rp.rp_request("GET", base)
    assert listed.status_code == 200 and listed.json() == ["$default", "cg1"]
    arm16 = hub_path("docs-cg-hub") + "/eventHubEndpoints/events/ConsumerGroups"
    assert rp.rp_request("GET", arm16).json()["value"] == ["$default", "cg1"]
    deleted = rp.rp_request("DELETE", base + "/cg1")
    assert deleted.status_code == 204 and deleted.content == b""
    assert rp.rp_request("GET", base).json() == ["$default"]


def test_consumer_groups_of_a_missing_hub_are_404():
    rp = rp_api()
    arm16 = hub_path("ghost") + "/eventHubEndpoints/events/ConsumerGroups"
    docs = hub_path("ghost") + "/events/ConsumerGroups"
    for method, url in (("GET", arm16), ("GET", arm16 + "/$default"), ("PUT", arm16 + "/a"), ("DELETE", arm16 + "/a"),
                        ("GET", docs), ("PUT", docs + "/a"), ("DELETE", docs + "/a")):
        response = rp.rp_request(method, url)
        assert response.status_code == 404 and rp_error_code(response) == "ResourceNotFound", (method, url)


# -- registry: import, export, stats, jobs ---------------------------------------------------------------------------

def test_stats_count_the_devices_an_import_through_the_rp_made():
    rp = rp_api()
    rp.create_hub("stats-hub")
    stats_url = hub_path("stats-hub") + "/IotHubStats"
    assert rp.rp_request("GET", stats_url).json() == {"totalDeviceCount": 0, "enabledDeviceCount": 0,
                                                   "disabledDeviceCount": 0}
    job_id = rp.import_lines("stats-hub", [import_line("d1"), import_line("d2"), import_line("d3", "disabled")])
    assert rp.rp_request("GET", stats_url).json() == {"totalDeviceCount": 3, "enabledDeviceCount": 2,
                                                   "disabledDeviceCount": 1}
    job = rp.hub_job("stats-hub", job_id)
    assert job["status"] == "completed" and job["type"] == "import"
    # The parent hub's own data plane is untouched: each managed hub has its own registry.
    assert rp.hub.devices == {}
    quota = rp.rp_request("GET", hub_path("stats-hub") + "/quotaMetrics").json()
    devices = next(item for item in quota["value"] if item["Name"] == "TotalDeviceCount")
    assert devices["CurrentValue"] == 3


def test_export_through_the_rp_and_the_jobs_list():
    rp = rp_api()
    rp.create_hub("export-hub")
    rp.import_lines("export-hub", [import_line("e1"), import_line("e2")])
    started = rp.rp_request("POST", hub_path("export-hub") + "/exportDevices", json={
        "ExportBlobContainerUri": rp.storage.container_uri("exports"), "ExcludeKeys": False})
    assert started.status_code == 200
    job = started.json()
    assert set(job) == {"jobId", "startTimeUtc", "endTimeUtc", "type", "status", "failureReason", "statusMessage",
                        "parentJobId"}
    assert job["type"] == "export" and job["status"] == "enqueued"
    rp.advance(rp.provider.job_delay)
    done = rp.hub_job("export-hub", job["jobId"])
    assert done["status"] == "completed" and done["endTimeUtc"]
    exported = [json.loads(text) for text in rp.storage.containers["exports"]["devices.txt"].decode().splitlines()]
    assert [item["id"] for item in exported] == ["e1", "e2"]
    assert exported[0]["authentication"]["symmetricKey"]["primaryKey"]
    listed = rp.rp_request("GET", hub_path("export-hub") + "/jobs").json()
    assert listed["nextLink"] is None and [item["type"] for item in listed["value"]] == ["import", "export"]
    unknown = rp.rp_request("GET", hub_path("export-hub") + "/jobs/nope")
    assert unknown.status_code == 404 and rp_error_code(unknown) == "ResourceNotFound"


def test_export_and_import_bodies_in_the_docs_spelling():
    rp = rp_api()
    rp.create_hub("spelling-hub")
    export = rp.rp_request("POST", hub_path("spelling-hub") + "/exportDevices", json={
        "outputBlobContainerUri ": rp.storage.container_uri("x"), "excludeKeysInExport ": True})
    assert export.status_code == 200
    imported = rp.rp_request("POST", hub_path("spelling-hub") + "/importDevices", json={
        "inputBlobContainerUri": rp.storage.container_uri("in"), "exportBlobContainerUri ": rp.storage.container_uri("x")})
    assert imported.status_code == 200 and imported.json()["type"] == "import"


@pytest.mark.parametrize("path, payload", [
    ("exportDevices", {}),
    ("exportDevices", {"ExportBlobContainerUri": "not a url"}),
    ("exportDevices", {"ExportBlobContainerUri": "https://a.blob.core.windows.net/c?sig=x", "ExcludeKeys": "yes"}),
    ("importDevices", {"InputBlobContainerUri": "https://a.blob.core.windows.net/c?sig=x"}),
    ("importDevices", ["not", "an", "object"]),
])
def test_bad_job_requests_are_400(path, payload):
    rp = rp_api()
    rp.create_hub("job-400-hub")
    response = rp.rp_request("POST", hub_path("job-400-hub") + "/" + path, json=payload)
    assert response.status_code == 400 and rp_error_code(response) == "InvalidRequestContent"
    assert "sig=x" not in response.text  # a SAS is never repeated
    # The body is judged before existence.
    assert rp.rp_request("POST", hub_path("no-hub") + "/" + path, json=payload).status_code == 400
    good = {"ExportBlobContainerUri": "https://a.blob.core.windows.net/c?sig=x", "ExcludeKeys": True}
    assert rp.rp_request("POST", hub_path("no-hub") + "/exportDevices", json=good).status_code == 404


def test_skus_and_quota_metrics():
    rp = rp_api()
    rp.create_hub("sku-hub", sku="S3", capacity=2)
    skus = rp.rp_request("GET", hub_path("sku-hub") + "/skus")
    assert skus.status_code == 200 and skus.json()["nextLink"] is None
    items = skus.json()["value"]
    assert {item["sku"]["name"]: item["sku"]["tier"] for item in items} == {
        "F1": "Free", "S1": "Standard", "S2": "Standard", "S3": "Standard"}
    for item in items:
        assert item["resourceType"] == "Microsoft.Devices/IotHubs"
        assert set(item["capacity"]) == {"minimum", "maximum", "default", "scaleType"}
        assert item["capacity"]["minimum"] == 1 <= item["capacity"]["default"] <= item["capacity"]["maximum"]
    quota = rp.rp_request("GET", hub_path("sku-hub") + "/quotaMetrics")
    assert quota.status_code == 200 and quota.json()["nextLink"] is None
    assert all(set(item) == {"Name", "CurrentValue", "MaxValue"} for item in quota.json()["value"])
    for path in ("/skus", "/quotaMetrics", "/IotHubStats", "/jobs", "/jobs/x"):
        assert rp.rp_request("GET", hub_path("no-hub") + path).status_code == 404


# -- names -----------------------------------------------------------------------------------------------------------

def test_check_name_availability():
    rp = rp_api()
    rp.create_hub("Taken-Name", group="elsewhere")
    url = f"/subscriptions/{SUB}/providers/Microsoft.Devices/checkNameAvailability"
    assert rp.rp_request("POST", url, json={"Name": "free-name"}).json() == {
        "nameAvailable": True, "reason": None, "message": None}
    taken = rp.rp_request("POST", url, json={"Name": "taken-name"}).json()
    assert taken["nameAvailable"] is False and taken["reason"] == "AlreadyExists" and taken["message"]
    other_subscription = "/subscriptions/another/providers/Microsoft.Devices/checkNameAvailability"
    assert rp.rp_request("POST", other_subscription, json={"name": "TAKEN-NAME"}).json()["reason"] == "AlreadyExists"
    for invalid in ("ab", "-abc", "1234", "abc-", "a" * 51, "has space", "ünï"):
        answer = rp.rp_request("POST", url, json={"Name": invalid}).json()
        assert (answer["nameAvailable"], answer["reason"]) == (False, "Invalid") and answer["message"], invalid
    for bad in (b"not json", b"[]", b'{"Name": 3}', b"{}"):
        response = rp.rp_request("POST", url, content=bad, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and rp_error_code(response) == "InvalidRequestContent"


# -- conditions ------------------------------------------------------------------------------------------------------

CONDITION_HEADERS = {
    "none": lambda etag: {},
    "if-match:*": lambda etag: {"If-Match": "*"},
    "if-match:current": lambda etag: {"If-Match": f'"{etag}"'},
    "if-match:stale": lambda etag: {"If-Match": '"stale-etag"'},
    "if-none-match:*": lambda etag: {"If-None-Match": "*"},
}


def condition_rows():
    for profile in (IOTHUB, DOCS_STRICT):
        for (method, condition, exists), statuses in profile.value("rp_conditions").items():
            yield pytest.param(profile, method, condition, exists, statuses,
                               id=f"{profile.name}-{method}-{condition}-{'exists' if exists else 'missing'}")


@pytest.mark.parametrize("profile, method, condition, exists, statuses", list(condition_rows()))
def test_every_row_of_the_condition_tables(profile, method, condition, exists, statuses):
    rp = rp_api(profile=profile)
    etag = rp.create_hub("cond-hub", tags={"v": "1"})["etag"] if exists else "none"
    headers = CONDITION_HEADERS[condition](etag)
    if method == "PUT":
        response = rp.put_hub("cond-hub", headers=headers, tags={"v": "2"})
    else:
        response = rp.delete_hub("cond-hub", headers=headers)
    assert response.status_code in statuses, response.text
    got = rp.get_hub("cond-hub")
    if response.status_code == 412:
        assert rp_error_code(response) == "PreconditionFailed"
        if exists:  # a 412 changes nothing
            assert got.json()["etag"] == etag and got.json()["tags"] == {"v": "1"}
            assert got.json()["properties"]["provisioningState"] == "Succeeded"
        else:
            assert got.status_code == 404
    elif method == "PUT":
        assert got.json()["tags"] == {"v": "2"} and got.json()["etag"] == response.json()["etag"] != etag


@pytest.mark.parametrize("header, matches", [
    ('"{etag}"', True), ("{etag}", True), ('"a", "{etag}"', True), ('a,{etag}', True), ('W/"{etag}"', False),
    ('"a", "b"', False), ('""', True), ("*", True),
])
def test_if_match_forms(header, matches):
    rp = rp_api()
    etag = rp.create_hub("forms-hub")["etag"]
    response = rp.put_hub("forms-hub", headers={"If-Match": header.format(etag=etag)})
    assert response.status_code == (200 if matches else 412)
    etag = rp.create_hub("forms-hub-2")["etag"]
    deleted = rp.delete_hub("forms-hub-2", headers={"If-Match": header.format(etag=etag)})
    assert deleted.status_code == (202 if matches else 412)


def test_if_none_match_star_refuses_an_update_but_allows_a_create():
    rp = rp_api()
    assert rp.put_hub("inm-hub", headers={"If-None-Match": "*"}).status_code == 201
    assert rp.put_hub("inm-hub", headers={"If-None-Match": "*"}).status_code == 412
    assert rp.delete_hub("ghost-hub", headers={"If-Match": '"whatever"'}).status_code == 204


# -- auth, api-version, envelope -------------------------------------------------------------------------------------

SAMPLE_ROUTES = [
    ("GET", hub_path("auth-hub")), ("PUT", hub_path("auth-hub")), ("DELETE", hub_path("auth-hub")),
    ("GET", group_path()), ("GET", f"/subscriptions/{SUB}/providers/Microsoft.Devices/IotHubs"),
    ("POST", hub_path("auth-hub") + "/listkeys"), ("POST", hub_path("auth-hub") + "/IoTHubKeys/listkeys"),
    ("POST", hub_path("auth-hub") + "/IotHubKeys/iothubowner/listkeys"),
    ("GET", hub_path("auth-hub") + "/eventHubEndpoints/events/ConsumerGroups"),
    ("PUT", hub_path("auth-hub") + "/events/ConsumerGroups/x"), ("GET", hub_path("auth-hub") + "/IotHubStats"),
    ("GET", hub_path("auth-hub") + "/skus"), ("GET", hub_path("auth-hub") + "/quotaMetrics"),
    ("GET", hub_path("auth-hub") + "/jobs"), ("POST", hub_path("auth-hub") + "/exportDevices"),
    ("POST", f"/subscriptions/{SUB}/providers/Microsoft.Devices/checkNameAvailability"),
    ("GET", f"/subscriptions/{SUB}/providers/Microsoft.Devices/operationStatuses/x"),
    ("GET", f"/subscriptions/{SUB}/providers/Microsoft.Devices/operationResults/x"),
]


@pytest.mark.parametrize("method, path", SAMPLE_ROUTES)
def test_tokens_are_checked_before_api_version(method, path):
    rp = rp_api()
    for token, params in ((None, API), ("wrong-token", API), (None, {}), ("wrong-token", {"api-version": "1999"})):
        response = rp.rp_request(method, path, token=token, params=params)
        assert response.status_code == 401 and rp_error_code(response) in ("AuthenticationFailed",
                                                                      "InvalidAuthenticationToken")
        assert GUID.match(response.headers["x-ms-request-id"]) and response.headers["www-authenticate"] == "Bearer"
    basic = rp.client.request(method, path, params=API, headers={"Authorization": f"Basic {REFERENCE_RP_TOKEN}"})
    assert basic.status_code == 401
    missing = rp.rp_request(method, path, params={})
    assert missing.status_code == 400 and rp_error_code(missing) == "MissingApiVersionParameter"
    for wrong in ({"api-version": "2016-11-14"}, [("api-version", "2016-02-03"), ("api-version", "2017")]):
        response = rp.rp_request(method, path, params=wrong)
        assert response.status_code == 400 and rp_error_code(response) == "UnsupportedApiVersionValue"


def test_the_token_is_the_providers_token():
    rp = rp_api()
    rp.provider.token = "another-token"
    assert rp.rp_request("GET", group_path(), token=REFERENCE_RP_TOKEN).status_code == 401
    assert rp.rp_request("GET", group_path(), token="another-token").status_code == 200


def test_an_app_made_for_a_hub_serves_a_provider_with_what_the_hub_was_given():
    # What `serve --rp-delay` and the embedded target rely on: the hub's rp_* settings, clock and faults reach the
    # provider create_app builds beside it.
    hub = Hub.create(faults=["rp-stats-zero"])
    hub.rp_token, hub.rp_delay, hub.rp_page_size = "given-token", 7.0, 5
    provider = create_app(hub).state.rp
    assert (provider.token, provider.delay, provider.page_size) == ("given-token", 7.0, 5)
    assert provider.clock is hub.clock and provider.has("rp-stats-zero") and provider.profile is hub.profile
    assert REFERENCE_RP_TOKEN == Hub.create().rp_token


def test_routing_errors_under_subscriptions_use_error_details():
    rp = rp_api()
    missing = rp.rp_request("GET", f"/subscriptions/{SUB}/nothing/here")
    assert missing.status_code == 404 and rp_error_code(missing) == "NotFound"
    assert GUID.match(missing.headers["x-ms-request-id"])
    wrong_method = rp.rp_request("PATCH", hub_path("any"))
    assert wrong_method.status_code == 405 and rp_error_code(wrong_method) == "MethodNotAllowed"
    assert wrong_method.headers["allow"] == "DELETE, GET, HEAD, PUT"
    # The data plane keeps its own envelope.
    data_plane = rp.client.get("/nothing", params=API)
    assert data_plane.status_code == 404 and "Code" not in data_plane.json()
    unknown = rp.rp_request("GET", f"/subscriptions/{SUB}/providers/Microsoft.Devices/operationStatuses/nope")
    assert unknown.status_code == 404 and rp_error_code(unknown) == "ResourceNotFound"


def test_operations_belong_to_their_subscription():
    rp = rp_api()
    status_url = rp.put_hub("sub-hub").headers["azure-asyncoperation"]
    assert rp.status(status_url.replace(f"/subscriptions/{SUB}/", "/subscriptions/other/")).status_code == 404
    assert rp.status(status_url.replace("operationStatuses", "operationResults")).status_code == 404  # a create


def test_a_hub_per_subscription_and_group():
    rp = rp_api()
    rp.create_hub("same-name", group="g1")
    assert rp.get_hub("same-name", group="g2").status_code == 404
    assert rp.get_hub("SAME-NAME", group="G1").status_code == 200


# -- bad input -------------------------------------------------------------------------------------------------------

BAD_BODIES = [
    b"not json", b"[]", b"null", b'{"location": "West US", "sku": {"name": "S1", "capacity": NaN}}',
    json.dumps({"sku": {"name": "S1", "capacity": 1}}).encode(),
    json.dumps({"location": 3, "sku": {"name": "S1", "capacity": 1}}).encode(),
    json.dumps(hub_body(sku="S9")).encode(), json.dumps(hub_body(capacity=0)).encode(),
    json.dumps(hub_body(capacity=-1)).encode(), json.dumps(hub_body(capacity=1.5)).encode(),
    json.dumps(hub_body(capacity=True)).encode(), json.dumps(hub_body(capacity=2**63)).encode(),
    json.dumps(hub_body(sku="F1", capacity=2)).encode(),
    json.dumps({"location": "West US", "sku": {"name": "F1", "capacity": 1, "tier": "Standard"}}).encode(),
    json.dumps({"location": "West US", "sku": {"name": "S1", "capacity": 1, "tier": "Free"}}).encode(),
    json.dumps({"location": "West US", "sku": "S1"}).encode(),
    json.dumps({"location": "West US"}).encode(),
    json.dumps(hub_body(tags={"a": 1})).encode(), json.dumps(hub_body(tags=["a"])).encode(),
    json.dumps(hub_body(properties=[])).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": {}})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [{"keyName": "a", "rights": "Everything"}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [{"keyName": "a", "rights": ""}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [{"name": "a", "permissions": []}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [{"name": "a", "permissions": ["Admin"]}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [{"name": "a", "permissions": "RegistryRead"}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [{"permissions": ["RegistryRead"]}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [
        {"name": "a", "permissions": ["RegistryRead"]}, {"keyName": "A", "rights": "RegistryRead"}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [
        {"name": "a", "permissions": ["RegistryRead"], "primaryKey": "not base64!"}]})).encode(),
    json.dumps(hub_body(properties={"authorizationPolicies": [
        {"name": "a", "permissions": ["RegistryRead"], "secondaryKey": 12}]})).encode(),
    json.dumps(hub_body(properties={"cloudToDevice": {"maxDeliveryCount": 0}})).encode(),
    json.dumps(hub_body(properties={"cloudToDevice": {"maxDeliveryCount": 101}})).encode(),
    json.dumps(hub_body(properties={"cloudToDevice": {"feedback": {"maxDeliveryCount": 101}}})).encode(),
    json.dumps(hub_body(properties={"cloudToDevice": {"defaultTtlAsIso8601": "one hour"}})).encode(),
    json.dumps(hub_body(properties={"eventHubEndpoints": {"events": {"partitionCount": "4"}}})).encode(),
    json.dumps(hub_body(properties={"eventHubEndpoints": {"events": {"partitionCount": 10**6}}})).encode(),
    json.dumps(hub_body(properties={"eventHubEndpoints": {"events": {"retentionTimeInDays": 0}}})).encode(),
    json.dumps(hub_body(properties={"eventHubEndpoints": {"events": []}})).encode(),
]


@pytest.mark.parametrize("raw", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_hub_bodies_are_400_error_details(raw):
    rp = rp_api()
    response = rp.rp_request("PUT", hub_path("bad-body-hub"), content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert rp_error_code(response) == "InvalidRequestContent"
    assert rp.get_hub("bad-body-hub").status_code == 404


@pytest.mark.parametrize("name", ["ab", "-hub", "hub-", "12345", "a" * 51, "hub_1", "hub.1"])
def test_invalid_hub_names_are_400(name):
    rp = rp_api()
    response = rp.put_hub(name)
    assert response.status_code == 400 and rp_error_code(response) == "InvalidResourceName"
    assert rp.get_hub(name).status_code == 404


def test_good_bodies_that_are_accepted():
    rp = rp_api()
    assert rp.put_hub("f1-hub", payload={"location": "West US", "sku": {"name": "F1", "capacity": 1, "tier": "Free"}}
                  ).json()["sku"] == {"name": "F1", "tier": "Free", "capacity": 1}
    assert rp.put_hub("null-hub", payload={**hub_body(), "tags": None, "properties": None}).status_code == 201
    assert rp.put_hub("digits-1", payload=hub_body(properties={"authorizationPolicies": []})).json()[
        "properties"]["authorizationPolicies"] == []
    lower = rp.put_hub("lower-sku", payload={"location": "x", "sku": {"name": "s1", "capacity": 5, "tier": "standard"}})
    assert lower.json()["sku"] == {"name": "S1", "tier": "Standard", "capacity": 5}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
FIELDS = st.sampled_from(["location", "sku", "tags", "properties", "name", "capacity", "tier", "authorizationPolicies",
                          "eventHubEndpoints", "cloudToDevice", "keyName", "rights", "permissions", "primaryKey"])
HUB_BODIES = st.recursive(
    st.fixed_dictionaries({}, optional={"location": st.just("West US") | JSON_VALUES,
                                        "sku": st.fixed_dictionaries({"name": st.sampled_from(["F1", "S1", "S3", "X"]),
                                                                      "capacity": st.integers(-2, 3)}) | JSON_VALUES}),
    lambda children: st.dictionaries(FIELDS, children | JSON_VALUES, max_size=4),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=HUB_BODIES | JSON_VALUES, raw=st.binary(max_size=40))
def test_fuzzed_hub_bodies_never_make_a_server_error(payload, raw):
    rp = FUZZ
    for content in (json.dumps(payload).encode(), raw):
        response = rp.rp_request("PUT", hub_path("fuzz-hub"), content=content, headers={"Content-Type": "application/json"})
        assert response.status_code in (200, 201, 400), response.text
        if response.status_code == 400:
            assert rp_error_code(response) in ("InvalidRequestContent", "InvalidResourceName")


FUZZ = rp_api()


# -- the docs dialect ------------------------------------------------------------------------------------------------

def test_docs_dialect_hub_shape_update_and_lists():
    rp = rp_api(profile=DOCS_STRICT)
    created = rp.put_hub("docs-hub", payload={
        "location": "West US", "sku": {"name": "S1", "tier": "Standard", "capacity": 1},
        "properties": {"authorizationPolicies": [{"name": "owner", "permissions": ["RegistryRead", "ServiceConnect"]}],
                       "eventHubEndpoints": {"events": {"messageRetentionInDays": 2, "partitionCount": 3}}}})
    assert created.status_code == 201 and "azure-asyncoperation" in created.headers
    payload = created.json()
    assert set(payload) == {"id", "name", "type", "location", "tags", "resourceGroupName", "etag", "properties", "sku"}
    assert payload["resourceGroupName"] == GROUP
    properties = payload["properties"]
    assert properties["state"] == 1 and properties["provisioningState"] == "Activating"
    assert properties["authorizationPolicies"][0]["name"] == "owner"
    assert properties["authorizationPolicies"][0]["permissions"] == ["RegistryRead", "ServiceConnect"]
    assert properties["eventHubEndpoints"] == {"events": {"messageRetentionInDays": 2, "partitionCount": 3}}
    rp.advance()
    assert rp.get_hub("docs-hub").json()["properties"]["provisioningState"] == "Succeeded"
    # The update page: 201 with an operation.
    updated = rp.put_hub("docs-hub", payload={"location": "West US", "sku": {"name": "S1", "capacity": 2}})
    assert updated.status_code == 201 and updated.json()["etag"] != payload["etag"]
    status_url = updated.headers["azure-asyncoperation"]
    assert rp.status(status_url).json()["status"] == "InProgress"
    rp.advance()
    assert rp.status(status_url).json()["status"] == "Succeeded"
    for index in range(3):
        rp.create_hub(f"docs-more-{index}")
    listed = rp.rp_request("GET", group_path())
    assert isinstance(listed.json(), list) and len(listed.json()) == 4
    assert all(item["properties"]["authorizationPolicies"] is None for item in listed.json())
    assert len(rp.rp_request("GET", f"/subscriptions/{SUB}/providers/Microsoft.Devices/IotHubs").json()) == 4
    # The ARM16 paths keep their own shapes in the docs dialect; the update named no policies: the defaults again.
    assert rp.rp_request("POST", hub_path("docs-hub") + "/listkeys").json()["value"][0]["keyName"] == "iothubowner"


def test_docs_dialect_export_and_import_are_long_running():
    rp = rp_api(profile=DOCS_STRICT)
    rp.create_hub("docs-job-hub")
    rp.storage.container_uri("in")
    rp.storage.containers["in"]["devices.txt"] = (json.dumps(import_line("x1")) + "\n").encode()
    imported = rp.rp_request("POST", hub_path("docs-job-hub") + "/importDevices", json={
        "inputBlobContainerUri": rp.storage.container_uri("in"),
        "exportBlobContainerUri ": rp.storage.container_uri("out")})
    assert imported.status_code == 202 and imported.content == b""
    assert int(imported.headers["retry-after"]) >= 1
    location = imported.headers["location"]
    assert rp.status(location).status_code == 202
    rp.advance(max(rp.provider.delay, rp.provider.job_delay))
    result = rp.status(location)
    assert result.status_code == 200 and result.json()["type"] == "import" and result.json()["status"] == "completed"
    assert rp.status(imported.headers["azure-asyncoperation"]).json() == {"status": "Succeeded"}
    exported = rp.rp_request("POST", hub_path("docs-job-hub") + "/exportDevices", json={
        "exportBlobContainerUri": rp.storage.container_uri("out"), "excludeKeys": True})
    assert exported.status_code == 202
    rp.advance(max(rp.provider.delay, rp.provider.job_delay))
    job = rp.status(exported.headers["location"]).json()
    assert job["type"] == "export" and job["status"] == "completed"
    written = json.loads(rp.storage.containers["out"]["devices.txt"].decode().splitlines()[0])
    assert written["id"] == "x1" and written["authentication"]["symmetricKey"]["primaryKey"] is None
    assert rp.rp_request("GET", hub_path("docs-job-hub") + "/IotHubStats").json()["totalDeviceCount"] == 1


def test_an_export_operation_ends_with_its_job_and_fails_when_it_fails():
    rp = rp_api(profile=DOCS_STRICT)
    rp.provider.job_delay = 5
    rp.create_hub("wait-job-hub")
    uri = rp.storage.container_uri("gone")
    started = rp.rp_request("POST", hub_path("wait-job-hub") + "/exportDevices", json={"exportBlobContainerUri": uri})
    status_url, location = started.headers["azure-asyncoperation"], started.headers["location"]
    rp.advance()  # the operation's delay has passed, the job has not started yet
    assert rp.status(status_url).json() == {"status": "InProgress"}
    assert rp.status(location).status_code == 202
    del rp.storage.containers["gone"]  # the job will find no container
    rp.advance(5)
    failed = rp.status(status_url).json()
    assert failed["status"] == "Failed" and failed["error"]["code"] and failed["error"]["message"]
    assert "sig=" not in json.dumps(failed)
    result = rp.status(location)
    assert result.status_code == 200 and result.json()["status"] == "failed"


def test_next_links_keep_unusual_group_names():
    rp = rp_api()
    encoded = "my%20group%20%281%29%3F%23"  # "my group (1)?#"
    for index in range(3):
        rp.create_hub(f"odd-group-hub-{index}", group=encoded)
    pages = rp.pages(group_path(encoded))
    assert sum(len(page) for page in pages) == 3 and pages[0][0]["resourcegroup"] == "my group (1)?#"


def test_an_unexpected_error_is_a_400_in_error_details(monkeypatch):
    from iothub_conformance.reference import rp_requests as model

    def broken(raw):
        raise RuntimeError("a bug")

    monkeypatch.setattr(model, "parse_hub", broken)
    rp = rp_api()
    response = rp.put_hub("bug-hub")
    assert response.status_code == 400 and rp_error_code(response) == "BadRequest"
    assert GUID.match(response.headers["x-ms-request-id"])


def test_odd_skip_tokens_and_names_with_a_newline():
    rp = rp_api()
    for index in range(3):
        rp.create_hub(f"skip-hub-{index}")
    for token in ("²", "-1", "x", "9" * 30, ""):
        response = rp.rp_request("GET", group_path(), params={**API, "$skiptoken": token})
        assert response.status_code == 200 and len(response.json()["value"]) == 2
    # A token names the last hub handed out: one past every hub's place gives an empty page.
    beyond = base64.urlsafe_b64encode(b"~").decode().rstrip("=")
    assert rp.rp_request("GET", group_path(), params={**API, "$skiptoken": beyond}).json() == {"value": [],
                                                                                            "nextLink": None}
    assert rp.put_hub("newline-hub%0A").status_code == 400
    check = f"/subscriptions/{SUB}/providers/Microsoft.Devices/checkNameAvailability"
    assert rp.rp_request("POST", check, json={"Name": "abc\n"}).json()["reason"] == "Invalid"

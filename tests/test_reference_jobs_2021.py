"""The reference hub's import/export and scheduled jobs at api-version 2021-04-12, request by request, beside the 2016
ones it keeps as they were. Blobs live in memory (tests/support/reference_api.BlobStore); time moves by the hub's
clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iothub_conformance.reference import scheduled_jobs_2021, twin_documents
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.reference_api import API, ReferenceApi, container, error_code

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

V2021 = {"api-version": "2021-04-12"}


@pytest.fixture
def api() -> ReferenceApi:
    return ReferenceApi(params=V2021)


def start(api, **body):
    return api.request("POST", "/jobs/create", json=body)


def export(api, **body):
    return start(api, type="export", outputBlobContainerUri=container("out"), **body)


def import_(api, lines, **body):
    api.store.write(lines, blob="in.txt")
    return start(api, type="import", inputBlobContainerUri=container("in"), outputBlobContainerUri=container("out"),
                 inputBlobName="in.txt", **body)


def run(api, response) -> dict:
    assert response.status_code == 200, response.text
    api.hub.clock.advance(api.hub.job_delay + 1)
    return api.request("GET", f"/jobs/{response.json()['jobId']}").json()


def exported(api, blob="devices.txt") -> dict[str, dict]:
    return {line["id"]: line for line in api.store.lines("out", blob) if "moduleId" not in line}


# -- import/export -------------------------------------------------------------------------------------------------


def test_a_2021_job_shows_the_fields_2021_adds_and_a_2016_list_does_not(api):
    job = export(api, outputBlobName="x.txt", storageAuthenticationType="keyBased").json()
    assert (job["outputBlobName"], job["storageAuthenticationType"], job["identity"]) == ("x.txt", "keyBased", None)
    assert (job["excludeKeysInExport"], job["includeConfigurations"], job["configurationsBlobName"]) == (
        False, False, "configurations.txt")
    listed = api.request("GET", "/jobs", params=API).json()
    assert "storageAuthenticationType" not in listed[0]  # the 2016 shape, whichever version made the job


def test_export_includes_keys_unless_excluded_and_carries_the_twin(api):
    api.device("a")
    api.hub.twins.pop("a", None)
    assert run(api, export(api))["status"] == "completed"
    line = exported(api)["a"]
    assert line["authentication"]["symmetricKey"]["primaryKey"] == api.keys["a"]
    assert line["twinETag"] == api.hub.twins["a"].etag and line["tags"] == {}
    assert "desired" in line["properties"]
    assert run(api, export(api, excludeKeysInExport=True))["status"] == "completed"
    assert exported(api)["a"]["authentication"]["symmetricKey"] == {"primaryKey": None, "secondaryKey": None}


def test_only_one_import_export_job_at_a_time(api):
    first = export(api)
    second = export(api)
    assert second.status_code == 403 and error_code(second) == "JobQuotaExceeded"
    assert len(api.hub.jobs) == 1
    run(api, first)
    assert export(api).status_code == 200


def test_a_2016_job_still_starts_while_another_runs(api):
    export(api)
    assert api.request("POST", "/jobs/create", params=API,
                       json={"type": "export", "outputBlobContainerUri": container("out")}).status_code == 200


def test_identity_based_job_fails_with_a_reason_and_writes_nothing(api):
    done = run(api, export(api, storageAuthenticationType="identityBased",
                           identity={"userAssignedIdentity": "/subscriptions/x/identity"}))
    assert done["status"] == "failed" and "managed identity" in done["failureReason"]
    assert ("out", "devices.txt") not in api.store.blobs
    done = run(api, export(api, storageAuthenticationType="identityBased"))
    assert done["status"] == "failed" and "system-assigned" in done["failureReason"]


@pytest.mark.parametrize("body", [{"storageAuthenticationType": "sas"}, {"identity": "me"},
                                  {"identity": {"userAssignedIdentity": 5}}, {"includeConfigurations": "yes"},
                                  {"excludeKeysInExport": 1}])
def test_bad_2021_fields_are_400(api, body):
    response = export(api, **body)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert api.hub.jobs == {}


def test_include_configurations_writes_an_empty_configurations_blob(api):
    api.device("a")
    run(api, export(api, includeConfigurations=True, configurationsBlobName="c.txt"))
    assert api.store.blobs[("out", "c.txt")] == b""  # the reference hub has no configurations
    run(api, export(api, includeConfigurations=True))
    assert ("out", "configurations.txt") in api.store.blobs


def test_import_applies_each_line_and_logs_the_ones_it_cannot(api):
    api.devices("upd", "del", "keep")
    keep = api.hub.devices["keep"]
    done = run(api, import_(api, [{"id": "new", "importMode": "create"},
                                  {"id": "upd", "importMode": "update", "status": "disabled"},
                                  {"id": "del", "importMode": "delete"},
                                  {"id": "ghost", "importMode": "update"},
                                  {"id": "keep", "importMode": "updateIfMatchETag", "eTag": "stale"}]))
    assert done["status"] == "completed"
    assert set(api.hub.devices) == {"new", "upd", "keep"} and api.hub.devices["keep"] == keep
    assert api.hub.devices["upd"].status == "disabled"
    log = api.store.blobs[("out", "importErrors.log")].decode().splitlines()
    assert [line.split(":")[0] for line in log] == ["line 4", "line 5"]


def test_create_or_update_is_the_default_mode_and_ignores_the_etag(api):
    api.device("old")
    run(api, import_(api, [{"id": "fresh"}, {"id": "old", "importMode": "createOrUpdate", "eTag": "x",
                                             "status": "disabled"}]))
    assert "fresh" in api.hub.devices and api.hub.devices["old"].status == "disabled"


def test_twin_data_is_imported_and_update_twin_if_match_etag_checks_the_twin(api):
    run(api, import_(api, [{"id": "t", "importMode": "create", "tags": {"a": 1},
                            "properties": {"desired": {"d": 2, "$version": 9}}}]))
    twin = api.hub.twins["t"]
    assert (twin.tags, twin.desired) == ({"a": 1}, {"d": 2})
    run(api, import_(api, [{"id": "t", "importMode": "updateTwinIfMatchETag", "twinETag": "stale", "tags": {"b": 1}}]))
    assert api.hub.twins["t"].tags == {"a": 1}
    run(api, import_(api, [{"id": "t", "importMode": "updateTwinIfMatchETag", "twinETag": twin.etag,
                            "tags": {"b": 1}}]))
    assert api.hub.twins["t"].tags == {"b": 1} and api.hub.twins["t"].etag != twin.etag


def test_a_cancelled_2021_job_changes_nothing(api):
    started = import_(api, [{"id": "never", "importMode": "create"}])
    assert api.request("DELETE", f"/jobs/{started.json()['jobId']}").status_code == 204
    assert run(api, started)["status"] == "cancelled" and "never" not in api.hub.devices


def test_unknown_jobs_are_404_job_not_found(api):
    for method in ("GET", "DELETE"):
        response = api.request(method, "/jobs/nope")
        assert response.status_code == 404 and error_code(response) == "JobNotFound"


# -- scheduled jobs ------------------------------------------------------------------------------------------------


def put_job(api, job_id, **body):
    return api.request("PUT", f"/jobs/v2/{job_id}", json={"jobId": job_id, **body})


def twin_job(api, job_id, update, condition="deviceId IN ['a']", **body):
    return put_job(api, job_id, type="scheduleUpdateTwin", queryCondition=condition, updateTwin=update, **body)


def test_twin_job_with_a_stale_etag_fails_that_device_and_changes_nothing(api):
    api.devices("a", "b")
    twin_job(api, "j1", {"tags": {"x": 1}, "etag": "stale"}, "deviceId IN ['a', 'b']")
    api.hub.clock.advance(2)
    done = api.request("GET", "/jobs/v2/j1").json()
    assert done["deviceJobStatistics"]["failedCount"] == 2
    assert all(api.hub.twins[d].tags == {} for d in ("a", "b"))
    twin_job(api, "j2", {"tags": {"x": 1}, "etag": "*"})
    api.hub.clock.advance(2)
    assert api.request("GET", "/jobs/v2/j2").json()["deviceJobStatistics"]["succeededCount"] == 1
    assert api.hub.twins["a"].tags == {"x": 1}


@pytest.mark.parametrize(("profile", "queued", "cancelled"), [(IOTHUB, "queued", "cancelled"),
                                                              (DOCS_STRICT, "pending", "canceled")])
def test_status_names_follow_the_profile(profile, queued, cancelled):
    api = ReferenceApi(profile=profile, params=V2021)
    api.device("a")
    assert twin_job(api, "j", {"tags": {}}).json()["status"] == queued
    assert api.request("POST", "/jobs/v2/j/cancel").json()["status"] == cancelled
    query = api.request("GET", "/jobs/v2/query", params={**V2021, "jobStatus": cancelled}).json()
    assert [item["jobId"] for item in query["items"]] == ["j"]
    # The 2016-11-14 view keeps its names.
    assert api.request("GET", "/jobs/v2/j", params={"api-version": "2016-11-14"}).json()["status"] == "cancelled"


@pytest.mark.parametrize("paging", ["headers", "query"])
def test_query_pages_by_header_or_parameter_and_survives_new_jobs(api, paging):
    api.device("a")
    for n in range(5):
        twin_job(api, f"j{n}", {"tags": {}})
    seen, token = [], None
    for _ in range(10):
        if paging == "headers":
            headers = {"x-ms-max-item-count": "2", **({"x-ms-continuation": token} if token else {})}
            page = api.request("GET", "/jobs/v2/query", headers=headers).json()
        else:
            params = {**V2021, "pageSize": "2", **({"continuationToken": token} if token else {})}
            page = api.request("GET", "/jobs/v2/query", params=params).json()
        assert page["type"] == "jobResponse" and len(page["items"]) <= 2
        seen += [item["jobId"] for item in page["items"]]
        if len(seen) == 2:
            twin_job(api, "late", {"tags": {}})  # added while paging: comes last, nothing repeats
        token = page["continuationToken"]
        if not token:
            break
    assert seen == ["j0", "j1", "j2", "j3", "j4", "late"]


@pytest.mark.parametrize("params", [{"continuationToken": "bm9wZQ=="}, {"pageSize": "0"}, {"jobStatus": "bogus"},
                                    {"jobType": "export"}])
def test_bad_query_parameters_are_400(api, params):
    response = api.request("GET", "/jobs/v2/query", params={**V2021, **params})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_device_jobs_give_each_device_its_outcome(api):
    api.devices("a", "b")
    api.hub.method_handlers["a"] = lambda name, payload: (200, {"ok": name})
    put_job(api, "m", type="scheduleDeviceMethod", queryCondition="deviceId IN ['a', 'b']",
            cloudToDeviceMethod={"methodName": "reboot", "payload": {}})
    api.hub.clock.advance(2)
    api.request("GET", "/jobs/v2/m")
    with api.hub.lock:
        documents = {d["deviceId"]: d for d in scheduled_jobs_2021.device_jobs(api.hub)}
    assert documents["a"]["status"] == "completed" and documents["a"]["jobType"] == "scheduleDeviceMethod"
    assert documents["a"]["outcome"]["deviceMethodResponse"] == {"status": 200, "payload": {"ok": "reboot"}}
    assert documents["b"]["status"] == "failed" and documents["b"]["error"]["code"] == "DeviceNotOnline"


def test_requests_at_other_versions_reach_the_2016_handlers(api):
    response = api.request("GET", "/jobs/v2/query", params={"api-version": "2016-11-14"})
    assert set(response.json()) == {"value", "nextLink"}
    assert api.request("GET", "/jobs", params={"api-version": "2016-11-14"}).status_code == 400


def test_export_writes_each_module_after_its_device(api):
    api.device("a")
    created = api.request("PUT", "/devices/a/modules/m1", json={"deviceId": "a", "moduleId": "m1"})
    assert created.status_code in (200, 201), created.text
    run(api, export(api, excludeKeysInExport=True))
    lines = api.store.lines("out", "devices.txt")
    assert [(line["id"], line.get("moduleId")) for line in lines] == [("a", None), ("a", "m1")]
    assert lines[1]["eTag"] == created.json()["etag"]
    assert lines[1]["authentication"]["symmetricKey"] == {"primaryKey": None, "secondaryKey": None}


# -- the queryCondition, read by the query engine -------------------------------------------------------------------


def tag(api, device_id, **tags):
    response = api.request("PATCH", f"/twins/{device_id}", json={"tags": tags})
    assert response.status_code == 200, response.text


def twin_tags(api, device_id) -> dict:
    return api.request("GET", f"/twins/{device_id}").json()["tags"]


def ran(api, job_id) -> dict:
    api.hub.clock.advance(api.hub.job_delay + 1)
    return api.request("GET", f"/jobs/v2/{job_id}").json()


def test_a_tag_condition_updates_exactly_the_twins_that_meet_it(api):
    api.devices("a", "b", "c")
    tag(api, "a", floor=3, building="43")
    tag(api, "b", floor=3, building="44")
    tag(api, "c", floor=4, building="43")
    created = twin_job(api, "j", {"tags": {"done": 1}, "etag": "*"}, "tags.floor = 3 AND tags.building = '43'")
    assert created.status_code == 200 and created.json()["queryCondition"] == "tags.floor = 3 AND tags.building = '43'"
    done = ran(api, "j")
    assert done["status"] == "completed" and done["deviceJobStatistics"]["deviceCount"] == 1
    assert [d for d in "abc" if twin_tags(api, d).get("done") == 1] == ["a"]
    twin_job(api, "k", {"tags": {"done": 2}, "etag": "*"}, "tags.floor = 3 OR NOT IS_DEFINED(tags.floor)")
    api.device("d")  # no tags at all: selected by the NOT IS_DEFINED branch
    ran(api, "k")
    assert [d for d in "abcd" if twin_tags(api, d).get("done") == 2] == ["a", "b", "d"]


def test_a_reported_property_condition_selects_the_devices_that_reported_it(api):
    api.devices("a", "b")
    twin_documents.report(api.hub, "a", None, {"firmware": "1.2", "battery": 80})
    twin_documents.report(api.hub, "b", None, {"firmware": "1.1", "battery": 20})
    api.hub.method_handlers["a"] = api.hub.method_handlers["b"] = lambda name, payload: (200, None)
    put_job(api, "m", type="scheduleDeviceMethod", queryCondition="properties.reported.battery > 50",
            cloudToDeviceMethod={"methodName": "update", "payload": {}})
    statistics = ran(api, "m")["deviceJobStatistics"]
    assert (statistics["deviceCount"], statistics["succeededCount"]) == (1, 1)
    twin_job(api, "t", {"tags": {"old": True}, "etag": "*"}, "properties.reported.firmware != '1.2'")
    ran(api, "t")
    assert (twin_tags(api, "a"), twin_tags(api, "b")) == ({}, {"old": True})


@pytest.mark.parametrize("condition", ["tags.floor =", "SELECT * FROM devices", "deviceId = 'a' GROUP BY deviceId",
                                       "tags.floor = 3) OR (true", "FUNC(tags.floor)", ""])
def test_a_condition_the_query_engine_refuses_is_400_at_creation(api, condition):
    api.device("a")
    response = twin_job(api, "j", {"tags": {"x": 1}}, condition)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert "queryCondition" in response.json()["Message"] and api.hub.scheduled_jobs == {}


def test_star_selects_every_device_and_the_2016_reading_is_unchanged(api):
    api.devices("a", "b")
    twin_job(api, "all", {"tags": {"every": 1}, "etag": "*"}, " * ")
    assert ran(api, "all")["deviceJobStatistics"]["deviceCount"] == 2
    old = {"api-version": "2016-11-14"}
    for condition in ("*", "tags.floor = 3"):
        refused = api.request("PUT", "/jobs/v2/old", params=old, json={
            "type": "scheduleUpdateTwin", "queryCondition": condition, "updateTwin": {"tags": {"x": 1}}})
        assert refused.status_code == 400 and "deviceId IN" in refused.json()["Message"]
    ids = api.request("PUT", "/jobs/v2/old", params=old, json={
        "type": "scheduleUpdateTwin", "queryCondition": "deviceId IN ['a', 'ghost']", "updateTwin": {"tags": {"x": 1}}})
    assert ids.status_code == 200
    api.hub.clock.advance(api.hub.job_delay + 1)
    assert api.request("GET", "/jobs/v2/old", params=old).json()["deviceJobStatistics"]["deviceCount"] == 1


def test_devices_are_chosen_when_the_job_starts(api):
    api.devices("a", "b")
    start = datetime.fromtimestamp(api.hub.clock.now() + 600, UTC).isoformat()
    twin_job(api, "later", {"tags": {"done": 1}, "etag": "*"}, "tags.ready = true", startTime=start)
    tag(api, "b", ready=True)  # after the job was made, before it starts
    jobs = query(api, "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'later'")
    assert [(d["deviceId"], d["status"]) for d in jobs] == [("b", "scheduled")]  # a scheduled job: what it selects now
    api.hub.clock.advance(601)
    done = api.request("GET", "/jobs/v2/later").json()
    assert done["status"] == "completed" and done["deviceJobStatistics"]["deviceCount"] == 1
    assert (twin_tags(api, "a"), twin_tags(api, "b")) == ({}, {"ready": True, "done": 1})
    tag(api, "a", ready=True)  # after it ran: no longer its concern
    assert [d["deviceId"] for d in query(api, "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'later'")] == ["b"]


def query(api, text) -> list[dict]:
    response = api.request("POST", "/devices/query", json={"query": text})
    assert response.status_code == 200, response.text
    return response.json()


def test_devices_jobs_query_reads_the_job_documents_and_leaves_out_deleted_devices(api):
    api.devices("a", "b")
    put_job(api, "m", type="scheduleDeviceMethod", queryCondition="deviceId IN ['a', 'b', 'a']",
            cloudToDeviceMethod={"methodName": "reboot", "payload": {}})
    ran(api, "m")
    with api.hub.lock:
        expected = {d["deviceId"]: d for d in scheduled_jobs_2021.device_jobs(api.hub)}
    assert api.request("DELETE", "/devices/b", headers={"If-Match": "*"}).status_code in (200, 204)
    found = query(api, "SELECT * FROM devices.jobs")
    assert found == [expected["a"]] and found[0]["error"]["code"] == "DeviceNotOnline"

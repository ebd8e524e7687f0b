"""The reference hub's import/export and scheduled jobs at api-version 2021-04-12, request by request, beside the 2016
ones it keeps as they were. Blobs live in memory (tests/support/reference_api.BlobStore); time moves by the hub's
clock."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import scheduled_jobs_2021
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

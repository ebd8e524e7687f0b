"""Each fault switch of the 2021-04-12 import/export and scheduled jobs (reference/faults_2021_jobs.py) changes the
reference's behaviour as its description says, and a hub without it does not. Time moves by hub.clock.advance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iothub_conformance.reference import FAULTS
from iothub_conformance.rules.profiles import IOTHUB
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, container, error_code, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

JOB_FAULTS = faults_breaking(*SURFACE_PREFIXES["jobs 2021"])
V21 = {"api-version": "2021-04-12"}
V2016_JOBS = {"api-version": "2016-11-14"}


def test_every_2021_job_fault_has_a_test_here():
    assert JOB_FAULTS
    missing = [name for name in JOB_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def hubs(fault: str) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each holding the devices a, b and c."""
    pair = ReferenceApi(params=V21), ReferenceApi(fault, params=V21)
    for api in pair:
        api.devices("a", "b", "c")
    return pair


def tags(api: ReferenceApi, device_id: str) -> dict:
    return api.request("GET", f"/twins/{device_id}").json()["tags"]


def twin_job(api: ReferenceApi, job_id: str, condition: str, update: dict) -> dict:
    """Create a twin-update job at 2021-04-12 and run it to its end; the finished job."""
    created = api.request("PUT", f"/jobs/v2/{job_id}", json={
        "jobId": job_id, "type": "scheduleUpdateTwin", "queryCondition": condition, "updateTwin": update})
    assert created.status_code == 200, created.text
    api.hub.clock.advance(api.hub.job_delay + 1)
    return api.request("GET", f"/jobs/v2/{job_id}").json()


def test_fault_sj21_condition_sees_only_device_ids():
    assert FAULTS["sj21-condition-sees-only-device-ids"].breaks == ("SJOB-TWIN-003",)
    good, bad = hubs("sj21-condition-sees-only-device-ids")
    for api, selected in ((good, ["a", "b"]), (bad, [])):
        for device_id in ("a", "b"):
            assert api.request("PATCH", f"/twins/{device_id}", json={"tags": {"sel": "run-1"}}).status_code == 200
        done = twin_job(api, "by-tag", "deviceId IN ['a', 'b', 'c'] AND tags.sel = 'run-1'",
                        {"tags": {"done": 1}, "etag": "*"})
        assert done["status"] == "completed" and done["deviceJobStatistics"]["deviceCount"] == len(selected)
        assert [d for d in "abc" if tags(api, d).get("done") == 1] == selected
        # A condition on ids alone selects the same devices either way.
        by_id = twin_job(api, "by-id", "deviceId IN ['a', 'c']", {"tags": {"id": 1}, "etag": "*"})
        assert by_id["deviceJobStatistics"]["deviceCount"] == 2
        assert [d for d in "abc" if tags(api, d).get("id") == 1] == ["a", "c"]
    assert tags(bad, "a")["sel"] == "run-1"  # the twins themselves keep their tags
    query = bad.request("POST", "/devices/query", json={"query": "SELECT * FROM devices WHERE tags.sel = 'run-1'"})
    assert sorted(t["deviceId"] for t in query.json()) == ["a", "b"]  # the query engine itself is unchanged


# -- import/export jobs ----------------------------------------------------------------------------------------------


def start(api: ReferenceApi, **body):
    return api.request("POST", "/jobs/create", json=body)


def export(api: ReferenceApi, **body):
    return start(api, type="export", outputBlobContainerUri=container("out"), **body)


def import_(api: ReferenceApi, lines: list[dict], **body):
    api.store.write(lines, blob="in.txt")
    return start(api, type="import", inputBlobContainerUri=container("in"), outputBlobContainerUri=container("out"),
                 inputBlobName="in.txt", **body)


def run(api: ReferenceApi, response) -> dict:
    """Run the created import/export job to its end; the job as GET /jobs/{id} shows it."""
    assert response.status_code == 200, response.text
    api.hub.clock.advance(api.hub.job_delay + 1)
    return api.request("GET", f"/jobs/{response.json()['jobId']}").json()


def exported(api: ReferenceApi, blob: str = "devices.txt") -> dict[str, dict]:
    return {line["id"]: line for line in api.store.lines("out", blob) if "moduleId" not in line}


def test_fault_ie21_create_drops_blob_names():
    good, bad = hubs("ie21-create-drops-blob-names")
    for api, shown in ((good, ("x.txt", "devices.txt")), (bad, (None, None))):
        created = export(api, outputBlobName="x.txt").json()
        assert (created["outputBlobName"], created["inputBlobName"]) == shown
        assert api.request("GET", f"/jobs/{created['jobId']}").json()["outputBlobName"] == "x.txt"  # reads keep it


def test_fault_ie21_status_done():
    good, bad = hubs("ie21-status-done")
    for api, status in ((good, "completed"), (bad, "done")):
        assert run(api, export(api))["status"] == status
    later = export(bad).json()
    assert later["status"] != "done"  # only a completed job reads "done"


def test_fault_ie21_unknown_job_returns_200():
    good, bad = hubs("ie21-unknown-job-returns-200")
    refused = good.request("GET", "/jobs/nope")
    assert refused.status_code == 404 and error_code(refused) == "JobNotFound"
    answered = bad.request("GET", "/jobs/nope")
    assert answered.status_code == 200 and answered.json() == {}
    assert bad.request("DELETE", "/jobs/nope").status_code == 404  # only the read answers 200
    assert bad.request("GET", "/jobs/nope", params=V2016_JOBS).status_code != 200  # the 2016 route is unchanged


def test_fault_ie21_list_omits_finished():
    good, bad = hubs("ie21-list-omits-finished")
    for api, listed in ((good, 2), (bad, 1)):
        run(api, export(api))
        import_(api, [{"id": "n", "importMode": "create"}])  # waits: the reference runs one job at a time
        assert len(api.request("GET", "/jobs").json()) == listed


def test_fault_ie21_cancel_ignored():
    good, bad = hubs("ie21-cancel-ignored")
    for api, status, made in ((good, "cancelled", False), (bad, "completed", True)):
        started = import_(api, [{"id": "never", "importMode": "create"}])
        assert api.request("DELETE", f"/jobs/{started.json()['jobId']}").status_code == 204
        assert run(api, started)["status"] == status and ("never" in api.hub.devices) is made


def test_fault_ie21_cancel_unknown_returns_204():
    good, bad = hubs("ie21-cancel-unknown-returns-204")
    refused = good.request("DELETE", "/jobs/nope")
    assert refused.status_code == 404 and error_code(refused) == "JobNotFound"
    assert bad.request("DELETE", "/jobs/nope").status_code == 204
    assert bad.request("GET", "/jobs/nope").status_code == 404  # reads still say it does not exist


def test_fault_ie21_export_skips_last_device():
    good, bad = hubs("ie21-export-skips-last-device")
    for api, ids in ((good, ["a", "b", "c"]), (bad, ["a", "b"])):
        assert run(api, export(api))["status"] == "completed"
        assert sorted(exported(api)) == ids


def test_fault_ie21_export_keys_default_excluded():
    good, bad = hubs("ie21-export-keys-default-excluded")
    for api, key in ((good, True), (bad, False)):
        run(api, export(api))
        assert (exported(api)["a"]["authentication"]["symmetricKey"]["primaryKey"] == api.keys["a"]) is key
        run(api, export(api, excludeKeysInExport=False))  # asked for: the keys are written either way
        assert exported(api)["a"]["authentication"]["symmetricKey"]["primaryKey"] == api.keys["a"]


def test_fault_ie21_export_without_twin():
    good, bad = hubs("ie21-export-without-twin")
    for api, twin in ((good, True), (bad, False)):
        run(api, export(api))
        line = exported(api)["a"]
        assert ("twinETag" in line, "tags" in line, "properties" in line) == (twin, twin, twin)
        assert line["eTag"] and line["authentication"]  # the identity is still there


def test_fault_ie21_import_skips_updates():
    good, bad = hubs("ie21-import-skips-updates")
    for api, status in ((good, "disabled"), (bad, "enabled")):
        run(api, import_(api, [{"id": "a", "importMode": "update", "status": "disabled"},
                               {"id": "new", "importMode": "create"}]))
        assert api.hub.devices["a"].status == status and "new" in api.hub.devices


def test_fault_ie21_no_create_or_update():
    good, bad = hubs("ie21-no-create-or-update")
    for api, made in ((good, True), (bad, False)):
        run(api, import_(api, [{"id": "plain"}, {"id": "both", "importMode": "createOrUpdate"},
                               {"id": "made", "importMode": "create"}]))
        assert ("plain" in api.hub.devices, "both" in api.hub.devices, "made" in api.hub.devices) == (made, made, True)
    log = bad.store.blobs[("out", "importErrors.log")].decode().splitlines()
    assert [line.split(":")[0] for line in log] == ["line 1", "line 2"]


def test_fault_ie21_twin_etag_ignored():
    good, bad = hubs("ie21-twin-etag-ignored")
    for api, changed in ((good, False), (bad, True)):
        run(api, import_(api, [{"id": "a", "importMode": "updateTwinIfMatchETag", "twinETag": "stale",
                                "tags": {"b": 1}}]))
        assert (tags(api, "a") == {"b": 1}) is changed
        run(api, import_(api, [{"id": "b", "importMode": "updateTwin", "tags": {"u": 1}}]))
        assert tags(api, "b") == {"u": 1}  # updateTwin is unconditional either way


def test_fault_ie21_identity_ignored():
    good, bad = hubs("ie21-identity-ignored")
    for api, status in ((good, "failed"), (bad, "completed")):
        assert run(api, export(api, storageAuthenticationType="identityBased"))["status"] == status
        assert run(api, export(api, storageAuthenticationType="keyBased"))["status"] == "completed"
    assert ("out", "devices.txt") in bad.store.blobs


def test_fault_ie21_no_configurations_blob():
    good, bad = hubs("ie21-no-configurations-blob")
    for api, written in ((good, True), (bad, False)):
        run(api, export(api, includeConfigurations=True, configurationsBlobName="c.txt"))
        assert (("out", "c.txt") in api.store.blobs) is written and ("out", "devices.txt") in api.store.blobs


def test_fault_ie21_no_job_quota():
    good, bad = hubs("ie21-no-job-quota")
    export(good)
    refused = export(good)
    assert refused.status_code == 403 and error_code(refused) == "JobQuotaExceeded"
    export(bad)
    assert export(bad).status_code == 200 and len(bad.hub.jobs) == 2


# -- scheduled jobs -----------------------------------------------------------------------------------------------


def put_job(api: ReferenceApi, job_id: str, **body):
    return api.request("PUT", f"/jobs/v2/{job_id}", json={"jobId": job_id, **body})


def update_job(api: ReferenceApi, job_id: str, condition: str = "deviceId = 'a'", update=None, **body):
    return put_job(api, job_id, type="scheduleUpdateTwin", queryCondition=condition,
                   updateTwin={"tags": {"site": "north"}, "etag": "*"} if update is None else update, **body)


def method_job(api: ReferenceApi, job_id: str, condition: str = "deviceId = 'a'"):
    return put_job(api, job_id, type="scheduleDeviceMethod", queryCondition=condition,
                   cloudToDeviceMethod={"methodName": "reboot", "payload": {}})


def get_v2(api: ReferenceApi, job_id: str, **kwargs) -> dict:
    return api.request("GET", f"/jobs/v2/{job_id}", **kwargs).json()


def ran_v2(api: ReferenceApi, job_id: str) -> dict:
    api.hub.clock.advance(api.hub.job_delay + 1)
    return get_v2(api, job_id)


def later(api: ReferenceApi, seconds: float = 3600) -> str:
    return datetime.fromtimestamp(api.hub.clock.now() + seconds, UTC).isoformat()


def test_fault_sj21_create_drops_query_condition():
    good, bad = hubs("sj21-create-drops-query-condition")
    for api, shown in ((good, "deviceId = 'a'"), (bad, None)):
        assert update_job(api, "t").json()["queryCondition"] == shown
        assert ran_v2(api, "t")["deviceJobStatistics"]["deviceCount"] == 1  # the job still follows it
    assert get_v2(bad, "t", params=V2016_JOBS)["queryCondition"] == "deviceId = 'a'"  # the 2016 view keeps it


def test_fault_sj21_no_end_time():
    good, bad = hubs("sj21-no-end-time")
    for api, ended in ((good, True), (bad, False)):
        update_job(api, "t")
        done = ran_v2(api, "t")
        assert done["status"] == "completed" and (done["endTime"] is not None) is ended
        assert done["startTime"] and done["createdTime"]


def test_fault_sj21_unknown_job_returns_200():
    good, bad = hubs("sj21-unknown-job-returns-200")
    refused = good.request("GET", "/jobs/v2/ghost")
    assert refused.status_code == 404 and error_code(refused) == "JobNotFound"
    answered = bad.request("GET", "/jobs/v2/ghost")
    assert answered.status_code == 200 and answered.json() == {}
    assert bad.request("POST", "/jobs/v2/ghost/cancel").status_code == 404  # only the read answers 200
    assert bad.request("GET", "/jobs/v2/ghost", params=V2016_JOBS).status_code == 404


def test_fault_sj21_queued_reads_pending():
    good, bad = ReferenceApi(profile=IOTHUB, params=V21), ReferenceApi("sj21-queued-reads-pending", params=V21)
    for api, queued in ((good, "queued"), (bad, "pending")):
        api.device("a")
        assert update_job(api, "t").json()["status"] == queued
        assert update_job(api, "s", startTime=later(api)).json()["status"] == "scheduled"  # other statuses unchanged
        assert get_v2(api, "t", params=V2016_JOBS)["status"] == "queued"


def test_fault_sj21_twin_job_ignores_condition():
    good, bad = hubs("sj21-twin-job-ignores-condition")
    for api, updated in ((good, ["a"]), (bad, ["a", "b", "c"])):
        update_job(api, "t")
        assert ran_v2(api, "t")["deviceJobStatistics"]["deviceCount"] == len(updated)
        assert [d for d in "abc" if tags(api, d).get("site") == "north"] == updated
        method_job(api, "m")
        assert ran_v2(api, "m")["deviceJobStatistics"]["deviceCount"] == 1  # method jobs still follow it


def test_fault_sj21_twin_job_requires_etag():
    good, bad = hubs("sj21-twin-job-requires-etag")
    assert update_job(good, "t", update={"tags": {"x": 1}}).status_code == 200
    refused = update_job(bad, "t", update={"tags": {"x": 1}})
    assert refused.status_code == 400 and error_code(refused) == "ArgumentInvalid"
    assert update_job(bad, "u", update={"tags": {"x": 1}, "etag": "*"}).status_code == 200


def test_fault_sj21_start_time_ignored():
    good, bad = hubs("sj21-start-time-ignored")
    for api in (good, bad):
        assert update_job(api, "t", startTime=later(api)).json()["status"] == "scheduled"
        api.hub.clock.advance(api.hub.job_delay + 1)
    assert get_v2(good, "t")["status"] == "scheduled" and tags(good, "a") == {}
    assert get_v2(bad, "t")["status"] == "completed" and tags(bad, "a") == {"site": "north"}


def test_fault_sj21_cancel_ignored():
    good, bad = hubs("sj21-cancel-ignored")
    for api, status, changed in ((good, "cancelled", {}), (bad, "completed", {"site": "north"})):
        update_job(api, "t", startTime=later(api, 60))
        assert api.request("POST", "/jobs/v2/t/cancel").json()["status"] == "cancelled"
        api.hub.clock.advance(120)
        assert get_v2(api, "t")["status"] == status and tags(api, "a") == changed


def test_fault_sj21_method_offline_succeeds():
    good, bad = hubs("sj21-method-offline-succeeds")
    for api, counts in ((good, (1, 1)), (bad, (2, 0))):
        api.hub.method_handlers["a"] = lambda name, payload: (200, None)
        method_job(api, "m", "deviceId IN ['a', 'b']")
        statistics = ran_v2(api, "m")["deviceJobStatistics"]
        assert (statistics["succeededCount"], statistics["failedCount"]) == counts


def test_fault_sj21_method_answer_fails():
    good, bad = hubs("sj21-method-answer-fails")
    for api, counts in ((good, (1, 1)), (bad, (0, 2))):
        api.hub.method_handlers["a"] = lambda name, payload: (200, None)
        method_job(api, "m", "deviceId IN ['a', 'b']")  # b is not online: failed either way
        statistics = ran_v2(api, "m")["deviceJobStatistics"]
        assert (statistics["succeededCount"], statistics["failedCount"]) == counts


def test_fault_sj21_query_ignores_filters():
    good, bad = hubs("sj21-query-ignores-filters")
    for api, listed in ((good, ["t"]), (bad, ["t", "m"])):
        update_job(api, "t")
        method_job(api, "m")
        items = api.request("GET", "/jobs/v2/query", params={**V21, "jobType": "scheduleUpdateTwin"}).json()["items"]
        assert [job["jobId"] for job in items] == listed
        assert api.request("GET", "/jobs/v2/query", params={**V21, "jobType": "export"}).status_code == 400


def test_fault_sj21_query_ignores_page_size():
    good, bad = hubs("sj21-query-ignores-page-size")
    for api, size, more in ((good, 2, True), (bad, 3, False)):
        for n in range(3):
            update_job(api, f"t{n}")
        page = api.request("GET", "/jobs/v2/query", headers={"x-ms-max-item-count": "2"}).json()
        assert (len(page["items"]), bool(page["continuationToken"])) == (size, more)

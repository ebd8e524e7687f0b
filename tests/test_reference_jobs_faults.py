"""Each import/export job fault switch changes the reference's behaviour as its description says, and a hub without it
does not. Blob containers live in memory (see test_reference_jobs.py); time moves by hub.clock.advance."""

from __future__ import annotations

import json

import pytest

from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, container, error_code, faults_breaking

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

JOB_FAULTS = faults_breaking(*SURFACE_PREFIXES["import/export jobs"])


def hubs(fault: str, profile=IOTHUB) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each holding the devices a and b."""
    pair = ReferenceApi(profile=profile), ReferenceApi(fault, profile=profile)
    for api in pair:
        api.device("a")
        api.device("b")
    return pair


def keys_of(api: ReferenceApi, blob: str = "devices.txt") -> list:
    return [line["authentication"]["symmetricKey"]["primaryKey"] for line in api.store.lines(blob=blob)]


def test_every_job_fault_has_a_test_here():
    assert JOB_FAULTS
    missing = [name for name in JOB_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def test_fault_unknown_job_returns_200():
    good, bad = hubs("unknown-job-returns-200")
    refused = good.get_job("ghost")
    assert refused.status_code == 404 and error_code(refused) == "JobNotFound"
    answered = bad.get_job("ghost")
    assert answered.status_code == 200 and answered.json() == {}
    job_id = bad.export().json()["jobId"]
    assert bad.get_job(job_id).json()["jobId"] == job_id  # known jobs are unchanged


def test_fault_cancel_unknown_job_returns_204():
    good, bad = hubs("cancel-unknown-job-returns-204")
    assert good.cancel_job("ghost").status_code == 404
    assert bad.cancel_job("ghost").status_code == 204
    assert bad.get_job("ghost").status_code == 404


def test_fault_cancel_ignored():
    for api, status, written in ((ReferenceApi(), "cancelled", False), (ReferenceApi("cancel-ignored"), "completed", True)):
        api.hub.job_delay = 30
        job_id = api.export().json()["jobId"]
        assert api.cancel_job(job_id).status_code == 204
        assert api.get_job(job_id).json()["status"] == "cancelled"
        api.hub.clock.advance(31)
        job = api.get_job(job_id).json()
        assert job["status"] == status
        assert (("out", "devices.txt") in api.store.blobs) is written


def test_fault_cancel_finished_returns_409():
    good, bad = hubs("cancel-finished-returns-409")
    for api, status in ((good, 204), (bad, 409)):
        done = api.run_job(api.export())
        assert api.cancel_job(done["jobId"]).status_code == status
        assert api.get_job(done["jobId"]).json() == done
    api = bad
    api.hub.job_delay = 30
    enqueued = api.export().json()["jobId"]
    assert api.cancel_job(enqueued).status_code == 204  # a job that has not ended is still cancelled
    refused = api.cancel_job(enqueued)
    assert refused.status_code == 409 and error_code(refused) == "InvalidOperation"


def test_fault_export_ignores_exclude_keys():
    good, bad = hubs("export-ignores-exclude-keys")
    for api, present in ((good, False), (bad, True)):
        job = api.run_job(api.export(excludeKeysInExport=True))
        assert job["status"] == "completed" and job["excludeKeysInExport"] is True
        assert all(bool(k) is present for k in keys_of(api))


@pytest.mark.parametrize(("profile", "excluded"), [(IOTHUB, False), (DOCS_STRICT, True)], ids=["iothub", "docs-strict"])
def test_fault_export_keys_default_flipped(profile, excluded):
    good, bad = hubs("export-keys-default-flipped", profile)
    for api, expect in ((good, excluded), (bad, not excluded)):
        api.run_job(api.export())
        assert all((k is None) is expect for k in keys_of(api))
        api.run_job(api.export(excludeKeysInExport=excluded, outputBlobName="given.txt"))  # a given value is honoured
        assert all((k is None) is excluded for k in keys_of(api, "given.txt"))


def test_fault_export_skips_last_device():
    good, bad = hubs("export-skips-last-device")
    for api, ids in ((good, ["a", "b"]), (bad, ["a"])):
        assert api.run_job(api.export())["status"] == "completed"
        assert [line["id"] for line in api.store.lines()] == ids


def test_fault_export_json_array():
    good, bad = hubs("export-json-array")
    for api in (good, bad):
        api.run_job(api.export())
    assert [line["id"] for line in good.store.lines()] == ["a", "b"]
    raw = bad.store.blobs[("out", "devices.txt")].decode()
    assert [item["id"] for item in json.loads(raw)] == ["a", "b"]
    assert len(raw.strip().splitlines()) == 1


def test_fault_import_skips_updates():
    good, bad = hubs("import-skips-updates")
    lines = [{"id": "c", "importMode": "create"}, {"id": "a", "importMode": "update", "statusReason": "changed"},
             {"id": "b", "importMode": "delete"}]
    for api, devices, reason in ((good, ["a", "c"], "changed"), (bad, ["a", "b", "c"], None)):
        assert api.run_job(api.import_(lines))["status"] == "completed"
        assert sorted(api.hub.devices) == devices
        assert api.hub.devices["a"].status_reason == reason


def test_fault_job_never_completes():
    good, bad = hubs("job-never-completes")
    for api, status in ((good, "completed"), (bad, "running")):
        job = api.run_job(api.export())
        assert job["status"] == status and job["startTimeUtc"]
        api.hub.clock.advance(3600)
        assert api.get_job(job["jobId"]).json()["status"] == status
    assert bad.store.blobs == {}
    assert bad.cancel_job(job["jobId"]).status_code == 204  # a running job can still be cancelled
    assert bad.get_job(job["jobId"]).json()["status"] == "cancelled"


def test_fault_completed_job_progress_0():
    good, bad = hubs("completed-job-progress-0")
    for api, progress in ((good, 100), (bad, 0)):
        job = api.run_job(api.export())
        assert (job["status"], job["progress"]) == ("completed", progress)
        assert api.list_jobs().json()[0]["progress"] == progress


def test_fault_failed_job_without_reason():
    good, bad = hubs("failed-job-without-reason")
    for api in (good, bad):
        job = api.run_job(api.import_())  # there is no input blob
        assert job["status"] == "failed"
    assert "not found" in good.get_job(good.list_jobs().json()[0]["jobId"]).json()["failureReason"]
    assert bad.list_jobs().json()[0]["failureReason"] is None
    assert bad.run_job(bad.export())["failureReason"] is None  # and a completed job has none either


def test_fault_list_jobs_omits_finished():
    good, bad = hubs("list-jobs-omits-finished")
    for api, listed in ((good, 2), (bad, 1)):
        done = api.run_job(api.export())
        api.hub.job_delay = 1000
        waiting = api.export().json()
        assert [job["jobId"] for job in api.list_jobs().json()] == [done["jobId"], waiting["jobId"]][-listed:]
        assert api.get_job(done["jobId"]).status_code == 200


def test_fault_job_status_done():
    good, bad = hubs("job-status-done")
    for api, status in ((good, "completed"), (bad, "done")):
        job = api.run_job(api.export())
        assert job["status"] == status and job["progress"] == 100
        assert api.list_jobs().json()[0]["status"] == status
        failed = api.run_job(api.import_())
        assert failed["status"] == "failed"  # only a completed job reads differently


def test_fault_jobs_create_not_found():
    good, bad = hubs("jobs-create-not-found")
    assert good.export().status_code == 200
    refused = bad.export()
    assert refused.status_code == 404 and error_code(refused) == "NotFound"
    assert bad.hub.jobs == {}
    started = bad.importdevices({"inputBlobContainerUri": container("in"), "outputBlobContainerUri": container()})
    assert started.status_code == 200


def test_fault_importdevices_not_found():
    good, bad = hubs("importdevices-not-found")
    body = {"inputBlobContainerUri": container("in"), "outputBlobContainerUri": container()}
    assert good.importdevices(body).status_code == 200
    refused = bad.importdevices(body)
    assert refused.status_code == 404 and error_code(refused) == "NotFound"
    assert bad.hub.jobs == {}
    assert bad.import_().status_code == 200

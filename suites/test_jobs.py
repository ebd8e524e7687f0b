"""Import/export jobs (api-version 2016-02-03): start, read, list, cancel, and what an export writes and an import
changes.

Pages: list-import-export-jobs.md, retrieve-import-export-job.md, cancel-import-export-job.md,
import-or-update-device-identities.md, export-device-identities1.md; the later start route
autogen-2018-06-30__Service_CreateImportExportJob.yml (profile rule `job_start`). Jobs need a blob container
(`--blob-container`); waits use the embedded reference's clock where there is one.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import uuid
from datetime import datetime

import pytest

from iothub_conformance.checks import envelope as errors
from iothub_conformance.checks.received import iso8601
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, require
from iothub_conformance.surfaces.import_export import ORDER, NotStartable, lines_of

STATUSES = ("enqueued", "running", "completed", "failed", "cancelled")


def started(response, what="the job") -> dict:
    expect("JOB-CREATE-001", response.status_code == 200, f"starting {what}: {answered(response)}, expected 200")
    job = json_of(response)
    expect("JOB-CREATE-001", isinstance(job, dict) and job.get("jobId"), f"{what} answered without a jobId: {job}")
    return job


def export(jobs, container, **kwargs):
    try:
        response, blob = jobs.start_export(container, **kwargs)
    except NotStartable as exc:
        pytest.skip(str(exc))
    return started(response, "an export"), blob


def finished(jobs, job_id, clock, expected="completed", judged: str | None = None) -> dict:
    """The job once it ended. That it ended `expected` is the subject of requirement `judged` when given; otherwise
    it is what the test relies on (an export must complete before its output can be read), so another outcome is a
    precondition."""
    job, seen = jobs.wait(job_id, clock)
    expect("JOB-GET-001", job is not None, f"GET /jobs/{job_id} stopped answering 200 while the job ran")
    unknown = [status for status in seen if status not in STATUSES]
    expect("JOB-GET-001", not unknown, f"job {job_id} reported the status {unknown[:1]}, not one of {', '.join(STATUSES)}")
    ranks = [ORDER.get(status, -1) for status in seen]
    expect("JOB-LIFE-001", ranks == sorted(ranks) and -1 not in ranks, f"statuses went {' → '.join(map(str, seen))}")
    expect("JOB-LIFE-001", job["status"] in ("completed", "failed", "cancelled"),
           f"job {job_id} did not end within the wait (last status {job['status']!r})")
    said = f"job {job_id} ended {job['status']!r} ({job.get('failureReason')!r}), expected {expected!r}"
    if job["status"] != expected and not judged:
        raise PreconditionFailed(said)
    if judged:
        expect(judged, job["status"] == expected, said)
    return job


def exported(container, blob) -> dict[str, dict]:
    lines = lines_of(container.get(blob))
    not_objects = [line for line in lines if not isinstance(line, dict) or "id" not in line]
    expect("JOB-EXPORT-001", not not_objects, f"export lines that are not one JSON device each: {not_objects[:2]!r}")
    return {line["id"]: line for line in lines}


def keys_of(line: dict) -> tuple:
    symmetric = ((line.get("authentication") or {}).get("symmetricKey") or {})
    return symmetric.get("primaryKey"), symmetric.get("secondaryKey")


# -- reading jobs ------------------------------------------------------------------------------------------------


def jobs_endpoint_answers(client, api_version) -> None:
    """A 404 for an unknown job is evidence only from an endpoint that answers otherwise: GET /jobs must list."""
    listed = require(client.get("/jobs", params={"api-version": api_version}), "could not list the jobs")
    if not isinstance(json_of(listed), list):
        raise PreconditionFailed(f"could not list the jobs: {answered(listed)} without a JSON array")


@pytest.mark.requirement("JOB-GET-002")
def test_get_of_unknown_job_returns_404(client, api_version, profile):
    jobs_endpoint_answers(client, api_version)
    response = client.get(f"/jobs/{uuid.uuid4()}", params={"api-version": api_version})
    expect("JOB-GET-002", response.status_code == 404,
           f"GET of a job that does not exist → {response.status_code}, expected 404")
    if profile.value("error_envelope"):
        expect("JOB-GET-002", errors.error_code(response) == "JobNotFound", f"the 404 names {errors.error_code(response)!r}")


@pytest.mark.requirement("JOB-CANCEL-002")
def test_cancel_of_unknown_job_returns_404(target, api_version, profile):
    jobs_endpoint_answers(target.client(), api_version)
    # A fresh random id names no job of anyone's, so the run's guard (only its own jobs) is not needed here.
    response = target.client(guarded=False).delete(f"/jobs/{uuid.uuid4()}", params={"api-version": api_version})
    expect("JOB-CANCEL-002", response.status_code == 404,
           f"DELETE of a job that does not exist → {response.status_code}, expected 404")
    if profile.value("error_envelope"):
        expect("JOB-CANCEL-002", errors.error_code(response) == "JobNotFound",
               f"the 404 names {errors.error_code(response)!r}")


@pytest.mark.requirement("JOB-LIST-001")
def test_list_jobs_returns_a_json_array(jobs):
    response = jobs.list()
    expect("JOB-LIST-001", response.status_code == 200, f"GET /jobs: {answered(response)}, expected 200")
    expect("JOB-LIST-001", isinstance(json_of(response), list), f"GET /jobs: {answered(response)} without a JSON array")


# -- lifecycle (an import of nothing: both profiles can start one) ----------------------------------------------


@pytest.mark.requirement("JOB-CREATE-001", "JOB-GET-001", "JOB-LIFE-001")
def test_job_is_created_and_runs_to_completion_with_documented_fields(jobs, container, clock_if_any):
    job = started(jobs.start_import(container, []), "an import")
    expect("JOB-CREATE-001", job.get("type") == "import", f"the new job's type is {job.get('type')!r}")
    expect("JOB-CREATE-001", job.get("status") in STATUSES, f"the new job's status is {job.get('status')!r}")
    done = finished(jobs, job["jobId"], clock_if_any)
    expect("JOB-GET-001", done.get("type") == "import" and done.get("jobId") == job["jobId"], f"{done}")
    expect("JOB-LIFE-001", done.get("progress") in (100, "100"), f"a completed job has progress {done.get('progress')!r}")
    for name in ("startTimeUtc", "endTimeUtc"):
        expect("JOB-GET-001", isinstance(done.get(name), str) and iso8601(done[name]),
               f"a completed job's {name} is {done.get(name)!r}, not an ISO 8601 time")
    expect("JOB-GET-001", datetime.fromisoformat(done["endTimeUtc"].replace("Z", "+00:00")[:26]) >=
           datetime.fromisoformat(done["startTimeUtc"].replace("Z", "+00:00")[:26]), "it ended before it began")


@pytest.mark.requirement("JOB-LIST-001")
def test_list_jobs_holds_the_runs_job(jobs, container, clock_if_any):
    job = started(jobs.start_import(container, []), "an import")
    finished(jobs, job["jobId"], clock_if_any)
    listed = jobs.list()
    expect("JOB-LIST-001", listed.status_code == 200 and isinstance(json_of(listed), list), f"GET /jobs: {answered(listed)}")
    ids = [j.get("jobId") for j in json_of(listed) if isinstance(j, dict)]
    expect("JOB-LIST-001", job["jobId"] in ids, f"GET /jobs does not hold the run's finished job {job['jobId']}")


@pytest.mark.requirement("JOB-CANCEL-001")
def test_cancel_of_unfinished_job_returns_204_and_the_job_ends_cancelled(jobs, container, registry, clock_if_any):
    never = registry.name("cancelled-import")
    registry.created.append(never)  # should the cancel not hold, the device is removed afterwards
    job = started(jobs.start_import(container, [{"id": never, "importMode": "create"}]), "an import")
    current = json_of(require(jobs.get(job["jobId"]), f"could not read job {job['jobId']}")) or {}
    if current.get("status") in ("completed", "failed", "cancelled"):
        pytest.skip(f"the job ended ({current['status']}) before the suite could cancel it")
    response = jobs.cancel(job["jobId"])
    expect("JOB-CANCEL-001", response.status_code == 204,
           f"DELETE of an unfinished job → {response.status_code}, expected 204")
    finished(jobs, job["jobId"], clock_if_any, expected="cancelled", judged="JOB-CANCEL-001")
    # Give the job the time it would have needed: it must stay cancelled and import nothing.
    after, _ = jobs.wait(job["jobId"], clock_if_any, settle=True)
    expect("JOB-CANCEL-001", after is not None and after.get("status") == "cancelled",
           f"the cancelled job went on to {after and after.get('status')!r}")
    expect("JOB-CANCEL-001", not registry.exists(never, "after the cancelled import"),
           f"the cancelled import still created {never}")


@pytest.mark.requirement("JOB-CANCEL-003")
def test_cancel_of_finished_job_answers_as_profile_says_and_keeps_its_outcome(jobs, container, clock_if_any, profile):
    job = started(jobs.start_import(container, []), "an import")
    finished(jobs, job["jobId"], clock_if_any)
    allowed = profile.value("cancel_finished_statuses")
    response = jobs.cancel(job["jobId"])
    expect("JOB-CANCEL-003", response.status_code in allowed,
           f"DELETE of a completed job → {response.status_code}, expected {' or '.join(map(str, sorted(allowed)))}")
    after = json_of(require(jobs.get(job["jobId"]), f"could not read job {job['jobId']} after the cancel")) or {}
    expect("JOB-CANCEL-003", after.get("status") == "completed",
           f"the completed job reads {after.get('status')!r} after a cancel")


@pytest.mark.requirement("JOB-FAIL-001")
def test_job_whose_input_cannot_be_read_fails_with_a_reason(jobs, container, clock_if_any):
    # The same SAS on a container that does not exist: storage refuses every read.
    missing = f"{container.base}-{uuid.uuid4().hex[:8]}-missing?{container.sas}"
    job = started(jobs.start_import(container, [], input_uri=missing), "an import from an unreadable container")
    done = finished(jobs, job["jobId"], clock_if_any, expected="failed", judged="JOB-FAIL-001")
    expect("JOB-FAIL-001", isinstance(done.get("failureReason"), str) and done["failureReason"].strip(),
           f"a failed job's failureReason is {done.get('failureReason')!r}")


# -- export ------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("JOB-EXPORT-001")
def test_export_writes_one_json_device_per_line_with_every_run_device(jobs, container, registry, clock_if_any):
    ids = [registry.make("export")[0] for _ in range(3)]
    job, blob = export(jobs, container, exclude_keys=True)
    finished(jobs, job["jobId"], clock_if_any)
    devices = exported(container, blob)
    missing = [device_id for device_id in ids if device_id not in devices]
    expect("JOB-EXPORT-001", not missing, f"the export lacks the run's devices {missing}")
    for device_id in ids:
        expect("JOB-EXPORT-001", devices[device_id].get("status") == "enabled",
               f"exported {device_id} with {devices[device_id]!r}")


@pytest.mark.requirement("JOB-EXPORT-002", "JOB-EXPORT-001")
@pytest.mark.parametrize("exclude", [True, False])
def test_export_keys_follow_exclude_keys_in_export(jobs, container, registry, clock_if_any, exclude):
    device_id, created = registry.make("keys")
    symmetric = (json_of(created).get("authentication") or {}).get("symmetricKey") or {}
    if not symmetric.get("primaryKey"):
        raise PreconditionFailed(f"device {device_id} was created without keys to compare the export with")
    job, blob = export(jobs, container, exclude_keys=exclude)
    finished(jobs, job["jobId"], clock_if_any)
    line = exported(container, blob).get(device_id)
    expect("JOB-EXPORT-001", line is not None, f"the export lacks {device_id}")
    expected = (None, None) if exclude else (symmetric["primaryKey"], symmetric["secondaryKey"])
    expect("JOB-EXPORT-002", keys_of(line) == expected,
           f"with excludeKeysInExport {str(exclude).lower()} the export's keys are "
           f"{'present' if any(keys_of(line)) else 'null'}")


@pytest.mark.requirement("JOB-EXPORT-003", "JOB-EXPORT-001")
def test_export_without_exclude_keys_follows_the_profile_default(jobs, container, registry, clock_if_any, profile_rule):
    excluded = profile_rule("exclude_keys_default")
    device_id, _ = registry.make("default-keys")
    job, blob = export(jobs, container)
    finished(jobs, job["jobId"], clock_if_any)
    line = exported(container, blob).get(device_id)
    expect("JOB-EXPORT-001", line is not None, f"the export lacks {device_id}")
    wrote = "keys" if any(keys_of(line)) else "null keys"
    expect("JOB-EXPORT-003", (not any(keys_of(line))) == excluded,
           f"an export without excludeKeysInExport wrote {wrote}; the profile's default is to "
           f"{'exclude' if excluded else 'include'} them")


# -- import ------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("JOB-IMPORT-001")
def test_import_changes_exactly_the_listed_devices(jobs, container, registry, clock_if_any):
    updated, _ = registry.make("import-update")
    deleted, _ = registry.make("import-delete")
    untouched, before = registry.make("import-untouched")
    created = registry.name("import-create")
    registry.created.append(created)  # the import creates it; the registry deletes it afterwards
    lines = [
        {"id": created, "importMode": "create", "status": "enabled"},
        {"id": updated, "importMode": "update", "status": "disabled", "statusReason": "imported"},
        {"id": deleted, "importMode": "delete"},
    ]
    job = started(jobs.start_import(container, lines), "an import")
    finished(jobs, job["jobId"], clock_if_any)
    expect("JOB-IMPORT-001", registry.exists(created, "after the import"), f"the import did not create {created}")
    status = json_of(registry.read(updated, "after the import")).get("status")
    expect("JOB-IMPORT-001", status == "disabled", f"the import did not update {updated}: its status is {status!r}")
    expect("JOB-IMPORT-001", not registry.exists(deleted, "after the import"), f"the import did not delete {deleted}")
    kept = registry.read(untouched, "after the import")
    expect("JOB-IMPORT-001", kept.headers.get("ETag") == before.headers.get("ETag"),
           f"the import changed {untouched}, which its input does not list (ETag {before.headers.get('ETag')} → "
           f"{kept.headers.get('ETag')})")

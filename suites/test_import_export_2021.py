"""Import/export jobs at api-version 2021-04-12: JobProperties with blob names, keys, twin data, import modes,
identity-based storage, configurations, and one job at a time.

Sources: docs/sources/service-2021-04-12.json (JobProperties, ExportImportDevice);
docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md;
docs/sources/iot-hub-managed-identity__2023-05-11_464821f6.md;
docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md; docs/sources/INVENTORY-2021-04-12.md §2.9, §10.
Jobs need a blob container (`--blob-container`); every blob the run writes is named after it, every import lists only
the run's devices, and a job of the run still unfinished after its test is cancelled (a hub runs one at a time).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import uuid
from datetime import datetime

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks import envelope as errors
from iothub_conformance.checks.received import iso8601
from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, require
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.import_export import Jobs, lines_of

pytestmark = pytest.mark.api_version("2021-04-12")

# service-2021-04-12.json JobProperties.status; the order a job moves through them.
ORDER = {"unknown": 0, "enqueued": 0, "queued": 0, "scheduled": 0, "running": 1, "completed": 2, "failed": 2,
         "cancelled": 2}
ENDED = ("completed", "failed", "cancelled")
# A managed identity no hub has: a resource id under the run's own prefix.
MISSING_IDENTITY = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{prefix}rg/providers/" \
                   "Microsoft.ManagedIdentity/userAssignedIdentities/{prefix}missing"


@pytest.fixture
def jobs(target, client, api_version):
    made = Jobs(client, target, api_version)
    yield made
    made.cleanup()


def started(response, what="the job", requirement="IEJOB-CREATE-001") -> dict:
    if response.status_code == 403:
        raise PreconditionFailed(f"starting {what}: {answered(response)}: another import/export job of the hub runs")
    job = json_of(response)
    expect(requirement, response.status_code == 200 and isinstance(job, dict) and job.get("jobId"),
           f"starting {what}: {answered(response)}, expected 200 with the job")
    return job


def finished(jobs, job_id, clock, expected="completed", judged: str | None = None) -> dict:
    """The job once it ended; that it ended `expected` is `judged`'s subject when given, else a precondition."""
    job, seen = jobs.wait(job_id, clock)
    expect("IEJOB-GET-001", job is not None, f"GET /jobs/{job_id} stopped answering 200 while the job ran")
    unknown = [status for status in seen if status not in ORDER]
    expect("IEJOB-GET-001", not unknown, f"job {job_id} showed the status {unknown[:1]}, not one of JobStatus")
    ranks = [ORDER[status] for status in seen]
    expect("IEJOB-GET-001", ranks == sorted(ranks), f"statuses went {' → '.join(map(str, seen))}")
    expect("IEJOB-GET-001", job["status"] in ENDED, f"job {job_id} did not end within the wait ({job['status']!r})")
    said = f"job {job_id} ended {job['status']!r} ({job.get('failureReason')!r}), expected {expected!r}"
    if judged:
        expect(judged, job["status"] == expected, said)
    elif job["status"] != expected:
        raise PreconditionFailed(said)
    return job


def export(jobs, container, clock, **fields) -> dict[str, dict]:
    """Run an export to its end; the devices it wrote, by id (module lines left out)."""
    response, blob = jobs.start_export(container, **fields)
    job = started(response, "an export", "IEJOB-EXPORT-001")
    finished(jobs, job["jobId"], clock)
    lines = lines_of(container.get(blob))
    strays = [line for line in lines if not isinstance(line, dict) or not isinstance(line.get("id"), str)]
    expect("IEJOB-EXPORT-001", not strays, f"export lines that are not one JSON device each: {strays[:2]!r}")
    return {line["id"]: line for line in lines if "moduleId" not in line}


def imported(jobs, container, clock, lines: list[dict]) -> dict:
    job = started(jobs.start_import(container, lines), "an import")
    return finished(jobs, job["jobId"], clock)


def keys_of(line: dict) -> tuple:
    symmetric = (line.get("authentication") or {}).get("symmetricKey") or {}
    return symmetric.get("primaryKey"), symmetric.get("secondaryKey")


def desired_of(line: dict) -> dict:
    return {k: v for k, v in ((line.get("properties") or {}).get("desired") or {}).items() if not k.startswith("$")}


# -- reading, listing, cancelling ---------------------------------------------------------------------------------


@pytest.mark.requirement("IEJOB-CREATE-001", "IEJOB-GET-001")
def test_job_is_created_with_its_blob_names_and_runs_to_completion(jobs, container, clock_if_any):
    job = started(jobs.start_import(container, []), "an import")
    expect("IEJOB-CREATE-001", job.get("type") == "import" and job.get("status") in ORDER,
           f"the new job reads type {job.get('type')!r}, status {job.get('status')!r}")
    names = [job.get(name) for name in ("inputBlobName", "outputBlobName")]
    expect("IEJOB-CREATE-001", all(isinstance(n, str) and n.startswith(jobs.target.name_prefix) for n in names),
           f"the new job names the blobs {job.get('inputBlobName')!r} and {job.get('outputBlobName')!r}, not the run's")
    done = finished(jobs, job["jobId"], clock_if_any)
    expect("IEJOB-GET-001", done.get("progress") == 100, f"a completed job has progress {done.get('progress')!r}")
    for name in ("startTimeUtc", "endTimeUtc"):
        expect("IEJOB-GET-001", isinstance(done.get(name), str) and iso8601(done[name]),
               f"a completed job's {name} is {done.get(name)!r}, not an ISO 8601 time")
    start, end = (datetime.fromisoformat(done[n].replace("Z", "+00:00")[:26]) for n in ("startTimeUtc", "endTimeUtc"))
    expect("IEJOB-GET-001", end >= start, f"it ended ({done['endTimeUtc']}) before it began ({done['startTimeUtc']})")


def jobs_endpoint_answers(jobs) -> None:
    """A 404 for an unknown job is evidence only from an endpoint that answers otherwise: GET /jobs must list."""
    listed = require(jobs.list(), "could not list the jobs")
    if not isinstance(json_of(listed), list):
        raise PreconditionFailed(f"could not list the jobs: {answered(listed)} without a JSON array")


@pytest.mark.requirement("IEJOB-GET-002")
def test_get_of_unknown_job_returns_404(jobs, profile):
    jobs_endpoint_answers(jobs)
    response = jobs.get(str(uuid.uuid4()))
    expect("IEJOB-GET-002", response.status_code == 404, f"GET of a job that does not exist: {answered(response)}")
    if profile.value("error_envelope"):
        expect("IEJOB-GET-002", errors.error_code(response) == "JobNotFound",
               f"the 404 names {errors.error_code(response)!r}")


@pytest.mark.requirement("IEJOB-CANCEL-002")
def test_cancel_of_unknown_job_returns_404(target, jobs, api_version, profile):
    jobs_endpoint_answers(jobs)
    # A fresh random id names no job of anyone's, so the run's guard (only its own jobs) is not needed here.
    response = target.client(guarded=False).delete(f"/jobs/{uuid.uuid4()}", params={"api-version": api_version})
    expect("IEJOB-CANCEL-002", response.status_code == 404, f"DELETE of a job that does not exist: {answered(response)}")
    if profile.value("error_envelope"):
        expect("IEJOB-CANCEL-002", errors.error_code(response) == "JobNotFound",
               f"the 404 names {errors.error_code(response)!r}")


@pytest.mark.requirement("IEJOB-LIST-001")
def test_list_holds_the_runs_job(jobs, container, clock_if_any):
    job = started(jobs.start_import(container, []), "an import")
    finished(jobs, job["jobId"], clock_if_any)
    listed = jobs.list()
    body = json_of(listed)
    expect("IEJOB-LIST-001", listed.status_code == 200 and isinstance(body, list), f"GET /jobs: {answered(listed)}")
    expect("IEJOB-LIST-001", job["jobId"] in [j.get("jobId") for j in body if isinstance(j, dict)],
           f"GET /jobs does not hold the run's finished job {job['jobId']}")


@pytest.mark.requirement("IEJOB-CANCEL-001")
def test_cancel_of_unfinished_job_ends_it_cancelled_and_changes_nothing(jobs, container, registry, clock_if_any,
                                                                        profile_rule):
    allowed = profile_rule("import_export_cancel_statuses")
    never = registry.name("cancelled-import")
    registry.created.append(never)  # should the cancel not hold, the device is removed afterwards
    job = started(jobs.start_import(container, [{"id": never, "importMode": "create"}]), "an import")
    current = json_of(require(jobs.get(job["jobId"]), f"could not read job {job['jobId']}")) or {}
    if current.get("status") in ENDED:
        pytest.skip(f"the job ended ({current['status']}) before the suite could cancel it")
    response = jobs.cancel(job["jobId"])
    expect("IEJOB-CANCEL-001", response.status_code in allowed,
           f"DELETE of an unfinished job: {answered(response)}, expected {' or '.join(map(str, sorted(allowed)))}")
    finished(jobs, job["jobId"], clock_if_any, expected="cancelled", judged="IEJOB-CANCEL-001")
    after, _ = jobs.wait(job["jobId"], clock_if_any, settle=True)
    expect("IEJOB-CANCEL-001", after is not None and after.get("status") == "cancelled",
           f"the cancelled job went on to {after and after.get('status')!r}")
    expect("IEJOB-CANCEL-001", not registry.exists(never, "after the cancelled import"),
           f"the cancelled import still created {never}")


@pytest.mark.requirement("IEJOB-QUOTA-001")
def test_a_second_job_while_one_runs_is_refused_with_403(jobs, container, registry, clock_if_any, profile):
    first = started(jobs.start_import(container, []), "the first import")
    second = jobs.start_import(container, [])
    if second.status_code == 200:
        now = json_of(require(jobs.get(first["jobId"]), f"could not read job {first['jobId']}")) or {}
        if now.get("status") in ENDED:
            raise PreconditionFailed(f"the first job ended ({now['status']}) before the second could be started")
    expect("IEJOB-QUOTA-001", second.status_code == 403,
           f"a second import while job {first['jobId']} runs: {answered(second)}, expected 403")
    if profile.value("error_envelope"):
        expect("IEJOB-QUOTA-001", errors.error_code(second) == "JobQuotaExceeded",
               f"the 403 names {errors.error_code(second)!r}")
    finished(jobs, first["jobId"], clock_if_any)


# -- export --------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("IEJOB-EXPORT-001")
def test_export_writes_one_device_per_line_with_every_run_device(jobs, container, registry, clock_if_any):
    ids = [registry.make("export")[0] for _ in range(3)]
    devices = export(jobs, container, clock_if_any, excludeKeysInExport=True)
    missing = [device_id for device_id in ids if device_id not in devices]
    expect("IEJOB-EXPORT-001", not missing, f"the export lacks the run's devices {missing}")
    for device_id in ids:
        line = devices[device_id]
        expect("IEJOB-EXPORT-001", line.get("status") == "enabled" and isinstance(line.get("eTag"), str)
               and "authentication" in line, f"exported {device_id} as {line!r}")


@pytest.mark.requirement("IEJOB-EXPORT-002", "IEJOB-EXPORT-001")
@pytest.mark.parametrize("exclude", [True, False, None], ids=["true", "false", "not-given"])
def test_export_keys_follow_exclude_keys_in_export(jobs, container, registry, clock_if_any, exclude):
    device_id, created = registry.make("keys")
    symmetric = (json_of(created).get("authentication") or {}).get("symmetricKey") or {}
    if not symmetric.get("primaryKey"):
        raise PreconditionFailed(f"device {device_id} was created without keys to compare the export with")
    line = export(jobs, container, clock_if_any,
                  **({} if exclude is None else {"excludeKeysInExport": exclude})).get(device_id)
    expect("IEJOB-EXPORT-001", line is not None, f"the export lacks {device_id}")
    expected = (None, None) if exclude else (symmetric["primaryKey"], symmetric["secondaryKey"])
    expect("IEJOB-EXPORT-002", keys_of(line) == expected,
           f"with excludeKeysInExport {'not given' if exclude is None else str(exclude).lower()} the export's keys "
           f"are {'present' if any(keys_of(line)) else 'null'}")


@pytest.mark.requirement("IEJOB-CONFIG-001")
def test_export_with_configurations_writes_the_configurations_blob(jobs, container, registry, clock_if_any):
    registry.make("config-export")
    name = jobs.blob_name("configurations")
    jobs.written.append((container, name))
    export(jobs, container, clock_if_any, includeConfigurations=True, configurationsBlobName=name)
    blob = container.get(name)
    expect("IEJOB-CONFIG-001", blob is not None,
           f"the export with includeConfigurations true wrote no blob {name!r} in the output container")


@pytest.mark.requirement("IEJOB-IDENTITY-001")
def test_identity_based_job_with_an_identity_the_hub_lacks_fails_with_a_reason(jobs, container, clock_if_any, target):
    identity = MISSING_IDENTITY.format(prefix=target.name_prefix)
    response, _ = jobs.start_export(container, storageAuthenticationType="identityBased",
                                    identity={"userAssignedIdentity": identity})
    job = started(response, "an identity-based export", "IEJOB-IDENTITY-001")
    done = finished(jobs, job["jobId"], clock_if_any, expected="failed", judged="IEJOB-IDENTITY-001")
    expect("IEJOB-IDENTITY-001", isinstance(done.get("failureReason"), str) and done["failureReason"].strip(),
           f"the failed job's failureReason is {done.get('failureReason')!r}")


# -- import --------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("IEJOB-IMPORT-001")
def test_import_changes_exactly_the_listed_devices(jobs, container, registry, clock_if_any):
    updated, _ = registry.make("import-update")
    deleted, _ = registry.make("import-delete")
    untouched, before = registry.make("import-untouched")
    created = registry.name("import-create")
    registry.created.append(created)
    imported(jobs, container, clock_if_any, [
        {"id": created, "importMode": "create", "status": "enabled"},
        {"id": updated, "importMode": "update", "status": "disabled", "statusReason": "imported"},
        {"id": deleted, "importMode": "delete"},
    ])
    expect("IEJOB-IMPORT-001", registry.exists(created, "after the import"), f"the import did not create {created}")
    status = json_of(registry.read(updated, "after the import")).get("status")
    expect("IEJOB-IMPORT-001", status == "disabled", f"the import did not update {updated}: its status is {status!r}")
    expect("IEJOB-IMPORT-001", not registry.exists(deleted, "after the import"), f"the import did not delete {deleted}")
    etag = json_of(registry.read(untouched, "after the import")).get("etag")
    expect("IEJOB-IMPORT-001", etag == json_of(before).get("etag"),
           f"the import changed {untouched}, which its input does not list (etag {json_of(before).get('etag')} → {etag})")


@pytest.mark.requirement("IEJOB-IMPORT-002")
def test_create_or_update_creates_and_overwrites_whatever_the_etag(jobs, container, registry, clock_if_any,
                                                                   profile_rule):
    profile_rule("import_create_or_update")
    existing, _ = registry.make("upsert-existing")
    fresh = registry.name("upsert-new")
    registry.created.append(fresh)
    imported(jobs, container, clock_if_any, [
        {"id": fresh, "status": "enabled"},  # no importMode: createOrUpdate, the bulk page's default
        {"id": existing, "importMode": "createOrUpdate", "eTag": "bm90LXRoZS1ldGFn", "status": "disabled"},
    ])
    expect("IEJOB-IMPORT-002", registry.exists(fresh, "after the import"),
           f"a line without importMode did not create {fresh}")
    status = json_of(registry.read(existing, "after the import")).get("status")
    expect("IEJOB-IMPORT-002", status == "disabled",
           f"createOrUpdate with another eTag did not overwrite {existing}: its status is {status!r}")


@pytest.mark.requirement("IEJOB-TWIN-001")
def test_imported_twin_data_is_exported_with_its_twin_etag(jobs, container, registry, clock_if_any):
    device_id = registry.name("twin-import")
    registry.created.append(device_id)
    imported(jobs, container, clock_if_any, [{"id": device_id, "importMode": "create", "status": "enabled",
                                              "tags": {"site": "north"},
                                              "properties": {"desired": {"mode": "eco"}}}])
    line = export(jobs, container, clock_if_any).get(device_id)
    if line is None:
        raise PreconditionFailed(f"the export lacks {device_id}, which the import created")
    expect("IEJOB-TWIN-001", isinstance(line.get("twinETag"), str) and line["twinETag"],
           f"the export's line for {device_id} has no twinETag: {line!r}")
    expect("IEJOB-TWIN-001", (line.get("tags") or {}).get("site") == "north" and desired_of(line).get("mode") == "eco",
           f"the export shows tags {line.get('tags')!r} and desired {desired_of(line)!r}, not the imported twin")


@pytest.mark.requirement("IEJOB-IMPORT-003")
def test_update_twin_modes_replace_the_twin_and_respect_its_etag(jobs, container, registry, clock_if_any):
    plain, _ = registry.make("twin-update")
    guarded, _ = registry.make("twin-guarded")
    imported(jobs, container, clock_if_any, [
        {"id": plain, "importMode": "updateTwin", "tags": {"wave": "one"}},
        {"id": guarded, "importMode": "updateTwinIfMatchETag", "twinETag": "bm90LXRoZS10d2lu", "tags": {"wave": "one"}},
    ])
    devices = export(jobs, container, clock_if_any)
    if plain not in devices or guarded not in devices:
        raise PreconditionFailed(f"the export that shows the twins lacks {plain} or {guarded}")
    if "twinETag" not in devices[guarded]:
        raise PreconditionFailed("the export that shows the twin has no twin data on the line")
    expect("IEJOB-IMPORT-003", (devices[plain].get("tags") or {}).get("wave") == "one",
           f"updateTwin did not set the tags of {plain}: {devices[plain].get('tags')!r}")
    expect("IEJOB-IMPORT-003", "wave" not in (devices[guarded].get("tags") or {}),
           f"updateTwinIfMatchETag with a twinETag that does not match changed the twin of {guarded}")


# -- generated requests (reads only: a generated start would hand the hub made-up storage to reach) ---------------

reads = openapi.load("import-export-jobs", "2021-04-12").include(method="GET")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@reads.parametrize()
@SETTINGS
def test_generated_job_reads_conform_to_the_spec_and_checks(case, target, client):
    if "id" in (case.path_parameters or {}):
        case.path_parameters["id"] = f"{target.name_prefix}{uuid.uuid4().hex[:12]}"  # run-prefixed ids only
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")

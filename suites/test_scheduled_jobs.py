"""Scheduled jobs and device twins (api-version 2016-11-14): twin-update and device-method jobs on the run's devices.

Pages: autogen-2016-11-14__JobApi_{CreateJob,GetJob,CancelJob,QueryJobs}.yml,
autogen-2016-11-14__DeviceTwinApi_{GetDeviceTwin,UpdateDeviceTwin}.yml. Every job names only devices the run
created; waits and start times use the embedded reference's clock where there is one.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, require
from iothub_conformance.surfaces.scheduled_jobs import TERMINAL, items_of

HOUR = 3600


def created(response, requirement="JOBV2-CREATE-001") -> dict:
    body = json_of(response)
    expect(requirement, response.status_code == 200 and isinstance(body, dict),
           f"{answered(response)}, expected 200 with the job: {response.text[:200]}")
    return body


def ended(scheduled, job_id, clock, requirement: str, expected="completed") -> dict:
    """The job once it ended; that it ended `expected` is part of what `requirement` judges."""
    job = scheduled.wait(job_id, clock)
    expect("JOBV2-GET-001", job is not None, f"GET /jobs/v2/{job_id} stopped answering 200")
    expect("JOBV2-GET-001", job.get("status") in TERMINAL, f"job {job_id} did not end (status {job.get('status')!r})")
    expect(requirement, job["status"] == expected, f"job {job_id} ended {job['status']!r} ({job.get('failureReason')!r})")
    return job


def twin_of(scheduled, device_id) -> dict:
    response = scheduled.twin(device_id)
    body = json_of(response)
    expect("TWIN-GET-001", response.status_code == 200 and isinstance(body, dict),
           f"twin of {device_id}: {answered(response)}")
    return body


def desired(twin: dict) -> dict:
    return (twin.get("properties") or {}).get("desired") or {}


# -- twins -------------------------------------------------------------------------------------------------------


@pytest.mark.requirement("TWIN-GET-001")
def test_get_twin_returns_the_devices_twin(registry, scheduled):
    device_id, _ = registry.make("twin")
    twin = twin_of(scheduled, device_id)
    expect("TWIN-GET-001", twin.get("deviceId") == device_id, f"the twin of {device_id} names {twin.get('deviceId')!r}")
    expect("TWIN-GET-001", isinstance((twin.get("properties") or {}).get("desired"), dict),
           f"the twin has no properties.desired: {twin}")


@pytest.mark.requirement("TWIN-PATCH-001")
def test_patch_twin_merges_tags_and_desired_properties(registry, scheduled):
    device_id, _ = registry.make("twin-patch")
    first = scheduled.patch_twin(device_id, {"tags": {"site": "north"}, "properties": {"desired": {"mode": "eco"}}})
    expect("TWIN-PATCH-001", first.status_code == 200, f"PATCH /twins/{device_id} → {first.status_code}, expected 200")
    second = scheduled.patch_twin(device_id, {"properties": {"desired": {"rate": "5"}}})
    expect("TWIN-PATCH-001", second.status_code == 200, f"a second PATCH → {second.status_code}, expected 200")
    twin = twin_of(scheduled, device_id)
    expect("TWIN-PATCH-001", (twin.get("tags") or {}).get("site") == "north", f"the tag did not stay: {twin.get('tags')}")
    expect("TWIN-PATCH-001", desired(twin).get("mode") == "eco" and desired(twin).get("rate") == "5",
           f"the desired properties were not merged: {desired(twin)}")


# -- scheduled jobs ----------------------------------------------------------------------------------------------


@pytest.mark.requirement("JOBV2-CREATE-001", "JOBV2-GET-001", "JOBV2-TWIN-001")
def test_twin_job_updates_exactly_the_selected_twins(registry, scheduled, clock_if_any):
    chosen = [registry.make("twin-job")[0] for _ in range(2)]
    other, _ = registry.make("twin-job-other")
    job_id, response = scheduled.twin_job(chosen, {"tags": {"jobbed": "yes"}, "properties": {"desired": {"jobbed": "yes"}}})
    job = created(response)
    expect("JOBV2-CREATE-001", job.get("jobId") == job_id and job.get("type") == "scheduleUpdateTwin", f"{job}")
    done = ended(scheduled, job_id, clock_if_any, "JOBV2-CREATE-001")
    expect("JOBV2-GET-001", done.get("endTime"), f"a completed job has no endTime: {done}")
    expect("JOBV2-GET-001", isinstance(done.get("deviceJobStatistics"), dict), f"no deviceJobStatistics: {done}")
    for device_id in chosen:
        twin = twin_of(scheduled, device_id)
        expect("JOBV2-TWIN-001", (twin.get("tags") or {}).get("jobbed") == "yes" and desired(twin).get("jobbed") == "yes",
               f"the job did not update the twin of {device_id}: {twin}")
    untouched = twin_of(scheduled, other)
    expect("JOBV2-TWIN-001", "jobbed" not in (untouched.get("tags") or {}) and "jobbed" not in desired(untouched),
           f"the job updated {other}, which its queryCondition does not select")


@pytest.mark.requirement("JOBV2-GET-002")
def test_get_and_cancel_of_unknown_job_return_404(scheduled):
    # A 404 for an unknown job is evidence only from an endpoint that answers otherwise: the job query must answer.
    require(scheduled.query(), "could not query the scheduled jobs")
    unknown = scheduled.job_id("never-created")
    response = scheduled.get(unknown)
    expect("JOBV2-GET-002", response.status_code == 404, f"GET of an unknown job: {answered(response)}, expected 404")
    cancel = scheduled.cancel(unknown)
    expect("JOBV2-GET-002", cancel.status_code == 404, f"cancel of an unknown job: {answered(cancel)}, expected 404")


@pytest.mark.requirement("JOBV2-SCHEDULE-001")
def test_job_with_a_later_start_time_waits_for_it(registry, scheduled, clock_if_any):
    device_id, _ = registry.make("scheduled")
    job_id, response = scheduled.twin_job([device_id], {"tags": {"later": "yes"}}, start=scheduled.now() + HOUR)
    created(response)
    if clock_if_any is not None:
        clock_if_any.advance(5)
    early = json_of(require(scheduled.get(job_id), f"could not read job {job_id}")) or {}
    expect("JOBV2-SCHEDULE-001", early.get("status") not in ("running", "completed"),
           f"a job due in an hour is {early.get('status')!r}")
    expect("JOBV2-SCHEDULE-001", "later" not in (twin_of(scheduled, device_id).get("tags") or {}),
           "the job ran before its startTime")
    if clock_if_any is None:
        pytest.skip("the job is due in an hour: that it then runs is tested on the embedded reference's clock")
    clock_if_any.advance(HOUR)
    ended(scheduled, job_id, clock_if_any, "JOBV2-SCHEDULE-001")
    expect("JOBV2-SCHEDULE-001", (twin_of(scheduled, device_id).get("tags") or {}).get("later") == "yes",
           "the job did not run after its start")


@pytest.mark.requirement("JOBV2-CANCEL-001")
def test_cancel_of_a_job_that_has_not_run_stops_it(registry, scheduled, clock_if_any):
    device_id, _ = registry.make("cancel")
    job_id, response = scheduled.twin_job([device_id], {"tags": {"cancelled": "no"}}, start=scheduled.now() + HOUR)
    created(response)
    cancel = scheduled.cancel(job_id)
    expect("JOBV2-CANCEL-001", cancel.status_code == 200,
           f"POST /jobs/v2/{job_id}/cancel → {cancel.status_code}, expected 200")
    if clock_if_any is not None:
        clock_if_any.advance(HOUR + 5)
    job = json_of(require(scheduled.get(job_id), f"could not read job {job_id} after its cancel")) or {}
    expect("JOBV2-CANCEL-001", job.get("status") == "cancelled", f"the cancelled job reads {job.get('status')!r}")
    expect("JOBV2-CANCEL-001", "cancelled" not in (twin_of(scheduled, device_id).get("tags") or {}),
           "the cancelled job still ran")


@pytest.mark.requirement("JOBV2-QUERY-001")
def test_query_lists_only_jobs_of_the_asked_type_and_status(registry, scheduled, clock_if_any, profile):
    device_id, _ = registry.make("query")
    job_id, response = scheduled.twin_job([device_id], {"tags": {"queried": "yes"}})
    created(response)
    ended(scheduled, job_id, clock_if_any, "JOBV2-QUERY-001")
    # A job of another type that the query must leave out, made here so the test does not depend on what other
    # tests left behind.
    other_id, other = scheduled.method_job([device_id], "conformanceMethod", {"n": 1})
    require(other, "could not start the method job the query must leave out")
    other_job = scheduled.wait(other_id, clock_if_any)
    if other_job is None or other_job.get("status") not in TERMINAL:
        raise PreconditionFailed(f"the method job {other_id} the query must leave out did not end: {other_job}")
    answer = scheduled.query("scheduleUpdateTwin", "completed")
    expect("JOBV2-QUERY-001", answer.status_code == 200, f"GET /jobs/v2/query: {answered(answer)}, expected 200")
    items = items_of(json_of(answer), profile.value("job_query_shape"))
    expect("JOBV2-QUERY-001", items is not None,
           f"the query answer has no list of jobs where the profile expects it: {answer.text[:200]}")
    wrong = [j for j in items if j.get("type") != "scheduleUpdateTwin" or j.get("status") != "completed"]
    stray = wrong[0] if wrong else {}
    expect("JOBV2-QUERY-001", not wrong,
           f"the query for completed twin jobs lists {stray.get('type')}/{stray.get('status')}")
    expect("JOBV2-QUERY-001", job_id in [j.get("jobId") for j in items],
           f"the query does not list the run's completed job {job_id}")


@pytest.mark.requirement("JOBV2-METHOD-001", "JOBV2-CREATE-001")
def test_method_job_counts_a_device_that_is_not_online_as_failed(registry, scheduled, clock_if_any):
    device_id, _ = registry.make("offline")
    job_id, response = scheduled.method_job([device_id], "conformanceMethod", {"n": 1})
    job = created(response)
    expect("JOBV2-CREATE-001", job.get("type") == "scheduleDeviceMethod", f"{job}")
    done = ended(scheduled, job_id, clock_if_any, "JOBV2-METHOD-001")
    stats = done.get("deviceJobStatistics") or {}
    expect("JOBV2-METHOD-001", stats.get("deviceCount") == 1,
           f"the job counted {stats.get('deviceCount')} devices, selected 1: {stats}")
    expect("JOBV2-METHOD-001", stats.get("failedCount") == 1 and not stats.get("succeededCount"),
           f"a device that is not online should count as failed: {stats}")


@pytest.mark.requirement("JOBV2-METHOD-002")
def test_method_job_counts_a_device_that_answers_as_succeeded(registry, scheduled, clock_if_any, method_responder):
    online, _ = registry.make("online")
    offline, _ = registry.make("offline")
    method_responder(online)
    job_id, response = scheduled.method_job([online, offline], "conformanceMethod", {"n": 2})
    created(response)
    stats = ended(scheduled, job_id, clock_if_any, "JOBV2-METHOD-002").get("deviceJobStatistics") or {}
    counts = (stats.get("deviceCount"), stats.get("succeededCount"), stats.get("failedCount"))
    expect("JOBV2-METHOD-002", counts == (2, 1, 1),
           f"one device answered and one is offline, but the statistics are {stats}")

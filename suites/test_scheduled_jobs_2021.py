"""Scheduled jobs (jobs v2) at api-version 2021-04-12: twin-update and device-method jobs on the run's devices, their
status names, start times, cancel, and the paged job query.

Sources: docs/sources/service-2021-04-12.json (JobRequest, JobResponse, QueryResult, DeviceJobStatistics);
docs/sources/iot-hub-devguide-jobs__2019-05-06_6190472e.md; docs/sources/INVENTORY-2021-04-12.md §2.10, §5, §10 (C17,
C18, C38). Every job names only devices the run created (`deviceId IN [...]`, alone or beside a condition on tags the
run set); waits and start times use the embedded reference's clock where there is one; twins are read at this
api-version.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, require
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.scheduled_jobs import Scheduled, condition, iso

pytestmark = pytest.mark.api_version("2021-04-12")

HOUR = 3600
MAX_PAGES = 50  # the query pages followed at most: enough for the run's jobs on a hub that keeps a few dozen
TWIN_JOB, METHOD_JOB = "scheduleUpdateTwin", "scheduleDeviceMethod"


@pytest.fixture
def scheduled(target, client, api_version):
    return Scheduled(client, target, api_version)


@pytest.fixture
def names(profile_rule):
    """The profile's status names: {"names": the set, "cancelled": the name for cancelled}."""
    return profile_rule("scheduled_job_statuses")


def ended_statuses(names) -> set[str]:
    return {"completed", "failed", names["cancelled"]}


def created(response, requirement="SJOB-CREATE-001") -> dict:
    body = json_of(response)
    expect(requirement, response.status_code == 200 and isinstance(body, dict),
           f"{answered(response)}, expected 200 with the job: {response.text[:200]}")
    return body


def ended(scheduled, job_id, clock, names, requirement: str, expected="completed") -> dict:
    """The job once it ended; that it ended `expected` is part of what `requirement` judges."""
    job = scheduled.wait(job_id, clock)
    expect("SJOB-GET-001", job is not None, f"GET /jobs/v2/{job_id} stopped answering 200")
    expect("SJOB-STATUS-001", job.get("status") in names["names"],
           f"job {job_id} shows the status {job.get('status')!r}, not one of the profile's")
    expect("SJOB-GET-001", job.get("status") in ended_statuses(names),
           f"job {job_id} did not end (status {job.get('status')!r})")
    expect(requirement, job["status"] == expected, f"job {job_id} ended {job['status']!r} ({job.get('failureReason')!r})")
    return job


def wait_for(scheduled, job_id, clock, names) -> dict:
    """The job once it ended, as a precondition of the test."""
    job = scheduled.wait(job_id, clock)
    if job is None or job.get("status") not in ended_statuses(names):
        raise PreconditionFailed(f"job {job_id} did not end: {job}")
    return job


def twin_of(scheduled, device_id) -> dict:
    response = scheduled.twin(device_id)
    body = json_of(response)
    if response.status_code != 200 or not isinstance(body, dict):
        raise PreconditionFailed(f"could not read the twin of {device_id}: {answered(response)}")
    return body


def tags(twin: dict) -> dict:
    return twin.get("tags") or {}


def desired(twin: dict) -> dict:
    return (twin.get("properties") or {}).get("desired") or {}


def every_page(scheduled, profile, job_type=None, status=None, page_size=None) -> tuple[list[list[dict]], bool]:
    """The query's pages, following the body's continuationToken as the profile pages (at most MAX_PAGES); and
    whether the last page said there is no more."""
    paging = profile.value("job_query_paging") or "headers"
    pages, token = [], None
    for _ in range(MAX_PAGES):
        answer = scheduled.query(job_type, status, page_size, token, paging)
        body = json_of(answer)
        expect("SJOB-QUERY-001", answer.status_code == 200 and isinstance(body, dict)
               and isinstance(body.get("items"), list), f"GET /jobs/v2/query: {answered(answer)} without a QueryResult")
        pages.append([item for item in body["items"] if isinstance(item, dict)])
        token = body.get("continuationToken")
        if not token:
            return pages, True
    return pages, False


# -- twin-update jobs ------------------------------------------------------------------------------------------------


@pytest.mark.requirement("SJOB-CREATE-001", "SJOB-GET-001", "SJOB-TWIN-001", "SJOB-STATUS-001")
def test_twin_job_updates_exactly_the_selected_twins(registry, scheduled, clock_if_any, names):
    chosen = [registry.make("twin-job")[0] for _ in range(2)]
    other, _ = registry.make("twin-job-other")
    update = {"tags": {"jobbed": "yes"}, "properties": {"desired": {"jobbed": "yes"}}, "etag": "*"}
    job_id, response = scheduled.twin_job(chosen, update)
    job = created(response)
    condition = "deviceId IN [" + ", ".join(f"'{d}'" for d in chosen) + "]"
    given = (job.get("jobId"), job.get("type"), job.get("queryCondition"))
    expect("SJOB-CREATE-001", given == (job_id, TWIN_JOB, condition),
           f"the new job reads {job.get('jobId')!r}, {job.get('type')!r}, {job.get('queryCondition')!r}")
    times = job.get("createdTime") and job.get("startTime")
    expect("SJOB-CREATE-001", times and job.get("maxExecutionTimeInSeconds") == 3600,
           f"the new job's createdTime, startTime, maxExecutionTimeInSeconds: {job.get('createdTime')!r}, "
           f"{job.get('startTime')!r}, {job.get('maxExecutionTimeInSeconds')!r}")
    expect("SJOB-STATUS-001", job.get("status") in names["names"],
           f"the new job's status {job.get('status')!r} is not one of the profile's")
    done = ended(scheduled, job_id, clock_if_any, names, "SJOB-CREATE-001")
    for device_id in chosen:
        twin = twin_of(scheduled, device_id)
        expect("SJOB-TWIN-001", tags(twin).get("jobbed") == "yes" and desired(twin).get("jobbed") == "yes",
               f"the job did not update the twin of {device_id}: {twin}")
    untouched = twin_of(scheduled, other)
    expect("SJOB-TWIN-001", "jobbed" not in tags(untouched) and "jobbed" not in desired(untouched),
           f"the job updated {other}, which its queryCondition does not select")
    expect("SJOB-GET-001", done.get("endTime"), f"a completed job has no endTime: {done}")
    stats = done.get("deviceJobStatistics") or {}
    expect("SJOB-GET-001", stats.get("deviceCount") == 2, f"the job selected 2 devices; its statistics: {stats}")


@pytest.mark.requirement("SJOB-TWIN-003")
def test_twin_job_selects_by_a_tag_condition_exactly_the_twins_that_meet_it(registry, scheduled, clock_if_any, names):
    tagged = [registry.make("tag-job")[0] for _ in range(2)]
    untagged, _ = registry.make("tag-job-other")
    mark = scheduled.job_id("selector")  # run-prefixed and unique: no twin outside this test carries it
    for device_id in tagged:
        require(scheduled.patch_twin(device_id, {"tags": {"conformanceSelector": mark}}),
                f"could not tag the twin of {device_id}")
    # The tag chooses among the run's own devices: the deviceId list keeps the job off every other device of the hub.
    query = f"{condition(tagged + [untagged])} AND tags.conformanceSelector = '{mark}'"
    job_id = scheduled.job_id("job")
    response = scheduled.client.put(f"/jobs/v2/{job_id}", params=scheduled.params, json={
        "jobId": job_id, "type": TWIN_JOB, "queryCondition": query, "startTime": iso(scheduled.now()),
        "updateTwin": {"tags": {"tagJobbed": "yes"}, "etag": "*"}, "maxExecutionTimeInSeconds": 3600})
    created(response, "SJOB-TWIN-003")
    done = ended(scheduled, job_id, clock_if_any, names, "SJOB-TWIN-003")
    for device_id in tagged:
        expect("SJOB-TWIN-003", tags(twin_of(scheduled, device_id)).get("tagJobbed") == "yes",
               f"the job did not update {device_id}, whose tag meets its queryCondition {query!r}")
    expect("SJOB-TWIN-003", "tagJobbed" not in tags(twin_of(scheduled, untagged)),
           f"the job updated {untagged}, whose twin lacks the tag its queryCondition asks for")
    stats = done.get("deviceJobStatistics") or {}
    expect("SJOB-TWIN-003", stats.get("deviceCount") == 2, f"the condition selects 2 devices; the statistics: {stats}")


@pytest.mark.requirement("SJOB-TWIN-002")
def test_twin_job_without_etag_runs_as_with_a_wildcard(registry, scheduled, clock_if_any, names, profile_rule):
    profile_rule("twin_job_etag_optional")
    device_id, _ = registry.make("twin-no-etag")
    job_id, response = scheduled.twin_job([device_id], {"tags": {"plain": "yes"}})
    created(response, "SJOB-TWIN-002")
    ended(scheduled, job_id, clock_if_any, names, "SJOB-TWIN-002")
    expect("SJOB-TWIN-002", tags(twin_of(scheduled, device_id)).get("plain") == "yes",
           "the job without updateTwin.etag did not update the twin")


@pytest.mark.requirement("SJOB-GET-002")
def test_get_and_cancel_of_unknown_job_return_404(scheduled):
    require(scheduled.query(), "could not query the scheduled jobs")
    unknown = scheduled.job_id("never-created")
    response = scheduled.get(unknown)
    expect("SJOB-GET-002", response.status_code == 404, f"GET of an unknown job: {answered(response)}, expected 404")
    cancel = scheduled.cancel(unknown)
    expect("SJOB-GET-002", cancel.status_code == 404, f"cancel of an unknown job: {answered(cancel)}, expected 404")


@pytest.mark.requirement("SJOB-SCHEDULE-001")
def test_job_with_a_later_start_time_waits_for_it(registry, scheduled, clock_if_any, names):
    device_id, _ = registry.make("scheduled")
    job_id, response = scheduled.twin_job([device_id], {"tags": {"later": "yes"}, "etag": "*"},
                                          start=scheduled.now() + HOUR)
    created(response)
    if clock_if_any is not None:
        clock_if_any.advance(5)
    early = json_of(require(scheduled.get(job_id), f"could not read job {job_id}")) or {}
    expect("SJOB-SCHEDULE-001", early.get("status") not in ("running", "completed"),
           f"a job due in an hour is {early.get('status')!r}")
    expect("SJOB-SCHEDULE-001", "later" not in tags(twin_of(scheduled, device_id)), "the job ran before its startTime")
    if clock_if_any is None:
        scheduled.cancel(job_id)
        pytest.skip("the job is due in an hour: that it then runs is tested on the embedded reference's clock")
    clock_if_any.advance(HOUR)
    ended(scheduled, job_id, clock_if_any, names, "SJOB-SCHEDULE-001")
    expect("SJOB-SCHEDULE-001", tags(twin_of(scheduled, device_id)).get("later") == "yes",
           "the job did not run after its start")


@pytest.mark.requirement("SJOB-CANCEL-001", "SJOB-STATUS-001")
def test_cancel_of_a_job_that_has_not_run_stops_it(registry, scheduled, clock_if_any, names):
    device_id, _ = registry.make("cancel")
    job_id, response = scheduled.twin_job([device_id], {"tags": {"cancelled": "no"}, "etag": "*"},
                                          start=scheduled.now() + HOUR)
    created(response)
    cancel = scheduled.cancel(job_id)
    body = json_of(cancel)
    expect("SJOB-CANCEL-001", cancel.status_code == 200 and isinstance(body, dict) and body.get("jobId") == job_id,
           f"POST /jobs/v2/{job_id}/cancel: {answered(cancel)}, expected 200 with the job")
    expect("SJOB-STATUS-001", body.get("status") in names["names"],
           f"the cancelled job's status {body.get('status')!r} is not one of the profile's")
    if clock_if_any is not None:
        clock_if_any.advance(HOUR + 5)
    job = json_of(require(scheduled.get(job_id), f"could not read job {job_id} after its cancel")) or {}
    expect("SJOB-CANCEL-001", job.get("status") == names["cancelled"],
           f"the cancelled job reads {job.get('status')!r}, expected {names['cancelled']!r}")
    expect("SJOB-CANCEL-001", "cancelled" not in tags(twin_of(scheduled, device_id)), "the cancelled job still ran")


# -- device-method jobs ---------------------------------------------------------------------------------------------


@pytest.mark.requirement("SJOB-METHOD-001")
def test_method_job_counts_a_device_that_is_not_online_as_failed(registry, scheduled, clock_if_any, names):
    device_id, _ = registry.make("offline")
    job_id, response = scheduled.method_job([device_id], "conformanceMethod", {"n": 1})
    job = created(response, "SJOB-METHOD-001")
    expect("SJOB-METHOD-001", job.get("type") == METHOD_JOB, f"the new job's type is {job.get('type')!r}")
    stats = ended(scheduled, job_id, clock_if_any, names, "SJOB-METHOD-001").get("deviceJobStatistics") or {}
    expect("SJOB-METHOD-001", stats.get("deviceCount") == 1, f"the job selected 1 device; its statistics: {stats}")
    expect("SJOB-METHOD-001", stats.get("failedCount") == 1 and not stats.get("succeededCount"),
           f"a device that is not online should count as failed: {stats}")


@pytest.mark.requirement("SJOB-METHOD-002")
def test_method_job_counts_a_device_that_answers_as_succeeded(registry, scheduled, clock_if_any, names,
                                                              method_responder):
    online, _ = registry.make("online")
    offline, _ = registry.make("offline")
    method_responder(online)
    job_id, response = scheduled.method_job([online, offline], "conformanceMethod", {"n": 2})
    created(response, "SJOB-METHOD-002")
    stats = ended(scheduled, job_id, clock_if_any, names, "SJOB-METHOD-002").get("deviceJobStatistics") or {}
    counts = (stats.get("deviceCount"), stats.get("succeededCount"), stats.get("failedCount"))
    expect("SJOB-METHOD-002", counts == (2, 1, 1),
           f"one device answered and one is offline, but the statistics are {stats}")


# -- the job query --------------------------------------------------------------------------------------------------


@pytest.mark.requirement("SJOB-QUERY-001")
def test_query_lists_only_jobs_of_the_asked_type_and_status(registry, scheduled, clock_if_any, names, profile):
    device_id, _ = registry.make("query")
    job_id, response = scheduled.twin_job([device_id], {"tags": {"queried": "yes"}, "etag": "*"})
    require(response, "could not start the twin job the query must list")
    wait_for(scheduled, job_id, clock_if_any, names)
    other_id, other = scheduled.method_job([device_id], "conformanceMethod", {"n": 1})
    require(other, "could not start the method job the query must leave out")
    wait_for(scheduled, other_id, clock_if_any, names)
    pages, whole = every_page(scheduled, profile, TWIN_JOB, "completed")
    items = [item for page in pages for item in page]
    wrong = [j for j in items if j.get("type") != TWIN_JOB or j.get("status") != "completed"]
    stray = wrong[0] if wrong else {}
    expect("SJOB-QUERY-001", not wrong,
           f"the query for completed twin jobs lists {stray.get('jobId')}: {stray.get('type')}/{stray.get('status')}")
    found = job_id in [j.get("jobId") for j in items]
    if not found and not whole:
        raise PreconditionFailed(f"the run's job {job_id} was not in the first {MAX_PAGES} pages of the query")
    expect("SJOB-QUERY-001", found, f"the query does not list the run's completed job {job_id}")


@pytest.mark.requirement("SJOB-QUERY-002")
def test_query_pages_as_the_profile_says_and_lists_every_job_once(registry, scheduled, profile_rule, profile):
    profile_rule("job_query_paging")
    device_id, _ = registry.make("paged")
    ours = []
    for _ in range(3):
        job_id, response = scheduled.twin_job([device_id], {"tags": {"paged": "yes"}, "etag": "*"},
                                              start=scheduled.now() + HOUR)
        require(response, "could not start the jobs to page through")
        ours.append(job_id)
    try:
        pages, whole = every_page(scheduled, profile, TWIN_JOB, page_size=2)
    finally:
        for job_id in ours:
            scheduled.cancel(job_id)
    big = [len(page) for page in pages if len(page) > 2]
    expect("SJOB-QUERY-002", not big, f"asked for pages of 2 jobs, a page held {big[:1]}")
    ids = [item.get("jobId") for page in pages for item in page]
    repeated = sorted({job_id for job_id in ids if ids.count(job_id) > 1})
    expect("SJOB-QUERY-002", not repeated, f"the continuation listed jobs twice: {repeated[:3]}")
    missing = [job_id for job_id in ours if job_id not in ids]
    if missing and not whole:
        raise PreconditionFailed(f"the run's jobs were not within the first {MAX_PAGES} pages of 2")
    expect("SJOB-QUERY-002", not missing, f"following continuationToken never reached the run's jobs {missing}")


# -- generated requests (reads only: a generated job would run on whatever its made-up condition selects) ----------

reads = openapi.load("scheduled-jobs", "2021-04-12").include(method="GET")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@reads.parametrize()
@SETTINGS
def test_generated_scheduled_job_reads_conform_to_the_spec_and_checks(case, target, client):
    if "id" in (case.path_parameters or {}):
        case.path_parameters["id"] = target.name_prefix + "generated"  # run-prefixed ids only
    # A made-up continuation token names no page of this hub's: only tokens the hub gave are to be sent.
    (case.query or {}).pop("continuationToken", None)
    (case.headers or {}).pop("x-ms-continuation", None)
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")

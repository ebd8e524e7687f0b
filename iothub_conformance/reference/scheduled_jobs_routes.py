"""The scheduled job handlers, api-version 2016-11-14 (INVENTORY §3 "Jobs v2", §7 item 6: the pages leave out
api-version, which every URI carries; autogen-2016-11-14__JobApi_CreateJob.yml, _GetJob, _CancelJob, _QueryJobs).

Every request is judged in this order: route and method (Starlette, see app.py) → api-version → token → due jobs run
to their end → request validation (400) → existence (404) → action.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from . import scheduled_jobs_state
from .error_envelope import ARGUMENT_INVALID, JOB_NOT_FOUND, JOB_QUOTA_EXCEEDED, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .import_export_jobs import InvalidJob
from .policies import REGISTRY_READ, REGISTRY_WRITE
from .responses import json_response
from .scheduled_jobs_state import FINISHED, STATUSES, TYPES, ScheduledJob

METHOD_JOB_NO_STATISTICS = switch("method-job-no-statistics")
V2_QUERY_IGNORES_FILTERS = switch("v2-query-ignores-filters")
V2_UNKNOWN_JOB_RETURNS_200 = switch("v2-unknown-job-returns-200")


async def job(request: Request) -> Response:
    """/jobs/v2/{jobId}: one route for its methods, so a wrong method's 405 lists them all in Allow."""
    if request.method == "PUT":
        return await create_job(request)
    return await get_job(request)


async def create_job(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    raw = await request.body()
    if refused := admit(request, scheduled_jobs_state.permission(raw), versions=hub.scheduled_api_versions):
        return refused
    await catch_up(hub)
    try:
        new = scheduled_jobs_state.read_request(hub, job_id, raw)
    except InvalidJob as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        if job_id in hub.scheduled_jobs:
            return error_response(hub, 400, ARGUMENT_INVALID, f"job id {job_id!r} already used")
        if not scheduled_jobs_state.add(hub, new):
            return error_response(hub, 403, JOB_QUOTA_EXCEEDED,
                                  f"the jobs of this hub that have not finished fill its {scheduled_jobs_state.KEPT} "
                                  f"jobs or {scheduled_jobs_state.KEPT_BYTES} bytes")
        payload = view(hub, new)
    return json_response(hub, 200, payload)


async def get_job(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    if refused := admit(request, REGISTRY_READ, versions=hub.scheduled_api_versions):
        return refused
    await catch_up(hub)
    with hub.lock:
        found = hub.scheduled_jobs.get(job_id)
        payload = view(hub, found) if found is not None else None
    if payload is None:
        if hub.has(V2_UNKNOWN_JOB_RETURNS_200):
            return json_response(hub, 200, {})
        return _job_not_found(hub, job_id)
    return json_response(hub, 200, payload)


async def cancel_job(request: Request) -> Response:
    """POST /jobs/v2/{jobId}/cancel: 200 with the job, cancelled now or already finished."""
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    if refused := admit(request, REGISTRY_WRITE, versions=hub.scheduled_api_versions):
        return refused
    await catch_up(hub)
    with hub.lock:
        found = hub.scheduled_jobs.get(job_id)
        if found is None:
            return _job_not_found(hub, job_id)
        scheduled_jobs_state.cancel(hub, found)
        payload = view(hub, found)
    return json_response(hub, 200, payload)


async def query_jobs(request: Request) -> Response:
    """GET /jobs/v2/query?jobType=&jobStatus=: every job that matches, oldest first, in one page (the 2016-11-14
    page's QueryResultWithContinuation). pageSize and continuationToken are accepted and ignored."""
    hub: Hub = request.app.state.hub
    if refused := admit(request, REGISTRY_READ, versions=hub.scheduled_api_versions):
        return refused
    await catch_up(hub)
    # An empty value counts as not given, as clients send `jobType=` for "any".
    job_type = request.query_params.get("jobType") or None
    job_status = request.query_params.get("jobStatus") or None
    if job_type is not None and job_type not in TYPES:
        return error_response(hub, 400, ARGUMENT_INVALID, f"jobType must be one of {', '.join(TYPES)}")
    if job_status is not None and job_status not in STATUSES + ("enqueued",):  # the 2018 page's, as the spec
        return error_response(hub, 400, ARGUMENT_INVALID, f"jobStatus must be one of {', '.join(STATUSES)}")
    if hub.has(V2_QUERY_IGNORES_FILTERS):
        job_type = job_status = None
    with hub.lock:
        items = [view(hub, known) for known in hub.scheduled_jobs.values()
                 if job_type in (None, known.type) and job_status in (None, known.status)]
    payload = {"value": {"type": "jobResponse", "items": items, "continuationToken": None}, "nextLink": None}
    return json_response(hub, 200, payload)


async def catch_up(hub: Hub) -> None:
    """Run every due job to its end: scheduled jobs move on only when a twin or scheduled job request arrives."""
    with hub.lock:
        due = scheduled_jobs_state.start_due(hub)
    for started in due:
        # A method handler may block: it runs in a worker thread, never on the event loop or under hub.lock.
        await anyio.to_thread.run_sync(scheduled_jobs_state.run, hub, started)


def view(hub: Hub, job: ScheduledJob) -> dict:
    """The job object as the client sees it. Call under hub.lock."""
    payload = job.to_json()
    if job.status in FINISHED and hub.has(METHOD_JOB_NO_STATISTICS):
        del payload["deviceJobStatistics"]
    return payload


def _job_not_found(hub: Hub, job_id: str) -> Response:
    return error_response(hub, 404, JOB_NOT_FOUND, f"Job {job_id[:140]!r} not found")

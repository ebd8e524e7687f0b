"""The routes api-version 2021-04-12 adds (app.py serves them first): import/export and scheduled jobs.

The paths are the 2016 ones (import_export_routes.py, scheduled_jobs_routes.py), so each route here takes every
request for its path and method: one that names api-version 2021-04-12 is served here, every other goes to the 2016
handler as it was. Every request is judged in the 2016 order: api-version → token → due jobs run to their end →
request validation (400) → existence (404) → action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    import_export_2021,
    import_export_jobs,
    import_export_routes,
    scheduled_jobs_2021,
    scheduled_jobs_routes,
    scheduled_jobs_state,
)
from .error_envelope import ARGUMENT_INVALID, JOB_NOT_FOUND, JOB_QUOTA_EXCEEDED, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .import_export_jobs import COMPLETED, FINISHED, InvalidJob, Job
from .policies import REGISTRY_READ, REGISTRY_WRITE
from .responses import json_response
from .scheduled_jobs_state import KEPT, KEPT_BYTES, TYPES

CANCEL_UNKNOWN_RETURNS_204 = switch("ie21-cancel-unknown-returns-204")
CREATE_DROPS_BLOB_NAMES = switch("ie21-create-drops-blob-names")
LIST_OMITS_FINISHED = switch("ie21-list-omits-finished")
NO_JOB_QUOTA = switch("ie21-no-job-quota")
QUERY_IGNORES_FILTERS = switch("sj21-query-ignores-filters")
STATUS_DONE = switch("ie21-status-done")
UNKNOWN_JOB_RETURNS_200 = switch("ie21-unknown-job-returns-200")
V2_UNKNOWN_JOB_RETURNS_200 = switch("sj21-unknown-job-returns-200")

CURRENT = "2021-04-12"
MOST_PER_PAGE = 10**9  # past the jobs the hub keeps: every larger page size asks for the same page
Handler = Callable[[Request], Awaitable[Response]]


def current(request: Request) -> bool:
    """Whether the request names api-version 2021-04-12 (and no other; a value repeated is still that one version)."""
    values = request.query_params.getlist("api-version")
    return bool(values) and all(value == CURRENT for value in values)


def by_version(new: Handler, old: Handler) -> Handler:
    async def dispatch(request: Request) -> Response:
        return await (new if current(request) else old)(request)

    dispatch.__name__ = new.__name__
    return dispatch


# -- import/export jobs --------------------------------------------------------------------------------------------


async def create_job(request: Request) -> Response:
    """POST /jobs/create: an export or an import, one at a time (quotas page: 1 concurrent import/export job)."""
    hub: Hub = request.app.state.hub
    if refused := admit(request, REGISTRY_WRITE, versions=hub.current_api_versions):
        return refused
    await catch_up(hub)
    try:
        new = import_export_2021.read_request(hub, await request.body())
    except InvalidJob as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        running = import_export_2021.unfinished(hub)
        if running and not hub.has(NO_JOB_QUOTA):
            return error_response(hub, 403, JOB_QUOTA_EXCEEDED,
                                  f"job {running[0].job_id} has not finished: a hub runs one import/export job at a time")
        import_export_jobs.add(hub, new)
        payload = view(hub, new)
    if hub.has(CREATE_DROPS_BLOB_NAMES):
        payload["inputBlobName"] = payload["outputBlobName"] = None
    return json_response(hub, 200, payload)


async def list_jobs(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := admit(request, REGISTRY_READ, versions=hub.current_api_versions):
        return refused
    await catch_up(hub)
    omit = hub.has(LIST_OMITS_FINISHED)
    with hub.lock:
        payload = [view(hub, job) for job in hub.jobs.values() if not (omit and job.status in FINISHED)]
    return json_response(hub, 200, payload)


async def job(request: Request) -> Response:
    """/jobs/{id}: GET reads the job, DELETE cancels it (204, as at 2016; the swagger allows 200 too)."""
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    cancelling = request.method == "DELETE"
    if refused := admit(request, REGISTRY_WRITE if cancelling else REGISTRY_READ, versions=hub.current_api_versions):
        return refused
    await catch_up(hub)
    with hub.lock:
        found = hub.jobs.get(job_id)
        if found is not None and cancelling:
            import_export_jobs.cancel(hub, found)
            return Response(status_code=204)
        payload = view(hub, found) if found is not None else None
    if payload is None:
        if cancelling and hub.has(CANCEL_UNKNOWN_RETURNS_204):
            return Response(status_code=204)
        if not cancelling and hub.has(UNKNOWN_JOB_RETURNS_200):
            return json_response(hub, 200, {})
        return error_response(hub, 404, JOB_NOT_FOUND, f"Job {job_id[:140]!r} not found")
    return json_response(hub, 200, payload)


async def catch_up(hub: Hub) -> None:
    await import_export_routes.catch_up(hub)


def view(hub: Hub, found: Job) -> dict:
    """JobProperties as a 2021-04-12 client sees it. Call under hub.lock."""
    payload = found.to_json()
    if found.status == COMPLETED and hub.has(STATUS_DONE):
        payload["status"] = "done"
    return payload


# -- scheduled jobs ------------------------------------------------------------------------------------------------


async def scheduled_job(request: Request) -> Response:
    """/jobs/v2/{id}: PUT creates, GET reads."""
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    if request.method == "PUT":
        raw = await request.body()
        if refused := admit(request, scheduled_jobs_2021.permission(raw), versions=hub.current_api_versions):
            return refused
        await scheduled_jobs_routes.catch_up(hub)
        try:
            new = scheduled_jobs_2021.read_request(hub, job_id, raw)
        except InvalidJob as exc:
            return error_response(hub, 400, exc.code, exc.message)
        with hub.lock:
            if job_id in hub.scheduled_jobs:
                return error_response(hub, 400, ARGUMENT_INVALID, f"job id {job_id!r} already used")
            if not scheduled_jobs_state.add(hub, new):
                return error_response(hub, 403, JOB_QUOTA_EXCEEDED,
                                      f"the jobs of this hub that have not finished fill its {KEPT} jobs or "
                                      f"{KEPT_BYTES} bytes")
            payload = scheduled_jobs_2021.view(hub, new)
        return json_response(hub, 200, payload)
    if refused := admit(request, REGISTRY_READ, versions=hub.current_api_versions):
        return refused
    await scheduled_jobs_routes.catch_up(hub)
    with hub.lock:
        found = hub.scheduled_jobs.get(job_id)
        shown = scheduled_jobs_2021.view(hub, found) if found is not None else None
    if shown is None:
        if hub.has(V2_UNKNOWN_JOB_RETURNS_200):
            return json_response(hub, 200, {})
        return error_response(hub, 404, JOB_NOT_FOUND, f"Job {job_id[:140]!r} not found")
    return json_response(hub, 200, shown)


async def cancel_scheduled_job(request: Request) -> Response:
    """POST /jobs/v2/{id}/cancel: 200 with the job, cancelled now or already finished."""
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    if refused := admit(request, REGISTRY_WRITE, versions=hub.current_api_versions):
        return refused
    await scheduled_jobs_routes.catch_up(hub)
    with hub.lock:
        found = hub.scheduled_jobs.get(job_id)
        if found is None:
            return error_response(hub, 404, JOB_NOT_FOUND, f"Job {job_id[:140]!r} not found")
        scheduled_jobs_state.cancel(hub, found)
        payload = scheduled_jobs_2021.view(hub, found)
    return json_response(hub, 200, payload)


async def query_jobs(request: Request) -> Response:
    """GET /jobs/v2/query: a QueryResult page of the jobs that match, oldest first. The page size and the
    continuation come as the x-ms-max-item-count and x-ms-continuation headers (Node SDK) or as the jobs page's
    pageSize and continuationToken parameters: both are served, the profile decides which the suite uses."""
    hub: Hub = request.app.state.hub
    if refused := admit(request, REGISTRY_READ, versions=hub.current_api_versions):
        return refused
    await scheduled_jobs_routes.catch_up(hub)
    params, headers = request.query_params, request.headers
    job_type = params.get("jobType") or None
    status_name = params.get("jobStatus") or None
    status = scheduled_jobs_2021.status_of(hub.profile, status_name) if status_name else None
    if job_type is not None and job_type not in TYPES:
        return error_response(hub, 400, ARGUMENT_INVALID, f"jobType must be one of {', '.join(TYPES)}")
    if status_name is not None and status is None:
        return error_response(hub, 400, ARGUMENT_INVALID, f"jobStatus {status_name[:40]!r} is no job status")
    # Each size given is held to its form; the header's, when both are given, is the one served.
    by_header, by_parameter = page_size(headers.get("x-ms-max-item-count")), page_size(params.get("pageSize"))
    size = by_header if by_header is not None else by_parameter
    if 0 in (by_header, by_parameter):
        return error_response(hub, 400, ARGUMENT_INVALID, "the page size must be a whole number from 1")
    token = headers.get("x-ms-continuation") or params.get("continuationToken") or None
    if hub.has(QUERY_IGNORES_FILTERS):
        job_type = status = None
    try:
        with hub.lock:
            matching = [known for known in hub.scheduled_jobs.values()
                        if job_type in (None, known.type) and status in (None, known.status)]
            chosen, following = scheduled_jobs_2021.page(hub, matching, size, token)
            items = [scheduled_jobs_2021.view(hub, known) for known in chosen]
    except InvalidJob as exc:
        return error_response(hub, 400, exc.code, exc.message)
    return json_response(hub, 200, {"type": "jobResponse", "items": items, "continuationToken": following})


def page_size(text: str | None) -> int | None:
    """The page size asked for: None when none is, 0 when it is not a whole number from 1 in ASCII digits (an empty
    value too). No source gives a largest size, so any number is taken (the page is the hub's own size at most); one
    of more than nine digits is read as MOST_PER_PAGE, since converting thousands of digits is work for nothing."""
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        return 0
    digits = text.lstrip("0")
    return int(digits or "0") if len(digits) <= 9 else MOST_PER_PAGE


ROUTES: list[Route] = [
    Route("/jobs/create", by_version(create_job, import_export_routes.create_job), methods=["POST"]),
    Route("/jobs", by_version(list_jobs, import_export_routes.list_jobs), methods=["GET"]),
    Route("/jobs/{job_id}", by_version(job, import_export_routes.job), methods=["GET", "DELETE"]),
    # The query route comes before the job route, so that /jobs/v2/query is never read as a jobId.
    Route("/jobs/v2/query", by_version(query_jobs, scheduled_jobs_routes.query_jobs), methods=["GET"]),
    Route("/jobs/v2/{job_id}", by_version(scheduled_job, scheduled_jobs_routes.job), methods=["GET", "PUT"]),
    Route("/jobs/v2/{job_id}/cancel", by_version(cancel_scheduled_job, scheduled_jobs_routes.cancel_job),
          methods=["POST"]),
]

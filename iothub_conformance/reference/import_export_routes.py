"""The import/export job handlers (INVENTORY §2a, §7 item 10; list-, retrieve- and cancel-import-export-job.md,
import-or-update-device-identities.md, autogen-2018-06-30__Service_CreateImportExportJob.yml).

Every request is judged in this order: route and method (Starlette, see app.py) → api-version → token → due jobs run
to their end → request validation (400) → existence (404) → action. Both start routes are served under every profile:
the profile only decides which one the suite uses.
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from . import import_export_2021, import_export_jobs
from .error_envelope import INVALID_OPERATION, JOB_NOT_FOUND, METHOD_NOT_ALLOWED, NOT_FOUND, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .import_export_jobs import COMPLETED, FINISHED, Job
from .policies import REGISTRY_READ, REGISTRY_WRITE
from .responses import json_response

CANCEL_FINISHED_RETURNS_409 = switch("cancel-finished-returns-409")
CANCEL_UNKNOWN_JOB_RETURNS_204 = switch("cancel-unknown-job-returns-204")
COMPLETED_JOB_PROGRESS_0 = switch("completed-job-progress-0")
IMPORTDEVICES_NOT_FOUND = switch("importdevices-not-found")
JOB_STATUS_DONE = switch("job-status-done")
JOBS_CREATE_NOT_FOUND = switch("jobs-create-not-found")
LIST_JOBS_OMITS_FINISHED = switch("list-jobs-omits-finished")
UNKNOWN_JOB_RETURNS_200 = switch("unknown-job-returns-200")


async def create_job(request: Request) -> Response:
    """POST /jobs/create: an export or an import (the later pages' way to start one)."""
    return await _start(request, JOBS_CREATE_NOT_FOUND, importdevices=False)


async def import_devices(request: Request) -> Response:
    """GET /importdevices with a JSON body: an import, as the 2016 page has it (a doc bug, INVENTORY §7 item 10)."""
    hub: Hub = request.app.state.hub
    if request.method == "HEAD":
        # Starlette serves HEAD with a GET route; here that would start a job the client never sees.
        return error_response(hub, 405, METHOD_NOT_ALLOWED, "HEAD is not allowed here", headers={"Allow": "GET"})
    return await _start(request, IMPORTDEVICES_NOT_FOUND, importdevices=True)


async def list_jobs(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := admit(request, REGISTRY_READ):
        return refused
    await catch_up(hub)
    omit_finished = hub.has(LIST_JOBS_OMITS_FINISHED)
    with hub.lock:
        payload = [view(hub, job) for job in hub.jobs.values() if not (omit_finished and job.status in FINISHED)]
    return json_response(hub, 200, payload)


async def job(request: Request) -> Response:
    """/jobs/{jobId}: one route for its methods, so a wrong method's 405 lists them all in Allow."""
    if request.method == "DELETE":
        return await cancel_job(request)
    return await get_job(request)


async def get_job(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    if refused := admit(request, REGISTRY_READ):
        return refused
    await catch_up(hub)
    with hub.lock:
        found = hub.jobs.get(job_id)
        payload = view(hub, found) if found is not None else None
    if payload is None:
        if hub.has(UNKNOWN_JOB_RETURNS_200):
            return json_response(hub, 200, {})
        return _job_not_found(hub, job_id)
    return json_response(hub, 200, payload)


async def cancel_job(request: Request) -> Response:
    """DELETE /jobs/{jobId}: 204 whether the job is cancelled now or had already finished (cancel-import-export-job.md)."""
    hub: Hub = request.app.state.hub
    job_id = request.path_params["job_id"]
    if refused := admit(request, REGISTRY_WRITE):
        return refused
    await catch_up(hub)
    with hub.lock:
        found = hub.jobs.get(job_id)
        if found is None:
            if hub.has(CANCEL_UNKNOWN_JOB_RETURNS_204):
                return Response(status_code=204)
            return _job_not_found(hub, job_id)
        if found.status in FINISHED and hub.has(CANCEL_FINISHED_RETURNS_409):
            return error_response(hub, 409, INVALID_OPERATION, f"job {job_id!r} has already ended ({found.status})")
        import_export_jobs.cancel(hub, found)
    return Response(status_code=204)


async def catch_up(hub: Hub) -> None:
    """Run every job whose delay has passed to its end: the jobs move on only when a job request arrives."""
    with hub.lock:
        due = import_export_jobs.start_due(hub)
    for started in due:
        # Blob requests block: they run in a worker thread, never on the event loop or under hub.lock.
        await anyio.to_thread.run_sync(import_export_2021.run_any, hub, started)  # a job of either api-version


def view(hub: Hub, job: Job) -> dict:
    """The job object as the client sees it. Call under hub.lock."""
    payload = job.to_json_2016()
    if job.status == COMPLETED:
        if hub.has(COMPLETED_JOB_PROGRESS_0):
            payload["progress"] = 0
        if hub.has(JOB_STATUS_DONE):
            payload["status"] = "done"
    return payload


async def _start(request: Request, missing_fault: str, importdevices: bool) -> Response:
    hub: Hub = request.app.state.hub
    if hub.has(missing_fault):
        return error_response(hub, 404, NOT_FOUND, f"no resource at {request.url.path[:200]}")
    if refused := admit(request, REGISTRY_WRITE):
        return refused
    await catch_up(hub)
    try:
        new = import_export_jobs.read_request(hub, await request.body(), importdevices)
    except import_export_jobs.InvalidJob as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        import_export_jobs.add(hub, new)
        payload = view(hub, new)
    return json_response(hub, 200, payload)


def _job_not_found(hub: Hub, job_id: str) -> Response:
    return error_response(hub, 404, JOB_NOT_FOUND, f"Job {job_id[:140]!r} not found")

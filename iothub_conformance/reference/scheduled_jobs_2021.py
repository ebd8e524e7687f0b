"""Scheduled jobs (jobs v2) at api-version 2021-04-12: what that version adds to the 2016-11-14 jobs of
scheduled_jobs_state.py, which still do the work.

Sources: docs/sources/service-2021-04-12.json (JobRequest, JobResponse, QueryResult); the jobs page
docs/sources/iot-hub-devguide-jobs__2019-05-06_6190472e.md (updateTwin etag "*", status names, pageSize and
continuationToken); docs/sources/iot-hub-devguide-query-language__2018-02-26_abdce6fa.md (devices.jobs);
docs/sources/INVENTORY-2021-04-12.md §2.10, §5, §10 (C17, C18, C38). Status names and paging are profile rules
(rules/profiles_2021_jobs.py).

The queryCondition is a condition over device twins: the jobs page's JobRequest holds "<queryOrDevices>" and sends the
reader to the query-language page, whose WHERE clause over `FROM devices` is exactly that. So a 2021 job's condition is
whatever query_language.parse accepts after `SELECT * FROM devices WHERE`, matched against each device's twin
document (twin_documents.to_json, as POST /devices/query reads them); and "*", the jobs page's job on "all devices".
A condition the engine refuses is refused at creation (400, ArgumentInvalid). The sources give no moment at which a
job's devices are chosen: the reference chooses them when the job starts (scheduled_jobs_state.start_due), so a twin
that meets the condition by then is in; a job still to start lists, in devices.jobs, the devices its condition
selects now (the query page's "all jobs (past and scheduled) that affect a single device").
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from iothub_conformance.rules.profiles import Profile

from . import scheduled_jobs_state, twin_documents
from .error_envelope import ARGUMENT_INVALID
from .faults import switch
from .import_export_jobs import InvalidJob, utc
from .query_language import InvalidQuery, Query, parse
from .scheduled_jobs_state import CANCELLED, QUEUED, TWIN_JOB, ScheduledJob, ScheduledJobHub

CONDITION_SEES_ONLY_DEVICE_IDS = switch("sj21-condition-sees-only-device-ids")
CREATE_DROPS_QUERY_CONDITION = switch("sj21-create-drops-query-condition")
NO_END_TIME = switch("sj21-no-end-time")
QUERY_IGNORES_PAGE_SIZE = switch("sj21-query-ignores-page-size")
QUEUED_READS_PENDING = switch("sj21-queued-reads-pending")
TWIN_JOB_REQUIRES_ETAG = switch("sj21-twin-job-requires-etag")

PAGE_SIZE = 100  # a page holds at most this many jobs, whatever the client asks (the query page: "up to 100")
DEFAULT_PAGE_SIZE = 100
# The jobs page's names for the statuses the swagger names otherwise (profile rule scheduled_job_statuses, C18).
PAGE_NAMES = {QUEUED: "pending", CANCELLED: "canceled"}
TOKEN_PREFIX = "jobs:"
EVERY_DEVICE = "*"  # the jobs page's job "on all devices on contoso-hub-1" sends queryCondition "*"


@dataclass(frozen=True)
class Condition:
    """A 2021 job's queryCondition as the query engine reads it; `query` None: "*", every device."""

    query: Query | None

    def select(self, hub: Any) -> tuple[str, ...]:
        """The ids of the devices whose twins meet the condition now, in id order. Call under hub.lock."""
        chosen = []
        for device_id in sorted(hub.devices):
            if self.query is None:
                chosen.append(device_id)
                continue
            twin = twin_documents.device_twin(hub, device_id)
            if twin is None:
                continue
            document = ({"deviceId": device_id} if hub.has(CONDITION_SEES_ONLY_DEVICE_IDS)
                        else twin_documents.to_json(hub, twin))
            if self.query.matches(document):
                chosen.append(device_id)
        return tuple(chosen)


def read_condition(text: str) -> Condition:
    """The condition of a 2021 job; InvalidJob (400 ArgumentInvalid) for one the query engine refuses."""
    if text.strip() == EVERY_DEVICE:
        return Condition(None)
    try:
        query = parse(f"SELECT * FROM devices WHERE {text}")
    except InvalidQuery as exc:
        raise InvalidJob(ARGUMENT_INVALID, f"queryCondition is not a condition over device twins: {exc}") from None
    return Condition(query)


def read_request(hub: ScheduledJobHub, job_id: str, raw: bytes) -> ScheduledJob:
    """A new 2021-04-12 job from a JobRequest body: the 2016-11-14 rules, the queryCondition read by the query
    engine, and updateTwin's etag kept."""
    job = scheduled_jobs_state.read_request(hub, job_id, raw, selector_of=lambda text: read_condition(text).select)
    job.current = True
    if job.type == TWIN_JOB:
        etag = (job.update_twin or {}).get("etag")
        if etag is not None and not isinstance(etag, str):
            raise InvalidJob(ARGUMENT_INVALID, "updateTwin.etag must be a string: \"*\" or the twins' etag")
        if etag is None and hub.has(TWIN_JOB_REQUIRES_ETAG):
            raise InvalidJob(ARGUMENT_INVALID, "updateTwin requires an etag")
        job.twin_etag = etag
    return job


def permission(raw: bytes) -> str:
    return scheduled_jobs_state.permission(raw)


def status_name(profile: Profile, status: str) -> str:
    """A status as the profile names it: the swagger's names, or the jobs page's (pending, canceled)."""
    names = profile.value("scheduled_job_statuses")
    if names is not None and names["cancelled"] == PAGE_NAMES[CANCELLED]:
        return PAGE_NAMES.get(status, status)
    return status


def status_of(profile: Profile, name: str) -> str | None:
    """The reference's status for a name a client filters on (either list's spelling); None for an unknown one."""
    internal = {shown: status for status, shown in PAGE_NAMES.items()}.get(name, name)
    return internal if internal in scheduled_jobs_state.STATUSES + ("enqueued",) else None


def view(hub, job: ScheduledJob) -> dict:
    """The JobResponse of a 2021-04-12 job. Call under hub.lock."""
    payload = job.to_json()
    shown = status_name(hub.profile, job.status)
    if job.status == QUEUED and hub.has(QUEUED_READS_PENDING):
        shown = "pending"
    payload["status"] = shown
    if hub.has(CREATE_DROPS_QUERY_CONDITION):
        payload["queryCondition"] = None
    if hub.has(NO_END_TIME):
        payload["endTime"] = None
    return payload


def page(hub, jobs: list[ScheduledJob], size: int | None, token: str | None) -> tuple[list[ScheduledJob], str | None]:
    """One page of `jobs` (kept order) after the token's job, and the token of the next page (None: the last).
    A token names the last job's sequence number, so jobs added or forgotten meanwhile neither repeat nor shift
    the pages. Raises InvalidJob for a token this hub did not make."""
    after = read_token(token) if token else 0
    size = min(size or DEFAULT_PAGE_SIZE, PAGE_SIZE)
    rest = [job for job in jobs if job.sequence > after]
    if hub.has(QUERY_IGNORES_PAGE_SIZE):
        return rest, None
    chosen = rest[:size]
    more = len(rest) > size
    return chosen, make_token(chosen[-1].sequence) if more and chosen else None


def make_token(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"{TOKEN_PREFIX}{sequence}".encode()).decode()


def read_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
        if text.startswith(TOKEN_PREFIX) and text[len(TOKEN_PREFIX):].isdigit():
            return int(text[len(TOKEN_PREFIX):])
    except (ValueError, UnicodeError, binascii.Error):
        pass
    raise InvalidJob(ARGUMENT_INVALID, "the continuation token is not one this hub gave")


def device_jobs(hub: ScheduledJobHub) -> list[dict]:
    """The documents of `FROM devices.jobs` (the query-language page's "jobs" collection): one per device and job,
    with the device's status in that job and its outcome. For the query engine; call under hub.lock."""
    documents = []
    for job in list(hub.scheduled_jobs.values()):
        for device_id in dict.fromkeys(devices_of(hub, job)):  # a 2016 condition may name a device twice
            outcome = job.outcomes.get(device_id)
            status = outcome["status"] if outcome else ("running" if job.status == "running" else job.status)
            document = {
                "deviceId": device_id,
                "jobId": job.job_id,
                "jobType": job.type,
                "status": status,
                "startTimeUtc": utc(job.started_at if job.started_at is not None else job.start_at),
                "endTimeUtc": utc(job.ended_at),
                "createdDateTimeUtc": utc(job.created_at),
                "lastUpdatedDateTimeUtc": utc(job.ended_at or job.started_at or job.created_at),
                "outcome": {"deviceMethodResponse": (outcome or {}).get("outcome", {}).get("deviceMethodResponse")},
            }
            if outcome and "error" in outcome:
                document["error"] = outcome["error"]
            documents.append(document)
    return documents


def devices_of(hub: ScheduledJobHub, job: ScheduledJob) -> tuple[str, ...]:
    """The devices a job works on: those chosen when it started; for a 2021 job still to start, those its condition
    selects now; for a 2016 one, those its condition names. Call under hub.lock."""
    if job.selector is None:
        return job.selected or job.device_ids
    return job.selected if job.started_at is not None else scheduled_jobs_state.chosen_now(hub, job)


__all__ = ["Condition", "devices_of", "device_jobs", "page", "permission", "read_condition", "read_request",
           "status_name", "status_of", "view"]

"""Scheduled jobs of api-version 2016-11-14 (INVENTORY §3 "Jobs v2"; autogen-2016-11-14__JobApi_CreateJob.yml, _GetJob,
_CancelJob, _QueryJobs): the create body, the query condition, the job object, and a job's run over its devices.

No job has a thread of its own, as with import/export jobs (import_export_jobs.py). The handlers call `start_due` under
hub.lock, which marks every job whose startTime has come and whose creation is hub.job_delay seconds old as running,
then `run` each of those off the event loop: two requests can never run the same job.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypedDict

from .clock import Clock
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, DEVICE_NOT_ONLINE, GATEWAY_TIMEOUT, PRECONDITION_FAILED
from .faults import switch
from .identities import DEVICE_ID
from .import_export_jobs import InvalidJob, utc
from .policies import REGISTRY_WRITE, SERVICE_CONNECT
from .twins import InvalidTwin, TwinHub, TwinPatch, device_twin, parse_body, read_patch, updated_twin

METHOD_JOB_OFFLINE_SUCCEEDS = switch("method-job-offline-succeeds")
TWIN_JOB_IGNORES_CONDITION = switch("twin-job-ignores-condition")
TWIN_JOB_UPDATES_NOTHING = switch("twin-job-updates-nothing")
V2_CANCEL_IGNORED = switch("v2-cancel-ignored")
V2_START_TIME_IGNORED = switch("v2-start-time-ignored")
# The same misbehaviours for the jobs made at api-version 2021-04-12 (scheduled_jobs_2021.py), each its own switch.
SJ21_CANCEL_IGNORED = switch("sj21-cancel-ignored")
SJ21_METHOD_ANSWER_FAILS = switch("sj21-method-answer-fails")
SJ21_METHOD_OFFLINE_SUCCEEDS = switch("sj21-method-offline-succeeds")
SJ21_START_TIME_IGNORED = switch("sj21-start-time-ignored")
SJ21_TWIN_JOB_IGNORES_CONDITION = switch("sj21-twin-job-ignores-condition")

log = logging.getLogger(__name__)

TWIN_JOB, METHOD_JOB = "scheduleUpdateTwin", "scheduleDeviceMethod"
TYPES = (TWIN_JOB, METHOD_JOB)  # the page's JobType
SCHEDULED, QUEUED, RUNNING = "scheduled", "queued", "running"
COMPLETED, FAILED, CANCELLED = "completed", "failed", "cancelled"
STATUSES = ("unknown", RUNNING, COMPLETED, FAILED, CANCELLED, SCHEDULED, QUEUED)  # the page's JobStatus
FINISHED = (COMPLETED, FAILED, CANCELLED)
KEPT = 1000  # jobs remembered; beyond that the oldest finished ones are forgotten
# The request bytes all remembered jobs may take together: 1,000 jobs of a 1 MiB body would be 1 GB, while a job the
# suite makes is under 1 KB. When unfinished jobs hold it all, a new job is JobQuotaExceeded, as when KEPT are.
KEPT_BYTES = 32 * 1024 * 1024
MAX_METHOD_TIMEOUT = 300  # S16 gives both direct-method timeouts maximum 300 (INVENTORY §3)
MAX_METHOD_PAYLOAD = 128 * 1024  # quotas page: a direct-method payload is at most 128 KB (INVENTORY §8)
MAX_SECONDS = 2**31 - 1
MAX_TIME_TEXT = 64
UNSUPPORTED_CONDITION = "the reference supports only deviceId = '…' and deviceId IN [...] conditions"

# The query conditions the reference understands; the quotes are single or double, the keywords in any case.
EQUALS = re.compile(r"""\s*deviceId\s*=\s*(?:'([^']*)'|"([^"]*)")\s*""", re.IGNORECASE)
IN_LIST = re.compile(r"""\s*deviceId\s+IN\s*\[(.*)\]\s*""", re.IGNORECASE | re.DOTALL)
LIST_ITEM = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)")\s*(,|\Z)""")


# How a 2021-04-12 job chooses its devices (scheduled_jobs_2021.Condition.select): the ids, in order, of the devices
# its queryCondition selects in the hub as it is now. Call under hub.lock.
Selector = Callable[[Any], tuple[str, ...]]


class DeviceMethod(TypedDict):
    """A method job's cloudToDeviceMethod as it was read (_method): the name is a non-empty string."""

    methodName: str
    payload: Any
    responseTimeoutInSeconds: int | None
    connectTimeoutInSeconds: int | None


@dataclass
class ScheduledJob:
    job_id: str
    type: str
    query_condition: str
    device_ids: tuple[str, ...]  # the deviceIds the condition names, existing or not (a 2016-11-14 job)
    created_at: float  # hub.clock seconds
    start_at: float  # the startTime asked for, or the creation time
    max_execution_seconds: int | None
    method: DeviceMethod | None  # cloudToDeviceMethod, for a method job
    update_twin: dict | None  # updateTwin as given, for a twin job
    patch: TwinPatch | None  # what updateTwin changes in each twin
    status: str = QUEUED
    started_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None
    selected: tuple[str, ...] = ()  # the devices the run works on, chosen when it starts
    succeeded: int = 0
    failed: int = 0
    outcomes: dict[str, dict] = field(default_factory=dict)  # deviceId → that device's result, once the job ran
    size: int = 0  # the bytes of the request that made it, counted against KEPT_BYTES
    current: bool = False  # made at api-version 2021-04-12: its own fault switches, status names and twin etag
    twin_etag: str | None = None  # updateTwin.etag of a 2021 twin job: "*" or None updates every twin, else a match
    sequence: int = 0  # the order jobs were kept in, for the 2021 query's continuation tokens
    selector: Selector | None = None  # a 2021 job's queryCondition, read by the query engine; None: device_ids

    def to_json(self) -> dict:
        payload: dict[str, Any] = {
            "jobId": self.job_id,
            "queryCondition": self.query_condition,
            "createdTime": utc(self.created_at),
            "startTime": utc(self.start_at),
            "endTime": utc(self.ended_at),
            "maxExecutionTimeInSeconds": self.max_execution_seconds,
            "type": self.type,
        }
        if self.type == METHOD_JOB:
            payload["cloudToDeviceMethod"] = self.method
        else:
            payload["updateTwin"] = self.update_twin
        pending = len(self.selected) if self.status == RUNNING else 0
        payload.update({
            "status": self.status,
            "failureReason": self.failure_reason,
            "statusMessage": None,
            "deviceJobStatistics": {
                "deviceCount": len(self.selected),
                "failedCount": self.failed,
                "succeededCount": self.succeeded,
                "runningCount": 0,
                "pendingCount": pending,
            },
        })
        return payload



class ScheduledJobHub(TwinHub, Protocol):
    """What scheduled jobs need of a hub (hub.Hub is one)."""

    def has(self, fault: str) -> bool: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def job_delay(self) -> float: ...

    @property
    def scheduled_jobs(self) -> dict[str, ScheduledJob]: ...

    @property
    def method_handlers(self) -> Mapping[str, Callable[[str, object], tuple[int, object]]]: ...

def permission(raw: bytes) -> str:
    """The permission a create asks for: a method job reaches devices (ServiceConnect), a twin job writes twins
    (RegistryWrite). A body that cannot be read asks for RegistryWrite, so a token without it gets 401, not 400."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return REGISTRY_WRITE
    return SERVICE_CONNECT if isinstance(body, dict) and body.get("type") == METHOD_JOB else REGISTRY_WRITE


def read_request(hub: ScheduledJobHub, job_id: str, raw: bytes,
                 selector_of: Callable[[str], Selector] | None = None) -> ScheduledJob:
    """A new job from a JobRequest body; scheduled when its startTime is still to come, else queued. `selector_of`
    reads the queryCondition (raising InvalidJob for one it refuses); None: the 2016-11-14 reading, parse_condition."""
    if not DEVICE_ID.fullmatch(job_id) or job_id == "query":
        # "query" would be hidden by GET /jobs/v2/query.
        raise InvalidJob(ARGUMENT_INVALID, f"jobId {job_id[:140]!r} is not 1-128 ASCII alphanumerics or "
                                           "-:.+%_#*?!(),=@;$' (and not \"query\")")
    try:
        body = parse_body(raw)
    except InvalidTwin as exc:
        raise InvalidJob(exc.code, exc.message) from None
    given_id = body.get("jobId")
    if given_id is not None and given_id != job_id:
        raise InvalidJob(ARGUMENT_INVALID, "the body's jobId differs from the URI's")
    kind = body.get("type")
    if kind not in TYPES:
        raise InvalidJob(ARGUMENT_INVALID, f"type must be {METHOD_JOB} or {TWIN_JOB}")
    condition = body.get("queryCondition")
    if not isinstance(condition, str):
        raise InvalidJob(ARGUMENT_INVALID, "queryCondition is required: a string")
    device_ids, selector = (parse_condition(condition), None) if selector_of is None else ((), selector_of(condition))
    method, update_twin, patch = None, None, None
    if kind == METHOD_JOB:
        method = _method(body.get("cloudToDeviceMethod"))
    else:
        update_twin = body.get("updateTwin")
        if not isinstance(update_twin, dict):
            raise InvalidJob(ARGUMENT_INVALID, f"updateTwin is required for a {TWIN_JOB} job: "
                                               "{tags, properties: {desired}}")
        try:
            patch = read_patch(update_twin)
        except InvalidTwin as exc:
            raise InvalidJob(exc.code, f"updateTwin: {exc.message}") from None
    now = hub.clock.now()
    start = _start_time(body.get("startTime"), now)
    return ScheduledJob(
        job_id=job_id,
        type=kind,
        query_condition=condition,
        device_ids=device_ids,
        created_at=now,
        start_at=start,
        max_execution_seconds=_whole_number(body, "maxExecutionTimeInSeconds", MAX_SECONDS),
        method=method,
        update_twin=update_twin,
        patch=patch,
        status=SCHEDULED if start > now else QUEUED,
        size=len(raw),
        selector=selector,
    )


def parse_condition(text: str) -> tuple[str, ...]:
    """The deviceIds a queryCondition names: `deviceId = 'a'` or `deviceId IN ['a', "b"]`; else InvalidJob."""
    equals = EQUALS.fullmatch(text)
    if equals:
        return (_quoted(equals),)
    listed = IN_LIST.fullmatch(text)
    if listed is None:
        raise InvalidJob(ARGUMENT_INVALID, UNSUPPORTED_CONDITION)
    inside = listed.group(1)
    if not inside.strip():
        return ()
    ids: list[str] = []
    pos = 0
    while True:
        item = LIST_ITEM.match(inside, pos)
        if item is None:
            raise InvalidJob(ARGUMENT_INVALID, UNSUPPORTED_CONDITION)
        ids.append(_quoted(item))
        pos = item.end()
        if item.group(3) != ",":
            return tuple(ids)


def add(hub: ScheduledJobHub, job: ScheduledJob) -> bool:
    """Keep the new job, forgetting the oldest finished ones beyond KEPT jobs or KEPT_BYTES; False (nothing kept) when
    the jobs still to finish fill either, since a job forgotten before it runs would silently never run. Call under
    hub.lock."""
    finished = [known for known in hub.scheduled_jobs.values() if known.status in FINISHED]
    count = len(hub.scheduled_jobs) + 1
    size = sum(known.size for known in hub.scheduled_jobs.values()) + job.size
    forget = 0
    while count > KEPT or size > KEPT_BYTES:
        if forget == len(finished):
            return False
        count, size = count - 1, size - finished[forget].size
        forget += 1
    for known in finished[:forget]:
        del hub.scheduled_jobs[known.job_id]
    job.sequence = max((known.sequence for known in hub.scheduled_jobs.values()), default=0) + 1
    hub.scheduled_jobs[job.job_id] = job
    return True


def start_due(hub: ScheduledJobHub) -> list[ScheduledJob]:
    """Mark every due job as running, choose its devices and return it, for `run`. Call under hub.lock."""
    now = hub.clock.now()
    due = []
    for job in hub.scheduled_jobs.values():
        at_once = _on(hub, job, V2_START_TIME_IGNORED, SJ21_START_TIME_IGNORED)
        waiting = job.status in (SCHEDULED, QUEUED) or (
            job.status == CANCELLED and job.started_at is None and _on(hub, job, V2_CANCEL_IGNORED, SJ21_CANCEL_IGNORED))
        if not waiting:
            continue
        if job.status == SCHEDULED and job.start_at <= now:
            job.status = QUEUED  # its time has come; it now waits for the hub only
        if at_once or (job.start_at <= now and now >= job.created_at + hub.job_delay):
            job.status, job.started_at, job.ended_at = RUNNING, now, None
            every = job.type == TWIN_JOB and _on(hub, job, TWIN_JOB_IGNORES_CONDITION, SJ21_TWIN_JOB_IGNORES_CONDITION)
            job.selected = tuple(sorted(hub.devices)) if every else chosen_now(hub, job)
            due.append(job)
    return due


def chosen_now(hub: ScheduledJobHub, job: ScheduledJob) -> tuple[str, ...]:
    """The devices the job's condition selects in the hub as it is now, in id order. Call under hub.lock."""
    if job.selector is not None:
        return job.selector(hub)
    return tuple(sorted(set(job.device_ids) & hub.devices.keys()))


def cancel(hub: ScheduledJobHub, job: ScheduledJob) -> None:
    """A job that has not finished ends as cancelled (and never runs); a finished one stays as it is. Call under
    hub.lock."""
    if job.status not in FINISHED:
        job.status, job.ended_at = CANCELLED, hub.clock.now()


def run(hub: ScheduledJobHub, job: ScheduledJob) -> None:
    """Run a started job over its devices and end it. Blocking (a method handler may take its time): call off the
    event loop and without hub.lock."""
    try:
        if job.type == TWIN_JOB:
            _update_twins(hub, job)
        else:
            _call_methods(hub, job)
    except Exception:
        # A job must never stay running because of a bug.
        log.exception("reference hub: scheduled job %s failed unexpectedly", job.job_id)
        with hub.lock:
            if _still_wanted(hub, job):
                job.status, job.ended_at, job.failure_reason = FAILED, hub.clock.now(), "internal error"


def _update_twins(hub: ScheduledJobHub, job: ScheduledJob) -> None:
    with hub.lock:
        if not _still_wanted(hub, job):
            return
        outcomes = {}
        for device_id in job.selected:
            twin = device_twin(hub, device_id)
            if twin is None:  # deleted after the job started
                outcomes[device_id] = _failure(DEVICE_NOT_FOUND, f"device {device_id!r} no longer exists")
                continue
            if job.current and job.twin_etag not in (None, "*") and twin.etag != job.twin_etag:
                # "The updateTwin property requires a valid etag match" (iot-hub-devguide-jobs): this twin has another.
                outcomes[device_id] = _failure(PRECONDITION_FAILED, f"the twin of {device_id!r} has another etag")
                continue
            if not _on(hub, job, TWIN_JOB_UPDATES_NOTHING, None):
                try:
                    hub.twins[device_id] = updated_twin(hub, twin, job.patch or TwinPatch())
                except InvalidTwin as exc:  # this device's twin would grow past its size limit
                    outcomes[device_id] = _failure(exc.code, exc.message)
                    continue
            outcomes[device_id] = {"status": COMPLETED}
        _end(hub, job, outcomes)


def _call_methods(hub: ScheduledJobHub, job: ScheduledJob) -> None:
    outcomes = {}
    method = job.method
    assert method is not None  # read_request gives every method job its cloudToDeviceMethod
    for device_id in job.selected:
        with hub.lock:
            if not _still_wanted(hub, job):
                return  # cancelled: the devices still to come are not called
        outcomes[device_id] = _call(hub, device_id, method, job)
    with hub.lock:
        if _still_wanted(hub, job):
            _end(hub, job, outcomes)


def _call(hub: ScheduledJobHub, device_id: str, method: DeviceMethod, job: ScheduledJob) -> dict:
    """One device's direct-method call: its handler answers (status, payload); no handler means not online."""
    handler = hub.method_handlers.get(device_id)
    if handler is None:
        if _on(hub, job, METHOD_JOB_OFFLINE_SUCCEEDS, SJ21_METHOD_OFFLINE_SUCCEEDS):
            return {"status": COMPLETED}
        return _failure(DEVICE_NOT_ONLINE, f"device {device_id!r} is not online")
    payload = json.loads(json.dumps(method["payload"]))  # the handler gets a copy it may change freely
    try:
        answer = handler(method["methodName"], payload)
        status, answered = answer
    except Exception:
        log.warning("reference hub: the method handler of device %r raised or gave no (status, payload)", device_id,
                    exc_info=True)
        return _failure(GATEWAY_TIMEOUT, f"device {device_id!r} gave no answer")
    if not isinstance(status, int) or isinstance(status, bool):
        return _failure(GATEWAY_TIMEOUT, f"device {device_id!r} answered no status")
    response = {"deviceMethodResponse": {"status": status, "payload": answered}}
    succeeded = 200 <= status < 300 and not _on(hub, job, None, SJ21_METHOD_ANSWER_FAILS)
    return {"status": COMPLETED if succeeded else FAILED, "outcome": response}


def _end(hub: ScheduledJobHub, job: ScheduledJob, outcomes: dict[str, dict]) -> None:
    """Completed, with each device's outcome counted. Call under hub.lock."""
    job.outcomes = outcomes
    job.succeeded = sum(1 for outcome in outcomes.values() if outcome["status"] == COMPLETED)
    job.failed = len(outcomes) - job.succeeded
    job.status, job.ended_at = COMPLETED, hub.clock.now()


def _still_wanted(hub: ScheduledJobHub, job: ScheduledJob) -> bool:
    """False when the job was cancelled while it ran: it then stays cancelled."""
    return job.status == RUNNING or _on(hub, job, V2_CANCEL_IGNORED, SJ21_CANCEL_IGNORED)


def _on(hub: ScheduledJobHub, job: ScheduledJob, old: str | None, current: str | None) -> bool:
    """Whether the switch for the job's api-version is on: `old` for a 2016-11-14 job, `current` for a 2021-04-12 one."""
    name = current if job.current else old
    return name is not None and hub.has(name)


def _failure(code: str, description: str) -> dict:
    return {"status": FAILED, "error": {"code": code, "description": description}}


def _method(method) -> DeviceMethod:
    if not isinstance(method, dict):
        raise InvalidJob(ARGUMENT_INVALID, f"cloudToDeviceMethod is required for a {METHOD_JOB} job: "
                                           "{methodName, payload, responseTimeoutInSeconds, connectTimeoutInSeconds}")
    name = method.get("methodName")
    if not isinstance(name, str) or not name:
        raise InvalidJob(ARGUMENT_INVALID, "cloudToDeviceMethod.methodName is required: a non-empty string")
    payload = method.get("payload")
    if len(json.dumps(payload, ensure_ascii=False).encode("utf-8")) > MAX_METHOD_PAYLOAD:
        raise InvalidJob(ARGUMENT_INVALID, f"cloudToDeviceMethod.payload is larger than {MAX_METHOD_PAYLOAD} bytes")
    return {
        "methodName": name,
        "payload": payload,
        "responseTimeoutInSeconds": _whole_number(method, "responseTimeoutInSeconds", MAX_METHOD_TIMEOUT),
        "connectTimeoutInSeconds": _whole_number(method, "connectTimeoutInSeconds", MAX_METHOD_TIMEOUT),
    }


def _whole_number(obj: dict, name: str, most: int) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
        raise InvalidJob(ARGUMENT_INVALID, f"{name} must be a whole number of seconds from 0 to {most}")
    return value


def _start_time(value, now: float) -> float:
    """Epoch seconds of an ISO 8601 startTime; a time without an offset is UTC; none means now."""
    if value is None:
        return now
    if isinstance(value, str) and len(value) <= MAX_TIME_TEXT:
        try:
            when = datetime.fromisoformat(value)
            # astimezone refuses a time outside years 1-9999 in UTC, which could not be shown back.
            return (when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        except (ValueError, OverflowError):
            pass
    raise InvalidJob(ARGUMENT_INVALID, "startTime must be an ISO 8601 date and time, like 2017-01-28T16:24:48.789Z")


def _quoted(match: re.Match) -> str:
    return match.group(1) if match.group(1) is not None else match.group(2)

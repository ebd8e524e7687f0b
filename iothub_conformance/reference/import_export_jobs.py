"""Import and export jobs (INVENTORY §2a; retrieve-import-export-job.md, import-or-update-device-identities.md,
autogen-2018-06-30__Service_CreateImportExportJob.yml): the create body, the job object, and the blob work.

No job has a thread of its own. The handlers call `start_due` under hub.lock, which marks every job whose delay has
passed as running, then `run` each of those off the event loop: two requests can never run the same job.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from iothub_conformance.http.blobs import BlobError, Container
from iothub_conformance.rules.profiles import Profile

from .clock import Clock
from .error_envelope import ARGUMENT_INVALID, FORMAT_ERROR
from .faults import switch
from .identities import Device, IdentityHub, InvalidDevice, check_device_id, device_input, new_device, updated_device

CANCEL_IGNORED = switch("cancel-ignored")
EXPORT_IGNORES_EXCLUDE_KEYS = switch("export-ignores-exclude-keys")
EXPORT_JSON_ARRAY = switch("export-json-array")
EXPORT_KEYS_DEFAULT_FLIPPED = switch("export-keys-default-flipped")
EXPORT_SKIPS_LAST_DEVICE = switch("export-skips-last-device")
FAILED_JOB_WITHOUT_REASON = switch("failed-job-without-reason")
IMPORT_SKIPS_UPDATES = switch("import-skips-updates")
JOB_NEVER_COMPLETES = switch("job-never-completes")
IE21_CANCEL_IGNORED = switch("ie21-cancel-ignored")  # a 2021-04-12 job's (import_export_2021.py)

log = logging.getLogger(__name__)

TYPES = ("export", "import")
ENQUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "enqueued", "running", "completed", "failed", "cancelled"
FINISHED = (COMPLETED, FAILED, CANCELLED)
IMPORT_MODES = ("create", "update", "updateIfMatchETag", "delete", "deleteIfMatchETag")
DEFAULT_BLOB = "devices.txt"
MAX_BLOB_NAME = 1024  # Azure Storage: a blob name is 1 to 1024 characters
MAX_CONTAINER_URI = 4096  # the reference's cap on what a job keeps: a container SAS URI is a few hundred characters
# What a container SAS URI looks like, as the specs' BlobContainerUri says it: http(s), a DNS name or IPv4 address, a
# port, the container's path segment, then the rest of the path and the SAS query in printable ASCII.
CONTAINER_URI = re.compile(
    r"https?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
    r"/[A-Za-z0-9._~-]+([/?][\x21-\x7E]*)?")
KEPT = 1000  # jobs remembered; beyond that the oldest finished ones are forgotten
BLOB_TIMEOUT = 10.0



class JobHub(IdentityHub, Protocol):
    """What import/export jobs need of a hub (hub.Hub is one)."""

    @property
    def profile(self) -> Profile: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def devices(self) -> dict[str, Device]: ...

    @property
    def jobs(self) -> dict[str, Job]: ...

    @property
    def job_delay(self) -> float: ...

    @property
    def max_devices(self) -> int: ...

    @property
    def blob_transport(self) -> httpx.BaseTransport | None: ...

    def renew(self, device_id: str) -> None: ...

class InvalidJob(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ImportFailed(ValueError):
    """An import line that cannot be applied; the message names the line and never holds a SAS."""


@dataclass
class Job:
    job_id: str
    type: str
    created_at: float  # hub.clock seconds
    input_uri: str | None
    output_uri: str
    input_blob: str
    output_blob: str
    exclude_keys: bool
    status: str = ENQUEUED
    progress: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None
    # api-version 2021-04-12 (import_export_2021.py): the fields JobProperties added; a 2016 job shows none of them.
    current: bool = False
    storage_authentication: str | None = None  # as given: keyBased, identityBased, or None (the SAS in the URI)
    identity: dict | None = None  # ManagedIdentity as given
    include_configurations: bool = False
    configurations_blob: str = "configurations.txt"

    def to_json(self) -> dict:
        if self.current:
            return {**self.to_json_2016(), "storageAuthenticationType": self.storage_authentication,
                    "identity": self.identity, "includeConfigurations": self.include_configurations,
                    "configurationsBlobName": self.configurations_blob}
        return self.to_json_2016()

    def to_json_2016(self) -> dict:
        """The job as api-version 2016-02-03 shows it, whichever version made it."""
        return {
            "jobId": self.job_id,
            "startTimeUtc": utc(self.started_at),
            "endTimeUtc": utc(self.ended_at),
            "type": self.type,
            "status": self.status,
            "progress": self.progress,
            "inputBlobContainerUri": self.input_uri,
            "outputBlobContainerUri": self.output_uri,
            "excludeKeysInExport": self.exclude_keys,
            "failureReason": self.failure_reason,
            "inputBlobName": self.input_blob,
            "outputBlobName": self.output_blob,
        }


def utc(seconds: float | None) -> str | None:
    """ISO 8601 UTC with milliseconds, as the pages show it (2015-01-28T16:24:48.789Z); None while not reached."""
    if seconds is None:
        return None
    # isoformat, not strftime: %Y leaves out the leading zeros of a year before 1000 on some platforms.
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def read_request(hub: JobHub, raw: bytes, importdevices: bool = False) -> Job:
    """A new enqueued job from a create body. `importdevices`: the 2016 page's GET /importdevices, which starts an
    import whatever the body says and may name the output container as that page does."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise InvalidJob(FORMAT_ERROR, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidJob(ARGUMENT_INVALID, "the request body must be a JSON object")
    kind = "import" if importdevices else body.get("type")
    if kind not in TYPES:
        raise InvalidJob(ARGUMENT_INVALID, "type must be export or import")
    # The page's body has "outputBlobContainerUri " (with a space) and its table "exportBlobContainerUri".
    outputs = ("outputBlobContainerUri", "outputBlobContainerUri ", "exportBlobContainerUri") if importdevices else (
        "outputBlobContainerUri",)
    exclude = body.get("excludeKeysInExport")
    if exclude is None:
        exclude = bool(hub.profile.value("exclude_keys_default")) != hub.has(EXPORT_KEYS_DEFAULT_FLIPPED)
    elif not isinstance(exclude, bool):
        raise InvalidJob(ARGUMENT_INVALID, "excludeKeysInExport must be true or false")
    return Job(
        job_id=str(uuid.uuid4()),
        type=kind,
        created_at=hub.clock.now(),
        input_uri=_container_uri(body, "inputBlobContainerUri") if kind == "import" else None,
        output_uri=_container_uri(body, *outputs),
        input_blob=_blob_name(body, "inputBlobName"),
        output_blob=_blob_name(body, "outputBlobName"),
        exclude_keys=exclude,
    )


def add(hub: JobHub, job: Job) -> None:
    """Call under hub.lock."""
    hub.jobs[job.job_id] = job
    finished = [known.job_id for known in hub.jobs.values() if known.status in FINISHED]
    for job_id in finished[:max(0, len(hub.jobs) - KEPT)]:
        del hub.jobs[job_id]


def start_due(hub: JobHub) -> list[Job]:
    """Mark every job whose delay has passed as running and return them, for `run`. Call under hub.lock."""
    now = hub.clock.now()
    due = []
    for job in hub.jobs.values():
        waiting = job.status == ENQUEUED or (
            job.status == CANCELLED and job.started_at is None and hub.has(IE21_CANCEL_IGNORED if job.current
                                                                           else CANCEL_IGNORED))
        if waiting and now >= job.created_at + hub.job_delay:
            job.status, job.started_at, job.ended_at = RUNNING, now, None
            due.append(job)
    return due


def cancel(hub: JobHub, job: Job) -> None:
    """An enqueued or running job ends as cancelled; a finished one stays as it is. Call under hub.lock."""
    if job.status not in FINISHED:
        job.status, job.ended_at = CANCELLED, hub.clock.now()


def run(hub: JobHub, job: Job) -> None:
    """Do a started job's blob work and end it. Blocking: call off the event loop and without hub.lock."""
    if hub.has(JOB_NEVER_COMPLETES):
        return
    try:
        with _client(hub) as client:
            if job.type == "export":
                _export(hub, job, client)
            else:
                _import(hub, job, client)
    except BlobError as exc:
        _finish(hub, job, f"{job.type} failed: {exc}")
    except Exception:
        # A job must never stay running because of a bug; the reason stays generic so that it cannot leak a SAS.
        log.exception("reference hub: job %s failed unexpectedly", job.job_id)
        _finish(hub, job, f"{job.type} failed: internal error")


def export_item(device: Device, exclude_keys: bool) -> dict:
    keys = (None, None) if exclude_keys else (device.primary_key, device.secondary_key)
    return {
        "id": device.device_id,
        "eTag": device.etag,
        "status": device.status,
        "statusReason": device.status_reason,
        "authentication": {"symmetricKey": {"primaryKey": keys[0], "secondaryKey": keys[1]}},
    }


def plan_import(hub: JobHub, text: str) -> tuple[dict[str, Device], set[str]]:
    """The registry after every line of an import, in order, and the deviceIds it creates or deletes (their queues
    and twins start over). Nothing is changed here; any bad line raises ImportFailed. Call under hub.lock."""
    devices = dict(hub.devices)
    renewed: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            device_id, mode, given, etag = _read_line(hub, line)
        except (ImportFailed, InvalidDevice) as exc:
            raise ImportFailed(f"line {number}: {exc}") from None
        old = devices.get(device_id)
        problem = _precondition(hub, mode, device_id, old, etag, len(devices))
        if problem:
            raise ImportFailed(f"line {number}: {problem}")
        if mode != "create" and hub.has(IMPORT_SKIPS_UPDATES):
            continue
        if mode == "create":
            devices[device_id] = new_device(hub, device_id, given)
            renewed.add(device_id)
        elif mode.startswith("update"):
            assert old is not None  # _precondition refuses an update of a device that does not exist
            devices[device_id] = updated_device(hub, old, given)
        else:
            del devices[device_id]
            renewed.add(device_id)
    return devices, renewed


def _read_line(hub: JobHub, line: str) -> tuple:
    try:
        item = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ImportFailed("not valid JSON") from None
    if not isinstance(item, dict):
        raise ImportFailed("not a JSON object")
    device_id = item.get("id")
    if not isinstance(device_id, str):
        raise ImportFailed("id must be a string")
    check_device_id(hub, device_id)
    mode = item.get("importMode")
    if mode not in IMPORT_MODES:
        raise ImportFailed(f"importMode must be one of {', '.join(IMPORT_MODES)}")
    etag = item.get("eTag")
    if mode.endswith("IfMatchETag") and not isinstance(etag, str):
        raise ImportFailed(f"importMode {mode} needs the device's eTag")
    # The line's id plays the part of a PUT body's deviceId; the other fields follow the PUT body rules.
    return device_id, mode, device_input({**item, "deviceId": device_id}), etag


def _precondition(hub: JobHub, mode: str, device_id: str, old: Device | None, etag: str | None, count: int) -> str | None:
    if mode == "create":
        if old is not None:
            return f"device {device_id!r} already exists"
        if count >= hub.max_devices:
            return f"the hub already holds its maximum of {hub.max_devices} devices"
        return None
    if old is None:
        return f"device {device_id!r} does not exist"
    if mode.endswith("IfMatchETag") and etag != old.etag:
        return f"eTag does not match device {device_id!r}"
    return None


def _export(hub: JobHub, job: Job, client: httpx.Client) -> None:
    with hub.lock:
        devices = [hub.devices[device_id] for device_id in sorted(hub.devices)]
    if hub.has(EXPORT_SKIPS_LAST_DEVICE):
        devices = devices[:-1]
    exclude = job.exclude_keys and not hub.has(EXPORT_IGNORES_EXCLUDE_KEYS)
    items = [export_item(device, exclude) for device in devices]
    if hub.has(EXPORT_JSON_ARRAY):
        data = _dumps(items)
    else:
        data = "".join(_dumps(item) + "\n" for item in items)
    Container(job.output_uri, client=client).put(job.output_blob, data.encode("utf-8"), "text/plain")
    _finish(hub, job)


NOT_TEXT = "import failed: the input blob is not UTF-8 text"


def input_text(job: Job, client: httpx.Client) -> str | None:
    """The import's input blob as text; None when it is not UTF-8 (BlobError when it is missing)."""
    container = Container(job.input_uri or "", client=client)
    raw = container.get(job.input_blob)
    if raw is None:
        raise BlobError(f"input blob {job.input_blob[:200]!r} not found in container {container.name!r}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _import(hub: JobHub, job: Job, client: httpx.Client) -> None:
    text = input_text(job, client)
    if text is None:
        _finish(hub, job, NOT_TEXT)
        return
    with hub.lock:
        if not _still_wanted(hub, job):
            return
        try:
            devices, renewed = plan_import(hub, text)
        except ImportFailed as exc:
            _end(hub, job, f"import failed: {exc}")
            return
        # All lines are valid: apply them together, so no request sees half an import.
        for device_id in set(hub.devices) - set(devices):
            del hub.devices[device_id]
        hub.devices.update(devices)
        for device_id in renewed:
            hub.renew(device_id)  # as registry_routes.py: a deleted device's messages and twin go, a new one starts empty
        _end(hub, job)


def _finish(hub: JobHub, job: Job, reason: str | None = None) -> None:
    with hub.lock:
        if _still_wanted(hub, job):
            _end(hub, job, reason)


def _end(hub: JobHub, job: Job, reason: str | None = None) -> None:
    """Completed, or failed for `reason`. Call under hub.lock."""
    job.ended_at = hub.clock.now()
    if reason is None:
        job.status, job.progress = COMPLETED, 100
    else:
        job.status, job.failure_reason = FAILED, None if hub.has(FAILED_JOB_WITHOUT_REASON) else reason


def _still_wanted(hub: JobHub, job: Job) -> bool:
    """False when the job was cancelled while it ran: it then stays cancelled and changes nothing."""
    return job.status == RUNNING or hub.has(CANCEL_IGNORED)


@contextmanager
def _client(hub: JobHub) -> Iterator[httpx.Client]:
    if hub.blob_transport is not None:
        # The hub's transport outlives this client, so the client is not closed (that would close the transport).
        yield httpx.Client(transport=hub.blob_transport, timeout=BLOB_TIMEOUT)
        return
    with httpx.Client(timeout=BLOB_TIMEOUT) as client:
        yield client


def _container_uri(body: dict, *names: str) -> str:
    """The first of `names` in the body: an http(s) URL with a container path. Messages never repeat the value,
    which holds a SAS."""
    name = names[0]
    value = next((body[n] for n in names if body.get(n) is not None), None)
    if not isinstance(value, str):
        raise InvalidJob(ARGUMENT_INVALID, f"{name} is required: a blob container SAS URI")
    if len(value) > MAX_CONTAINER_URI:
        raise InvalidJob(ARGUMENT_INVALID, f"{name} is longer than {MAX_CONTAINER_URI} characters")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises for a port that is not a number in range
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL):
        parts = None
    if parts is None or not CONTAINER_URI.fullmatch(value) or not parts.hostname or not parts.path.strip("/"):
        raise InvalidJob(ARGUMENT_INVALID, f"{name} must be an http(s) URL of a blob container, like "
                                           "https://<account>.blob.core.windows.net/<container>?<sas>")
    return value


def _blob_name(body: dict, name: str) -> str:
    value = body.get(name)
    if value is None:
        return DEFAULT_BLOB
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_BLOB_NAME:
        raise InvalidJob(ARGUMENT_INVALID, f"{name} must be a blob name of 1 to {MAX_BLOB_NAME} characters")
    return value


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")

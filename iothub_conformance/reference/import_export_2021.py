"""Import/export jobs at api-version 2021-04-12: the JobProperties fields that version adds, exports that carry each
device's twin (and its modules), imports line by line with the import modes of the bulk page, and managed identities.

Sources: docs/sources/service-2021-04-12.json (JobProperties, ManagedIdentity, ExportImportDevice);
docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md (devices.txt, twin data from twinETag on, importMode:
"an error is written to the log file"); docs/sources/iot-hub-managed-identity__2023-05-11_464821f6.md (identityBased
jobs fail when the hub lacks the identity); docs/sources/INVENTORY-2021-04-12.md §2.9, §10 (C19).

Jobs are the import_export_jobs.Job of 2016 with `current` set; they run as those do (no thread of their own).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from typing import Protocol

import httpx

from iothub_conformance.http.blobs import BlobError, Container

from . import import_export_jobs
from .error_envelope import ARGUMENT_INVALID, FORMAT_ERROR
from .faults import switch
from .identities import Device, InvalidDevice, check_device_id_form, device_input, new_device, updated_device
from .import_export_jobs import (
    CANCELLED,
    COMPLETED,
    DEFAULT_BLOB,
    FAILED,
    FINISHED,
    NOT_TEXT,
    RUNNING,
    InvalidJob,
    Job,
    JobHub,
    _blob_name,
    _client,
    _container_uri,
    _dumps,
    _reject_constant,
    input_text,
)
from .twins import InvalidTwin, Twin, TwinHub, device_twin, read_patch

CANCEL_IGNORED = switch("ie21-cancel-ignored")
EXPORT_KEYS_DEFAULT_EXCLUDED = switch("ie21-export-keys-default-excluded")
EXPORT_SKIPS_LAST_DEVICE = switch("ie21-export-skips-last-device")
EXPORT_WITHOUT_TWIN = switch("ie21-export-without-twin")
IDENTITY_IGNORED = switch("ie21-identity-ignored")
IMPORT_SKIPS_UPDATES = switch("ie21-import-skips-updates")
NO_CONFIGURATIONS_BLOB = switch("ie21-no-configurations-blob")
NO_CREATE_OR_UPDATE = switch("ie21-no-create-or-update")
TWIN_ETAG_IGNORED = switch("ie21-twin-etag-ignored")

log = logging.getLogger(__name__)


class CurrentJobHub(JobHub, TwinHub, Protocol):
    """What 2021-04-12 jobs need of a hub (hub.Hub is one): an import/export job hub with twins."""

KEY_BASED, IDENTITY_BASED = "keyBased", "identityBased"
CONFIGURATIONS_BLOB = "configurations.txt"  # JobProperties.configurationsBlobName: "Defaults to configurations.txt"
# The .NET SDK's ImportMode and the bulk page (INVENTORY-2021-04-12 §10 C19): the swagger's enum lacks the first two.
CREATE_OR_UPDATE, CREATE_OR_UPDATE_IF_MATCH = "createOrUpdate", "createOrUpdateIfMatchETag"
IMPORT_MODES = (CREATE_OR_UPDATE, "create", "update", "updateIfMatchETag", CREATE_OR_UPDATE_IF_MATCH, "delete",
                "deleteIfMatchETag", "updateTwin", "updateTwinIfMatchETag")
# The page does not name the log an import writes its line errors to; this is the reference's name for it.
IMPORT_LOG = "importErrors.log"


def read_request(hub: CurrentJobHub, raw: bytes) -> Job:
    """A new enqueued 2021-04-12 job from a JobProperties body."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise InvalidJob(FORMAT_ERROR, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidJob(ARGUMENT_INVALID, "the request body must be a JSON object")
    kind = body.get("type")
    if kind not in import_export_jobs.TYPES:
        raise InvalidJob(ARGUMENT_INVALID, "type must be export or import")
    auth = body.get("storageAuthenticationType")
    if auth not in (None, KEY_BASED, IDENTITY_BASED):
        raise InvalidJob(ARGUMENT_INVALID, f"storageAuthenticationType must be {KEY_BASED} or {IDENTITY_BASED}")
    identity = body.get("identity")
    if identity is not None and (not isinstance(identity, dict) or not isinstance(
            identity.get("userAssignedIdentity"), str | None) or len(str(identity.get("userAssignedIdentity"))) > 1024):
        raise InvalidJob(ARGUMENT_INVALID, "identity must be {\"userAssignedIdentity\": <resource id or null>}")
    return Job(
        job_id=str(uuid.uuid4()),
        type=kind,
        created_at=hub.clock.now(),
        input_uri=_container_uri(body, "inputBlobContainerUri") if kind == "import" else None,
        output_uri=_container_uri(body, "outputBlobContainerUri"),
        input_blob=_blob_name(body, "inputBlobName"),
        output_blob=_blob_name(body, "outputBlobName"),
        exclude_keys=_flag(body, "excludeKeysInExport") or (
            body.get("excludeKeysInExport") is None and hub.has(EXPORT_KEYS_DEFAULT_EXCLUDED)),
        current=True,
        storage_authentication=auth,
        identity={"userAssignedIdentity": identity.get("userAssignedIdentity")} if identity is not None else None,
        include_configurations=_flag(body, "includeConfigurations"),
        configurations_blob=_blob_name(body, "configurationsBlobName") if body.get("configurationsBlobName") is not None
        else CONFIGURATIONS_BLOB,
    )


def unfinished(hub: CurrentJobHub) -> list[Job]:
    """The import/export jobs still to finish, of either api-version. Call under hub.lock."""
    return [job for job in hub.jobs.values() if job.status not in FINISHED]


def run_any(hub: CurrentJobHub, job: Job) -> None:
    """Run a started job of either api-version. Blocking: call off the event loop and without hub.lock."""
    if not job.current:
        import_export_jobs.run(hub, job)
        return
    try:
        if job.storage_authentication == IDENTITY_BASED and not hub.has(IDENTITY_IGNORED):
            # The reference hub has no managed identity at all, so the identity named (or the system-assigned one
            # when none is) is not configured on it: "the job will fail" (iot-hub-managed-identity).
            named = (job.identity or {}).get("userAssignedIdentity")
            which = f"the user-assigned identity {named[:200]!r}" if named else "a system-assigned identity"
            _finish(hub, job, f"{job.type} failed: storageAuthenticationType identityBased, but the hub has no "
                              f"managed identity ({which} is not configured on it)")
            return
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


def export_lines(hub: CurrentJobHub, exclude_keys: bool) -> list[dict]:
    """Every device (sorted by id) as an ExportImportDevice line with its twin, then its modules. Call under
    hub.lock."""
    lines = []
    for device_id in sorted(hub.devices):
        device = hub.devices[device_id]
        line = import_export_jobs.export_item(device, exclude_keys)
        twin = device_twin(hub, device_id)
        if twin is not None and not hub.has(EXPORT_WITHOUT_TWIN):
            shown = twin.to_json()
            line.update({"twinETag": shown["etag"], "tags": shown["tags"], "properties": shown["properties"]})
        lines.append(line)
        modules = getattr(hub, "modules", {}).get(device_id, {})
        for module_id in sorted(modules):
            lines.append(_module_line(device_id, modules[module_id], exclude_keys))
    return lines


def _module_line(device_id: str, module, exclude_keys: bool) -> dict:
    """A module as ExportImportDevice: its device's id, its moduleId, its etag and keys."""
    shown = module.to_json()
    authentication = shown.get("authentication")
    if exclude_keys and isinstance(authentication, dict) and "symmetricKey" in authentication:
        authentication = {**authentication, "symmetricKey": {"primaryKey": None, "secondaryKey": None}}
    return {"id": device_id, "moduleId": shown.get("moduleId"), "eTag": shown.get("etag"),
            "authentication": authentication}


def _export(hub: CurrentJobHub, job: Job, client: httpx.Client) -> None:
    with hub.lock:
        lines = export_lines(hub, job.exclude_keys)
    if hub.has(EXPORT_SKIPS_LAST_DEVICE):
        devices = [n for n, line in enumerate(lines) if "moduleId" not in line]
        if devices:
            del lines[devices[-1]]
    container = Container(job.output_uri, client=client)
    container.put(job.output_blob, "".join(_dumps(line) + "\n" for line in lines).encode("utf-8"), "text/plain")
    if job.include_configurations and not hub.has(NO_CONFIGURATIONS_BLOB):
        # The reference hub has no configurations (automatic device management is not served): the blob holds none.
        container.put(job.configurations_blob, b"", "text/plain")
    _finish(hub, job)


def _import(hub: CurrentJobHub, job: Job, client: httpx.Client) -> None:
    text = input_text(job, client)
    if text is None:
        _finish(hub, job, NOT_TEXT)
        return
    with hub.lock:
        if not _still_wanted(hub, job):
            return
        errors = apply_import(hub, text)
    if errors:
        # "an error is written to the log file" (bulk page): the line's number and why, one a line, in the output.
        Container(job.output_uri, client=client).put(IMPORT_LOG, "".join(e + "\n" for e in errors).encode(), "text/plain")
    _finish(hub, job)


def apply_import(hub: CurrentJobHub, text: str) -> list[str]:
    """Apply every import line in order; a line that cannot be applied changes nothing and is reported. Returns
    those reports. Call under hub.lock."""
    errors = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            _apply_line(hub, line)
        except (ImportLineFailed, InvalidDevice, InvalidTwin) as exc:
            errors.append(f"line {number}: {getattr(exc, 'message', exc)}")
    return errors


class ImportLineFailed(ValueError):
    pass


def _apply_line(hub: CurrentJobHub, line: str) -> None:
    try:
        item = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ImportLineFailed("not valid JSON") from None
    if not isinstance(item, dict):
        raise ImportLineFailed("not a JSON object")
    device_id = item.get("id")
    if not isinstance(device_id, str):
        raise ImportLineFailed("id must be a string")
    check_device_id_form(device_id)
    mode = item.get("importMode", CREATE_OR_UPDATE)
    if mode not in IMPORT_MODES or (hub.has(NO_CREATE_OR_UPDATE) and mode == CREATE_OR_UPDATE):
        raise ImportLineFailed(f"importMode must be one of {', '.join(IMPORT_MODES)}")
    old = hub.devices.get(device_id)
    etag = item.get("eTag")
    twin_data = read_patch(item) if any(item.get(name) is not None for name in ("tags", "properties")) else None
    if mode in ("delete", "deleteIfMatchETag"):
        _require(old, device_id, etag if mode == "deleteIfMatchETag" else None)
        del hub.devices[device_id]
        hub.renew(device_id)
        return
    if mode in ("updateTwin", "updateTwinIfMatchETag"):
        _require(old, device_id, None)
        if mode == "updateTwinIfMatchETag" and not hub.has(TWIN_ETAG_IGNORED):
            _require_twin_etag(hub, device_id, item.get("twinETag"), required=True)
        _set_twin(hub, device_id, twin_data)
        return
    given = device_input({**item, "deviceId": device_id})
    if mode == "create" or (mode.startswith("createOrUpdate") and old is None):
        if old is not None:
            raise ImportLineFailed(f"device {device_id!r} already exists")
        if len(hub.devices) >= hub.max_devices:
            raise ImportLineFailed(f"the hub already holds its maximum of {hub.max_devices} devices")
        hub.devices[device_id] = new_device(hub, device_id, given)
        hub.renew(device_id)
    else:
        if mode == "update" and hub.has(IMPORT_SKIPS_UPDATES):
            return
        _require(old, device_id, etag if mode.endswith("IfMatchETag") else None)
        assert old is not None
        if item.get("twinETag") is not None:
            # "The twin's etag, if specified, is processed independently from the device's etag" (bulk page).
            _require_twin_etag(hub, device_id, item.get("twinETag"))
        hub.devices[device_id] = updated_device(hub, old, given)
    if twin_data is not None:
        _set_twin(hub, device_id, twin_data)


def _require(old: Device | None, device_id: str, etag: object) -> None:
    if old is None:
        raise ImportLineFailed(f"device {device_id!r} does not exist")
    if etag is not None and etag != old.etag:
        raise ImportLineFailed(f"eTag does not match device {device_id!r}")


def _require_twin_etag(hub: CurrentJobHub, device_id: str, twin_etag: object, required: bool = False) -> None:
    twin = device_twin(hub, device_id)
    if twin_etag is None and required:
        raise ImportLineFailed("importMode updateTwinIfMatchETag needs the twin's twinETag")
    if twin is not None and twin_etag is not None and twin_etag != twin.etag:
        raise ImportLineFailed(f"twinETag does not match the twin of device {device_id!r}")


def _set_twin(hub: CurrentJobHub, device_id: str, data) -> None:
    """The line's tags and desired properties replace the twin's ("existing information is overwritten")."""
    twin: Twin | None = device_twin(hub, device_id)
    if twin is None or data is None:
        return
    changes: dict = {}
    if data.tags is not None:
        changes["tags"] = data.tags
    if data.desired is not None:
        changes["desired"] = data.desired
        changes["desired_version"] = twin.desired_version + 1
    hub.twins[device_id] = replace(twin, etag=hub.next_etag(), version=twin.version + 1, **changes)


def _finish(hub: CurrentJobHub, job: Job, reason: str | None = None) -> None:
    with hub.lock:
        if not _still_wanted(hub, job):
            return
        job.ended_at = hub.clock.now()
        if reason is None:
            job.status, job.progress = COMPLETED, 100
        else:
            job.status, job.failure_reason = FAILED, reason


def _still_wanted(hub: CurrentJobHub, job: Job) -> bool:
    """False when the job was cancelled while it ran: it then stays cancelled and changes nothing."""
    return job.status == RUNNING or (job.status == CANCELLED and hub.has(CANCEL_IGNORED))


def _flag(body: dict, name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False  # excludeKeysInExport: "If not specified, the service defaults to false"; includeConfigurations too
    if not isinstance(value, bool):
        raise InvalidJob(ARGUMENT_INVALID, f"{name} must be true or false")
    return value


__all__ = ["DEFAULT_BLOB", "IMPORT_LOG", "IMPORT_MODES", "apply_import", "export_lines", "read_request", "run_any",
           "unfinished"]

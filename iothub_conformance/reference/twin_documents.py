"""Device and module twins as api-version 2021-04-12 shows them: the identity properties at the root, tags, desired
and reported properties with their `$version` and `$metadata`, the twin's etag and version.

Sources: docs/sources/service-2021-04-12.json (definitions Twin, TwinProperties); docs/sources/INVENTORY-2021-04-12.md
§2.4, §2.5, §6; docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md ("Device twins": the root holds the
identity's read-only properties except connectionStateUpdatedTime and generationId; "Device twin metadata";
"Optimistic concurrency"); docs/sources/iot-hub-devguide-module-twins__2020-06-29_ccf574a5.md (a module twin exists
while its module identity does); docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md ($lastUpdatedVersion
beside $lastUpdated in desired metadata).

The state is twins.py's Twin, shared with api-version 2016-11-14. Every function here is called under hub.lock.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .faults import switch
from .twins import (
    MAX_DESIRED_BYTES,
    MAX_TAGS_BYTES,
    InvalidTwin,
    Twin,
    TwinPatch,
    _check_value,
    _within,
    fresh_metadata,
    merge,
    merge_metadata,
    metadata_stamp,
    updated_twin,
)

NO_TWIN_METADATA = switch("no-twin-metadata")
TWIN_IDENTITY_MISSING = switch("twin-identity-missing")
REPLACE_MERGES = switch("twin-replace-merges")
MAX_REPORTED_BYTES = 32 * 1024  # device twins devguide, "Device twin size": 32 KB of reported properties
NEVER = "0001-01-01T00:00:00Z"


def modules_of(hub: Any, device_id: str) -> dict:
    """The module identities of a device (modules.py: hub.modules, deviceId → moduleId → Module)."""
    return (getattr(hub, "modules", None) or {}).get(device_id) or {}


def device_twin(hub: Any, device_id: str) -> Twin | None:
    """The device's twin, made empty on first use; None when there is no such device."""
    if device_id not in hub.devices:
        return None
    twin = hub.twins.get(device_id)
    if twin is None:
        twin = hub.twins[device_id] = _empty(hub, Twin(device_id, hub.next_etag()))
    return twin


def module_twin(hub: Any, device_id: str, module_id: str) -> Twin | None:
    """The module's twin while its module identity exists; a module made anew (another generationId) starts with an
    empty twin, as the module-twin page's "implicitly created and deleted" asks. None: no such module."""
    if device_id not in hub.devices:
        return None
    module = modules_of(hub, device_id).get(module_id)
    key = (device_id, module_id)
    if module is None:
        hub.module_twins.pop(key, None)
        return None
    generation = getattr(module, "generation_id", None)
    twin = hub.module_twins.get(key)
    if twin is None or twin.generation != generation:
        twin = hub.module_twins[key] = _empty(hub, Twin(device_id, hub.next_etag(), module_id=module_id,
                                                        generation=generation))
    return twin


def store(hub: Any, twin: Twin) -> Twin:
    if twin.module_id is None:
        hub.twins[twin.device_id] = twin
    else:
        hub.module_twins[(twin.device_id, twin.module_id)] = twin
    return twin


def _empty(hub: Any, twin: Twin) -> Twin:
    stamp = metadata_stamp(hub)
    return replace(twin, desired_metadata={"$lastUpdated": stamp, "$lastUpdatedVersion": 1},
                   reported_metadata={"$lastUpdated": stamp})


def patched(hub: Any, twin: Twin, patch: TwinPatch, sized: bool = True) -> Twin:
    """PATCH: tags and desired properties merged in, a null removing its key. `sized`: whether the size limits hold."""
    return updated_twin(hub, twin, patch, metadata_stamp(hub), sized)


def replaced(hub: Any, twin: Twin, patch: TwinPatch, sized: bool = True) -> Twin:
    """PUT: the tags and the desired properties replaced by the body's ("Replace desired properties", "Replace tags");
    a section the body leaves out is replaced by an empty one. The twin's etag and version move, the desired
    `$version` too."""
    if hub.has(REPLACE_MERGES):
        return patched(hub, twin, patch, sized)
    stamp = metadata_stamp(hub)
    tags = _within("tags", _without_nulls(patch.tags or {}), MAX_TAGS_BYTES if sized else None)
    desired = _within("properties.desired", _without_nulls(patch.desired or {}), MAX_DESIRED_BYTES if sized else None)
    version = twin.desired_version + 1
    return replace(twin, etag=hub.next_etag(), version=twin.version + 1, tags=tags, desired=desired,
                   desired_version=version, desired_metadata=fresh_metadata(desired, stamp, version))


def reported(hub: Any, twin: Twin, properties: dict) -> Twin:
    """A simulated device's (or module's) reported-properties patch, merged as a desired patch is; the reported
    `$version` moves, the twin's etag too (it represents the whole twin), the twin version does not (it counts "tags
    and desired properties", Twin.version in the swagger)."""
    merged = _within("properties.reported", merge(twin.reported, properties), MAX_REPORTED_BYTES)
    stamp = metadata_stamp(hub)
    return replace(twin, etag=hub.next_etag(), reported=merged, reported_version=twin.reported_version + 1,
                   reported_metadata=merge_metadata(twin.reported_metadata, properties, stamp, None))


def report(hub: Any, device_id: str, module_id: str | None, properties: dict) -> Twin:
    """A simulated device (or module) reports properties: merged into its twin's reported section under hub.lock.
    LookupError: no such device or module; InvalidTwin: the patch is not a twin section or makes it too large."""
    if not isinstance(properties, dict):
        raise InvalidTwin("ArgumentInvalid", "reported properties must be an object")
    _check_value("properties.reported", properties, 0)  # the key and depth rules of the device twins page
    with hub.lock:
        twin = device_twin(hub, device_id) if module_id is None else module_twin(hub, device_id, module_id)
        if twin is None:
            raise LookupError(f"no device {device_id!r}" + (f" module {module_id!r}" if module_id else ""))
        return store(hub, reported(hub, twin, properties))


def _without_nulls(value: dict) -> dict:
    return merge({}, value)


def to_json(hub: Any, twin: Twin) -> dict:
    """The twin document of api-version 2021-04-12."""
    desired = {**twin.desired, "$version": twin.desired_version}
    reported_section = {**twin.reported, "$version": twin.reported_version}
    if not hub.has(NO_TWIN_METADATA):
        desired["$metadata"] = twin.desired_metadata
        reported_section["$metadata"] = twin.reported_metadata
    document: dict[str, Any] = {"deviceId": twin.device_id}
    if twin.module_id is not None:
        document["moduleId"] = twin.module_id
    if twin.model_id is not None:
        document["modelId"] = twin.model_id  # pnp-concepts-digital-twin page: the device twin sample's modelId
    document.update({"etag": twin.etag, **_identity(hub, twin), "version": twin.version, "tags": twin.tags,
                     "properties": {"desired": desired, "reported": reported_section}})
    return document


def _identity(hub: Any, twin: Twin) -> dict:
    """The identity's read-only properties at the root (device twins devguide, "Device twins"): the identity's etag
    as deviceEtag, its status and when that changed, its connection (the reference's devices never connect), how it
    authenticates. generationId and connectionStateUpdatedTime stay out, as the page says."""
    if hub.has(TWIN_IDENTITY_MISSING):
        return {}
    common = {"connectionState": "Disconnected", "lastActivityTime": NEVER,
              "authenticationType": "sas", "x509Thumbprint": {"primaryThumbprint": None, "secondaryThumbprint": None}}
    if twin.module_id is not None:
        module = modules_of(hub, twin.device_id).get(twin.module_id)
        return {"deviceEtag": getattr(module, "etag", None), **common, "cloudToDeviceMessageCount": 0}
    device = hub.devices.get(twin.device_id)
    if device is None:
        return common
    identity = {"deviceEtag": device.etag, "status": device.status}
    if device.status_reason is not None:
        identity["statusReason"] = device.status_reason
    identity["statusUpdateTime"] = device.status_updated_time
    return {**identity, **common, "cloudToDeviceMessageCount": hub.queued(twin.device_id),
            "capabilities": {"iotEdge": False}}


__all__ = ["InvalidTwin", "device_twin", "module_twin", "modules_of", "patched", "replaced", "report", "reported",
           "store", "to_json"]

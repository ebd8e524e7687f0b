"""The device twin, as far as the reference keeps one (INVENTORY §3; autogen-2016-11-14__DeviceTwinApi_GetDeviceTwin.yml,
..._UpdateDeviceTwin.yml, autogen-2018-06-30__Service_GetTwin.yml): tags and desired properties written by the
service, an etag and a version. At api-version 2016-11-14 reported properties read empty; from 2021-04-12 on
(twin_documents.py) a simulated device may report, and each section carries its `$metadata`.

One Twin per device (hub.twins) and per module (hub.module_twins), whatever the api-version that wrote it, so a twin
written at one version reads the same at the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from .error_envelope import ARGUMENT_INVALID, FORMAT_ERROR

MAX_DEPTH = 10  # device twins devguide: tags and desired properties nest at most 10 levels deep
MAX_KEY_BYTES = 1024  # device twins devguide: a key is at most 1 KB of UTF-8
# device twins devguide, "Device twin size": at most 8 KB of tags and 32 KB of desired properties; an operation that
# would make either larger is refused. Measured here as compact UTF-8 JSON, which also bounds what a twin holds.
MAX_TAGS_BYTES = 8 * 1024
MAX_DESIRED_BYTES = 32 * 1024
# device twins devguide: keys may hold anything but control characters (C0, C1), '.', '$' and space.
REFUSED_KEY_CHARACTERS = frozenset([chr(c) for c in range(0x20)] + [chr(c) for c in range(0x7F, 0xA0)] + [".", "$", " "])


class InvalidTwin(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Twin:
    """Never changed in place (not even its dicts): a change makes a new Twin, so a reader may hold one unlocked."""

    device_id: str
    etag: str
    version: int = 1
    tags: dict = field(default_factory=dict)
    desired: dict = field(default_factory=dict)
    desired_version: int = 1
    reported_version: int = 1
    # From api-version 2021-04-12 on (twin_documents.py): what a simulated device reported, and each section's
    # metadata tree ({"$lastUpdated": …, key: {…}}); the 2016-11-14 representation (to_json) shows none of them.
    reported: dict = field(default_factory=dict)
    desired_metadata: dict = field(default_factory=dict)
    reported_metadata: dict = field(default_factory=dict)
    module_id: str | None = None
    generation: str | None = None  # the module identity's generationId the twin belongs to
    # The model id a Plug and Play device announced when it connected (digital_twins.py); None: it announced none,
    # and neither twin representation shows a modelId.
    model_id: str | None = None

    def to_json(self) -> dict:
        return {
            "deviceId": self.device_id,
            "etag": self.etag,
            "version": self.version,
            "tags": self.tags,
            "properties": {
                "desired": {**self.desired, "$version": self.desired_version},
                "reported": {"$version": self.reported_version},
            },
        }


class TwinHub(Protocol):
    """What twins need of a hub (hub.Hub is one): its devices, its twins and its etags."""

    @property
    def devices(self) -> Mapping[str, object]: ...

    @property
    def twins(self) -> dict[str, Twin]: ...

    def next_etag(self) -> str: ...


@dataclass(frozen=True)
class TwinPatch:
    """What a PATCH body (or a twin job's updateTwin) changes; None: that part is left alone."""

    tags: dict | None = None
    desired: dict | None = None


def device_twin(hub: TwinHub, device_id: str) -> Twin | None:
    """The device's twin, made empty on first use; None when there is no such device. Call under hub.lock."""
    if device_id not in hub.devices:
        return None
    twin = hub.twins.get(device_id)
    if twin is None:
        twin = hub.twins[device_id] = Twin(device_id, hub.next_etag())
    return twin


def parse_body(raw: bytes) -> dict:
    """A JSON object request body (a twin PATCH, a scheduled job); anything else raises InvalidTwin."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise InvalidTwin(FORMAT_ERROR, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidTwin(FORMAT_ERROR, "the request body must be a JSON object")
    try:
        # A lone surrogate (\ud800) parses but can never be sent back as UTF-8: refuse it before anything is kept.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise InvalidTwin(FORMAT_ERROR, "the request body cannot be sent back as UTF-8 JSON") from None
    return body


def read_patch(body: dict, arrays: bool = True, max_depth: int = MAX_DEPTH) -> TwinPatch:
    """The tags and desired properties a twin object asks for. Other members (deviceId, etag, version, …) are the
    service's to set and are left out; reported properties are the device's to set and are refused. `arrays`: whether
    a value may be an array (disputed, profile rule twin_arrays)."""
    tags = body.get("tags")
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, dict):
        raise InvalidTwin(ARGUMENT_INVALID, "properties must be an object")
    properties = properties or {}
    if properties.get("reported") is not None:
        raise InvalidTwin(ARGUMENT_INVALID, "reported properties can only be set by the device")
    desired = properties.get("desired")
    if isinstance(desired, dict):
        # The service keeps $version and $metadata itself; a client that copies them back is not refused.
        desired = {key: value for key, value in desired.items() if key not in ("$version", "$metadata")}
    for name, value in (("tags", tags), ("properties.desired", desired)):
        if value is not None and not isinstance(value, dict):
            raise InvalidTwin(ARGUMENT_INVALID, f"{name} must be an object")
        _check_value(name, value, 0, arrays, max_depth)
    return TwinPatch(tags, desired)


def updated_twin(hub: TwinHub, twin: Twin, patch: TwinPatch, stamp: str | None = None, sized: bool = True) -> Twin:
    """`twin` with the patch merged in: a new etag and version. Call under hub.lock (it takes an etag). Raises
    InvalidTwin, taking no etag, when the result would be larger than a twin may be. `stamp`: the time the desired
    properties' metadata records; None: now, by the hub's clock. `sized`: whether the size limits hold."""
    stamp = stamp or metadata_stamp(hub)
    changes: dict = {}
    if patch.tags is not None:
        changes["tags"] = _within("tags", merge(twin.tags, patch.tags), MAX_TAGS_BYTES if sized else None)
    if patch.desired is not None:
        changes["desired"] = _within("properties.desired", merge(twin.desired, patch.desired),
                                     MAX_DESIRED_BYTES if sized else None)
        changes["desired_version"] = twin.desired_version + 1
        changes["desired_metadata"] = merge_metadata(twin.desired_metadata, patch.desired, stamp,
                                                     twin.desired_version + 1)
    return replace(twin, etag=hub.next_etag(), version=twin.version + 1, **changes)


def metadata_stamp(hub: object) -> str:
    """Now in the metadata's format, UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` (device twins devguide, "Device twin metadata"),
    by the hub's clock when it has one (hub.Hub does), so a test that moves the clock sees later stamps."""
    clock = getattr(hub, "clock", None)
    seconds = clock.now() if clock is not None else time.time()
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def merge_metadata(old: dict, patch: dict, stamp: str, version: int | None) -> dict:
    """The metadata tree of a section after `patch` merged in: every level the patch touches gets `stamp` (and
    `version` as $lastUpdatedVersion, for desired properties), a removed key loses its branch, and the section's own
    $lastUpdated moves too, so a removal shows (device twins devguide, "Device twin metadata")."""
    merged = dict(old)
    merged.update(_stamped(stamp, version))
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            current = merged.get(key)
            merged[key] = merge_metadata(current if isinstance(current, dict) else {}, value, stamp, version)
        else:
            merged[key] = _stamped(stamp, version)
    return merged


def fresh_metadata(value: dict, stamp: str, version: int | None) -> dict:
    """The metadata tree of a section written whole (a replace): every level stamped now."""
    return merge_metadata({}, value, stamp, version)


def _stamped(stamp: str, version: int | None) -> dict:
    return {"$lastUpdated": stamp} if version is None else {"$lastUpdated": stamp, "$lastUpdatedVersion": version}


def _within(name: str, value: dict, limit: int | None) -> dict:
    if limit is None:
        return value
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > limit:
        raise InvalidTwin(ARGUMENT_INVALID, f"{name} would be {size} bytes; a twin holds at most {limit}")
    return value


def merge(old: dict, patch: dict) -> dict:
    """A new dict: `old` with `patch` merged in. A null removes its key; an object merges into an object."""
    merged = dict(old)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            current = merged.get(key)
            merged[key] = merge(current if isinstance(current, dict) else {}, value)
        else:
            merged[key] = value
    return merged


def _check_value(name: str, value, depth: int, arrays: bool = True, max_depth: int = MAX_DEPTH) -> None:
    """Keys and depth of a value; arrays count as a level, so the walk never goes deeper than max_depth."""
    if depth > max_depth:
        raise InvalidTwin(ARGUMENT_INVALID, f"{name} nests more than {max_depth} levels deep")
    if isinstance(value, list):
        if not arrays:
            raise InvalidTwin(ARGUMENT_INVALID, f"{name} holds an array: arrays are not allowed in a twin")
        for item in value:
            _check_value(name, item, depth + 1, arrays, max_depth)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES or set(key) & REFUSED_KEY_CHARACTERS:
                raise InvalidTwin(ARGUMENT_INVALID, f"{name} has the key {key[:64]!r}: a key is 1 byte to 1 KB and "
                                                    "holds no control character, '.', '$' or space")
            _check_value(name, item, depth + 1, arrays, max_depth)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")

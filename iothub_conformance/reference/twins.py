"""The device twin, as far as the reference keeps one (INVENTORY §3; autogen-2016-11-14__DeviceTwinApi_GetDeviceTwin.yml,
..._UpdateDeviceTwin.yml, autogen-2018-06-30__Service_GetTwin.yml): tags and desired properties written by the
service, an etag and a version. Reported properties stay empty: no device of the reference ever reports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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


def read_patch(body: dict) -> TwinPatch:
    """The tags and desired properties a twin object asks for. Other members (deviceId, etag, version, …) are the
    service's to set and are left out; reported properties are the device's to set and are refused."""
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
        _check_value(name, value, 0)
    return TwinPatch(tags, desired)


def updated_twin(hub: TwinHub, twin: Twin, patch: TwinPatch) -> Twin:
    """`twin` with the patch merged in: a new etag and version. Call under hub.lock (it takes an etag). Raises
    InvalidTwin, taking no etag, when the result would be larger than a twin may be."""
    changes: dict = {}
    if patch.tags is not None:
        changes["tags"] = _within("tags", merge(twin.tags, patch.tags), MAX_TAGS_BYTES)
    if patch.desired is not None:
        changes["desired"] = _within("properties.desired", merge(twin.desired, patch.desired), MAX_DESIRED_BYTES)
        changes["desired_version"] = twin.desired_version + 1
    return replace(twin, etag=hub.next_etag(), version=twin.version + 1, **changes)


def _within(name: str, value: dict, limit: int) -> dict:
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


def _check_value(name: str, value, depth: int) -> None:
    """Keys and depth of a value; arrays count as a level, so the walk never goes deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise InvalidTwin(ARGUMENT_INVALID, f"{name} nests more than {MAX_DEPTH} levels deep")
    if isinstance(value, list):
        for item in value:
            _check_value(name, item, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES or set(key) & REFUSED_KEY_CHARACTERS:
                raise InvalidTwin(ARGUMENT_INVALID, f"{name} has the key {key[:64]!r}: a key is 1 byte to 1 KB and "
                                                    "holds no control character, '.', '$' or space")
            _check_value(name, item, depth + 1)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")

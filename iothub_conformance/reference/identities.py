"""The device identity: the deviceId rule, the request body rules and the representation (create/update pages)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .error_envelope import ARGUMENT_INVALID, FORMAT_ERROR
from .faults import switch
from .policies import new_key

ETAG_UNCHANGED_ON_WRITE = switch("etag-unchanged-on-write")
NO_GENERATED_KEYS = switch("no-generated-keys")
REJECT_SPECIAL_DEVICE_IDS = switch("reject-special-device-ids")
UPDATE_OVERWRITES_GENERATION_ID = switch("update-overwrites-generation-id")

# create-a-new-device-identity.md: up to 128 ASCII 7-bit alphanumerics plus these characters, case-sensitive.
SPECIAL_CHARACTERS = "-:.+%_#*?!(),=@;$'"
DEVICE_ID = re.compile(r"[A-Za-z0-9" + re.escape(SPECIAL_CHARACTERS) + r"]{1,128}")
STATUSES = ("enabled", "disabled")
NEVER = "0001-01-01T00:00:00Z"  # the service's value for "has not happened"


class IdentityHub(Protocol):
    """What the identity rules need of a hub (hub.Hub is one): its fault switches and its etags."""

    def has(self, fault: str) -> bool: ...

    def next_etag(self) -> str: ...


class InvalidDevice(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class NotJson(InvalidDevice):
    def __init__(self, message: str):
        super().__init__(FORMAT_ERROR, message)


def check_device_id_form(device_id: str) -> None:
    """The documented form of a deviceId, at every api-version."""
    if not DEVICE_ID.fullmatch(device_id):
        raise InvalidDevice(ARGUMENT_INVALID, f"deviceId {device_id[:140]!r} is not 1-128 ASCII alphanumerics "
                            f"or {SPECIAL_CHARACTERS}")


def check_device_id(hub: IdentityHub, device_id: str) -> None:
    """The form, as the 2016 handlers read it (a fault of DI-ID-001 may refuse its special characters)."""
    check_device_id_form(device_id)
    if hub.has(REJECT_SPECIAL_DEVICE_IDS) and any(c in SPECIAL_CHARACTERS for c in device_id):
        raise InvalidDevice(ARGUMENT_INVALID, "deviceId may hold only letters and digits")


@dataclass(frozen=True)
class DeviceInput:
    """What a PUT body asks for; None means "not given" (a JSON null counts as not given)."""

    device_id: str | None = None
    generation_id: str | None = None
    primary_key: str | None = None
    secondary_key: str | None = None
    status: str | None = None
    status_reason: str | None = None


def parse_body(raw: bytes) -> DeviceInput:
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise NotJson("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidDevice(FORMAT_ERROR, "the request body must be a JSON object")
    return device_input(body)


def device_input(body: dict) -> DeviceInput:
    """What a device object (a PUT body, or an import line with its id as deviceId) asks for."""
    keys = _section(_section(body, "authentication"), "symmetricKey")
    generation_id = body.get("generationId")
    return DeviceInput(
        device_id=_string(body, "deviceId"),
        generation_id=generation_id if isinstance(generation_id, str) else None,  # read-only: never refused
        primary_key=_key(keys, "primaryKey"),
        secondary_key=_key(keys, "secondaryKey"),
        status=_status(body),
        status_reason=_string(body, "statusReason", max_length=128),
    )


@dataclass(frozen=True)
class Device:
    device_id: str
    generation_id: str
    etag: str
    primary_key: str | None
    secondary_key: str | None
    status: str
    status_reason: str | None
    status_updated_time: str
    # What api-version 2021-04-12 adds (docs/sources/service-2021-04-12.json, Device); the 2016 form never shows them.
    auth_type: str = "sas"
    thumbprints: tuple[str | None, str | None] = (None, None)
    iot_edge: bool = False
    device_scope: str | None = None
    parent_scopes: tuple[str, ...] = ()

    def keys(self) -> list[str]:
        return [key for key in (self.primary_key, self.secondary_key) if key]

    def to_json(self, queued: int = 0) -> dict:
        """`queued`: the cloud-to-device messages waiting for the device (Hub.queued)."""
        return {
            "deviceId": self.device_id,
            "generationId": self.generation_id,
            "etag": self.etag,
            "authentication": {"symmetricKey": {"primaryKey": self.primary_key, "secondaryKey": self.secondary_key}},
            "status": self.status,
            "statusReason": self.status_reason,
            "statusUpdatedTime": self.status_updated_time,
            "connectionState": "Disconnected",
            "connectionStateUpdatedTime": NEVER,
            "lastActivityTime": NEVER,
            "cloudToDeviceMessageCount": queued,
        }

    def to_json_2021(self, queued: int = 0) -> dict:
        """The swagger's Device (docs/sources/service-2021-04-12.json): the 2016 fields, the authentication type and
        thumbprints, capabilities, deviceScope and parentScopes."""
        body = self.to_json(queued)
        body["authentication"] = {
            "symmetricKey": {"primaryKey": self.primary_key, "secondaryKey": self.secondary_key},
            "x509Thumbprint": {"primaryThumbprint": self.thumbprints[0], "secondaryThumbprint": self.thumbprints[1]},
            "type": self.auth_type,
        }
        body["capabilities"] = {"iotEdge": self.iot_edge}
        body["deviceScope"] = self.device_scope
        body["parentScopes"] = list(self.parent_scopes)
        return body


def new_device(hub: IdentityHub, device_id: str, given: DeviceInput) -> Device:
    """A device made from a create body. Call under hub.lock (it takes an etag)."""
    generate = not hub.has(NO_GENERATED_KEYS)
    return Device(
        device_id=device_id,
        generation_id=f"{secrets.randbelow(10**18):018d}",
        etag=hub.next_etag(),
        primary_key=given.primary_key or (new_key() if generate else None),
        secondary_key=given.secondary_key or (new_key() if generate else None),
        status=given.status or "enabled",
        status_reason=given.status_reason,
        status_updated_time=_now(),
    )


def updated_device(hub: IdentityHub, old: Device, given: DeviceInput) -> Device:
    """`old` changed as an update body asks; what the body leaves out keeps its old value. Call under hub.lock."""
    status = given.status or old.status
    status_updated_time = old.status_updated_time if status == old.status else _now(after=old.status_updated_time)
    etag = old.etag if hub.has(ETAG_UNCHANGED_ON_WRITE) else hub.next_etag()
    overwrite_generation = hub.has(UPDATE_OVERWRITES_GENERATION_ID)
    return replace(
        old,
        primary_key=given.primary_key or old.primary_key,
        secondary_key=given.secondary_key or old.secondary_key,
        status=status,
        status_reason=old.status_reason if given.status_reason is None else given.status_reason,
        status_updated_time=status_updated_time,
        etag=etag,
        generation_id=given.generation_id if overwrite_generation and given.generation_id else old.generation_id,
    )


def _now(after: str | None = None) -> str:
    """ISO 8601 UTC with microseconds; later than `after`, so a status change always shows a new time."""
    now = datetime.now(UTC).replace(tzinfo=None)
    if after:
        previous = datetime.fromisoformat(after.removesuffix("Z"))
        now = max(now, previous + timedelta(microseconds=1))
    return now.isoformat(timespec="microseconds") + "Z"


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _section(obj: dict, name: str) -> dict:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidDevice(ARGUMENT_INVALID, f"{name} must be an object")
    return value


def _string(obj: dict, name: str, max_length: int | None = None) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidDevice(ARGUMENT_INVALID, f"{name} must be a string")
    if max_length is not None and len(value) > max_length:
        raise InvalidDevice(ARGUMENT_INVALID, f"{name} is longer than {max_length} characters")
    return value


def _status(body: dict) -> str | None:
    """The status asked for, in the service's spelling. The service reads enum values whatever their case: its model
    (Microsoft.Azure.Devices DeviceStatus, https://github.com/Azure/azure-iot-sdks/blob/af6073ea8b020a2e0d5b2566b127291437362410/csharp/service/Microsoft.Azure.Devices/DeviceStatus.cs)
    goes through Newtonsoft.Json's StringEnumConverter, which ends in Enum.Parse(..., ignoreCase: true)
    (https://github.com/JamesNK/Newtonsoft.Json/blob/4467bdb224f71522c9fb81609e7da82b3b4d1a88/Src/Newtonsoft.Json/Utilities/EnumUtils.cs,
    ParseEnumName); and the 2016-02-03 Node.js service SDK sends 'Enabled' by default (azure-iothub 1.0.7, lib/device.js)
    and created and updated devices with status 'Disabled' against a real hub in its integration tests
    (https://github.com/Azure/azure-iot-sdks/blob/c98b3b7e85e028d3536a5d68fda8217001210774/node/service/lib/_registry_common_testrun.js).
    Only the spelling is lenient: any other value is still refused."""
    value = body.get("status")
    if value is None:
        return None
    spelled = value.lower() if isinstance(value, str) else None
    if spelled not in STATUSES:
        raise InvalidDevice(ARGUMENT_INVALID, f"status must be one of {', '.join(STATUSES)}")
    return spelled


def _key(keys: dict, name: str) -> str | None:
    """A symmetric key: base64 of 128 to 512 bits."""
    value = _string(keys, name)
    if value is None:
        return None
    try:
        size = len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        raise InvalidDevice(ARGUMENT_INVALID, f"{name} is not base64") from None
    if not 16 <= size <= 64:
        raise InvalidDevice(ARGUMENT_INVALID, f"{name} must be 128 to 512 bits, not {size * 8}")
    return value

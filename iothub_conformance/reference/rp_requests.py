"""The resource provider's request bodies and conditions (ARM, api-version 2016-02-03): hub PUT bodies in both
dialects, the name, export and import requests, and If-Match / If-None-Match as the RP page's tables read them.

Sources: the rp__*.md pages; INVENTORY.md §1 (If-Match tables), §2c (ARM16 shapes), §7 items 8-9. The ARM16 shapes are
the ARM Swagger of 2016-02-03 as the RP SDK azure-mgmt-iothub 0.1.0 has them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import TypedDict, TypeGuard

from .policies import (
    ALL_PERMISSIONS,
    DEFAULT_POLICIES,
    DEVICE_CONNECT,
    REGISTRY_READ,
    REGISTRY_WRITE,
    SERVICE_CONNECT,
    new_key,
)
from .rp_errors import INVALID_NAME, RpError, invalid

API_VERSION = "2016-02-03"  # rp__iot-hub-resource-provider-rest…md, bk_common
HUB_TYPE = "Microsoft.Devices/IotHubs"
# ARM16 IotHubDescription.name; names compare case-insensitively (ARM).
HUB_NAME = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$")
# rp__create-a-new-iot-hub.md (Sku name, Tier): F1 is Free, the S skus are Standard.
SKU_TIERS = {"F1": "Free", "S1": "Standard", "S2": "Standard", "S3": "Standard"}
# ARM16 AccessRights lists the rights in this order; "rights" strings keep it.
RIGHTS = (REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT, DEVICE_CONNECT)
ENDPOINTS = ("events", "operationsMonitoringEvents")  # ARM16 eventHubEndpointName
DEFAULT_GROUP = "$default"  # rp__list-d2c-consumer-groups.md
MAX_INT64 = 2**63 - 1  # ARM16 "long"
MAX_PARTITIONS = 128  # the reference's choice: no page states a range; it bounds the partitionIds it lists
# The reference's defaults where the create page leaves a value to the service (no page states them): one day of
# retention and two partitions per event-hub endpoint; cloud-to-device values as the reference hub's own.
DEFAULT_RETENTION_DAYS = 1
DEFAULT_PARTITIONS = 2


class Feedback(TypedDict):
    """ARM16 FeedbackProperties, as the RP answers it."""

    lockDurationAsIso8601: str
    ttlAsIso8601: str
    maxDeliveryCount: int


class CloudToDevice(TypedDict):
    """ARM16 CloudToDeviceProperties, as the RP answers it."""

    maxDeliveryCount: int
    defaultTtlAsIso8601: str
    feedback: Feedback


DEFAULT_CLOUD_TO_DEVICE: CloudToDevice = {
    "maxDeliveryCount": 10,
    "defaultTtlAsIso8601": "PT1H",
    "feedback": {"lockDurationAsIso8601": "PT1M", "ttlAsIso8601": "PT1H", "maxDeliveryCount": 10},
}
# ISO 8601 durations (ARM16 "duration").
DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")


# -- request bodies --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RpPolicy:
    name: str
    primary_key: str
    secondary_key: str
    rights: frozenset[str]


@dataclass(frozen=True)
class EventHub:
    retention_days: int
    partition_count: int


@dataclass(frozen=True)
class HubSpec:
    """What a PUT asks for, every default filled in."""

    location: str
    tags: dict[str, str]
    sku: str
    capacity: int
    policies: tuple[RpPolicy, ...]
    endpoints: dict[str, EventHub]
    cloud_to_device: CloudToDevice


def read_json(raw: bytes):
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise invalid("the request body is not valid JSON") from None


def parse_hub(raw: bytes) -> HubSpec:
    """A hub PUT body in either dialect (rp__create-a-new-iot-hub.md; ARM16 IotHubDescription); RpError 400 else."""
    body = read_json(raw)
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    location = body.get("location")
    if not isinstance(location, str) or not location.strip():
        raise invalid("location is required: a region name")
    tags = _or_empty(body.get("tags"), "tags")
    if not all(isinstance(value, str) for value in tags.values()):
        raise invalid("tags must map names to strings")
    sku, capacity = _sku(body.get("sku"))
    properties = _or_empty(body.get("properties"), "properties")
    policies = _policies(properties.get("authorizationPolicies"))
    return HubSpec(location, dict(tags), sku, capacity, policies, _endpoints(properties.get("eventHubEndpoints")),
                   _cloud_to_device(properties.get("cloudToDevice")))


def check_name(name: str) -> None:
    if not HUB_NAME.fullmatch(name):  # fullmatch: `$` alone would let a trailing newline through
        raise RpError(400, INVALID_NAME, f"hub name {name[:80]!r} must be 3-50 letters, digits or hyphens, start with "
                                         "a letter or digit, end with a letter or digit, and not be all digits")


def _sku(value) -> tuple[str, int]:
    """rp__create-a-new-iot-hub.md: name F1/S1/S2/S3, units 1 for F1; ARM16 IotHubSkuInfo: tier is read-only, so
    it may be left out, but one that contradicts the sku is refused."""
    if not isinstance(value, dict):
        raise invalid("sku is required: {name, capacity}")
    name = value.get("name")
    sku = name.upper() if isinstance(name, str) else None
    if sku not in SKU_TIERS:
        raise invalid(f"sku.name must be one of {', '.join(SKU_TIERS)}")
    capacity = value.get("capacity")
    if not _is_int(capacity) or not 1 <= capacity <= MAX_INT64:
        raise invalid("sku.capacity is required: a whole number of units, at least 1")
    if sku == "F1" and capacity != 1:
        raise invalid("sku.capacity must be 1 for F1")
    tier = value.get("tier")
    if tier is not None and (not isinstance(tier, str) or tier.lower() != SKU_TIERS[sku].lower()):
        raise invalid(f"sku.tier must be {SKU_TIERS[sku]} for {sku}")
    return sku, capacity


def _policies(value) -> tuple[RpPolicy, ...]:
    """Either shape per policy: docs {name, permissions: [...]}, ARM16 {keyName, rights: "A, B"}; a missing key is
    generated. No policies: the defaults (create page: "If not present, IoT Hub will have default authorization
    policies"; INVENTORY §5)."""
    if value is None:
        return tuple(RpPolicy(name, new_key(), new_key(), rights) for name, rights in DEFAULT_POLICIES.items())
    if not isinstance(value, list):
        raise invalid("properties.authorizationPolicies must be an array")
    policies: list[RpPolicy] = []
    for index, item in enumerate(value):
        where = f"authorizationPolicies[{index}]"
        if not isinstance(item, dict):
            raise invalid(f"{where} must be an object")
        name = item.get("keyName", item.get("name"))
        if not isinstance(name, str) or not name.strip():
            raise invalid(f"{where} needs a name (keyName or name)")
        if any(known.name.lower() == name.lower() for known in policies):
            raise invalid(f"{where}: the policy name {name[:64]!r} is given twice")
        policies.append(RpPolicy(name, _key(item.get("primaryKey"), f"{where}.primaryKey"),
                                 _key(item.get("secondaryKey"), f"{where}.secondaryKey"), _rights(item, where)))
    return tuple(policies)


def _rights(item: dict, where: str) -> frozenset[str]:
    if item.get("rights") is not None:
        value = item["rights"]
        names = [part.strip() for part in value.split(",")] if isinstance(value, str) else None
    else:
        value = item.get("permissions")
        names = value if isinstance(value, list) and all(isinstance(part, str) for part in value) else None
    if not names or any(name not in ALL_PERMISSIONS for name in names):
        raise invalid(f"{where} needs rights (or permissions): any combination of {', '.join(RIGHTS)}")
    return frozenset(names)


def _key(value, where: str) -> str:
    """create page: "256bit key, base64 encoded" (32 bytes, canonical base64, as the spec's SymmetricKey); not given
    → a fresh one."""
    if value is None or value == "":
        return new_key()
    if not isinstance(value, str):
        raise invalid(f"{where} must be a base64 string")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{where} is not base64") from None
    if len(decoded) != 32 or base64.b64encode(decoded).decode() != value:
        raise invalid(f"{where} must be a 256-bit key in base64 (44 characters)")
    return value


def _endpoints(value) -> dict[str, EventHub]:
    """The events endpoint takes retentionTimeInDays (ARM16) or messageRetentionInDays (docs) and partitionCount."""
    given = _or_empty(value, "properties.eventHubEndpoints")
    endpoints = {}
    for name in ENDPOINTS:
        item = _or_empty(given.get(name), f"eventHubEndpoints.{name}")
        # One spelling or the other; a null one is not given, so it cannot hide the other.
        spelled = [item[key] for key in ("retentionTimeInDays", "messageRetentionInDays") if item.get(key) is not None]
        if len(spelled) > 1:
            raise invalid(f"eventHubEndpoints.{name}: give retentionTimeInDays or messageRetentionInDays, not both")
        retention = spelled[0] if spelled else DEFAULT_RETENTION_DAYS
        partitions = DEFAULT_PARTITIONS if item.get("partitionCount") is None else item["partitionCount"]
        if not _is_int(retention) or not 1 <= retention <= MAX_INT64:
            raise invalid(f"eventHubEndpoints.{name}: the retention is a whole number of days, at least 1")
        if not _is_int(partitions) or not 1 <= partitions <= MAX_PARTITIONS:
            raise invalid(f"eventHubEndpoints.{name}.partitionCount must be a whole number from 1 to {MAX_PARTITIONS}")
        endpoints[name] = EventHub(retention, partitions)
    return endpoints


def _cloud_to_device(value) -> CloudToDevice:
    """ARM16 CloudToDeviceProperties and FeedbackProperties: maxDeliveryCount 1-100, durations in ISO 8601."""
    given = _or_empty(value, "properties.cloudToDevice")
    feedback = _or_empty(given.get("feedback"), "cloudToDevice.feedback")
    # Read in this order, so the first bad value named is the same one each time.
    max_delivery_count = _delivery_count(given.get("maxDeliveryCount"), "cloudToDevice.maxDeliveryCount",
                                         DEFAULT_CLOUD_TO_DEVICE["maxDeliveryCount"])
    default_ttl = _duration(given.get("defaultTtlAsIso8601"), "cloudToDevice.defaultTtlAsIso8601",
                            DEFAULT_CLOUD_TO_DEVICE["defaultTtlAsIso8601"])
    defaults = DEFAULT_CLOUD_TO_DEVICE["feedback"]
    chosen_feedback: Feedback = {
        "lockDurationAsIso8601": _duration(feedback.get("lockDurationAsIso8601"),
                                           "cloudToDevice.feedback.lockDurationAsIso8601",
                                           defaults["lockDurationAsIso8601"]),
        "ttlAsIso8601": _duration(feedback.get("ttlAsIso8601"), "cloudToDevice.feedback.ttlAsIso8601",
                                  defaults["ttlAsIso8601"]),
        "maxDeliveryCount": _delivery_count(feedback.get("maxDeliveryCount"), "cloudToDevice.feedback.maxDeliveryCount",
                                            defaults["maxDeliveryCount"]),
    }
    return {"maxDeliveryCount": max_delivery_count, "defaultTtlAsIso8601": default_ttl, "feedback": chosen_feedback}


def _delivery_count(value, where: str, default: int) -> int:
    if value is None:
        return default
    if not _is_int(value) or not 1 <= value <= 100:
        raise invalid(f"{where} must be a whole number from 1 to 100")
    return value


def _duration(value, where: str, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not DURATION.fullmatch(value):
        raise invalid(f"{where} must be an ISO 8601 duration such as PT1H")
    return value


def _or_empty(value, where: str) -> dict:
    """An optional object: null or absent is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"{where} must be an object")
    return value


def _is_int(value) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_name_request(raw: bytes) -> str:
    """checkNameAvailability: ARM16 OperationInputs {"Name": …}; "name" is taken too."""
    body = read_json(raw)
    name = body.get("Name", body.get("name")) if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise invalid('the request body must be {"Name": "<hub name>"}')
    return name


def parse_job_request(raw: bytes, kind: str) -> dict:
    """An RP export or import body as the data-plane job body jobs.read_request reads.

    export: ARM16 {ExportBlobContainerUri, ExcludeKeys} or docs {exportBlobContainerUri | outputBlobContainerUri,
    excludeKeys}; import: ARM16 {InputBlobContainerUri, OutputBlobContainerUri} or docs {inputBlobContainerUri,
    exportBlobContainerUri | outputBlobContainerUri}. Names compare case-insensitively and without surrounding
    spaces: rp__export-device-identities2.md and import-device-identities.md spell them with trailing spaces.
    """
    body = read_json(raw)
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    given = {name.strip().lower(): value for name, value in body.items()}

    def first(*names: str):
        return next((given[name] for name in names if given.get(name) is not None), None)

    job: dict = {"type": kind}
    if kind == "export":
        job["outputBlobContainerUri"] = first("exportblobcontaineruri", "outputblobcontaineruri")
        exclude = first("excludekeys", "excludekeysinexport")
        if exclude is not None:
            job["excludeKeysInExport"] = exclude
    else:
        job["inputBlobContainerUri"] = first("inputblobcontaineruri")
        job["outputBlobContainerUri"] = first("outputblobcontaineruri", "exportblobcontaineruri")
    return job


# What the data-plane job reader calls a field, as the RP bodies name it.
JOB_FIELD_NAMES = {
    "export": {"outputBlobContainerUri": "ExportBlobContainerUri", "excludeKeysInExport": "ExcludeKeys"},
    "import": {"outputBlobContainerUri": "OutputBlobContainerUri", "inputBlobContainerUri": "InputBlobContainerUri"},
}


def job_message(kind: str, message: str) -> str:
    for data_plane, rp_name in JOB_FIELD_NAMES[kind].items():
        message = message.replace(data_plane, rp_name)
    return message


# -- conditions ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """One If-Match or If-None-Match header: the wildcard, or strong tags (weak ones are kept apart: If-Match never
    matches them)."""

    wildcard: bool = False
    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()

    def if_match(self, current: str | None) -> bool:
        """INVENTORY §7 item 9: strong comparison, a W/ tag never matches."""
        if current is None:
            return False
        return self.wildcard or current in self.strong

    def if_none_match(self, current: str | None) -> bool:
        """True when the condition holds (RFC 7232 §3.2: weak comparison)."""
        if current is None:
            return True
        return not (self.wildcard or current in self.strong or current in self.weak)


def parse_condition(values: list[str], quoted_star_is_wildcard: bool) -> Condition | None:
    """The contract: a comma list of quoted or unquoted values; "" alone (or nothing) is absent (the RP page's table:
    If-Match = "" / absent). `"*"` in quotes is the wildcard as the profile's quoted_star_is_wildcard says."""
    text = ", ".join(values).strip()
    if not text or text == '""':
        return None
    strong: list[str] = []
    weak: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if item == "*" or (item == '"*"' and quoted_star_is_wildcard):
            return Condition(wildcard=True)
        chosen = strong
        if item.startswith("W/"):
            chosen, item = weak, item[2:]
        if len(item) >= 2 and item[0] == item[-1] == '"':
            item = item[1:-1]
        if item:
            chosen.append(item)
    return Condition(strong=tuple(strong), weak=tuple(weak))

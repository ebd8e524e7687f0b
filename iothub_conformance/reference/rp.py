"""The resource provider's model (ARM, api-version 2016-02-03): managed hubs, their request bodies and
representations in both dialects, the If-Match tables and the long-running operations.

Sources: the rp__*.md pages; INVENTORY.md §1 (If-Match tables, async rules), §2c (ARM16 shapes), §7 items 8-9;
OBSERVED.md §2, §4. The ARM16 shapes are the ARM Swagger of 2016-02-03 as the RP SDK azure-mgmt-iothub 0.1.0 has them.

Each managed hub owns a data-plane registry (a reference Hub that is not served) so that import and export through the
RP reuse jobs.py. Operations need no thread: every RP request first calls `advance`, which applies what their time
(by the parent hub's clock) has brought.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .hub import ALL_PERMISSIONS, DEFAULT_POLICIES, DEVICE_CONNECT, REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT, new_key
from .hub import Policy as RegistryPolicy
from .jobs import CANCELLED, COMPLETED, FAILED, utc

if TYPE_CHECKING:
    from .hub import Hub
    from .jobs import Job

REFERENCE_RP_TOKEN = "conformance-reference-arm-token"
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
KEPT_OPERATIONS = 1000
# What a client can make the provider hold. Quotas page (iot-hub-devguide-quotas-throttling.md): "Each Azure
# subscription can have at most 50 IoT hubs". Subscriptions are only path text here, so the provider also holds at
# most MAX_HUBS in all (the reference's cap: a run makes a handful). Consumer groups: the reference's cap per endpoint,
# in count and in bytes of names (a name is path text of any length).
MAX_HUBS_PER_SUBSCRIPTION = 50
MAX_HUBS = 100
MAX_CONSUMER_GROUPS = 100
MAX_CONSUMER_GROUP_BYTES = 64 * 1024

# The reference's defaults where the create page leaves a value to the service (no page states them): one day of
# retention and two partitions per event-hub endpoint; cloud-to-device values as the reference hub's own.
DEFAULT_RETENTION_DAYS = 1
DEFAULT_PARTITIONS = 2
DEFAULT_CLOUD_TO_DEVICE = {
    "maxDeliveryCount": 10,
    "defaultTtlAsIso8601": "PT1H",
    "feedback": {"lockDurationAsIso8601": "PT1M", "ttlAsIso8601": "PT1H", "maxDeliveryCount": 10},
}
# ISO 8601 durations (ARM16 "duration").
DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")

# Operation statuses (the ARM async pattern, as msrestazure's poller reads them).
IN_PROGRESS, SUCCEEDED, FAILED_STATUS, CANCELED = "InProgress", "Succeeded", "Failed", "Canceled"
ACTIVATING, TERMINATING = "Activating", "Terminating"  # rp__delete-an-iot-hub.md names Terminating

# ErrorDetails codes. The statuses are the contract's; the code names are the reference's choice, except the
# api-version ones (OBSERVED §4, Azure REST API guidelines).
MISSING_API_VERSION = "MissingApiVersionParameter"
UNSUPPORTED_API_VERSION = "UnsupportedApiVersionValue"
AUTHENTICATION_FAILED = "AuthenticationFailed"  # 401: no Authorization header
INVALID_TOKEN = "InvalidAuthenticationToken"  # 401: not the token this provider accepts
INVALID_CONTENT = "InvalidRequestContent"  # 400: the body cannot be read or a value is invalid
INVALID_NAME = "InvalidResourceName"  # 400: the hub name breaks the ARM16 pattern
BAD_REQUEST = "BadRequest"  # 400: anything else the provider cannot process
RESOURCE_NOT_FOUND = "ResourceNotFound"  # 404: no such hub, key, consumer group, job or operation
NOT_FOUND = "NotFound"  # 404: no such route
METHOD_NOT_ALLOWED = "MethodNotAllowed"  # 405
PRECONDITION_FAILED = "PreconditionFailed"  # 412
QUOTA_EXCEEDED = "QuotaExceeded"  # 403: a cap below (hubs, consumer groups) is reached
JOB_FAILED = "JobFailed"  # the error of a Failed export or import operation


class RpError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> RpError:
    return RpError(400, INVALID_CONTENT, message)


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
    cloud_to_device: dict


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


def _cloud_to_device(value) -> dict:
    """ARM16 CloudToDeviceProperties and FeedbackProperties: maxDeliveryCount 1-100, durations in ISO 8601."""
    given = _or_empty(value, "properties.cloudToDevice")
    feedback = _or_empty(given.get("feedback"), "cloudToDevice.feedback")
    chosen = {
        "maxDeliveryCount": _delivery_count(given.get("maxDeliveryCount"), "cloudToDevice.maxDeliveryCount",
                                            DEFAULT_CLOUD_TO_DEVICE["maxDeliveryCount"]),
        "defaultTtlAsIso8601": _duration(given.get("defaultTtlAsIso8601"), "cloudToDevice.defaultTtlAsIso8601",
                                         DEFAULT_CLOUD_TO_DEVICE["defaultTtlAsIso8601"]),
        "feedback": {},
    }
    defaults = DEFAULT_CLOUD_TO_DEVICE["feedback"]
    for name in ("lockDurationAsIso8601", "ttlAsIso8601"):
        chosen["feedback"][name] = _duration(feedback.get(name), f"cloudToDevice.feedback.{name}", defaults[name])
    chosen["feedback"]["maxDeliveryCount"] = _delivery_count(
        feedback.get("maxDeliveryCount"), "cloudToDevice.feedback.maxDeliveryCount", defaults["maxDeliveryCount"])
    return chosen


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


def _is_int(value) -> bool:
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


# -- managed hubs and operations -------------------------------------------------------------------------------------

@dataclass
class ManagedHub:
    subscription_id: str
    resource_group: str
    name: str
    spec: HubSpec
    etag: str
    registry: Hub  # the hub's own device registry and jobs
    active_at: float  # when its create ends (parent clock seconds)
    consumer_groups: dict[str, list[str]] = field(default_factory=dict)
    deleting: Operation | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return hub_key(self.subscription_id, self.resource_group, self.name)

    @property
    def host_name(self) -> str:
        return f"{self.name.lower()}.azure-devices.net"

    @property
    def resource_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}/providers/{HUB_TYPE}/" \
               f"{self.name}"


@dataclass
class Operation:
    operation_id: str
    subscription_id: str
    kind: str  # "create", "update", "delete", "export" or "import"
    hub: ManagedHub
    started_at: float
    ends_at: float
    job_id: str | None = None
    applied: bool = False


def hub_key(subscription_id: str, resource_group: str, name: str) -> tuple[str, str, str]:
    return subscription_id.lower(), resource_group.lower(), name.lower()


def new_etag() -> str:
    """Opaque, and fresh on every successful PUT (ARM16 IotHubDescription.etag)."""
    return base64.b64encode(secrets.token_bytes(12)).decode()


class ResourceProvider:
    """Every managed hub of the parent hub's resource provider. All state is read and written under `lock`."""

    def __init__(self, parent: Hub):
        self.parent = parent
        self.lock = threading.Lock()
        self.hubs: dict[tuple[str, str, str], ManagedHub] = {}
        self.operations: dict[str, Operation] = {}  # by id, oldest first
        self._deletes: list[Operation] = []  # started deletes not yet applied

    def now(self) -> float:
        return self.parent.clock.now()

    def advance(self) -> None:
        """Apply every delete whose time has come (rp__delete-an-iot-hub.md: Terminating, then gone). Call under
        `lock`, first thing in every request."""
        now = self.now()
        for operation in [op for op in self._deletes if now >= op.ends_at]:
            self._deletes.remove(operation)
            operation.applied = True
            hub = operation.hub
            if self.hubs.get(hub.key) is not hub or hub.deleting is not operation:
                continue  # deleted and recreated, or deleted again since: the newer state wins
            if self.parent.has("rp-delete-keeps-hub"):
                hub.deleting = None
            else:
                del self.hubs[hub.key]

    def find(self, subscription_id: str, resource_group: str, name: str) -> ManagedHub | None:
        return self.hubs.get(hub_key(subscription_id, resource_group, name))

    def listed(self, subscription_id: str, resource_group: str | None = None) -> list[ManagedHub]:
        chosen = [hub for hub in self.hubs.values() if hub.subscription_id.lower() == subscription_id.lower()
                  and (resource_group is None or hub.resource_group.lower() == resource_group.lower())]
        return sorted(chosen, key=lambda hub: (hub.resource_group.lower(), hub.name.lower()))

    def room_for(self, subscription_id: str) -> str | None:
        """None when one more hub may be made in the subscription, else why not. Call under `lock`."""
        if len(self.hubs) >= MAX_HUBS:
            return f"the resource provider already holds its maximum of {MAX_HUBS} hubs"
        if sum(hub.subscription_id.lower() == subscription_id.lower() for hub in self.hubs.values()) \
                >= MAX_HUBS_PER_SUBSCRIPTION:
            return f"the subscription already holds its maximum of {MAX_HUBS_PER_SUBSCRIPTION} IoT hubs"
        return None

    def name_taken(self, name: str) -> bool:
        """Hub names are unique across every subscription: they make the host name."""
        return any(hub.name.lower() == name.lower() for hub in self.hubs.values())

    def state(self, hub: ManagedHub) -> str:
        """provisioningState: Activating while the create runs, Terminating while the delete runs (delete page)."""
        if hub.deleting is not None:
            return TERMINATING
        return ACTIVATING if self.now() < hub.active_at else SUCCEEDED

    def start(self, kind: str, hub: ManagedHub, job_id: str | None = None) -> Operation:
        now = self.now()
        operation = Operation(str(uuid.uuid4()), hub.subscription_id, kind, hub, now, now + self.parent.rp_delay,
                              job_id)
        self.operations[operation.operation_id] = operation
        if kind == "delete":
            self._deletes.append(operation)
        for old in list(self.operations)[:max(0, len(self.operations) - KEPT_OPERATIONS)]:
            del self.operations[old]  # pending deletes stay in _deletes, so forgetting one never loses it
        return operation

    def status(self, operation: Operation, job_status: str | None = None) -> str:
        """The operation's status. An export or import also waits for its job (`job_status`; None: no longer kept):
        its operation stands for the job (rp__export-device-identities2.md), so it ends when both the delay has passed
        and the job has ended, and fails when the job does."""
        if self.parent.has("rp-operation-never-ends"):
            return IN_PROGRESS
        if operation.kind == "create" and self.parent.has("rp-succeeded-before-hub-exists"):
            return SUCCEEDED
        if self.now() < operation.ends_at:
            return IN_PROGRESS
        if operation.job_id is not None and job_status is not None:
            return {COMPLETED: SUCCEEDED, FAILED: FAILED_STATUS, CANCELLED: CANCELED}.get(job_status, IN_PROGRESS)
        return SUCCEEDED

    def retry_after(self, operation: Operation) -> int:
        """Whole seconds to the operation's end, at least 1 (the contract's Retry-After)."""
        return max(1, math.ceil(operation.ends_at - self.now()))

    def new_hub(self, subscription_id: str, resource_group: str, name: str, spec: HubSpec,
                active_at: float) -> ManagedHub:
        registry = type(self.parent).create(host_name=f"{name.lower()}.azure-devices.net", profile=self.parent.profile)
        hub = ManagedHub(subscription_id, resource_group, name, spec, new_etag(), registry, active_at,
                         {endpoint: [DEFAULT_GROUP] for endpoint in ENDPOINTS})
        self.apply(hub, spec)
        self.sync_registry(hub)
        return hub

    def apply(self, hub: ManagedHub, spec: HubSpec) -> None:
        """The spec becomes the hub's: its registry's policies and cloud-to-device settings follow."""
        hub.spec = spec
        registry = hub.registry
        registry.policies = {policy.name: RegistryPolicy(policy.primary_key, policy.rights) for policy in spec.policies}
        registry.max_delivery_count = spec.cloud_to_device["maxDeliveryCount"]

    def sync_registry(self, hub: ManagedHub) -> None:
        """The registry runs jobs on the parent's clock, blob transport and job delay (set here, since the parent's
        may be set after the hub was made)."""
        registry = hub.registry
        registry.clock = self.parent.clock
        registry.blob_transport = self.parent.blob_transport
        registry.job_delay = self.parent.job_delay


# -- representations -------------------------------------------------------------------------------------------------

def rights_string(rights: frozenset[str]) -> str:
    """ARM16 AccessRights: "RegistryRead, RegistryWrite", in the enum's order."""
    return ", ".join(right for right in RIGHTS if right in rights)


def policy_json(policy: RpPolicy, dialect: str) -> dict:
    if dialect == "docs":  # rp__retrieve-security-metadata-of-an-iot-hub.md
        return {"name": policy.name, "primaryKey": policy.primary_key, "secondaryKey": policy.secondary_key,
                "permissions": [right for right in RIGHTS if right in policy.rights]}
    return {"keyName": policy.name, "primaryKey": policy.primary_key, "secondaryKey": policy.secondary_key,
            "rights": rights_string(policy.rights)}


def hub_json(hub: ManagedHub, dialect: str, state: str, keys: bool) -> dict:
    """A hub in the dialect's shape. `keys`: PUT responses carry the policies (the create page's example); GET and
    the lists carry null (rp__retrieve-metadata-of-an-iot-hub.md: "Security-related properties will be set to null")."""
    spec = hub.spec
    policies = [policy_json(policy, dialect) for policy in spec.policies] if keys else None
    sku = {"name": spec.sku, "tier": SKU_TIERS[spec.sku], "capacity": spec.capacity}
    if dialect == "docs":
        events = spec.endpoints["events"]
        return {
            "id": hub.resource_id, "name": hub.name, "type": HUB_TYPE, "location": spec.location, "tags": spec.tags,
            "resourceGroupName": hub.resource_group, "etag": hub.etag,
            "properties": {
                "state": 1, "provisioningState": state, "authorizationPolicies": policies, "hostName": hub.host_name,
                "eventHubEndpoints": {"events": {"messageRetentionInDays": events.retention_days,
                                                 "partitionCount": events.partition_count}},
                "cloudToDevice": spec.cloud_to_device,
            },
            "sku": sku,
        }
    return {
        "id": hub.resource_id, "name": hub.name, "type": HUB_TYPE, "location": spec.location, "tags": spec.tags,
        "subscriptionid": hub.subscription_id, "resourcegroup": hub.resource_group, "etag": hub.etag,
        "properties": {
            "authorizationPolicies": policies, "hostName": hub.host_name,
            "eventHubEndpoints": {name: _event_hub_json(hub, name) for name in ENDPOINTS},
            "cloudToDevice": spec.cloud_to_device, "provisioningState": state,
        },
        "sku": sku,
    }


def _event_hub_json(hub: ManagedHub, endpoint: str) -> dict:
    """ARM16 EventHubProperties. The path and endpoint values are the reference's invention: no page states them."""
    settings = hub.spec.endpoints[endpoint]
    path = hub.name.lower() if endpoint == "events" else f"{hub.name.lower()}-operationmonitoring"
    return {
        "retentionTimeInDays": settings.retention_days,
        "partitionCount": settings.partition_count,
        "partitionIds": [str(index) for index in range(settings.partition_count)],
        "path": path,
        "endpoint": f"sb://iothub-ns-{hub.name.lower()}.servicebus.windows.net/",
    }


def consumer_group_json(hub_id: str, endpoint: str, name: str) -> dict:
    """ARM16 EventHubConsumerGroupInfo."""
    return {"tags": {}, "id": f"{hub_id}/eventHubEndpoints/{endpoint}/ConsumerGroups/{name}", "name": name}


def job_json(job: Job) -> dict:
    """ARM16 JobResponse."""
    return {
        "jobId": job.job_id,
        "startTimeUtc": utc(job.started_at),
        "endTimeUtc": utc(job.ended_at),
        "type": job.type,
        "status": job.status,
        "failureReason": job.failure_reason,
        "statusMessage": None,
        "parentJobId": None,
    }


def skus_json() -> list[dict]:
    """ARM16 IotHubSkuDescription for every sku. The capacity numbers are the reference's choice (no page states them):
    F1 one unit; S1 and S2 up to 200; S3 up to 10."""
    maxima = {"F1": 1, "S1": 200, "S2": 200, "S3": 10}
    return [{
        "resourceType": HUB_TYPE,
        "sku": {"name": sku, "tier": tier},
        "capacity": {"minimum": 1, "maximum": maxima[sku], "default": 1,
                     "scaleType": "None" if sku == "F1" else "Manual"},
    } for sku, tier in SKU_TIERS.items()]


# The reference's quota metric names and daily message limits per unit: no page states them.
MESSAGES_PER_UNIT = {"F1": 8000, "S1": 400_000, "S2": 6_000_000, "S3": 300_000_000}


def quota_json(hub: ManagedHub, devices: int) -> list[dict]:
    """ARM16 IotHubQuotaMetricInfo."""
    return [
        {"Name": "TotalMessages", "CurrentValue": 0, "MaxValue": MESSAGES_PER_UNIT[hub.spec.sku] * hub.spec.capacity},
        {"Name": "TotalDeviceCount", "CurrentValue": devices, "MaxValue": hub.registry.max_devices},
    ]

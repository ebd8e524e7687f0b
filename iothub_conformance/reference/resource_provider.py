"""The resource provider (ARM, api-version 2016-02-03): it creates, holds and deletes the hubs it manages, and runs
their long-running operations.

Each managed hub owns a data-plane registry (a reference Hub that is not served, made here) so that import and export
through the RP reuse import_export_jobs.py. Operations need no thread: every RP request first calls `advance`, which
applies what their time (by the provider's clock) has brought. Sources: the rp__*.md pages; INVENTORY.md §1 (async
rules), §2c; OBSERVED.md §2, §4.
"""

from __future__ import annotations

import base64
import math
import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from iothub_conformance.rules.profiles import IOTHUB, Profile

from .clock import Clock
from .faults import parse_faults, switch
from .hub import Hub
from .import_export_jobs import CANCELLED, COMPLETED, FAILED
from .policies import REFERENCE_RP_TOKEN, Policy
from .rp_requests import DEFAULT_GROUP, ENDPOINTS, HUB_TYPE, HubSpec

RP_DELETE_KEEPS_HUB = switch("rp-delete-keeps-hub")
RP_OPERATION_NEVER_ENDS = switch("rp-operation-never-ends")
RP_SUCCEEDED_BEFORE_HUB_EXISTS = switch("rp-succeeded-before-hub-exists")
KEPT_OPERATIONS = 1000
# What a client can make the provider hold. Quotas page (iot-hub-devguide-quotas-throttling.md): "Each Azure
# subscription can have at most 50 IoT hubs". Subscriptions are only path text here, so the provider also holds at
# most MAX_HUBS in all (the reference's cap: a run makes a handful). Consumer groups: the reference's cap per endpoint,
# in count and in bytes of names (a name is path text of any length).
MAX_HUBS_PER_SUBSCRIPTION = 50
MAX_HUBS = 100
MAX_CONSUMER_GROUPS = 100
MAX_CONSUMER_GROUP_BYTES = 64 * 1024

# Operation statuses (the ARM async pattern, as msrestazure's poller reads them).
IN_PROGRESS, SUCCEEDED, FAILED_STATUS, CANCELED = "InProgress", "Succeeded", "Failed", "Canceled"
ACTIVATING, TERMINATING = "Activating", "Terminating"  # rp__delete-an-iot-hub.md names Terminating


# -- managed hubs and operations -------------------------------------------------------------------------------------

@dataclass
class ManagedHub:
    subscription_id: str
    resource_group: str
    name: str
    spec: HubSpec
    etag: str
    registry: Hub  # the hub's own device registry and jobs
    active_at: float  # when its create ends (the provider's clock seconds)
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
    """The provider and every hub it manages, on one clock. All state is read and written under `lock`."""

    def __init__(self, clock: Clock | None = None, profile: Profile | None = None,
                 faults: str | Iterable[str] | None = (), token: str = REFERENCE_RP_TOKEN):
        self.clock = clock or Clock()
        self.profile = profile or IOTHUB
        self.faults = parse_faults(faults)
        self.token = token  # the bearer token it accepts
        self.delay = 1.0  # seconds (by `clock`) a long-running operation takes
        self.page_size = 2  # hubs per page of the arm16 lists
        # What its hubs' import and export jobs use: the blob transport (None: the network) and the job delay.
        self.blob_transport: httpx.BaseTransport | None = None
        self.job_delay = 1.0
        self.lock = threading.Lock()
        self.hubs: dict[tuple[str, str, str], ManagedHub] = {}
        self.operations: dict[str, Operation] = {}  # by id, oldest first
        self._deletes: list[Operation] = []  # started deletes not yet applied

    @classmethod
    def beside(cls, hub: Hub) -> ResourceProvider:
        """The provider served beside a data-plane hub (app.create_app): the hub's clock, profile and faults, and what
        the hub was given for its provider (Hub.rp_token, rp_delay, rp_page_size, blob_transport, job_delay)."""
        provider = cls(hub.clock, hub.profile, hub.faults, hub.rp_token)
        provider.delay, provider.page_size = hub.rp_delay, hub.rp_page_size
        provider.blob_transport, provider.job_delay = hub.blob_transport, hub.job_delay
        return provider

    def has(self, fault: str) -> bool:
        """Whether the fault is on; a name the fault table does not declare raises LookupError (faults.switch)."""
        return switch(fault) in self.faults

    def now(self) -> float:
        return self.clock.now()

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
            if self.has(RP_DELETE_KEEPS_HUB):
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
        operation = Operation(str(uuid.uuid4()), hub.subscription_id, kind, hub, now, now + self.delay, job_id)
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
        if self.has(RP_OPERATION_NEVER_ENDS):
            return IN_PROGRESS
        if operation.kind == "create" and self.has(RP_SUCCEEDED_BEFORE_HUB_EXISTS):
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
        registry = Hub.create(host_name=f"{name.lower()}.azure-devices.net", profile=self.profile)
        hub = ManagedHub(subscription_id, resource_group, name, spec, new_etag(), registry, active_at,
                         {endpoint: [DEFAULT_GROUP] for endpoint in ENDPOINTS})
        self.apply(hub, spec)
        self.sync_registry(hub)
        return hub

    def apply(self, hub: ManagedHub, spec: HubSpec) -> None:
        """The spec becomes the hub's: its registry's policies and cloud-to-device settings follow."""
        hub.spec = spec
        registry = hub.registry
        registry.policies = {policy.name: Policy(policy.primary_key, policy.rights) for policy in spec.policies}
        registry.max_delivery_count = spec.cloud_to_device["maxDeliveryCount"]

    def sync_registry(self, hub: ManagedHub) -> None:
        """The registry runs jobs on the provider's clock, blob transport and job delay (set here, since the provider's
        may be set after the hub was made)."""
        registry = hub.registry
        registry.clock = self.clock
        registry.blob_transport = self.blob_transport
        registry.job_delay = self.job_delay

    def scratch_registry(self) -> Hub:
        """A registry that is thrown away: it reads a job body for a hub that does not exist (rp_routes)."""
        registry = Hub.create(profile=self.profile)
        registry.clock = self.clock
        return registry

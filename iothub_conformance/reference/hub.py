"""One in-memory IoT hub: its host name, shared access policies, profile, faults, device registry, message queues,
import/export jobs, device twins, scheduled jobs, the simulated devices' direct-method handlers and the resource
provider that manages hubs."""

from __future__ import annotations

import base64
import itertools
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from iothub_conformance.config import ConfigError
from iothub_conformance.http.sas import ConnectionString
from iothub_conformance.rules.profiles import IOTHUB, Profile

from . import errors
from .clock import Clock
from .faults import parse_faults
from .properties import InvalidProperty, message_size, read_properties
from .queues import C2DBudget, DeviceQueue, Enqueued, EventLog

if TYPE_CHECKING:
    import httpx

    from .devices import Device
    from .jobs import Job
    from .scheduled import ScheduledJob
    from .twins import Twin

DEFAULT_HOST = "conformance-hub.azure-devices.net"
OWNER = "iothubowner"

REGISTRY_READ = "RegistryRead"
REGISTRY_WRITE = "RegistryWrite"
SERVICE_CONNECT = "ServiceConnect"
DEVICE_CONNECT = "DeviceConnect"
ALL_PERMISSIONS = frozenset({REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT, DEVICE_CONNECT})

# The policies every new hub has (INVENTORY §5).
DEFAULT_POLICIES: dict[str, frozenset[str]] = {
    OWNER: ALL_PERMISSIONS,
    "service": frozenset({SERVICE_CONNECT}),
    "device": frozenset({DEVICE_CONNECT}),
    "registryRead": frozenset({REGISTRY_READ}),
    "registryReadWrite": frozenset({REGISTRY_READ, REGISTRY_WRITE}),
}


@dataclass(frozen=True)
class Policy:
    key: str
    permissions: frozenset[str]


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Hub:
    supported_api_versions = ("2016-02-03",)
    # Twins and scheduled jobs came with 2016-11-14 (INVENTORY §3); their routes take that version only.
    scheduled_api_versions = ("2016-11-14",)

    def __init__(self, host_name: str = DEFAULT_HOST, policies: dict[str, Policy] | None = None,
                 profile: Profile | None = None, faults: str | Iterable[str] | None = (), max_devices: int = 1000):
        self.host_name = host_name
        self.policies = dict(policies) if policies is not None else default_policies()
        self.profile = profile or IOTHUB
        self.faults = parse_faults(faults)
        self.max_devices = max_devices
        self.devices: dict[str, Device] = {}  # read and written only under `lock`
        self.lock = threading.Lock()
        # Etags come from one hub-wide counter, so a recreated device never gets an etag it had before.
        self._etags = itertools.count(secrets.randbelow(10**9) + 1)
        # Messaging (INVENTORY §6, §8). Every messaging time comes from `clock`, so tests can move it forward.
        self.clock = Clock()
        self.max_delivery_count = 10
        self.queue_depth = 50
        self.lock_seconds = 60
        self.ttl_seconds = 3600
        self.d2c_max_bytes = 256 * 1024 - 1  # send page: the whole message has to be less than 256 KB
        self.queues: dict[str, DeviceQueue] = {}  # read and written only under `lock`
        self.c2d_budget = C2DBudget()  # the bytes all those queues may hold together (queues.C2D_BUDGET_BYTES)
        self.events = EventLog()  # the newest accepted device-to-cloud messages (queues.EVENTS_KEPT, _BYTES)
        # Import/export jobs (INVENTORY §2a). A job starts `job_delay` seconds (by `clock`) after its creation; the
        # handlers run due jobs when a job request arrives, so no job needs a thread of its own.
        self.jobs: dict[str, Job] = {}  # by jobId, oldest first; read and written only under `lock`
        self.job_delay = 1.0
        self.blob_transport: httpx.BaseTransport | None = None  # for the jobs' blob requests; None: the network
        # Twins (INVENTORY §3): made on first use, dropped by `renew`. Read and written only under `lock`.
        self.twins: dict[str, Twin] = {}
        # Scheduled jobs (jobs v2): they run as import/export jobs do, when due and a twin or job request arrives.
        self.scheduled_jobs: dict[str, ScheduledJob] = {}  # by jobId, oldest first; read and written only under `lock`
        # The simulated devices: deviceId → handler(methodName, payload) → (status, payload). No handler: not online.
        self.method_handlers: dict[str, Callable[[str, object], tuple[int, object]]] = {}
        # The resource provider (ARM, INVENTORY §2c): the bearer token it accepts, how long its long-running
        # operations take (by `clock`), its hub-list page size, and its managed hubs. Imported here: rp.py builds
        # each managed hub's registry from this module.
        from .rp import REFERENCE_RP_TOKEN, ResourceProvider

        self.rp_token = REFERENCE_RP_TOKEN
        self.rp_delay = 1.0
        self.rp_page_size = 2
        self.rp = ResourceProvider(self)

    @classmethod
    def create(cls, host_name: str | None = None, profile: Profile | None = None,
               faults: str | Iterable[str] | None = (), owner_key: str | None = None) -> Hub:
        policies = default_policies()
        if owner_key is not None:
            policies[OWNER] = Policy(owner_key, DEFAULT_POLICIES[OWNER])
        return cls(host_name or DEFAULT_HOST, policies, profile, faults)

    @classmethod
    def from_connection_string(cls, cs: ConnectionString, profile: Profile | None = None,
                               faults: str | Iterable[str] | None = ()) -> Hub:
        """A hub that accepts the given policy connection string; its policy gets every permission."""
        if not cs.key_name:
            raise ConfigError("the reference hub needs a policy connection string (SharedAccessKeyName=…)")
        policies = default_policies()
        policies[cs.key_name] = Policy(cs.key, ALL_PERMISSIONS)
        return cls(cs.host_name, policies, profile, faults)

    def connection_string(self, policy: str = OWNER) -> str:
        if policy not in self.policies:
            raise ConfigError(f"unknown policy {policy!r} (known: {', '.join(sorted(self.policies))})")
        return str(ConnectionString(self.host_name, self.policies[policy].key, policy))

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def next_etag(self) -> str:
        """A fresh opaque etag in the service's style (base64 of a decimal number). Call under `lock`."""
        return base64.b64encode(str(next(self._etags)).encode()).decode()

    def renew(self, device_id: str) -> None:
        """A device just created or deleted starts over: no queued messages and an empty twin. Call under `lock`."""
        queue = self.queues.pop(device_id, None)
        if queue is not None:
            queue.clear()
        self.twins.pop(device_id, None)

    def device_queue(self, device_id: str) -> DeviceQueue:
        """The device's cloud-to-device queue, brought up to date at clock.now(). Call under `lock`."""
        queue = self.queues.get(device_id)
        if queue is None:
            queue = self.queues[device_id] = DeviceQueue(self.c2d_budget)
        counts = self.has("lock-expiry-counts-delivery") or bool(self.profile.value("lock_expiry_counts_delivery"))
        queue.refresh(self.clock.now(), self.delivery_limit(), counts)
        return queue

    def queued(self, device_id: str) -> int:
        """How many messages wait for the device, locked ones included. Call under `lock`."""
        return len(self.device_queue(device_id))

    def delivery_limit(self) -> int | None:
        return None if self.has("no-max-delivery-count") else self.max_delivery_count

    def enqueue(self, device_id: str, body: bytes, properties: Mapping[str, str]) -> Enqueued:
        """Put a cloud-to-device message in the device's queue; `properties` are keyed by header name."""
        try:
            chosen, problem = read_properties(properties.items()), None
        except InvalidProperty as exc:
            chosen, problem = {}, str(exc)
        limit = self.profile.value("c2d_max_bytes")
        with self.lock:
            if device_id not in self.devices:
                return Enqueued(404, errors.DEVICE_NOT_FOUND, f"Device {device_id[:140]!r} not found")
            if problem:
                return Enqueued(400, errors.ARGUMENT_INVALID, problem)
            size = message_size(body, chosen)
            if size > limit and not self.has("c2d-no-size-limit"):
                return Enqueued(413, errors.MESSAGE_TOO_LARGE, f"the message is {size} bytes; at most {limit} are allowed")
            queue = self.device_queue(device_id)
            if len(queue) >= self.queue_depth and not self.has("unbounded-device-queue"):
                return Enqueued(403, errors.QUEUE_DEPTH_EXCEEDED,
                                f"the queue of device {device_id!r} already holds {len(queue)} messages")
            if not self.c2d_budget.fits(len(body) + sum(len(k) + len(v) for k, v in chosen.items())):
                return Enqueued(403, errors.QUOTA_EXCEEDED,
                                f"the hub's device queues already hold {self.c2d_budget.used} bytes, "
                                f"at most {self.c2d_budget.limit} are kept")
            message = queue.add(bytes(body), chosen, self.clock.now(), self.ttl_seconds)
        return Enqueued(200, None, f"enqueued as sequence number {message.sequence_number}")


def default_policies() -> dict[str, Policy]:
    return {name: Policy(new_key(), permissions) for name, permissions in DEFAULT_POLICIES.items()}

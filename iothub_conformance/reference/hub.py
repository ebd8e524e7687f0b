"""One in-memory IoT hub (the data plane): its host name, shared access policies, profile, faults, device registry,
message queues, import/export jobs, device twins, scheduled jobs and the simulated devices' direct-method handlers.

The resource provider (resource_provider.py) makes and holds the hubs it manages; this module knows nothing of it. The
state modules (identities, import_export_jobs, twins, scheduled_jobs_state) do not import this one: each states the
little of a hub it needs as a Protocol, so that the imports run one way only."""

from __future__ import annotations

import base64
import itertools
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from iothub_conformance.config import ConfigError
from iothub_conformance.http.sas import ConnectionString
from iothub_conformance.rules.profiles import IOTHUB, Profile

from .clock import Clock
from .configurations import RUN_INTERVAL
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, MESSAGE_TOO_LARGE, QUEUE_DEPTH_EXCEEDED, QUOTA_EXCEEDED
from .faults import parse_faults, switch
from .feedback import Feedback
from .policies import ALL_PERMISSIONS, DEFAULT_POLICIES, OWNER, REFERENCE_RP_TOKEN, Policy, default_policies
from .properties import InvalidProperty, message_size, read_properties
from .queues import C2DBudget, DeviceQueue, Enqueued, EventLog

if TYPE_CHECKING:
    import httpx

    from .configurations import Configuration
    from .identities import Device
    from .import_export_jobs import Job
    from .modules import Module
    from .scheduled_jobs_state import ScheduledJob
    from .twins import Twin
    from .uploads import Upload

DEFAULT_HOST = "conformance-hub.azure-devices.net"

LOCK_EXPIRY_COUNTS_DELIVERY = switch("lock-expiry-counts-delivery")
NO_MAX_DELIVERY_COUNT = switch("no-max-delivery-count")
C2D_NO_SIZE_LIMIT = switch("c2d-no-size-limit")
UNBOUNDED_DEVICE_QUEUE = switch("unbounded-device-queue")


class Hub:
    supported_api_versions = ("2016-02-03",)
    # Twins and scheduled jobs came with 2016-11-14 (INVENTORY §3); their routes take that version only.
    scheduled_api_versions = ("2016-11-14",)
    # The version every maintained service SDK sends (docs/sources/SDKS.md); a route that serves it names it.
    current_api_versions = ("2021-04-12",)

    def __init__(self, host_name: str = DEFAULT_HOST, policies: dict[str, Policy] | None = None,
                 profile: Profile | None = None, faults: str | Iterable[str] | None = (), max_devices: int = 1000):
        self.host_name = host_name
        self.policies = dict(policies) if policies is not None else default_policies()
        self.profile = profile or IOTHUB
        self.faults = parse_faults(faults)
        self.max_devices = max_devices
        self.devices: dict[str, Device] = {}  # read and written only under `lock`
        # Module identities (api-version 2021-04-12): deviceId → moduleId → Module, read and written only under `lock`.
        self.modules: dict[str, dict[str, Module]] = {}
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
        self.feedback = Feedback()  # cloud-to-device feedback at 2021-04-12 (feedback.py), only under `lock`
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
        # api-version 2021-04-12 (methods.py, twin_documents.py): the simulated modules' handlers, by (deviceId,
        # moduleId); how long (simulated seconds) a device or module takes to answer, by (deviceId, moduleId or None);
        # module twins by (deviceId, moduleId). Read and written only under `lock`.
        self.module_method_handlers: dict[tuple[str, str], Callable[[str, object], tuple[int, object]]] = {}
        self.method_latency: dict[tuple[str, str | None], float] = {}
        self.module_twins: dict[tuple[str, str], Twin] = {}
        # Configurations (automatic device management, api-version 2021-04-12; configurations.py): by id, oldest
        # first. Read and written only under `lock`.
        self.configurations: dict[str, Configuration] = {}
        # Seconds of `clock` between two runs of a configuration: the page's five minutes unless `serve` was told
        # otherwise (a served hub runs on the wall clock, which no suite can move).
        self.configuration_interval = RUN_INTERVAL
        # What the resource provider served beside this hub starts with (ResourceProvider.beside, in create_app): the
        # bearer token it accepts, how long its long-running operations take (by `clock`) and its hub-list page size.
        self.rp_token = REFERENCE_RP_TOKEN
        self.rp_delay = 1.0
        self.rp_page_size = 2
        # File upload (api-version 2021-04-12, file_upload.py): the open uploads by correlationId, the file-upload
        # notifications the hub produced for the service side (AMQP only on the real service: kept here, newest
        # last, at most file_upload.NOTIFICATIONS_KEPT), and the container SAS URL of real storage to hand out (None:
        # the in-memory storage behind blob_transport). Read and written only under `lock`.
        self.file_uploads: dict[str, Upload] = {}
        self.file_upload_notifications: list[dict[str, object]] = []
        self.file_upload_container: str | None = None

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
        """Whether the fault is on; a name the fault table does not declare raises LookupError (faults.switch)."""
        return switch(fault) in self.faults

    def next_etag(self) -> str:
        """A fresh opaque etag in the service's style (base64 of a decimal number). Call under `lock`."""
        return base64.b64encode(str(next(self._etags)).encode()).decode()

    def renew(self, device_id: str) -> None:
        """A device just created or deleted starts over: no queued messages and an empty twin. Call under `lock`."""
        self.feedback.device_gone(self, device_id)  # its pending feedback goes too (feedback.py)
        queue = self.queues.pop(device_id, None)
        if queue is not None:
            queue.clear()
        self.twins.pop(device_id, None)
        self.modules.pop(device_id, None)  # a device's modules go with it (and a new device has none)

    def device_queue(self, device_id: str) -> DeviceQueue:
        """The device's cloud-to-device queue, brought up to date at clock.now(). Call under `lock`."""
        queue = self.queues.get(device_id)
        if queue is None:
            queue = self.queues[device_id] = DeviceQueue(self.c2d_budget)
        counts = self.has(LOCK_EXPIRY_COUNTS_DELIVERY) or bool(self.profile.value("lock_expiry_counts_delivery"))
        queue.refresh(self.clock.now(), self.delivery_limit(), counts)
        return queue

    def queued(self, device_id: str) -> int:
        """How many messages wait for the device, locked ones included. Call under `lock`."""
        return len(self.device_queue(device_id))

    def delivery_limit(self) -> int | None:
        return None if self.has(NO_MAX_DELIVERY_COUNT) else self.max_delivery_count

    def enqueue(self, device_id: str, body: bytes, properties: Mapping[str, str]) -> Enqueued:
        """Put a cloud-to-device message in the device's queue; `properties` are keyed by header name."""
        try:
            chosen, problem = read_properties(properties.items()), None
        except InvalidProperty as exc:
            chosen, problem = {}, str(exc)
        limit = self.profile.value("c2d_max_bytes")
        with self.lock:
            if device_id not in self.devices:
                return Enqueued(404, DEVICE_NOT_FOUND, f"Device {device_id[:140]!r} not found")
            if problem:
                return Enqueued(400, ARGUMENT_INVALID, problem)
            size = message_size(body, chosen)
            if size > limit and not self.has(C2D_NO_SIZE_LIMIT):
                return Enqueued(413, MESSAGE_TOO_LARGE, f"the message is {size} bytes; at most {limit} are allowed")
            queue = self.device_queue(device_id)
            if len(queue) >= self.queue_depth and not self.has(UNBOUNDED_DEVICE_QUEUE):
                return Enqueued(403, QUEUE_DEPTH_EXCEEDED,
                                f"the queue of device {device_id!r} already holds {len(queue)} messages")
            if not self.c2d_budget.fits(len(body) + sum(len(k) + len(v) for k, v in chosen.items())):
                return Enqueued(403, QUOTA_EXCEEDED,
                                f"the hub's device queues already hold {self.c2d_budget.used} bytes, "
                                f"at most {self.c2d_budget.limit} are kept")
            message = queue.add(bytes(body), chosen, self.clock.now(), self.ttl_seconds)
        return Enqueued(200, None, f"enqueued as sequence number {message.sequence_number}")


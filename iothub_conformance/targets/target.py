"""Target: where requests go, how they are signed, and the one httpx.Client every suite uses.

Tokens are always signed for the connection string's HostName; requests go to the target URL (which may be a proxy,
a port-forward or http://127.0.0.1:8080). Every request has a timeout; 429 is retried with bounded back-off.
"""

from __future__ import annotations

import secrets
import sys
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote

import httpx

from iothub_conformance.config import (
    DEFAULT_ARM_LOCATION,
    DEFAULT_ARM_TIMEOUT,
    DEFAULT_JOB_TIMEOUT,
    DEFAULT_MAX_DELIVERY_COUNT,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_PREFIX,
    ConfigError,
    Settings,
)
from iothub_conformance.evidence.transcript import Transcripts
from iothub_conformance.http import sas
from iothub_conformance.http.transport import InProcessTransport, Limits, RetryTransport, http_transport
from iothub_conformance.rules.profiles import Profile, get_profile

SUPPORTED_API_VERSIONS = ("2016-02-03",)
EMBEDDED_URL = "https://conformance-hub.azure-devices.net"
# The resource provider (ARM). The embedded reference serves it in-process at this URL, with its own static token.
EMBEDDED_ARM_URL = "https://management.conformance.local"
EMBEDDED_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
EMBEDDED_RESOURCE_GROUP = "conformance"


@dataclass(frozen=True)
class Arm:
    """Where the resource provider is and how to reach it (rp__iot-hub-resource-provider-rest…md, bk_common)."""

    url: str
    token: str
    subscription: str
    resource_group: str
    location: str = DEFAULT_ARM_LOCATION
    timeout: float = DEFAULT_ARM_TIMEOUT

    def __repr__(self) -> str:  # the token is a secret: never in a repr, a log or a report
        return f"Arm(url={self.url!r}, subscription={self.subscription!r}, resource_group={self.resource_group!r})"


class BearerAuth(httpx.Auth):
    """Adds the AAD bearer token unless the request already carries an Authorization header (tests of bad tokens)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class SafetyError(RuntimeError):
    """A request would change a resource this run did not create."""


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    request_id: str | None
    etag: str | None
    generated: bool = False  # a schemathesis case (cases.send), not one of the suite's own requests


@dataclass
class Journal:
    """Every exchange with the target, in order: checks that need history (uniqueness, ETag stability) read it."""

    exchanges: list[Exchange] = field(default_factory=list)
    request_ids: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    transcripts: Transcripts = field(default_factory=Transcripts)  # the running test's last exchanges, as evidence

    def record(self, response: httpx.Response) -> None:
        self.transcripts.record(response)
        request = response.request
        rid = response.headers.get("x-ms-request-id")
        with self.lock:
            self.exchanges.append(
                Exchange(request.method, request.url.path, response.status_code, rid, response.headers.get("ETag"),
                         bool(request.extensions.get("iothub_generated")))
            )
            if rid:
                self.request_ids[rid] = self.request_ids.get(rid, 0) + 1

    def times_seen(self, request_id: str) -> int:
        with self.lock:
            return self.request_ids.get(request_id, 0)

    def history(self, path: str) -> list[Exchange]:
        with self.lock:
            return [e for e in self.exchanges if e.path == path]


class SasAuth(httpx.Auth):
    """Adds a fresh SAS token unless the request already carries an Authorization header (tests of bad tokens)."""

    def __init__(self, connection: sas.ConnectionString, ttl: int = 3600) -> None:
        self.connection = connection
        self.ttl = ttl

    def auth_flow(self, request: httpx.Request):
        if "Authorization" not in request.headers:
            request.headers["Authorization"] = self.token()
        yield request

    def token(self, resource: str | None = None, **kwargs) -> str:
        c = self.connection
        resource = resource or c.host_name
        if c.device_id and not c.key_name:
            resource = f"{c.host_name}/devices/{c.device_id}"
        return sas.build_token(resource, c.key, c.key_name, ttl=self.ttl, **kwargs)


@dataclass
class Target:
    base_url: str
    connection: sas.ConnectionString
    api_version: str
    profile: Profile
    run_id: str
    prefix: str = DEFAULT_PREFIX
    limits: Limits = field(default_factory=Limits)
    app: object | None = None  # the embedded reference's ASGI app, when there is no external target
    c2d_feeder: str | None = None
    max_delivery_count: int = DEFAULT_MAX_DELIVERY_COUNT
    blob_container: str | None = None
    blob_transport: httpx.BaseTransport | None = None  # the embedded reference's own blob storage, when it is used
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    created_jobs: set[str] = field(default_factory=set)  # ids of the jobs this run started
    arm: Arm | None = None  # None: no resource provider to test
    worker: str | None = None  # the pytest-xdist worker (gw0, gw1, …) this process is, if any
    ca_bundle: str | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    journal: Journal = field(default_factory=Journal)
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def timeout(self) -> float:
        return self.limits.request_timeout

    @property
    def embedded(self) -> bool:
        return self.app is not None

    @property
    def embedded_arm(self) -> bool:
        """The resource provider is the embedded reference's, served in-process."""
        return self.embedded and self.arm is not None and self.arm.url == EMBEDDED_ARM_URL

    @property
    def hub(self):
        """The embedded reference hub (its clock, its in-process feed), or None for an external target."""
        return self.app.state.hub if self.app is not None else None

    @property
    def name_prefix(self) -> str:
        """Every resource this run creates starts with this (DESIGN: Safety on a real hub). Under `run -n N` each
        worker adds its own name, so two workers never make the same name."""
        return f"{self.prefix}{self.run_id}-{self.worker + '-' if self.worker else ''}"

    def describe(self) -> str:
        where = (f"embedded reference (in-process, hub {self.connection.host_name})" if self.embedded
                 else f"{self.base_url} (hub {self.connection.host_name})")
        return (f"target: {where}; api-version {self.api_version}; profile {self.profile.name}; "
                f"run {self.run_id}")

    def client(self, *, guarded: bool = True) -> httpx.Client:
        """A client that signs, times out, retries 429, records every exchange and, when guarded, refuses to change
        a device whose name lacks this run's prefix."""
        inner = InProcessTransport(self.app) if self.embedded else http_transport(self.limits, self.ca_bundle)
        hooks = {"request": [self._guard] if guarded else [], "response": [self.journal.record, self._note_job]}
        client = httpx.Client(
            base_url=self.base_url,
            auth=SasAuth(self.connection),
            timeout=self.timeout,
            transport=RetryTransport(inner, self.limits),
            event_hooks=hooks,
        )
        self._clients.append(client)
        return client

    def token(self, resource: str | None = None, **kwargs) -> str:
        return SasAuth(self.connection).token(resource, **kwargs)

    def arm_client(self, *, guarded: bool = True) -> httpx.Client:
        """A client for the resource provider: bearer token, timeout, 429 retries, the journal and, when guarded, a
        refusal to change (or read the keys of) a hub whose name lacks this run's prefix."""
        if self.arm is None:
            raise ConfigError("no resource provider configured (--arm-url, --arm-token)")
        inner = InProcessTransport(self.app) if self.embedded_arm else \
            http_transport(self.limits, self.ca_bundle)
        client = httpx.Client(
            base_url=self.arm.url,
            auth=BearerAuth(self.arm.token),
            timeout=self.timeout,
            transport=RetryTransport(inner, self.limits),
            event_hooks={"request": [self._arm_guard] if guarded else [], "response": [self.journal.record]},
        )
        self._clients.append(client)
        return client

    def _arm_guard(self, request: httpx.Request) -> None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        segments = [unquote(s) for s in request.url.path.split("/")]
        lowered = [s.lower() for s in segments]
        if lowered[-1:] == ["checknameavailability"]:
            return  # a question about a name, not a change
        if "iothubs" in lowered:
            at = lowered.index("iothubs")
            name = segments[at + 1] if len(segments) > at + 1 else ""
            if not name.lower().startswith(self.name_prefix.lower()):
                raise SafetyError(f"refusing {request.method} on IoT hub {name!r}: not created by this run")
            return
        raise SafetyError(f"refusing {request.method} {request.url.path}: not a hub this run created")

    def _note_job(self, response: httpx.Response) -> None:
        """Remember the jobs this run starts: only those may be cancelled."""
        request = response.request
        if response.status_code == 200 and request.url.path in ("/jobs/create", "/importdevices"):
            response.read()
            try:
                job_id = response.json().get("jobId")
            except (ValueError, AttributeError):
                return
            if isinstance(job_id, str):
                self.created_jobs.add(job_id)

    def _guard(self, request: httpx.Request) -> None:
        segments = request.url.path.split("/")
        if request.method == "DELETE" and segments[1:2] == ["jobs"] and len(segments) == 3:
            job_id = unquote(segments[2])
            if job_id not in self.created_jobs:
                raise SafetyError(f"refusing to cancel job {job_id!r}: not started by this run")
            return
        if request.method in ("PUT", "POST") and segments[1:3] == ["jobs", "v2"] and len(segments) >= 4:
            # Scheduled jobs are named by the client: this run's carry its prefix.
            job_id = unquote(segments[3])
            if job_id != "query" and not job_id.startswith(self.name_prefix):
                raise SafetyError(f"refusing {request.method} on job {job_id!r}: not this run's")
            return
        # A receive is a GET that changes state: it locks the next cloud-to-device message.
        changes = request.method not in ("GET", "HEAD", "OPTIONS") or segments[3:4] == ["messages"]
        if not changes:
            return
        if len(segments) >= 3 and segments[1] in ("devices", "twins") and segments[2]:
            device_id = unquote(segments[2])
            if not device_id.startswith(self.name_prefix):
                raise SafetyError(f"refusing {request.method} on device {device_id!r}: not created by this run")

    def probe(self) -> None:
        """The preflight: fail early, in one line, when the target cannot be reached, refuses the credentials or
        answers nothing sane (preflight.py)."""
        from iothub_conformance.targets.preflight import preflight

        preflight(self)

    def close(self) -> None:
        for client in self._clients:
            client.close()
            client._transport.close()
        self._clients.clear()


def new_run_id() -> str:
    return secrets.token_hex(4)


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False
    except ValueError:  # imported already, without a spec (made at run time)
        return module in sys.modules


def _check_feeder(name: str | None, embedded: bool) -> None:
    from iothub_conformance.surfaces.feeders import CHOICES

    if name is None:
        return
    if name not in CHOICES:
        raise ConfigError(f"unknown C2D feeder {name!r} (choose from {', '.join(CHOICES)})")
    if name == "in-process" and not embedded:
        raise ConfigError("--c2d-feeder in-process works with the embedded reference only")
    if name == "amqp" and not _installed("azure.iot.hub"):
        raise ConfigError("--c2d-feeder amqp needs the azure-iot-hub package (pip install 'iothub-conformance[amqp]')")


def resolve(settings: Settings, run_id: str | None = None) -> Target:
    """Turn settings into a Target, or raise ConfigError with one clear line."""
    profile = get_profile(settings.profile)
    run_id = run_id or new_run_id()
    _check_feeder(settings.c2d_feeder, embedded=not settings.target_url)
    if settings.blob_container:
        from iothub_conformance.http.blobs import BlobError, Container

        try:
            Container(settings.blob_container).close()
        except BlobError as exc:
            raise ConfigError(f"--blob-container: {exc}") from None
    if settings.api_version not in SUPPORTED_API_VERSIONS:
        raise ConfigError(f"api-version {settings.api_version!r} is not covered by this suite "
                          f"(covered: {', '.join(SUPPORTED_API_VERSIONS)})")
    limits = Limits(settings.request_timeout, settings.retry_wait, settings.max_body,
                    silent_limit=settings.silent_limit or None)
    common = {"limits": limits, "c2d_feeder": settings.c2d_feeder, "max_delivery_count": settings.max_delivery_count,
              "job_timeout": settings.job_timeout, "ca_bundle": settings.ca_bundle,
              "max_examples": settings.max_examples}
    if settings.target_url:
        if settings.faults:
            raise ConfigError("fault switches apply to the embedded reference only; start "
                              "`iothub-conformance serve --fault …` for a served one")
        if not settings.connection_string:
            raise ConfigError("--target needs --connection-string (or IOTHUB_CONNECTION_STRING) to sign requests")
        connection = sas.parse_connection_string(settings.connection_string)
        target = Target(settings.target_url.rstrip("/"), connection, settings.api_version, profile, run_id,
                        settings.prefix, blob_container=settings.blob_container, arm=_arm(settings, None), **common)
        if settings.c2d_feeder == "amqp":
            from iothub_conformance.surfaces.feeders import amqp_host_problem

            problem = amqp_host_problem(target)
            if problem:
                raise ConfigError(f"--c2d-feeder amqp: {problem}")
        return target
    from iothub_conformance.reference import Hub, create_app, parse_faults

    faults = parse_faults(settings.faults or "")
    if settings.connection_string:
        connection = sas.parse_connection_string(settings.connection_string)
        hub = Hub.from_connection_string(connection, profile=profile, faults=faults)
        base_url = f"https://{connection.host_name}"
    else:
        hub = Hub.create(profile=profile, faults=faults)
        connection = sas.parse_connection_string(hub.connection_string())
        base_url = EMBEDDED_URL
    hub.max_delivery_count = settings.max_delivery_count
    blob_container, blob_transport = settings.blob_container, None
    if not blob_container:
        # No storage given: the reference keeps its blobs in memory, so an out-of-the-box run covers jobs too.
        from iothub_conformance.reference.storage import MemoryStorage

        storage = MemoryStorage()
        blob_transport = hub.blob_transport = storage.transport()
        blob_container = storage.container_uri(f"{settings.prefix}jobs")
    return Target(base_url, connection, settings.api_version, profile, run_id, settings.prefix, app=create_app(hub),
                  blob_container=blob_container, blob_transport=blob_transport, arm=_arm(settings, hub), **common)


def _arm(settings: Settings, hub) -> Arm | None:
    """The resource provider to test: the one the options name, else the embedded reference's (hub), else none."""
    if not settings.arm_url:
        if settings.arm_token or settings.arm_subscription or settings.arm_resource_group:
            raise ConfigError("--arm-token, --arm-subscription and --arm-resource-group need --arm-url")
        if hub is None:
            return None
        return Arm(EMBEDDED_ARM_URL, hub.arm_token, EMBEDDED_SUBSCRIPTION, EMBEDDED_RESOURCE_GROUP,
                   settings.arm_location, settings.arm_timeout)
    missing = [flag for flag, value in (("--arm-token", settings.arm_token),
                                        ("--arm-subscription", settings.arm_subscription),
                                        ("--arm-resource-group", settings.arm_resource_group)) if not value]
    if missing:
        raise ConfigError(f"--arm-url needs {', '.join(missing)} (or IOTHUB_ARM_TOKEN, IOTHUB_ARM_SUBSCRIPTION, "
                          "IOTHUB_ARM_RESOURCE_GROUP)")
    if settings.arm_token.lower().startswith("bearer "):
        raise ConfigError("--arm-token is the token itself, without the word Bearer")
    return Arm(settings.arm_url.rstrip("/"), settings.arm_token, settings.arm_subscription,
               settings.arm_resource_group, settings.arm_location, settings.arm_timeout)

"""Target: where requests go, how they are signed, and the one httpx.Client every suite uses.

Tokens are always signed for the connection string's HostName; requests go to the target URL (which may be a proxy,
a port-forward or http://127.0.0.1:8080). Every request has a timeout; 429 is retried with bounded back-off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from iothub_conformance.config import (
    DEFAULT_JOB_TIMEOUT,
    DEFAULT_MAX_DELIVERY_COUNT,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_PREFIX,
    DEFAULT_RP_LOCATION,
    DEFAULT_RP_TIMEOUT,
    ConfigError,
    Settings,
)
from iothub_conformance.evidence.journal import Journal
from iothub_conformance.http import sas
from iothub_conformance.http.auth import BearerAuth, SasAuth
from iothub_conformance.http.client import Client
from iothub_conformance.http.transport import InProcessTransport, Limits, RetryTransport, http_transport
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.targets.controls import Controls

EMBEDDED_URL = "https://conformance-hub.azure-devices.net"
# The resource provider (ARM). The embedded reference serves it in-process at this URL, with its own static token.
EMBEDDED_RP_URL = "https://management.conformance.local"
EMBEDDED_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
EMBEDDED_RESOURCE_GROUP = "conformance"


@dataclass(frozen=True)
class RpEndpoint:
    """Where the resource provider is and how to reach it (rp__iot-hub-resource-provider-rest…md, bk_common)."""

    url: str
    token: str
    subscription: str
    resource_group: str
    location: str = DEFAULT_RP_LOCATION
    timeout: float = DEFAULT_RP_TIMEOUT

    def __repr__(self) -> str:  # the token is a secret: never in a repr, a log or a report
        return f"RpEndpoint(url={self.url!r}, subscription={self.subscription!r}, resource_group={self.resource_group!r})"


class SafetyError(RuntimeError):
    """A request would change a resource this run did not create."""


@dataclass
class Target:
    base_url: str
    connection: sas.ConnectionString
    api_version: str  # the run's first api-version; a suite module's own is its `api_version` marker (plugin.py)
    profile: Profile
    run_id: str
    prefix: str = DEFAULT_PREFIX
    limits: Limits = field(default_factory=Limits)
    app: object | None = None  # the embedded reference's ASGI app, when there is no external target
    controls: Controls | None = None  # what a test may ask beyond the REST API (targets/controls.py); None: nothing
    c2d_feeder: str | None = None
    max_delivery_count: int = DEFAULT_MAX_DELIVERY_COUNT
    blob_container: str | None = None
    blob_transport: httpx.BaseTransport | None = None  # the embedded reference's own blob storage, when it is used
    job_timeout: float = DEFAULT_JOB_TIMEOUT
    created_jobs: set[str] = field(default_factory=set)  # ids of the jobs this run started
    rp: RpEndpoint | None = None  # None: no resource provider to test
    worker: str | None = None  # the pytest-xdist worker (gw0, gw1, …) this process is, if any
    ca_bundle: str | None = None
    max_examples: int = DEFAULT_MAX_EXAMPLES
    journal: Journal = field(default_factory=Journal)
    api_versions: tuple[str, ...] = ()  # every api-version the run tests; () means (api_version,)
    _clients: list[httpx.Client] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api_versions = tuple(self.api_versions) or (self.api_version,)

    @property
    def timeout(self) -> float:
        return self.limits.request_timeout

    @property
    def embedded(self) -> bool:
        return self.app is not None

    @property
    def embedded_rp(self) -> bool:
        """The resource provider is the embedded reference's, served in-process."""
        return self.embedded and self.rp is not None and self.rp.url == EMBEDDED_RP_URL

    @property
    def name_prefix(self) -> str:
        """Every resource this run creates starts with this (DESIGN: Safety on a real hub). Under `run -n N` each
        worker adds its own name, so two workers never make the same name."""
        return f"{self.prefix}{self.run_id}-{self.worker + '-' if self.worker else ''}"

    def describe(self) -> str:
        where = (f"embedded reference (in-process, hub {self.connection.host_name})" if self.embedded
                 else f"{self.base_url} (hub {self.connection.host_name})")
        return (f"target: {where}; api-version {', '.join(self.api_versions)}; profile {self.profile.name}; "
                f"run {self.run_id}")

    def client(self, *, guarded: bool = True) -> httpx.Client:
        """A client that signs, times out, retries 429, records every exchange and, when guarded, refuses to change
        a device whose name lacks this run's prefix."""
        inner = InProcessTransport(self.app) if self.embedded else http_transport(self.limits, self.ca_bundle)
        hooks: dict[str, list[Callable[..., Any]]] = {"request": [self._guard] if guarded else [],
                                                      "response": [self.journal.record, self._note_job]}
        client = Client(
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

    def rp_client(self, *, guarded: bool = True) -> httpx.Client:
        """A client for the resource provider: bearer token, timeout, 429 retries, the journal and, when guarded, a
        refusal to change (or read the keys of) a hub whose name lacks this run's prefix."""
        if self.rp is None:
            raise ConfigError("no resource provider configured (--rp-url, --rp-token)")
        inner = InProcessTransport(self.app) if self.embedded_rp else \
            http_transport(self.limits, self.ca_bundle)
        client = Client(
            base_url=self.rp.url,
            auth=BearerAuth(self.rp.token),
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
        if request.method == "POST" and request.url.path.rstrip("/") == "/devices/query":
            return  # a read: surfaces/twins.Query scopes every query to the run's devices
        if request.method == "POST" and request.url.path.rstrip("/") == "/devices":
            self._guard_bulk(request)
            return
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
        if segments[1:2] == ["configurations"] and len(segments) == 3 and request.method in ("PUT", "DELETE"):
            # Configurations are named by the client too (testQueries is a POST and changes nothing).
            configuration_id = unquote(segments[2])
            if not configuration_id.startswith(self.name_prefix):
                raise SafetyError(f"refusing {request.method} on configuration {configuration_id!r}: not this run's")
            return
        # A receive is a GET that changes state: it locks the next cloud-to-device message.
        changes = request.method not in ("GET", "HEAD", "OPTIONS") or segments[3:4] == ["messages"]
        if not changes:
            return
        if len(segments) >= 3 and segments[1] in ("devices", "twins", "digitaltwins") and segments[2]:
            device_id = unquote(segments[2])
            if not device_id.startswith(self.name_prefix):
                raise SafetyError(f"refusing {request.method} on device {device_id!r}: not created by this run")

    def _guard_bulk(self, request: httpx.Request) -> None:
        """A bulk registry call names its devices in the body: every one must be this run's. A body that is not JSON
        names none (the target can only refuse it)."""
        try:
            items = json.loads(request.content)
        except (ValueError, httpx.RequestNotRead):
            return
        for item in items if isinstance(items, list) else [items]:
            ids = [v for k, v in item.items() if k.lower() == "id"] if isinstance(item, dict) else [None]
            if not ids or not all(isinstance(i, str) and i.startswith(self.name_prefix) for i in ids):
                raise SafetyError(f"refusing a bulk registry call on {str(ids[:1] or item)[:80]}: not this run's device")

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


def rp_endpoint(settings: Settings, token: str | None) -> RpEndpoint | None:
    """The resource provider to test: the one the options name, else the embedded reference's (its `token`), else
    none."""
    if not settings.rp_url:
        if settings.rp_token or settings.rp_subscription or settings.rp_resource_group:
            raise ConfigError("--rp-token, --rp-subscription and --rp-resource-group need --rp-url")
        if token is None:
            return None
        return RpEndpoint(EMBEDDED_RP_URL, token, EMBEDDED_SUBSCRIPTION, EMBEDDED_RESOURCE_GROUP,
                   settings.rp_location, settings.rp_timeout)
    missing = [flag for flag, value in (("--rp-token", settings.rp_token),
                                        ("--rp-subscription", settings.rp_subscription),
                                        ("--rp-resource-group", settings.rp_resource_group)) if not value]
    if missing:
        raise ConfigError(f"--rp-url needs {', '.join(missing)} (or IOTHUB_RP_TOKEN, IOTHUB_RP_SUBSCRIPTION, "
                          "IOTHUB_RP_RESOURCE_GROUP)")
    assert settings.rp_token and settings.rp_subscription and settings.rp_resource_group  # checked just above
    if settings.rp_token.lower().startswith("bearer "):
        raise ConfigError("--rp-token is the token itself, without the word Bearer")
    return RpEndpoint(settings.rp_url.rstrip("/"), settings.rp_token, settings.rp_subscription,
               settings.rp_resource_group, settings.rp_location, settings.rp_timeout)


def amqp_host_problem(target: Target) -> str | None:
    """Why the amqp feeder may not be used for `target`, or None. The service SDK connects to the connection
    string's HostName, never to --target: were they different hosts, the run would reach out to one the user did not
    name as the target (a local endpoint's connection string often names a real hub)."""
    if target.embedded:
        return "the amqp feeder cannot feed the embedded reference, which has no AMQP endpoint (use --c2d-feeder " \
               "in-process)"
    host = (target.connection.host_name or "").strip().lower().rstrip(".")
    target_host = (urlsplit(target.base_url).hostname or "").lower().rstrip(".")
    if host != target_host:
        return (f"the amqp feeder connects to the connection string's HostName {host}, not to the target "
                f"{target_host}: refusing to contact a host other than the target (use --c2d-feeder http for a "
                "target that serves POST /messages/deviceBound, or none)")
    return None

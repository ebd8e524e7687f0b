"""The embedded target: the reference IoT hub built in-process, and the controls it offers the suites.

This is the one module of the suite side that imports the reference (an import-linter contract holds it so): the
suites, checks and reports see a Target and its Controls, never the reference's own objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from iothub_conformance.config import Settings
from iothub_conformance.http import sas
from iothub_conformance.reference import Hub, create_app, digital_twins, file_upload, parse_faults, twin_documents
from iothub_conformance.reference.storage import MemoryStorage
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.targets.controls import Enqueued, MethodHandler
from iothub_conformance.targets.target import EMBEDDED_URL, Target, rp_endpoint


class EmbeddedControls:
    """Controls (targets/controls.py) of the embedded reference hub."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def now(self) -> float:
        return self._hub.clock.now()

    def advance(self, seconds: float) -> None:
        self._hub.clock.advance(seconds)

    def connection_string(self, policy: str) -> str:
        return self._hub.connection_string(policy)

    # The handler tables are read under hub.lock while a handler runs: single dict operations here, no lock taken,
    # so a handler may itself call these.
    def answer_methods(self, device_id: str, handler: MethodHandler, module_id: str | None = None) -> None:
        if module_id is None:
            self._hub.method_handlers[device_id] = handler
        else:
            self._hub.module_method_handlers[(device_id, module_id)] = handler

    def stop_answering(self, device_id: str, module_id: str | None = None) -> None:
        if module_id is None:
            self._hub.method_handlers.pop(device_id, None)
        else:
            self._hub.module_method_handlers.pop((device_id, module_id), None)
        self._hub.method_latency.pop((device_id, module_id), None)

    def answering(self) -> list[str]:
        return list(self._hub.method_handlers)

    def delay_methods(self, device_id: str, seconds: float, module_id: str | None = None) -> None:
        # The reference compares the delay with responseTimeoutInSeconds (reference/methods.py): no call waits.
        if seconds > 0:
            self._hub.method_latency[(device_id, module_id)] = float(seconds)
        else:
            self._hub.method_latency.pop((device_id, module_id), None)

    def report_properties(self, device_id: str, reported: Mapping[str, object], module_id: str | None = None) -> None:
        try:
            twin_documents.report(self._hub, device_id, module_id, dict(reported))
        except twin_documents.InvalidTwin as exc:
            raise ValueError(exc.message) from None

    def enqueue(self, device_id: str, body: bytes, properties: Mapping[str, str]) -> Enqueued:
        outcome = self._hub.enqueue(device_id, body, dict(properties))
        return Enqueued(outcome.status, outcome.code, outcome.detail)

    def connect_pnp_device(self, device_id: str, model_id: str) -> None:
        digital_twins.announce(self._hub, device_id, model_id)

    def file_upload_notifications(self, device_id: str) -> list[dict[str, object]]:
        return file_upload.notifications(self._hub, device_id)

    def received_events(self, device_id: str) -> list[dict[str, object]]:
        with self._hub.lock:
            return self._hub.events.received(device_id)


def embedded_target(settings: Settings, profile: Profile, run_id: str, common: dict[str, Any]) -> Target:
    """The embedded reference as the run's target: it accepts the given connection string, or makes its own."""
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
        storage = MemoryStorage()
        blob_transport = hub.blob_transport = storage.transport()
        blob_container = storage.container_uri(f"{settings.prefix}jobs")
    else:
        # Real storage for jobs: file uploads still go to the in-memory storage, every other host to the network.
        blob_transport = hub.blob_transport = MemoryStorage().transport(passthrough=httpx.HTTPTransport())
    return Target(base_url, connection, common["api_versions"][0], profile, run_id, settings.prefix, app=create_app(hub),
                  controls=EmbeddedControls(hub), blob_container=blob_container, blob_transport=blob_transport,
                  rp=rp_endpoint(settings, hub.rp_token), **common)

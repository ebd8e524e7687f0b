"""Feeding cloud-to-device messages to a target.

api-version 2016-02-03 has no REST call that enqueues a cloud-to-device message: the service sends them over AMQP
(OBSERVED §2). So feeding is pluggable:
- in-process: the embedded reference, directly;
- http: `POST /messages/deviceBound` (listed by the 2018-06-30 pages), which a served reference answers, with the
  device named in `IoTHub-To: /devices/<id>/messages/devicebound`;
- amqp: the official service SDK's send (azure-iot-hub, the `amqp` extra), for real hubs.
With none of them, the tests that need a message report skip with the reason; they never pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from iothub_conformance.config import FEEDERS, ConfigError
from iothub_conformance.rules import error_codes
from iothub_conformance.targets.controls import Controls
from iothub_conformance.targets.target import SafetyError, amqp_host_problem


@dataclass(frozen=True)
class Fed:
    """What the target said to one enqueue. `status` is None when the transport has no HTTP status (AMQP)."""

    status: int | None
    code: str | None = None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Feeder:
    name = "feeder"
    reports_status = True  # False: refusals cannot be told apart by HTTP status

    def send(self, device_id: str, body: bytes, properties: Mapping[str, str] | None = None) -> Fed:
        raise NotImplementedError


class InProcessFeeder(Feeder):
    name = "in-process"

    def __init__(self, controls: Controls) -> None:
        self.controls = controls

    def send(self, device_id, body, properties=None):
        outcome = self.controls.enqueue(device_id, body, dict(properties or {}))
        return Fed(outcome.status, outcome.code, outcome.detail)


class HttpFeeder(Feeder):
    name = "http (POST /messages/deviceBound)"

    def __init__(self, client: httpx.Client, api_version: str) -> None:
        self.client = client
        self.api_version = api_version

    def send(self, device_id, body, properties=None):
        headers = {**(properties or {}), "IoTHub-To": f"/devices/{quote(device_id, safe='')}/messages/devicebound"}
        response = self.client.post("/messages/deviceBound", params={"api-version": self.api_version},
                                    content=body, headers=headers)
        code = error_codes.error_code(response.headers.get("iothub-errorcode"), response.content) \
            if response.status_code >= 400 else None
        return Fed(response.status_code, code, response.text[:200] if response.status_code >= 400 else "")


class AmqpFeeder(Feeder):
    """The service SDK's cloud-to-device send. Refusals come back as exceptions, without an HTTP status."""

    name = "amqp (azure-iot-hub)"
    reports_status = False

    def __init__(self, connection_string: str) -> None:
        from azure.iot.hub import IoTHubRegistryManager

        self.manager = IoTHubRegistryManager.from_connection_string(connection_string)

    def send(self, device_id, body, properties=None):
        props = dict(properties or {})
        app = {k[len("IoTHub-app-"):]: v for k, v in props.items() if k.lower().startswith("iothub-app-")}
        system = {_SYSTEM[k.lower()]: v for k, v in props.items() if k.lower() in _SYSTEM}
        try:
            self.manager.send_c2d_message(device_id, body, properties={**app, **system})
        except Exception as exc:  # the SDK raises its own types; the name is the most a test can use
            return Fed(None, type(exc).__name__, str(exc)[:200])
        return Fed(200)


# The service SDK's names for the system properties (azure-iot-hub send_c2d_message); the ack request travels as the
# application property iothub-ack on AMQP. The SDK cannot set a user id.
_SYSTEM = {
    "iothub-messageid": "messageId",
    "iothub-correlationid": "correlationId",
    "iothub-ack": "iothub-ack",
    "content-type": "contentType",
    "content-encoding": "contentEncoding",
}


class Guarded(Feeder):
    """Refuses to enqueue to a device this run did not create (DESIGN: Safety on a real hub)."""

    def __init__(self, inner: Feeder, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix
        self.name = inner.name
        self.reports_status = inner.reports_status

    def send(self, device_id, body, properties=None):
        if not device_id.startswith(self.prefix):
            raise SafetyError(f"refusing to send a cloud-to-device message to {device_id!r}: not created by this run")
        return self.inner.send(device_id, body, properties)


GENERATED_MESSAGES = 3  # so that some generated receives find a message and some find the queue empty


def feed_generated(target, device_id: str) -> None:
    """A few small messages for generated receives and settlements to find, when the run has a feeder."""
    feeder, _ = choose(target, target.c2d_feeder)
    if feeder is None:
        return
    for n in range(GENERATED_MESSAGES):
        feeder.send(device_id, f"generated-{n}".encode(), {"Content-Type": "text/plain"})


def choose(target, wanted: str | None) -> tuple[Feeder | None, str]:
    """The feeder for `target`, or None and the reason there is none."""
    wanted = wanted or "auto"
    if wanted not in FEEDERS:
        raise ConfigError(f"unknown C2D feeder {wanted!r} (choose from {', '.join(FEEDERS)})")
    feeder, reason = _pick(target, wanted)
    return (Guarded(feeder, target.name_prefix) if feeder else None), reason


def _pick(target, wanted: str) -> tuple[Feeder | None, str]:
    if wanted == "none":
        return None, "no cloud-to-device feeder (--c2d-feeder none)"
    if wanted in ("auto", "in-process") and target.controls is not None:
        return InProcessFeeder(target.controls), ""
    if wanted == "in-process":
        return None, "the in-process feeder works with the embedded reference only"
    if wanted == "http":
        return HttpFeeder(target.client(), target.api_version), ""
    elsewhere = amqp_host_problem(target)
    if elsewhere:
        if wanted == "amqp":
            raise ConfigError(elsewhere)
        return None, "no cloud-to-device feeder: " + elsewhere
    try:
        return AmqpFeeder(str(target.connection)), ""
    except ImportError:
        reason = ("no cloud-to-device feeder: the 2016-02-03 REST API cannot enqueue one; install the `amqp` extra "
                  "(azure-iot-hub), or pass --c2d-feeder http for a target that serves POST /messages/deviceBound")
        if wanted == "amqp":
            raise ConfigError("--c2d-feeder amqp needs the azure-iot-hub package (pip install "
                              "'iothub-conformance[amqp]')") from None
        return None, reason

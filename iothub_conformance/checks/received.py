"""A received cloud-to-device message: the headers the receive page documents, and the sender's properties back.

Source: receive-a-cloud-to-device-message.md (Response headers: IoTHub-SequenceNumber, IoTHub-EnqueuedTime in ISO 8601,
IoTHub-ExpiryTime, the properties as set by the sender); INVENTORY.md §7 item 11 (SDKs read iothub-expiry), profile
rule `expiry_headers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from iothub_conformance.rules.failures import Failures
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.rules.requirements import tag
from iothub_conformance.targets import session

from .observed import observe


def iso8601(value: str) -> bool:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # .NET writes 7 fractional digits; Python reads at most 6
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = head + "." + rest[:min(digits, 6)] + rest[digits:]
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def verify(response, profile: Profile, sent: Mapping[str, str] | None = None, body: bytes | None = None) -> None:
    """`sent`: the properties (as header names) and `body` the message was fed with, when the caller knows them."""
    obs = observe(response)
    if not obs.received_message or obs.status != 200:
        return
    failures = Failures()
    where = f"GET {obs.path} → 200"
    sequence = obs.header("iothub-sequencenumber")
    if not sequence or not sequence.isdigit():
        failures.add(tag("MSG-RECV-002", f"{where}: IoTHub-SequenceNumber is {sequence!r}, not a number"))
    enqueued = obs.header("iothub-enqueuedtime")
    if not enqueued or not iso8601(enqueued):
        failures.add(tag("MSG-RECV-002", f"{where}: IoTHub-EnqueuedTime is {enqueued!r}, not ISO 8601"))
    names = profile.value("expiry_headers")
    if not any(obs.header(name) for name in names):
        failures.add(tag("MSG-RECV-002", f"{where}: no expiry header ({' or '.join(names)})"))
    for name, value in (sent or {}).items():
        got = obs.header(name)
        if got is None:
            failures.add(tag("MSG-RECV-002", f"{where}: the sender's {name} did not come back"))
        elif name.lower() == "content-type":
            if got.split(";")[0].strip().lower() != value.split(";")[0].strip().lower():
                failures.add(tag("MSG-RECV-002", f"{where}: Content-Type {got!r}, the sender set {value!r}"))
        elif got != value:
            failures.add(tag("MSG-RECV-002", f"{where}: {name} is {got!r}, the sender set {value!r}"))
    if body is not None and obs.body != body:
        failures.add(tag("MSG-RECV-002", f"{where}: the body differs from the one sent ({len(obs.body)} bytes, "
                                         f"sent {len(body)})"))
    failures.raise_any()


def received_message(ctx, response, case):
    verify(response, session.current().profile)

"""A received cloud-to-device message: the headers the receive page documents, and the sender's properties back.

Source: receive-a-cloud-to-device-message.md (Response headers: IoTHub-SequenceNumber, IoTHub-EnqueuedTime in ISO 8601,
IoTHub-ExpiryTime, the properties as set by the sender); INVENTORY.md §7 item 11 (SDKs read iothub-expiry), profile
rule `expiry_headers`.
"""

from __future__ import annotations

from datetime import datetime

from iothub_conformance.checks.context import Context
from iothub_conformance.rules.failures import RequirementFailure, raise_all

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


def verify(response, context: Context) -> list[RequirementFailure]:
    """`context.sent`: the properties (as header names) and `context.body` the message was fed with, when the caller
    knows them."""
    obs = observe(response)
    if not obs.received_message or obs.status != 200 or not obs.of_2016:
        return []  # MSG-RECV-002 is the 2016 receive page's; a 2021-04-12 receive's headers are C2D-RECV-003's
    where = f"GET {obs.path} → 200"
    problems = []
    sequence = obs.header("iothub-sequencenumber")
    if not sequence or not sequence.isdigit():
        problems.append(f"IoTHub-SequenceNumber is {sequence!r}, not a number")
    enqueued = obs.header("iothub-enqueuedtime")
    if not enqueued or not iso8601(enqueued):
        problems.append(f"IoTHub-EnqueuedTime is {enqueued!r}, not ISO 8601")
    names = context.value("expiry_headers") or ()
    if names and not any(obs.header(name) for name in names):
        problems.append(f"no expiry header ({' or '.join(names)})")
    for name, value in (context.sent or {}).items():
        got = obs.header(name)
        if got is None:
            problems.append(f"the sender's {name} did not come back")
        elif name.lower() == "content-type":
            if got.split(";")[0].strip().lower() != value.split(";")[0].strip().lower():
                problems.append(f"Content-Type {got!r}, the sender set {value!r}")
        elif got != value:
            problems.append(f"{name} is {got!r}, the sender set {value!r}")
    if context.body is not None and obs.body != context.body:
        problems.append(f"the body differs from the one sent ({len(obs.body)} bytes, sent {len(context.body)})")
    return [RequirementFailure("MSG-RECV-002", f"{where}: {problem}") for problem in problems]


def received_message(ctx, response, case):
    raise_all(verify(response, Context.of_run()))

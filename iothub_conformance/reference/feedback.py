"""Cloud-to-device feedback (api-version 2021-04-12): the records the hub makes when a message that asked for them
reaches a final state, batched into feedback messages the service receives, completes or abandons.

Sources: docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md (Message feedback: the ack modes, the
record fields, the content type; the 2026 notes: batches of up to 64 records or 15 seconds, camelCase names, the lock
of 60 s, feedback.maxDeliveryCount 10); docs/sources/INVENTORY-2021-04-12.md §2.11, §9, §10 (C36).

How a batch closes (our reading of "either when the batch reaches to 64 messages, or in 15 seconds from last sent,
whichever comes first"): a batch holds at most 64 records and is sent 15 s (hub clock) after the later of the previous
batch's sending and its own first record. Callers hold hub.lock.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from .faults import switch
from .queues import SUCCESS, C2DBudget, DeviceQueue, Outcome

FEEDBACK_KEPT_FOR_DELETED_DEVICE = switch("feedback-kept-for-deleted-device")

CONTENT_TYPE = "application/vnd.microsoft.iothub.feedback.json"
BATCH_RECORDS = 64
BATCH_SECONDS = 15.0
LOCK_SECONDS = 60  # feedback.lockDurationAsIso8601 default (2026 notes)
TTL_SECONDS = 3600  # feedback.ttlAsIso8601 default: 1 hour
MAX_DELIVERY_COUNT = 10  # feedback.maxDeliveryCount default (2026 notes; the 2018 table says 100, C36)
PENDING_KEPT = 64 * 100  # records not yet batched; older ones are dropped first
BATCHES_KEPT = 100  # feedback messages waiting to be received; past it the oldest expires early
FEEDBACK_BUDGET_BYTES = 16 * 1024 * 1024
# The record fields under each naming (profile rule feedback_record_fields): camelCase (2026 page) or PascalCase (2018).
FIELDS = ("originalMessageId", "enqueuedTimeUtc", "statusCode", "description", "deviceId", "deviceGenerationId")


@dataclass(frozen=True)
class Record:
    device_id: str
    generation_id: str | None
    outcome: Outcome
    at: float


class _Device(Protocol):
    @property
    def generation_id(self) -> str: ...


class _Clock(Protocol):
    def now(self) -> float: ...


class _Profile(Protocol):
    def value(self, name: str) -> object: ...


class _Hub(Protocol):
    # Read-only properties, so that the Hub's own attribute types satisfy them.
    @property
    def host_name(self) -> str: ...

    @property
    def clock(self) -> _Clock: ...

    @property
    def profile(self) -> _Profile: ...

    @property
    def queues(self) -> Mapping[str, DeviceQueue]: ...

    @property
    def devices(self) -> Mapping[str, _Device]: ...

    def device_queue(self, device_id: str) -> DeviceQueue: ...

    def has(self, fault: str) -> bool: ...


def wanted(outcome: Outcome) -> bool:
    """Whether the message's ack mode asks for a record of this outcome: positive → completed, negative → dead
    lettered (expired, too many deliveries, rejected), full → either."""
    if outcome.ack == "full":
        return True
    if outcome.ack == "positive":
        return outcome.status == SUCCESS
    return outcome.ack == "negative" and outcome.status != SUCCESS


class Feedback:
    """One hub's feedback: the records not yet batched and the queue of feedback messages (each a JSON array)."""

    def __init__(self) -> None:
        self.pending: deque[Record] = deque(maxlen=PENDING_KEPT)
        self.last_sent: float | None = None
        self.queue = DeviceQueue(C2DBudget(FEEDBACK_BUDGET_BYTES))

    def collect(self, hub: _Hub, every_ack: bool = False, window: float = BATCH_SECONDS) -> DeviceQueue:
        """Take the new outcomes of every device queue, batch what is due, and return the feedback queue brought up to
        date. `every_ack`: record outcomes whatever the message's ack mode asks (a fault)."""
        now = hub.clock.now()
        for device_id in list(hub.queues):
            queue = hub.device_queue(device_id)  # brings expiries up to date, which may add outcomes
            device = hub.devices.get(device_id)
            while queue.outcomes:
                outcome = queue.outcomes.popleft()
                if every_ack or wanted(outcome):
                    at = outcome.at if outcome.at is not None else now
                    self.pending.append(Record(device_id, device.generation_id if device else None, outcome, at))
        self._batch(hub, now, window)
        self.queue.refresh(now, MAX_DELIVERY_COUNT, False)
        return self.queue

    def _batch(self, hub: _Hub, now: float, window: float) -> None:
        while self.pending:
            opened = max(self.pending[0].at, self.last_sent if self.last_sent is not None else self.pending[0].at)
            full = len(self.pending) >= BATCH_RECORDS
            if not full and now < opened + window:
                return
            records = [self.pending.popleft() for _ in range(min(BATCH_RECORDS, len(self.pending)))]
            sent_at = now if not full else max(record.at for record in records)
            body = json.dumps([record_json(record, hub.profile) for record in records]).encode()
            while len(self.queue) >= BATCHES_KEPT:
                self.queue.remove(self.queue.messages[0])
            properties = {"Content-Type": CONTENT_TYPE, "IoTHub-UserId": hub.host_name.split(".")[0]}
            self.queue.add(body, properties, sent_at, TTL_SECONDS)
            self.last_sent = sent_at

    def clear_device(self, device_id: str) -> None:
        """'When a device is deleted, any pending feedback is deleted as well' (2026 notes, item 7)."""
        self.pending = deque((r for r in self.pending if r.device_id != device_id), maxlen=PENDING_KEPT)

    def device_gone(self, hub: _Hub, device_id: str) -> None:
        """The device was deleted (or created anew, Hub.renew): the records not yet batched go with its queue. Batches
        already sent stay: they are no longer pending. Under the fault feedback-kept-for-deleted-device the queue's
        outcomes are taken first, so they still come."""
        if hub.has(FEEDBACK_KEPT_FOR_DELETED_DEVICE):
            queue = hub.queues.get(device_id)
            device = hub.devices.get(device_id)
            while queue is not None and queue.outcomes:
                outcome = queue.outcomes.popleft()
                if wanted(outcome):
                    at = outcome.at if outcome.at is not None else hub.clock.now()
                    self.pending.append(Record(device_id, device.generation_id if device else None, outcome, at))
            return
        self.clear_device(device_id)


def record_json(record: Record, profile: _Profile) -> dict[str, object]:
    values = (record.outcome.message_id, stamp(record.at), record.outcome.status, record.outcome.status,
              record.device_id, record.generation_id)
    pascal = profile.value("feedback_record_fields") == "PascalCase"
    return {(name[0].upper() + name[1:]) if pascal else name: value for name, value in zip(FIELDS, values, strict=True)}


def stamp(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as the page's example."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(seconds * 1000) % 1000:03d}Z"

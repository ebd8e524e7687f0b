"""A device's cloud-to-device queue (INVENTORY §6, §8): a message is enqueued, locked by a receive (invisible until
the lock expires), and then completed (removed), abandoned (enqueued again) or dead-lettered (never delivered again).

Callers hold hub.lock and bring the queue up to date with `refresh` before anything else.

Memory is bounded: a device's queue holds at most the hub's queue depth (50), every queue of a hub draws its bytes
from one C2DBudget, a dead letter is remembered without its body, and the device-to-cloud EventLog keeps only the
newest messages.
"""

from __future__ import annotations

import base64
import itertools
import uuid
from collections import deque
from dataclasses import dataclass, replace

from .properties import APP_PREFIX

KEPT = 100  # dead letters and issued lock tokens remembered per device; older ones are forgotten
# Device-to-cloud retention: the reference only shows what it accepted (tests read the newest few), so it keeps the
# newest EVENTS_KEPT messages and at most EVENTS_KEPT_BYTES of them, whichever is reached first: 16 MiB is 64
# messages of the full 256 KB, while small messages keep 1,000.
EVENTS_KEPT = 1000
EVENTS_KEPT_BYTES = 16 * 1024 * 1024
# Cloud-to-device bytes a hub holds across all its device queues: 1,000 devices × 50 messages of 64 KB would be 3.2 GB;
# 64 MiB is still 1,000 full-size messages, far more than any run queues at once. Beyond it, IotHubQuotaExceeded.
C2D_BUDGET_BYTES = 64 * 1024 * 1024
# The final states a message can reach, as a feedback record's statusCode names them
# (docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md, Message feedback).
SUCCESS, EXPIRED, DELIVERY_COUNT_EXCEEDED, REJECTED = "Success", "Expired", "DeliveryCountExceeded", "Rejected"
ACK_HEADER = "IoTHub-Ack"


@dataclass(frozen=True)
class Enqueued:
    """The outcome of Hub.enqueue: 200 and no code on success, else the error status and code to answer."""

    status: int
    code: str | None
    detail: str


@dataclass(frozen=True)
class Event:
    """A device-to-cloud message the hub accepted."""

    device_id: str
    body: bytes
    properties: dict[str, str]


class EventLog:
    """The newest device-to-cloud messages a hub accepted, newest last, bounded in count and in bytes."""

    def __init__(self, count: int = EVENTS_KEPT, size: int = EVENTS_KEPT_BYTES):
        self.count, self.size = count, size
        self.bytes = 0
        self._events: deque[Event] = deque()

    def append(self, event: Event) -> None:
        self._events.append(event)
        self.bytes += event_size(event)
        while self._events and (len(self._events) > self.count or self.bytes > self.size):
            self.bytes -= event_size(self._events.popleft())

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self):
        return iter(self._events)

    def __getitem__(self, index: int) -> Event:
        return self._events[index]

    def received(self, device_id: str) -> list[dict[str, object]]:
        """The device's messages still kept, oldest first, as Controls.received_events describes them: the body as
        base64 (and as text when it is UTF-8), application properties by their own names, system ones by header name."""
        found: list[dict[str, object]] = []
        for event in self._events:
            if event.device_id != device_id:
                continue
            try:
                text: str | None = event.body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
            found.append({
                "body": base64.b64encode(event.body).decode("ascii"),
                "text": text,
                "properties": {name[len(APP_PREFIX):]: value for name, value in event.properties.items()
                               if name.startswith(APP_PREFIX)},
                "systemProperties": {name: value for name, value in event.properties.items()
                                     if not name.startswith(APP_PREFIX)},
            })
        return found


def event_size(event: Event) -> int:
    return len(event.body) + sum(len(name) + len(value) for name, value in event.properties.items())


class C2DBudget:
    """The bytes all device queues of one hub may hold; a message's bytes are its body and its properties."""

    def __init__(self, limit: int = C2D_BUDGET_BYTES):
        self.limit = limit
        self.used = 0

    def fits(self, size: int) -> bool:
        return self.used + size <= self.limit


@dataclass(frozen=True)
class Outcome:
    """A message that asked for feedback (its IoTHub-Ack is not none) reached a final state at `at` (None: now)."""

    message_id: str | None
    ack: str
    status: str
    at: float | None


@dataclass
class Message:
    sequence_number: int
    body: bytes
    properties: dict[str, str]  # by header name, as read by properties.read_properties
    enqueued_at: float
    expires_at: float
    delivery_count: int = 0
    lock_token: str | None = None  # the last lock issued; kept after it expires so that only a new receive replaces it
    locked_until: float | None = None  # None: visible

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.properties.items())


class DeviceQueue:
    def __init__(self, budget: C2DBudget | None = None):
        self.budget = budget if budget is not None else C2DBudget()
        self.messages: list[Message] = []  # in sequence-number order
        # What was dead-lettered, newest last, with no body and only its message id: it is never delivered again.
        self.dead_letters: deque[Message] = deque(maxlen=KEPT)
        self.issued: dict[str, None] = {}  # recent lock tokens, oldest first
        # Final states of the messages that asked for feedback, oldest first, until feedback.collect takes them.
        self.outcomes: deque[Outcome] = deque(maxlen=KEPT)
        self._sequence = itertools.count(1)

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, body: bytes, properties: dict[str, str], now: float, ttl: float) -> Message:
        message = Message(next(self._sequence), body, dict(properties), now, now + ttl)
        self.messages.append(message)
        self.budget.used += message.size
        return message

    def clear(self) -> None:
        """Forget every message (the device was created again or deleted), giving their bytes back."""
        for message in list(self.messages):
            self.remove(message)
        self.dead_letters.clear()

    def refresh(self, now: float, max_deliveries: int | None, expiry_counts: bool) -> None:
        """Dead-letter what has expired and make visible what an expired lock held."""
        for message in list(self.messages):
            if message.expires_at <= now:
                self.dead_letter(message, EXPIRED, message.expires_at)
            elif message.locked_until is not None and message.locked_until <= now:
                expired_at, message.locked_until = message.locked_until, None
                if expiry_counts:
                    self._count_delivery(message, max_deliveries, expired_at)

    def lock_next(self, now: float, seconds: float, ignore_locks: bool = False) -> Message | None:
        """Lock the first visible message (with `ignore_locks`, the first message) with a fresh token."""
        for message in self.messages:
            if ignore_locks or message.locked_until is None or message.locked_until <= now:
                message.lock_token = str(uuid.uuid4())
                message.locked_until = now + seconds
                self.issued[message.lock_token] = None
                if len(self.issued) > KEPT:
                    del self.issued[next(iter(self.issued))]
                return message
        return None

    def held(self, token: str, now: float, expired_too: bool = False) -> Message | None:
        """The message whose current lock is `token` (with `expired_too`, also a lock that has run out)."""
        for message in self.messages:
            if message.lock_token == token:
                live = message.locked_until is not None and message.locked_until > now
                return message if live or expired_too else None
        return None

    def remove(self, message: Message) -> None:
        self.messages.remove(message)
        self.budget.used -= message.size

    def complete(self, message: Message, now: float | None = None) -> None:
        self.remove(message)
        self._finished(message, SUCCESS, now)

    def dead_letter(self, message: Message, status: str = REJECTED, at: float | None = None) -> None:
        self.remove(message)
        self._finished(message, status, at)
        kept = {name: value for name, value in message.properties.items() if name == "IoTHub-MessageId"}
        self.dead_letters.append(replace(message, body=b"", properties=kept))

    def release(self, message: Message) -> None:
        """Visible again, without a lock."""
        message.lock_token = None
        message.locked_until = None

    def abandon(self, message: Message, max_deliveries: int | None, counts: bool = True,
                now: float | None = None) -> None:
        self.release(message)
        if counts:
            self._count_delivery(message, max_deliveries, now)

    def _count_delivery(self, message: Message, max_deliveries: int | None, at: float | None = None) -> None:
        message.delivery_count += 1
        if max_deliveries is not None and message.delivery_count >= max_deliveries:
            self.dead_letter(message, DELIVERY_COUNT_EXCEEDED, at)

    def _finished(self, message: Message, status: str, at: float | None) -> None:
        ack = message.properties.get(ACK_HEADER, "none").strip().lower()
        if ack != "none":
            self.outcomes.append(Outcome(message.properties.get("IoTHub-MessageId"), ack, status, at))

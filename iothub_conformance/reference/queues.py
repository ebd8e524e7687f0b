"""A device's cloud-to-device queue (INVENTORY §6, §8): a message is enqueued, locked by a receive (invisible until
the lock expires), and then completed (removed), abandoned (enqueued again) or dead-lettered (never delivered again).

Callers hold hub.lock and bring the queue up to date with `refresh` before anything else.
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from dataclasses import dataclass

KEPT = 1000  # dead letters and issued lock tokens remembered per device; older ones are forgotten


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


class DeviceQueue:
    def __init__(self):
        self.messages: list[Message] = []  # in sequence-number order
        self.dead_letters: deque[Message] = deque(maxlen=KEPT)
        self.issued: dict[str, None] = {}  # recent lock tokens, oldest first
        self._sequence = itertools.count(1)

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, body: bytes, properties: dict[str, str], now: float, ttl: float) -> Message:
        message = Message(next(self._sequence), body, dict(properties), now, now + ttl)
        self.messages.append(message)
        return message

    def refresh(self, now: float, max_deliveries: int | None, expiry_counts: bool) -> None:
        """Dead-letter what has expired and make visible what an expired lock held."""
        for message in list(self.messages):
            if message.expires_at <= now:
                self.dead_letter(message)
            elif message.locked_until is not None and message.locked_until <= now:
                message.locked_until = None
                if expiry_counts:
                    self._count_delivery(message, max_deliveries)

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

    def dead_letter(self, message: Message) -> None:
        self.messages.remove(message)
        self.dead_letters.append(message)

    def release(self, message: Message) -> None:
        """Visible again, without a lock."""
        message.lock_token = None
        message.locked_until = None

    def abandon(self, message: Message, max_deliveries: int | None, counts: bool = True) -> None:
        self.release(message)
        if counts:
            self._count_delivery(message, max_deliveries)

    def _count_delivery(self, message: Message, max_deliveries: int | None) -> None:
        message.delivery_count += 1
        if max_deliveries is not None and message.delivery_count >= max_deliveries:
            self.dead_letter(message)

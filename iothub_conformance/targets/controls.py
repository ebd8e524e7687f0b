"""What a test may ask of a target beyond its REST API: move its clock, use another of its policies, have one of its
devices answer direct methods, put a cloud-to-device message in a queue without a service SDK.

The suites reach a target only through this interface (never the embedded reference's objects), so another emulator
can implement it and get the tests that need it. A target without controls has `Target.controls is None`; each test
that needs one skips and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

# (method name, payload) → (status, payload): how a simulated device answers a direct method.
MethodHandler = Callable[[str, object], tuple[int, object]]


@dataclass(frozen=True)
class Enqueued:
    """What the target said to one in-process enqueue: its status and, on a refusal, the error code and why."""

    status: int
    code: str | None = None
    detail: str = ""


class Controls(Protocol):
    def now(self) -> float:
        """The target's clock, in seconds since the epoch."""
        ...

    def advance(self, seconds: float) -> None:
        """Move the target's clock forward, so a test sees a timeout without waiting it out."""
        ...

    def connection_string(self, policy: str) -> str:
        """A connection string of one of the hub's shared access policies."""
        ...

    def answer_methods(self, device_id: str, handler: MethodHandler) -> None:
        """Bring the device online: it answers direct methods with `handler` until `stop_answering`."""
        ...

    def stop_answering(self, device_id: str) -> None:
        ...

    def answering(self) -> list[str]:
        """The devices online now."""
        ...

    def enqueue(self, device_id: str, body: bytes, properties: Mapping[str, str]) -> Enqueued:
        """Put a cloud-to-device message in the device's queue, as the service side would."""
        ...

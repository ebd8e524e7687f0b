"""What a test may ask of a target beyond its REST API: move its clock, use another of its policies, have one of its
devices or modules answer direct methods (at once or too slowly), report twin properties as the device would, put a
cloud-to-device message in a queue without a service SDK.

The suites reach a target only through this interface (never the embedded reference's objects), so another emulator
can implement it and get the tests that need it. A target without controls has `Target.controls is None`; each test
that needs one skips and says why. An emulator may implement only some of these: a test looks a control up by name
(`getattr(controls, "report_properties", None)`) and skips, saying which, when it is missing.
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

    def answer_methods(self, device_id: str, handler: MethodHandler, module_id: str | None = None) -> None:
        """Bring the device (or, with `module_id`, that module of it) online: it answers direct methods with
        `handler` until `stop_answering`. A module answers its own methods, never its device's, and the other way."""
        ...

    def stop_answering(self, device_id: str, module_id: str | None = None) -> None:
        ...

    def answering(self) -> list[str]:
        """The devices online now (modules answering are not listed)."""
        ...

    def delay_methods(self, device_id: str, seconds: float, module_id: str | None = None) -> None:
        """Make the device (or module) take `seconds` to answer each method from now on (0: at once), so a test sees
        a responseTimeoutInSeconds run out. A simulated delay: the call need not really wait."""
        ...

    def report_properties(self, device_id: str, reported: Mapping[str, object], module_id: str | None = None) -> None:
        """What the device (or module) does to report properties: merge `reported` into its twin's reported section
        (a null removes its key), which the service side can only read. Raises LookupError when there is no such
        device or module, ValueError when the target refuses the patch (too large, say)."""
        ...

    def enqueue(self, device_id: str, body: bytes, properties: Mapping[str, str]) -> Enqueued:
        """Put a cloud-to-device message in the device's queue, as the service side would."""
        ...

    def connect_pnp_device(self, device_id: str, model_id: str) -> None:
        """Connect the device as an IoT Plug and Play device announcing `model_id` (a DTMI), as a device does when it
        connects: its twin then carries modelId and its digital twin $metadata.$model. Commands reach it through the
        handler `answer_methods` gave. Raises LookupError when there is no such device."""
        ...

    def file_upload_notifications(self, device_id: str) -> list[dict[str, object]]:
        """The file-upload notifications the hub made for the device's completed uploads, oldest first, as the
        service side would receive them (the real service delivers them over AMQP only)."""
        ...

    def received_events(self, device_id: str) -> list[dict[str, object]]:
        """The device-to-cloud messages the hub accepted from the device, oldest first (a target may keep only the
        newest): each {"body": base64 of its bytes, "text": the body as UTF-8 text or None, "properties": application
        properties by name, "systemProperties": the system ones by header name}. So a test sees what a refused call
        did not deliver."""
        ...

"""Direct methods on the simulated devices and modules (api-version 2021-04-12): the request body, its bounds, and the
call to the handler the suite's controls registered.

Sources: docs/sources/iot-hub-devguide-direct-methods__2018-07-17_1e2689b4.md (timeout default 30 s, settable up to
300 s; payload up to 128 KB; a 404 for devices not currently connected; status and payload come from the device);
docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md (404103 DeviceNotOnline, 504101 GatewayTimeout);
docs/sources/service-2021-04-12.json (CloudToDeviceMethod, CloudToDeviceMethodResult); the bounds are profile rule
method_timeout_bounds (docs/sources/INVENTORY-2021-04-12.md §9, §10 C16).

No call waits: a simulated device's latency (hub.method_latency, simulated seconds) is compared with the request's
responseTimeoutInSeconds, so a timeout is shown at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, DEVICE_NOT_ONLINE, GATEWAY_TIMEOUT, MESSAGE_TOO_LARGE
from .faults import switch

METHOD_STATUS_DROPPED = switch("method-status-dropped")
MODULE_METHOD_GOES_TO_DEVICE = switch("module-method-goes-to-device")
METHOD_OFFLINE_GATEWAY_TIMEOUT = switch("method-offline-gateway-timeout")
METHOD_UNKNOWN_DEVICE_NOT_ONLINE = switch("method-unknown-device-not-online")
METHOD_NO_TIMEOUT = switch("method-no-timeout")
METHOD_TIMEOUT_UNBOUNDED = switch("method-timeout-unbounded")
METHOD_NO_PAYLOAD_LIMIT = switch("method-no-payload-limit")

DEFAULT_RESPONSE_TIMEOUT = 30  # "If timeout is not set, it defaults to 30 seconds"
MAX_PAYLOAD_BYTES = 128 * 1024  # "The payload for method requests and responses is a JSON document up to 128 KB"
MODULE_NOT_FOUND = "ModuleNotFound"  # 404010 (INVENTORY-2021-04-12 §2.3, §7.2)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What the hub answers: 200 with `result`, or an error status with its code and message."""

    status: int
    result: dict | None = None
    code: str | None = None
    message: str = ""


@dataclass(frozen=True)
class MethodRequest:
    method_name: str
    payload: Any
    response_timeout: int
    connect_timeout: int


class InvalidMethod(ValueError):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def read_request(hub: Any, body: Any) -> MethodRequest:
    """The CloudToDeviceMethod a body asks for; InvalidMethod (400, or 413 for a payload over 128 KB) otherwise."""
    if not isinstance(body, dict):
        raise InvalidMethod(400, ARGUMENT_INVALID, "the request body must be a CloudToDeviceMethod object")
    name = body.get("methodName")
    if not isinstance(name, str) or not name:
        raise InvalidMethod(400, ARGUMENT_INVALID, "methodName must be a non-empty string")
    payload = body.get("payload")
    size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES and not hub.has(METHOD_NO_PAYLOAD_LIMIT):
        raise InvalidMethod(413, MESSAGE_TOO_LARGE, f"the payload is {size} bytes; at most {MAX_PAYLOAD_BYTES} are allowed")
    response_timeout = _seconds(body, "responseTimeoutInSeconds", DEFAULT_RESPONSE_TIMEOUT)
    connect_timeout = _seconds(body, "connectTimeoutInSeconds", 0)
    least, most = hub.profile.value("method_timeout_bounds")
    if not hub.has(METHOD_TIMEOUT_UNBOUNDED):
        if response_timeout > most or (least is not None and response_timeout < least):
            raise InvalidMethod(400, ARGUMENT_INVALID, f"responseTimeoutInSeconds must be {least or 0} to {most}")
        if not 0 <= connect_timeout <= most:
            raise InvalidMethod(400, ARGUMENT_INVALID, f"connectTimeoutInSeconds must be 0 to {most}")
    return MethodRequest(name, payload, response_timeout, connect_timeout)


def _seconds(body: dict, name: str, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not -2**31 <= value < 2**31:
        raise InvalidMethod(400, ARGUMENT_INVALID, f"{name} must be an int32 number of seconds")
    return value


def invoke(hub: Any, device_id: str, module_id: str | None, request: MethodRequest) -> Outcome:
    """Call the device's (or module's) handler. Call under hub.lock: the handler is the suite's simple function."""
    if device_id not in hub.devices:
        if hub.has(METHOD_UNKNOWN_DEVICE_NOT_ONLINE):
            return Outcome(404, code=DEVICE_NOT_ONLINE, message=f"device {device_id!r} is not online")
        return Outcome(404, code=DEVICE_NOT_FOUND, message=f"Device {device_id!r} not found")
    if module_id is not None and module_id not in ((getattr(hub, "modules", None) or {}).get(device_id) or {}):
        return Outcome(404, code=MODULE_NOT_FOUND, message=f"module {module_id!r} not found on device {device_id!r}")
    if module_id is None or hub.has(MODULE_METHOD_GOES_TO_DEVICE):
        handler = hub.method_handlers.get(device_id)
    else:
        handler = hub.module_method_handlers.get((device_id, module_id))
    who = f"device {device_id!r}" + (f" module {module_id!r}" if module_id else "")
    if handler is None:
        if hub.has(METHOD_OFFLINE_GATEWAY_TIMEOUT):
            return Outcome(504, code=GATEWAY_TIMEOUT, message=f"{who} did not answer in time")
        status, _ = hub.profile.value("method_offline")
        return Outcome(status, code=DEVICE_NOT_ONLINE, message=f"{who} is not online")
    latency = hub.method_latency.get((device_id, module_id), 0.0)
    if latency > request.response_timeout and not hub.has(METHOD_NO_TIMEOUT):
        return Outcome(504, code=GATEWAY_TIMEOUT,
                       message=f"{who} did not answer within {request.response_timeout} seconds")
    payload = json.loads(json.dumps(request.payload))  # the handler gets a copy it may change freely
    try:
        status, answered = handler(request.method_name, payload)
    except Exception:
        log.warning("reference hub: the method handler of %s raised or gave no (status, payload)", who, exc_info=True)
        return Outcome(504, code=GATEWAY_TIMEOUT, message=f"{who} gave no answer")
    if not isinstance(status, int) or isinstance(status, bool):
        return Outcome(504, code=GATEWAY_TIMEOUT, message=f"{who} answered no status")
    if hub.has(METHOD_STATUS_DROPPED):
        return Outcome(200, {"status": 200, "payload": None})
    return Outcome(200, {"status": status, "payload": answered})

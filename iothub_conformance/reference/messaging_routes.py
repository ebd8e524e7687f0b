"""The Device Messaging handlers (INVENTORY §2b, §6, §8; the send, receive, complete, reject and abandon pages).

Every device request is judged in this order: route and method (Starlette, see app.py) → api-version → token →
device exists (404) → device enabled (401) → request validation (400) → size (413) → action.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from .error_envelope import (
    ARGUMENT_INVALID,
    DEVICE_NOT_FOUND,
    LOCK_LOST,
    MESSAGE_TOO_LARGE,
    METHOD_NOT_ALLOWED,
    PRECONDITION_FAILED,
    UNAUTHORIZED,
    error_response,
)
from .faults import switch
from .gate import admit
from .hub import Hub
from .policies import DEVICE_CONNECT, SERVICE_CONNECT
from .properties import APP_PREFIX, InvalidProperty, is_app, message_size, read_properties
from .queues import REJECTED, DeviceQueue, Event, Message

ABANDON_KEEPS_DELIVERY_COUNT = switch("abandon-keeps-delivery-count")
ACCEPT_UNKNOWN_LOCK = switch("accept-unknown-lock")
C2D_NO_SIZE_LIMIT = switch("c2d-no-size-limit")
COMPLETE_KEEPS_MESSAGE = switch("complete-keeps-message")
D2C_ACCEPTS_INVALID_PROPERTIES = switch("d2c-accepts-invalid-properties")
D2C_NO_SIZE_LIMIT = switch("d2c-no-size-limit")
D2C_REFUSES_PROPERTIES = switch("d2c-refuses-properties")
D2C_RETURNS_200 = switch("d2c-returns-200")
DISABLED_DEVICE_CONNECTS = switch("disabled-device-connects")
EMPTY_QUEUE_RETURNS_200 = switch("empty-queue-returns-200")
EXPIRED_LOCK_STILL_VALID = switch("expired-lock-still-valid")
LOCK_LOST_PRECONDITION_FAILED = switch("lock-lost-precondition-failed")
LOCK_NEVER_EXPIRES = switch("lock-never-expires")
NO_MESSAGE_LOCK = switch("no-message-lock")
RECEIVE_DROPS_PROPERTIES = switch("receive-drops-properties")
REJECT_REQUEUES = switch("reject-requeues")
UNQUOTED_LOCK_ETAG = switch("unquoted-lock-etag")

MAX_BODY = 1024 * 1024  # the most the reference ever reads of a body, even when a fault lifts a size limit
LOCK_TIMEOUT = re.compile(r"[0-9]+")
LONGEST_LOCK = 10**9  # seconds (about 31 years): a longer timeout is held as this, never read as a huge number


async def send_event(request: Request) -> Response:
    """POST /devices/{deviceId}/messages/events: a device-to-cloud message; 204 and no body."""
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := _admit_device(request, device_id):
        return refused
    try:
        properties = read_properties(request.headers.items(), check_app=not hub.has(D2C_ACCEPTS_INVALID_PROPERTIES))
    except InvalidProperty as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    if hub.has(D2C_REFUSES_PROPERTIES) and any(is_app(name) for name in properties):
        return error_response(hub, 400, ARGUMENT_INVALID, f"{APP_PREFIX}* headers are not accepted")
    unlimited = hub.has(D2C_NO_SIZE_LIMIT)
    body = await read_body(request, MAX_BODY if unlimited else hub.d2c_max_bytes)
    size = message_size(body, properties)
    if len(body) > MAX_BODY or (size > hub.d2c_max_bytes and not unlimited):
        return _too_large(hub, hub.d2c_max_bytes)
    with hub.lock:
        hub.events.append(Event(device_id, body, properties))
    return Response(status_code=200 if hub.has(D2C_RETURNS_200) else 204)


async def receive(request: Request) -> Response:
    """GET /devices/{deviceId}/messages/devicebound: lock and return the next message; 204 when there is none."""
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if request.method == "HEAD":
        # Starlette serves HEAD with a GET route; here that would lock a message the client never sees.
        return error_response(hub, 405, METHOD_NOT_ALLOWED, "HEAD is not allowed here", headers={"Allow": "GET"})
    if refused := _admit_device(request, device_id):
        return refused
    timeout = request.headers.get("iothub-messagelocktimeout")
    seconds: float = hub.lock_seconds  # a float: LOCK_NEVER_EXPIRES makes it math.inf
    if timeout is not None:
        digits = timeout.strip().lstrip("0")
        if not LOCK_TIMEOUT.fullmatch(digits):
            return error_response(hub, 400, ARGUMENT_INVALID,
                                  f"IoTHub-MessageLockTimeout {timeout[:40]!r} is not a positive whole number of seconds")
        # Measure the digits first: a very long number is simply long (and too long for int()).
        seconds = LONGEST_LOCK if len(digits) > len(str(LONGEST_LOCK)) else min(int(digits), LONGEST_LOCK)
    if hub.has(LOCK_NEVER_EXPIRES):
        seconds = math.inf
    with hub.lock:
        if device_id not in hub.devices:
            return _device_not_found(hub, device_id)
        queue = hub.device_queue(device_id)
        message = queue.lock_next(hub.clock.now(), seconds, ignore_locks=hub.has(NO_MESSAGE_LOCK))
        if message is None:
            return Response(status_code=200 if hub.has(EMPTY_QUEUE_RETURNS_200) else 204)
        headers = _delivery_headers(hub, device_id, message)
        body = message.body
    return Response(body, status_code=200, headers=headers)


async def complete(request: Request) -> Response:
    """DELETE /devices/{deviceId}/messages/devicebound/{lock}: complete the message, or reject it with `?reject`."""
    return await _settle(request, "reject" if "reject" in request.query_params else "complete")


async def abandon(request: Request) -> Response:
    """POST /devices/{deviceId}/messages/devicebound/{lock}/abandon: the message goes back for re-delivery."""
    return await _settle(request, "abandon")


async def send_to_device(request: Request) -> Response:
    """POST /messages/deviceBound: the service side of cloud-to-device, the reference's way of being fed.

    The target device is named by the IoTHub-To header, `/devices/{percent-encoded deviceId}/messages/devicebound`.
    """
    hub: Hub = request.app.state.hub
    if refused := admit(request, SERVICE_CONNECT):
        return refused
    to = request.headers.get("iothub-to")
    device_id = target_device(to)
    if device_id is None:
        return error_response(hub, 400, ARGUMENT_INVALID,
                              "IoTHub-To must be /devices/{deviceId}/messages/devicebound, not "
                              f"{(to or '')[:160]!r}")
    limit = hub.profile.value("c2d_max_bytes")
    body = await read_body(request, MAX_BODY if hub.has(C2D_NO_SIZE_LIMIT) else limit)
    if len(body) > MAX_BODY:
        return _too_large(hub, limit)
    outcome = hub.enqueue(device_id, body, request.headers)
    if outcome.code is not None:
        return error_response(hub, outcome.status, outcome.code, outcome.detail)
    return Response(status_code=outcome.status)


def target_device(to: str | None) -> str | None:
    """The deviceId in an IoTHub-To value, or None when the value is not a device's devicebound address."""
    parts = (to or "").strip().split("/")
    if len(parts) != 5 or parts[0] or [p.lower() for p in parts[1::2]] != ["devices", "messages"]:
        return None
    if parts[4].lower() != "devicebound":
        return None
    return unquote(parts[2]) or None


async def read_body(request: Request, limit: int) -> bytes:
    """At most limit + 1 bytes of the body: enough to tell that it is too large without holding all of it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)[:limit + 1]


async def _settle(request: Request, action: str) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    lock = request.path_params["lock"]
    if refused := _admit_device(request, device_id):
        return refused
    with hub.lock:
        if device_id not in hub.devices:
            return _device_not_found(hub, device_id)
        queue = hub.device_queue(device_id)
        message = queue.held(lock, hub.clock.now(), expired_too=hub.has(EXPIRED_LOCK_STILL_VALID))
        if message is None:
            if hub.has(ACCEPT_UNKNOWN_LOCK) and lock not in queue.issued:
                return Response(status_code=204)
            code = PRECONDITION_FAILED if hub.has(LOCK_LOST_PRECONDITION_FAILED) else LOCK_LOST
            return error_response(hub, 412, code, f"no message of device {device_id!r} holds lock {lock[:64]!r}: "
                                                  "it is unknown, has expired or was settled")
        settle(hub, queue, message, action)
    return Response(status_code=204)


def settle(hub: Hub, queue: DeviceQueue, message: Message, action: str) -> None:
    """Complete, reject or abandon a message whose lock was just found live. Call under hub.lock."""
    now = hub.clock.now()
    if action == "abandon":
        queue.abandon(message, hub.delivery_limit(), counts=not hub.has(ABANDON_KEEPS_DELIVERY_COUNT), now=now)
    elif hub.has(COMPLETE_KEEPS_MESSAGE if action == "complete" else REJECT_REQUEUES):
        queue.release(message)
    elif action == "complete":
        queue.complete(message, now)
    else:
        queue.dead_letter(message, REJECTED, now)


def _admit_device(request: Request, device_id: str) -> Response | None:
    return admit_device(request, device_id)


def admit_device(request: Request, device_id: str, versions: Sequence[str] | None = None) -> Response | None:
    """The answer to send when the request may not reach the device's messages: 400/401 from the gate, 404, or 401
    for a disabled device. `versions`: the api-versions the route serves (None: the hub's 2016 ones)."""
    hub: Hub = request.app.state.hub
    if refused := admit(request, DEVICE_CONNECT, device_id, versions=versions):
        return refused
    with hub.lock:
        device = hub.devices.get(device_id)
    if device is None:
        return _device_not_found(hub, device_id)
    if device.status == "disabled" and not hub.has(DISABLED_DEVICE_CONNECTS):
        return error_response(hub, 401, UNAUTHORIZED, f"device {device_id!r} is disabled")
    return None


def _delivery_headers(hub: Hub, device_id: str, message: Message) -> dict[str, str]:
    expiry = timestamp(message.expires_at)
    token = message.lock_token or ""
    headers = {
        "ETag": token if hub.has(UNQUOTED_LOCK_ETAG) else f'"{token}"',
        "IoTHub-SequenceNumber": str(message.sequence_number),
        "IoTHub-EnqueuedTime": timestamp(message.enqueued_at),
        "IoTHub-ExpiryTime": expiry,
        "iothub-expiry": expiry,  # the name SDK code reads (INVENTORY §7 item 11)
        "iothub-deliverycount": str(message.delivery_count),
        "IoTHub-To": f"/devices/{device_id}/messages/devicebound",
    }
    for name, value in message.properties.items():
        if hub.has(RECEIVE_DROPS_PROPERTIES) and (name == "IoTHub-MessageId" or is_app(name)):
            continue
        headers[name] = value
    return headers


def timestamp(seconds: float) -> str:
    """ISO 8601 UTC with microseconds and a Z."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _device_not_found(hub: Hub, device_id: str) -> Response:
    return error_response(hub, 404, DEVICE_NOT_FOUND, f"Device {device_id[:140]!r} not found")


def _too_large(hub: Hub, limit: int) -> Response:
    return error_response(hub, 413, MESSAGE_TOO_LARGE, f"the message is larger than the {limit} bytes allowed")

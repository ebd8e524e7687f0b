"""The routes api-version 2021-04-12 adds (app.py serves them first): device-side messaging over HTTPS (events, cloud-to-
device receive and settle) and cloud-to-device feedback.

Sources: docs/sources/INVENTORY-2021-04-12.md §3.1–§3.3 (the device side, which the service swagger leaves out),
§2.11 (feedback), §9, §10 (C8 reject encodings, C9 If-Match, C10 lock hint, C11 path casing, C33 lock lost);
docs/sources/rest-reference-device-group__learn-summary.md;
docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md.

/devices/{id}/messages/events and …/devicebound… are also 2016-02-03's paths: a request naming another api-version (or
none) goes to messaging_routes.py unchanged. `deviceBound` (the REST reference's spelling) is served at 2021-04-12 only;
another api-version gets the 404 of a path no route serves, as before. Device requests are judged in this order:
api-version → token (DeviceConnect for that device) → device exists (404) → enabled (401) → validation (400) → size
(413) → lock (412) → action. Feedback requests need ServiceConnect.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import feedback, messaging_routes
from .error_envelope import (
    ARGUMENT_INVALID,
    LOCK_LOST,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PRECONDITION_FAILED,
    error_response,
)
from .faults import switch
from .gate import admit
from .hub import Hub
from .policies import REGISTRY_READ, SERVICE_CONNECT
from .properties import APP_PREFIX, HEADER_VALUE, InvalidProperty, check_app_property, message_size, read_properties
from .queues import DeviceQueue, Event, Message

D2C_2021_RETURNS_200 = switch("d2c-2021-returns-200")
D2C_2021_REFUSES_SDK_HEADERS = switch("d2c-2021-refuses-sdk-headers")
D2C_2021_ACCEPTS_INVALID_PROPERTIES = switch("d2c-2021-accepts-invalid-properties")
D2C_BATCH_REFUSED = switch("d2c-batch-refused")
D2C_BATCH_ACCEPTS_GARBAGE = switch("d2c-batch-accepts-garbage")
D2C_2021_NO_SIZE_LIMIT = switch("d2c-2021-no-size-limit")
C2D_2021_EMPTY_200 = switch("c2d-2021-empty-200")
C2D_2021_UNQUOTED_LOCK = switch("c2d-2021-unquoted-lock")
C2D_2021_DROPS_SDK_HEADERS = switch("c2d-2021-drops-sdk-headers")
C2D_LOCK_HINT_REFUSED = switch("c2d-lock-hint-refused")
C2D_2021_DEVICEBOUND_REFUSED = switch("c2d-2021-devicebound-refused")
C2D_2021_COMPLETE_KEEPS_MESSAGE = switch("c2d-2021-complete-keeps-message")
C2D_2021_REJECT_REQUEUES = switch("c2d-2021-reject-requeues")
C2D_2021_EMPTY_REJECT_REQUEUES = switch("c2d-2021-empty-reject-requeues")
C2D_2021_ABANDON_COMPLETES = switch("c2d-2021-abandon-completes")
C2D_IF_MATCH_REFUSED = switch("c2d-if-match-refused")
C2D_2021_LOCK_LOST_404 = switch("c2d-2021-lock-lost-404")
C2D_2021_LOCK_NEVER_EXPIRES = switch("c2d-2021-lock-never-expires")
C2D_2021_NO_MAX_DELIVERY_COUNT = switch("c2d-2021-no-max-delivery-count")
FEEDBACK_EMPTY_200 = switch("feedback-empty-200")
FEEDBACK_JSON_CONTENT_TYPE = switch("feedback-json-content-type")
FEEDBACK_COMPLETE_KEEPS = switch("feedback-complete-keeps")
FEEDBACK_FIELDS_PASCAL_CASE = switch("feedback-fields-pascal-case")
FEEDBACK_IGNORES_ACK = switch("feedback-ignores-ack")
FEEDBACK_REJECTED_AS_SUCCESS = switch("feedback-rejected-as-success")
FEEDBACK_ONE_RECORD_PER_BATCH = switch("feedback-one-record-per-batch")
FEEDBACK_ABANDON_DELETES = switch("feedback-abandon-deletes")
FEEDBACK_ACCEPTS_UNKNOWN_LOCK = switch("feedback-accepts-unknown-lock")
FEEDBACK_NO_SERVICE_CONNECT = switch("feedback-no-service-connect")

V2021 = "2021-04-12"
BATCH_CONTENT_TYPE = "application/vnd.microsoft.iothub.json"  # INVENTORY-2021-04-12.md §3.1 (NODEDEV, NETDEV)
# System properties SDKs send as headers (§3.1: NODEDEV sendEvent, NETDEV s_mapMessagePropertiesToHttpHeaders) beyond
# the 2016 ones properties.py reads; the hub takes them (the fault d2c-2021-refuses-sdk-headers refuses them).
SDK_HEADERS = ("iothub-to", "iothub-expiry", "iothub-contenttype", "iothub-contentencoding", "iothub-interface-id",
               "dt-subject", "iothub-operation", "iothub-messageschema", "iothub-creationtimeutc")
LOCK_HINT = "iothub-messagelocktimeout"  # C10: CLIDEV sends it as a header, NETDEV as a query parameter
Handler = Callable[[Request], Awaitable[Response]]


def _is_2021(request: Request) -> bool:
    values = request.query_params.getlist("api-version")
    return bool(values) and all(value == V2021 for value in values)


def _shared(handler_2016: Handler, handler_2021: Handler) -> Handler:
    """A path 2016-02-03 serves too: 2021-04-12 here, any other api-version (or none) as 2016 serves it."""

    async def dispatch(request: Request) -> Response:
        if not _is_2021(request):
            return await handler_2016(request)
        if request.app.state.hub.has(C2D_2021_DEVICEBOUND_REFUSED) and "/messages/devicebound" in request.url.path:
            return _no_route(request)
        return await handler_2021(request)

    return dispatch


def _only_2021(handler: Handler, methods: tuple[str, ...]) -> Handler:
    """A path only 2021-04-12 serves: another api-version the hub serves gets the 404 of an unrouted path, as before
    this route; none, or one the hub does not know at all, the api-version 400 every route answers."""

    async def dispatch(request: Request) -> Response:
        hub: Hub = request.app.state.hub
        if not _is_2021(request):
            values = request.query_params.getlist("api-version")
            known = (*hub.supported_api_versions, *hub.scheduled_api_versions)
            if values and all(value in known for value in values):
                return _no_route(request)
            return admit(request, SERVICE_CONNECT, versions=hub.current_api_versions) or _no_route(request)
        if request.method not in methods:
            return error_response(hub, 405, METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                                  headers={"Allow": ", ".join(methods)})
        return await handler(request)

    return dispatch


def _no_route(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    return error_response(hub, 404, NOT_FOUND, f"no resource at {request.url.path[:200]}")


# -- device-to-cloud ------------------------------------------------------------------------------------------------


async def send_event(request: Request) -> Response:
    """POST /devices/{id}/messages/events: one message (properties as headers) or a batch; 204 and no body."""
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := messaging_routes.admit_device(request, device_id, hub.current_api_versions):
        return refused
    unlimited = hub.has(D2C_2021_NO_SIZE_LIMIT)
    limit = hub.d2c_max_bytes
    body = await messaging_routes.read_body(request, messaging_routes.MAX_BODY if unlimited else limit)
    if len(body) > messaging_routes.MAX_BODY:
        return messaging_routes._too_large(hub, limit)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == BATCH_CONTENT_TYPE:
            if hub.has(D2C_BATCH_REFUSED):
                raise InvalidProperty(f"Content-Type {BATCH_CONTENT_TYPE} is not accepted")
            events = [] if hub.has(D2C_BATCH_ACCEPTS_GARBAGE) and not _is_batch(body) else _read_batch(hub, body)
        else:
            if hub.has(D2C_2021_REFUSES_SDK_HEADERS) and any(name.lower() in SDK_HEADERS for name in request.headers):
                raise InvalidProperty("only the 2016 system property headers are accepted")
            check = not hub.has(D2C_2021_ACCEPTS_INVALID_PROPERTIES)
            events = [(body, read_properties(request.headers.items(), check_app=check))]
    except InvalidProperty as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    if not unlimited and any(message_size(one, properties) > limit for one, properties in events):
        return messaging_routes._too_large(hub, limit)
    with hub.lock:
        for one, properties in events:
            hub.events.append(Event(device_id, one, properties))
    return Response(status_code=200 if hub.has(D2C_2021_RETURNS_200) else 204)


def _is_batch(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body), list)
    except ValueError:
        return False


def _read_batch(hub: Hub, body: bytes) -> list[tuple[bytes, dict[str, str]]]:
    """`[{"body": "<base64>", "properties": {"iothub-app-<k>": "<v>", …}, "base64Encoded": true}, …]` (§3.1): each
    message's body and its properties keyed as properties.py keys them. Anything else is an InvalidProperty."""
    try:
        items = json.loads(body)
    except ValueError as exc:
        raise InvalidProperty(f"a batch body must be a JSON array: {str(exc)[:80]}") from None
    if not isinstance(items, list) or not items:
        raise InvalidProperty("a batch body must be a non-empty JSON array of messages")
    check = not hub.has(D2C_2021_ACCEPTS_INVALID_PROPERTIES)
    messages = []
    for index, item in enumerate(items[:1000]):
        if not isinstance(item, dict) or not isinstance(item.get("body", ""), str):
            raise InvalidProperty(f"batch message {index} must be an object whose body is a string")
        encoded = item.get("base64Encoded", True)
        if not isinstance(encoded, bool):
            raise InvalidProperty(f"batch message {index}: base64Encoded must be true or false")
        text = item.get("body", "")
        try:
            data = base64.b64decode(text, validate=True) if encoded else text.encode("utf-8")
        except (binascii.Error, ValueError):
            raise InvalidProperty(f"batch message {index}: body is not base64") from None
        named = item.get("properties", {})
        if not isinstance(named, dict) or not all(isinstance(v, str) for v in named.values()):
            raise InvalidProperty(f"batch message {index}: properties must be an object of strings")
        for name, value in named.items():
            if name.lower().startswith(APP_PREFIX.lower()) and check:
                check_app_property(name[len(APP_PREFIX):], value)
            elif not HEADER_VALUE.fullmatch(value):
                raise InvalidProperty(f"batch message {index}: property {name[:64]!r} is not a valid header value")
        messages.append((data, read_properties(named.items(), check_app=check)))
    return messages


# -- cloud-to-device, the device side ----------------------------------------------------------------------------------


async def receive(request: Request) -> Response:
    """GET /devices/{id}/messages/deviceBound: lock and return the next message; 204 when there is none."""
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if request.method == "HEAD":  # a HEAD would lock a message the client never sees
        return error_response(hub, 405, METHOD_NOT_ALLOWED, "HEAD is not allowed here", headers={"Allow": "GET"})
    if refused := messaging_routes.admit_device(request, device_id, hub.current_api_versions):
        return refused
    if hub.has(C2D_LOCK_HINT_REFUSED) and LOCK_HINT in {key.lower() for key in request.query_params}:
        return error_response(hub, 400, ARGUMENT_INVALID, f"unknown query parameter {LOCK_HINT}")
    # The lock lasts hub.lock_seconds whatever hint is sent: "one minute and can't be changed" (the c2d page, 2026).
    seconds = float("inf") if hub.has(C2D_2021_LOCK_NEVER_EXPIRES) else hub.lock_seconds
    with hub.lock:
        if device_id not in hub.devices:
            return messaging_routes._device_not_found(hub, device_id)
        message = hub.device_queue(device_id).lock_next(hub.clock.now(), seconds)
        if message is None:
            return Response(status_code=200 if hub.has(C2D_2021_EMPTY_200) else 204)
        headers = _delivery_headers(hub, device_id, message)
        body = message.body
    return Response(body, status_code=200, headers=headers)


def _delivery_headers(hub: Hub, device_id: str, message: Message) -> dict[str, str]:
    """The names the SDKs read (INVENTORY-2021-04-12.md §3.2, C12/C13), lower case; app properties as iothub-app-*."""
    token = message.lock_token or ""
    headers = {
        "ETag": token if hub.has(C2D_2021_UNQUOTED_LOCK) else f'"{token}"',
        "iothub-sequencenumber": str(message.sequence_number),
        "iothub-enqueuedtime": messaging_routes.timestamp(message.enqueued_at),
        "iothub-expiry": messaging_routes.timestamp(message.expires_at),
        "iothub-deliverycount": str(message.delivery_count),
        "iothub-to": f"/devices/{device_id}/messages/deviceBound",
    }
    if hub.has(C2D_2021_DROPS_SDK_HEADERS):
        headers = {"ETag": headers["ETag"], "IoTHub-SequenceNumber": headers["iothub-sequencenumber"],
                   "IoTHub-EnqueuedTime": headers["iothub-enqueuedtime"], "IoTHub-ExpiryTime": headers["iothub-expiry"]}
    names = {"Content-Type": "Content-Type", "Content-Encoding": "Content-Encoding"}
    for name, value in message.properties.items():
        if name.startswith(APP_PREFIX):
            headers["iothub-app-" + name[len(APP_PREFIX):]] = value
        else:
            headers[names.get(name, name.lower())] = value
    return headers


async def complete(request: Request) -> Response:
    """DELETE /devices/{id}/messages/deviceBound/{lock}: complete, or reject when the query names `reject` (C8: valueless
    `&reject` or `reject=`)."""
    hub: Hub = request.app.state.hub
    rejected = "reject" in request.query_params
    if rejected and hub.has(C2D_2021_EMPTY_REJECT_REQUEUES) and b"reject=" in request.scope.get("query_string", b""):
        return await _settle(request, "requeue")
    return await _settle(request, "reject" if rejected else "complete")


async def abandon(request: Request) -> Response:
    """POST /devices/{id}/messages/deviceBound/{lock}/abandon: back in the queue for re-delivery."""
    return await _settle(request, "abandon")


async def _settle(request: Request, action: str) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    lock = request.path_params["lock"]
    if refused := messaging_routes.admit_device(request, device_id, hub.current_api_versions):
        return refused
    # If-Match: SDKs send the lock token in it, quoted or not (C9); it is tolerated, the path's lock decides.
    if hub.has(C2D_IF_MATCH_REFUSED) and request.headers.get("if-match") is not None:
        return error_response(hub, 412, PRECONDITION_FAILED, "If-Match does not match")
    with hub.lock:
        if device_id not in hub.devices:
            return messaging_routes._device_not_found(hub, device_id)
        queue = hub.device_queue(device_id)
        message = queue.held(lock, hub.clock.now())
        if message is None:
            if hub.has(C2D_2021_LOCK_LOST_404):
                return messaging_routes._device_not_found(hub, device_id)
            return _lock_lost(hub, lock)
        _settle_message(hub, queue, message, action)
    return Response(status_code=204)


def _settle_message(hub: Hub, queue: DeviceQueue, message: Message, action: str) -> None:
    now = hub.clock.now()
    if action == "abandon" and hub.has(C2D_2021_ABANDON_COMPLETES):
        queue.complete(message, now)
    elif action == "abandon":
        limit = None if hub.has(C2D_2021_NO_MAX_DELIVERY_COUNT) else hub.delivery_limit()
        queue.abandon(message, limit, now=now)
    elif action == "complete" and hub.has(C2D_2021_COMPLETE_KEEPS_MESSAGE):
        queue.release(message)
    elif action == "requeue" or (action == "reject" and hub.has(C2D_2021_REJECT_REQUEUES)):
        queue.release(message)
    elif action == "reject" and hub.has(FEEDBACK_REJECTED_AS_SUCCESS):
        queue.complete(message, now)  # gone all the same, but its feedback says Success
    else:
        messaging_routes.settle(hub, queue, message, action)


def _lock_lost(hub: Hub, lock: str) -> Response:
    return error_response(hub, 412, LOCK_LOST, f"no message holds lock {lock[:64]!r}: it is unknown, has expired or "
                                               "was settled")


# -- feedback, the service side -------------------------------------------------------------------------------------


def _admit_service(request: Request) -> Response | None:
    hub: Hub = request.app.state.hub
    permission = REGISTRY_READ if hub.has(FEEDBACK_NO_SERVICE_CONNECT) else SERVICE_CONNECT
    return admit(request, permission, versions=hub.current_api_versions)


def _feedback_queue(hub: Hub) -> DeviceQueue:
    """Call under hub.lock."""
    window = 0.0 if hub.has(FEEDBACK_ONE_RECORD_PER_BATCH) else feedback.BATCH_SECONDS
    queue = hub.feedback.collect(hub, every_ack=hub.has(FEEDBACK_IGNORES_ACK), window=window)
    if hub.has(FEEDBACK_ONE_RECORD_PER_BATCH):
        queue = _split_batches(queue)
    return queue


def _split_batches(queue: DeviceQueue) -> DeviceQueue:
    """The fault feedback-one-record-per-batch: every batch of several records becomes one message per record."""
    for message in [m for m in queue.messages if m.locked_until is None]:
        records = json.loads(message.body)
        if len(records) > 1:
            queue.remove(message)
            for record in records:
                queue.add(json.dumps([record]).encode(), message.properties, message.enqueued_at,
                          message.expires_at - message.enqueued_at)
    queue.messages.sort(key=lambda m: m.sequence_number)
    return queue


async def receive_feedback(request: Request) -> Response:
    """GET /messages/serviceBound/feedback: lock and return the next feedback batch (a JSON array); 204 when none."""
    hub: Hub = request.app.state.hub
    if request.method == "HEAD":
        return error_response(hub, 405, METHOD_NOT_ALLOWED, "HEAD is not allowed here", headers={"Allow": "GET"})
    if refused := _admit_service(request):
        return refused
    with hub.lock:
        message = _feedback_queue(hub).lock_next(hub.clock.now(), feedback.LOCK_SECONDS)
        if message is None:
            return Response(status_code=200 if hub.has(FEEDBACK_EMPTY_200) else 204)
        body = message.body
        if hub.has(FEEDBACK_FIELDS_PASCAL_CASE):
            body = json.dumps([{k[0].upper() + k[1:]: v for k, v in r.items()} for r in json.loads(body)]).encode()
        content_type = "application/json" if hub.has(FEEDBACK_JSON_CONTENT_TYPE) else feedback.CONTENT_TYPE
        headers = {
            "ETag": f'"{message.lock_token}"', "Content-Type": content_type,
            "iothub-enqueuedtime": messaging_routes.timestamp(message.enqueued_at),
            "iothub-sequencenumber": str(message.sequence_number),
            "iothub-deliverycount": str(message.delivery_count),
            "iothub-userid": message.properties.get("IoTHub-UserId", ""),
        }
    return Response(body, status_code=200, headers=headers)


async def complete_feedback(request: Request) -> Response:
    """DELETE /messages/serviceBound/feedback/{lock}: the batch is deleted from the feedback queue."""
    return await _settle_feedback(request, "complete")


async def abandon_feedback(request: Request) -> Response:
    """POST /messages/serviceBound/feedback/{lock}/abandon: the batch goes back to be received again."""
    return await _settle_feedback(request, "abandon")


async def _settle_feedback(request: Request, action: str) -> Response:
    hub: Hub = request.app.state.hub
    lock = request.path_params["lock"]
    if refused := _admit_service(request):
        return refused
    with hub.lock:
        queue = _feedback_queue(hub)
        message = queue.held(lock, hub.clock.now())
        if message is None:
            return Response(status_code=204) if hub.has(FEEDBACK_ACCEPTS_UNKNOWN_LOCK) else _lock_lost(hub, lock)
        if action == "complete" and hub.has(FEEDBACK_COMPLETE_KEEPS):
            queue.release(message)
        elif action == "complete" or hub.has(FEEDBACK_ABANDON_DELETES):
            queue.remove(message)
        else:
            queue.abandon(message, feedback.MAX_DELIVERY_COUNT, now=hub.clock.now())
    return Response(status_code=204)


_DEVICE = "/devices/{device_id}/messages"
_ALL = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ROUTES: list[Route] = [
    Route(f"{_DEVICE}/events", _shared(messaging_routes.send_event, send_event), methods=["POST"]),
    Route(f"{_DEVICE}/devicebound", _shared(messaging_routes.receive, receive), methods=["GET"]),
    Route(f"{_DEVICE}/devicebound/{{lock}}", _shared(messaging_routes.complete, complete), methods=["DELETE"]),
    Route(f"{_DEVICE}/devicebound/{{lock}}/abandon", _shared(messaging_routes.abandon, abandon), methods=["POST"]),
    Route(f"{_DEVICE}/deviceBound", _only_2021(receive, ("GET",)), methods=list(_ALL)),
    Route(f"{_DEVICE}/deviceBound/{{lock}}", _only_2021(complete, ("DELETE",)), methods=list(_ALL)),
    Route(f"{_DEVICE}/deviceBound/{{lock}}/abandon", _only_2021(abandon, ("POST",)), methods=list(_ALL)),
    # The swagger spells serviceBound, the c2d page servicebound: both are served.
    *(Route(f"/messages/{spelling}/feedback", _only_2021(receive_feedback, ("GET",)), methods=list(_ALL))
      for spelling in ("serviceBound", "servicebound")),
    *(Route(f"/messages/{spelling}/feedback/{{lock}}", _only_2021(complete_feedback, ("DELETE",)), methods=list(_ALL))
      for spelling in ("serviceBound", "servicebound")),
    *(Route(f"/messages/{spelling}/feedback/{{lock}}/abandon", _only_2021(abandon_feedback, ("POST",)),
            methods=list(_ALL)) for spelling in ("serviceBound", "servicebound")),
]

"""The Device Identities handlers (INVENTORY §2a, §6; OBSERVED §1, §3).

Every request is judged in this order: route and method (Starlette, see app.py) → api-version → token → request
validation (400) → existence (404) → quota (403) → If-Match (412/428) → action. Preconditions come last because
RFC 7232 evaluates them only when the unconditional answer would be 2xx.
"""

from __future__ import annotations

import re
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from . import devices_2021
from .error_envelope import (
    ARGUMENT_INVALID,
    DEVICE_NOT_FOUND,
    PRECONDITION_FAILED,
    PRECONDITION_REQUIRED,
    QUOTA_EXCEEDED,
    SERVER_ERROR,
    error_response,
)
from .faults import switch
from .gate import admit
from .hub import Hub
from .identities import Device, InvalidDevice, NotJson, check_device_id, new_device, parse_body, updated_device
from .if_match import IfMatch, MalformedIfMatch, parse_if_match
from .policies import REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT
from .responses import json_response

CREATE_RETURNS_200 = switch("create-returns-200")
DELETE_MISSING_RETURNS_204 = switch("delete-missing-returns-204")
ETAG_CHANGES_ON_READ = switch("etag-changes-on-read")
ETAG_HEADER_MISMATCH = switch("etag-header-mismatch")
IGNORE_IF_MATCH = switch("ignore-if-match")
LIST_IGNORES_TOP = switch("list-ignores-top")
NO_ETAG_HEADER = switch("no-etag-header")
REJECT_IF_MATCH_STAR = switch("reject-if-match-star")
SERVER_ERROR_ON_BAD_JSON = switch("server-error-on-bad-json")
STATS_MISSING_FIELD = switch("stats-missing-field")
UNQUOTED_ETAG = switch("unquoted-etag")
WRITE_BEFORE_PRECONDITION = switch("write-before-precondition")

MAX_LIST = 1000  # list-device-identities.md: at most 1000; a top outside 1-1000 means 1000
INTEGER = re.compile(r"[+-]?[0-9]+")


async def list_devices(request: Request) -> Response:
    if devices_2021.is_current(request):
        return await devices_2021.list_devices(request)
    hub: Hub = request.app.state.hub
    if refused := admit(request, REGISTRY_READ):
        return refused
    limit = MAX_LIST
    top = request.query_params.get("top")
    if top is not None:
        if not INTEGER.fullmatch(top):
            return error_response(hub, 400, ARGUMENT_INVALID, f"top {top[:40]!r} is not an integer")
        # Measure the digits first: a very long number is simply out of range (and too long for int()).
        in_range = len(top.lstrip("+-").lstrip("0")) <= 4 and 1 <= int(top) <= MAX_LIST
        if in_range and not hub.has(LIST_IGNORES_TOP):
            limit = int(top)
    with hub.lock:
        chosen = sorted(hub.devices)[:limit]
        payload = [hub.devices[device_id].to_json(hub.queued(device_id)) for device_id in chosen]
    return json_response(hub, 200, payload)


async def device(request: Request) -> Response:
    """/devices/{deviceId}: one route for all its methods, so a wrong method's 405 lists them all in Allow.
    api-version 2021-04-12 is served by devices_2021.py."""
    if devices_2021.is_current(request):
        return await devices_2021.device(request)
    if request.method == "PUT":
        return await put_device(request)
    if request.method == "DELETE":
        return await delete_device(request)
    return await get_device(request)


async def get_device(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := admit(request, REGISTRY_READ, device_id):
        return refused
    try:
        check_device_id(hub, device_id)
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        found = hub.devices.get(device_id)
        if found is not None and hub.has(ETAG_CHANGES_ON_READ):
            found = hub.devices[device_id] = replace(found, etag=hub.next_etag())
        queued = hub.queued(device_id) if found is not None else 0
    if found is None:
        return _device_not_found(hub, device_id)
    return device_response(hub, 200, found, queued)


async def put_device(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := admit(request, REGISTRY_WRITE, device_id):
        return refused
    try:
        check_device_id(hub, device_id)
        condition = parse_if_match(hub, request.headers.getlist("if-match"))
        given = parse_body(await request.body())
    except MalformedIfMatch as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    except NotJson as exc:
        if hub.has(SERVER_ERROR_ON_BAD_JSON):
            return error_response(hub, 500, SERVER_ERROR, "internal error")
        return error_response(hub, 400, exc.code, exc.message)
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    if hub.has(IGNORE_IF_MATCH):
        condition = None
    with hub.lock:
        old = hub.devices.get(device_id)
        if old is None:
            if given.device_id is not None and given.device_id != device_id:
                return error_response(hub, 400, ARGUMENT_INVALID,
                                      f"body deviceId {given.device_id[:140]!r} differs from the URI's {device_id!r}")
            if len(hub.devices) >= hub.max_devices:
                return error_response(hub, 403, QUOTA_EXCEEDED,
                                      f"the hub already holds its maximum of {hub.max_devices} devices")
            if condition is not None:
                # RFC 7232 §3.1: If-Match (even *) fails when there is no current representation.
                return _precondition_failed(hub, f"device {device_id!r} does not exist")
            saved = hub.devices[device_id] = new_device(hub, device_id, given)
            hub.renew(device_id)  # a new device starts with an empty queue and an empty twin
            return device_response(hub, _create_status(hub), saved)
        if not _holds(hub, condition, old):
            if hub.has(WRITE_BEFORE_PRECONDITION):
                hub.devices[device_id] = updated_device(hub, old, given)
            return _precondition_failed(hub, "Device version did not match")
        saved = hub.devices[device_id] = updated_device(hub, old, given)
        queued = hub.queued(device_id)
    return device_response(hub, 200, saved, queued)


async def delete_device(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := admit(request, REGISTRY_WRITE, device_id):
        return refused
    try:
        check_device_id(hub, device_id)
        condition = parse_if_match(hub, request.headers.getlist("if-match"))
    except (InvalidDevice, MalformedIfMatch) as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    with hub.lock:
        old = hub.devices.get(device_id)
        if old is None:
            if hub.has(DELETE_MISSING_RETURNS_204):
                return Response(status_code=204)
            return _device_not_found(hub, device_id)
        if condition is None and hub.profile.value("delete_requires_if_match"):
            return error_response(hub, 428, PRECONDITION_REQUIRED,
                                  "a delete needs If-Match: the device's ETag, or * to delete unconditionally")
        if not _holds(hub, None if hub.has(IGNORE_IF_MATCH) else condition, old):
            return _precondition_failed(hub, "Device version did not match")
        del hub.devices[device_id]
        hub.renew(device_id)  # its cloud-to-device messages and its twin go with it
    headers = etag_header(hub, old) if hub.profile.value("etag_on_delete") else {}
    return Response(status_code=204, headers=headers)


async def registry_statistics(request: Request) -> Response:
    if devices_2021.is_current(request):
        return await devices_2021.registry_statistics(request)
    hub: Hub = request.app.state.hub
    if refused := admit(request, REGISTRY_READ):
        return refused
    with hub.lock:
        statuses = [d.status for d in hub.devices.values()]
    payload = {
        "totalDeviceCount": len(statuses),
        "totalDevicesByStatus": {"enabled": statuses.count("enabled"), "disabled": statuses.count("disabled")},
    }
    if hub.has(STATS_MISSING_FIELD):
        del payload["totalDeviceCount"]
    return json_response(hub, 200, payload)


async def service_statistics(request: Request) -> Response:
    if devices_2021.is_current(request):
        return await devices_2021.service_statistics(request)
    hub: Hub = request.app.state.hub
    if refused := admit(request, SERVICE_CONNECT):
        return refused
    return json_response(hub, 200, {"totalConnectedDevices": 0})  # no device ever connects to the reference


def device_response(hub: Hub, status: int, device: Device, queued: int = 0) -> Response:
    return json_response(hub, status, device.to_json(queued), etag_header(hub, device))


def etag_header(hub: Hub, device: Device) -> dict[str, str]:
    """OBSERVED §1: `ETag: "<etag>"`, the strong quoted form of the body's etag."""
    if hub.has(NO_ETAG_HEADER):
        return {}
    tag = _header_tag(hub, device)
    return {"ETag": tag if hub.has(UNQUOTED_ETAG) else f'"{tag}"'}


def _header_tag(hub: Hub, device: Device) -> str:
    return device.etag + "x" if hub.has(ETAG_HEADER_MISMATCH) else device.etag


def _holds(hub: Hub, condition: IfMatch | None, device: Device) -> bool:
    if condition is None:
        return True
    if condition.wildcard and hub.has(REJECT_IF_MATCH_STAR):
        return False
    # Under etag-header-mismatch both values count as current, so only the header/body check notices that fault.
    return condition.matches(hub, {device.etag, _header_tag(hub, device)})


def _create_status(hub: Hub) -> int:
    if hub.has(CREATE_RETURNS_200):
        return 200
    return 200 if 200 in hub.profile.value("create_statuses") else 201


def _device_not_found(hub: Hub, device_id: str) -> Response:
    return error_response(hub, 404, DEVICE_NOT_FOUND, f"Device {device_id!r} not found")


def _precondition_failed(hub: Hub, detail: str) -> Response:
    return error_response(hub, 412, PRECONDITION_FAILED, f"Precondition failed: {detail}")

"""The device twin handlers, api-version 2016-11-14 (INVENTORY §3; autogen-2016-11-14__DeviceTwinApi_GetDeviceTwin.yml,
..._UpdateDeviceTwin.yml).

Every request is judged in this order: route and method (Starlette, see app.py) → api-version → token → due scheduled
jobs run to their end → request validation (400) → existence (404) → If-Match (412) → action.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import twins
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, PRECONDITION_FAILED, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .identities import InvalidDevice, check_device_id
from .if_match import MalformedIfMatch, parse_if_match
from .policies import REGISTRY_READ, REGISTRY_WRITE
from .responses import json_response
from .scheduled_jobs_routes import catch_up
from .twins import InvalidTwin, Twin

TWIN_PATCH_IGNORED = switch("twin-patch-ignored")


async def twin(request: Request) -> Response:
    """/twins/{deviceId}: one route for its methods, so a wrong method's 405 lists them all in Allow."""
    if request.method == "PATCH":
        return await patch_twin(request)
    return await get_twin(request)


async def get_twin(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := admit(request, REGISTRY_READ, device_id, hub.scheduled_api_versions):
        return refused
    await catch_up(hub)
    try:
        check_device_id(hub, device_id)
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        found = twins.device_twin(hub, device_id)
    if found is None:
        return _device_not_found(hub, device_id)
    return twin_response(hub, found)


async def patch_twin(request: Request) -> Response:
    """PATCH /twins/{deviceId}: tags and desired properties merged in; a null removes its key."""
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := admit(request, REGISTRY_WRITE, device_id, hub.scheduled_api_versions):
        return refused
    await catch_up(hub)
    try:
        check_device_id(hub, device_id)
        condition = parse_if_match(hub, request.headers.getlist("if-match"))
        body = twins.parse_body(await request.body())
        if body.get("deviceId") is not None and body["deviceId"] != device_id:
            raise InvalidTwin(ARGUMENT_INVALID, "the body's deviceId differs from the URI's")
        patch = twins.read_patch(body)
    except MalformedIfMatch as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    except (InvalidDevice, InvalidTwin) as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        old = twins.device_twin(hub, device_id)
        if old is None:
            return _device_not_found(hub, device_id)
        if condition is not None and not condition.matches(hub, {old.etag}):
            return error_response(hub, 412, PRECONDITION_FAILED, "Precondition failed: twin version did not match")
        saved = old
        if not hub.has(TWIN_PATCH_IGNORED):
            try:
                saved = hub.twins[device_id] = twins.updated_twin(hub, old, patch)
            except InvalidTwin as exc:
                return error_response(hub, 400, exc.code, exc.message)
    return twin_response(hub, saved)


def twin_response(hub: Hub, found: Twin) -> Response:
    # The quoted etag in an ETag header, as for a device identity: every request scoped to one device has one.
    return json_response(hub, 200, found.to_json(), {"ETag": f'"{found.etag}"'})


def _device_not_found(hub: Hub, device_id: str) -> Response:
    return error_response(hub, 404, DEVICE_NOT_FOUND, f"Device {device_id!r} not found")

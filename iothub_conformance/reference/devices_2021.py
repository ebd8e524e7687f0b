"""Device identities and statistics at api-version 2021-04-12 (registry_routes.py hands these requests here).

Sources: docs/sources/service-2021-04-12.json (Devices_*, Statistics_*, Device), docs/sources/INVENTORY-2021-04-12.md
§2.1, §6, §10 (C1, C3, C20, C39). Judged in the same order as the 2016 handlers: api-version → token → request (400) →
existence (404) → quota (403) → If-Match (412) → action. No 2016 fault switch applies here: this version has its own.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace

from starlette.requests import Request
from starlette.responses import Response

from . import permissions_2021
from .credentials import Credentials, parse_credentials
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, FORMAT_ERROR, PRECONDITION_FAILED, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .identities import DEVICE_ID, SPECIAL_CHARACTERS, Device, DeviceInput, InvalidDevice, _now, device_input
from .policies import SERVICE_CONNECT
from .responses import json_response

CREATE_RETURNS_201 = switch("device-2021-create-returns-201")
NO_GENERATED_KEYS = switch("device-2021-no-generated-keys")
DROPS_CAPABILITIES = switch("device-2021-drops-capabilities")
MISSING_CODE = switch("device-2021-missing-code")
UPDATE_NEW_GENERATION_ID = switch("device-2021-update-new-generation-id")
NO_ETAG_HEADER = switch("device-2021-no-etag-header")
ETAG_UNCHANGED_ON_WRITE = switch("device-2021-etag-unchanged-on-write")
IGNORE_IF_MATCH = switch("device-2021-ignore-if-match")
DELETE_NEEDS_IF_MATCH = switch("device-2021-delete-needs-if-match")
DELETE_KEEPS_MODULES = switch("device-2021-delete-keeps-modules")
LIST_IGNORES_TOP = switch("device-2021-list-ignores-top")
STATS_OLD_SHAPE = switch("stats-2021-old-shape")
SERVICE_STATS_OLD_SHAPE = switch("stats-2021-service-old-shape")

MAX_LIST = 1000  # Devices_GetDevices: "Any value outside the range of 1-1000 is considered to be 1000"


def versions(hub: Hub) -> tuple[str, ...]:
    return hub.current_api_versions


def is_current(request: Request) -> bool:
    """Whether the request names api-version 2021-04-12 (and nothing else): the 2016 handlers take every other one."""
    hub: Hub = request.app.state.hub
    values = request.query_params.getlist("api-version")
    return bool(values) and all(value in versions(hub) for value in values)


# -- If-Match -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    wildcard: bool = False
    tags: tuple[tuple[bool, str], ...] = ()  # (weak, opaque-tag)

    def holds(self, etag: str | None) -> bool:
        """Strong comparison (RFC 7232 §3.1): a weak tag never matches; * matches any current entity."""
        if etag is None:
            return False
        return self.wildcard or any(not weak and tag == etag for weak, tag in self.tags)


def condition(hub: Hub, values: list[str]) -> Condition | None:
    """The request's If-Match, read as the SDKs send it (INVENTORY-2021-04-12.md §6: quoted or as given): `""` or none
    is no condition; `*` the wildcard, `"*"` too where the profile says so; a bare tag is taken as the tag it names,
    since clients pass the body's unquoted etag (§10 C4). Never refused: an unknown tag simply does not match."""
    text = ", ".join(values).strip()
    if not text or text == '""':
        return None
    if text == "*" or (text == '"*"' and hub.profile.value("quoted_star_is_wildcard_2021")):
        return Condition(wildcard=True)
    tags = []
    for part in text.split(","):
        item = part.strip()
        weak = item.startswith("W/")
        item = item[2:] if weak else item
        if len(item) >= 2 and item[0] == item[-1] == '"':
            item = item[1:-1]
        if item:
            tags.append((weak, item))
    return Condition(tags=tuple(tags))


def precondition_failed(hub: Hub, what: str) -> Response:
    return error_response(hub, 412, PRECONDITION_FAILED, f"Precondition failed: {what} version did not match")


# -- bodies ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceInput2021:
    base: DeviceInput
    credentials: Credentials | None = None
    iot_edge: bool | None = None
    device_scope: str | None = None
    parent_scopes: tuple[str, ...] | None = None


def check_id(device_id: str, what: str = "deviceId") -> None:
    if not DEVICE_ID.fullmatch(device_id):
        raise InvalidDevice(ARGUMENT_INVALID, f"{what} {device_id[:140]!r} is not 1-128 ASCII alphanumerics or "
                                              f"{SPECIAL_CHARACTERS}")


def read_json_object(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidDevice(FORMAT_ERROR, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidDevice(FORMAT_ERROR, "the request body must be a JSON object")
    return body


def device_input_2021(body: dict) -> DeviceInput2021:
    capabilities = body.get("capabilities")
    if capabilities is not None and not isinstance(capabilities, dict):
        raise InvalidDevice(ARGUMENT_INVALID, "capabilities must be an object")
    iot_edge = (capabilities or {}).get("iotEdge")
    if iot_edge is not None and not isinstance(iot_edge, bool):
        raise InvalidDevice(ARGUMENT_INVALID, "capabilities.iotEdge must be true or false")
    scope = body.get("deviceScope")
    if scope is not None and not isinstance(scope, str):
        raise InvalidDevice(ARGUMENT_INVALID, "deviceScope must be a string")
    parents = body.get("parentScopes")
    if parents is not None and not (isinstance(parents, list) and all(isinstance(p, str) for p in parents)):
        raise InvalidDevice(ARGUMENT_INVALID, "parentScopes must be an array of strings")
    return DeviceInput2021(device_input(body), parse_credentials(body), iot_edge, scope,
                           tuple(parents) if parents is not None else None)


def new_device(hub: Hub, device_id: str, given: DeviceInput2021) -> Device:
    """Call under hub.lock (it takes an etag)."""
    credentials = given.credentials or Credentials()
    if not hub.has(NO_GENERATED_KEYS):
        credentials = credentials.with_generated_keys()
    base = given.base
    return Device(
        device_id=device_id,
        generation_id=f"{secrets.randbelow(10**18):018d}",
        etag=hub.next_etag(),
        primary_key=credentials.primary_key,
        secondary_key=credentials.secondary_key,
        status=base.status or "enabled",
        status_reason=base.status_reason,
        status_updated_time=_now(),
        auth_type=credentials.type,
        thumbprints=(credentials.primary_thumbprint, credentials.secondary_thumbprint),
        iot_edge=bool(given.iot_edge),
        device_scope=given.device_scope,
        parent_scopes=given.parent_scopes or (),
    )


def updated_device(hub: Hub, old: Device, given: DeviceInput2021) -> Device:
    """What the body leaves out keeps its value; deviceId and generationId stay the server's. Call under hub.lock."""
    base = given.base
    status = base.status or old.status
    old_credentials = Credentials(old.auth_type, old.primary_key, old.secondary_key, *old.thumbprints)
    credentials = old_credentials if given.credentials is None else given.credentials.merged_into(old_credentials)
    return replace(
        old,
        primary_key=credentials.primary_key,
        secondary_key=credentials.secondary_key,
        auth_type=credentials.type,
        thumbprints=(credentials.primary_thumbprint, credentials.secondary_thumbprint),
        status=status,
        status_reason=old.status_reason if base.status_reason is None else base.status_reason,
        status_updated_time=old.status_updated_time if status == old.status else _now(after=old.status_updated_time),
        iot_edge=old.iot_edge if given.iot_edge is None else given.iot_edge,
        device_scope=old.device_scope if given.device_scope is None else given.device_scope,
        parent_scopes=old.parent_scopes if given.parent_scopes is None else given.parent_scopes,
        etag=old.etag if hub.has(ETAG_UNCHANGED_ON_WRITE) else hub.next_etag(),
        generation_id=f"{secrets.randbelow(10**18):018d}" if hub.has(UPDATE_NEW_GENERATION_ID) else old.generation_id,
    )


# -- responses ------------------------------------------------------------------------------------------------------


def representation(hub: Hub, device: Device, queued: int) -> dict:
    body = device.to_json_2021(queued)
    if hub.has(DROPS_CAPABILITIES):
        body["capabilities"] = {"iotEdge": False}
    return body


def device_response(hub: Hub, status: int, device: Device, queued: int = 0) -> Response:
    """INVENTORY-2021-04-12.md §1.2: `ETag: "<etag>"` (quoted) beside the unquoted body etag."""
    headers = {} if hub.has(NO_ETAG_HEADER) else {"ETag": f'"{device.etag}"'}
    return json_response(hub, status, representation(hub, device, queued), headers)


def device_not_found(hub: Hub, device_id: str) -> Response:
    code = "NotFound" if hub.has(MISSING_CODE) else DEVICE_NOT_FOUND
    return error_response(hub, 404, code, f"Device {device_id[:140]!r} not found")


def bad_request(hub: Hub, exc: InvalidDevice) -> Response:
    return error_response(hub, 400, exc.code, exc.message)


# -- handlers -------------------------------------------------------------------------------------------------------


async def device(request: Request) -> Response:
    if request.method == "PUT":
        return await put_device(request)
    if request.method == "DELETE":
        return await delete_device(request)
    return await get_device(request)


async def list_devices(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := permissions_2021.admit_read(request, "device"):
        return refused
    limit = MAX_LIST
    top = request.query_params.get("top")
    if top is not None:
        number = _int32(top)
        if number is None:
            return error_response(hub, 400, ARGUMENT_INVALID, f"top {top[:40]!r} is not an int32 integer")
        if 1 <= number <= MAX_LIST and not hub.has(LIST_IGNORES_TOP):
            limit = number
    with hub.lock:
        chosen = sorted(hub.devices)[:limit]
        payload = [representation(hub, hub.devices[d], hub.queued(d)) for d in chosen]
    return json_response(hub, 200, payload)


def _int32(text: str) -> int | None:
    """The swagger's `top` is an int32 ("Any value outside the range of 1-1000 is considered to be 1000" reads an
    int32): ASCII digits with an optional sign, within int32, else None. Digits are counted before int() reads them
    (int() would also take "1_0", " 5" or non-ASCII digits, and thousands of digits slowly)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > 10:
        return None
    number = int(text)
    return number if -2**31 <= number < 2**31 else None


async def get_device(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := permissions_2021.admit_read(request, "device", device_id):
        return refused
    try:
        check_id(device_id)
    except InvalidDevice as exc:
        return bad_request(hub, exc)
    with hub.lock:
        found = hub.devices.get(device_id)
        queued = hub.queued(device_id) if found is not None else 0
    if found is None:
        return device_not_found(hub, device_id)
    return device_response(hub, 200, found, queued)


async def put_device(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := permissions_2021.admit_write(request, "device", device_id):
        return refused
    try:
        check_id(device_id)
        given = device_input_2021(read_json_object(await request.body()))
    except InvalidDevice as exc:
        return bad_request(hub, exc)
    wanted = None if hub.has(IGNORE_IF_MATCH) else condition(hub, request.headers.getlist("if-match"))
    with hub.lock:
        old = hub.devices.get(device_id)
        if old is None:
            if given.base.device_id is not None and given.base.device_id != device_id:
                return error_response(hub, 400, ARGUMENT_INVALID, f"body deviceId {given.base.device_id[:140]!r} "
                                                                  f"differs from the URI's {device_id!r}")
            if len(hub.devices) >= hub.max_devices:
                return error_response(hub, 403, "IotHubQuotaExceeded",
                                      f"the hub already holds its maximum of {hub.max_devices} devices")
            if wanted is not None:
                # RFC 7232 §3.1: If-Match (even *) fails when there is no current representation.
                return precondition_failed(hub, f"device {device_id!r} does not exist: Device")
            saved = hub.devices[device_id] = new_device(hub, device_id, given)
            hub.renew(device_id)  # a new device starts with an empty queue, no twin and no modules
            return device_response(hub, 201 if hub.has(CREATE_RETURNS_201) else 200, saved)
        if wanted is not None and not wanted.holds(old.etag):
            return precondition_failed(hub, "Device")
        saved = hub.devices[device_id] = updated_device(hub, old, given)
        queued = hub.queued(device_id)
    return device_response(hub, 200, saved, queued)


async def delete_device(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := permissions_2021.admit_write(request, "device", device_id):
        return refused
    try:
        check_id(device_id)
    except InvalidDevice as exc:
        return bad_request(hub, exc)
    wanted = None if hub.has(IGNORE_IF_MATCH) else condition(hub, request.headers.getlist("if-match"))
    with hub.lock:
        old = hub.devices.get(device_id)
        if old is None:
            return device_not_found(hub, device_id)
        required = hub.profile.value("delete_requires_if_match_2021") or hub.has(DELETE_NEEDS_IF_MATCH)
        if wanted is None and required and request.headers.get("if-match") is None:
            return error_response(hub, 428, "PreconditionRequired",
                                  "a delete needs If-Match: the device's ETag, or * to delete unconditionally")
        if wanted is not None and not wanted.holds(old.etag):
            return precondition_failed(hub, "Device")
        del hub.devices[device_id]
        modules = hub.modules.get(device_id)
        hub.renew(device_id)  # its cloud-to-device messages, twin and modules go with it
        if modules is not None and hub.has(DELETE_KEEPS_MODULES):
            hub.modules[device_id] = modules
    return Response(status_code=204)


async def registry_statistics(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := permissions_2021.admit_read(request, "statistics"):
        return refused
    with hub.lock:
        statuses = [d.status for d in hub.devices.values()]
    enabled, disabled = statuses.count("enabled"), statuses.count("disabled")
    if hub.has(STATS_OLD_SHAPE):
        payload: dict = {"totalDeviceCount": len(statuses),
                         "totalDevicesByStatus": {"enabled": enabled, "disabled": disabled}}
    else:
        payload = {"totalDeviceCount": len(statuses), "enabledDeviceCount": enabled, "disabledDeviceCount": disabled}
    return json_response(hub, 200, payload)


async def service_statistics(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    # The permission is not stated (INVENTORY-2021-04-12.md §1.3); the 2016 handler's, ServiceConnect, is kept.
    if refused := admit(request, SERVICE_CONNECT, versions=versions(hub)):
        return refused
    name = "totalConnectedDevices" if hub.has(SERVICE_STATS_OLD_SHAPE) else "connectedDeviceCount"
    return json_response(hub, 200, {name: 0})  # no device ever connects to the reference

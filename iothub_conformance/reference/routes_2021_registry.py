"""The routes api-version 2021-04-12 adds (app.py serves them first): bulk registry, modules, cloud-to-device purge.
Devices and statistics keep their 2016 routes, whose handlers (registry_routes.py) hand 2021-04-12 requests to
devices_2021.py.

Sources: docs/sources/service-2021-04-12.json (Modules_*, CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue,
PurgeMessageQueueResult); docs/sources/INVENTORY-2021-04-12.md §1.3 (permissions), §2.3, §2.11, §7.2 (404010
ModuleNotFound, 409301 ModuleAlreadyExistsOnDevice, 413003 TooManyModulesOnDevice).
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import bulk_registry, devices_2021, permissions_2021
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, METHOD_NOT_ALLOWED, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .identities import InvalidDevice
from .modules import MAX_MODULES_PER_DEVICE, Module, module_input, new_module, updated_module
from .policies import DEVICE_CONNECT, SERVICE_CONNECT
from .registry_routes import list_devices
from .responses import json_response

DROPS_MANAGED_BY = switch("module-drops-managed-by")
NO_GENERATED_KEYS = switch("module-no-generated-keys")
GET_NEW_GENERATION_ID = switch("module-get-new-generation-id")
MISSING_DEVICE_CODE = switch("module-missing-device-code")
LIST_EMPTY = switch("module-list-empty")
UPDATE_NEW_GENERATION_ID = switch("module-update-new-generation-id")
IGNORE_IF_MATCH = switch("module-ignore-if-match")
DELETE_KEEPS = switch("module-delete-keeps")
NO_LIMIT = switch("module-no-limit")
TOKEN_READS_REGISTRY = switch("module-token-reads-registry")
PURGE_KEEPS_MESSAGES = switch("purge-keeps-messages")
PURGE_OMITS_DEVICE_ID = switch("purge-omits-device-id")
DEVICE_DELETE_KEEPS_MODULES = switch("device-2021-delete-keeps-modules")

MODULE_NOT_FOUND = "ModuleNotFound"  # 404010
TOO_MANY_MODULES = "TooManyModulesOnDevice"  # 413003


async def devices_collection(request: Request) -> Response:
    """/devices: GET lists (registry_routes.list_devices, either version); POST is the bulk registry operation of
    2021-04-12. A POST naming a 2016 version is answered as before this route existed: 405, Allow GET, HEAD."""
    if request.method == "GET":
        return await list_devices(request)
    hub: Hub = request.app.state.hub
    values = request.query_params.getlist("api-version")
    if values and all(value in hub.supported_api_versions for value in values):
        return error_response(hub, 405, METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                              headers={"Allow": "GET, HEAD"})
    return await bulk_registry.update_registry(request)


# -- modules --------------------------------------------------------------------------------------------------------


def _ids(request: Request) -> tuple[str, str | None]:
    return request.path_params["device_id"], request.path_params.get("module_id")


def _check(hub: Hub, device_id: str, module_id: str | None) -> Response | None:
    try:
        devices_2021.check_id(device_id)
        if module_id is not None:
            devices_2021.check_id(module_id, "moduleId")
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    return None


def _module_not_found(hub: Hub, device_id: str, module_id: str) -> Response:
    code = DEVICE_NOT_FOUND if hub.has(MISSING_DEVICE_CODE) else MODULE_NOT_FOUND
    return error_response(hub, 404, code, f"Module {module_id[:140]!r} not found on device {device_id[:140]!r}")


def _representation(hub: Hub, module: Module) -> dict:
    body = module.to_json()
    if hub.has(GET_NEW_GENERATION_ID):
        body["generationId"] = module.generation_id[::-1] + "0"
    return body


def _module_token(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    return "skn=" not in header and "%2Fmodules%2F" in header.replace("%2f", "%2F")


async def list_modules(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id, _ = _ids(request)
    if refused := permissions_2021.admit_read(request, "module", device_id):
        return refused
    if problem := _check(hub, device_id, None):
        return problem
    with hub.lock:
        if device_id not in hub.devices:
            return devices_2021.device_not_found(hub, device_id)
        held = list(hub.modules.get(device_id, {}).values())
    payload = [] if hub.has(LIST_EMPTY) else [_representation(hub, m) for m in sorted(held, key=lambda m: m.module_id)]
    return json_response(hub, 200, payload)


async def module(request: Request) -> Response:
    """/devices/{id}/modules/{mid}: one route for all its methods, so a wrong method's 405 lists them all."""
    if request.method == "PUT":
        return await put_module(request)
    if request.method == "DELETE":
        return await delete_module(request)
    return await get_module(request)


async def get_module(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id, module_id = _ids(request)
    assert module_id is not None
    # A module token grants DeviceConnect only (docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md).
    if hub.has(TOKEN_READS_REGISTRY) and _module_token(request):
        refused = admit(request, DEVICE_CONNECT, device_id, versions=devices_2021.versions(hub), module_id=module_id)
    else:
        refused = permissions_2021.admit_read(request, "module", device_id, module_id)
    if refused:
        return refused
    if problem := _check(hub, device_id, module_id):
        return problem
    with hub.lock:
        # With device-2021-delete-keeps-modules a deleted device's modules stay readable; a device that never was
        # still answers DeviceNotFound.
        kept = hub.has(DEVICE_DELETE_KEEPS_MODULES) and device_id in hub.modules
        if device_id not in hub.devices and not kept:
            return devices_2021.device_not_found(hub, device_id)
        found = hub.modules.get(device_id, {}).get(module_id)
    if found is None:
        return _module_not_found(hub, device_id, module_id)
    return json_response(hub, 200, _representation(hub, found))


async def put_module(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id, module_id = _ids(request)
    assert module_id is not None
    if refused := permissions_2021.admit_write(request, "module", device_id):
        return refused
    if problem := _check(hub, device_id, module_id):
        return problem
    try:
        given = module_input(devices_2021.read_json_object(await request.body()))
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    for name, value, expected in (("moduleId", given.module_id, module_id), ("deviceId", given.device_id, device_id)):
        if value is not None and value != expected:
            return error_response(hub, 400, ARGUMENT_INVALID,
                                  f"body {name} {value[:140]!r} differs from the URI's {expected[:140]!r}")
    wanted = None if hub.has(IGNORE_IF_MATCH) else devices_2021.condition(hub, request.headers.getlist("if-match"))
    with hub.lock:
        if device_id not in hub.devices:
            return devices_2021.device_not_found(hub, device_id)
        held = hub.modules.setdefault(device_id, {})
        old = held.get(module_id)
        if old is None:
            if wanted is not None:
                return devices_2021.precondition_failed(hub, f"module {module_id!r} does not exist: Module")
            if len(held) >= MAX_MODULES_PER_DEVICE and not hub.has(NO_LIMIT):
                return error_response(hub, 413, TOO_MANY_MODULES, f"device {device_id!r} already holds "
                                                                  f"{MAX_MODULES_PER_DEVICE} modules")
            if hub.has(DROPS_MANAGED_BY):  # on create only: an update stores what it is given
                given = replace(given, managed_by=None)
            saved = held[module_id] = new_module(hub, device_id, module_id, given,
                                                 generate_keys=not hub.has(NO_GENERATED_KEYS))
            return json_response(hub, 201, saved.to_json())
        if wanted is not None and not wanted.holds(old.etag):
            return devices_2021.precondition_failed(hub, "Module")
        saved = updated_module(hub, old, given)
        if hub.has(UPDATE_NEW_GENERATION_ID):
            saved = type(saved)(**{**saved.__dict__, "generation_id": saved.generation_id[::-1] + "1"})
        held[module_id] = saved
    return json_response(hub, 200, saved.to_json())


async def delete_module(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id, module_id = _ids(request)
    assert module_id is not None
    if refused := permissions_2021.admit_write(request, "module", device_id):
        return refused
    if problem := _check(hub, device_id, module_id):
        return problem
    wanted = None if hub.has(IGNORE_IF_MATCH) else devices_2021.condition(hub, request.headers.getlist("if-match"))
    with hub.lock:
        if device_id not in hub.devices:
            return devices_2021.device_not_found(hub, device_id)
        held = hub.modules.get(device_id, {})
        old = held.get(module_id)
        if old is None:
            return _module_not_found(hub, device_id, module_id)
        if wanted is not None and not wanted.holds(old.etag):
            return devices_2021.precondition_failed(hub, "Module")
        if not hub.has(DELETE_KEEPS):
            del held[module_id]
    return Response(status_code=204)


# -- cloud-to-device purge ------------------------------------------------------------------------------------------


async def purge_queue(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id, _ = _ids(request)
    # The permission is not stated; ServiceConnect, as for the other cloud-to-device operations (INVENTORY-2021-04-12.md
    # §1.3: inferred).
    if refused := admit(request, SERVICE_CONNECT, device_id, versions=devices_2021.versions(hub)):
        return refused
    if problem := _check(hub, device_id, None):
        return problem
    with hub.lock:
        if device_id not in hub.devices:
            return devices_2021.device_not_found(hub, device_id)
        queue = hub.device_queue(device_id)
        purged = len(queue)
        if hub.has(PURGE_KEEPS_MESSAGES):
            purged = 0
        else:
            queue.clear()
    payload: dict = {"totalMessagesPurged": purged, "deviceId": device_id, "moduleId": None}
    if hub.has(PURGE_OMITS_DEVICE_ID):
        del payload["deviceId"]
    return json_response(hub, 200, payload)


ROUTES: list[Route] = [
    # /devices is also the 2016 list's path: this route takes both methods, so a wrong method's 405 names both.
    Route("/devices", devices_collection, methods=["GET", "POST"]),
    Route("/devices/{device_id}/modules", list_modules, methods=["GET"]),
    Route("/devices/{device_id}/modules/{module_id}", module, methods=["GET", "PUT", "DELETE"]),
    Route("/devices/{device_id}/commands", purge_queue, methods=["DELETE"]),
]

"""The routes api-version 2021-04-12 adds (app.py serves them first): the Edge device-scope calls.

docs/sources/INVENTORY-2021-04-12.md §4.3: the Edge hub, signed with its `$edgeHub` module's token, asks the hub for
the identities in its Edge device's scope (GET …/devicesAndModulesInDeviceScope?deviceCount=&continuationToken=, GET
…/deviceAndModuleInDeviceScope?targetDeviceId=&targetModuleId=, at 2018-08-30-preview; the CLI device client sends the
two GETs at 2019-10-01; POST …/devicesAndModulesInTargetDeviceScope with {pageSize, continuationLink, authChain} at
2020-06-30-preview), each answered with a ScopeResult {devices, modules, continuationLink}; a page holds 0–1000
devices. §4.2: the scope of a device is its `deviceScope` (ms-azure-iot-edge://…).

What no source states, and the reference decides for itself (the suite asserts none of it): the Edge device's own
scope is its deviceScope, and a device whose deviceScope is that one is in it (the Edge device among them); a page
lists its devices by deviceId and the modules of those devices; deviceCount 0 or absent means 1000; a path device
that is not an IoT Edge device is 400; a target outside the scope is 404; only the path module's own token is taken
(the nested case, where an Edge hub asks for a child Edge device's scope with its own token, is not served).
Order: api-version → token → request validation (400) → existence (404).
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import devices_2021
from .authorization import authorize
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, FORMAT_ERROR, UNAUTHORIZED, error_response
from .faults import switch
from .gate import api_version_problem
from .hub import Hub
from .identities import Device
from .policies import DEVICE_CONNECT
from .responses import json_response

EDGE_VERSIONS_REFUSED = switch("scope-2021-edge-versions-refused")
SCOPE_IGNORED = switch("scope-2021-scope-ignored")
NO_CONTINUATION_LINK = switch("scope-2021-no-continuation-link")
ONE_IGNORES_TARGET = switch("scope-2021-one-ignores-target")
TARGET_SCOPE_EMPTY = switch("scope-2021-target-scope-empty")
LISTING_DROPS_SCOPES = switch("scope-2021-listing-drops-scopes")
FOREIGN_TOKEN = switch("scope-2021-foreign-token")
EXPIRED_TOKEN = switch("scope-2021-expired-token")

# INVENTORY-2021-04-12.md §4.3: the Edge hub's versions first, then the CLI device client's.
LIST_VERSIONS = ("2018-08-30-preview", "2019-10-01")
TARGET_VERSIONS = ("2020-06-30-preview",)
MAX_PAGE = 1000  # §4.3, §9: the Edge hub's batch size is 0–1000
MODULE_NOT_FOUND = "ModuleNotFound"
LIST = "devicesAndModulesInDeviceScope"
TARGET = "devicesAndModulesInTargetDeviceScope"


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _admit(request: Request, versions: tuple[str, ...]) -> tuple[Device, str, str]:
    """The Edge device and the path's (deviceId, moduleId), once the api-version and the module's token pass."""
    hub: Hub = request.app.state.hub
    device_id, module_id = request.path_params["device_id"], request.path_params["module_id"]
    problem = api_version_problem(hub, request, ("2021-04-12",) if hub.has(EDGE_VERSIONS_REFUSED) else versions)
    if problem:
        raise Refused(400, "InvalidProtocolVersion", problem)
    relax = frozenset({"audience"} if hub.has(FOREIGN_TOKEN) else ()) | frozenset(
        {"expiry"} if hub.has(EXPIRED_TOKEN) else ())
    reason = authorize(hub, request, DEVICE_CONNECT, device_id, module_id, module_only=True, relax=relax)
    if reason:
        raise Refused(401, UNAUTHORIZED, reason)
    with hub.lock:
        edge = hub.devices.get(device_id)
        module = hub.modules.get(device_id, {}).get(module_id)
    if edge is None:
        raise Refused(404, DEVICE_NOT_FOUND, f"Device {device_id[:140]!r} not found")
    if module is None:
        raise Refused(404, MODULE_NOT_FOUND, f"Module {module_id[:140]!r} not found on device {device_id[:140]!r}")
    if not edge.iot_edge:
        raise Refused(400, ARGUMENT_INVALID, f"device {device_id[:140]!r} is not an IoT Edge device")
    return edge, device_id, module_id


def _in_scope(hub: Hub, edge: Device) -> list[Device]:
    with hub.lock:
        every = sorted(hub.devices.values(), key=lambda d: d.device_id)
    if hub.has(SCOPE_IGNORED):
        return every
    return [d for d in every if d.device_id == edge.device_id
            or (edge.device_scope is not None and d.device_scope == edge.device_scope)]


def _device_json(hub: Hub, device: Device) -> dict:
    body = devices_2021.representation(hub, device, 0)
    if hub.has(LISTING_DROPS_SCOPES):
        body.pop("deviceScope", None)
        body.pop("parentScopes", None)
    return body


def _result(hub: Hub, devices: list[Device], link: str | None) -> dict:
    with hub.lock:
        modules = [m.to_json() for d in devices for m in sorted(hub.modules.get(d.device_id, {}).values(),
                                                                  key=lambda m: m.module_id)]
    return {"devices": [_device_json(hub, d) for d in devices], "modules": modules, "continuationLink": link}


def _count(text: object) -> int:
    if isinstance(text, bool):
        raise Refused(400, ARGUMENT_INVALID, "the page size must be an integer from 0 to 1000")
    try:
        count = int(text) if isinstance(text, (int, str)) else -1
    except ValueError:
        count = -1
    if not 0 <= count <= MAX_PAGE:
        raise Refused(400, ARGUMENT_INVALID, "the page size must be an integer from 0 to 1000")
    return count or MAX_PAGE


def _after(token: str) -> str:
    """The deviceId a continuation token resumes after: the token is its base64url form."""
    try:
        padded = token.encode("ascii") + b"=" * (-len(token) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise Refused(400, ARGUMENT_INVALID, "the continuation token is not one this hub gave") from None


def _page(request: Request, edge: Device, operation: str, count: int, token: str, version: str) -> dict:
    hub: Hub = request.app.state.hub
    listed = _in_scope(hub, edge)
    if token:
        after = _after(token)
        listed = [d for d in listed if d.device_id > after]
    page, rest = listed[:count], listed[count:]
    link = None
    if rest and page and not hub.has(NO_CONTINUATION_LINK):
        next_token = base64.urlsafe_b64encode(page[-1].device_id.encode("utf-8")).decode("ascii").rstrip("=")
        module_id = request.path_params["module_id"]
        link = (f"/devices/{quote(edge.device_id, safe='')}/modules/{quote(module_id, safe='')}/{operation}"
                f"?deviceCount={count}&continuationToken={next_token}&api-version={version}")
    return _result(hub, page, link)


def _refusal(hub: Hub, exc: Refused) -> Response:
    return error_response(hub, exc.status, exc.code, exc.message)


async def in_scope(request: Request) -> Response:
    """GET …/devicesAndModulesInDeviceScope?deviceCount=&continuationToken=: one page of the Edge device's scope."""
    hub: Hub = request.app.state.hub
    try:
        edge, _, _ = _admit(request, LIST_VERSIONS)
        count = _count(request.query_params.get("deviceCount") or "0")
        token = request.query_params.get("continuationToken") or ""
        version = request.query_params.get("api-version", LIST_VERSIONS[0])
        return json_response(hub, 200, _page(request, edge, LIST, count, token, version))
    except Refused as exc:
        return _refusal(hub, exc)


async def one_in_scope(request: Request) -> Response:
    """GET …/deviceAndModuleInDeviceScope?targetDeviceId=&targetModuleId=: one identity of the Edge device's scope."""
    hub: Hub = request.app.state.hub
    try:
        edge, _, _ = _admit(request, LIST_VERSIONS)
        target_id = request.query_params.get("targetDeviceId") or ""
        target_module = request.query_params.get("targetModuleId") or ""
        if not target_id:
            raise Refused(400, ARGUMENT_INVALID, "targetDeviceId is required")
        listed = _in_scope(hub, edge)
        if hub.has(ONE_IGNORES_TARGET):
            return json_response(hub, 200, _result(hub, listed[:MAX_PAGE], None))
        found = next((d for d in listed if d.device_id == target_id), None)
        if found is None:
            raise Refused(404, DEVICE_NOT_FOUND, f"Device {target_id[:140]!r} is not in the scope of "
                                                 f"{edge.device_id[:140]!r}")
        result = _result(hub, [found], None)
        if target_module:
            result["modules"] = [m for m in result["modules"] if m.get("moduleId") == target_module]
            if not result["modules"]:
                raise Refused(404, MODULE_NOT_FOUND, f"Module {target_module[:140]!r} not found on device "
                                                     f"{target_id[:140]!r}")
        else:
            result["modules"] = []
        return json_response(hub, 200, result)
    except Refused as exc:
        return _refusal(hub, exc)


async def in_target_scope(request: Request) -> Response:
    """POST …/devicesAndModulesInTargetDeviceScope {pageSize, continuationLink, authChain}: one page of the scope."""
    hub: Hub = request.app.state.hub
    try:
        edge, _, _ = _admit(request, TARGET_VERSIONS)
        body = _json_object(await request.body())
        count = _count(body.get("pageSize", 0))
        link = body.get("continuationLink") or ""
        chain = body.get("authChain")
        if not isinstance(link, str) or (chain is not None and not isinstance(chain, str)):
            raise Refused(400, ARGUMENT_INVALID, "continuationLink and authChain must be strings")
        token = _token_of(link)
        if hub.has(TARGET_SCOPE_EMPTY):
            return json_response(hub, 200, {"devices": [], "modules": [], "continuationLink": None})
        version = request.query_params.get("api-version", TARGET_VERSIONS[0])
        return json_response(hub, 200, _page(request, edge, TARGET, count, token, version))
    except Refused as exc:
        return _refusal(hub, exc)


def _json_object(raw: bytes) -> dict:
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeError):
        raise Refused(400, FORMAT_ERROR, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, FORMAT_ERROR, "the body must be a JSON object")
    return body


def _token_of(link: str) -> str:
    """The continuationToken a continuationLink this hub gave carries ("" for the first page)."""
    if not link:
        return ""
    query = link.partition("?")[2]
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name == "continuationToken" and value:
            return value
    raise Refused(400, ARGUMENT_INVALID, "the continuationLink is not one this hub gave")


ROUTES: list[Route] = [
    Route("/devices/{device_id}/modules/{module_id}/" + LIST, in_scope, methods=["GET"]),
    Route("/devices/{device_id}/modules/{module_id}/deviceAndModuleInDeviceScope", one_in_scope, methods=["GET"]),
    Route("/devices/{device_id}/modules/{module_id}/" + TARGET, in_target_scope, methods=["POST"]),
]

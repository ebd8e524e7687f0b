"""The routes api-version 2021-04-12 adds (app.py serves them first): device and module twins, direct methods, query.

Sources: docs/sources/service-2021-04-12.json (Devices_GetTwin, Devices_ReplaceTwin, Devices_UpdateTwin,
Modules_GetTwin, Modules_ReplaceTwin, Modules_UpdateTwin, Devices_InvokeMethod, Modules_InvokeMethod, Query_GetTwins);
docs/sources/INVENTORY-2021-04-12.md §1.3 (every one of them needs ServiceConnect), §2.4–§2.7, §6.

/twins/{deviceId} is also the 2016-11-14 twin's path: `device_twin` takes every method there and hands a request of
another api-version to twin_routes.py, which keeps its 2016-11-14 behaviour (and its 405 with Allow: GET, HEAD, PATCH).
Every request is judged in this order: api-version → token → request validation (400) → existence (404) → If-Match
(412) → action.
"""

from __future__ import annotations

import json
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import methods, permissions_2021, query, twin_documents, twin_routes, twins
from .error_envelope import (
    ARGUMENT_INVALID,
    DEVICE_NOT_FOUND,
    FORMAT_ERROR,
    METHOD_NOT_ALLOWED,
    PRECONDITION_FAILED,
    error_response,
)
from .faults import switch
from .hub import Hub
from .identities import InvalidDevice, check_device_id_form
from .if_match import IfMatch, MalformedIfMatch, parse_if_match
from .modules import check_module_id
from .responses import json_response
from .twins import InvalidTwin, Twin

TWIN_VERSION_MISSING = switch("twin-version-missing")
TWIN_UNKNOWN_DEVICE_200 = switch("twin-unknown-device-200")
TWIN_PATCH_NULL_KEPT = switch("twin-patch-null-kept")
TWIN_SERVICE_WRITES_REPORTED = switch("twin-service-writes-reported")
TWIN_VERSION_FROZEN = switch("twin-version-frozen")
TWIN_ETAG_UNCHANGED = switch("twin-etag-unchanged")
TWIN_IGNORE_IF_MATCH = switch("twin-ignore-if-match")
TWIN_QUOTED_IF_MATCH_REFUSED = switch("twin-quoted-if-match-refused")
TWIN_NO_DEPTH_LIMIT = switch("twin-no-depth-limit")
TWIN_NO_SIZE_LIMIT = switch("twin-no-size-limit")
TWIN_ARRAYS_REFUSED = switch("twin-arrays-refused")
MODULE_TWIN_NO_MODULE_ID = switch("module-twin-no-module-id")
MODULE_TWIN_UNKNOWN_MODULE_200 = switch("module-twin-unknown-module-200")
MODULE_TWIN_PATCH_IGNORED = switch("module-twin-patch-ignored")
MODULE_TWIN_IGNORE_IF_MATCH = switch("module-twin-ignore-if-match")
MODULE_TWIN_OUTLIVES_MODULE = switch("module-twin-outlives-module")
QUERY_NO_ITEM_TYPE = switch("query-no-item-type")
QUERY_BAD_QUERY_EMPTY_200 = switch("query-bad-query-empty-200")

V2021 = "2021-04-12"
MODULE_NOT_FOUND = methods.MODULE_NOT_FOUND
TWIN_METHODS = ("GET", "PATCH", "PUT")
EVERY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _is_2021(request: Request) -> bool:
    """Whether every api-version the request names is 2021-04-12 (a value repeated is still that one version)."""
    values = request.query_params.getlist("api-version")
    return bool(values) and all(value == V2021 for value in values)


def _names_only_older_versions(hub: Hub, request: Request) -> bool:
    values = request.query_params.getlist("api-version")
    return bool(values) and all(value in (*hub.supported_api_versions, *hub.scheduled_api_versions) for value in values)


async def device_twin(request: Request) -> Response:
    """/twins/{deviceId}: 2021-04-12 here, any other api-version (or none) as api-version 2016-11-14 serves it. A PUT
    (2021-04-12's replace) naming no api-version, or one no version serves, is judged here: api-version comes first,
    so it gets the api-version's 400, where a PUT naming a 2016 version keeps its 405."""
    hub: Hub = request.app.state.hub
    if not _is_2021(request):
        if request.method in ("GET", "HEAD", "PATCH"):
            return await twin_routes.twin(request)
        if request.method != "PUT" or _names_only_older_versions(hub, request):
            return _not_allowed(hub, request, ("GET", "HEAD", "PATCH"))
    if request.method not in (*TWIN_METHODS, "HEAD"):
        return _not_allowed(hub, request, (*TWIN_METHODS, "HEAD"))
    return await _twin(request, request.path_params["device_id"], None)


async def module_twin(request: Request) -> Response:
    return await _twin(request, request.path_params["device_id"], request.path_params["module_id"])


async def _twin(request: Request, device_id: str, module_id: str | None) -> Response:
    hub: Hub = request.app.state.hub
    if refused := permissions_2021.admit_service(request, "twin", device_id):
        return refused
    try:
        check_device_id_form(device_id)
        if module_id is not None:
            check_module_id(hub, module_id)
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    if request.method in ("GET", "HEAD"):
        with hub.lock:
            found = _find(hub, device_id, module_id)
            if found is None and hub.has(TWIN_UNKNOWN_DEVICE_200) and module_id is None:
                found = Twin(device_id, hub.next_etag())
            if found is None and hub.has(MODULE_TWIN_UNKNOWN_MODULE_200) and module_id is not None:
                found = Twin(device_id, hub.next_etag(), module_id=module_id)
            document = None if found is None else twin_documents.to_json(hub, found)
        if document is None:
            return _not_found(hub, device_id, module_id)
        return _twin_response(hub, document)
    return await _write(request, hub, device_id, module_id)


async def _write(request: Request, hub: Hub, device_id: str, module_id: str | None) -> Response:
    """PATCH merges, PUT replaces; tags and desired properties only (Devices_UpdateTwin, Devices_ReplaceTwin)."""
    arrays = bool(hub.profile.value("twin_arrays")) and not hub.has(TWIN_ARRAYS_REFUSED)
    try:
        condition = parse_if_match(hub, request.headers.getlist("if-match"))
        body = twins.parse_body(await request.body())
        for name, own in (("deviceId", device_id), ("moduleId", module_id)):
            if body.get(name) is not None and body[name] != own:
                raise InvalidTwin(ARGUMENT_INVALID, f"the body's {name} differs from the URI's")
        reported = _reported_of(body) if hub.has(TWIN_SERVICE_WRITES_REPORTED) else None
        if reported is not None:
            body = {**body, "properties": {k: v for k, v in body["properties"].items() if k != "reported"}}
        patch = _read_patch(hub, body, arrays)
    except MalformedIfMatch as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    except InvalidTwin as exc:
        return error_response(hub, 400, exc.code, exc.message)
    device = module_id is None
    with hub.lock:
        old = _find(hub, device_id, module_id)
        if old is None:
            return _not_found(hub, device_id, module_id)
        if condition is not None and not _holds(hub, condition, old, request, device):
            return error_response(hub, 412, PRECONDITION_FAILED, "Precondition failed: twin version did not match")
        if not device and hub.has(MODULE_TWIN_PATCH_IGNORED):
            return _twin_response(hub, twin_documents.to_json(hub, old))
        try:
            sized = not (device and hub.has(TWIN_NO_SIZE_LIMIT))
            if request.method == "PUT":
                new = twin_documents.replaced(hub, old, patch, sized)
            else:
                new = twin_documents.patched(hub, old, _nulls_kept(hub, patch) if device else patch, sized)
            if reported is not None:
                new = twin_documents.reported(hub, new, reported)
        except InvalidTwin as exc:
            return error_response(hub, 400, exc.code, exc.message)
        if device:
            new = _device_faults(hub, old, new)
        document = twin_documents.to_json(hub, twin_documents.store(hub, new))
    return _twin_response(hub, document)


def _read_patch(hub: Hub, body: dict, arrays: bool) -> twins.TwinPatch:
    depth = 10**3 if hub.has(TWIN_NO_DEPTH_LIMIT) and "moduleId" not in body else twins.MAX_DEPTH
    return twins.read_patch(body, arrays, depth)


def _reported_of(body: dict) -> dict | None:
    properties = body.get("properties")
    reported = properties.get("reported") if isinstance(properties, dict) else None
    return reported if isinstance(reported, dict) else None


def _nulls_kept(hub: Hub, patch: twins.TwinPatch) -> twins.TwinPatch:
    if not hub.has(TWIN_PATCH_NULL_KEPT):
        return patch
    # The fault: a null is written as a value "null", so the key stays.
    def kept(value: dict | None) -> dict | None:
        return None if value is None else {k: ("null" if v is None else v) for k, v in value.items()}
    return twins.TwinPatch(kept(patch.tags), kept(patch.desired))


def _device_faults(hub: Hub, old: Twin, new: Twin) -> Twin:
    if hub.has(TWIN_VERSION_FROZEN):
        new = replace(new, version=old.version, desired_version=old.desired_version)
    if hub.has(TWIN_ETAG_UNCHANGED):
        new = replace(new, etag=old.etag)
    return new


def _holds(hub: Hub, condition: IfMatch, twin: Twin, request: Request, device: bool) -> bool:
    if device and hub.has(TWIN_IGNORE_IF_MATCH):
        return True
    if not device and hub.has(MODULE_TWIN_IGNORE_IF_MATCH):
        return True
    if device and hub.has(TWIN_QUOTED_IF_MATCH_REFUSED) and not condition.wildcard:
        return ", ".join(request.headers.getlist("if-match")).strip() == twin.etag
    return condition.matches(hub, {twin.etag})


def _find(hub: Hub, device_id: str, module_id: str | None) -> Twin | None:
    if module_id is None:
        return twin_documents.device_twin(hub, device_id)
    if hub.has(MODULE_TWIN_OUTLIVES_MODULE):
        kept = hub.module_twins.get((device_id, module_id))
        module = twin_documents.modules_of(hub, device_id).get(module_id)
        if kept is not None and module is not None:
            return kept
    return twin_documents.module_twin(hub, device_id, module_id)


def _twin_response(hub: Hub, document: dict) -> Response:
    # OBSERVED (INVENTORY-2021-04-12 §1.2, §6): twin responses carry no ETag header; the etag is in the body only.
    if hub.has(TWIN_VERSION_MISSING) and "moduleId" not in document:
        document = {k: v for k, v in document.items() if k != "version"}
    if hub.has(MODULE_TWIN_NO_MODULE_ID):
        document = {k: v for k, v in document.items() if k != "moduleId"}
    return json_response(hub, 200, document)


def _not_found(hub: Hub, device_id: str, module_id: str | None) -> Response:
    if module_id is not None and device_id in hub.devices:
        return error_response(hub, 404, MODULE_NOT_FOUND, f"module {module_id!r} not found on device {device_id!r}")
    return error_response(hub, 404, DEVICE_NOT_FOUND, f"Device {device_id!r} not found")


def _not_allowed(hub: Hub, request: Request, allowed: tuple[str, ...]) -> Response:
    return error_response(hub, 405, METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                          headers={"Allow": ", ".join(sorted(allowed))})


# -- direct methods ------------------------------------------------------------------------------------------------


async def invoke_method(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    module_id = request.path_params.get("module_id")
    if refused := permissions_2021.admit_service(request, "method", device_id):
        return refused
    try:
        check_device_id_form(device_id)
        if module_id is not None:
            check_module_id(hub, module_id)
        wanted = methods.read_request(hub, _json_body(await request.body()))
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    except methods.InvalidMethod as exc:
        return error_response(hub, exc.status, exc.code, exc.message)
    with hub.lock:
        outcome = methods.invoke(hub, device_id, module_id, wanted)
    if outcome.result is None:
        return error_response(hub, outcome.status, outcome.code or ARGUMENT_INVALID, outcome.message)
    return json_response(hub, 200, outcome.result)


def _json_body(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise methods.InvalidMethod(400, FORMAT_ERROR, "the request body is not valid JSON") from None


# -- query ---------------------------------------------------------------------------------------------------------


async def run_query(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := permissions_2021.admit_service(request, "query"):
        return refused
    try:
        body = _json_body(await request.body())
        text = body.get("query") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise query.InvalidQuery("the body must be a QuerySpecification: {\"query\": \"<text>\"}")
        size = query.page_size(request.headers.get("x-ms-max-item-count"))
        with hub.lock:
            page = query.run(hub, text, size, request.headers.get("x-ms-continuation"))
    except methods.InvalidMethod as exc:
        return error_response(hub, 400, exc.code, exc.message)
    except query.InvalidQuery as exc:
        if hub.has(QUERY_BAD_QUERY_EMPTY_200):
            return json_response(hub, 200, [], {"x-ms-item-type": "twin"})
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    headers = {} if hub.has(QUERY_NO_ITEM_TYPE) else {"x-ms-item-type": page.item_type}
    if page.continuation:
        headers["x-ms-continuation"] = page.continuation
    return json_response(hub, 200, page.items, headers)


ROUTES: list[Route] = [
    # Every method, so that a 405's Allow can say what the request's api-version serves at this path.
    Route("/twins/{device_id}", device_twin, methods=list(EVERY_METHOD)),
    Route("/twins/{device_id}/modules/{module_id}", module_twin, methods=list(TWIN_METHODS)),
    Route("/twins/{device_id}/methods", invoke_method, methods=["POST"]),
    Route("/twins/{device_id}/modules/{module_id}/methods", invoke_method, methods=["POST"]),
    Route("/devices/query", run_query, methods=["POST"]),
]

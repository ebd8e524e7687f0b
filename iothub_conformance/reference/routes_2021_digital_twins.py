"""The routes api-version 2021-04-12 adds (app.py serves them first): IoT Plug and Play digital twins and their commands.

Sources: docs/sources/service-2021-04-12.json (DigitalTwin_GetDigitalTwin: 200 + ETag; DigitalTwin_UpdateDigitalTwin:
JSON Patch, optional If-Match, 202 + ETag + Location; the two command operations: query timeouts, 200 +
x-ms-command-statuscode); docs/sources/INVENTORY-2021-04-12.md §2.12, §6 (the digital-twin client sends the ETag back
as given, §10 C4). The permission is not stated (§1.3): ServiceConnect, as for the device twin the view is made of and
the direct methods its commands are (inferred).

The ETag header holds the device twin's etag: strong, or weak where profile rule digital_twin_etag says "weak" (the
swagger's "Weak Etag"). If-Match compares opaque tags, weak or not: the swagger's ETag is weak and its client sends it
back as given, so RFC 7232's strong comparison would refuse every conditional patch.
Every request is judged in this order: api-version → token → request validation (400) → existence (404) → If-Match
(412) → action.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import digital_twins, twin_documents
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, FORMAT_ERROR, PRECONDITION_FAILED, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .identities import InvalidDevice, check_device_id_form
from .if_match import MalformedIfMatch, parse_if_match
from .policies import SERVICE_CONNECT
from .responses import json_response
from .twins import InvalidTwin, Twin

PNP_UNKNOWN_DEVICE_200 = switch("pnp-unknown-device-200")
PNP_PATCH_NO_LOCATION = switch("pnp-patch-no-location")
PNP_IGNORE_IF_MATCH = switch("pnp-ignore-if-match")
PNP_PATCH_NO_ETAG = switch("pnp-patch-no-etag")


def _admit(request: Request, device_id: str) -> Response | None:
    hub: Hub = request.app.state.hub
    refused = admit(request, SERVICE_CONNECT, device_id, versions=hub.current_api_versions)
    if refused is not None:
        return refused
    try:
        check_device_id_form(device_id)
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    return None


def entity_tag(hub: Hub, twin: Twin) -> str:
    quoted = f'"{twin.etag}"'
    return "W/" + quoted if hub.profile.value("digital_twin_etag") == "weak" else quoted


def _not_found(hub: Hub, device_id: str) -> Response:
    return error_response(hub, 404, DEVICE_NOT_FOUND, f"Device {device_id!r} not found")


async def digital_twin(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := _admit(request, device_id):
        return refused
    if request.method == "PATCH":
        return await _update(request, hub, device_id)
    with hub.lock:
        twin = twin_documents.device_twin(hub, device_id)
        if twin is None and hub.has(PNP_UNKNOWN_DEVICE_200):
            return json_response(hub, 200, {"$dtId": device_id, "$metadata": {}}, {"ETag": '"0"'})
        if twin is None:
            return _not_found(hub, device_id)
        document, tag = digital_twins.view(hub, twin), entity_tag(hub, twin)
    return json_response(hub, 200, document, {"ETag": tag})


async def _update(request: Request, hub: Hub, device_id: str) -> Response:
    try:
        condition = parse_if_match(hub, request.headers.getlist("if-match"))
        operations = digital_twins.read_patch(_json(await request.body()))
    except MalformedIfMatch as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    except _NotJson as exc:
        return error_response(hub, 400, FORMAT_ERROR, str(exc))
    except digital_twins.InvalidPatch as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    with hub.lock:
        twin = twin_documents.device_twin(hub, device_id)
        if twin is None:
            return _not_found(hub, device_id)
        if condition is not None and not hub.has(PNP_IGNORE_IF_MATCH):
            held = condition.wildcard or any(tag == twin.etag for _, tag in condition.tags)
            if not held:
                return error_response(hub, 412, PRECONDITION_FAILED, "Precondition failed: the digital twin's ETag "
                                                                     "did not match")
        try:
            twin = digital_twins.update(hub, twin, operations)
        except digital_twins.InvalidPatch as exc:
            return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
        except InvalidTwin as exc:
            return error_response(hub, 400, exc.code, exc.message)
        tag = entity_tag(hub, twin)
    headers = {}
    if not hub.has(PNP_PATCH_NO_ETAG):
        headers["ETag"] = tag
    if not hub.has(PNP_PATCH_NO_LOCATION):
        headers["Location"] = str(request.url.replace(query="")).rsplit("/digitaltwins/", 1)[0] + \
            "/digitaltwins/" + quote(device_id, safe="")
    return Response(status_code=202, headers=headers)


async def command(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := _admit(request, device_id):
        return refused
    component = request.path_params.get("component")
    try:
        raw = await request.body()
        payload = _json(raw) if raw.strip() else None
        response_timeout, _ = digital_twins.command_timeouts(
            hub, request.query_params.get("responseTimeoutInSeconds"),
            request.query_params.get("connectTimeoutInSeconds"))
    except _NotJson as exc:
        return error_response(hub, 400, FORMAT_ERROR, str(exc))
    except digital_twins.InvalidPatch as exc:
        return error_response(hub, 400, ARGUMENT_INVALID, str(exc))
    with hub.lock:
        answer = digital_twins.invoke(hub, device_id, component, request.path_params["command"], payload,
                                      response_timeout)
    if answer.device_status is None:
        return error_response(hub, answer.status, answer.code or ARGUMENT_INVALID, answer.message)
    return json_response(hub, 200, answer.payload, {"x-ms-command-statuscode": str(answer.device_status)})


class _NotJson(ValueError):
    pass


def _json(raw: bytes) -> object:
    try:
        value = json.loads(raw)
        json.dumps(value, ensure_ascii=False).encode("utf-8")  # a lone surrogate cannot be sent back: refuse it now
        return value
    except (ValueError, RecursionError, UnicodeEncodeError):
        raise _NotJson("the request body is not valid JSON") from None


ROUTES: list[Route] = [
    Route("/digitaltwins/{device_id}", digital_twin, methods=["GET", "PATCH"]),
    Route("/digitaltwins/{device_id}/commands/{command}", command, methods=["POST"]),
    Route("/digitaltwins/{device_id}/components/{component}/commands/{command}", command, methods=["POST"]),
]

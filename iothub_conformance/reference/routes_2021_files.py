"""The routes api-version 2021-04-12 adds (app.py serves them first): device-side file upload (SAS URI, blob, completion
notification).

Sources: docs/sources/iot-hub-devguide-file-upload__2021-07-30_0238602a.md; docs/sources/INVENTORY-2021-04-12.md §1.3
(DeviceConnect), §3.4, §10 (C14: the Node.js SDK notifies at /files/notifications/{correlationId}, with the id left out
of the body; C15: 204); docs/sources/rest-reference-device-group__learn-summary.md (FileUploadRequest,
FileUploadCompletionStatus: no field marked required). No 2016 route shares these paths.
Every request is judged in this order: api-version → token (DeviceConnect for that device) → the device (404) → the
body (400) → the upload (403006, or the correlation id's 400).
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from iothub_conformance.http import sas

from . import file_upload
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, FORMAT_ERROR, error_response
from .faults import switch
from .gate import admit
from .hub import Hub
from .policies import DEVICE_CONNECT
from .responses import json_response

NOTIFY_REFUSED = switch("file-upload-notify-refused")
PATH_NOTIFY_NOT_SERVED = switch("file-upload-path-notify-not-served")
ANY_DEVICE_TOKEN = switch("file-upload-any-device-token")


def _admit(request: Request, device_id: str) -> Response | None:
    hub: Hub = request.app.state.hub
    refused = admit(request, DEVICE_CONNECT, device_id, versions=hub.current_api_versions)
    if refused is not None and refused.status_code == 401 and hub.has(ANY_DEVICE_TOKEN):
        refused = admit(_as_for_tokens_device(request), DEVICE_CONNECT, None, versions=hub.current_api_versions)
    if refused:
        return refused
    with hub.lock:
        registered = device_id in hub.devices
    if not registered:
        return error_response(hub, 404, DEVICE_NOT_FOUND, f"Device {device_id[:140]!r} not found")
    return None


def _as_for_tokens_device(request: Request) -> Request:
    """Under the fault file-upload-any-device-token: the request as if it were to the device its token names, so a
    device token of another device passes."""
    try:
        resource = sas.parse_token(request.headers.get("authorization", "")).resource_uri
    except sas.TokenError:
        return request
    _, found, rest = resource.partition("/devices/")
    if not found:
        return request
    suffix = "/files" + request.scope["path"].split("/files", 1)[1]  # every route here has /files after the id
    path = f"/devices/{rest.strip('/')}{suffix}"
    return Request({**request.scope, "path": path, "raw_path": path.encode()}, request.receive)


async def _object(request: Request) -> dict | None:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


async def create_sas_uri(request: Request) -> Response:
    """POST /devices/{deviceId}/files: {blobName} → 200 {correlationId, hostName, containerName, blobName, sasToken}."""
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := _admit(request, device_id):
        return refused
    body = await _object(request)
    if body is None:
        return error_response(hub, 400, FORMAT_ERROR, "the body must be a JSON object {\"blobName\": \"…\"}")
    blob_name = body.get("blobName")
    if not isinstance(blob_name, str) or not blob_name.strip("/"):
        return error_response(hub, 400, ARGUMENT_INVALID, "blobName must be a non-empty string")
    try:
        with hub.lock:
            answer = file_upload.start(hub, device_id, blob_name)
    except file_upload.UploadRefused as exc:
        return error_response(hub, exc.status, exc.code, exc.message)
    return json_response(hub, 200, answer)


async def notify(request: Request) -> Response:
    """POST /devices/{deviceId}/files/notifications: {correlationId, isSuccess, statusCode, statusDescription} → 204."""
    return await _notify(request, None)


async def notify_of_correlation_id(request: Request) -> Response:
    """POST /devices/{deviceId}/files/notifications/{correlationId}, as the Node.js device SDK always sends it (C14)."""
    hub: Hub = request.app.state.hub
    if hub.has(PATH_NOTIFY_NOT_SERVED):
        return error_response(hub, 404, "NotFound", f"no resource at {request.url.path[:200]}")
    return await _notify(request, request.path_params["correlation_id"])


async def _notify(request: Request, correlation_id: str | None) -> Response:
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := _admit(request, device_id):
        return refused
    body = await _object(request)
    if body is None:
        return error_response(hub, 400, FORMAT_ERROR, "the body must be a JSON object (FileUploadCompletionStatus)")
    named = body.get("correlationId") if correlation_id is None else correlation_id
    problem = _status_problem(body)
    if not isinstance(named, str) or not named:
        return error_response(hub, 400, ARGUMENT_INVALID, "correlationId must be the string the SAS URI request "
                                                          "answered")
    if problem:
        return error_response(hub, 400, ARGUMENT_INVALID, problem)
    if hub.has(NOTIFY_REFUSED):
        return error_response(hub, 400, ARGUMENT_INVALID, "the completion notification is refused")
    success = body.get("isSuccess") is True
    try:
        with hub.lock:
            upload = file_upload.complete(hub, device_id, named, success)
    except file_upload.UploadRefused as exc:
        return error_response(hub, exc.status, exc.code, exc.message)
    if success:
        await run_in_threadpool(file_upload.measure_real_blob, hub, upload)
    return Response(status_code=204)


def _status_problem(body: dict) -> str | None:
    """What is wrong with the completion's fields (each optional, LEARN), or None."""
    if "isSuccess" in body and not isinstance(body["isSuccess"], bool):
        return "isSuccess must be a boolean"
    code = body.get("statusCode")
    if "statusCode" in body and (not isinstance(code, int) or isinstance(code, bool) or not -2**31 <= code < 2**31):
        return "statusCode must be an int32"
    if "statusDescription" in body and not isinstance(body["statusDescription"], str | None):
        return "statusDescription must be a string"
    return None


ROUTES: list[Route] = [
    Route("/devices/{device_id}/files", create_sas_uri, methods=["POST"]),
    Route("/devices/{device_id}/files/notifications", notify, methods=["POST"]),
    Route("/devices/{device_id}/files/notifications/{correlation_id:path}", notify_of_correlation_id,
          methods=["POST"]),
]

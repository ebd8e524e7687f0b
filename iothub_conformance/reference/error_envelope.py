"""The IoT Hub error envelope (OBSERVED §1, INVENTORY §4c/§4d)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.responses import Response

from .faults import switch
from .responses import json_response

ERROR_ENVELOPE_PLAIN = switch("error-envelope-plain")

# Error code names used by the reference, with the HTTP status each goes with.
ARGUMENT_INVALID = "ArgumentInvalid"  # 400: a bad argument (deviceId, key, status, top, If-Match, property, header)
FORMAT_ERROR = "IotHubFormatError"  # 400: the body cannot be parsed or the object cannot be validated
INVALID_PROTOCOL_VERSION = "InvalidProtocolVersion"  # 400: missing or unsupported api-version
UNAUTHORIZED = "IotHubUnauthorizedAccess"  # 401
# 403 (403002): the hub holds its maximum number of devices, or its device queues all the C2D bytes it keeps
QUOTA_EXCEEDED = "IotHubQuotaExceeded"
JOB_QUOTA_EXCEEDED = "JobQuotaExceeded"  # 403 (403003): every scheduled job the hub keeps is still to finish
QUEUE_DEPTH_EXCEEDED = "DeviceMaximumQueueDepthExceeded"  # 403: the device's cloud-to-device queue is full
DEVICE_NOT_FOUND = "DeviceNotFound"  # 404
JOB_NOT_FOUND = "JobNotFound"  # 404: no import/export or scheduled job with that jobId
DEVICE_NOT_ONLINE = "DeviceNotOnline"  # 404103, only in a method job's device outcome: no method handler
NOT_FOUND = "NotFound"  # 404: no such route
METHOD_NOT_ALLOWED = "MethodNotAllowed"  # 405, with an Allow header
INVALID_OPERATION = "InvalidOperation"  # 409: only under the fault cancel-finished-returns-409
PRECONDITION_FAILED = "PreconditionFailed"  # 412
LOCK_LOST = "DeviceMessageLockLost"  # 412: a complete, reject or abandon whose message lock is unknown or expired
MESSAGE_TOO_LARGE = "MessageTooLarge"  # 413
PRECONDITION_REQUIRED = "PreconditionRequired"  # 428
SERVER_ERROR = "ServerError"  # 500: only under the fault server-error-on-bad-json
GATEWAY_TIMEOUT = "GatewayTimeout"  # 504101, only in a method job's device outcome: the handler failed


def error_response(hub, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if hub.has(ERROR_ENVELOPE_PLAIN):
        return Response("error", status_code=status, headers=headers, media_type="text/plain")
    headers["iothub-errorcode"] = code
    stamp = datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
    body = {
        "Message": f"ErrorCode:{code};{message}",
        "ExceptionMessage": f"Tracking ID:{uuid.uuid4().hex}-G:0-TimeStamp:{stamp}",
    }
    return json_response(hub, status, body, headers)

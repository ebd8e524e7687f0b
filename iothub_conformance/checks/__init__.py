"""Custom schemathesis checks, one module each; importing this package registers them all."""

from . import api_version, arm, conditional, errors, etag, headers, lock, received, request_id

CHECKS = [
    request_id.x_ms_request_id,
    api_version.api_version_handling,
    etag.etag_rfc7232,
    conditional.conditional_requests,
    headers.json_content_type,
    headers.authorization_required,
    errors.error_envelope,
    lock.message_lock,
    received.received_message,
    arm.resource_provider,
]
# The data plane's checks: a resource-provider response (/subscriptions/…) is judged by `arm` alone.
DATA_PLANE = [check for check in CHECKS if check is not arm.resource_provider]

__all__ = ["CHECKS", "DATA_PLANE", "api_version", "arm", "conditional", "errors", "etag", "headers", "lock", "received",
           "request_id"]

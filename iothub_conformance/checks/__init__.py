"""Custom schemathesis checks, one module each; importing this package registers them all."""

from . import api_version, conditional, errors, etag, headers, lock, received, request_id

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
]

__all__ = ["CHECKS", "api_version", "conditional", "errors", "etag", "headers", "lock", "received", "request_id"]

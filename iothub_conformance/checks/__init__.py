"""Custom schemathesis checks, one module each. They are registered with schemathesis only while a suite runs
(`register()` / `unregister()`), so installing the package changes no other project's schemathesis checks.

One signature: a check judges `(response, context: Context)` and returns the RequirementFailure list it found (empty
when the response keeps its rules); a judgment of a special request takes what that request was after those two
(checks/api_version.py: the requirement and what was wrong with it). The schemathesis wrappers `(ctx, response,
case)` raise what the judgment returns. checks/spec.py maps schemathesis' own check failures to the spec
requirement."""

from __future__ import annotations

import schemathesis.checks

from iothub_conformance.checks import envelope as errors
from iothub_conformance.checks import rp_rules

from . import api_version, conditional, etag, headers, lock, received, request_id

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
    rp_rules.resource_provider,
]
# The data plane's checks: a resource-provider response (/subscriptions/…) is judged by `arm` alone.
DATA_PLANE = [check for check in CHECKS if check is not rp_rules.resource_provider]


def register() -> None:
    for check in CHECKS:
        schemathesis.checks.CHECKS.register(check)


def unregister() -> None:
    registered = set(schemathesis.checks.CHECKS.get_all_names())
    for check in CHECKS:
        if check.__name__ in registered:
            schemathesis.checks.CHECKS.unregister(check.__name__)


__all__ = ["CHECKS", "DATA_PLANE", "api_version", "rp_rules", "conditional", "errors", "etag", "headers", "lock", "received",
           "register", "request_id", "unregister"]

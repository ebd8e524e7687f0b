"""Required headers: JSON bodies say application/json; a request without Authorization gets 401.

Sources: device-identities-rest__v2016-12-27_e5666404f.md (bk_common: Content-Type application/json, Authorization
SAS token); OBSERVED.md §1 (application/json; charset=utf-8); common-error-codes__v2016-12-27_e5666404f.md (401);
iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md (a feedback message's ContentType).
"""

from __future__ import annotations

from iothub_conformance.checks.context import Context
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import RequirementFailure, raise_all
from iothub_conformance.targets import session

from .observed import observe

# A batch of cloud-to-device feedback records is JSON under its own media type (the c2d page's ContentType row).
FEEDBACK_MEDIA = "application/vnd.microsoft.iothub.feedback.json"
FEEDBACK_PATH = "/messages/servicebound/feedback"


def verify_content_type(response, context: Context) -> list[RequirementFailure]:
    obs = observe(response)
    if obs.received_message:
        return []  # the body is the message's octet-stream, with the sender's Content-Type (receive page)
    if not obs.body.strip() or obs.json() is None:
        return []
    context.judging("COMMON-HDR-001", reads=("content-type",))
    media = (obs.header("content-type") or "").split(";")[0].strip().lower()
    feedback = obs.path.lower().rstrip("/") == FEEDBACK_PATH
    if media != "application/json" and not (feedback and media == FEEDBACK_MEDIA):
        return [RequirementFailure("COMMON-HDR-001", f"{obs.method} {obs.path} → {obs.status} has a JSON body but "
                                                     f"Content-Type {obs.header('content-type')!r}")]
    return []


def verify_unauthenticated(response, context: Context) -> list[RequirementFailure]:
    """`response` answers a request sent without Authorization."""
    obs = observe(response)
    context.judging("COMMON-AUTH-001")
    if obs.status != 401:
        return [RequirementFailure("COMMON-AUTH-001",
                                   f"{obs.method} {obs.path} without Authorization → {obs.status}, expected 401")]
    return []


def json_content_type(ctx, response, case):
    raise_all(verify_content_type(response, Context.of_run()))


def authorization_required(ctx, response, case):
    if not 200 <= response.status_code < 300:
        return
    raise_all(session.probe_once("authorization_required", case.operation.label, lambda: verify_unauthenticated(
        cases.send(session.client(), case, drop_headers=("Authorization",), auth=None), Context.of_run())))

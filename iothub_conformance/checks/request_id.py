"""x-ms-request-id: on every response, errors included; non-empty; unique across the run.

Source: device-identities-rest__v2016-12-27_e5666404f.md ("each operation returns an x-ms-request-id header");
OBSERVED.md §1 (every response, errors included), §4 (globally unique). Whether messaging responses must carry it is
profile rule `request_id_scope`.
"""

from __future__ import annotations

from iothub_conformance.checks.context import Context
from iothub_conformance.rules.failures import RequirementFailure, raise_all

from .observed import observe


def verify(response, context: Context) -> list[RequirementFailure]:
    obs = observe(response)
    if obs.messaging and context.value("request_id_scope") == "identities":
        return []  # the 2016 pages promise x-ms-request-id for the Device Identities section only
    context.judging("COMMON-REQID-001", reads=("x-ms-request-id",))
    rid = obs.header("x-ms-request-id")
    if rid is None or not rid.strip():
        return [RequirementFailure("COMMON-REQID-001",
                                   f"{obs.method} {obs.path} → {obs.status} has no (or an empty) x-ms-request-id")]
    if context.journal is None:
        return []
    context.judging("COMMON-REQID-002", reads=("x-ms-request-id",))
    seen = context.journal.times_seen(rid)
    if seen > 1:
        return [RequirementFailure("COMMON-REQID-002", f"x-ms-request-id {rid!r} came back on {seen} responses")]
    return []


def x_ms_request_id(ctx, response, case):
    raise_all(verify(response, Context.of_run()))

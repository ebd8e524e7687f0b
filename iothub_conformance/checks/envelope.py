"""The error envelope, as the profile decides (rule `error_envelope`).

iothub (OBSERVED.md §1, INVENTORY §4d): {"Message": "ErrorCode:<Name>;<text>", "ExceptionMessage": "Tracking ID:…"}
and the header `iothub-errorcode: <Name>`. docs-strict: the 2016 pages define no error body, nothing is checked.
"""

from __future__ import annotations

from iothub_conformance.checks.context import Context
from iothub_conformance.checks.observed import observe
from iothub_conformance.rules import error_codes
from iothub_conformance.rules.failures import RequirementFailure, raise_all


def error_code(response) -> str | None:
    """The error code a response names, from the iothub-errorcode header or the Message field."""
    obs = observe(response)
    return error_codes.error_code(obs.header("iothub-errorcode"), obs.body)


def verify(response, context: Context) -> list[RequirementFailure]:
    obs = observe(response)
    if obs.status < 400 or context.value("error_envelope") != "iothub":
        return []
    if is_bulk_result(obs):
        return []
    context.judging("COMMON-ERR-001", reads=("iothub-errorcode",))
    where = f"{obs.method} {obs.path} → {obs.status}"
    body = obs.json()
    if not isinstance(body, dict):
        return [RequirementFailure("COMMON-ERR-001", f"{where}: error body is not a JSON object: {obs.body[:80]!r}")]
    message = body.get("Message")
    code = error_codes.message_code(message)
    if not code:
        return [RequirementFailure("COMMON-ERR-001", f"{where}: Message is not \"ErrorCode:<Name>;…\": {message!r}")]
    if not isinstance(body.get("ExceptionMessage"), str):
        return [RequirementFailure("COMMON-ERR-001", f"{where}: no ExceptionMessage string")]
    header = obs.header("iothub-errorcode")
    if header != code:
        return [RequirementFailure("COMMON-ERR-001", f"{where}: iothub-errorcode header {header!r} ≠ body code {code!r}")]
    return []


def is_bulk_result(obs) -> bool:
    """A bulk registry call's partial failure: its 400 carries the BulkRegistryOperationResult, not the envelope
    (docs/sources/service-2021-04-12.json (BulkRegistry_UpdateRegistry: 400); docs/sources/INVENTORY-2021-04-12.md §1.2:
    the .NET SDK does not raise for `iothub-errorcode: BulkRegistryOperationFailure`)."""
    body = obs.json()
    return (obs.method == "POST" and obs.path.rstrip("/") == "/devices" and obs.status == 400
            and obs.header("iothub-errorcode") == "BulkRegistryOperationFailure" and isinstance(body, dict)
            and "isSuccessful" in body)


def error_envelope(ctx, response, case):
    raise_all(verify(response, Context.of_run()))

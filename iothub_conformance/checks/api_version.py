"""api-version handling: missing → 400; unsupported → 400; each supported value → not 400; error code per profile.

Sources: INVENTORY.md §1 (every URI carries api-version; the pages do not say what an error returns), OBSERVED.md
§1 (400 InvalidProtocolVersion), §4; profile rule `api_version_error_code`.
"""

from __future__ import annotations

from iothub_conformance.checks.context import Context
from iothub_conformance.checks.envelope import error_code
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import RequirementFailure, raise_all
from iothub_conformance.targets import session

from .observed import observe

UNSUPPORTED = "1999-01-01"


def verify_refused(response, context: Context, requirement: str, what: str) -> list[RequirementFailure]:
    """`response` answers a request with a missing or unsupported api-version (`what`); `requirement` is the one that
    request proves."""
    obs = observe(response)
    context.judging(requirement)
    if obs.status != 400:
        return [RequirementFailure(requirement, f"{obs.method} {obs.path} with {what} → {obs.status}, expected 400")]
    expected = context.value("api_version_error_code")
    if expected:
        context.judging("COMMON-APIVER-004", reads=("iothub-errorcode",))
    if expected and error_code(obs) != expected:
        return [RequirementFailure("COMMON-APIVER-004", f"{obs.method} {obs.path} with {what} names error code "
                                                        f"{error_code(obs)!r}, expected {expected!r}")]
    return []


def verify_accepted(response, context: Context, version: str) -> list[RequirementFailure]:
    """A supported version must not be refused. A 400 for another reason (a bad body) is not a version error,
    so only a 400 that names the api-version error code — or, on a body-less read, a 400 that names no other code —
    fails."""
    obs = observe(response)
    if obs.status != 400:
        return []
    code = error_code(obs)
    expected = context.value("api_version_error_code")
    # A 400 that names another error code (a bad header, say) is not about the api-version.
    if (expected and code == expected) or (obs.method == "GET" and not (expected and code)):
        return [RequirementFailure("COMMON-APIVER-003", f"{obs.method} {obs.path} with supported api-version {version} "
                                                        f"→ 400 ({code or 'no code'})")]
    return []


def api_version_handling(ctx, response, case):
    target = session.current()
    context = Context.of_run()
    version = (case.query or {}).get("api-version", target.api_version)
    failures = verify_accepted(response, context, version)
    if not 200 <= response.status_code < 300:
        # The refusals the probe looks for show the api-version was judged only where the request with it is served.
        raise_all(failures)
        return

    def probe() -> list[RequirementFailure]:
        client = session.client()
        return (verify_refused(cases.send(client, case, drop_params=("api-version",)), context,
                               "COMMON-APIVER-001", "no api-version")
                + verify_refused(cases.send(client, case, params={"api-version": UNSUPPORTED}), context,
                                 "COMMON-APIVER-002", f"api-version={UNSUPPORTED}"))

    raise_all(failures + session.probe_once("api_version_handling", case.operation.label, probe))

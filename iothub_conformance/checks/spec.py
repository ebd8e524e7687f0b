"""The spec's own checks: schemathesis' built-in ones (status code, headers, content type, body schema…) run beside
ours in `case.validate_response()`. A built-in check's failure is a departure from the spec requirement the test
names (COMMON-SPEC-001 for the data plane, RP-READ-001 for the resource provider's reads); one of our checks' keeps
the requirement it names. Nothing schemathesis found is dropped."""

from __future__ import annotations

from schemathesis.core.failures import CustomFailure, Failure

from iothub_conformance.rules.failures import RequirementFailure, typed_failures

SPEC = "COMMON-SPEC-001"


class Departures(BaseExceptionGroup):
    """What `conforms()` found, raised as schemathesis raises its own failures: an exception group that is not an
    Exception, so hypothesis reports the first failing example as it is instead of replaying it to shrink it (a
    target's state moves between replays, and a replay that differs is reported as flaky, not as the departure)."""


def conforms(case, response, requirement: str = SPEC, **validate) -> None:
    """`case.validate_response(response, **validate)`, its failures raised as typed ones (schemathesis' own report,
    with its curl line, stays attached as the cause)."""
    try:
        case.validate_response(response, **validate)
    except (AssertionError, BaseExceptionGroup) as exc:  # FailureGroup is an exception group
        typed, other = split(exc, requirement)
        if other or not typed:
            raise
        raise Departures(f"{len(typed)} departure{'s' if len(typed) > 1 else ''} from the spec and checks",
                         typed) from exc


def split(exc: BaseException, spec: str = SPEC) -> tuple[list[RequirementFailure], list[BaseException]]:
    """What `exc` holds: typed failures (ours as they are; schemathesis' built-in check failures as departures from
    `spec`) and everything else (a bare assertion, an error), for the caller to judge."""
    typed = typed_failures(exc)
    if typed is not None:
        return typed, []
    if isinstance(exc, CustomFailure):
        # One of the custom checks, wrapped by schemathesis: what it raised says which requirement it judged.
        inner = typed_failures(exc.exception)
        return (inner, []) if inner is not None else ([], [exc])
    if isinstance(exc, Failure):
        return [built_in(exc, spec)], []
    if isinstance(exc, BaseExceptionGroup):
        found: list[RequirementFailure] = []
        other: list[BaseException] = []
        for part in exc.exceptions:
            more, rest = split(part, spec)
            found += more
            other += rest
        return found, other
    return [], [exc]


def built_in(failure: Failure, spec: str = SPEC) -> RequirementFailure:
    """A built-in check's failure, e.g. `GET /devices/{deviceId}: ST108 Response header does not conform to the
    schema`, with the first line of schemathesis' explanation as the evidence."""
    where = f"{failure.operation}: " if failure.operation else ""
    # The first line says what departs (`"abc" does not match …`); the schema and value follow in schemathesis' report.
    said = next((line.strip() for line in (failure.message or "").splitlines() if line.strip()), None)
    return RequirementFailure(spec, f"{where}{failure.code} {failure.title}", said)

"""Judging recorded exchanges: each response by the spec of the operation it answered and by every check that can
decide a requirement from one exchange (checks/), each request (with `requests=True`) by the rules a client must keep
(checks/sent.py).

A requirement passes an exchange only where a check reached its verdict on it (`Context.judging`). A verdict that read
a header the recorder is known to drop or rewrite (Exchange.unobservable) is "unobservable" — a skip with the
recorder's reason, never a failure of the target and never a pass. Exchanges that match no documented operation are
not judged, only listed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import httpx
import schemathesis
from schemathesis.openapi.checks import MissingHeaders

from iothub_conformance.checks import api_version, envelope, etag, headers, lock, request_id, rp_rules, sent
from iothub_conformance.checks.context import Context
from iothub_conformance.checks.observed import observe
from iothub_conformance.checks.spec import split
from iothub_conformance.evidence.journal import Journal
from iothub_conformance.rules.failures import RequirementFailure
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.rules.requirements import REQUIREMENTS
from iothub_conformance.surfaces import openapi
from iothub_conformance.traffic import matching
from iothub_conformance.traffic.exchange import Exchange
from iothub_conformance.traffic.matching import Match

# The data plane's checks that judge one exchange; a resource-provider response (/subscriptions/…) gets rp_rules.
DATA_PLANE_CHECKS = (request_id.verify, etag.verify, headers.verify_content_type, envelope.verify, lock.verify)
RP_CHECKS = (rp_rules.verify,)
# schemathesis' built-in checks that judge a response without sending anything (ignored_auth and the negative-data
# checks send requests of their own or need a generated case: a recording has neither).
SPEC_CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_headers_conformance", "response_schema_conformance")
# A recorded exchange's verdict per requirement: the run's statuses (report/summary.py) without "error".
PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class Judgment:
    requirement: str
    status: str  # pass | fail | skip
    detail: str = ""


@dataclass
class Verdict:
    exchange: Exchange
    match: Match | None
    judgments: list[Judgment] = field(default_factory=list)
    note: str = ""  # why the exchange was not judged (no documented operation, no response)

    @property
    def status(self) -> str:
        statuses = {j.status for j in self.judgments}
        return FAIL if FAIL in statuses else PASS if PASS in statuses else SKIP

    @property
    def failures(self) -> list[Judgment]:
        return [j for j in self.judgments if j.status == FAIL]


def spec_requirement(match: Match) -> str:
    """The requirement a departure from the spec breaks: RP-READ-001 for the resource provider's reads (as in the
    run), RP-SPEC-001 for its other operations, COMMON-SPEC-001 on the data plane."""
    if match.path.lower().startswith("/subscriptions/"):
        return "RP-READ-001" if match.operation_id in REQUIREMENTS["RP-READ-001"].operations else "RP-SPEC-001"
    return "COMMON-SPEC-001"


def adjusted(exchange: Exchange, observable: Iterable[str] = (), unobservable: Iterable[str] = ()) -> Exchange:
    """The exchange with the user's word on headers: `observable` ones are trusted as recorded, `unobservable` ones
    are never held against the target (nor against the client) in any exchange."""
    trusted = {name.lower() for name in observable}
    doubted = {name.lower(): "said unobservable with --unobservable" for name in unobservable}
    if not trusted and not doubted:
        return exchange

    def table(found):
        return {**{k: v for k, v in found.items() if k not in trusted}, **doubted}

    return dataclasses.replace(exchange, unobservable_request=table(exchange.unobservable_request),
                               unobservable_response=table(exchange.unobservable_response))


def judge_all(exchanges: Sequence[Exchange], profile: Profile, requests: bool = False) -> list[Verdict]:
    """Every exchange judged in order, with one journal across them all (request-id uniqueness, ETag history)."""
    journal = Journal()
    return [judge(exchange, profile, journal, requests) for exchange in exchanges]


def judge(exchange: Exchange, profile: Profile, journal: Journal | None = None, requests: bool = False) -> Verdict:
    rule = profile.rules.get("c2d_path_casings")
    spellings: tuple[str, ...] = tuple(rule.value) if rule is not None and isinstance(rule.value, tuple) else ()
    match = matching.match(exchange, c2d_spellings=spellings)
    verdict = Verdict(exchange, match)
    if requests:
        verdict.judgments += _requests(exchange, match, profile)
    if exchange.response is None:
        verdict.note = "the recording holds no response"
        return verdict
    if match is None:
        verdict.note = _undocumented(exchange)
        verdict.judgments += _unmatched_response(exchange, profile)
        return verdict
    request, response = exchange.as_httpx()
    assert response is not None
    observed = _observed(exchange, response)
    if journal is not None:
        journal.record(observed)
    judged: dict[str, tuple[str, ...]] = {}
    context = Context(profile, journal, judged=judged)
    found: list[RequirementFailure] = []
    for check in RP_CHECKS if _is_rp(match) else DATA_PLANE_CHECKS:
        found += check(observed, context)
    if _is_rp(match) is False and _unauthenticated(exchange):
        found += headers.verify_unauthenticated(observed, context)
    found += _spec(exchange, match, observed, context)
    verdict.judgments += _verdicts(exchange, judged, found, "response")
    return verdict


def _is_rp(match: Match) -> bool:
    return match.path.lower().startswith("/subscriptions/")


def _observed(exchange: Exchange, response: httpx.Response) -> httpx.Response:
    """The response as the checks read it: a header holding a recorder's placeholder is taken away, so no check reads
    the placeholder as the target's value (the judgment that reads it is unobservable anyway)."""
    placeholders = {name for name in exchange.unobservable_response if response.headers.get(name) is not None}
    if not placeholders:
        return response
    kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in placeholders]
    copy = httpx.Response(response.status_code, headers=kept, content=response.content, request=response.request)
    copy.elapsed = response.elapsed
    return copy


def _unauthenticated(exchange: Exchange) -> bool:
    """The request carried no Authorization, and the recording would show one had it been sent."""
    return exchange.request.header("authorization") is None and exchange.unobservable("authorization", "request") is None


def _undocumented(exchange: Exchange) -> str:
    version = exchange.request.api_version
    request = f"{exchange.request.method} {exchange.request.path}"
    if version is None:
        return f"undocumented: {request} has no api-version"
    if version not in matching.versions():
        return f"undocumented here: the specs document no api-version {version} ({request})"
    return f"undocumented: no operation of api-version {version} is {request}"


def _unmatched_response(exchange: Exchange, profile: Profile) -> list[Judgment]:
    """A data-plane request sent without api-version to a documented path must be refused with 400."""
    if exchange.request.api_version is not None or matching.match_any_version(exchange.request) is None:
        return []
    if exchange.request.path.lower().startswith("/subscriptions/"):
        return []  # the resource provider's api-version rule is RP-APIVER-001, judged by the run
    _, response = exchange.as_httpx()
    judged: dict[str, tuple[str, ...]] = {}
    found = api_version.verify_refused(response, Context(profile, judged=judged), "COMMON-APIVER-001",
                                       "no api-version")
    return _verdicts(exchange, judged, found, "response")


def _spec(exchange: Exchange, match: Match, response: httpx.Response, context: Context) -> list[RequirementFailure]:
    """The built-in checks of schemathesis on the recorded response, as departures from the spec requirement."""
    requirement = spec_requirement(match)
    if "response" in exchange.cut:
        context.judging(requirement, reads=("<body>",))
        return []
    context.judging(requirement)
    operation = openapi.of_file(match.spec)[match.path][match.method]
    case = operation.Case(path_parameters=dict(match.parameters),
                          query={k: v[0] for k, v in exchange.request.query.items()},
                          headers=dict(exchange.request.headers))
    checks = _built_in()
    if observe(response).received_message and "content-type" not in response.headers:
        # The body is the message's own bytes with the sender's Content-Type, and a message sent with none has none
        # (docs/sources/receive-a-cloud-to-device-message.md): there is no media type to judge it by.
        checks = [c for c in checks if c.__name__ not in ("content_type_conformance", "response_schema_conformance")]
    try:
        case.validate_response(response, checks=checks)
    except (AssertionError, BaseExceptionGroup) as exc:
        found = []
        for leaf in _leaves(exc):
            part = _observable_part(leaf, exchange)
            if part is None:
                continue
            typed, other = split(part, requirement)
            if other:
                raise
            found += typed
        return found
    return []


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for part in exc.exceptions for leaf in _leaves(part)]
    return [exc]


@cache
def _built_in() -> list:
    found = schemathesis.checks.CHECKS.get_by_names(list(SPEC_CHECKS))
    if len(found) != len(SPEC_CHECKS):
        raise RuntimeError(f"schemathesis lacks one of its checks {SPEC_CHECKS}")
    return list(found)


def _observable_part(failure: BaseException, exchange: Exchange) -> BaseException | None:
    """A missing-header departure, without the headers the recorder drops or rewrote (None when it names only those)."""
    if not isinstance(failure, MissingHeaders):
        return failure
    kept = [name for name in failure.missing_headers if exchange.unobservable(name) is None]
    if not kept:
        return None
    listed = "".join(f"\n- `{name}`" for name in kept)
    return MissingHeaders(operation=failure.operation or "", missing_headers=kept,
                          message=f"The following required headers are missing from the response:{listed}")


def _requests(exchange: Exchange, match: Match | None, profile: Profile) -> list[Judgment]:
    judged: dict[str, tuple[str, ...]] = {}
    found = sent.verify(exchange, match, Context(profile, judged=judged))
    return _verdicts(exchange, judged, found, "request")


def _verdicts(exchange: Exchange, judged: dict[str, tuple[str, ...]], found: list[RequirementFailure],
              side: str) -> list[Judgment]:
    """One judgment per requirement a check decided: fail with what departs, pass, or skip when the verdict read a
    header the recorder does not show as it was."""
    by_requirement: dict[str, list[RequirementFailure]] = {}
    for failure in found:
        by_requirement.setdefault(failure.requirement, []).append(failure)
        judged.setdefault(failure.requirement, ())
    out = []
    for rid, reads in judged.items():
        hidden = [(name, exchange.unobservable(name, side) or ("the recorder kept only the start of the body"
                                                               if name == "<body>" else None)) for name in reads]
        hidden = [(name, why) for name, why in hidden if why]
        if hidden:
            name, why = hidden[0]
            out.append(Judgment(rid, SKIP, f"unobservable in this recording: {name} ({why})"))
        elif by_requirement.get(rid):
            out.append(Judgment(rid, FAIL, "; ".join(f.message for f in by_requirement[rid])))
        else:
            out.append(Judgment(rid, PASS))
    return out

"""How a check or a suite test says what it found: typed failures (the target departs from a requirement) and failed
preconditions (the test could not set up what it judges, so the requirement is an error, never a pass).

A failure is data: `RequirementFailure(requirement, detail, evidence)` names its requirement, so the report reads the
id from the exception, never from its message.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable

from iothub_conformance.rules.error_codes import error_code
from iothub_conformance.rules.requirements import REQUIREMENTS


class RequirementFailure(AssertionError):
    """The target departs from one requirement. An AssertionError, so pytest and schemathesis report it as a failure.

    `detail` says what departs, in one line; `evidence` what the target did (e.g. `answered(response)`), when the
    detail does not already say it. An unknown requirement id is a bug in the suite, raised at once."""

    def __init__(self, requirement: str, detail: str, evidence: str | None = None) -> None:
        if requirement not in REQUIREMENTS:
            raise ValueError(f"unknown requirement id {requirement!r}: a failure must name a registered requirement")
        self.requirement = requirement
        self.detail = detail
        self.evidence = evidence or None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        said = f"[{self.requirement}] {self.detail}"
        return f"{said}: {self.evidence}" if self.evidence else said

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"RequirementFailure({self.requirement!r}, {self.detail!r}, {self.evidence!r})"


class RequirementFailures(AssertionError):
    """Several departures found together (one response breaking two rules, every probe of a check): none is dropped."""

    def __init__(self, failures: Iterable[RequirementFailure]) -> None:
        self.failures = tuple(failures)
        if not self.failures:
            raise ValueError("a group of failures needs at least one")
        super().__init__("\n".join(f.message for f in self.failures))

    def __str__(self) -> str:
        return "\n".join(f.message for f in self.failures)


def raise_all(failures: Iterable[RequirementFailure]) -> None:
    """Raise what a check found: nothing, the one failure, or all of them as a group."""
    found = list(failures)
    if len(found) == 1:
        raise found[0]
    if found:
        raise RequirementFailures(found)


def expect(requirement: str, condition: object, detail: str, evidence: str | None = None) -> None:
    """The suites' assertion: unless `condition` holds, the target departs from `requirement`."""
    if not condition:
        raise RequirementFailure(requirement, detail, evidence)


def typed_failures(exc: BaseException) -> list[RequirementFailure] | None:
    """The typed failures an exception carries (a group's, an exception group's), or None when any part of it is not
    a RequirementFailure: then the caller decides what that other part means."""
    if isinstance(exc, RequirementFailure):
        return [exc]
    if isinstance(exc, RequirementFailures):
        return list(exc.failures)
    if isinstance(exc, BaseExceptionGroup):
        found: list[RequirementFailure] = []
        for part in exc.exceptions:
            typed = typed_failures(part)
            if typed is None:
                return None
            found += typed
        return found
    return None


class NotTestable(Exception):
    """The target is not set up for what the test needs, and says so (a hub with no storage account for file
    uploads): the plugin reports the test skipped with this message, as a skip for a missing --blob-container is."""


class PreconditionFailed(Exception):
    """What a test relies on did not hold (the device was not created, could not be read back, carried no ETag…).
    Not an AssertionError on purpose: the plugin reports the requirement as error, with this message, never as pass
    or as a failure of the rule the test judges."""


def _error_code(response) -> str | None:
    return error_code(response.headers.get("iothub-errorcode"), _body(response))


def answered(response) -> str:
    """What the target did, in one line: `PUT /devices/x → 500 (IotHubInternalError)`, `… → 302 to <Location>`."""
    request = response.request
    said = f"{request.method} {request.url.path} → {response.status_code}"
    code = _error_code(response) if response.status_code >= 400 else None
    if code:
        said += f" ({code})"
    if 300 <= response.status_code < 400 and response.headers.get("Location"):
        said += f" to {response.headers['Location'][:200]}"
    if response.status_code in (401, 403):
        said += ": the target refused the credentials (check the connection string's key and policy)"
    body = _body(response) if response.status_code >= 400 else b""
    if body:
        # What it said, briefly: the error body is the evidence a reader needs first.
        from iothub_conformance.evidence.text import excerpt

        said += f"; it said: {excerpt(body, 200)}"
    return said


def _body(response) -> bytes:
    try:
        return response.content
    except Exception:  # a streamed body not read (httpx.ResponseNotRead): nothing to quote
        return b""


def json_of(response):
    """The body as JSON, or None when it is not JSON (an empty 200 is not a device)."""
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def require(response, what: str, statuses: Collection[int] = (200,)):
    """`response` must answer with one of `statuses`, else the test's precondition (`what`) did not hold."""
    if response.status_code not in statuses:
        raise PreconditionFailed(f"{what}: {answered(response)}")
    return response


def require_object(response, what: str, statuses: Collection[int] = (200,), field: str | None = None) -> dict:
    """A successful response with a JSON object body (holding `field` when given), else PreconditionFailed."""
    require(response, what, statuses)
    body = json_of(response)
    if not isinstance(body, dict):
        size = len(response.content)
        raise PreconditionFailed(f"{what}: {answered(response)} with {'no body' if not size else f'{size} bytes'} "
                                 "that are not a JSON object")
    if field is not None and not body.get(field):
        raise PreconditionFailed(f"{what}: {answered(response)} without {field}")
    return body


def require_etag(response, what: str) -> str:
    """The ETag header of a successful response, else PreconditionFailed (there is nothing to compare with)."""
    etag = response.headers.get("ETag")
    if not etag:
        raise PreconditionFailed(f"{what}: {answered(response)} without an ETag to compare with")
    return etag


def require_json(response, what: str, kind: type = dict, statuses: Collection[int] = (200,)):
    """A successful response whose body is JSON of `kind` (dict, list), else PreconditionFailed."""
    require(response, what, statuses)
    body = json_of(response)
    if not isinstance(body, kind):
        raise PreconditionFailed(f"{what}: {answered(response)} without the JSON {kind.__name__} it answers")
    return body


def served(response, what: str, kind: type | None = None, statuses: Collection[int] = (200,)) -> None:
    """A refusal (400 for a bad api-version, id or body; 401 without credentials) is evidence only from a target that
    serves the same request made right: `response` is that valid counterpart, and unless it succeeded (with a JSON
    `kind` body when given) the test's precondition did not hold, so the refusal shows nothing."""
    what = f"the valid request ({what}) is not served, so a refusal of the invalid one shows nothing"
    if kind is None:
        require(response, what, statuses)
    else:
        require_json(response, what, kind, statuses)

"""How a check or a suite test says what it found: tagged failures (the target departs from a rule) and failed
preconditions (the test could not set up what it judges, so the requirement is an error, never a pass)."""

from __future__ import annotations

import json
from collections.abc import Collection


class Failures:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def extend(self, messages) -> None:
        self.messages.extend(messages)

    def raise_any(self) -> None:
        if self.messages:
            raise AssertionError("\n".join(self.messages))


class PreconditionFailed(Exception):
    """What a test relies on did not hold (the device was not created, could not be read back, carried no ETag…).
    Not an AssertionError on purpose: the plugin reports the requirement as error, with this message, never as pass
    or as a failure of the rule the test judges."""


def _error_code(response) -> str | None:
    from iothub_conformance.checks.envelope import error_code

    return error_code(response)


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

"""The error envelope, as the profile decides (rule `error_envelope`).

iothub (OBSERVED.md §1, INVENTORY §4d): {"Message": "ErrorCode:<Name>;<text>", "ExceptionMessage": "Tracking ID:…"}
and the header `iothub-errorcode: <Name>`. docs-strict: the 2016 pages define no error body, nothing is checked.
"""

from __future__ import annotations

import re

from iothub_conformance.checks.observed import observe
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.rules.requirements import tag
from iothub_conformance.targets import session

CODE = re.compile(r"^ErrorCode:([A-Za-z0-9]+);")


def error_code(response) -> str | None:
    """The error code a response names, from the iothub-errorcode header or the Message field."""
    obs = observe(response)
    if obs.header("iothub-errorcode"):
        return obs.header("iothub-errorcode")
    body = obs.json()
    if isinstance(body, dict) and isinstance(body.get("Message"), str):
        match = CODE.match(body["Message"])
        if match:
            return match.group(1)
    return None


def verify(response, profile: Profile) -> None:
    obs = observe(response)
    if obs.status < 400 or profile.value("error_envelope") != "iothub":
        return
    where = f"{obs.method} {obs.path} → {obs.status}"
    body = obs.json()
    if not isinstance(body, dict):
        raise AssertionError(tag("COMMON-ERR-001", f"{where}: error body is not a JSON object: {obs.body[:80]!r}"))
    message = body.get("Message")
    match = CODE.match(message) if isinstance(message, str) else None
    if not match:
        raise AssertionError(tag("COMMON-ERR-001", f"{where}: Message is not \"ErrorCode:<Name>;…\": {message!r}"))
    if not isinstance(body.get("ExceptionMessage"), str):
        raise AssertionError(tag("COMMON-ERR-001", f"{where}: no ExceptionMessage string"))
    header = obs.header("iothub-errorcode")
    if header != match.group(1):
        raise AssertionError(tag("COMMON-ERR-001",
                                 f"{where}: iothub-errorcode header {header!r} ≠ body code {match.group(1)!r}"))


def error_envelope(ctx, response, case):
    verify(response, session.current().profile)

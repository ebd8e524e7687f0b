"""x-ms-request-id: on every response, errors included; non-empty; unique across the run.

Source: device-identities-rest__v2016-12-27_e5666404f.md ("each operation returns an x-ms-request-id header");
OBSERVED.md §1 (every response, errors included), §4 (globally unique). Whether messaging responses must carry it is
profile rule `request_id_scope`.
"""

from __future__ import annotations

from iothub_conformance.evidence.journal import Journal
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.rules.requirements import tag
from iothub_conformance.targets import session

from .observed import observe


def verify(response, journal: Journal | None = None, profile: Profile | None = None) -> None:
    obs = observe(response)
    if obs.messaging and profile is not None and profile.value("request_id_scope") == "identities":
        return  # the 2016 pages promise x-ms-request-id for the Device Identities section only
    rid = obs.header("x-ms-request-id")
    if rid is None or not rid.strip():
        raise AssertionError(tag("COMMON-REQID-001",
                                 f"{obs.method} {obs.path} → {obs.status} has no (or an empty) x-ms-request-id"))
    seen = journal.times_seen(rid) if journal is not None else 0
    if seen > 1:
        raise AssertionError(tag("COMMON-REQID-002", f"x-ms-request-id {rid!r} came back on {seen} responses"))


def x_ms_request_id(ctx, response, case):
    target = session.current() if session.active() else None
    verify(response, target.journal if target else None, target.profile if target else None)

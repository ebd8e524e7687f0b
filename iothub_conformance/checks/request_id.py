"""x-ms-request-id: on every response, errors included; non-empty; unique across the run.

Source: device-identities-rest__v2016-12-27_e5666404f.md ("each operation returns an x-ms-request-id header");
OBSERVED.md §1 (every response, errors included), §4 (globally unique).
"""

from __future__ import annotations

import schemathesis

from .. import session
from ..requirements import tag
from ..target import Journal
from .observed import observe


def verify(response, journal: Journal | None = None) -> None:
    obs = observe(response)
    rid = obs.header("x-ms-request-id")
    if rid is None or not rid.strip():
        raise AssertionError(tag("COMMON-REQID-001",
                                 f"{obs.method} {obs.path} → {obs.status} has no (or an empty) x-ms-request-id"))
    seen = journal.times_seen(rid) if journal is not None else 0
    if seen > 1:
        raise AssertionError(tag("COMMON-REQID-002", f"x-ms-request-id {rid!r} came back on {seen} responses"))


@schemathesis.check
def x_ms_request_id(ctx, response, case):
    verify(response, session.current().journal if session.active() else None)

"""ETag on device identities (RFC 7232).

Sources: device-identities-rest__v2016-12-27_e5666404f.md (bk_common: "The Etag header is returned in all requests
scoped to a single device identity, as per RFC7232"); create-a-new-device-identity.md (body etag); OBSERVED.md §1
(header "X" quoted, body X unquoted), §3 (syntax). Which responses must carry it on DELETE is profile rule
`etag_on_delete`. The C2D lock token is not a version tag and is never checked here (checks/lock.py checks it).
"""

from __future__ import annotations

import re

from iothub_conformance.checks.context import Context
from iothub_conformance.evidence.journal import Journal
from iothub_conformance.rules.entity_tags import ENTITY_TAG
from iothub_conformance.rules.failures import RequirementFailure, raise_all

from .observed import Observed, observe

SYNTAX = re.compile(f"^{ENTITY_TAG}$")
READS = ("GET",)
CARRIES_DEVICE = ("GET", "PUT")


def opaque(etag: str) -> str:
    """The opaque-tag without W/ and quotes ("abc" → abc)."""
    value = etag[2:] if etag.startswith("W/") else etag
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def verify(response, context: Context) -> list[RequirementFailure]:
    obs = observe(response)
    if obs.messaging:
        return []  # a receive's ETag is the message lock id, not a version tag (INVENTORY §6): see checks/lock.py
    if obs.device_id is None or not 200 <= obs.status < 300 or not obs.of_2016:
        return []  # DI-ETAG-* are rules of the 2016 pages; a 2021-04-12 device's ETag is DEVICE-ETAG-*
    etag = obs.header("etag")
    required = obs.method in CARRIES_DEVICE or (obs.method == "DELETE" and context.value("etag_on_delete"))
    if required:
        context.judging("DI-ETAG-001", reads=("etag",))
    if etag is None:
        if required:
            return [RequirementFailure("DI-ETAG-001", f"{obs.method} {obs.path} → {obs.status} has no ETag header")]
        return []
    failures = []
    context.judging("DI-ETAG-002", reads=("etag",))
    if not SYNTAX.match(etag):
        failures.append(RequirementFailure("DI-ETAG-002", f"ETag {etag!r} is not an RFC 7232 entity-tag ([W/]\"…\")"))
    body = obs.json() if obs.method in CARRIES_DEVICE else None
    if isinstance(body, dict) and "etag" in body:
        context.judging("DI-ETAG-003", reads=("etag",))
    if isinstance(body, dict) and "etag" in body and body["etag"] not in (etag, opaque(etag)):
        failures.append(RequirementFailure("DI-ETAG-003", f"ETag header {etag!r} differs from body etag {body['etag']!r}"))
    if context.journal is not None:
        failures += _history(obs, etag, context.journal, context)
    return failures


def _history(obs: Observed, etag: str, journal: Journal, context: Context) -> list[RequirementFailure]:
    """Compare with the previous successful exchange on the same device: same tag after a read, new after a write."""
    history = journal.history(obs.path)
    rid = obs.header("x-ms-request-id")
    if not rid or journal.times_seen(rid) > 1:
        # Cannot place this response in the journal: COMMON-REQID-001 reports a missing id, COMMON-REQID-002 a
        # repeated one. Comparing with an exchange that only shares the id would judge the wrong pair.
        return []
    here = next((i for i in range(len(history) - 1, -1, -1) if history[i].request_id == rid), None)
    if here is None:
        return []
    previous = None
    for exchange in reversed(history[:here]):
        if exchange.method in CARRIES_DEVICE and 200 <= exchange.status < 300 and exchange.etag:
            previous = exchange
            break
        wrote = exchange.method not in READS and (200 <= exchange.status < 300 or exchange.status >= 500)
        if wrote or exchange.status == 404:
            return []  # a write, a delete or an unknown outcome in between: nothing to compare with
    if previous is None:
        return []
    context.judging("DI-ETAG-005" if obs.method in READS else "DI-ETAG-004", reads=("etag", "x-ms-request-id"))
    if obs.method in READS and previous.etag != etag:
        return [RequirementFailure("DI-ETAG-005", f"GET {obs.path}: ETag changed from {previous.etag} to {etag} "
                                                  "with no write in between")]
    if obs.method == "PUT" and previous.etag == etag:
        return [RequirementFailure("DI-ETAG-004", f"PUT {obs.path} succeeded but the ETag stayed {etag}")]
    return []


def etag_rfc7232(ctx, response, case):
    raise_all(verify(response, Context.of_run()))

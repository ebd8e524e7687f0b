"""The cloud-to-device lock token in a receive's ETag header.

Source: receive-a-cloud-to-device-message.md ("Etag: this is the id for the message lock"); INVENTORY.md §6 (the
2016-11-14 pages: the use of the ETag "does not comply with RFC 7232"; SDK and CLI code strips the surrounding double
quotes); OBSERVED.md §5. It is exempt from the RFC 7232 version rules of checks/etag.py; its form is profile rule
`lock_etag_quoted`, and what a lock does is proved by suites/test_device_messaging.py.
"""

from __future__ import annotations

from iothub_conformance.checks.context import Context
from iothub_conformance.rules.failures import RequirementFailure, raise_all

from .observed import observe


def verify(response, context: Context) -> list[RequirementFailure]:
    obs = observe(response)
    if not obs.received_message or obs.status != 200 or not obs.of_2016:
        return []  # MSG-RECV-002 and MSG-LOCK-001 are the 2016 pages'; at 2021-04-12 C2D-RECV-* judge the lock
    context.judging("MSG-RECV-002", reads=("etag",))
    etag = obs.header("etag")
    if not etag:
        return [RequirementFailure("MSG-RECV-002", f"GET {obs.path} → 200 carries no ETag: the message lock is missing")]
    if context.value("lock_etag_quoted"):
        context.judging("MSG-LOCK-001", reads=("etag",))
    if context.value("lock_etag_quoted") and not (len(etag) >= 3 and etag[0] == etag[-1] == '"'):
        return [RequirementFailure("MSG-LOCK-001", f"the receive ETag {etag!r} is not the lock token in double quotes")]
    return []


def message_lock(ctx, response, case):
    raise_all(verify(response, Context.of_run()))

"""Fault switches: each one makes the reference break one documented rule, so a check can be shown to catch it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from iothub_conformance.config import ConfigError


@dataclass(frozen=True)
class Fault:
    """One fault switch: what it makes the reference do, and the requirements a run with it on must fail.

    `breaks` are the requirements the fault exists for; `collateral` the others it may fail too, each with why. A proof
    (tests/test_suite_on_reference.py) runs the suite with the fault under `profile` and asserts that exactly
    breaks ∪ collateral fail while every other requirement keeps the status it has on the clean reference.
    """

    name: str
    description: str
    breaks: tuple[str, ...]
    profile: str = "iothub"
    collateral: tuple[tuple[str, str], ...] = ()  # (requirement id, why this fault fails it too)

    @property
    def fails(self) -> frozenset[str]:
        return frozenset(self.breaks) | {requirement for requirement, _ in self.collateral}


_TABLE = (
    Fault("drop-request-id", "error responses carry no x-ms-request-id header", breaks=("COMMON-REQID-001",)),
    Fault("repeat-request-id", "every response carries the same x-ms-request-id", breaks=("COMMON-REQID-002",)),
    Fault("accept-missing-api-version", "a request without api-version is served", breaks=("COMMON-APIVER-001",)),
    Fault("accept-any-api-version", "an unsupported api-version value is served", breaks=("COMMON-APIVER-002",)),
    Fault("wrong-api-version-error-code",
          "api-version errors name the code BadRequest instead of InvalidProtocolVersion",
          breaks=("COMMON-APIVER-004",)),
    Fault("no-etag-header", "device responses carry no ETag header", breaks=("DI-ETAG-001",)),
    Fault("unquoted-etag", "the ETag header is sent without quotes", breaks=("DI-ETAG-002",)),
    Fault("etag-header-mismatch", "the ETag header differs from the body etag", breaks=("DI-ETAG-003",)),
    Fault("etag-unchanged-on-write", "an update keeps the device's old etag", breaks=("DI-ETAG-004",)),
    Fault("etag-changes-on-read", "every GET of a device returns a fresh etag", breaks=("DI-ETAG-005",)),
    Fault("ignore-if-match", "If-Match is ignored on PUT and DELETE", breaks=("DI-COND-001",)),
    Fault("write-before-precondition",
          "a PUT with a stale If-Match applies the change, then answers 412",
          breaks=("DI-COND-001",)),
    Fault("weak-if-match-matches", "If-Match W/\"<current>\" matches (weak comparison)", breaks=("DI-COND-004",)),
    Fault("reject-if-match-star", "If-Match: * answers 412 on an existing device", breaks=("DI-COND-003",)),
    Fault("no-content-type", "JSON responses carry no Content-Type header", breaks=("COMMON-HDR-001",)),
    Fault("no-auth-required", "requests without Authorization are served", breaks=("COMMON-AUTH-001",)),
    Fault("accept-expired-token", "an expired SAS token is accepted", breaks=("COMMON-AUTH-002",)),
    Fault("skip-signature-check", "the SAS signature is not verified", breaks=("COMMON-AUTH-003",)),
    Fault("accept-unknown-policy",
          "a token naming an unknown policy is treated as the owner policy",
          breaks=("COMMON-AUTH-004",)),
    Fault("ignore-token-audience",
          "the token's sr is not compared with the hub host and request path",
          breaks=("COMMON-AUTH-005",)),
    Fault("create-returns-200",
          "a device create answers 200 whatever the profile says",
          breaks=("DI-CREATE-001",), profile="docs-strict"),
    Fault("error-envelope-plain",
          "errors are text/plain \"error\" without envelope or iothub-errorcode",
          breaks=("COMMON-ERR-001",)),
    Fault("server-error-on-bad-json", "a PUT body that is not JSON gets 500", breaks=("COMMON-ERR-002",)),
    Fault("list-ignores-top", "GET /devices ignores top", breaks=("DI-LIST-001",)),
    Fault("update-overwrites-generation-id", "a client generationId on update is stored", breaks=("DI-UPDATE-001",)),
    Fault("delete-missing-returns-204", "DELETE of an unknown device answers 204", breaks=("DI-DELETE-002",)),
    Fault("no-generated-keys", "a create without authentication stores no keys", breaks=("DI-CREATE-002",)),
    Fault("reject-special-device-ids",
          "deviceIds with any documented special character are refused with 400",
          breaks=("DI-ID-001",)),
    Fault("stats-missing-field", "GET /statistics/devices omits totalDeviceCount", breaks=("COMMON-SPEC-001",)),
    Fault("d2c-returns-200", "a device-to-cloud send answers 200 instead of 204", breaks=("MSG-D2C-001",)),
    Fault("d2c-no-size-limit", "a device-to-cloud message of 256 KB or more is accepted", breaks=("MSG-D2C-003",)),
    Fault("d2c-accepts-invalid-properties",
          "application property names and values are not checked",
          breaks=("MSG-D2C-004",)),
    Fault("d2c-refuses-properties",
          "a device-to-cloud send with any IoTHub-app-* header is refused with 400",
          breaks=("MSG-D2C-002",)),
    Fault("empty-queue-returns-200",
          "a receive on an empty queue answers 200 with an empty body",
          breaks=("MSG-RECV-001",)),
    Fault("receive-drops-properties",
          "a received message lacks its IoTHub-MessageId and IoTHub-app-* headers",
          breaks=("MSG-RECV-002",)),
    Fault("no-message-lock", "a received message stays visible to other receives", breaks=("MSG-RECV-003",)),
    Fault("unquoted-lock-etag", "the receive ETag carries the lock token without quotes", breaks=("MSG-LOCK-001",)),
    Fault("complete-keeps-message", "a completed message is delivered again", breaks=("MSG-COMPLETE-001",)),
    Fault("reject-requeues", "a rejected message is delivered again", breaks=("MSG-REJECT-001",)),
    Fault("abandon-keeps-delivery-count", "an abandon does not raise the delivery count", breaks=("MSG-ABANDON-001",)),
    Fault("accept-unknown-lock",
          "complete, reject and abandon with a lock that was never issued answer 204",
          breaks=("MSG-LOCK-002",)),
    Fault("lock-lost-precondition-failed",
          "a lost lock is answered 412 PreconditionFailed instead of DeviceMessageLockLost",
          breaks=("MSG-LOCK-002",)),
    Fault("expired-lock-still-valid",
          "an expired lock still completes, rejects or abandons its message",
          breaks=("MSG-LOCK-003",)),
    Fault("lock-never-expires", "a locked message never becomes visible again", breaks=("MSG-LOCK-004",)),
    Fault("no-max-delivery-count",
          "a message is never dead-lettered after the max delivery count",
          breaks=("MSG-DELIVERY-001",)),
    Fault("lock-expiry-counts-delivery",
          "an expired lock raises the delivery count whatever the profile says",
          breaks=("MSG-DELIVERY-002",)),
    Fault("unbounded-device-queue", "a device queue accepts more than 50 messages", breaks=("MSG-QUEUE-001",)),
    Fault("c2d-no-size-limit",
          "a cloud-to-device message over the profile's size limit is accepted",
          breaks=("MSG-C2D-001",)),
    Fault("device-token-any-device",
          "a device token is accepted on any device's messaging endpoints",
          breaks=("MSG-AUTH-002",)),
    Fault("ignore-device-connect",
          "a policy token without DeviceConnect is accepted on messaging",
          breaks=("MSG-AUTH-003",)),
    Fault("disabled-device-connects", "a disabled device can send and receive", breaks=("MSG-AUTH-004",)),
    Fault("refuse-device-tokens", "device-scoped tokens (no skn) are refused", breaks=("MSG-AUTH-001",)),
    Fault("unknown-job-returns-200",
          "GET of an unknown job answers 200 with an empty job object",
          breaks=("JOB-GET-002",)),
    Fault("cancel-unknown-job-returns-204", "DELETE of an unknown job answers 204", breaks=("JOB-CANCEL-002",)),
    Fault("cancel-ignored", "a cancelled job still runs to completion", breaks=("JOB-CANCEL-001",)),
    Fault("cancel-finished-returns-409", "DELETE on a finished job answers 409", breaks=("JOB-CANCEL-003",)),
    Fault("export-ignores-exclude-keys",
          "an export writes keys even when excludeKeysInExport is true",
          breaks=("JOB-EXPORT-002",)),
    Fault("export-keys-default-flipped",
          "an export without excludeKeysInExport does the opposite of the profile's default",
          breaks=("JOB-EXPORT-003",)),
    Fault("export-skips-last-device", "an export leaves out the last device", breaks=("JOB-EXPORT-001",)),
    Fault("export-json-array",
          "an export writes one JSON array instead of one device per line",
          breaks=("JOB-EXPORT-001",)),
    Fault("import-skips-updates", "an import applies only its create lines", breaks=("JOB-IMPORT-001",)),
    Fault("job-never-completes", "a started job stays running forever", breaks=("JOB-LIFE-001",)),
    Fault("completed-job-progress-0", "a completed job reports progress 0", breaks=("JOB-LIFE-001",)),
    Fault("failed-job-without-reason", "a failed job has no failureReason", breaks=("JOB-FAIL-001",)),
    Fault("list-jobs-omits-finished", "GET /jobs leaves out finished jobs", breaks=("JOB-LIST-001",)),
    Fault("job-status-done",
          "a completed job's status reads \"done\" instead of \"completed\"",
          breaks=("JOB-GET-001",)),
    Fault("jobs-create-not-found", "POST /jobs/create answers 404", breaks=("JOB-CREATE-001",)),
    Fault("importdevices-not-found",
          "GET /importdevices answers 404",
          breaks=("JOB-CREATE-001",), profile="docs-strict"),
    Fault("v2-unknown-job-returns-200",
          "GET /jobs/v2/{jobId} of an unknown job answers 200 with an empty job",
          breaks=("JOBV2-GET-002",)),
    Fault("v2-cancel-ignored", "a cancelled scheduled job still runs", breaks=("JOBV2-CANCEL-001",)),
    Fault("v2-start-time-ignored",
          "a scheduled job runs at once, whatever its startTime",
          breaks=("JOBV2-SCHEDULE-001",)),
    Fault("v2-query-ignores-filters", "GET /jobs/v2/query ignores jobType and jobStatus", breaks=("JOBV2-QUERY-001",)),
    Fault("twin-job-updates-nothing",
          "a twin-update job completes without changing any twin",
          breaks=("JOBV2-TWIN-001",)),
    Fault("twin-job-ignores-condition",
          "a twin-update job updates every twin, not only those its queryCondition selects",
          breaks=("JOBV2-TWIN-001",)),
    Fault("method-job-offline-succeeds",
          "a device that is not online counts as succeeded in a method job",
          breaks=("JOBV2-METHOD-001",)),
    Fault("method-job-no-statistics", "a finished job has no deviceJobStatistics", breaks=("JOBV2-GET-001",)),
    Fault("twin-patch-ignored", "PATCH /twins/{deviceId} answers 200 but changes nothing", breaks=("TWIN-PATCH-001",)),
    Fault("rp-no-auth-required", "RP requests without Authorization are served", breaks=("RP-AUTH-001",)),
    Fault("rp-accept-any-token", "any bearer token is accepted", breaks=("RP-AUTH-002",)),
    Fault("rp-drop-request-id", "RP responses carry no x-ms-request-id", breaks=("RP-REQID-001",)),
    Fault("rp-accept-missing-api-version", "RP requests without api-version are served", breaks=("RP-APIVER-001",)),
    Fault("rp-plain-errors",
          "RP errors are text/plain \"error\" without the ErrorDetails envelope",
          breaks=("RP-ERR-001",)),
    Fault("rp-create-returns-200",
          "a hub create answers 200 synchronously, without Azure-AsyncOperation",
          breaks=("RP-CREATE-001",)),
    Fault("rp-operation-never-ends", "every operation status stays InProgress", breaks=("RP-LRO-001",)),
    Fault("rp-succeeded-before-hub-exists",
          "a create's operation status says Succeeded at once, but GET of the hub answers 404 until the delay has passed",
          breaks=("RP-LRO-001",)),
    Fault("rp-delete-keeps-hub",
          "the delete operation succeeds but the hub stays (GET keeps answering 200)",
          breaks=("RP-DELETE-001",)),
    Fault("rp-delete-no-location",
          "the delete's 202 carries neither Location nor Retry-After",
          breaks=("RP-DELETE-001",)),
    Fault("rp-get-reveals-keys", "GET of a hub includes the policies with their keys", breaks=("RP-GET-002",)),
    Fault("rp-update-ignored",
          "a PUT on an existing hub answers as usual but stores nothing",
          breaks=("RP-UPDATE-001",)),
    Fault("rp-listkeys-drops-policy", "both listkeys operations omit the last policy", breaks=("RP-KEYS-001",)),
    Fault("rp-keyname-ignored",
          "keys-by-name returns the first policy whatever the name (unknown names too)",
          breaks=("RP-KEYS-002",)),
    Fault("rp-page-repeats-item",
          "each next page of a hub list starts with the previous page's last hub",
          breaks=("RP-LIST-001",)),
    Fault("rp-nextlink-dropped", "hub lists return their first page without nextLink", breaks=("RP-LIST-001",)),
    Fault("rp-ignore-if-match", "PUT ignores If-Match and If-None-Match", breaks=("RP-COND-001",)),
    Fault("rp-delete-ignores-if-match", "DELETE ignores If-Match", breaks=("RP-COND-002",)),
    Fault("rp-write-before-precondition",
          "a PUT with a stale If-Match stores the change, then answers 412",
          breaks=("RP-COND-003",)),
    Fault("rp-no-etag-header", "hub responses carry no ETag header", breaks=("RP-ETAG-001",)),
    Fault("rp-etag-unchanged-on-update", "an update keeps the hub's old etag", breaks=("RP-ETAG-002",)),
    Fault("rp-cg-create-ignored",
          "consumer-group creates (both path families) answer success but store nothing",
          breaks=("RP-CG-001",)),
    Fault("rp-cg-delete-ignored",
          "consumer-group deletes (both families) answer success but remove nothing",
          breaks=("RP-CG-001",), profile="docs-strict"),
    Fault("rp-cg-missing-hub-succeeds",
          "consumer-group operations on a missing hub answer as if it existed (create succeeds, list gives [\"$default\"])",
          breaks=("RP-CG-002",)),
    Fault("rp-name-always-available", "checkNameAvailability always says available", breaks=("RP-NAME-001",)),
    Fault("rp-stats-zero", "IotHubStats always counts 0 devices", breaks=("RP-STATS-001",)),
    Fault("rp-export-never-completes",
          "an export started through the RP never leaves \"running\"",
          breaks=("RP-JOB-001",)),
    Fault("rp-import-ignores-blob",
          "an import started through the RP completes without applying its blob",
          breaks=("RP-JOB-002",), profile="docs-strict"),
    Fault("rp-quota-values-as-strings",
          "quotaMetrics answers CurrentValue and MaxValue as strings (ARM16: long)",
          breaks=("RP-READ-001",)),
)
FAULTS: dict[str, Fault] = {fault.name: fault for fault in _TABLE}


def parse_faults(faults: str | Iterable[str] | None) -> frozenset[str]:
    """Fault names from "a,b c" or an iterable of names; an unknown name is a ConfigError."""
    if faults is None:
        return frozenset()
    names = re.split(r"[,\s]+", faults) if isinstance(faults, str) else [str(name) for name in faults]
    chosen = frozenset(name.strip() for name in names if name.strip())
    for name in sorted(chosen):
        if name not in FAULTS:
            raise ConfigError(f"unknown fault {name!r} (known: {', '.join(sorted(FAULTS))})")
    return chosen


def switch(name: str) -> str:
    """A declared fault's name, for a module to bind at import: `UNQUOTED_ETAG = switch("unquoted-etag")`. A name
    that is not in the table fails the import, so a typo can never silently turn a fault off."""
    if name not in FAULTS:
        raise LookupError(f"undeclared fault switch {name!r}: declare it in iothub_conformance/reference/faults.py")
    return name

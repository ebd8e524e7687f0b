"""Fault switches: each one makes the reference break one documented rule, so a check can be shown to catch it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from iothub_conformance.config import ConfigError

FAULTS: dict[str, str] = {
    "drop-request-id": "error responses carry no x-ms-request-id header",
    "repeat-request-id": "every response carries the same x-ms-request-id",
    "accept-missing-api-version": "a request without api-version is served",
    "accept-any-api-version": "an unsupported api-version value is served",
    "wrong-api-version-error-code": "api-version errors name the code BadRequest instead of InvalidProtocolVersion",
    "no-etag-header": "device responses carry no ETag header",
    "unquoted-etag": "the ETag header is sent without quotes",
    "etag-header-mismatch": "the ETag header differs from the body etag",
    "etag-unchanged-on-write": "an update keeps the device's old etag",
    "etag-changes-on-read": "every GET of a device returns a fresh etag",
    "ignore-if-match": "If-Match is ignored on PUT and DELETE",
    "write-before-precondition": "a PUT with a stale If-Match applies the change, then answers 412",
    "weak-if-match-matches": "If-Match W/\"<current>\" matches (weak comparison)",
    "reject-if-match-star": "If-Match: * answers 412 on an existing device",
    "no-content-type": "JSON responses carry no Content-Type header",
    "no-auth-required": "requests without Authorization are served",
    "accept-expired-token": "an expired SAS token is accepted",
    "skip-signature-check": "the SAS signature is not verified",
    "accept-unknown-policy": "a token naming an unknown policy is treated as the owner policy",
    "ignore-token-audience": "the token's sr is not compared with the hub host and request path",
    "create-returns-200": "a device create answers 200 whatever the profile says",
    "error-envelope-plain": "errors are text/plain \"error\" without envelope or iothub-errorcode",
    "server-error-on-bad-json": "a PUT body that is not JSON gets 500",
    "list-ignores-top": "GET /devices ignores top",
    "update-overwrites-generation-id": "a client generationId on update is stored",
    "delete-missing-returns-204": "DELETE of an unknown device answers 204",
    "no-generated-keys": "a create without authentication stores no keys",
    "reject-special-device-ids": "deviceIds with any documented special character are refused with 400",
    "stats-missing-field": "GET /statistics/devices omits totalDeviceCount",
    # Device messaging
    "d2c-returns-200": "a device-to-cloud send answers 200 instead of 204",
    "d2c-no-size-limit": "a device-to-cloud message of 256 KB or more is accepted",
    "d2c-accepts-invalid-properties": "application property names and values are not checked",
    "d2c-refuses-properties": "a device-to-cloud send with any IoTHub-app-* header is refused with 400",
    "empty-queue-returns-200": "a receive on an empty queue answers 200 with an empty body",
    "receive-drops-properties": "a received message lacks its IoTHub-MessageId and IoTHub-app-* headers",
    "no-message-lock": "a received message stays visible to other receives",
    "unquoted-lock-etag": "the receive ETag carries the lock token without quotes",
    "complete-keeps-message": "a completed message is delivered again",
    "reject-requeues": "a rejected message is delivered again",
    "abandon-keeps-delivery-count": "an abandon does not raise the delivery count",
    "accept-unknown-lock": "complete, reject and abandon with a lock that was never issued answer 204",
    "lock-lost-precondition-failed": "a lost lock is answered 412 PreconditionFailed instead of DeviceMessageLockLost",
    "expired-lock-still-valid": "an expired lock still completes, rejects or abandons its message",
    "lock-never-expires": "a locked message never becomes visible again",
    "no-max-delivery-count": "a message is never dead-lettered after the max delivery count",
    "lock-expiry-counts-delivery": "an expired lock raises the delivery count whatever the profile says",
    "unbounded-device-queue": "a device queue accepts more than 50 messages",
    "c2d-no-size-limit": "a cloud-to-device message over the profile's size limit is accepted",
    "device-token-any-device": "a device token is accepted on any device's messaging endpoints",
    "ignore-device-connect": "a policy token without DeviceConnect is accepted on messaging",
    "disabled-device-connects": "a disabled device can send and receive",
    "refuse-device-tokens": "device-scoped tokens (no skn) are refused",
    # Import/export jobs
    "unknown-job-returns-200": "GET of an unknown job answers 200 with an empty job object",
    "cancel-unknown-job-returns-204": "DELETE of an unknown job answers 204",
    "cancel-ignored": "a cancelled job still runs to completion",
    "cancel-finished-returns-409": "DELETE on a finished job answers 409",
    "export-ignores-exclude-keys": "an export writes keys even when excludeKeysInExport is true",
    "export-keys-default-flipped": "an export without excludeKeysInExport does the opposite of the profile's default",
    "export-skips-last-device": "an export leaves out the last device",
    "export-json-array": "an export writes one JSON array instead of one device per line",
    "import-skips-updates": "an import applies only its create lines",
    "job-never-completes": "a started job stays running forever",
    "completed-job-progress-0": "a completed job reports progress 0",
    "failed-job-without-reason": "a failed job has no failureReason",
    "list-jobs-omits-finished": "GET /jobs leaves out finished jobs",
    "job-status-done": "a completed job's status reads \"done\" instead of \"completed\"",
    "jobs-create-not-found": "POST /jobs/create answers 404",
    "importdevices-not-found": "GET /importdevices answers 404",
    # Scheduled jobs (jobs v2) and twins
    "v2-unknown-job-returns-200": "GET /jobs/v2/{jobId} of an unknown job answers 200 with an empty job",
    "v2-cancel-ignored": "a cancelled scheduled job still runs",
    "v2-start-time-ignored": "a scheduled job runs at once, whatever its startTime",
    "v2-query-ignores-filters": "GET /jobs/v2/query ignores jobType and jobStatus",
    "twin-job-updates-nothing": "a twin-update job completes without changing any twin",
    "twin-job-ignores-condition": "a twin-update job updates every twin, not only those its queryCondition selects",
    "method-job-offline-succeeds": "a device that is not online counts as succeeded in a method job",
    "method-job-no-statistics": "a finished job has no deviceJobStatistics",
    "twin-patch-ignored": "PATCH /twins/{deviceId} answers 200 but changes nothing",
    # Resource provider (ARM)
    "rp-no-auth-required": "RP requests without Authorization are served",
    "rp-accept-any-token": "any bearer token is accepted",
    "rp-drop-request-id": "RP responses carry no x-ms-request-id",
    "rp-accept-missing-api-version": "RP requests without api-version are served",
    "rp-plain-errors": "RP errors are text/plain \"error\" without the ErrorDetails envelope",
    "rp-create-returns-200": "a hub create answers 200 synchronously, without Azure-AsyncOperation",
    "rp-operation-never-ends": "every operation status stays InProgress",
    "rp-succeeded-before-hub-exists": "a create's operation status says Succeeded at once, but GET of the hub answers "
                                      "404 until the delay has passed",
    "rp-delete-keeps-hub": "the delete operation succeeds but the hub stays (GET keeps answering 200)",
    "rp-delete-no-location": "the delete's 202 carries neither Location nor Retry-After",
    "rp-get-reveals-keys": "GET of a hub includes the policies with their keys",
    "rp-update-ignored": "a PUT on an existing hub answers as usual but stores nothing",
    "rp-listkeys-drops-policy": "both listkeys operations omit the last policy",
    "rp-keyname-ignored": "keys-by-name returns the first policy whatever the name (unknown names too)",
    "rp-page-repeats-item": "each next page of a hub list starts with the previous page's last hub",
    "rp-nextlink-dropped": "hub lists return their first page without nextLink",
    "rp-ignore-if-match": "PUT ignores If-Match and If-None-Match",
    "rp-delete-ignores-if-match": "DELETE ignores If-Match",
    "rp-write-before-precondition": "a PUT with a stale If-Match stores the change, then answers 412",
    "rp-no-etag-header": "hub responses carry no ETag header",
    "rp-etag-unchanged-on-update": "an update keeps the hub's old etag",
    "rp-cg-create-ignored": "consumer-group creates (both path families) answer success but store nothing",
    "rp-cg-delete-ignored": "consumer-group deletes (both families) answer success but remove nothing",
    "rp-cg-missing-hub-succeeds": "consumer-group operations on a missing hub answer as if it existed (create "
                                  "succeeds, list gives [\"$default\"])",
    "rp-name-always-available": "checkNameAvailability always says available",
    "rp-stats-zero": "IotHubStats always counts 0 devices",
    "rp-export-never-completes": "an export started through the RP never leaves \"running\"",
    "rp-import-ignores-blob": "an import started through the RP completes without applying its blob",
    "rp-quota-values-as-strings": "quotaMetrics answers CurrentValue and MaxValue as strings (ARM16: long)",
}


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

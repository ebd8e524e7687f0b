"""Fault switches: each one makes the reference break one documented rule, so a check can be shown to catch it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from iothub_conformance.config import ConfigError

from . import (
    faults_2021_configurations,
    faults_2021_digital_twins,
    faults_2021_files,
    faults_2021_jobs,
    faults_2021_messaging,
    faults_2021_registry,
    faults_2021_scope,
    faults_2021_twins,
)
from .fault_types import Fault, because

__all__ = ["FAULTS", "Fault", "because", "parse_faults", "switch"]


_TABLE: tuple[Fault, ...] = (
    Fault("drop-request-id", "error responses carry no x-ms-request-id header", breaks=("COMMON-REQID-001",),
          collateral=(
              ("COMMON-REQID-002", "errors: 5 of 5 responses carry no x-ms-request-id to compare: GET /devices/uniq-… → "
                                   "404 (DeviceNotFound)"),
              ("COMMON-SPEC-001", "GET /devices/{deviceId}: ST107 Missing required response headers:"),
          )),
    Fault("repeat-request-id", "every response carries the same x-ms-request-id", breaks=("COMMON-REQID-002",)),
    Fault("accept-missing-api-version", "a request without api-version is served", breaks=("COMMON-APIVER-001",),
          collateral=(
              ("COMMON-APIVER-004", "a generated file-upload completion without an api-version is taken as a completion "
                                    "and refused for its correlationId, not for its version"),
          ), whole_suite=True),
    Fault("accept-any-api-version", "an unsupported api-version value is served", breaks=("COMMON-APIVER-002",),
          collateral=((
              ("COMMON-ERR-001", "errors: an unsupported api-version was not refused, so there is no error envelope to "
                                 "judge: GET /devices → …"),
          ))
          + (
              ("COMMON-APIVER-004", "a generated file-upload completion at an unknown api-version is taken as a completion "
                                    "and refused for its correlationId, not for its version"),
          ), whole_suite=True),
    Fault("wrong-api-version-error-code",
          "api-version errors name the code BadRequest instead of InvalidProtocolVersion",
          breaks=("COMMON-APIVER-004",)),
    Fault("no-etag-header", "device responses carry no ETag header", breaks=("DI-ETAG-001",),
          collateral=(
              *because("errors: the create of auth-…: PUT /devices/auth-… → 200 without an ETag to compare with",
                       "COMMON-AUTH-002", "COMMON-AUTH-003", "COMMON-AUTH-004", "COMMON-AUTH-005"),
              ("COMMON-SPEC-001", "PUT /devices/{deviceId}: ST107 Missing required response headers:"),
              ("DI-COND-001", "errors: could not read the device's ETag before PUT with a stale If-Match: GET "
                              "/devices/stale-… → 200 …"),
              ("DI-COND-002", "errors: could not read the device's ETag before DELETE with a stale If-Match: GET "
                              "/devices/stale-… → 200 …"),
              ("DI-COND-003", "errors: could not read the device's ETag before PUT with the current If-Match: GET "
                              "/devices/current-… → 200 …"),
              ("DI-COND-004", "errors: could not read the device's ETag to make a weak tag of: GET /devices/weak-… → 200 "
                              "without an ETag …"),
              ("DI-ETAG-003", "errors: no ETag header to compare the body etag with: PUT /devices/etagbody-… → 200 "
                              "without an ETag to …"),
              ("DI-ETAG-004", "errors: the create of etagwrite-…: PUT /devices/etagwrite-… → 200 without an ETag to "
                              "compare with"),
              ("DI-ETAG-005", "errors: the create of etagread-…: PUT /devices/etagread-… → 200 without an ETag to "
                              "compare with"),
          )),
    Fault("unquoted-etag", "the ETag header is sent without quotes", breaks=("DI-ETAG-002",),
          collateral=(
              ("COMMON-SPEC-001", "PUT /devices/{deviceId}: ST108 Response header does not conform to the schema: … does "
                                  "not match …"),
          )),
    Fault("etag-header-mismatch", "the ETag header differs from the body etag", breaks=("DI-ETAG-003",)),
    Fault("etag-unchanged-on-write", "an update keeps the device's old etag", breaks=("DI-ETAG-004",)),
    Fault("etag-changes-on-read", "every GET of a device returns a fresh etag", breaks=("DI-ETAG-005",),
          collateral=(
              ("COMMON-AUTH-002", "the device changed after a refused update with a expired token (ETag … → …)"),
              ("COMMON-AUTH-003", "the device changed after a refused update with a bad-signature token (ETag … → …)"),
              ("COMMON-AUTH-004", "the device changed after a refused update with a unknown-policy token (ETag … → …)"),
              ("COMMON-AUTH-005", "the device changed after a refused update with a other-hub token (ETag … → …)"),
              ("DI-COND-001", "PUT with a stale If-Match answered 412 but the device changed (ETag … → …)"),
              ("DI-COND-002", "DELETE with a stale If-Match answered 412 but the device changed (ETag … → …)"),
              ("DI-COND-004", "PUT with a weak If-Match answered 412 but the device changed (ETag … → …)"),
              ("JOB-IMPORT-001", "the import changed import-untouched-…, which its input does not list (ETag … → …)"),
          )),
    Fault("ignore-if-match", "If-Match is ignored on PUT and DELETE", breaks=("DI-COND-001",),
          collateral=(
              ("DI-COND-002", "DELETE /devices/stale-… with a stale If-Match \"stale-…\" → 204, expected 412"),
              ("DI-COND-004", "PUT /devices/weak-… with a weak If-Match W/… → 200, expected 412"),
          )),
    Fault("write-before-precondition",
          "a PUT with a stale If-Match applies the change, then answers 412",
          breaks=("DI-COND-001",),
          collateral=(
              ("DI-COND-004", "PUT with a weak If-Match answered 412 but the device changed (ETag … → …)"),
          )),
    Fault("weak-if-match-matches", "If-Match W/\"<current>\" matches (weak comparison)", breaks=("DI-COND-004",)),
    Fault("reject-if-match-star", "If-Match: * answers 412 on an existing device", breaks=("DI-COND-003",),
          collateral=(
              ("DI-COND-007", "its test sends If-Match \"*\" (the star in quotes) and gets the same 412"),
              ("DI-DELETE-001", "its test deletes with If-Match *, which this fault refuses"),
              ("DI-UPDATE-001", "its test updates with If-Match *, which this fault refuses"),
              *because("error: the test updates its device with If-Match * before judging the ETag, and cannot",
                       "DI-ETAG-001", "DI-ETAG-002", "DI-ETAG-003"),
              ("DI-ETAG-004", "error: the test updates its device with If-Match * to see the ETag change, and cannot"),
          )),
    Fault("no-content-type", "JSON responses carry no Content-Type header", breaks=("COMMON-HDR-001",),
          collateral=(
              ("COMMON-SPEC-001", "PUT /devices/{deviceId}: ST104 Missing Content-Type header:"),
          )),
    Fault("no-auth-required", "requests without Authorization are served", breaks=("COMMON-AUTH-001",),
          collateral=(
              ("COMMON-ERR-001", "errors: a read without Authorization was not refused, so there is no error envelope to "
                                 "judge: GET /devices …"),
          )),
    Fault("accept-expired-token", "an expired SAS token is accepted", breaks=("COMMON-AUTH-002",),
          collateral=(
              ("COMMON-ERR-001", "errors: a messaging request the pages refuse was not refused, so there is no error "
                                 "envelope to judge: POST …"),
              ("DEVAUTH-EXPIRED-001", "the 2021-04-12 device endpoints take the expired device token too"),
              ("SCOPE-AUTH-002", "the device-scope calls take an expired $edgeHub token too"),
          )),
    Fault("skip-signature-check", "the SAS signature is not verified", breaks=("COMMON-AUTH-003",),
          collateral=(("DEVAUTH-EXPIRED-001", "the 2021-04-12 device endpoints take the tampered device token too"),
                      ("SCOPE-AUTH-002", "the device-scope calls take a $edgeHub token signed by another key"))),
    Fault("accept-unknown-policy",
          "a token naming an unknown policy is treated as the owner policy",
          breaks=("COMMON-AUTH-004",)),
    Fault("ignore-token-audience",
          "the token's sr is not compared with the hub host and request path",
          breaks=("COMMON-AUTH-005",)),
    Fault("create-returns-200", "a device create answers 200 whatever the profile says", breaks=("DI-CREATE-001",),
          collateral=(
              ("DI-COND-006", "create with If-Match None: PUT /devices/plain-… → 200"),
          ), profile="docs-strict"),
    Fault("error-envelope-plain",
          "errors are text/plain \"error\" without envelope or iothub-errorcode",
          breaks=("COMMON-ERR-001",),
          collateral=((
              ("COMMON-APIVER-004", "GET /devices with no api-version names error code None, expected "
                                    "'InvalidProtocolVersion'"),
              *because("the 404 names None",
                       "JOB-CANCEL-002", "JOB-GET-002"),
              ("MSG-LOCK-002", "complete with a lock that was never issued → 412 names None, expected "
                               "'DeviceMessageLockLost'"),
              ("MSG-LOCK-003", "complete with an expired lock → 412 names None, expected 'DeviceMessageLockLost'"),
              *because("the 2021-04-12 error answers name no error code either (… names None, expected …)",
                       "DEVICE-COND-001", "DEVICE-GET-002", "DTWIN-GET-002", "IEJOB-CANCEL-002", "IEJOB-GET-002",
                       "IEJOB-QUOTA-001", "METHOD-NOTFOUND-001", "METHOD-OFFLINE-001", "METHOD-TIMEOUT-001",
                       "MODULE-DELETE-001", "MODULE-GET-002", "MODULE-LIMIT-001", "QUERY-ERR-001"),
          ))
          + (
              ("C2D-LOCK-001", "the 2021-04-12 lock-lost answer names no error code either"),
              ("CONFIG-APPLY-002", "the 404 for an unknown device names no error code"),
              ("CONFIG-GET-001", "the 404 for an unknown configuration names no error code"),
              ("D2C-LIMIT-001", "the 413 for a message too large names no error code"),
              ("FEEDBACK-LOCK-001", "the feedback lock-lost answer names no error code"),
              ("FILE-LIMIT-001", "the 403 for the eleventh upload names no error code"),
              ("PNP-CMD-003", "the 404 for a device not online names no error code"),
              ("PNP-CMD-005", "the 504 for a command the device did not answer names no error code"),
              ("PNP-GET-002", "the 404 for an unknown digital twin names no error code"),
          )),
    Fault("server-error-on-bad-json", "a PUT body that is not JSON gets 500", breaks=("COMMON-ERR-002",)),
    Fault("list-ignores-top", "GET /devices ignores top", breaks=("DI-LIST-001",)),
    Fault("update-overwrites-generation-id", "a client generationId on update is stored", breaks=("DI-UPDATE-001",)),
    Fault("delete-missing-returns-204", "DELETE of an unknown device answers 204", breaks=("DI-DELETE-002",)),
    Fault("no-generated-keys", "a create without authentication stores no keys", breaks=("DI-CREATE-002",),
          generated_on=("sendDeviceEvent", "receiveDeviceBoundNotification", "completeDeviceBoundNotification",
                        "abandonDeviceBoundNotification"),
          collateral=(
              *because("errors: device msg-… has no primary key to sign its messages with: PUT /devices/msg-… → 200",
                       "COMMON-ERR-001", "COMMON-REQID-001", "MSG-ABANDON-001", "MSG-AUTH-001", "MSG-AUTH-003",
                       "MSG-C2D-001", "MSG-COMPLETE-001", "MSG-D2C-001", "MSG-D2C-002", "MSG-D2C-003", "MSG-D2C-004",
                       "MSG-DELIVERY-001", "MSG-DELIVERY-002", "MSG-LOCK-001", "MSG-LOCK-002", "MSG-LOCK-003",
                       "MSG-LOCK-004", "MSG-QUEUE-001", "MSG-RECV-001", "MSG-RECV-002", "MSG-RECV-003", "MSG-REJECT-001"),
              *because("errors: device prop-msg-… has no primary key to sign its messages with: PUT /devices/prop-msg-… → "
                       "200",
                       "COMMON-REQID-002", "COMMON-SPEC-001"),
              *because("errors: device keys-… was created without keys to compare the export with",
                       "JOB-EXPORT-001", "JOB-EXPORT-002"),
              ("JOB-EXPORT-003", "an export without excludeKeysInExport wrote null keys; the profile's default is to "
                                 "include them"),
              ("MSG-AUTH-002", "errors: device mine-… has no primary key to sign its messages with: PUT /devices/mine-… "
                               "→ 200"),
              ("MSG-AUTH-004", "errors: device enabled-… has no primary key to sign its messages with: PUT "
                               "/devices/enabled-… → 200"),
          )),
    Fault("reject-special-device-ids",
          "deviceIds with any documented special character are refused with 400",
          breaks=("DI-ID-001",),
          generated_on=("deleteDevice", "sendDeviceEvent", "receiveDeviceBoundNotification",
                        "completeDeviceBoundNotification", "abandonDeviceBoundNotification"),
          collateral=(
              ("COMMON-APIVER-001", "errors: could not create device withver-…: PUT /devices/withver-… → 400 "
                                    "(ArgumentInvalid)"),
              ("COMMON-AUTH-001", "errors: could not create device withauth-…: PUT /devices/withauth-… → 400 "
                                  "(ArgumentInvalid)"),
              *because("errors: could not create device auth-…: PUT /devices/auth-… → 400 (ArgumentInvalid)",
                       "COMMON-AUTH-002", "COMMON-AUTH-003", "COMMON-AUTH-004", "COMMON-AUTH-005"),
              ("COMMON-ERR-001", "errors: could not create device envelope-…: PUT /devices/envelope-… → 400 "
                                 "(ArgumentInvalid)"),
              ("COMMON-ERR-002", "errors: could not create device goodjson-…: PUT /devices/goodjson-… → 400 "
                                 "(ArgumentInvalid)"),
              ("COMMON-HDR-001", "errors: could not create device ctype-…: PUT /devices/ctype-… → 400 (ArgumentInvalid)"),
              ("COMMON-REQID-001", "errors: could not create device reqid-…: PUT /devices/reqid-… → 400 (ArgumentInvalid)"),
              ("COMMON-REQID-002", "errors: could not create device prop-msg-…: PUT /devices/prop-msg-… → 400 "
                                   "(ArgumentInvalid)"),
              ("COMMON-SPEC-001", "PUT /devices/{deviceId}: ST202 Schema-valid request rejected: Valid data should have "
                                  "been accepted"),
              *because("errors: could not create device stale-…: PUT /devices/stale-… → 400 (ArgumentInvalid)",
                       "DI-COND-001", "DI-COND-002"),
              ("DI-COND-003", "errors: could not create device current-…: PUT /devices/current-… → 400 (ArgumentInvalid)"),
              ("DI-COND-004", "errors: could not create device weak-…: PUT /devices/weak-… → 400 (ArgumentInvalid)"),
              ("DI-COND-006", "create with If-Match None: PUT /devices/plain-… → 400 (ArgumentInvalid)"),
              ("DI-COND-007", "errors: could not create device quotedstar-…: PUT /devices/quotedstar-… → 400 "
                              "(ArgumentInvalid)"),
              ("DI-CREATE-001", "create: PUT /devices/create-… → 400 (ArgumentInvalid)"),
              *because("errors: could not create device keys-…: PUT /devices/keys-… → 400 (ArgumentInvalid)",
                       "DI-CREATE-002", "JOB-EXPORT-002"),
              ("DI-DELETE-001", "errors: could not create device delete-…: PUT /devices/delete-… → 400 (ArgumentInvalid)"),
              *because("errors: could not create device present-…: PUT /devices/present-… → 400 (ArgumentInvalid)",
                       "DI-DELETE-002", "DI-GET-002"),
              ("DI-DELETE-003", "errors: could not create device noifmatch-…: PUT /devices/noifmatch-… → 400 "
                                "(ArgumentInvalid)"),
              *because("errors: could not create device etag-…: PUT /devices/etag-… → 400 (ArgumentInvalid)",
                       "DI-ETAG-001", "DI-ETAG-002"),
              ("DI-ETAG-003", "errors: could not create device etagbody-…: PUT /devices/etagbody-… → 400 (ArgumentInvalid)"),
              ("DI-ETAG-004", "errors: could not create device etagwrite-…: PUT /devices/etagwrite-… → 400 "
                              "(ArgumentInvalid)"),
              ("DI-ETAG-005", "errors: could not create device etagread-…: PUT /devices/etagread-… → 400 (ArgumentInvalid)"),
              ("DI-GET-001", "errors: could not create device get-…: PUT /devices/get-… → 400 (ArgumentInvalid)"),
              ("DI-ID-002", "errors: could not create device bad-…: PUT /devices/bad-… → 400 (ArgumentInvalid)"),
              ("DI-LIST-001", "errors: could not create device list-…: PUT /devices/list-… → 400 (ArgumentInvalid)"),
              ("DI-LIST-002", "errors: could not create device top-…: PUT /devices/top-… → 400 (ArgumentInvalid)"),
              ("DI-STATS-001", "errors: could not create device stats-…: PUT /devices/stats-… → 400 (ArgumentInvalid)"),
              ("DI-UPDATE-001", "errors: could not create device update-…: PUT /devices/update-… → 400 (ArgumentInvalid)"),
              ("JOB-CANCEL-001", "errors: could not tell whether device cancelled-import-… exists after the cancelled "
                                 "import: GET …"),
              ("JOB-EXPORT-001", "errors: could not create device export-…: PUT /devices/export-… → 400 (ArgumentInvalid)"),
              ("JOB-EXPORT-003", "errors: could not create device default-keys-…: PUT /devices/default-keys-… → 400 "
                                 "(ArgumentInvalid)"),
              ("JOB-IMPORT-001", "errors: could not create device import-update-…: PUT /devices/import-update-… → 400 "
                                 "(ArgumentInvalid)"),
              ("JOBV2-CANCEL-001", "errors: could not create device cancel-…: PUT /devices/cancel-… → 400 "
                                   "(ArgumentInvalid)"),
              *because("errors: could not create device twin-job-…: PUT /devices/twin-job-… → 400 (ArgumentInvalid)",
                       "JOBV2-CREATE-001", "JOBV2-GET-001", "JOBV2-TWIN-001"),
              ("JOBV2-METHOD-001", "errors: could not create device offline-…: PUT /devices/offline-… → 400 "
                                   "(ArgumentInvalid)"),
              ("JOBV2-METHOD-002", "errors: could not create device online-…: PUT /devices/online-… → 400 "
                                   "(ArgumentInvalid)"),
              ("JOBV2-QUERY-001", "errors: could not create device query-…: PUT /devices/query-… → 400 (ArgumentInvalid)"),
              ("JOBV2-SCHEDULE-001", "errors: could not create device scheduled-…: PUT /devices/scheduled-… → 400 "
                                     "(ArgumentInvalid)"),
              *because("errors: could not create device msg-… for a messaging test: PUT /devices/msg-… → 400 "
                       "(ArgumentInvalid)",
                       "MSG-ABANDON-001", "MSG-AUTH-001", "MSG-AUTH-003", "MSG-C2D-001", "MSG-COMPLETE-001",
                       "MSG-D2C-001", "MSG-D2C-002", "MSG-D2C-003", "MSG-D2C-004", "MSG-DELIVERY-001", "MSG-DELIVERY-002",
                       "MSG-LOCK-001", "MSG-LOCK-002", "MSG-LOCK-003", "MSG-LOCK-004", "MSG-QUEUE-001", "MSG-RECV-001",
                       "MSG-RECV-002", "MSG-RECV-003", "MSG-REJECT-001"),
              ("MSG-AUTH-002", "errors: could not create device mine-… for a messaging test: PUT /devices/mine-… → 400 "
                               "(ArgumentInvalid)"),
              ("MSG-AUTH-004", "errors: could not create device enabled-… for a messaging test: PUT /devices/enabled-… → "
                               "400 …"),
              ("TWIN-GET-001", "errors: could not create device twin-…: PUT /devices/twin-… → 400 (ArgumentInvalid)"),
              ("TWIN-PATCH-001", "errors: could not create device twin-patch-…: PUT /devices/twin-patch-… → 400 "
                                 "(ArgumentInvalid)"),
          )),
    Fault("stats-missing-field", "GET /statistics/devices omits totalDeviceCount", breaks=("COMMON-SPEC-001",),
          collateral=(
              ("DI-LIST-002", "errors: could not count the registry's devices: GET /statistics/devices → 200 without "
                              "totalDeviceCount"),
              ("DI-STATS-001", "totalDeviceCount is None"),
          )),
    Fault("d2c-returns-200", "a device-to-cloud send answers 200 instead of 204", breaks=("MSG-D2C-001",),
          collateral=(
              ("COMMON-SPEC-001", "POST /devices/{deviceId}/messages/events: ST103 Undocumented status code"),
              ("MSG-AUTH-001", "send with the device's own token → 200, expected 204"),
              *because("errors: the valid request (a send with the device's own token) is not served, so a refusal of the "
                       "invalid …",
                       "MSG-AUTH-002", "MSG-AUTH-003"),
              ("MSG-AUTH-004", "errors: the valid request (a send from an enabled device) is not served, so a refusal of "
                               "the invalid one …"),
              ("MSG-D2C-002", "send with properties as headers → 200, expected 204"),
              ("MSG-D2C-004", "errors: the valid request (the same send without that property) is not served, so a "
                              "refusal of the invalid …"),
          )),
    Fault("d2c-no-size-limit", "a device-to-cloud message of 256 KB or more is accepted", breaks=("MSG-D2C-003",),
          collateral=(
              ("COMMON-ERR-001", "errors: a messaging request the pages refuse was not refused, so there is no error "
                                 "envelope to judge: POST …"),
          )),
    Fault("d2c-accepts-invalid-properties", "application property names and values are not checked", breaks=("MSG-D2C-004",),
          collateral=(
              ("COMMON-ERR-001", "errors: a messaging request the pages refuse was not refused, so there is no error "
                                 "envelope to judge: POST …"),
          )),
    Fault("d2c-refuses-properties",
          "a device-to-cloud send with any IoTHub-app-* header is refused with 400",
          breaks=("MSG-D2C-002",),
          collateral=(
              ("COMMON-SPEC-001", "POST /devices/{deviceId}/messages/events: ST202 Schema-valid request rejected: Valid "
                                  "data should …"),
          )),
    Fault("empty-queue-returns-200", "a receive on an empty queue answers 200 with an empty body", breaks=("MSG-RECV-001",),
          collateral=(
              ("COMMON-SPEC-001", "GET /devices/{deviceId}/messages/devicebound: ST109 JSON deserialization error: "
                                  "Response must be …"),
              ("MSG-AUTH-001", "receive with the device's own token → 200, expected 204"),
              ("MSG-COMPLETE-001", "receive after complete → 200: the message is still there"),
              ("MSG-DELIVERY-001", "after 10 deliveries the message came back (200) instead of being dead-lettered"),
              ("MSG-RECV-002", "GET /devices/prop-msg-…/messages/devicebound → 200 carries no ETag: the message lock is "
                               "missing GET …"),
              ("MSG-RECV-003", "a second receive while the only message is locked → 200"),
              ("MSG-REJECT-001", "receive after reject delivered the message again"),
          )),
    Fault("receive-drops-properties",
          "a received message lacks its IoTHub-MessageId and IoTHub-app-* headers",
          breaks=("MSG-RECV-002",),
          collateral=(
              *because("a different message came back",
                       "MSG-ABANDON-001", "MSG-LOCK-004"),
          )),
    Fault("no-message-lock", "a received message stays visible to other receives", breaks=("MSG-RECV-003",)),
    Fault("unquoted-lock-etag", "the receive ETag carries the lock token without quotes", breaks=("MSG-LOCK-001",)),
    Fault("complete-keeps-message", "a completed message is delivered again", breaks=("MSG-COMPLETE-001",),
          collateral=(
              ("C2D-COMPLETE-001", "the 2021-04-12 complete keeps the message too"),
              ("FEEDBACK-STATUS-001", "a completion makes no Success record: the message stays until it expires"),
              ("FEEDBACK-ACK-001", "a completion makes no record, so ack positive and full see none"),
              ("FEEDBACK-RECV-002", "no completion makes a record, so there is no batch to receive"),
              ("FEEDBACK-RECORD-001", "no completion makes a record, so there is no record to read"),
              ("FEEDBACK-BATCH-001", "no completion makes a record, so there is no batch"),
              ("FEEDBACK-COMPLETE-001", "no completion makes a record, so there is no batch to complete"),
              ("FEEDBACK-ABANDON-001", "no completion makes a record, so there is no batch to abandon"),
              ("FEEDBACK-LOCK-001", "no completion makes a record, so there is no batch to lock"),
              ("FEEDBACK-DELETE-001", "errors: no completion makes a record, so the other device's record the test waits "
                                      "for never comes"),
          )),
    Fault("reject-requeues", "a rejected message is delivered again", breaks=("MSG-REJECT-001",),
          collateral=(
              ("C2D-REJECT-001", "the 2021-04-12 reject puts the message back too"),
              ("FEEDBACK-ACK-001", "a rejected message comes back and expires: ack positive sees an Expired record where "
                                   "none is due"),
              ("FEEDBACK-STATUS-001", "the rejected message comes back and expires, so its record says Expired, not "
                                      "Rejected"),
          )),
    Fault("abandon-keeps-delivery-count", "an abandon does not raise the delivery count", breaks=("MSG-ABANDON-001",),
          collateral=(
              ("MSG-DELIVERY-001", "after 10 deliveries the message came back (200) instead of being dead-lettered"),
          )),
    Fault("accept-unknown-lock",
          "complete, reject and abandon with a lock that was never issued answer 204",
          breaks=("MSG-LOCK-002",),
          collateral=(
              ("COMMON-ERR-001", "errors: a messaging request the pages refuse was not refused, so there is no error "
                                 "envelope to judge: …"),
          )),
    Fault("lock-lost-precondition-failed",
          "a lost lock is answered 412 PreconditionFailed instead of DeviceMessageLockLost",
          breaks=("MSG-LOCK-002",),
          collateral=(
              ("MSG-LOCK-003", "complete with an expired lock → 412 names 'PreconditionFailed', expected "
                               "'DeviceMessageLockLost'"),
          )),
    Fault("expired-lock-still-valid",
          "an expired lock still completes, rejects or abandons its message",
          breaks=("MSG-LOCK-003",)),
    Fault("lock-never-expires", "a locked message never becomes visible again", breaks=("MSG-LOCK-004",),
          collateral=(
              ("MSG-DELIVERY-002", "delivery 2 of 10: GET /devices/msg-…/messages/devicebound → 204, expected 200 with "
                                   "the message and …"),
              ("MSG-LOCK-003", "complete with an expired lock → 204, expected 404 or 412"),
          )),
    Fault("no-max-delivery-count",
          "a message is never dead-lettered after the max delivery count",
          breaks=("MSG-DELIVERY-001",),
          collateral=(
              ("C2D-DELIVERY-001", "the 2021-04-12 queue has no delivery limit either"),
              ("FEEDBACK-STATUS-001", "the message abandoned past its delivery count is kept, so its record says Expired, "
                                      "not DeliveryCountExceeded"),
          )),
    Fault("lock-expiry-counts-delivery",
          "an expired lock raises the delivery count whatever the profile says",
          breaks=("MSG-DELIVERY-002",)),
    Fault("unbounded-device-queue", "a device queue accepts more than 50 messages", breaks=("MSG-QUEUE-001",)),
    Fault("c2d-no-size-limit",
          "a cloud-to-device message over the profile's size limit is accepted",
          breaks=("MSG-C2D-001",)),
    Fault("device-token-any-device",
          "a device token is accepted on any device's messaging endpoints",
          breaks=("MSG-AUTH-002",),
          collateral=(("DEVAUTH-OTHER-001", "another device's token is taken on the 2021-04-12 device endpoints too"),
                      ("FILE-AUTH-001", "another device's token gets a SAS URI for this device's upload"))),
    Fault("ignore-device-connect",
          "a policy token without DeviceConnect is accepted on messaging",
          breaks=("MSG-AUTH-003",),
          collateral=(("DEVAUTH-POLICY-002", "policies without DeviceConnect are taken on the 2021-04-12 device "
                                             "endpoints too"),)),
    Fault("disabled-device-connects", "a disabled device can send and receive", breaks=("MSG-AUTH-004",)),
    Fault("refuse-device-tokens", "device-scoped tokens (no skn) are refused", breaks=("MSG-AUTH-001",),
          generated_on=("Device_GetDevicesAndModulesInScope", "Device_GetDeviceAndModuleInScope",
                        "Device_GetDevicesAndModulesInTargetScope", "Device_UpdateFileUploadStatus",
                        "Device_UpdateFileUploadStatusOfCorrelationId"),
          collateral=(
              ("DEVAUTH-DEVICE-001", "the 2021-04-12 device endpoints refuse the device's own token too"),
              *because("errors: the device's own request, which shows the refusals mean something, is refused",
                       "DEVAUTH-OTHER-001", "DEVAUTH-POLICY-002", "DEVAUTH-EXPIRED-001", "DEVAUTH-MODULE-001",
                       "DEVAUTH-SERVICE-001"),
              *because("the 2021-04-12 device-side calls, signed with the device's key, answer 401 (fail where the call "
                       "is the requirement, error where it is a precondition)",
                       "C2D-ABANDON-001", "C2D-COMPLETE-001", "C2D-DELIVERY-001", "C2D-IFMATCH-001", "C2D-LOCK-001",
                       "C2D-LOCK-002", "C2D-LOCKHINT-001", "C2D-PATH-001", "C2D-RECV-001", "C2D-RECV-002", "C2D-RECV-003",
                       "C2D-REJECT-001", "D2C-BATCH-001", "D2C-BATCH-002", "D2C-LIMIT-001", "D2C-PROPS-001",
                       "D2C-PROPS-002", "D2C-SEND-001", "FEEDBACK-ABANDON-001", "FEEDBACK-ACK-001",
                       "FEEDBACK-BATCH-001", "FEEDBACK-COMPLETE-001", "FEEDBACK-DELETE-001", "FEEDBACK-LOCK-001",
                       "FEEDBACK-RECORD-001", "FEEDBACK-RECV-002", "FEEDBACK-STATUS-001", "FILE-AUTH-001",
                       "FILE-LIMIT-001", "FILE-NOTICE-001", "FILE-NOTIFY-001", "FILE-NOTIFY-002", "FILE-NOTIFY-003",
                       "FILE-NOTIFY-004", "FILE-SAS-001", "FILE-SAS-002", "FILE-SAS-003", "FILE-TTL-001"),
              *because("the device-scope calls, signed with the $edgeHub module's key (no skn), answer 401",
                       "SCOPE-AUTH-001", "SCOPE-AUTH-002", "SCOPE-IDENTITY-001", "SCOPE-LIST-001", "SCOPE-ONE-001",
                       "SCOPE-PAGE-001", "SCOPE-TARGET-001", "SCOPE-VERSION-001"),
              *because("errors: the generated device-side and device-scope requests are signed with device or module "
                       "keys, which are refused", "COMMON-REQID-001", "COMMON-REQID-002", "COMMON-SPEC-001"),
              *because("errors: receive: GET /devices/msg-…/messages/devicebound → 401 (IotHubUnauthorizedAccess): the "
                       "target …",
                       "MSG-ABANDON-001", "MSG-COMPLETE-001", "MSG-LOCK-001", "MSG-LOCK-002", "MSG-LOCK-003",
                       "MSG-LOCK-004", "MSG-REJECT-001"),
              *because("errors: the valid request (a send with the device's own token) is not served, so a refusal of the "
                       "invalid …",
                       "MSG-AUTH-002", "MSG-AUTH-003"),
              ("MSG-AUTH-004", "errors: the valid request (a send from an enabled device) is not served, so a refusal of "
                               "the invalid one …"),
              ("MSG-D2C-001", "send of 0 bytes → 401"),
              ("MSG-D2C-002", "send with properties as headers → 401, expected 204"),
              ("MSG-D2C-004", "errors: the valid request (the same send without that property) is not served, so a "
                              "refusal of the invalid …"),
              *because("delivery 1 of 10: GET /devices/msg-…/messages/devicebound → 401 (IotHubUnauthorizedAccess): the …",
                       "MSG-DELIVERY-001", "MSG-DELIVERY-002"),
              ("MSG-RECV-001", "receive on an empty queue → 401, expected 204"),
              ("MSG-RECV-002", "receive: GET /devices/msg-…/messages/devicebound → 401 (IotHubUnauthorizedAccess): the "
                               "target …"),
              ("MSG-RECV-003", "errors: first receive: GET /devices/msg-…/messages/devicebound → 401 "
                               "(IotHubUnauthorizedAccess): the target …"),
          )),
    Fault("unknown-job-returns-200", "GET of an unknown job answers 200 with an empty job object", breaks=("JOB-GET-002",)),
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
    Fault("export-json-array", "an export writes one JSON array instead of one device per line", breaks=("JOB-EXPORT-001",)),
    Fault("import-skips-updates", "an import applies only its create lines", breaks=("JOB-IMPORT-001",)),
    Fault("job-never-completes", "a started job stays running forever", breaks=("JOB-LIFE-001",)),
    Fault("completed-job-progress-0", "a completed job reports progress 0", breaks=("JOB-LIFE-001",)),
    Fault("failed-job-without-reason", "a failed job has no failureReason", breaks=("JOB-FAIL-001",)),
    Fault("list-jobs-omits-finished", "GET /jobs leaves out finished jobs", breaks=("JOB-LIST-001",)),
    Fault("job-status-done", "a completed job's status reads \"done\" instead of \"completed\"", breaks=("JOB-GET-001",)),
    Fault("jobs-create-not-found", "POST /jobs/create answers 404", breaks=("JOB-CREATE-001",)),
    Fault("importdevices-not-found", "GET /importdevices answers 404", breaks=("JOB-CREATE-001",), profile="docs-strict"),
    Fault("v2-unknown-job-returns-200",
          "GET /jobs/v2/{jobId} of an unknown job answers 200 with an empty job",
          breaks=("JOBV2-GET-002",)),
    Fault("v2-cancel-ignored", "a cancelled scheduled job still runs", breaks=("JOBV2-CANCEL-001",)),
    Fault("v2-start-time-ignored", "a scheduled job runs at once, whatever its startTime", breaks=("JOBV2-SCHEDULE-001",),
          collateral=(
              ("JOBV2-CANCEL-001", "the cancelled job reads 'completed'"),
          )),
    Fault("v2-query-ignores-filters", "GET /jobs/v2/query ignores jobType and jobStatus", breaks=("JOBV2-QUERY-001",)),
    Fault("twin-job-updates-nothing", "a twin-update job completes without changing any twin", breaks=("JOBV2-TWIN-001",),
          collateral=(
              ("JOBV2-SCHEDULE-001", "the job did not run after its start"),
          )),
    Fault("twin-job-ignores-condition",
          "a twin-update job updates every twin, not only those its queryCondition selects",
          breaks=("JOBV2-TWIN-001",)),
    Fault("method-job-offline-succeeds",
          "a device that is not online counts as succeeded in a method job",
          breaks=("JOBV2-METHOD-001",),
          collateral=(
              ("JOBV2-METHOD-002", "one device answered and one is offline, but the statistics are {'deviceCount': 2, "
                                   "'failedCount': 0, …"),
          )),
    Fault("method-job-no-statistics", "a finished job has no deviceJobStatistics", breaks=("JOBV2-GET-001",),
          collateral=(
              ("JOBV2-METHOD-001", "the job counted None devices, selected 1: {}"),
              ("JOBV2-METHOD-002", "one device answered and one is offline, but the statistics are {}"),
          )),
    Fault("twin-patch-ignored", "PATCH /twins/{deviceId} answers 200 but changes nothing", breaks=("TWIN-PATCH-001",)),
    Fault("rp-no-auth-required", "RP requests without Authorization are served", breaks=("RP-AUTH-001",),
          collateral=(
              ("RP-REQID-001", "the requests the RP must refuse answered [200, 404, 200, 400], expected 404, 401, 400 "
                               "after the 200"),
          )),
    Fault("rp-accept-any-token", "any bearer token is accepted", breaks=("RP-AUTH-002",)),
    Fault("rp-drop-request-id", "RP responses carry no x-ms-request-id", breaks=("RP-REQID-001",),
          collateral=(
              ("RP-READ-001", "GET …/IotHubs/{resourceName}: ST107 Missing required response headers:"),
          )),
    Fault("rp-accept-missing-api-version", "RP requests without api-version are served", breaks=("RP-APIVER-001",),
          collateral=(
              ("RP-REQID-001", "the requests the RP must refuse answered [200, 404, 401, 200], expected 404, 401, 400 "
                               "after the 200"),
          )),
    Fault("rp-plain-errors", "RP errors are text/plain \"error\" without the ErrorDetails envelope", breaks=("RP-ERR-001",),
          collateral=(
              ("RP-READ-001", "GET "
                              "…/IotHubs/{resourceName}/eventHubEndpoints/{eventHubEndpointName}/ConsumerGroups/{name}: "
                              "ST105 …"),
          )),
    Fault("rp-create-returns-200",
          "a hub create answers 200 synchronously, without Azure-AsyncOperation",
          breaks=("RP-CREATE-001",),
          collateral=(
              ("RP-COND-001", "PUT of a missing hub with {'If-None-Match': '*'} → 200, the table says [201]"),
          )),
    Fault("rp-operation-never-ends", "every operation status stays InProgress", breaks=("RP-LRO-001",),
          collateral=(
              ("RP-CG-001", "creating hub cg…: its operation reported InProgress"),
              ("RP-COND-001", "creating hub cond…: its operation reported InProgress"),
              ("RP-DELETE-001", "creating hub delete…: its operation reported InProgress"),
              *because("errors: creating hub reads…: its operation reported InProgress",
                       "RP-ERR-001", "RP-ETAG-001", "RP-READ-001", "RP-REQID-001", "RP-STATE-001"),
              ("RP-GET-001", "creating hub get…: its operation reported InProgress"),
              *because("errors: creating hub list…: its operation reported InProgress",
                       "RP-GET-002", "RP-LIST-001", "RP-LIST-002"),
              ("RP-JOB-001", "creating hub export…: its operation reported InProgress"),
              ("RP-JOB-002", "creating hub import…: its operation reported InProgress"),
              *because("errors: creating hub keys…: its operation reported InProgress",
                       "RP-KEYS-001", "RP-KEYS-002"),
              ("RP-NAME-001", "creating hub name…: its operation reported InProgress"),
              ("RP-STATS-001", "creating hub stats…: its operation reported InProgress"),
              ("RP-UPDATE-001", "creating hub update…: its operation reported InProgress"),
          )),
    Fault("rp-succeeded-before-hub-exists",
          "a create's operation status says Succeeded at once, but GET of the hub answers 404 until the delay has passed",
          breaks=("RP-LRO-001",),
          collateral=(
              *because("GET of the hub just created → 404",
                       "RP-CG-001", "RP-COND-001", "RP-DELETE-001", "RP-GET-001", "RP-JOB-001", "RP-JOB-002",
                       "RP-NAME-001", "RP-STATS-001", "RP-UPDATE-001"),
              *because("errors: GET of the hub just created → 404",
                       "RP-ERR-001", "RP-ETAG-001", "RP-GET-002", "RP-KEYS-001", "RP-KEYS-002", "RP-LIST-001",
                       "RP-LIST-002", "RP-READ-001", "RP-REQID-001", "RP-STATE-001"),
          )),
    Fault("rp-delete-keeps-hub",
          "the delete operation succeeds but the hub stays (GET keeps answering 200)",
          breaks=("RP-DELETE-001",)),
    Fault("rp-delete-no-location", "the delete's 202 carries neither Location nor Retry-After", breaks=("RP-DELETE-001",)),
    Fault("rp-get-reveals-keys", "GET of a hub includes the policies with their keys", breaks=("RP-GET-002",)),
    Fault("rp-update-ignored", "a PUT on an existing hub answers as usual but stores nothing", breaks=("RP-UPDATE-001",)),
    Fault("rp-listkeys-drops-policy", "both listkeys operations omit the last policy", breaks=("RP-KEYS-001",)),
    Fault("rp-keyname-ignored",
          "keys-by-name returns the first policy whatever the name (unknown names too)",
          breaks=("RP-KEYS-002",)),
    Fault("rp-page-repeats-item",
          "each next page of a hub list starts with the previous page's last hub",
          breaks=("RP-LIST-001",),
          collateral=(
              ("RP-LIST-002", "the subscription list holds ['list…'] more than once (2 pages, 3 listings)"),
          )),
    Fault("rp-nextlink-dropped", "hub lists return their first page without nextLink", breaks=("RP-LIST-001",),
          collateral=(
              ("RP-LIST-002", "the subscription list lacks ['list…'] (1 pages, 3 listings)"),
          )),
    Fault("rp-ignore-if-match", "PUT ignores If-Match and If-None-Match", breaks=("RP-COND-001",)),
    Fault("rp-delete-ignores-if-match", "DELETE ignores If-Match", breaks=("RP-COND-002",)),
    Fault("rp-write-before-precondition",
          "a PUT with a stale If-Match stores the change, then answers 412",
          breaks=("RP-COND-003",)),
    # Under iothub the body etag alone is what the real resource provider sends (profile rule rp_etag_header).
    Fault("rp-no-etag-header", "hub responses carry no ETag header", breaks=("RP-ETAG-001",), profile="docs-strict"),
    Fault("rp-state-as-name", "a hub's properties.state is the name \"Active\", as the real service sends it, not the "
          "pages' integer", breaks=("RP-STATE-001",), profile="docs-strict"),
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
    Fault("rp-export-never-completes", "an export started through the RP never leaves \"running\"", breaks=("RP-JOB-001",)),
    Fault("rp-import-ignores-blob",
          "an import started through the RP completes without applying its blob",
          breaks=("RP-JOB-002",), profile="docs-strict"),
    Fault("rp-quota-values-as-strings",
          "quotaMetrics answers CurrentValue and MaxValue as strings (ARM16: long)",
          breaks=("RP-READ-001",)),
)
# api-version 2021-04-12: one table per surface group, each in its own module.
_TABLE += (faults_2021_registry.TABLE + faults_2021_twins.TABLE + faults_2021_jobs.TABLE
           + faults_2021_configurations.TABLE + faults_2021_digital_twins.TABLE + faults_2021_messaging.TABLE
           + faults_2021_files.TABLE + faults_2021_scope.TABLE)
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

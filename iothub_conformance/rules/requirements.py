"""The requirement registry: every rule the suite asserts, with its level, statement, source, the spec operations it
concerns, the profile rule that decides it when disputed, and the suite version that made it binding.

Tests name the requirements they prove with `@pytest.mark.requirement("ID", …)`; a check or a test that finds a
departure raises `rules.failures.RequirementFailure("ID", …)`, so the report knows which requirement failed without
reading any message. Each source is a
citation that resolves inside the repository (iothub_conformance/rules/sources.py); each operation is an operationId of
specs/, whose operations name the same requirements back in `x-requirements` (tests/test_specs.py checks both agree).
`iothub-conformance explain ID` prints the whole chain.
"""

from __future__ import annotations

from . import (
    requirements_2021_configurations,
    requirements_2021_digital_twins,
    requirements_2021_files,
    requirements_2021_jobs,
    requirements_2021_messaging,
    requirements_2021_registry,
    requirements_2021_scope,
    requirements_2021_twins,
)
from .operation_groups import (  # the groups are part of the registry's interface
    BULK_REGISTRY_2021,
    CLOUD_TO_DEVICE_2021,
    CONFIGURATIONS_2021,
    DATA_PLANE,
    DATA_PLANE_2016,
    DEVICE_2021,
    DEVICE_IDENTITIES,
    DEVICE_MESSAGING,
    DEVICE_MESSAGING_2021,
    DEVICE_SCOPE_2021,
    DEVICE_TWINS,
    DEVICES_2021,
    DIGITAL_TWINS_2021,
    DIRECT_METHODS_2021,
    FILE_UPLOAD_2021,
    IMPORT_EXPORT_JOBS,
    IMPORT_EXPORT_JOBS_2021,
    MODULES_2021,
    QUERY_2021,
    RESOURCE_PROVIDER,
    SCHEDULED_JOBS,
    SCHEDULED_JOBS_2021,
    SERVICE_2021,
    SERVICE_SAS,
    TWINS_2021,
)
from .requirement import FIRST_RELEASE, TRAFFIC_RELEASE, V2021_RELEASE, Requirement

_ALL = [
    # -- common to every operation ------------------------------------------------------------------------------
    Requirement("COMMON-SPEC-001", "MUST",
                "Every response conforms to the spec: a documented status code, the declared headers and media type, "
                "and a body that matches the schema.",
                "specs/*/*.yaml (from the pages each operation's x-source names)",
                operations=DATA_PLANE, since=FIRST_RELEASE),
    Requirement("COMMON-REQID-001", "MUST",
                "Every response, errors included, carries a non-empty x-ms-request-id header (docs-strict: the Device"
                " Identities responses, the only section that promises it).",
                "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (intro); docs/sources/OBSERVED.md §1",
                operations=DATA_PLANE, profile_rule="request_id_scope", since=FIRST_RELEASE),
    Requirement("COMMON-REQID-002", "MUST",
                "x-ms-request-id values are unique across the whole run.",
                "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (intro); docs/sources/OBSERVED.md §4",
                operations=DATA_PLANE, since=FIRST_RELEASE),
    Requirement("COMMON-APIVER-001", "MUST",
                "A request without api-version is refused with 400.",
                "docs/sources/INVENTORY.md §1; docs/sources/OBSERVED.md §1, §4",
                operations=DATA_PLANE_2016 + SERVICE_2021, since=FIRST_RELEASE),
    Requirement("COMMON-APIVER-002", "MUST",
                "A request with an unsupported api-version is refused with 400.",
                "docs/sources/INVENTORY.md §1; docs/sources/OBSERVED.md §1, §4",
                operations=DATA_PLANE_2016 + SERVICE_2021, since=FIRST_RELEASE),
    Requirement("COMMON-APIVER-003", "MUST",
                "Each supported api-version value is accepted (not 400).",
                "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (bk_common: api-version 2016-02-03)",
                operations=DATA_PLANE_2016 + SERVICE_2021, since=FIRST_RELEASE),
    Requirement("COMMON-APIVER-004", "MUST",
                "An api-version error names the error code the profile gives (iothub: InvalidProtocolVersion).",
                "docs/sources/OBSERVED.md §1; docs/sources/INVENTORY.md §4c (400001)",
                operations=DATA_PLANE_2016 + SERVICE_2021, profile_rule="api_version_error_code", since=FIRST_RELEASE),
    Requirement("COMMON-HDR-001", "MUST",
                "A response with a JSON body declares Content-Type application/json (a batch of cloud-to-device "
                "feedback: application/vnd.microsoft.iothub.feedback.json).",
                "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (bk_common: Content-Type "
                "application/json); docs/sources/OBSERVED.md §1; "
                "docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md (feedback ContentType)",
                operations=DATA_PLANE, since=FIRST_RELEASE),
    Requirement("COMMON-ERR-001", "MUST",
                "Error responses use the profile's error envelope (iothub: Message \"ErrorCode:<Name>;…\", "
                "ExceptionMessage, and an iothub-errorcode header naming the same code).",
                "docs/sources/OBSERVED.md §1; docs/sources/INVENTORY.md §4d",
                operations=DATA_PLANE, profile_rule="error_envelope", since=FIRST_RELEASE),
    Requirement("COMMON-ERR-002", "MUST",
                "A request body that cannot be parsed is refused with 400, never a server error.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (400: the body cannot be parsed)",
                operations=("createOrUpdateDevice", "createImportExportJob", "importDevices", "createJob",
                            "updateDeviceTwin", "Devices_CreateOrUpdateIdentity", "Modules_CreateOrUpdateIdentity"),
                since=FIRST_RELEASE),
    Requirement("COMMON-AUTH-001", "MUST",
                "A request without Authorization is refused with 401 and changes nothing.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401); docs/sources/INVENTORY.md §5",
                operations=SERVICE_SAS, since=FIRST_RELEASE),
    Requirement("COMMON-AUTH-002", "MUST",
                "An expired SAS token is refused with 401 and changes nothing.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401: it is expired); "
                "docs/sources/INVENTORY.md §5 (se)",
                operations=SERVICE_SAS, since=FIRST_RELEASE),
    Requirement("COMMON-AUTH-003", "MUST",
                "A SAS token with a wrong signature is refused with 401 and changes nothing.",
                "docs/sources/INVENTORY.md §5 (sig); docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401)",
                operations=SERVICE_SAS, since=FIRST_RELEASE),
    Requirement("COMMON-AUTH-004", "MUST",
                "A SAS token naming an unknown shared access policy is refused with 401 and changes nothing.",
                "docs/sources/INVENTORY.md §5 (skn); docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401)",
                operations=SERVICE_SAS, since=FIRST_RELEASE),
    Requirement("COMMON-AUTH-005", "MUST",
                "A SAS token signed for another hub is refused with 401 and changes nothing.",
                "docs/sources/INVENTORY.md §5 (sr must cover the request URI); "
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401: does not apply to the request's URI)",
                operations=SERVICE_SAS, since=FIRST_RELEASE),
    # -- device identities --------------------------------------------------------------------------------------
    Requirement("DI-CREATE-001", "MUST",
                "PUT on a new deviceId creates the device with the status the profile allows (docs 201, real service "
                "200) and returns the full identity (deviceId, generationId, etag).",
                "docs/sources/create-a-new-device-identity.md (Response; Status code 201); docs/sources/OBSERVED.md "
                "§1",
                operations=("createOrUpdateDevice",), profile_rule="create_statuses", since=FIRST_RELEASE),
    Requirement("DI-CREATE-002", "MUST",
                "A device created without authentication gets two symmetric keys from the hub.",
                "docs/sources/create-a-new-device-identity.md (authentication: If not present, IoT Hub will create "
                "two keys)",
                operations=("createOrUpdateDevice",), since=FIRST_RELEASE),
    Requirement("DI-ID-001", "MUST",
                "Every valid deviceId (up to 128 chars of ASCII alphanumerics and - : . + % _ # * ? ! ( ) , = @ ; $ "
                "') can be created and read back unchanged.",
                "docs/sources/create-a-new-device-identity.md (deviceId)",
                operations=("createOrUpdateDevice", "getDevice"), since=FIRST_RELEASE),
    Requirement("DI-ID-002", "SHOULD",
                "A deviceId longer than 128 characters or with a character outside the allowed set is refused with "
                "400.",
                "docs/sources/create-a-new-device-identity.md (deviceId); "
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (400)",
                operations=("createOrUpdateDevice",), since=FIRST_RELEASE),
    Requirement("DI-GET-001", "MUST",
                "GET of an existing device returns 200 and the identity as stored.",
                "docs/sources/retrieve-a-device-identity.md",
                operations=("getDevice",), since=FIRST_RELEASE),
    Requirement("DI-GET-002", "MUST",
                "GET of a device that does not exist returns 404.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (404: a device identity does not exist)",
                operations=("getDevice",), since=FIRST_RELEASE),
    Requirement("DI-UPDATE-001", "MUST",
                "PUT on an existing device returns 200 with the updated identity; generationId and deviceId stay the "
                "server's even if the client sends others.",
                "docs/sources/update-an-existing-device-identity.md",
                operations=("createOrUpdateDevice",), since=FIRST_RELEASE),
    Requirement("DI-DELETE-001", "MUST",
                "DELETE with If-Match * removes the device (204); a later GET is 404.",
                "docs/sources/delete-a-device-identity.md",
                operations=("deleteDevice", "getDevice"), since=FIRST_RELEASE),
    Requirement("DI-DELETE-002", "MUST",
                "DELETE of a device that does not exist returns 404.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (404); docs/sources/OBSERVED.md §1",
                operations=("deleteDevice",), since=FIRST_RELEASE),
    Requirement("DI-DELETE-003", "MUST",
                "DELETE without If-Match is handled as the profile says (iothub: unconditional delete, 204; "
                "docs-strict: refused with 4xx and nothing deleted).",
                "docs/sources/delete-a-device-identity.md (requires If-Match); docs/sources/INVENTORY.md §2a (2021 "
                "spec: optional)",
                operations=("deleteDevice",), profile_rule="delete_requires_if_match", since=FIRST_RELEASE),
    Requirement("DI-LIST-001", "MUST",
                "GET /devices returns 200 and a JSON array of at most 1000 identities, and at most `top` of them.",
                "docs/sources/list-device-identities.md",
                operations=("listDevices",), since=FIRST_RELEASE),
    Requirement("DI-LIST-002", "MUST",
                "A `top` outside 1–1000 is taken as 1000, not refused.",
                "docs/sources/list-device-identities.md (Any value outside the range of 1-1000 is considered to be "
                "1000)",
                operations=("listDevices",), since=FIRST_RELEASE),
    Requirement("DI-STATS-001", "MUST",
                "GET /statistics/devices returns 200 with totalDeviceCount (and counts by status) that agree with the"
                " registry.",
                "docs/sources/retrieve-device-identities-statistics.md",
                operations=("getRegistryStatistics",), since=FIRST_RELEASE),
    Requirement("DI-STATS-002", "MUST",
                "GET /statistics/service returns 200 with totalConnectedDevices.",
                "docs/sources/retrieve-service-statistics.md",
                operations=("getServiceStatistics",), since=FIRST_RELEASE),
    # -- ETag (RFC 7232) ----------------------------------------------------------------------------------------
    Requirement("DI-ETAG-001", "MUST",
                "Every successful response scoped to one device identity carries an ETag header (DELETE only when the"
                " profile says so).",
                "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (bk_common: Etag header … as per "
                "RFC7232)",
                operations=("createOrUpdateDevice", "getDevice", "deleteDevice"), profile_rule="etag_on_delete",
                since=FIRST_RELEASE),
    Requirement("DI-ETAG-002", "MUST",
                "The ETag header has RFC 7232 syntax: [W/]\"<etagc*>\".",
                "RFC 7232 §2.3 (docs/sources/OBSERVED.md §3)",
                operations=("createOrUpdateDevice", "getDevice", "deleteDevice"), since=FIRST_RELEASE),
    Requirement("DI-ETAG-003", "MUST",
                "The ETag header carries the same entity-tag as the body's etag field.",
                "docs/sources/create-a-new-device-identity.md (etag); docs/sources/OBSERVED.md §1",
                operations=("createOrUpdateDevice", "getDevice"), since=FIRST_RELEASE),
    Requirement("DI-ETAG-004", "MUST",
                "The ETag changes on every successful write of the device.",
                "RFC 7232 §2.3; docs/sources/INVENTORY.md §6 (optimistic concurrency)",
                operations=("createOrUpdateDevice",), since=FIRST_RELEASE),
    Requirement("DI-ETAG-005", "MUST",
                "The ETag stays the same across reads with no write in between.",
                "RFC 7232 §2.3; docs/sources/INVENTORY.md §6 (a server-generated etag, optimistic concurrency)",
                operations=("getDevice",), since=FIRST_RELEASE),
    # -- conditional requests -----------------------------------------------------------------------------------
    Requirement("DI-COND-001", "MUST",
                "PUT with a stale If-Match is refused with 412 and the device is unchanged.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (412); RFC 7232 §3.1; "
                "docs/sources/OBSERVED.md §1",
                operations=("createOrUpdateDevice",), since=FIRST_RELEASE),
    Requirement("DI-COND-002", "MUST",
                "DELETE with a stale If-Match is refused with 412 and the device is unchanged.",
                "docs/sources/delete-a-device-identity.md; RFC 7232 §3.1",
                operations=("deleteDevice",), since=FIRST_RELEASE),
    Requirement("DI-COND-003", "MUST",
                "If-Match with the current ETag, or *, lets PUT and DELETE proceed.",
                "docs/sources/delete-a-device-identity.md (wildcard); docs/sources/index__v2017-01-16_d8e1dc17d.md "
                "(If-Match = [*|etag])",
                operations=("createOrUpdateDevice", "deleteDevice"), since=FIRST_RELEASE),
    Requirement("DI-COND-004", "MUST",
                "If-Match uses strong comparison: W/\"<current>\" does not match and gets 412.",
                "RFC 7232 §2.3.2, §3.1; docs/sources/INVENTORY.md §7 item 9",
                operations=("createOrUpdateDevice", "deleteDevice"), since=FIRST_RELEASE),
    Requirement("DI-COND-005", "MUST",
                "PUT with If-Match * on a device that does not exist is answered as the profile says (docs-strict: "
                "412, nothing created).",
                "docs/sources/index__v2017-01-16_d8e1dc17d.md (PUT table); RFC 7232 §3.1",
                operations=("createOrUpdateDevice",), profile_rule="create_if_match_star", since=FIRST_RELEASE),
    Requirement("DI-COND-006", "MUST",
                "PUT with no If-Match, or an empty If-Match \"\", on a new deviceId creates the device.",
                "docs/sources/index__v2017-01-16_d8e1dc17d.md (PUT table: \"\" / absent → created); "
                "docs/sources/OBSERVED.md §1",
                operations=("createOrUpdateDevice",), since=FIRST_RELEASE),
    Requirement("DI-COND-007", "SHOULD",
                "If-Match \"*\" (the star in quotes, as the service SDK sends it) is taken as the wildcard.",
                "docs/sources/OBSERVED.md §2",
                operations=("createOrUpdateDevice", "deleteDevice"), profile_rule="quoted_star_is_wildcard",
                since=FIRST_RELEASE),
    # -- device messaging ---------------------------------------------------------------------------------------
    Requirement("MSG-D2C-001", "MUST",
                "POST /devices/{id}/messages/events with any octet-stream body is accepted with 204 and no body.",
                "docs/sources/send-device-to-cloud-message.md (Body: any octet-stream; Status code 204)",
                operations=("sendDeviceEvent",), since=FIRST_RELEASE),
    Requirement("MSG-D2C-002", "MUST",
                "A device-to-cloud message whose properties come as headers (IoTHub-MessageId, IoTHub-CorrelationId, "
                "IoTHub-UserId, Content-Type, Content-Encoding, IoTHub-app-*) is accepted with 204.",
                "docs/sources/send-device-to-cloud-message.md (Headers)",
                operations=("sendDeviceEvent",), since=FIRST_RELEASE),
    Requirement("MSG-D2C-003", "MUST",
                "A device-to-cloud message of 256 KB or more (body plus properties) is refused with 413.",
                "docs/sources/send-device-to-cloud-message.md (less than 256 Kb); docs/sources/INVENTORY.md §4b "
                "(413001), §8 (quotas: 256 KB)",
                operations=("sendDeviceEvent",), since=FIRST_RELEASE),
    Requirement("MSG-D2C-004", "MUST",
                "An application property with an empty name, or a name or value outside ASCII alphanumerics and ! # $"
                " % & ' * + - . ^ _ ` | ~, is refused with 400.",
                "docs/sources/send-device-to-cloud-message.md (valid header names and values); "
                "docs/sources/INVENTORY.md §8 (iot-hub-devguide-messaging: characters allowed over HTTP)",
                operations=("sendDeviceEvent",), since=FIRST_RELEASE),
    Requirement("MSG-RECV-001", "MUST",
                "GET /devices/{id}/messages/devicebound on a queue with nothing to deliver answers 204 with no body.",
                "docs/sources/autogen-2016-11-14__HttpRuntime_ReceiveDeviceBoundNotification.yml (204: device message"
                " queue is empty)",
                operations=("receiveDeviceBoundNotification",), since=FIRST_RELEASE),
    Requirement("MSG-RECV-002", "MUST",
                "A received message comes with 200, its body, the lock in ETag, IoTHub-SequenceNumber, an ISO 8601 "
                "IoTHub-EnqueuedTime, an expiry header the profile names, and every property the sender set.",
                "docs/sources/receive-a-cloud-to-device-message.md (Response headers); docs/sources/INVENTORY.md §7 "
                "item 11",
                operations=("receiveDeviceBoundNotification",), profile_rule="expiry_headers", since=FIRST_RELEASE),
    Requirement("MSG-RECV-003", "MUST",
                "A received message is invisible to other receives while its lock holds.",
                "docs/sources/receive-a-cloud-to-device-message.md (IoTHub-MessageLockTimeout); "
                "docs/sources/INVENTORY.md §6",
                operations=("receiveDeviceBoundNotification",), since=FIRST_RELEASE),
    Requirement("MSG-LOCK-001", "MUST",
                "The receive ETag carries the lock token in the form the profile says (iothub: in double quotes, "
                "which clients strip); it is a lock id, not an RFC 7232 version tag.",
                "docs/sources/receive-a-cloud-to-device-message.md (Etag: the id for the message lock); "
                "docs/sources/INVENTORY.md §6; docs/sources/OBSERVED.md §5",
                operations=("receiveDeviceBoundNotification",), profile_rule="lock_etag_quoted", since=FIRST_RELEASE),
    Requirement("MSG-LOCK-002", "MUST",
                "Complete, reject or abandon with a lock that was never issued is refused with the profile's status "
                "and code (iothub: 412 DeviceMessageLockLost, or 404) and changes nothing.",
                "docs/sources/INVENTORY.md §4c (412002 DeviceMessageLockLost), §6; "
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (412)",
                operations=("completeDeviceBoundNotification", "abandonDeviceBoundNotification"),
                profile_rule="lock_lost_statuses", since=FIRST_RELEASE),
    Requirement("MSG-LOCK-003", "MUST",
                "Complete, reject or abandon with an expired lock is refused like an unknown lock.",
                "docs/sources/INVENTORY.md §4c (412002: completing after the lock timeout expires), §6",
                operations=("completeDeviceBoundNotification", "abandonDeviceBoundNotification"),
                profile_rule="lock_lost_statuses", since=FIRST_RELEASE),
    Requirement("MSG-LOCK-004", "MUST",
                "When a message's lock expires, the message is delivered again.",
                "docs/sources/receive-a-cloud-to-device-message.md (invisible for the lock timeout); "
                "docs/sources/INVENTORY.md §6",
                operations=("receiveDeviceBoundNotification",), since=FIRST_RELEASE),
    Requirement("MSG-COMPLETE-001", "MUST",
                "DELETE …/devicebound/{lock} answers 204 and removes the message: it is never delivered again.",
                "docs/sources/complete-a-cloud-to-device-message.md",
                operations=("completeDeviceBoundNotification",), since=FIRST_RELEASE),
    Requirement("MSG-REJECT-001", "MUST",
                "DELETE …/devicebound/{lock}?reject answers 204 and dead-letters the message: it is never delivered "
                "again.",
                "docs/sources/reject-a-cloud-to-device-message.md; docs/sources/INVENTORY.md §6",
                operations=("completeDeviceBoundNotification",), since=FIRST_RELEASE),
    Requirement("MSG-ABANDON-001", "MUST",
                "POST …/devicebound/{lock}/abandon answers 204 and the message is delivered again, with a higher "
                "delivery count where the profile names a delivery-count header.",
                "docs/sources/autogen-2016-11-14__HttpRuntime_AbandonDeviceBoundNotification.yml (put back for "
                "re-delivery); docs/sources/INVENTORY.md §6, §7 item 10",
                operations=("abandonDeviceBoundNotification",), profile_rule="delivery_count_header", since=FIRST_RELEASE),
    Requirement("MSG-DELIVERY-001", "MUST",
                "A message abandoned again and again is delivered at most the hub's max delivery count of times "
                "(default 10), then dead-lettered.",
                "docs/sources/INVENTORY.md §6 (cloudToDevice.maxDeliveryCount 1–100, default 10; dead-lettered at the"
                " limit)",
                operations=("receiveDeviceBoundNotification", "abandonDeviceBoundNotification"), since=FIRST_RELEASE),
    Requirement("MSG-DELIVERY-002", "MUST",
                "Whether an expired lock counts toward the max delivery count is as the profile says (iothub: only an"
                " abandon counts; docs-strict: every delivery counts).",
                "docs/sources/INVENTORY.md §6, §8 (2016 guide vs iot-hub-devguide-messages-c2d.md)",
                operations=("receiveDeviceBoundNotification",), profile_rule="lock_expiry_counts_delivery",
                since=FIRST_RELEASE),
    Requirement("MSG-QUEUE-001", "MUST",
                "A device queue holds at most 50 messages: one more is refused with 403 "
                "DeviceMaximumQueueDepthExceeded.",
                "docs/sources/INVENTORY.md §4b, §4c (403004), §6, §8 (quotas: 50 per device)",
                operations=("receiveDeviceBoundNotification",), since=FIRST_RELEASE),
    Requirement("MSG-C2D-001", "MUST",
                "A cloud-to-device message over the profile's size limit is refused with 413; one within it is "
                "accepted.",
                "docs/sources/INVENTORY.md §7 item 7 (receive page: < 256 KB; quotas page: 64 KB)",
                operations=("receiveDeviceBoundNotification",), profile_rule="c2d_max_bytes", since=FIRST_RELEASE),
    Requirement("MSG-AUTH-001", "MUST",
                "Messaging accepts a device-scoped token (no skn, sr = <host>/devices/<id>, signed with the device "
                "key) for its own device, and a token of a policy with DeviceConnect.",
                "docs/sources/device-messaging-rest-apis__v2016-12-27_e5666404f.md (device section of the security "
                "tokens); docs/sources/INVENTORY.md §5",
                operations=DEVICE_MESSAGING, since=FIRST_RELEASE),
    Requirement("MSG-AUTH-002", "MUST",
                "A device token used on another device's messaging endpoints is refused with 401 and changes nothing.",
                "docs/sources/INVENTORY.md §5 (a device-key token grants DeviceConnect for that device only); "
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401: does not apply to the request's URI)",
                operations=DEVICE_MESSAGING, since=FIRST_RELEASE),
    Requirement("MSG-AUTH-003", "MUST",
                "A token of a policy without DeviceConnect is refused with 401 on messaging.",
                "docs/sources/INVENTORY.md §5 (permissions); "
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401)",
                operations=DEVICE_MESSAGING, since=FIRST_RELEASE),
    Requirement("MSG-AUTH-004", "MUST",
                "A disabled device cannot send or receive: its requests are refused with a 4xx and nothing is sent.",
                "docs/sources/create-a-new-device-identity.md (status enabled/disabled); docs/sources/INVENTORY.md §8"
                " (iot-hub-devguide-identity-registry)",
                operations=DEVICE_MESSAGING, since=FIRST_RELEASE),
    # -- import/export jobs -------------------------------------------------------------------------------------
    Requirement("JOB-CREATE-001", "MUST",
                "An import or export job started the way the profile says (iothub: POST /jobs/create; docs-strict: "
                "GET /importdevices, imports only) answers 200 with the job: jobId, type and status enqueued or "
                "later.",
                "docs/sources/autogen-2018-06-30__Service_CreateImportExportJob.yml; "
                "docs/sources/import-or-update-device-identities.md; docs/sources/INVENTORY.md §7 item 10",
                operations=("createImportExportJob", "importDevices"), profile_rule="job_start", since=FIRST_RELEASE),
    Requirement("JOB-GET-001", "MUST",
                "GET /jobs/{jobId} answers 200 with the documented fields: a type of import or export, a status of "
                "enqueued, running, completed, failed or cancelled, a progress percentage and ISO 8601 UTC times.",
                "docs/sources/retrieve-import-export-job.md",
                operations=("getImportExportJob",), since=FIRST_RELEASE),
    Requirement("JOB-GET-002", "MUST",
                "GET /jobs/{jobId} of a job that does not exist answers 404.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (404); docs/sources/INVENTORY.md §4c "
                "(404002 JobNotFound)",
                operations=("getImportExportJob",), since=FIRST_RELEASE),
    Requirement("JOB-LIST-001", "MUST",
                "GET /jobs answers 200 with a JSON array that holds the run's jobs.",
                "docs/sources/list-import-export-jobs.md",
                operations=("listImportExportJobs",), since=FIRST_RELEASE),
    Requirement("JOB-LIFE-001", "MUST",
                "A job only moves forward (enqueued → running → completed, failed or cancelled) and ends; a completed"
                " job has progress 100 and an end time.",
                "docs/sources/retrieve-import-export-job.md (status, progress, endTimeUtc)",
                operations=("getImportExportJob",), since=FIRST_RELEASE),
    Requirement("JOB-CANCEL-001", "MUST",
                "DELETE /jobs/{jobId} on a job that has not finished answers 204 and the job ends cancelled.",
                "docs/sources/cancel-import-export-job.md; docs/sources/retrieve-import-export-job.md (status "
                "cancelled)",
                operations=("cancelImportExportJob",), since=FIRST_RELEASE),
    Requirement("JOB-CANCEL-002", "MUST",
                "DELETE /jobs/{jobId} of a job that does not exist answers 404.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (404); docs/sources/INVENTORY.md §4c "
                "(404002 JobNotFound)",
                operations=("cancelImportExportJob",), since=FIRST_RELEASE),
    Requirement("JOB-CANCEL-003", "MUST",
                "DELETE /jobs/{jobId} on a job that has finished answers as the profile says (docs-strict: 204) and "
                "leaves its outcome as it was.",
                "docs/sources/cancel-import-export-job.md (204); docs/sources/INVENTORY.md §2a (2021 spec: 200 or "
                "204)",
                operations=("cancelImportExportJob",), profile_rule="cancel_finished_statuses", since=FIRST_RELEASE),
    Requirement("JOB-EXPORT-001", "MUST",
                "A completed export writes the registry to the output container, one JSON device per line, holding "
                "every device the run had when the export started.",
                "docs/sources/export-device-identities1.md; docs/sources/retrieve-import-export-job.md "
                "(outputBlobContainerUri)",
                operations=("createImportExportJob",), since=FIRST_RELEASE),
    Requirement("JOB-EXPORT-002", "MUST",
                "An export with excludeKeysInExport true writes null keys; with false it writes the devices' keys.",
                "docs/sources/retrieve-import-export-job.md (excludeKeysInExport: keys are set to null in export "
                "output)",
                operations=("createImportExportJob",), since=FIRST_RELEASE),
    Requirement("JOB-EXPORT-003", "MUST",
                "An export without excludeKeysInExport treats keys as the profile's default says (2016 pages: "
                "excluded; later pages: included).",
                "docs/sources/retrieve-import-export-job.md (Default: true); "
                "docs/sources/autogen-2018-06-30__Service_CreateImportExportJob.yml (Default: false)",
                operations=("createImportExportJob",), profile_rule="exclude_keys_default", since=FIRST_RELEASE),
    Requirement("JOB-IMPORT-001", "MUST",
                "A completed import creates, updates and deletes exactly the devices its input lists, and no other.",
                "docs/sources/import-or-update-device-identities.md; docs/sources/INVENTORY.md §3 (importMode "
                "create/update/delete …)",
                operations=("createImportExportJob", "importDevices"), since=FIRST_RELEASE),
    Requirement("JOB-FAIL-001", "MUST",
                "A job whose input cannot be read ends failed, with a failureReason.",
                "docs/sources/retrieve-import-export-job.md (failureReason: if status = failure, a string containing "
                "the reason)",
                operations=("createImportExportJob", "getImportExportJob"), since=FIRST_RELEASE),
    # -- scheduled jobs and device twins (api-version 2016-11-14) --------------------------------------------------
    Requirement("TWIN-GET-001", "MUST",
                "GET /twins/{deviceId} answers 200 with the twin: deviceId, tags and properties.desired.",
                "docs/sources/autogen-2016-11-14__DeviceTwinApi_GetDeviceTwin.yml; "
                "docs/sources/autogen-2018-06-30__Service_GetTwin.yml",
                operations=("getDeviceTwin",), since=FIRST_RELEASE),
    Requirement("TWIN-PATCH-001", "MUST",
                "PATCH /twins/{deviceId} merges the given tags and desired properties into the twin and answers 200.",
                "docs/sources/autogen-2016-11-14__DeviceTwinApi_UpdateDeviceTwin.yml",
                operations=("updateDeviceTwin",), since=FIRST_RELEASE),
    Requirement("JOBV2-CREATE-001", "MUST",
                "PUT /jobs/v2/{jobId} with a scheduleUpdateTwin or scheduleDeviceMethod request answers 200 with the "
                "job: the given jobId, its type and a status.",
                "docs/sources/autogen-2016-11-14__JobApi_CreateJob.yml",
                operations=("createJob",), since=FIRST_RELEASE),
    Requirement("JOBV2-GET-001", "MUST",
                "GET /jobs/v2/{jobId} answers 200 with the job; a finished job has an end time and "
                "deviceJobStatistics.",
                "docs/sources/autogen-2016-11-14__JobApi_GetJob.yml (JobResponse)",
                operations=("getJob",), since=FIRST_RELEASE),
    Requirement("JOBV2-GET-002", "MUST",
                "GET /jobs/v2/{jobId}, and POST /jobs/v2/{jobId}/cancel, of a job that does not exist answer 404.",
                "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (404); docs/sources/INVENTORY.md §4c "
                "(404002 JobNotFound)",
                operations=("getJob", "cancelJob"), since=FIRST_RELEASE),
    Requirement("JOBV2-SCHEDULE-001", "MUST",
                "A job whose startTime lies ahead does not run before it (its twins stay as they were), and runs "
                "after.",
                "docs/sources/autogen-2016-11-14__JobApi_CreateJob.yml (startTime: application provided start time)",
                operations=("createJob",), since=FIRST_RELEASE),
    Requirement("JOBV2-CANCEL-001", "MUST",
                "POST /jobs/v2/{jobId}/cancel on a job that has not run answers 200 and the job ends cancelled, "
                "changing nothing.",
                "docs/sources/autogen-2016-11-14__JobApi_CancelJob.yml; JobStatus cancelled",
                operations=("cancelJob",), since=FIRST_RELEASE),
    Requirement("JOBV2-QUERY-001", "MUST",
                "GET /jobs/v2/query?jobType=…&jobStatus=… answers 200 and lists only jobs of that type and status, "
                "the run's matching job among them.",
                "docs/sources/autogen-2016-11-14__JobApi_QueryJobs.yml",
                operations=("queryJobs",), profile_rule="job_query_shape", since=FIRST_RELEASE),
    Requirement("JOBV2-TWIN-001", "MUST",
                "A scheduleUpdateTwin job sets its tags and desired properties on exactly the twins its "
                "queryCondition selects.",
                "docs/sources/autogen-2016-11-14__JobApi_CreateJob.yml (updateTwin, queryCondition)",
                operations=("createJob",), since=FIRST_RELEASE),
    Requirement("JOBV2-METHOD-001", "MUST",
                "A scheduleDeviceMethod job ends with deviceJobStatistics that count every selected device; a device "
                "that is not online counts as failed.",
                "docs/sources/autogen-2016-11-14__JobApi_CreateJob.yml (DeviceJobStatistics); "
                "docs/sources/INVENTORY.md §4b (404103 DeviceNotOnline)",
                operations=("createJob",), since=FIRST_RELEASE),
    Requirement("JOBV2-METHOD-002", "MUST",
                "A device that answers the job's direct method counts as succeeded.",
                "docs/sources/autogen-2016-11-14__JobApi_CreateJob.yml (CloudToDeviceMethod, DeviceJobStatistics)",
                operations=("createJob",), since=FIRST_RELEASE),
    # -- resource provider (ARM, api-version 2016-02-03) ------------------------------------------------------------
    Requirement("RP-AUTH-001", "MUST",
                "An RP request without Authorization is refused with 401.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) "
                "(Authorization: a JSON Web Token from Azure Active Directory)",
                operations=RESOURCE_PROVIDER, since=FIRST_RELEASE),
    Requirement("RP-AUTH-002", "MUST",
                "An RP request with a bearer token the endpoint did not issue is refused with 401 and changes "
                "nothing.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) "
                "(Authorization: a JSON Web Token from Azure Active Directory)",
                operations=RESOURCE_PROVIDER, since=FIRST_RELEASE),
    Requirement("RP-REQID-001", "MUST",
                "Every RP response, errors included, carries a non-empty x-ms-request-id.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (intro: each operation "
                "returns an x-ms-request-id header)",
                operations=RESOURCE_PROVIDER, since=FIRST_RELEASE),
    Requirement("RP-APIVER-001", "MUST",
                "An RP request without api-version, or with a value the RP does not serve, is refused with 400.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) (api-version "
                "2016-02-03); docs/sources/OBSERVED.md §4",
                operations=RESOURCE_PROVIDER, since=FIRST_RELEASE),
    Requirement("RP-ERR-001", "MUST",
                "RP errors carry the ErrorDetails envelope {Code, HttpStatusCode, Message, Details} (docs-strict: no "
                "envelope is required).",
                "docs/sources/INVENTORY.md §2c, §4d (ARM16 ErrorDetails)",
                operations=RESOURCE_PROVIDER, profile_rule="rp_error_envelope", since=FIRST_RELEASE),
    Requirement("RP-CREATE-001", "MUST",
                "A PUT that creates a hub answers 201 with an Azure-AsyncOperation header holding an absolute URL.",
                "docs/sources/rp__create-a-new-iot-hub.md (Status code: 201, long running, Azure-AsyncOperation)",
                operations=("IotHubResource_CreateOrUpdate",), since=FIRST_RELEASE),
    Requirement("RP-LRO-001", "MUST",
                "A create's Azure-AsyncOperation URL reaches a terminal status (Succeeded, Failed, Canceled) within "
                "the wait, and once it says Succeeded a GET of the hub answers 200 with the location, sku and tags "
                "that were stored.",
                "docs/sources/rp__create-a-new-iot-hub.md; "
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) (async rules);"
                " docs/sources/INVENTORY.md §1; docs/sources/OBSERVED.md §2 (the RP SDK's poller)",
                operations=("IotHubResource_CreateOrUpdate", "IotHubResource_Get"), since=FIRST_RELEASE),
    Requirement("RP-UPDATE-001", "MUST",
                "A PUT on an existing hub answers 200 or 201 and, once done, a GET shows the new tags and capacity.",
                "docs/sources/rp__update-metadata-on-an-existing-iot-hub.md (201); "
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) (PUT table: "
                "200)",
                operations=("IotHubResource_CreateOrUpdate", "IotHubResource_Get"), since=FIRST_RELEASE),
    Requirement("RP-DELETE-001", "MUST",
                "A DELETE of an existing hub answers as the profile allows (202 with Location, Retry-After and "
                "Azure-AsyncOperation; iothub also 200 or 204), its operation ends Succeeded, and a GET then answers "
                "404.",
                "docs/sources/rp__delete-an-iot-hub.md (202, Location, Retry-After, Azure-AsyncOperation)",
                operations=("IotHubResource_Delete", "IotHubResource_Get"), profile_rule="rp_conditions",
                since=FIRST_RELEASE),
    Requirement("RP-GET-001", "MUST",
                "GET of a hub answers 200 with id, name, type Microsoft.Devices/IotHubs, location, sku and etag; GET "
                "of a hub that does not exist answers 404.",
                "docs/sources/rp__retrieve-metadata-of-an-iot-hub.md (200; Returns 404 if the IoT hub is not found)",
                operations=("IotHubResource_Get",), since=FIRST_RELEASE),
    Requirement("RP-GET-002", "MUST",
                "GET of a hub and the hub lists reveal no keys: authorizationPolicies is null or carries no key.",
                "docs/sources/rp__retrieve-metadata-of-an-iot-hub.md (Security-related properties will be set to "
                "null)",
                operations=("IotHubResource_Get", "IotHubResource_ListBySubscription",
                            "IotHubResource_ListByResourceGroup"),
                since=FIRST_RELEASE),
    Requirement("RP-KEYS-001", "MUST",
                "listkeys returns every authorization policy with the rights and keys it was given.",
                "docs/sources/rp__retrieve-security-metadata-of-an-iot-hub.md (POST …/IoTHubKeys/listkeys); "
                "docs/sources/INVENTORY.md §2c (ARM16 ListKeys POST …/listkeys)",
                operations=("IotHubResource_ListKeys", "Docs_ListKeys"), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-KEYS-002", "MUST",
                "POST …/IotHubKeys/{keyName}/listkeys returns that policy with its keys; an unknown name answers 404 "
                "(docs-strict: no page has this operation).",
                "docs/sources/INVENTORY.md §2c (ARM16 GetKeysForKeyName)",
                operations=("IotHubResource_GetKeysForKeyName",), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-LIST-001", "MUST",
                "The resource-group hub list returns every hub the run created exactly once, following nextLink to "
                "the end (docs-strict: one bare array).",
                "docs/sources/rp__list-iot-hubs-in-a-resource-group.md; docs/sources/INVENTORY.md §2c (ARM16 "
                "x-ms-pageable)",
                operations=("IotHubResource_ListByResourceGroup",), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-LIST-002", "MUST",
                "The subscription hub list returns every hub the run created exactly once, following nextLink to the "
                "end (docs-strict: one bare array).",
                "docs/sources/rp__list-iot-hubs-in-a-subscription.md; docs/sources/INVENTORY.md §2c (ARM16 "
                "x-ms-pageable)",
                operations=("IotHubResource_ListBySubscription",), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-COND-001", "MUST",
                "A hub PUT answers each If-Match / If-None-Match case of the PUT table with the status it gives.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) (PUT table); "
                "docs/sources/INVENTORY.md §1",
                operations=("IotHubResource_CreateOrUpdate",), profile_rule="rp_conditions", since=FIRST_RELEASE),
    Requirement("RP-COND-002", "MUST",
                "A hub DELETE answers each If-Match case of the DELETE table with the status it gives.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) (DELETE "
                "table); docs/sources/INVENTORY.md §1",
                operations=("IotHubResource_Delete",), profile_rule="rp_conditions", since=FIRST_RELEASE),
    Requirement("RP-COND-003", "MUST",
                "A hub PUT or DELETE refused with 412 changes nothing.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) (412 "
                "Precondition Failed); docs/sources/OBSERVED.md §3 (the state is unchanged)",
                operations=("IotHubResource_CreateOrUpdate", "IotHubResource_Delete"), since=FIRST_RELEASE),
    Requirement("RP-ETAG-001", "MUST",
                "A response that carries a hub with an etag and an ETag header sends the same value in quotes; "
                "whether the header must be there is the profile's (docs-strict: yes, as ARM16 says).",
                "docs/sources/INVENTORY.md §2c (ARM16 IotHubDescription.etag: if it is in the body it must also be a "
                "header)",
                operations=("IotHubResource_CreateOrUpdate", "IotHubResource_Get"), profile_rule="rp_etag_header",
                since=FIRST_RELEASE),
    Requirement("RP-STATE-001", "MUST",
                "A hub's properties.state, where a body has one, is of a type the profile gives (docs-strict: an "
                "integer, as the pages' examples; iothub: an integer or a name, as the real service sends).",
                "docs/sources/rp__retrieve-metadata-of-an-iot-hub.md (\"state\": 1)",
                operations=("IotHubResource_CreateOrUpdate", "IotHubResource_Get", "IotHubResource_ListBySubscription",
                            "IotHubResource_ListByResourceGroup"), profile_rule="rp_state_type",
                since=TRAFFIC_RELEASE),
    Requirement("RP-ETAG-002", "MUST",
                "A hub's etag changes on every update.",
                "docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common) (If-Match "
                "<etag from get>); docs/sources/OBSERVED.md §3 (RFC 7232)",
                operations=("IotHubResource_CreateOrUpdate", "IotHubResource_Get"), since=FIRST_RELEASE),
    Requirement("RP-CG-001", "MUST",
                "A new hub lists the consumer group $default; a consumer group created is then listed, and once "
                "deleted no longer is (docs: 201 and 204 under events/ConsumerGroups; ARM16: 200 and 200 under "
                "eventHubEndpoints/events/ConsumerGroups).",
                "docs/sources/rp__create-a-d2c-consumer-group.md; docs/sources/rp__delete-a-d2c-consumer-group.md; "
                "docs/sources/rp__list-d2c-consumer-groups.md; docs/sources/INVENTORY.md §7 item 8",
                operations=("IotHubResource_ListEventHubConsumerGroups", "IotHubResource_CreateEventHubConsumerGroup",
                            "IotHubResource_DeleteEventHubConsumerGroup", "Docs_CreateConsumerGroup",
                            "Docs_DeleteConsumerGroup", "Docs_ListConsumerGroups"),
                profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-CG-002", "MUST",
                "Consumer-group requests on a hub that does not exist answer 404.",
                "docs/sources/rp__create-a-d2c-consumer-group.md, docs/sources/rp__delete-a-d2c-consumer-group.md "
                "(Returns 404 if the IoT hub is not found)",
                operations=("IotHubResource_ListEventHubConsumerGroups", "IotHubResource_GetEventHubConsumerGroup",
                            "IotHubResource_CreateEventHubConsumerGroup", "IotHubResource_DeleteEventHubConsumerGroup",
                            "Docs_CreateConsumerGroup", "Docs_DeleteConsumerGroup", "Docs_ListConsumerGroups"),
                since=FIRST_RELEASE),
    Requirement("RP-NAME-001", "MUST",
                "checkNameAvailability says a name in use is not available, with reason AlreadyExists and a message, "
                "and an unused name is available (docs-strict: no page has this operation).",
                "docs/sources/INVENTORY.md §2c (ARM16 CheckNameAvailability)",
                operations=("IotHubResource_CheckNameAvailability",), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-STATS-001", "MUST",
                "IotHubStats counts the hub's devices (docs-strict: no page has this operation).",
                "docs/sources/INVENTORY.md §2c (ARM16 GetStats)",
                operations=("IotHubResource_GetStats",), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-JOB-001", "MUST",
                "exportDevices through the RP starts a job that completes and writes the hub's devices to the "
                "container (docs: 202 with Location, Retry-After and Azure-AsyncOperation; ARM16: 200 with the job).",
                "docs/sources/rp__export-device-identities2.md (202); docs/sources/export-device-identities1.md (200,"
                " JobResponse); docs/sources/INVENTORY.md §2c, §7 item 8",
                operations=("IotHubResource_ExportDevices",), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-JOB-002", "MUST",
                "importDevices through the RP starts a job that completes, after which the hub holds the devices its "
                "input listed.",
                "docs/sources/import-device-identities.md (202); docs/sources/INVENTORY.md §2c (ARM16 ImportDevices: "
                "200)",
                operations=("IotHubResource_ImportDevices",), profile_rule="rp_dialect", since=FIRST_RELEASE),
    Requirement("RP-READ-001", "MUST",
                "Every RP read of the run's hub (the hub, the lists, stats, skus, quotaMetrics, jobs, consumer "
                "groups) answers as the spec says: a documented status, headers and body.",
                "specs/2016-02-03/resource-provider.yaml",
                operations=("IotHubResource_Get", "IotHubResource_ListBySubscription",
                            "IotHubResource_ListByResourceGroup", "IotHubResource_GetStats",
                            "IotHubResource_GetValidSkus", "IotHubResource_GetQuotaMetrics", "IotHubResource_ListJobs",
                            "IotHubResource_GetJob", "IotHubResource_ListEventHubConsumerGroups",
                            "IotHubResource_GetEventHubConsumerGroup", "Docs_ListConsumerGroups"),
                since=FIRST_RELEASE),
]

ALL_OPERATIONS = DATA_PLANE + RESOURCE_PROVIDER
_SAS = "docs/sources/INVENTORY.md §5"
_BK_COMMON = "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (bk_common)"
_CLIENT = ("requests",)
_RP_READS = next(r for r in _ALL if r.id == "RP-READ-001").operations

_ALL += [
    # -- judged only in recorded traffic ---------------------------------------------------------------------------
    Requirement("RP-SPEC-001", "MUST",
                "Every response of an RP operation that is not a read (create, update, delete, keys, consumer groups, "
                "name checks, jobs) answers as the spec says: a documented status, headers and body.",
                "specs/2016-02-03/resource-provider.yaml",
                operations=tuple(op for op in RESOURCE_PROVIDER if op not in _RP_READS),
                since=TRAFFIC_RELEASE, judged_by=("traffic",)),
    # -- what a client sends (check-traffic --requests) ------------------------------------------------------------
    Requirement("CLIENT-OP-001", "MUST",
                "A request is a documented operation of its api-version: the spec of that version has its method and "
                "path.",
                "specs/*/*.yaml (from the pages each operation's x-source names)",
                operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-APIVER-001", "MUST",
                "Every request carries the api-version query parameter.",
                f"docs/sources/INVENTORY.md §1; {_BK_COMMON}",
                operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-AUTH-001", "MUST",
                "Every request carries an Authorization header (the one header parameter every operation of the "
                "specs marks required).",
                f"{_BK_COMMON}; docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md",
                operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-CT-001", "MUST",
                "A request with a body gives a Content-Type its operation documents (application/json for JSON).",
                f"{_BK_COMMON}; specs/*/*.yaml (requestBody content)",
                operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-BODY-001", "MUST",
                "A JSON request body matches its operation's request schema (iothub: as the service's JSON reader "
                "takes it: names in any case, null as not sent, unknown members ignored).",
                "specs/*/*.yaml (requestBody schema)",
                operations=ALL_OPERATIONS, profile_rule="lenient_json_reader", since=TRAFFIC_RELEASE,
                judged_by=_CLIENT),
    Requirement("CLIENT-IFMATCH-001", "MUST",
                "If-Match (outside the messaging operations, where it is the lock token) is * or RFC 7232 "
                "entity-tags.",
                "RFC 7232 §3.1; docs/sources/complete-a-cloud-to-device-message.md (If-Match: the lock token)",
                operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-SAS-001", "MUST",
                "A SAS token's sr names the hub's host name and a segment prefix of the request's path; a device "
                "key's token (no skn) is scoped to its device (<hub>/devices/<id>).",
                f"{_SAS} (sr)", operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-SAS-002", "MUST",
                "A SAS token's se is seconds since 1970 and lies after the time the request was sent.",
                f"{_SAS} (se)", operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-SAS-003", "MUST",
                "A SAS token for a service operation (registry, jobs, twins) names its shared access policy in skn.",
                f"{_SAS} (skn: absent only when a device's own key signed the token)",
                operations=SERVICE_SAS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
    Requirement("CLIENT-SAS-004", "MUST",
                "A SAS token's sig is the URL-encoded base64 of an HMAC-SHA256 (32 bytes).",
                f"{_SAS} (sig)", operations=ALL_OPERATIONS, since=TRAFFIC_RELEASE, judged_by=_CLIENT),
]

# api-version 2021-04-12: one list per surface group, each in its own module.
_ALL += (requirements_2021_registry.REQUIREMENTS + requirements_2021_twins.REQUIREMENTS
         + requirements_2021_jobs.REQUIREMENTS + requirements_2021_configurations.REQUIREMENTS
         + requirements_2021_digital_twins.REQUIREMENTS + requirements_2021_messaging.REQUIREMENTS
         + requirements_2021_files.REQUIREMENTS + requirements_2021_scope.REQUIREMENTS)

# What recorded responses can show, one exchange at a time, beside the run (the checks that decide them call
# Context.judging; tests/test_check_traffic.py holds the two equal).
TRAFFIC = ("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002", "COMMON-APIVER-001", "COMMON-APIVER-004",
           "COMMON-HDR-001", "COMMON-ERR-001", "COMMON-AUTH-001", "DI-ETAG-001", "DI-ETAG-002", "DI-ETAG-003",
           "DI-ETAG-004", "DI-ETAG-005", "MSG-RECV-002", "MSG-LOCK-001", "RP-REQID-001", "RP-ETAG-001", "RP-ERR-001",
           "RP-READ-001", "RP-STATE-001")
_ALL = [r if r.id not in TRAFFIC else Requirement(**{**r.__dict__, "judged_by": ("run", "traffic")}) for r in _ALL]

__all__ = [
    "BULK_REGISTRY_2021", "CLOUD_TO_DEVICE_2021", "CONFIGURATIONS_2021", "DATA_PLANE", "DATA_PLANE_2016",
    "DEVICE_2021", "DEVICES_2021", "DEVICE_IDENTITIES", "DEVICE_MESSAGING", "DEVICE_MESSAGING_2021",
    "DEVICE_SCOPE_2021", "DEVICE_TWINS", "DIGITAL_TWINS_2021", "DIRECT_METHODS_2021", "FILE_UPLOAD_2021",
    "IMPORT_EXPORT_JOBS", "IMPORT_EXPORT_JOBS_2021", "MODULES_2021", "QUERY_2021", "RESOURCE_PROVIDER",
    "SCHEDULED_JOBS", "SCHEDULED_JOBS_2021", "SERVICE_2021", "SERVICE_SAS", "TWINS_2021", "FIRST_RELEASE",
    "TRAFFIC_RELEASE", "V2021_RELEASE", "Requirement", "REQUIREMENTS", "TRAFFIC", "get", "judged_by",
]

REQUIREMENTS: dict[str, Requirement] = {r.id: r for r in _ALL}


def judged_by(way: str) -> dict[str, Requirement]:
    """The requirements `way` ("run", "traffic", "requests") judges, in registry order."""
    return {rid: r for rid, r in REQUIREMENTS.items() if way in r.judged_by}


def get(requirement_id: str) -> Requirement:
    return REQUIREMENTS[requirement_id]

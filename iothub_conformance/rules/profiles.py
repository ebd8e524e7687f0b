"""The disputed rules, decided in one table per profile.

The 2016 pages, the later Swaggers and the real service disagree in places (INVENTORY §7, OBSERVED §5). A profile
decides each disputed rule once; tests and checks read the decision from here and never decide it themselves.
`None` means "this profile takes no position": the requirement is reported as skip with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iothub_conformance.config import ConfigError

from . import (
    profiles_2021_configurations,
    profiles_2021_digital_twins,
    profiles_2021_files,
    profiles_2021_jobs,
    profiles_2021_messaging,
    profiles_2021_registry,
    profiles_2021_scope,
    profiles_2021_twins,
)
from .rule import Rule


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    rules: dict[str, Rule] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Rule:
        return self.rules[name]

    def value(self, name: str):
        return self.rules[name].value


# Rule names and what their values mean:
#   create_statuses            statuses accepted for PUT /devices/{id} that creates a device
#   create_if_match_star       status for PUT-create with `If-Match: *` on a missing device (None: undecided)
#   delete_requires_if_match   True: DELETE without If-Match is refused (4xx) and changes nothing
#   etag_on_delete             True: a successful DELETE also carries the ETag header
#   error_envelope             "iothub": {"Message": "ErrorCode:<Name>;…", "ExceptionMessage": …} plus the
#                              `iothub-errorcode` header naming the same code; None: no envelope is required
#   api_version_error_code     error code named for a missing/unsupported api-version (None: only 400 is checked)
#   quoted_star_is_wildcard    `If-Match: "*"` (quoted, as the service SDK sends it) is taken as the wildcard
#   request_id_scope           "all": x-ms-request-id on every response; "identities": only the Device Identities
#                              section promises it, so messaging responses are not checked
#   c2d_max_bytes              the largest cloud-to-device message (body + properties) a hub must accept; one byte
#                              more is refused with 413
#   lock_etag_quoted           True: the receive ETag carries the lock token in double quotes (SDKs strip them);
#                              None: no position on its form
#   lock_lost_statuses         statuses accepted for complete/reject/abandon with a lock that is unknown or expired
#   lock_lost_code             error code named with a 412 for a lost lock (None: not checked)
#   expiry_headers             a received message carries at least one of these expiry headers
#   delivery_count_header      the header that shows a received message's delivery count (None: not observable)
#   lock_expiry_counts_delivery  True: a lock that expires counts toward the max delivery count, as an abandon does
#   job_start                  how an import/export job is started on the data plane: "jobs/create" (POST
#                              /jobs/create, export and import) or "importdevices" (GET /importdevices with a JSON
#                              body, import only: the 2016 page, a doc bug); exports then start through the RP only
#   exclude_keys_default       what an export does with keys when excludeKeysInExport is not given (True: null keys)
#   cancel_finished_statuses   statuses accepted for DELETE /jobs/{jobId} on a job that has already finished
#   job_query_shape            where GET /jobs/v2/query puts its jobs: "value.items" (the 2016-11-14 page's
#                              QueryResultWithContinuation) or "any" (that, a bare {items} or a bare array)
#   rp_dialect                 which of the two resource-provider contracts the suite speaks (INVENTORY §2c, §7 item 8):
#                              "arm16": the ARM Swagger of 2016-02-03, as the RP SDK and the real service use it
#                              (authorization policies {keyName, rights: "A, B"}, lists {value, nextLink}, POST
#                              …/listkeys, consumer groups under eventHubEndpoints/{endpoint}/ConsumerGroups answering
#                              200, export/import answering 200 with a JobResponse);
#                              "docs": the rp__*.md pages (policies {name, permissions: [...]}, bare-array lists
#                              without paging, POST …/IoTHubKeys/listkeys, consumer groups under events/ConsumerGroups
#                              answering 201/204, export/import answering 202 with Location, Retry-After and
#                              Azure-AsyncOperation)
#   rp_conditions              the ARM If-Match / If-None-Match tables: (method, condition, hub exists) → accepted
#                              statuses; condition is "none", "if-match:*", "if-match:current", "if-match:stale" or
#                              "if-none-match:*"
#   rp_error_envelope          "ErrorDetails": RP errors carry {Code, HttpStatusCode, Message, Details} (ARM16);
#                              None: no envelope is required
#   lenient_json_reader        True: a request body is judged as the service's JSON reader takes it (members and
#                              enum values in any case, null as not sent, unknown members ignored); False: as the
#                              spec writes it (check-traffic --requests)
#   rp_etag_header             True: a hub body's etag comes with an ETag header too (ARM16); False: the body etag
#                              alone is enough (a header, when sent, must still be the body etag quoted)
#   rp_state_type              the JSON types a hub's properties.state may have: ("integer",) as the pages' examples
#                              (1), or ("integer", "string") as the real resource provider sends a name ("Active")

def _rp_conditions(delete_missing: frozenset[int], delete_existing: frozenset[int]) -> dict:
    """The PUT and DELETE tables of the RP page (INVENTORY §1); a PUT that updates may answer 200 (the table) or 201
    (the update page: a long-running operation)."""
    update = frozenset({200, 201})
    return {
        ("PUT", "none", False): frozenset({201}),
        ("PUT", "if-match:*", False): frozenset({412}),
        ("PUT", "if-match:stale", False): frozenset({412}),
        ("PUT", "if-none-match:*", False): frozenset({201}),
        ("PUT", "none", True): update,
        ("PUT", "if-match:*", True): update,
        ("PUT", "if-match:current", True): update,
        ("PUT", "if-match:stale", True): frozenset({412}),
        ("PUT", "if-none-match:*", True): frozenset({412}),
        ("DELETE", "none", False): delete_missing,
        ("DELETE", "if-match:*", False): delete_missing,
        ("DELETE", "if-match:stale", False): delete_missing,
        ("DELETE", "none", True): delete_existing,
        ("DELETE", "if-match:*", True): delete_existing,
        ("DELETE", "if-match:current", True): delete_existing,
        ("DELETE", "if-match:stale", True): frozenset({412}),
    }


# The real resource provider of api-version 2016-02-03, recorded by the RP SDK's tests (tests/recordings/SOURCES.md).
RP_RECORDING_2016 = ("https://github.com/Azure/azure-sdk-for-python/blob/66ebc2220229a97d99a0a68b7ba9aa2e87444021/"
                     "azure-mgmt/tests/recordings/test_mgmt_iothub.test_iothub.yaml")
RP_TABLE_SOURCE = ("docs/sources/rp__iot-hub-resource-provider-rest__v2016-12-27_e5666404f.md (bk_common: the PUT "
                   "and DELETE tables); docs/sources/rp__delete-an-iot-hub.md (202); "
                   "docs/sources/rp__update-metadata-on-an-existing-iot-hub.md (201); docs/sources/INVENTORY.md §1, §7 "
                   "item 9")

IOTHUB = Profile(
    name="iothub",
    description="The documented contract; where the real service documentedly differs, its behaviour is accepted "
    "and reported as a noted deviation.",
    rules={
        "create_statuses": Rule(
            frozenset({200, 201}),
            "docs/sources/create-a-new-device-identity.md (201); docs/sources/OBSERVED.md §1 (real service 200)",
            deviation="the real service answers 200 to a create; the 2016 page says 201",
        ),
        "create_if_match_star": Rule(
            None, "no source states what the real service does with If-Match: * on a missing device"
        ),
        "delete_requires_if_match": Rule(
            False,
            "docs/sources/delete-a-device-identity.md (required); docs/sources/INVENTORY.md §2a (2021 spec: optional); "
            "docs/sources/OBSERVED.md §2 (SDK)",
            deviation="If-Match is optional on DELETE, as the later spec and the SDKs have it",
        ),
        "etag_on_delete": Rule(False, "docs/sources/OBSERVED.md §1 (ETag on responses that carry the device)"),
        "error_envelope": Rule("iothub", "docs/sources/OBSERVED.md §1 (error envelope), docs/sources/INVENTORY.md §4d"),
        "api_version_error_code": Rule("InvalidProtocolVersion", "docs/sources/OBSERVED.md §1; docs/sources/INVENTORY.md "
                                                                 "§4c (400001)"),
        "quoted_star_is_wildcard": Rule(True, "docs/sources/OBSERVED.md §2 (service SDK sends If-Match: \"*\")"),
        "request_id_scope": Rule(
            "all", "docs/sources/OBSERVED.md §1 (x-ms-request-id on every response)",
            deviation="x-ms-request-id is required on messaging responses too; the 2016 pages promise it for "
            "Device Identities only",
        ),
        "c2d_max_bytes": Rule(
            64 * 1024, "docs/sources/INVENTORY.md §8 (iot-hub-devguide-quotas-throttling.md: C2D max 64 KB), §7 item 7",
            deviation="cloud-to-device messages are limited to 64 KB as the quotas page says; the 2016 receive page "
            "says 256 KB",
        ),
        "lock_etag_quoted": Rule(True, "docs/sources/INVENTORY.md §6 (SDK and CLI code strips the surrounding double "
                                       "quotes); docs/sources/OBSERVED.md §5"),
        "lock_lost_statuses": Rule(
            frozenset({412, 404}),
            "docs/sources/INVENTORY.md §4c (412002 DeviceMessageLockLost, grouped with 412 by the C# SDK), §6 (the HTTP "
            "status is unconfirmed)",
            deviation="a lost lock may be answered 404 as well as 412: the service's status is unconfirmed",
        ),
        "lock_lost_code": Rule("DeviceMessageLockLost", "docs/sources/INVENTORY.md §4b, §4c (412002 DeviceMessageLockLost)"),
        "expiry_headers": Rule(
            ("IoTHub-ExpiryTime", "iothub-expiry"),
            "docs/sources/receive-a-cloud-to-device-message.md (IoTHub-ExpiryTime); docs/sources/INVENTORY.md §7 item 11 "
            "(SDKs read iothub-expiry)",
            deviation="iothub-expiry, which the SDKs read, is accepted in place of the documented IoTHub-ExpiryTime",
        ),
        "delivery_count_header": Rule(
            "iothub-deliverycount", "docs/sources/INVENTORY.md §2b, §8 (SDK and CLI code reads iothub-deliverycount)",
            deviation="iothub-deliverycount is not on the 2016 receive page; the SDKs read it",
        ),
        "lock_expiry_counts_delivery": Rule(
            False, "docs/sources/INVENTORY.md §6, §8 (iot-hub-devguide-messages-c2d.md: only an explicit abandon increments"
                   " the delivery count)",
            deviation="a lock that expires does not count as a delivery (current docs); the 2016 guide counts it",
        ),
        "job_start": Rule(
            "jobs/create", "docs/sources/autogen-2018-06-30__Service_CreateImportExportJob.yml (POST /jobs/create); "
                           "docs/sources/INVENTORY.md §2a, §7 item 10 (GET /importdevices is a doc bug)",
            deviation="import/export jobs start with POST /jobs/create (later pages), not the 2016 page's GET "
            "/importdevices",
        ),
        "exclude_keys_default": Rule(
            False, "docs/sources/autogen-2018-06-30__Service_CreateImportExportJob.yml (excludeKeysInExport default: false)",
            deviation="an export includes keys unless excludeKeysInExport is true (later pages); the 2016 pages "
            "default to excluding them",
        ),
        "cancel_finished_statuses": Rule(
            frozenset({200, 204}), "docs/sources/cancel-import-export-job.md (204); docs/sources/INVENTORY.md §2a (2021 "
                                   "spec: 200 or 204)",
            deviation="a cancel may answer 200 as well as 204 (2021 spec)",
        ),
        "job_query_shape": Rule(
            "any", "docs/sources/autogen-2016-11-14__JobApi_QueryJobs.yml (QueryResultWithContinuation); "
                   "docs/sources/INVENTORY.md §3 (later specs change the jobs query)",
            deviation="the jobs query may answer {items} or a bare array, not only the 2016-11-14 page's wrapper",
        ),
        "rp_dialect": Rule(
            "arm16", "docs/sources/INVENTORY.md §2c, §7 item 8 (the ARM Swagger of 2016-02-03); docs/sources/OBSERVED.md §2"
                     " (the RP SDK azure-mgmt-iothub 0.1.0 speaks it)",
            deviation="the resource provider is spoken as the ARM Swagger and the RP SDK have it (keyName/rights, "
            "{value, nextLink}, …/listkeys, eventHubEndpoints consumer groups answering 200, export/import answering "
            "200); the rp__*.md pages differ",
        ),
        "rp_conditions": Rule(
            _rp_conditions(frozenset({204, 404}), frozenset({200, 202, 204})),
            RP_TABLE_SOURCE + "; docs/sources/INVENTORY.md §2c (ARM16 delete: 202, 200, 204, 404); docs/sources/OBSERVED.md"
                              " §2 (delete answers 202 or 204)",
            deviation="a DELETE of a missing hub may answer 404 (ARM16) as well as the table's 204, and a DELETE of "
            "an existing hub 204 (ARM16, the SDK)",
        ),
        "rp_error_envelope": Rule("ErrorDetails", "docs/sources/INVENTORY.md §2c, §4d (ARM16 ErrorDetails {Code, "
                                                  "HttpStatusCode, Message, Details})"),
        "lenient_json_reader": Rule(
            True, "https://github.com/JamesNK/Newtonsoft.Json/blob/4467bdb/Src/Newtonsoft.Json/Utilities/EnumUtils.cs "
                  "(enum names: Enum.Parse(…, true)); https://www.newtonsoft.com/json/help/html/"
                  "P_Newtonsoft_Json_JsonSerializerSettings_MissingMemberHandling.htm (unknown members: Ignore, the "
                  "default); the 2016 Node.js service SDK sends \"status\": \"Enabled\", \"SymmetricKey\" and null "
                  "keys to real hubs (https://github.com/Azure/azure-iot-sdks/blob/c98b3b7/node/service/lib/"
                  "_registry_common_testrun.js; tests/recordings/sdk/README.md)",
            deviation="a request body may name members and enum values in another case, send null for a value the "
            "service fills and carry members the spec does not define, as the service's JSON reader takes them"),
        "rp_etag_header": Rule(False, RP_RECORDING_2016 + " (hub GET and list: a body etag, no ETag header)",
                               deviation="a hub body's etag may come without an ETag header, as the real resource "
                               "provider sends it; ARM16 says the header must be there too"),
        "rp_state_type": Rule(("integer", "string"),
                              RP_RECORDING_2016 + " (properties.state \"Activating\", \"Active\"); ARM16 has no state "
                                                  "(docs/sources/INVENTORY.md §2c)",
                              deviation="properties.state may be a name (\"Active\"), as the real resource provider "
                              "sends it; the pages' examples have an integer (1)"),
        # api-version 2021-04-12: the rules each surface group decides, in its own module.
        **profiles_2021_registry.IOTHUB, **profiles_2021_twins.IOTHUB, **profiles_2021_jobs.IOTHUB,
        **profiles_2021_configurations.IOTHUB, **profiles_2021_digital_twins.IOTHUB, **profiles_2021_messaging.IOTHUB,
        **profiles_2021_files.IOTHUB, **profiles_2021_scope.IOTHUB,
    },
)

DOCS_STRICT = Profile(
    name="docs-strict",
    description="The 2016-02-03 REST pages to the letter.",
    rules={
        "create_statuses": Rule(frozenset({201}), "docs/sources/create-a-new-device-identity.md (Status code: 201)"),
        "create_if_match_star": Rule(412, "docs/sources/index__v2017-01-16_d8e1dc17d.md (PUT table: If-Match * on missing →"
                                          " 412)"),
        "delete_requires_if_match": Rule(True, "docs/sources/delete-a-device-identity.md (This request requires the "
                                               "If-Match header)"),
        "etag_on_delete": Rule(
            True, "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (Etag returned in all requests scoped to a"
                  " device)"
        ),
        "error_envelope": Rule(None, "the 2016 pages define no error body"),
        "api_version_error_code": Rule(None, "the 2016 pages name no error code for api-version errors"),
        "quoted_star_is_wildcard": Rule(False, "RFC 7232 §3.1: only a bare * is the wildcard"),
        "request_id_scope": Rule(
            "identities", "docs/sources/index__SEED_v2017-01-13_be0592db9.md, "
                          "docs/sources/device-identities-rest__v2016-12-27_e5666404f.md (only the Device Identities "
                          "section promises x-ms-request-id; docs/sources/INVENTORY.md §1)"),
        "c2d_max_bytes": Rule(256 * 1024 - 1, "docs/sources/receive-a-cloud-to-device-message.md (the whole message has to "
                                              "be less than 256 Kb)"),
        "lock_etag_quoted": Rule(None, "docs/sources/receive-a-cloud-to-device-message.md says only that the ETag is the "
                                       "lock id"),
        "lock_lost_statuses": Rule(
            frozenset({412}), "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (412: the etag in the request does"
                              " not match); docs/sources/complete-a-cloud-to-device-message.md (the lock id is the received"
                              " etag)"),
        "lock_lost_code": Rule(None, "the 2016 pages define no error body"),
        "expiry_headers": Rule(("IoTHub-ExpiryTime",), "docs/sources/receive-a-cloud-to-device-message.md "
                                                       "(IoTHub-ExpiryTime)"),
        "delivery_count_header": Rule(None, "the 2016 receive page lists no delivery-count header"),
        "lock_expiry_counts_delivery": Rule(
            True, "docs/sources/INVENTORY.md §6 (2016 docs: every Enqueued↔Invisible transition counts toward the max "
                  "delivery count)"),
        "job_start": Rule("importdevices", "docs/sources/import-or-update-device-identities.md (GET /importdevices); "
                                           "docs/sources/export-device-identities1.md (exports start through the resource "
                                           "provider)"),
        "exclude_keys_default": Rule(True, "docs/sources/retrieve-import-export-job.md (excludeKeysInExport: Default: "
                                           "true)"),
        "cancel_finished_statuses": Rule(frozenset({204}), "docs/sources/cancel-import-export-job.md (Status code: 204)"),
        "job_query_shape": Rule("value.items", "docs/sources/autogen-2016-11-14__JobApi_QueryJobs.yml "
                                               "(QueryResultWithContinuation {value: {type, items, continuationToken}, "
                                               "nextLink})"),
        "rp_dialect": Rule("docs", "docs/sources/rp__*.md (the 2016 resource provider pages)"),
        "rp_conditions": Rule(_rp_conditions(frozenset({204}), frozenset({200, 202})), RP_TABLE_SOURCE),
        "rp_error_envelope": Rule(None, "the docs/sources/rp__*.md pages define no error body"),
        "lenient_json_reader": Rule(False, "specs/2016-02-03/device-identities.yaml (DeviceRequest); "
                                           "docs/sources/create-a-new-device-identity.md"),
        "rp_etag_header": Rule(True, "docs/sources/INVENTORY.md §2c (ARM16 IotHubDescription.etag: in the body, then "
                                     "also a header)"),
        "rp_state_type": Rule(("integer",), "docs/sources/rp__retrieve-metadata-of-an-iot-hub.md (\"state\": 1)"),
        **profiles_2021_registry.DOCS_STRICT, **profiles_2021_twins.DOCS_STRICT, **profiles_2021_jobs.DOCS_STRICT,
        **profiles_2021_configurations.DOCS_STRICT, **profiles_2021_digital_twins.DOCS_STRICT,
        **profiles_2021_messaging.DOCS_STRICT, **profiles_2021_files.DOCS_STRICT, **profiles_2021_scope.DOCS_STRICT,
    },
)

PROFILES = {p.name: p for p in (IOTHUB, DOCS_STRICT)}
DEFAULT = IOTHUB.name


def get_profile(name: str | None) -> Profile:
    name = name or DEFAULT
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigError(f"unknown profile {name!r} (known: {', '.join(sorted(PROFILES))})") from None

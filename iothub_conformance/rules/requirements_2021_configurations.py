"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
configurations (automatic device management) and applyConfigurationContent."""

from __future__ import annotations

from .requirement import V2021_RELEASE, Requirement

_ADM = "docs/sources/iot-hub-automatic-device-management__2019-12-13_01a0b363.md"
_QT = "docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md"
_ERR = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
_SW = "docs/sources/service-2021-04-12.json"
_INV = "docs/sources/INVENTORY-2021-04-12.md"
_D18_APPLY = "docs/sources/autogen-2018-06-30__Service_ApplyConfigurationOnEdgeDevice.yml"
_GET = ("Configuration_Get",)
_PUT = ("Configuration_CreateOrUpdate",)
_DELETE = ("Configuration_Delete",)
_LIST = ("Configuration_GetConfigurations",)
_TEST = ("Configuration_TestQueries",)
_APPLY = ("Configuration_ApplyOnEdgeDevice",)


def _r(rid: str, statement: str, source: str, operations: tuple[str, ...], rule: str | None = None,
       level: str = "MUST") -> Requirement:
    return Requirement(rid, level, statement, source, operations=operations, since=V2021_RELEASE, profile_rule=rule)


REQUIREMENTS: list[Requirement] = [
    _r("CONFIG-PUT-001",
       "PUT /configurations/{id} of a new id creates the configuration, answering a status the profile accepts for a "
       "create with the configuration: its id, labels, content, targetCondition and priority as sent, createdTimeUtc, "
       "lastUpdatedTimeUtc and an etag; GET then answers 200 with the same.",
       f"{_SW} (Configuration_CreateOrUpdate: 200 or 201, Configuration_Get, Configuration); {_ADM} (Name and Label, "
       f"Specify Settings, Target Devices); {_INV} §2.8, §10 (§11: which of 200 and 201 is not stated)",
       _PUT + _GET, "configuration_put_statuses"),
    _r("CONFIG-PUT-002",
       "A PUT of an existing configuration with its labels, priority, targetCondition and metrics changed is applied: "
       "a status the profile accepts for an update, the new values stored, createdTimeUtc kept, lastUpdatedTimeUtc "
       "not earlier and a new etag.",
       f"{_ADM} (Modify a configuration: target condition, labels, priority, metrics); {_SW} (Configuration: the "
       "createdTimeUtc and lastUpdatedTimeUtc times and the etag)", _PUT + _GET, "configuration_put_statuses"),
    _r("CONFIG-GET-001",
       "A GET or DELETE of a configuration that does not exist answers 404 ConfigurationNotFound.",
       f"{_SW} (DeviceRegistryOperationError.errorCode: ConfigurationNotFound); {_INV} §2.8", _GET + _DELETE),
    _r("CONFIG-IMMUTABLE-001",
       "A PUT that would change an existing configuration's content is refused with a 4xx and changes nothing.",
       f"{_SW} (Configuration_CreateOrUpdate: Configuration identifier and Content cannot be updated; "
       "DeviceRegistryOperationError.errorCode: CannotModifyImmutableConfigurationContent)", _PUT),
    _r("CONFIG-COND-001",
       "A PUT or DELETE of a configuration whose If-Match names an earlier etag of it answers 412 and changes nothing.",
       f"{_SW} (Configuration_CreateOrUpdate, Configuration_Delete: If-Match, the delete is performed only if this "
       f"ETag matches); {_INV} §6; RFC 7232 §3.1", _PUT + _DELETE),
    _r("CONFIG-COND-002",
       "A PUT or DELETE of a configuration whose If-Match is its current etag in each form the profile lists, or "
       "the wildcard in each form it lists, is applied.",
       f"{_SW} (Configuration_Delete: set If-Match to the wildcard character (*)); {_INV} §6, §10 (C3, C4: the Python "
       "configuration manager sends the etag as given and a bare *); docs/sources/SDKS.md", _PUT + _DELETE,
       "configuration_if_match_forms"),
    _r("CONFIG-DELETE-001",
       "DELETE /configurations/{id} answers 204, after which a GET of it answers 404 and the list no longer holds it.",
       f"{_SW} (Configuration_Delete: 204); {_ADM} (Delete a configuration)", _DELETE + _GET + _LIST),
    _r("CONFIG-LIST-001",
       "GET /configurations answers 200 with an array of configurations holding the ones just created, and "
       "with top=N at most N of them.",
       f"{_SW} (Configuration_GetConfigurations: top, The number of configurations to retrieve; Pagination is not "
       f"supported); {_INV} §2.8, §5", _LIST),
    _r("CONFIG-ID-001",
       "A PUT of a configuration whose id is longer than 128 characters, holds an uppercase letter or a space, or one "
       "of & ^ [ ] { } \\ | \" < > is refused with 400 and creates nothing.",
       f"{_ADM} (Name and Label: up to 128 lowercase letters, avoid spaces and the invalid characters); {_INV} §9",
       _PUT),
    _r("CONFIG-TARGET-001",
       "A PUT of a configuration whose targetCondition is not a condition of the query language is refused with 400 "
       "and creates nothing.",
       f"{_ADM} (Target Devices: the condition should match the expression format); {_SW} "
       "(DeviceRegistryOperationError.errorCode: InvalidConfigurationTargetCondition); "
       "docs/sources/iot-hub-devguide-query-language__2018-02-26_abdce6fa.md",
       _PUT),
    _r("CONFIG-METRIC-001",
       "A PUT of a configuration with more than five custom metrics is refused with 400 and creates nothing.",
       f"{_ADM} (Specify Metrics: up to five custom metrics); {_INV} §9", _PUT),
    _r("CONFIG-COUNT-001",
       "A standard hub holds at most 100 configurations: the create of one more is refused with a 4xx and creates "
       "nothing.",
       f"{_QT} (Automatic device and module configurations: 100 per basic or standard SKU hub); {_SW} "
       f"(DeviceRegistryOperationError.errorCode: ConfigurationCountLimitExceeded); {_INV} §9", _PUT),
    _r("CONFIG-SYS-001",
       "systemMetrics.results counts the twins the targetCondition selects (Targeted) and those of them the "
       "configuration applies to (Applied): a twin whose content paths a configuration of higher priority, or of the "
       "same priority created later, also sets is not applied.",
       f"{_ADM} (Target Devices: priority, the one created most recently wins; Monitor a configuration: system "
       f"metrics Targeted and Applied); {_SW} (Configuration.systemMetrics)", _PUT + _GET),
    _r("CONFIG-CUSTOM-001",
       "metrics.results holds, for each custom metric query, the number of rows the query returns.",
       f"{_ADM} (Specify Metrics: The metric represents the number of rows returned by the query); {_SW} "
       "(Configuration.metrics)", _PUT + _GET),
    _r("CONFIG-RUN-001",
       "Metrics follow the twins: a twin tagged to match a configuration's targetCondition after its creation is "
       "counted once the configuration runs again (at most five minutes later).",
       f"{_ADM} (configurations run shortly after creation and then at five minute intervals; metrics queries run "
       "each time)", _PUT + _GET),
    _r("CONFIG-TEST-001",
       "POST /configurations/testQueries answers 200 with a targetConditionError and a customMetricQueryErrors entry "
       "for each query the query language refuses, and no error for the ones it takes.",
       f"{_SW} (Configuration_TestQueries, ConfigurationQueriesTestInput, ConfigurationQueriesTestResponse)", _TEST),
    _r("CONFIG-APPLY-001",
       "POST /devices/{id}/applyConfigurationContent with modulesContent for a registered IoT Edge device answers a "
       "status the profile accepts.",
       f"{_SW} (Configuration_ApplyOnEdgeDevice: 204); {_D18_APPLY} (200 or 204); {_INV} §10 (C30); "
       "docs/sources/SDKS.md", _APPLY,
       "apply_configuration_statuses"),
    _r("CONFIG-APPLY-002",
       "applyConfigurationContent for a device that is not registered answers 404 DeviceNotFound.",
       f"{_ERR} (404001 DeviceNotFound: The device either isn't registered or is disabled); {_INV} §7", _APPLY),
    _r("CONFIG-CONTENT-001",
       "A configuration's deviceContent at a properties.desired path reaches the desired properties of each device "
       "twin its targetCondition selects, and of no other twin, by its first run; a twin tagged to match after the "
       "create gets it by the next run (at most five minutes later).",
       f"{_ADM} (the target content defines the desired properties to be added or updated in the targeted device "
       "twins; Specify Settings: the twin path and the JSON content; configurations run shortly after creation and "
       "then at five minute intervals)", _PUT + _GET),
    _r("CONFIG-CONTENT-002",
       "Where two configurations that target a twin set the same twin path, the twin holds the content of the one "
       "of higher priority, whichever was created first; of two of the same priority, the content of the one created "
       "later.",
       f"{_ADM} (Specify Settings: the content from the highest priority configuration will apply; Target Devices: "
       "the highest numerical value is the highest priority, of the same priority the one created most recently "
       "wins)", _PUT + _GET),
    _r("CONFIG-CONTENT-003",
       "When a configuration's targetCondition is updated so that a twin no longer meets it, the settings from the "
       "configuration are removed from that twin, and a path that another configuration still targeting the twin "
       "sets takes that configuration's content.",
       f"{_ADM} (Modify a configuration: a twin that no longer meets the target condition, the settings from the "
       "configuration will be removed and the twin will be modified by the next highest priority configuration)",
       _PUT + _GET),
    _r("CONFIG-CONTENT-004",
       "When a configuration is deleted, a twin it targeted takes on the content of the next highest priority "
       "configuration that targets it, at the paths both set.",
       f"{_ADM} (Delete a configuration: any device twins take on their next highest priority configuration)",
       _PUT + _DELETE + _GET),
    _r("CONFIG-CUSTOM-002",
       "A custom metric SELECT deviceId FROM devices WHERE configurations.[[id]].status='Applied' (the configuration's "
       "own id in double brackets) is taken by testQueries and by the PUT, and counts the twins the configuration was "
       "applied to.",
       f"{_ADM} (Specify Metrics: You can include a clause that the configuration was applied, Include the double "
       "brackets)", _PUT + _GET + _TEST),
]

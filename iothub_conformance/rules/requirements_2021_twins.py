"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device and module twins, direct methods, query."""

from __future__ import annotations

from .operation_groups import DIRECT_METHODS_2021, QUERY_2021
from .requirement import V2021_RELEASE, Requirement

_DT = "docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md"
_MT = "docs/sources/iot-hub-devguide-module-twins__2020-06-29_ccf574a5.md"
_DM = "docs/sources/iot-hub-devguide-direct-methods__2018-07-17_1e2689b4.md"
_QL = "docs/sources/iot-hub-devguide-query-language__2018-02-26_abdce6fa.md"
_ERR = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
_SW = "docs/sources/service-2021-04-12.json"
_INV = "docs/sources/INVENTORY-2021-04-12.md"
_GET = ("Devices_GetTwin",)
_WRITE = ("Devices_ReplaceTwin", "Devices_UpdateTwin")
_DEVICE_TWIN = _GET + _WRITE
_MODULE_TWIN = ("Modules_GetTwin", "Modules_ReplaceTwin", "Modules_UpdateTwin")


def _r(rid: str, statement: str, source: str, operations: tuple[str, ...], rule: str | None = None,
       level: str = "MUST") -> Requirement:
    return Requirement(rid, level, statement, source, operations=operations, since=V2021_RELEASE, profile_rule=rule)


REQUIREMENTS: list[Requirement] = [
    # -- device twins ----------------------------------------------------------------------------------------------
    _r("DTWIN-GET-001",
       "GET /twins/{id} answers 200 with the device's twin: deviceId, etag, version, tags, and properties.desired and "
       "properties.reported, each with an integer $version.",
       f"{_SW} (Devices_GetTwin, Twin, TwinProperties); {_DT} (Device twins); {_INV} §2.4", _GET),
    _r("DTWIN-GET-002",
       "A twin request for a device that is not registered answers 404 DeviceNotFound.",
       f"{_ERR} (404001 DeviceNotFound); {_INV} §7", _DEVICE_TWIN),
    _r("DTWIN-ID-001",
       "The twin's root holds the device identity's read-only properties (its status and, as deviceEtag, its etag), "
       "but not generationId or connectionStateUpdatedTime.",
       f"{_DT} (Device twins: device identity properties); {_SW} (Twin.deviceEtag, Twin.status)", _GET),
    _r("DTWIN-META-001",
       "properties.desired and properties.reported carry $metadata with a $lastUpdated (UTC, YYYY-MM-DDTHH:MM:SS.mmmZ) "
       "on every level, down to each desired property set, and a write moves the stamps of what it changed.",
       f"{_DT} (Device twin metadata); {_INV} §2.4", _DEVICE_TWIN),
    _r("DTWIN-PATCH-001",
       "PATCH /twins/{id} merges the given tags and desired properties (a null removes its key, nothing else changes) "
       "and answers 200 with the updated twin.",
       f"{_DT} (Back-end operations: partially update device twin); {_SW} (Devices_UpdateTwin)", ("Devices_UpdateTwin",)),
    _r("DTWIN-PUT-001",
       "PUT /twins/{id} replaces the tags and the desired properties with the body's (keys the body leaves out are gone) "
       "and answers 200 with the new twin.",
       f"{_DT} (Back-end operations: replace desired properties, replace tags); {_SW} (Devices_ReplaceTwin)",
       ("Devices_ReplaceTwin",)),
    _r("DTWIN-REPORTED-001",
       "Reported properties are the device's: a PATCH or PUT that names properties.reported leaves them as they were "
       "(whether it is refused or the section ignored).",
       f"{_DT} (Device twins: reported properties; Back-end operations); {_SW} (Devices_UpdateTwin: tags and desired "
       "properties)", _WRITE),
    _r("DTWIN-VERSION-001",
       "Every write of tags or desired properties raises the twin's version, and every change of desired properties "
       "raises properties.desired.$version; a read changes neither.",
       f"{_SW} (Twin.version); {_DT} (Optimistic concurrency: $version is guaranteed to be incremental)", _DEVICE_TWIN),
    _r("DTWIN-ETAG-001",
       "The twin's body etag is an opaque value without quotes that changes on every write and stays the same across "
       "reads, so that \"<etag>\" (as the SDKs send it in If-Match) is an RFC 7232 entity-tag.",
       f"{_SW} (Twin.etag); {_INV} §6; docs/sources/SDKS.md; RFC 7232 §2.3", _DEVICE_TWIN),
    _r("DTWIN-COND-001",
       "A PATCH or PUT whose If-Match names an earlier etag of the twin answers 412 and changes nothing.",
       f"{_SW} (Devices_UpdateTwin, Devices_ReplaceTwin: If-Match); {_INV} §6; RFC 7232 §3.1", _WRITE),
    _r("DTWIN-COND-002",
       "A PATCH or PUT whose If-Match is the twin's current etag in quotes (as the SDKs send it), or *, is applied.",
       f"{_INV} §6 (what clients put in If-Match); docs/sources/SDKS.md; RFC 7232 §3.1", _WRITE),
    _r("DTWIN-LIMIT-001",
       "A write that would nest tags or desired properties more than 10 levels deep is refused with 400 and changes "
       "nothing.",
       f"{_DT} (Tags and properties format: depth); {_SW} (TwinProperties)", _WRITE),
    _r("DTWIN-LIMIT-002",
       "A write that would make the tags larger than 8 KB or the desired properties larger than 32 KB is refused with "
       "400 and changes nothing.",
       f"{_DT} (Device twin size); docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md", _WRITE),
    _r("DTWIN-ARRAY-001",
       "An array value in tags or desired properties is handled as the profile says (iothub: stored and returned as "
       "sent; docs-strict: refused with 400, the twin unchanged).",
       f"{_DT} (Tags and properties format: values; the 2024 revision); {_INV} §10 (C23)", _WRITE, rule="twin_arrays"),
    # -- module twins ----------------------------------------------------------------------------------------------
    _r("MTWIN-GET-001",
       "GET /twins/{id}/modules/{mid} answers 200 with the module's twin: deviceId, moduleId, etag, version, tags and "
       "both property sections with their $version.",
       f"{_SW} (Modules_GetTwin, Twin); {_MT} (Module twins); {_INV} §2.5", ("Modules_GetTwin",)),
    _r("MTWIN-GET-002",
       "A module twin request for a module that does not exist on the device answers 404.",
       f"{_MT} (Module twins: lifecycle); {_INV} §2.3 (404010 ModuleNotFound)", _MODULE_TWIN),
    _r("MTWIN-PATCH-001",
       "PATCH on a module twin merges tags and desired properties (null removes); PUT replaces them; both answer 200.",
       f"{_MT} (Back-end operations); {_SW} (Modules_UpdateTwin, Modules_ReplaceTwin)",
       ("Modules_ReplaceTwin", "Modules_UpdateTwin")),
    _r("MTWIN-COND-001",
       "A module twin PATCH or PUT whose If-Match names an earlier etag answers 412 and changes nothing.",
       f"{_SW} (Modules_UpdateTwin, Modules_ReplaceTwin: If-Match); {_MT} (Optimistic concurrency)",
       ("Modules_ReplaceTwin", "Modules_UpdateTwin")),
    _r("MTWIN-LIFE-001",
       "A module twin lives and dies with its module identity: after the module is deleted and created again, its "
       "twin starts empty.",
       f"{_MT} (Module twins: implicitly created and deleted)", _MODULE_TWIN),
    # -- direct methods --------------------------------------------------------------------------------------------
    _r("METHOD-INVOKE-001",
       "POST /twins/{deviceId}/methods on an online device hands it methodName and payload and answers 200 with the "
       "status and payload the device gave.",
       f"{_DM} (Method invocation; Response); {_SW} (Devices_InvokeMethod, CloudToDeviceMethodResult)",
       ("Devices_InvokeMethod",)),
    _r("METHOD-INVOKE-002",
       "POST /twins/{deviceId}/modules/{moduleId}/methods reaches that module (not the device) and answers 200 with "
       "the module's status and payload.",
       f"{_SW} (Modules_InvokeMethod); {_DM} (Method invocation for IoT Edge modules)", ("Modules_InvokeMethod",)),
    _r("METHOD-OFFLINE-001",
       "A method for a registered device that is not online answers 404 with the code the profile gives (iothub: "
       "DeviceNotOnline).",
       f"{_DM} (Response: a 404 error for devices not currently connected); {_ERR} (404103 DeviceNotOnline); "
       f"{_INV} §10 (C37)", DIRECT_METHODS_2021, rule="method_offline"),
    _r("METHOD-NOTFOUND-001",
       "A method for a device that is not registered answers 404 DeviceNotFound.",
       f"{_ERR} (404001 DeviceNotFound); {_INV} §10 (C37)", DIRECT_METHODS_2021),
    _r("METHOD-TIMEOUT-001",
       "A device that does not answer within responseTimeoutInSeconds makes the call answer 504 GatewayTimeout.",
       f"{_DM} (Method lifecycle: succeed or fail after the timeout period); {_ERR} (504101 GatewayTimeout)",
       DIRECT_METHODS_2021),
    _r("METHOD-TIMEOUT-002",
       "A responseTimeoutInSeconds or connectTimeoutInSeconds outside the profile's bounds is refused with 400 and "
       "the device is not called.",
       f"{_DM} (Method lifecycle: settable up to 300 seconds; notes 2, 3); {_INV} §9; {_INV} §10 (C16)",
       DIRECT_METHODS_2021, rule="method_timeout_bounds"),
    _r("METHOD-PAYLOAD-001",
       "A method request whose payload is larger than 128 KB is refused with a 4xx and the device is not called.",
       f"{_DM} (the payload is a JSON document up to 128 KB); "
       "docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md; "
       f"{_SW} (CloudToDeviceMethod.payload)", DIRECT_METHODS_2021),
    # -- query -----------------------------------------------------------------------------------------------------
    _r("QUERY-SELECT-001",
       "SELECT * FROM devices WHERE deviceId IN [...] answers 200 with exactly the twins of those devices, each once, "
       "as GET /twins/{id} shows them (tags and properties).",
       f"{_QL} (Device twin queries); {_SW} (Query_GetTwins)", QUERY_2021),
    _r("QUERY-WHERE-001",
       "WHERE selects exactly the twins whose tags, desired and reported properties and status meet the condition: "
       "comparisons of primitives, AND, OR, NOT, IN, NIN and IS_DEFINED.",
       f"{_QL} (Device twin queries; Expressions and conditions; Operators; Functions)", QUERY_2021),
    _r("QUERY-MODULES-001",
       "SELECT * FROM devices.modules answers the module twins (deviceId and moduleId) that meet the WHERE clause.",
       f"{_QL} (Module twin queries)", QUERY_2021),
    _r("QUERY-AGG-001",
       "SELECT <property> AS a, COUNT() AS n FROM devices GROUP BY <property> answers one row per value with its count.",
       f"{_QL} (Device twin queries: grouping and aggregations; GROUP BY clause)", QUERY_2021),
    _r("QUERY-PAGE-001",
       "A page holds at most x-ms-max-item-count items and carries x-ms-continuation while more follow; following the "
       "tokens yields every matching twin exactly once.",
       f"{_SW} (Query_GetTwins); {_INV} §2.7; {_INV} §5", QUERY_2021),
    _r("QUERY-PAGE-002",
       "A continuation token stays correct while devices are added or removed between pages: every device that "
       "existed throughout is returned exactly once.",
       f"{_SW} (Query_GetTwins: the continuation token used to get the next page of results); {_INV} §2.7",
       QUERY_2021),
    _r("QUERY-TYPE-001",
       "A query answer carries x-ms-item-type naming the type of its items (twin for SELECT * FROM devices).",
       f"{_SW} (Query_GetTwins, QueryResult.type); {_INV} §2.7", QUERY_2021),
    _r("QUERY-ERR-001",
       "A query the language does not allow is refused with 400 and the error envelope, never a server error or an "
       "empty success.",
       f"{_QL} (Basics of an IoT Hub query; FROM clause; Functions); {_INV} §7 (400004 ArgumentInvalid)", QUERY_2021),
]

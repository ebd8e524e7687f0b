"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
devices, bulk registry, modules, statistics, cloud-to-device purge, and the permission each operation needs."""

from __future__ import annotations

from .operation_groups import DIRECT_METHODS_2021, TWINS_2021
from .requirement import V2021_RELEASE, Requirement

SW = "docs/sources/service-2021-04-12.json"
INV = "docs/sources/INVENTORY-2021-04-12.md"
MODULE_TWINS = "docs/sources/iot-hub-devguide-module-twins__2020-06-29_ccf574a5.md"
BULK_PAGE = "docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md"
SAS_PAGE = "docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md"
ERRORS_PAGE = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
IDENTITY_PAGE = "docs/sources/iot-hub-devguide-identity-registry__2018-08-29_64e53cd1.md"
DEVICE_TWINS = "docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md"
METHODS_PAGE = "docs/sources/iot-hub-devguide-direct-methods__2018-07-17_1e2689b4.md"
# 401: "The authorization token cannot be validated; for example, it is expired or does not apply to the request's URI
# and/or method"; no page of 2021-04-12 says what a token lacking the permission gets.
UNAUTHORIZED = "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (401)"

PUT_DEVICE = "Devices_CreateOrUpdateIdentity"
GET_DEVICE = "Devices_GetIdentity"
LIST_DEVICES = "Devices_GetDevices"
DEVICE_STATISTICS = "Statistics_GetDeviceStatistics"
DELETE_DEVICE = "Devices_DeleteIdentity"
BULK = "BulkRegistry_UpdateRegistry"
PUT_MODULE = "Modules_CreateOrUpdateIdentity"
LIST_MODULES = "Modules_GetModulesOnDevice"
GET_MODULE = "Modules_GetIdentity"
DELETE_MODULE = "Modules_DeleteIdentity"
PURGE = "CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue"


def _r(rid: str, statement: str, source: str, operations: tuple[str, ...], profile_rule: str | None = None,
       level: str = "MUST") -> Requirement:
    return Requirement(rid, level, statement, source, operations=operations, since=V2021_RELEASE,
                       profile_rule=profile_rule)


REQUIREMENTS: list[Requirement] = [
    # -- devices ------------------------------------------------------------------------------------------------
    _r("DEVICE-CREATE-001",
       "At 2021-04-12, PUT of a new device answers a status the profile allows (both: 200) with the identity: deviceId, "
       "generationId, etag and authentication.type.",
       f"{SW} (Devices_CreateOrUpdateIdentity: 200); {INV} §2.1, §10 (C1)", (PUT_DEVICE,),
       profile_rule="device_create_statuses_2021"),
    _r("DEVICE-CREATE-002",
       "A device created without keys gets two different generated symmetric keys, authentication.type sas.",
       f"{SW} (AuthenticationMechanism); {INV} §2.1", (PUT_DEVICE,)),
    _r("DEVICE-GET-001",
       "GET of a device answers 200 with what was stored: status, statusReason, capabilities.iotEdge, generationId.",
       f"{SW} (Devices_GetIdentity, Device); {INV} §2.1", (GET_DEVICE,)),
    _r("DEVICE-GET-002",
       "GET of a device that does not exist answers 404 with the error code DeviceNotFound.",
       f"{INV} §2.1, §7.2 (404001); {ERRORS_PAGE} (404001 DeviceNotFound)", (GET_DEVICE,)),
    _r("DEVICE-UPDATE-001",
       "PUT of an existing device answers 200 with the change applied and the server's generationId kept.",
       f"{SW} (Devices_CreateOrUpdateIdentity); {INV} §2.1", (PUT_DEVICE,)),
    _r("DEVICE-ETAG-001",
       "A response that carries a device (GET, PUT) has an ETag header: the body's etag, quoted (iothub; docs-strict "
       "takes no position: the swagger declares no ETag header on device operations).",
       f"{INV} §1.2, §6, §10 (C5, C6)", (GET_DEVICE, PUT_DEVICE), profile_rule="device_etag_header_2021"),
    _r("DEVICE-ETAG-002",
       "Every successful PUT of a device gives it a new etag.",
       f"{SW} (Device.etag: weak ETag as per RFC7232); {INV} §6; RFC 7232 §2.3", (PUT_DEVICE,)),
    _r("DEVICE-COND-001",
       "PUT of a device with a stale If-Match answers 412 PreconditionFailed and changes nothing; the current ETag "
       "proceeds.",
       f"{SW} (Devices_CreateOrUpdateIdentity: its If-Match); {INV} §6 (412001); RFC 7232 §3.1", (PUT_DEVICE,)),
    _r("DEVICE-COND-002",
       "DELETE of a device with a stale If-Match answers 412 and the device remains.",
       f"{SW} (Devices_DeleteIdentity: its If-Match); {INV} §6; RFC 7232 §3.1", (DELETE_DEVICE,)),
    _r("DEVICE-DELETE-001",
       "DELETE of a device with If-Match * (bare or quoted as the profile allows), or none where the profile makes "
       "If-Match optional, answers 204 and the device then reads 404.",
       f"{SW} (Devices_DeleteIdentity: \"set If-Match to the wildcard character (*)\"); {INV} §10 (C3, C39)",
       (GET_DEVICE, DELETE_DEVICE), profile_rule="delete_requires_if_match_2021"),
    _r("DEVICE-DELETE-002",
       "Deleting a device deletes its module identities: they then read 404.",
       f"{MODULE_TWINS} (module identities live under a device identity); {INV} §2.3",
       (DELETE_DEVICE, GET_MODULE)),
    _r("DEVICE-LIST-001",
       "GET /devices answers 200 with a JSON array of device identities holding at most `top` of them.",
       f"{SW} (Devices_GetDevices: its top); {INV} §2.1, §5", ("Devices_GetDevices",)),
    # -- statistics ---------------------------------------------------------------------------------------------
    _r("STATS-DEVICES-001",
       "Device statistics have the profile's shape (both: totalDeviceCount, enabledDeviceCount, disabledDeviceCount, "
       "integers) and the total is the sum of the enabled and disabled counts.",
       f"{SW} (RegistryStatistics); {INV} §2.1, §10 (C20)", ("Statistics_GetDeviceStatistics",),
       profile_rule="stats_shape_2021"),
    _r("STATS-SERVICE-001",
       "Service statistics carry connectedDeviceCount, a non-negative integer.",
       f"{SW} (ServiceStatistics); {INV} §2.1, §10 (C20)", ("Statistics_GetServiceStatistics",)),
    # -- bulk registry ------------------------------------------------------------------------------------------
    _r("BULK-CREATE-001",
       "POST /devices with importMode create for new ids answers 200, isSuccessful true and no errors, and each "
       "device then exists with generated keys.",
       f"{SW} (BulkRegistry_UpdateRegistry, BulkRegistryOperationResult); {BULK_PAGE} (create)", (BULK,)),
    _r("BULK-UPDATE-001",
       "importMode update, and updateIfMatchETag with the device's current eTag, apply the change to each device.",
       f"{SW} (ExportImportDevice.importMode, ExportImportDevice.eTag); {BULK_PAGE} (update, updateIfMatchETag)", (BULK,)),
    _r("BULK-DELETE-001",
       "importMode delete, and deleteIfMatchETag with the current eTag, delete each device.",
       f"{SW} (ExportImportDevice.importMode); {BULK_PAGE} (delete, deleteIfMatchETag)", (BULK,)),
    _r("BULK-ETAG-001",
       "updateIfMatchETag and deleteIfMatchETag with a stale eTag answer 400, isSuccessful false, an error naming the "
       "device (PreconditionFailed or EtagDoesNotMatch), and leave the device unchanged.",
       f"{BULK_PAGE} (\"If there is an ETag mismatch, an error is written\"); {SW} (DeviceRegistryOperationError)",
       (BULK,)),
    _r("BULK-PARTIAL-001",
       "A bulk request where one item fails (create of an existing id) answers 400 with isSuccessful false and errors "
       "naming exactly that deviceId with DeviceAlreadyExists; the existing device is unchanged.",
       f"{SW} (BulkRegistry_UpdateRegistry: 400 BulkRegistryOperationResult); {BULK_PAGE} (create: \"If the device "
       f"already exists, an error is written\"); {INV} §7.2 (409001)", (BULK,)),
    _r("BULK-LIMIT-001",
       "A bulk request naming more than 100 devices, or one device twice, is refused with 400.",
       f"{SW} (BulkRegistry_UpdateRegistry: \"A device identity can be specified only once in the list … A maximum of "
       f"100 devices\"); {INV} §9", (BULK,)),
    # -- modules ------------------------------------------------------------------------------------------------
    _r("MODULE-CREATE-001",
       "PUT of a new module answers a status the profile allows (both: 200 or 201) with moduleId, deviceId, "
       "generationId, etag and the managedBy it was given.",
       f"{SW} (Modules_CreateOrUpdateIdentity: 200, 201; Module); {INV} §2.3, §10 (C2)", (PUT_MODULE,),
       profile_rule="module_create_statuses_2021"),
    _r("MODULE-CREATE-002",
       "A module created without keys gets two different generated symmetric keys.",
       f"{SW} (Module.authentication); {INV} §2.3", (PUT_MODULE,)),
    _r("MODULE-GET-001",
       "GET of a module answers 200 with what was stored (moduleId, deviceId, generationId, managedBy).",
       f"{SW} (Modules_GetIdentity); {INV} §2.3", (GET_MODULE,)),
    _r("MODULE-GET-002",
       "GET of a module that does not exist answers 404 ModuleNotFound (DeviceNotFound when its device does not "
       "exist).",
       f"{INV} §2.3, §7.2 (404010 ModuleNotFound, 404001 DeviceNotFound)", (GET_MODULE,)),
    _r("MODULE-LIST-001",
       "GET /devices/{id}/modules answers 200 with exactly the device's modules.",
       f"{SW} (Modules_GetModulesOnDevice); {INV} §2.3", ("Modules_GetModulesOnDevice",)),
    _r("MODULE-UPDATE-001",
       "PUT of an existing module answers 200 with the change applied (managedBy), a new etag, and moduleId and "
       "generationId unchanged whatever the body says.",
       f"{SW} (Modules_CreateOrUpdateIdentity: \"The moduleId and generationId cannot be updated by the user\")",
       (PUT_MODULE,)),
    _r("MODULE-COND-001",
       "PUT and DELETE of a module with a stale If-Match answer 412 and change nothing; the current etag proceeds.",
       f"{SW} (Modules_CreateOrUpdateIdentity, Modules_DeleteIdentity: their If-Match); {INV} §6; RFC 7232 §3.1",
       (PUT_MODULE, DELETE_MODULE)),
    _r("MODULE-DELETE-001",
       "DELETE of a module with If-Match * answers 204 and the module then reads 404 ModuleNotFound.",
       f"{SW} (Modules_DeleteIdentity); {INV} §2.3", (GET_MODULE, DELETE_MODULE)),
    _r("MODULE-LIMIT-001",
       "A device holds at most 50 modules: the 51st create is refused (413 TooManyModulesOnDevice) and not stored.",
       f"{MODULE_TWINS} (\"up to 50 module identities\"); {INV} §7.2 (413003), §9", (PUT_MODULE,)),
    _r("MODULE-SAS-001",
       "A module-scoped token (sr <host>/devices/<d>/modules/<m>, signed with the module's key) grants DeviceConnect "
       "only: a registry read with it is refused with 401.",
       f"{SAS_PAGE} (module-scoped tokens; RegistryRead); {INV} §1.3", (GET_MODULE,)),
    # -- cloud-to-device purge ----------------------------------------------------------------------------------
    _r("PURGE-QUEUE-001",
       "DELETE /devices/{id}/commands answers 200 with totalMessagesPurged equal to the messages that were pending "
       "and the deviceId; the device's queue is then empty.",
       f"{SW} (CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue, PurgeMessageQueueResult); {INV} §2.11", (PURGE,)),
    _r("PURGE-QUEUE-002",
       "A purge of an empty queue answers 200 with totalMessagesPurged 0 and the deviceId.",
       f"{SW} (PurgeMessageQueueResult); {INV} §2.11", (PURGE,)),
    # -- permissions --------------------------------------------------------------------------------------------
    # One per rule a source states. Not stated anywhere, so no requirement: the cloud-to-device purge, import/export
    # and scheduled jobs, service statistics (INVENTORY-2021-04-12.md §1.3, §11).
    _r("PERM-READ-001",
       "At 2021-04-12, reading identities (GET and list of devices, GET and list of a device's modules) and the "
       "registry's statistics needs RegistryRead: a token of a policy without it (service, device) is refused with "
       "401; a registryRead token is served.",
       f"{SAS_PAGE} (default policies; RegistryRead: \"Grants read access to the identity registry\"); {INV} §1.3 "
       f"(statistics of the registry: inferred there); {IDENTITY_PAGE} (identity registry operations); {UNAUTHORIZED}",
       (LIST_DEVICES, GET_DEVICE, DEVICE_STATISTICS, LIST_MODULES, GET_MODULE)),
    _r("PERM-WRITE-001",
       "At 2021-04-12, writing identities (PUT and DELETE of a device or of a module) and the bulk registry call need "
       "RegistryWrite: a token of a policy without it (registryRead, service, device) is refused with 401 and changes "
       "nothing; a registryReadWrite token is served.",
       f"{SAS_PAGE} (default policies; registryReadWrite: \"read and write access to the identity registry\"); {INV} "
       f"§1.3 (the bulk call: inferred there, an identity-registry write), §10 (C21); {IDENTITY_PAGE}; {UNAUTHORIZED}",
       (PUT_DEVICE, DELETE_DEVICE, BULK, PUT_MODULE, DELETE_MODULE)),
    _r("PERM-TWIN-001",
       "At 2021-04-12, reading, replacing and patching a device or module twin needs ServiceConnect: a token of a "
       "policy without it (registryRead, registryReadWrite, device) is refused with 401 and changes nothing; a "
       "service token is served.",
       f"{DEVICE_TWINS} (\"require the **ServiceConnect** permission\"); {MODULE_TWINS} (the same); {SAS_PAGE} "
       f"(ServiceConnect: \"access twins to update tags and desired properties, retrieve reported properties\"); "
       f"{INV} §1.3; {UNAUTHORIZED}", TWINS_2021),
    _r("PERM-QUERY-001",
       "At 2021-04-12, POST /devices/query needs ServiceConnect: a token of a policy without it (registryRead, "
       "registryReadWrite, device) is refused with 401; a service token is served.",
       f"{SAS_PAGE} (ServiceConnect: \"run queries\"); {INV} §1.3; {UNAUTHORIZED}", ("Query_GetTwins",)),
    _r("PERM-METHOD-001",
       "At 2021-04-12, invoking a direct method on a device or a module needs ServiceConnect: a token of a policy "
       "without it (registryRead, registryReadWrite, device) is refused with 401 and the method is not invoked; a "
       "service token is served.",
       f"{METHODS_PAGE} (\"Anyone with **service connect** permissions on IoT Hub may invoke a method on a device\"); "
       f"{INV} §1.3 (direct methods, device and module); {UNAUTHORIZED}", DIRECT_METHODS_2021),
]

"""The operations of the specs, grouped as the requirements name them: one tuple per spec file, in the file's order
(tests/test_specs.py checks each against its file), and the unions the requirements share."""

from __future__ import annotations

# Every operation of one spec file, in the file's order (tests/test_specs.py checks each against its file).
DEVICE_IDENTITIES = (
    "createOrUpdateDevice", "getDevice", "deleteDevice", "listDevices", "getRegistryStatistics", "getServiceStatistics",
)
DEVICE_MESSAGING = (
    "sendDeviceEvent", "receiveDeviceBoundNotification", "completeDeviceBoundNotification",
    "abandonDeviceBoundNotification",
)
IMPORT_EXPORT_JOBS = (
    "listImportExportJobs", "getImportExportJob", "cancelImportExportJob", "createImportExportJob", "importDevices",
)
SCHEDULED_JOBS = ("queryJobs", "createJob", "getJob", "cancelJob")
DEVICE_TWINS = ("getDeviceTwin", "updateDeviceTwin")
RESOURCE_PROVIDER = (
    "IotHubResource_CreateOrUpdate", "IotHubResource_Get", "IotHubResource_Delete", "IotHubResource_ListBySubscription",
    "IotHubResource_ListByResourceGroup", "IotHubResource_ListKeys", "IotHubResource_GetKeysForKeyName",
    "Docs_ListKeys", "IotHubResource_ListEventHubConsumerGroups", "IotHubResource_GetEventHubConsumerGroup",
    "IotHubResource_CreateEventHubConsumerGroup", "IotHubResource_DeleteEventHubConsumerGroup",
    "Docs_CreateConsumerGroup", "Docs_DeleteConsumerGroup", "Docs_ListConsumerGroups", "IotHubResource_GetStats",
    "IotHubResource_GetValidSkus", "IotHubResource_GetQuotaMetrics", "IotHubResource_ListJobs", "IotHubResource_GetJob",
    "IotHubResource_CheckNameAvailability", "IotHubResource_ExportDevices", "IotHubResource_ImportDevices",
)
# api-version 2021-04-12 (specs/2021-04-12/), named as in the service's swagger (docs/sources/service-2021-04-12.json).
DEVICES_2021 = (
    "Devices_GetDevices", "Devices_GetIdentity", "Devices_CreateOrUpdateIdentity", "Devices_DeleteIdentity",
    "Statistics_GetDeviceStatistics", "Statistics_GetServiceStatistics",
)
BULK_REGISTRY_2021 = ("BulkRegistry_UpdateRegistry",)
MODULES_2021 = (
    "Modules_GetModulesOnDevice", "Modules_GetIdentity", "Modules_CreateOrUpdateIdentity", "Modules_DeleteIdentity",
)
CLOUD_TO_DEVICE_2021 = (
    "CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue", "CloudToDeviceMessages_ReceiveFeedbackNotification",
    "CloudToDeviceMessages_CompleteFeedbackNotification", "CloudToDeviceMessages_AbandonFeedbackNotification",
)
TWINS_2021 = (
    "Devices_GetTwin", "Devices_ReplaceTwin", "Devices_UpdateTwin", "Modules_GetTwin", "Modules_ReplaceTwin",
    "Modules_UpdateTwin",
)
DIRECT_METHODS_2021 = ("Devices_InvokeMethod", "Modules_InvokeMethod")
QUERY_2021 = ("Query_GetTwins",)
IMPORT_EXPORT_JOBS_2021 = (
    "Jobs_CreateImportExportJob", "Jobs_GetImportExportJobs", "Jobs_GetImportExportJob", "Jobs_CancelImportExportJob",
)
SCHEDULED_JOBS_2021 = (
    "Jobs_GetScheduledJob", "Jobs_CreateScheduledJob", "Jobs_CancelScheduledJob", "Jobs_QueryScheduledJobs",
)
CONFIGURATIONS_2021 = (
    "Configuration_Get", "Configuration_CreateOrUpdate", "Configuration_Delete", "Configuration_GetConfigurations",
    "Configuration_TestQueries", "Configuration_ApplyOnEdgeDevice",
)
DIGITAL_TWINS_2021 = (
    "DigitalTwin_GetDigitalTwin", "DigitalTwin_UpdateDigitalTwin", "DigitalTwin_InvokeRootLevelCommand",
    "DigitalTwin_InvokeComponentCommand",
)
SERVICE_2021 = (DEVICES_2021 + BULK_REGISTRY_2021 + MODULES_2021 + CLOUD_TO_DEVICE_2021 + TWINS_2021
                + DIRECT_METHODS_2021 + QUERY_2021 + IMPORT_EXPORT_JOBS_2021 + SCHEDULED_JOBS_2021
                + CONFIGURATIONS_2021 + DIGITAL_TWINS_2021)
# The device-facing operations of 2021-04-12, which the service swagger leaves out: named after the pages of the
# REST reference's Device group (docs/sources/rest-reference-device-group__learn-summary.md) and, for the Edge
# device-scope calls, after docs/sources/INVENTORY-2021-04-12.md §4.3.
DEVICE_MESSAGING_2021 = (
    "Device_SendDeviceEvent", "Device_ReceiveDeviceBoundNotification", "Device_CompleteDeviceBoundNotification",
    "Device_AbandonDeviceBoundNotification",
)
FILE_UPLOAD_2021 = ("Device_CreateFileUploadSasUri", "Device_UpdateFileUploadStatus",
                    "Device_UpdateFileUploadStatusOfCorrelationId")
DEVICE_SCOPE_2021 = (
    "Device_GetDevicesAndModulesInScope", "Device_GetDeviceAndModuleInScope", "Device_GetDevicesAndModulesInTargetScope",
)
DEVICE_2021 = DEVICE_MESSAGING_2021 + FILE_UPLOAD_2021 + DEVICE_SCOPE_2021
DATA_PLANE_2016 = DEVICE_IDENTITIES + DEVICE_MESSAGING + IMPORT_EXPORT_JOBS
DATA_PLANE = DATA_PLANE_2016 + SCHEDULED_JOBS + DEVICE_TWINS + SERVICE_2021 + DEVICE_2021
# The operations a service SAS token (a hub-level policy) authorizes; messaging takes device tokens (MSG-AUTH-*).
SERVICE_SAS = DEVICE_IDENTITIES + IMPORT_EXPORT_JOBS + SCHEDULED_JOBS + DEVICE_TWINS + SERVICE_2021

"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
import/export jobs (IEJOB-) and scheduled jobs (SJOB-)."""

from __future__ import annotations

from .requirement import V2021_RELEASE, Requirement

SW = "docs/sources/service-2021-04-12.json"
BULK = "docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md"
JOBS_PAGE = "docs/sources/iot-hub-devguide-jobs__2019-05-06_6190472e.md"
INV = "docs/sources/INVENTORY-2021-04-12.md"
QUERY_PAGE = "docs/sources/iot-hub-devguide-query-language__2018-02-26_abdce6fa.md"

CREATE, LIST, GET, CANCEL = ("Jobs_CreateImportExportJob", "Jobs_GetImportExportJobs", "Jobs_GetImportExportJob",
                             "Jobs_CancelImportExportJob")
V2_GET, V2_CREATE, V2_CANCEL, V2_QUERY = ("Jobs_GetScheduledJob", "Jobs_CreateScheduledJob", "Jobs_CancelScheduledJob",
                                          "Jobs_QueryScheduledJobs")

REQUIREMENTS: list[Requirement] = [
    # -- import/export jobs ---------------------------------------------------------------------------------------
    Requirement("IEJOB-CREATE-001", "MUST",
                "POST /jobs/create answers 200 with the new JobProperties: a jobId, the type asked for, a status of "
                "the swagger's JobStatus, and the inputBlobName and outputBlobName given.",
                f"{SW} (Jobs_CreateImportExportJob, JobProperties); {INV} §2.9",
                operations=(CREATE,), since=V2021_RELEASE),
    Requirement("IEJOB-GET-001", "MUST",
                "GET /jobs/{id} answers 200 with the job; its status only moves forward through the swagger's "
                "JobStatus values to completed, failed or cancelled, and a completed job has progress 100 and ISO 8601 "
                "startTimeUtc and endTimeUtc, the end not before the start.",
                f"{SW} (Jobs_GetImportExportJob, JobProperties.status, JobProperties.progress, "
                "JobProperties.startTimeUtc, JobProperties.endTimeUtc); {BULK} "
                "(poll until Completed, Failed or Cancelled)",
                operations=(GET,), since=V2021_RELEASE),
    Requirement("IEJOB-GET-002", "MUST",
                "GET /jobs/{id} of a job that does not exist answers 404 (iothub: JobNotFound).",
                f"{INV} §2.9 (404 JobNotFound, 404002), §7",
                operations=(GET,), since=V2021_RELEASE),
    Requirement("IEJOB-LIST-001", "MUST",
                "GET /jobs answers 200 with a JSON array of JobProperties that holds the run's job.",
                f"{SW} (Jobs_GetImportExportJobs)",
                operations=(LIST,), since=V2021_RELEASE),
    Requirement("IEJOB-CANCEL-001", "MUST",
                "DELETE /jobs/{id} of a job that has not finished answers as the profile says (200 or 204) and the job "
                "ends cancelled, having changed nothing.",
                f"{SW} (Jobs_CancelImportExportJob: 200 or 204; JobStatus cancelled); {INV} §10 (C29)",
                operations=(CANCEL,), profile_rule="import_export_cancel_statuses", since=V2021_RELEASE),
    Requirement("IEJOB-CANCEL-002", "MUST",
                "DELETE /jobs/{id} of a job that does not exist answers 404 (iothub: JobNotFound).",
                f"{INV} §2.9, §7 (404002 JobNotFound)",
                operations=(CANCEL,), since=V2021_RELEASE),
    Requirement("IEJOB-EXPORT-001", "MUST",
                "A completed export writes the blob named outputBlobName in the output container: one JSON "
                "ExportImportDevice per line (id, eTag, status, authentication), every device of the run among them.",
                f"{BULK} (Export devices: one device per line); {SW} (JobProperties.outputBlobName, "
                "ExportImportDevice)",
                operations=(CREATE,), since=V2021_RELEASE),
    Requirement("IEJOB-EXPORT-002", "MUST",
                "An export with excludeKeysInExport true writes null keys; with false, or without it (the service "
                "defaults to false), it writes the devices' keys.",
                f"{SW} (JobProperties.excludeKeysInExport: If not specified, the service defaults to false)",
                operations=(CREATE,), since=V2021_RELEASE),
    Requirement("IEJOB-TWIN-001", "MUST",
                "A device imported with twin data (tags, properties.desired) has that twin: a later export writes its "
                "twinETag, those tags and those desired properties on the device's line.",
                f"{BULK} (twin data from the twinETag line on; the import format is the export's); {SW} "
                "(ExportImportDevice.twinETag, ExportImportDevice.tags, ExportImportDevice.properties)",
                operations=(CREATE,), since=V2021_RELEASE),
    Requirement("IEJOB-IMPORT-001", "MUST",
                "A completed import reads the blob named inputBlobName and creates, updates and deletes exactly the "
                "devices its lines list (importMode create, update, delete), and no other.",
                f"{BULK} (Import devices, importMode); {SW} (JobProperties.inputBlobName)",
                operations=(CREATE,), since=V2021_RELEASE),
    Requirement("IEJOB-IMPORT-002", "MUST",
                "An import line with importMode createOrUpdate, or with no importMode, creates a missing device and "
                "overwrites an existing one whatever its ETag (profile rule; docs-strict takes no position).",
                f"{BULK} (createOrUpdate; \"it defaults to createOrUpdate\"); {INV} §10 (C19)",
                operations=(CREATE,), profile_rule="import_create_or_update", since=V2021_RELEASE),
    Requirement("IEJOB-IMPORT-003", "MUST",
                "importMode updateTwin replaces an existing device's twin data with the line's; updateTwinIfMatchETag "
                "does so only when the line's twinETag matches the twin, and leaves it as it was otherwise.",
                f"{SW} (ExportImportDevice.importMode, ExportImportDevice.twinETag): the modes updateTwin, "
                f"updateTwinIfMatchETag; {BULK} (a twin etag mismatch is an error in the log, not a change)",
                operations=(CREATE,), since=V2021_RELEASE),
    Requirement("IEJOB-IDENTITY-001", "MUST",
                "A job with storageAuthenticationType identityBased naming a managed identity the hub does not have "
                "ends failed, with a failureReason.",
                "docs/sources/iot-hub-managed-identity__2023-05-11_464821f6.md (If the IoT hub is not configured with "
                f"the user-assigned managed identity specified in userAssignedIdentity, the job will fail); {SW} "
                "(JobProperties.storageAuthenticationType, JobProperties.identity, JobProperties.failureReason)",
                operations=(CREATE, GET), since=V2021_RELEASE),
    Requirement("IEJOB-CONFIG-001", "MUST",
                "An export with includeConfigurations true also writes the blob named configurationsBlobName in the "
                "output container, beside the devices' blob.",
                f"{SW} (JobProperties.includeConfigurations: If true, then configurations are included in the data "
                "export/import; configurationsBlobName: the name of the blob to use when exporting/importing "
                "configurations)",
                operations=(CREATE,), since=V2021_RELEASE),
    Requirement("IEJOB-QUOTA-001", "MUST",
                "While an import/export job has not finished, starting another is refused with 403 (iothub: "
                "JobQuotaExceeded).",
                "docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md (the max concurrent device "
                f"import/export jobs is 1 for all tiers); {INV} §2.9 (403: JobQuotaExceededException), §7 (403003)",
                operations=(CREATE,), since=V2021_RELEASE),
    # -- scheduled jobs (jobs v2) ---------------------------------------------------------------------------------
    Requirement("SJOB-CREATE-001", "MUST",
                "PUT /jobs/v2/{id} answers 200 with the JobResponse: the jobId, type and queryCondition given, a "
                "createdTime, the startTime and maxExecutionTimeInSeconds asked for, and a status.",
                f"{SW} (Jobs_CreateScheduledJob, JobRequest, JobResponse); {JOBS_PAGE} (Jobs to update device twin "
                "properties)",
                operations=(V2_CREATE,), since=V2021_RELEASE),
    Requirement("SJOB-GET-001", "MUST",
                "GET /jobs/v2/{id} answers 200 with the job; a finished job has an endTime and deviceJobStatistics "
                "whose deviceCount is the number of devices its queryCondition selected.",
                f"{SW} (Jobs_GetScheduledJob, JobResponse.deviceJobStatistics); {JOBS_PAGE} (Jobs Properties)",
                operations=(V2_GET,), since=V2021_RELEASE),
    Requirement("SJOB-GET-002", "MUST",
                "GET /jobs/v2/{id}, and POST /jobs/v2/{id}/cancel, of a job that does not exist answer 404.",
                f"{INV} §7 (404002 JobNotFound)",
                operations=(V2_GET, V2_CANCEL), since=V2021_RELEASE),
    Requirement("SJOB-STATUS-001", "MUST",
                "Every status a scheduled job shows is one of the profile's names (iothub: the swagger's; docs-strict: "
                "the jobs page's), and a cancelled job shows the profile's name for cancelled.",
                f"{SW} (JobResponse.status); {JOBS_PAGE} (Jobs Properties: status); {INV} §10 (C18)",
                operations=(V2_CREATE, V2_GET, V2_CANCEL), profile_rule="scheduled_job_statuses",
                since=V2021_RELEASE),
    Requirement("SJOB-TWIN-001", "MUST",
                "A scheduleUpdateTwin job whose updateTwin carries etag \"*\" sets its tags and desired properties "
                "on exactly the twins its queryCondition selects.",
                f"{JOBS_PAGE} (Jobs to update device twin properties: etag \"*\"; queryCondition deviceId IN [...]); "
                f"{SW} (JobRequest.updateTwin, JobRequest.queryCondition)",
                operations=(V2_CREATE,), since=V2021_RELEASE),
    Requirement("SJOB-TWIN-003", "MUST",
                "A scheduleUpdateTwin job whose queryCondition is a query-language condition on the twins' tags is "
                "accepted and updates exactly the twins that meet it.",
                f"{JOBS_PAGE} (JobRequest \"queryCondition\": \"<queryOrDevices>\"; IoT Hub Query Language covers "
                f"IoT Hub query language in additional detail); {QUERY_PAGE} (WHERE <filter_condition> over FROM "
                "devices; twins filtered on tags, e.g. tags.location.region = 'US')",
                operations=(V2_CREATE,), since=V2021_RELEASE),
    Requirement("SJOB-TWIN-002", "MUST",
                "A scheduleUpdateTwin job whose updateTwin has no etag is accepted and runs as one with \"*\" "
                "(profile rule; docs-strict takes no position).",
                f"{SW} (JobRequest.updateTwin: a Twin, etag optional); {INV} §10 (C38)",
                operations=(V2_CREATE,), profile_rule="twin_job_etag_optional", since=V2021_RELEASE),
    Requirement("SJOB-SCHEDULE-001", "MUST",
                "A job whose startTime lies ahead does not run before it (its twins stay as they were), and runs "
                "after.",
                f"{SW} (JobRequest.startTime); {JOBS_PAGE} (Jobs execute … at a scheduled time; status scheduled)",
                operations=(V2_CREATE,), since=V2021_RELEASE),
    Requirement("SJOB-CANCEL-001", "MUST",
                "POST /jobs/v2/{id}/cancel of a job that has not run answers 200 with the job, which ends cancelled "
                "and changes nothing.",
                f"{SW} (Jobs_CancelScheduledJob → JobResponse); {JOBS_PAGE} (status canceled)",
                operations=(V2_CANCEL,), since=V2021_RELEASE),
    Requirement("SJOB-METHOD-001", "MUST",
                "A scheduleDeviceMethod job ends with deviceJobStatistics that count every selected device; a device "
                "that is not online counts as failed.",
                f"{SW} (DeviceJobStatistics); {JOBS_PAGE} (Jobs to execute direct methods); {INV} §7 (404103 "
                "DeviceNotOnline)",
                operations=(V2_CREATE,), since=V2021_RELEASE),
    Requirement("SJOB-METHOD-002", "MUST",
                "A device that answers the job's direct method counts as succeeded.",
                f"{SW} (CloudToDeviceMethod, DeviceJobStatistics.succeededCount)",
                operations=(V2_CREATE,), since=V2021_RELEASE),
    Requirement("SJOB-QUERY-001", "MUST",
                "GET /jobs/v2/query?jobType=…&jobStatus=… answers 200 with a QueryResult whose items are only jobs of "
                "that type and status, the run's matching job among them.",
                f"{SW} (Jobs_QueryScheduledJobs, QueryResult); {JOBS_PAGE} (Querying for progress on jobs)",
                operations=(V2_QUERY,), since=V2021_RELEASE),
    Requirement("SJOB-QUERY-002", "MUST",
                "GET /jobs/v2/query pages as the profile says (iothub: x-ms-max-item-count and x-ms-continuation "
                "headers; docs-strict: pageSize and continuationToken): no page holds more items than asked, and the "
                "body's continuationToken leads through every job once.",
                f"{JOBS_PAGE} (pageSize, continuationToken); docs/sources/SDKS.md (Node: x-ms-continuation, "
                f"x-ms-max-item-count); {SW} (QueryResult.continuationToken); {INV} §5, §10 (C17)",
                operations=(V2_QUERY,), profile_rule="job_query_paging", since=V2021_RELEASE),
]

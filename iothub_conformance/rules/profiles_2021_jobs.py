"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
import/export and scheduled jobs.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   import_export_cancel_statuses  statuses accepted for DELETE /jobs/{id} of an import/export job at 2021-04-12
#   import_create_or_update        True: an import line with importMode createOrUpdate, or none, creates a missing
#                                  device and overwrites an existing one; None: no position (the swagger's enum lacks
#                                  the mode while the bulk page makes it the default)
#   scheduled_job_statuses         the status names a scheduled job (jobs v2) may show, and which of them means
#                                  cancelled: {"names": frozenset, "cancelled": str}
#   twin_job_etag_optional         True: a scheduleUpdateTwin job whose updateTwin has no etag runs as one with "*";
#                                  None: no position
#   job_query_paging               how GET /jobs/v2/query is paged: "headers" (request x-ms-max-item-count and
#                                  x-ms-continuation) or "query" (pageSize and continuationToken parameters); the
#                                  next page's token is the body's continuationToken either way

SWAGGER_JOB_STATUSES = frozenset({"unknown", "enqueued", "running", "completed", "failed", "cancelled", "scheduled",
                                  "queued"})
PAGE_JOB_STATUSES = frozenset({"pending", "scheduled", "running", "canceled", "failed", "completed"})

IOTHUB: dict[str, Rule] = {
    "import_export_cancel_statuses": Rule(
        frozenset({200, 204}), "docs/sources/service-2021-04-12.json (Jobs_CancelImportExportJob: 200 or 204); "
                               "docs/sources/SDKS.md (the Python SDK accepts both); docs/sources/INVENTORY-2021-04-12.md "
                               "§10 (C29)"),
    "import_create_or_update": Rule(
        True, "docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md (importMode createOrUpdate, the default); "
              "docs/sources/INVENTORY-2021-04-12.md §10 (C19: the .NET SDK's ImportMode has it)",
        deviation="import lines take importMode createOrUpdate, the default when none is given (bulk page, .NET SDK); "
        "the swagger's ExportImportDevice enum leaves it out"),
    "scheduled_job_statuses": Rule(
        {"names": SWAGGER_JOB_STATUSES, "cancelled": "cancelled"},
        "docs/sources/service-2021-04-12.json (JobResponse.status); docs/sources/INVENTORY-2021-04-12.md §10 (C18); "
        "docs/sources/iot-hub-devguide-jobs__2019-05-06_6190472e.md (the sample answer reads \"queued\")",
        deviation="scheduled jobs show the swagger's statuses (queued, cancelled, …), not the jobs page's (pending, "
        "canceled)"),
    "twin_job_etag_optional": Rule(
        True, "docs/sources/service-2021-04-12.json (JobRequest.updateTwin is a Twin, whose etag is optional); "
              "docs/sources/INVENTORY-2021-04-12.md §10 (C38)",
        deviation="a twin-update job without updateTwin.etag is accepted (swagger); the jobs page says it requires a "
        "valid etag match"),
    "job_query_paging": Rule(
        "headers", "docs/sources/SDKS.md (Node azure-iothub pages /jobs/v2/query with x-ms-continuation and "
                   "x-ms-max-item-count); docs/sources/INVENTORY-2021-04-12.md §5, §10 (C17)",
        deviation="the jobs query is paged with the x-ms-max-item-count and x-ms-continuation request headers (Node "
        "SDK), not the jobs page's pageSize and continuationToken parameters"),
}
DOCS_STRICT: dict[str, Rule] = {
    "import_export_cancel_statuses": Rule(
        frozenset({200, 204}), "docs/sources/service-2021-04-12.json (Jobs_CancelImportExportJob: 200 or 204)"),
    "import_create_or_update": Rule(
        None, "docs/sources/INVENTORY-2021-04-12.md §10 (C19): the swagger's ExportImportDevice.importMode enum has no "
              "createOrUpdate, while docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md makes it the "
              "default"),
    "scheduled_job_statuses": Rule(
        {"names": PAGE_JOB_STATUSES, "cancelled": "canceled"},
        "docs/sources/iot-hub-devguide-jobs__2019-05-06_6190472e.md (Jobs Properties: status pending, scheduled, "
        "running, canceled, failed, completed)"),
    "twin_job_etag_optional": Rule(
        None, "docs/sources/iot-hub-devguide-jobs__2019-05-06_6190472e.md (\"The updateTwin property requires a valid "
              "etag match\"; it says nothing of a job without one)"),
    "job_query_paging": Rule(
        "query", "docs/sources/iot-hub-devguide-jobs__2019-05-06_6190472e.md (GET /jobs/v2/query …[&pageSize=…]"
                 "[&continuationToken=…]; \"The continuationToken is provided from the response\")"),
}

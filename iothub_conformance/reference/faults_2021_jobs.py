"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): import/export and scheduled jobs.

Each acts on the jobs made at 2021-04-12 only, so the 2016 jobs keep their behaviour and their own switches."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = (
    # -- import/export jobs (import_export_2021.py, routes_2021_jobs.py) -------------------------------------------
    Fault("ie21-create-drops-blob-names", "a new 2021 job answers with inputBlobName and outputBlobName null",
          breaks=("IEJOB-CREATE-001",)),
    Fault("ie21-status-done", "a completed 2021 job's status reads \"done\"", breaks=("IEJOB-GET-001",)),
    Fault("ie21-unknown-job-returns-200", "GET /jobs/{id} at 2021 of an unknown job answers 200 with {}",
          breaks=("IEJOB-GET-002",)),
    Fault("ie21-list-omits-finished", "GET /jobs at 2021 leaves out finished jobs", breaks=("IEJOB-LIST-001",)),
    Fault("ie21-cancel-ignored", "a cancelled 2021 job still runs", breaks=("IEJOB-CANCEL-001",)),
    Fault("ie21-cancel-unknown-returns-204", "DELETE /jobs/{id} at 2021 of an unknown job answers 204",
          breaks=("IEJOB-CANCEL-002",)),
    Fault("ie21-export-skips-last-device", "a 2021 export leaves out the last device", breaks=("IEJOB-EXPORT-001",),
          collateral=because("errors: their tests read twins back through an export, which lacks the last device",
                             "IEJOB-IMPORT-003", "IEJOB-TWIN-001")),
    Fault("ie21-export-keys-default-excluded", "a 2021 export without excludeKeysInExport writes null keys",
          breaks=("IEJOB-EXPORT-002",)),
    Fault("ie21-export-without-twin", "a 2021 export writes no twin data (twinETag, tags, properties)",
          breaks=("IEJOB-TWIN-001",),
          collateral=(("IEJOB-IMPORT-003", "errors: the export that shows the twin has no twin data on the line"),)),
    Fault("ie21-import-skips-updates", "a 2021 import leaves out its importMode update lines",
          breaks=("IEJOB-IMPORT-001",)),
    Fault("ie21-no-create-or-update", "a 2021 import refuses importMode createOrUpdate and lines without one",
          breaks=("IEJOB-IMPORT-002",)),
    Fault("ie21-twin-etag-ignored", "a 2021 import's updateTwinIfMatchETag applies whatever the twinETag",
          breaks=("IEJOB-IMPORT-003",)),
    Fault("ie21-identity-ignored", "a 2021 identityBased job runs as keyBased, with the hub's missing identity",
          breaks=("IEJOB-IDENTITY-001",)),
    Fault("ie21-no-configurations-blob", "a 2021 export with includeConfigurations writes no configurations blob",
          breaks=("IEJOB-CONFIG-001",)),
    Fault("ie21-no-job-quota", "a 2021 import/export job starts while another has not finished",
          breaks=("IEJOB-QUOTA-001",)),
    # -- scheduled jobs (scheduled_jobs_2021.py, routes_2021_jobs.py) -----------------------------------------------
    Fault("sj21-create-drops-query-condition", "a new 2021 scheduled job answers with queryCondition null",
          breaks=("SJOB-CREATE-001",)),
    Fault("sj21-no-end-time", "a finished 2021 scheduled job has no endTime", breaks=("SJOB-GET-001",)),
    Fault("sj21-unknown-job-returns-200", "GET /jobs/v2/{id} at 2021 of an unknown job answers 200 with {}",
          breaks=("SJOB-GET-002",)),
    Fault("sj21-queued-reads-pending", "a queued 2021 scheduled job shows \"pending\" under every profile",
          breaks=("SJOB-STATUS-001",)),
    Fault("sj21-twin-job-ignores-condition", "a 2021 twin-update job updates every twin of the hub",
          breaks=("SJOB-TWIN-001",),
          collateral=(("SJOB-TWIN-003", "the job updated the device whose twin lacks the tag its queryCondition "
                                        "asks for"),)),
    Fault("sj21-condition-sees-only-device-ids",
          "a 2021 job's queryCondition is matched against each device's id alone, as if its twin had no tags or "
          "properties", breaks=("SJOB-TWIN-003",)),
    Fault("sj21-twin-job-requires-etag", "a 2021 twin-update job without updateTwin.etag is refused with 400",
          breaks=("SJOB-TWIN-002",)),
    Fault("sj21-start-time-ignored", "a 2021 scheduled job runs at once, whatever its startTime",
          breaks=("SJOB-SCHEDULE-001",),
          collateral=(("SJOB-CANCEL-001", "the job it cancels before its start time has already run: it reads "
                                          "'completed', expected 'cancelled'"),)),
    Fault("sj21-cancel-ignored", "a cancelled 2021 scheduled job still runs", breaks=("SJOB-CANCEL-001",)),
    Fault("sj21-method-offline-succeeds", "a device that is not online counts as succeeded in a 2021 method job",
          breaks=("SJOB-METHOD-001",),
          collateral=(("SJOB-METHOD-002", "its job has one device online and one not: the offline one counts as "
                                          "succeeded too"),)),
    Fault("sj21-method-answer-fails", "a device that answers a 2021 method job counts as failed",
          breaks=("SJOB-METHOD-002",)),
    Fault("sj21-query-ignores-filters", "GET /jobs/v2/query at 2021 ignores jobType and jobStatus",
          breaks=("SJOB-QUERY-001",)),
    Fault("sj21-query-ignores-page-size", "GET /jobs/v2/query at 2021 answers every job in one page",
          breaks=("SJOB-QUERY-002",)),
)

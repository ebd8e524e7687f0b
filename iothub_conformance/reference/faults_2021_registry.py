"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): devices, bulk registry, modules,
statistics, the cloud-to-device purge, and the permissions registry operations need. Each touches the 2021-04-12
handlers only: the 2016-02-03 answers stay."""

from __future__ import annotations

from .fault_types import Fault, because

TABLE: tuple[Fault, ...] = (
    # -- devices ------------------------------------------------------------------------------------------------
    Fault("device-2021-create-returns-201", "a 2021-04-12 device create answers 201 instead of 200",
          breaks=("DEVICE-CREATE-001",)),
    Fault("device-2021-no-generated-keys", "a 2021-04-12 device created without keys gets none",
          breaks=("DEVICE-CREATE-002",),
          collateral=(("BULK-CREATE-001", "a device the bulk call creates gets no keys either"),
                      *because("error: the device an export is compared with was created without keys",
                               "IEJOB-EXPORT-001", "IEJOB-EXPORT-002"),
                      *because("errors: the run's devices have no key to sign with", "DEVAUTH-DEVICE-001",
                               "DEVAUTH-POLICY-001", "DEVAUTH-OTHER-001", "DEVAUTH-POLICY-002", "DEVAUTH-EXPIRED-001",
                               "DEVAUTH-MODULE-001", "DEVAUTH-SERVICE-001"),
                      *because("errors: the 2021-04-12 device-side tests' devices have no key to sign with",
                       "C2D-ABANDON-001", "C2D-COMPLETE-001", "C2D-DELIVERY-001", "C2D-IFMATCH-001", "C2D-LOCK-001",
                       "C2D-LOCK-002", "C2D-LOCKHINT-001", "C2D-PATH-001", "C2D-RECV-001", "C2D-RECV-002", "C2D-RECV-003",
                       "C2D-REJECT-001", "D2C-BATCH-001", "D2C-BATCH-002", "D2C-LIMIT-001", "D2C-PROPS-001",
                       "D2C-PROPS-002", "D2C-SEND-001", "FEEDBACK-ABANDON-001", "FEEDBACK-ACK-001", "FEEDBACK-AUTH-001",
                       "FEEDBACK-BATCH-001", "FEEDBACK-COMPLETE-001", "FEEDBACK-DELETE-001", "FEEDBACK-LOCK-001",
                       "FEEDBACK-RECORD-001", "FEEDBACK-RECV-002", "FEEDBACK-STATUS-001", "FILE-AUTH-001",
                       "FILE-LIMIT-001", "FILE-NOTICE-001", "FILE-NOTIFY-001", "FILE-NOTIFY-002", "FILE-NOTIFY-003",
                       "FILE-NOTIFY-004", "FILE-SAS-001", "FILE-SAS-002", "FILE-SAS-003", "FILE-TTL-001", "SCOPE-AUTH-001"),
                      *because("errors: the device the generated device-side requests are signed for has no key",
                               "COMMON-REQID-001", "COMMON-REQID-002", "COMMON-SPEC-001"))),
    Fault("device-2021-drops-capabilities", "a 2021-04-12 device GET answers capabilities.iotEdge false whatever was "
                                            "stored", breaks=("DEVICE-GET-001",)),
    Fault("device-2021-missing-code", "a 2021-04-12 GET of a missing device answers 404 with the code NotFound",
          breaks=("DEVICE-GET-002",),
          collateral=(("MODULE-GET-002", "a GET of a module of a missing device answers NotFound too"),)),
    Fault("device-2021-update-new-generation-id", "a 2021-04-12 device update gives the device a new generationId",
          breaks=("DEVICE-UPDATE-001",)),
    Fault("device-2021-no-etag-header", "2021-04-12 device responses carry no ETag header",
          breaks=("DEVICE-ETAG-001",)),
    Fault("device-2021-etag-unchanged-on-write", "a 2021-04-12 device update keeps the old etag",
          breaks=("DEVICE-ETAG-002",)),
    Fault("device-2021-ignore-if-match", "2021-04-12 device PUT and DELETE ignore If-Match",
          breaks=("DEVICE-COND-001", "DEVICE-COND-002")),
    Fault("device-2021-delete-needs-if-match", "a 2021-04-12 device DELETE without If-Match answers 428",
          breaks=("DEVICE-DELETE-001",)),
    Fault("device-2021-delete-keeps-modules", "deleting a device leaves its modules readable",
          breaks=("DEVICE-DELETE-002",)),
    Fault("device-2021-list-ignores-top", "a 2021-04-12 device list answers every device whatever top says",
          breaks=("DEVICE-LIST-001",)),
    # -- statistics ---------------------------------------------------------------------------------------------
    Fault("stats-2021-old-shape", "2021-04-12 device statistics answer the 2016 shape (totalDevicesByStatus)",
          breaks=("STATS-DEVICES-001",)),
    Fault("stats-2021-service-old-shape", "2021-04-12 service statistics answer totalConnectedDevices",
          breaks=("STATS-SERVICE-001",)),
    # -- bulk registry ------------------------------------------------------------------------------------------
    Fault("bulk-create-not-stored", "a bulk create answers success but stores nothing", breaks=("BULK-CREATE-001",),
          collateral=(("PERM-WRITE-001", "error: the bulk create a registryReadWrite token makes stores nothing, so "
                                         "the refused ones show nothing"),)),
    Fault("bulk-update-not-applied", "bulk updates answer success but change nothing", breaks=("BULK-UPDATE-001",)),
    Fault("bulk-delete-not-applied", "bulk deletes answer success but delete nothing", breaks=("BULK-DELETE-001",)),
    Fault("bulk-ignores-etag", "updateIfMatchETag and deleteIfMatchETag ignore the eTag", breaks=("BULK-ETAG-001",)),
    Fault("bulk-partial-reports-success", "a bulk request with failed items answers 200, isSuccessful true",
          breaks=("BULK-PARTIAL-001",),
          collateral=(("BULK-ETAG-001", "the stale-eTag item fails but the answer is 200, isSuccessful true"),)),
    Fault("bulk-no-limit", "a bulk request may name more than 100 devices, and a device twice",
          breaks=("BULK-LIMIT-001",)),
    # -- modules ------------------------------------------------------------------------------------------------
    Fault("module-drops-managed-by", "a module create stores no managedBy", breaks=("MODULE-CREATE-001",),
          collateral=(("MODULE-GET-001", "the module reads back managedBy null, not what it was created with"),
                      ("MODULE-COND-001", "the module the refused writes must leave unchanged was created without "
                                          "its managedBy"))),
    Fault("module-no-generated-keys", "a module created without keys gets none", breaks=("MODULE-CREATE-002",),
          collateral=(("MODULE-SAS-001", "error: the module has no key to sign a module-scoped token with"),
                      ("DEVAUTH-MODULE-001", "errors: the module has no key to sign its token with"),
                      *because("errors: the $edgeHub module has no key to sign the device-scope calls with",
                       "SCOPE-AUTH-001", "SCOPE-AUTH-002", "SCOPE-IDENTITY-001", "SCOPE-LIST-001", "SCOPE-ONE-001",
                       "SCOPE-PAGE-001", "SCOPE-TARGET-001", "SCOPE-VERSION-001",
                       "COMMON-REQID-001", "COMMON-REQID-002", "COMMON-SPEC-001"))),
    Fault("module-get-new-generation-id", "a module GET answers a generationId other than the stored one",
          breaks=("MODULE-GET-001",),
          collateral=(("MODULE-UPDATE-001", "the updated module read back with GET shows another generationId"),)),
    Fault("module-missing-device-code", "a missing module answers 404 DeviceNotFound instead of ModuleNotFound",
          breaks=("MODULE-GET-002",),
          collateral=(("MODULE-DELETE-001", "the deleted module reads 404 DeviceNotFound, not ModuleNotFound"),)),
    Fault("module-list-empty", "a device's module list is always empty", breaks=("MODULE-LIST-001",)),
    Fault("module-update-new-generation-id", "a module update gives the module a new generationId (not the body's)",
          breaks=("MODULE-UPDATE-001",)),
    Fault("module-ignore-if-match", "module PUT and DELETE ignore If-Match", breaks=("MODULE-COND-001",)),
    Fault("module-delete-keeps", "a module DELETE answers 204 but the module stays", breaks=("MODULE-DELETE-001",),
          collateral=(("MTWIN-LIFE-001", "the module deleted and made again is the old one, with its old twin"),
                      ("PERM-WRITE-001", "error: the module a registryReadWrite token deletes stays, so the refused "
                                         "deletes show nothing"))),
    Fault("module-no-limit", "a device may hold more than 50 modules", breaks=("MODULE-LIMIT-001",)),
    Fault("module-token-reads-registry", "a module-scoped token is admitted for registry reads",
          breaks=("MODULE-SAS-001",)),
    # -- cloud-to-device purge ----------------------------------------------------------------------------------
    Fault("purge-keeps-messages", "a purge answers totalMessagesPurged 0 and leaves the queue as it was",
          breaks=("PURGE-QUEUE-001",)),
    Fault("purge-omits-device-id", "a purge answers without deviceId", breaks=("PURGE-QUEUE-002",),
          collateral=(("PURGE-QUEUE-001", "the purge result names no deviceId"),)),
    # -- permissions (reference/permissions_2021.py) -------------------------------------------------------------
    Fault("perm-2021-service-token-reads-modules", "a ServiceConnect token (policy service) may list and read a device's "
                                                   "modules at 2021-04-12", breaks=("PERM-READ-001",)),
    Fault("perm-2021-read-token-writes-modules", "a RegistryRead token (policy registryRead) may create, update and "
                                                 "delete modules and make the bulk registry call at 2021-04-12",
          breaks=("PERM-WRITE-001",)),
    Fault("perm-2021-registry-token-serves-twins", "a RegistryRead token (policy registryRead) may read, patch and "
                                                   "replace device and module twins at 2021-04-12",
          breaks=("PERM-TWIN-001",)),
    Fault("perm-2021-registry-token-queries", "a RegistryRead token (policy registryRead) may query at 2021-04-12",
          breaks=("PERM-QUERY-001",)),
    Fault("perm-2021-registry-token-invokes-methods", "a RegistryRead token (policy registryRead) may invoke direct "
                                                      "methods at 2021-04-12", breaks=("PERM-METHOD-001",)),
)

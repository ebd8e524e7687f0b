"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): device and module twins, direct
methods and query."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = (
    # -- device twins (twin_documents.py, routes_2021_twins.py) ----------------------------------------------------
    Fault("twin-version-missing", "a 2021 device twin carries no version", breaks=("DTWIN-GET-001",),
          collateral=(("DTWIN-VERSION-001", "the twin has no version to compare: GET /twins/… → 200 without it"),)),
    Fault("twin-unknown-device-200", "a twin of an unregistered device answers 200 with an empty twin",
          breaks=("DTWIN-GET-002",)),
    Fault("twin-identity-missing", "a 2021 device twin carries none of its identity's properties",
          breaks=("DTWIN-ID-001",),
          collateral=(("QUERY-WHERE-001", "WHERE status = 'disabled' selects nothing: the twins carry no status"),)),
    Fault("no-twin-metadata", "a 2021 device twin's property sections carry no $metadata", breaks=("DTWIN-META-001",)),
    Fault("twin-patch-null-kept", "a 2021 twin PATCH stores a null instead of removing its key",
          breaks=("DTWIN-PATCH-001",)),
    Fault("twin-replace-merges", "a 2021 twin PUT merges like a PATCH instead of replacing", breaks=("DTWIN-PUT-001",),
          collateral=(("MTWIN-PATCH-001", "the module twin's PUT kept a tag its body leaves out"),)),
    Fault("twin-service-writes-reported", "a 2021 twin PATCH or PUT writes the reported properties it names",
          breaks=("DTWIN-REPORTED-001",)),
    Fault("twin-version-frozen", "a 2021 device twin write keeps the twin's version and the desired $version",
          breaks=("DTWIN-VERSION-001",)),
    Fault("twin-etag-unchanged", "a 2021 device twin write keeps the twin's etag", breaks=("DTWIN-ETAG-001",),
          collateral=(("DTWIN-COND-001", "the earlier etag is still the current one, so the stale If-Match matched"),)),
    Fault("twin-ignore-if-match", "a 2021 device twin PATCH or PUT ignores If-Match", breaks=("DTWIN-COND-001",)),
    Fault("twin-quoted-if-match-refused", "a 2021 device twin takes If-Match \"<etag>\" (quoted) as stale",
          breaks=("DTWIN-COND-002",),
          collateral=(("DTWIN-COND-001", "errors: the PATCH with the current etag in If-Match (quoted) is refused, so "
                                         "a refusal of a stale one shows nothing"),)),
    Fault("twin-no-depth-limit", "a 2021 device twin accepts values nested deeper than 10 levels",
          breaks=("DTWIN-LIMIT-001",)),
    Fault("twin-no-size-limit", "a 2021 device twin accepts tags over 8 KB and desired properties over 32 KB",
          breaks=("DTWIN-LIMIT-002",)),
    Fault("twin-arrays-refused", "a 2021 twin refuses array values", breaks=("DTWIN-ARRAY-001",)),
    # -- module twins ----------------------------------------------------------------------------------------------
    Fault("module-twin-no-module-id", "a module twin carries no moduleId", breaks=("MTWIN-GET-001",)),
    Fault("module-twin-unknown-module-200", "a twin of a module that does not exist answers 200 with an empty twin",
          breaks=("MTWIN-GET-002",)),
    Fault("module-twin-patch-ignored", "a module twin PATCH or PUT answers 200 and changes nothing",
          breaks=("MTWIN-PATCH-001",),
          collateral=(("MTWIN-COND-001", "PATCH with a stale If-Match → 200, expected 412: an ignored write answers "
                                         "200 whatever its If-Match"),
                      ("PERM-TWIN-001", "errors: the module twin PATCH signed with policy service changed nothing, so "
                                        "the refusals show nothing"),
                      ("QUERY-MODULES-001", "the module twin's tags were never set, so the query finds no module"))),
    Fault("module-twin-ignore-if-match", "a module twin PATCH or PUT ignores If-Match", breaks=("MTWIN-COND-001",)),
    Fault("module-twin-outlives-module", "a module created again gets the twin of the module deleted before it",
          breaks=("MTWIN-LIFE-001",)),
    # -- direct methods (methods.py) -------------------------------------------------------------------------------
    Fault("method-status-dropped", "a direct method answers status 200 and no payload, whatever the device said",
          breaks=("METHOD-INVOKE-001",), collateral=(("METHOD-INVOKE-002", "the module's status and payload are lost "
                                                                           "the same way"),)),
    Fault("module-method-goes-to-device", "a module's direct method is handed to its device's handler",
          breaks=("METHOD-INVOKE-002",),
          collateral=(("PERM-METHOD-001", "errors: the module's method signed with policy service is answered by "
                                          "the device, not the module"),)),
    Fault("method-offline-gateway-timeout", "a method for a device that is not online answers 504 GatewayTimeout",
          breaks=("METHOD-OFFLINE-001",)),
    Fault("method-unknown-device-not-online", "a method for an unregistered device answers 404 DeviceNotOnline",
          breaks=("METHOD-NOTFOUND-001",)),
    Fault("method-no-timeout", "a device slower than responseTimeoutInSeconds still answers 200",
          breaks=("METHOD-TIMEOUT-001",)),
    Fault("method-timeout-unbounded", "any responseTimeoutInSeconds and connectTimeoutInSeconds are accepted",
          breaks=("METHOD-TIMEOUT-002",)),
    Fault("method-no-payload-limit", "a method payload over 128 KB is handed to the device",
          breaks=("METHOD-PAYLOAD-001",)),
    # -- query (query.py) ------------------------------------------------------------------------------------------
    Fault("query-twin-without-properties", "SELECT * answers twins without their properties",
          breaks=("QUERY-SELECT-001",)),
    Fault("query-not-ignored", "NOT in a WHERE clause is ignored (its operand decides)", breaks=("QUERY-WHERE-001",)),
    Fault("query-modules-empty", "FROM devices.modules answers no module twins", breaks=("QUERY-MODULES-001",)),
    Fault("query-group-by-ignored", "GROUP BY is ignored: one row counts every twin", breaks=("QUERY-AGG-001",)),
    Fault("query-page-size-ignored", "x-ms-max-item-count is ignored: one page holds every result",
          breaks=("QUERY-PAGE-001",),
          collateral=(("QUERY-PAGE-002", "errors: the first page holds every twin, with no continuation to follow "
                                         "across the changes"),)),
    Fault("query-continuation-by-offset", "a continuation token counts items, so a removal between pages skips one",
          breaks=("QUERY-PAGE-002",)),
    Fault("query-no-item-type", "query answers carry no x-ms-item-type", breaks=("QUERY-TYPE-001",)),
    Fault("query-bad-query-empty-200", "a query the language does not allow answers 200 with no items",
          breaks=("QUERY-ERR-001",)),
)

"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): configurations (automatic device
management) and applyConfigurationContent."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = (
    # -- configurations (configurations.py, routes_2021_configurations.py) ------------------------------------------
    Fault("config-labels-dropped", "a configuration is stored without its labels", breaks=("CONFIG-PUT-001",),
          collateral=(("CONFIG-PUT-002", "the labels read {} after the update that set them"),
                      ("CONFIG-COND-002", "the PUT with the current etag answered 200 but the labels read {}"))),
    Fault("config-update-keeps-etag", "an update of a configuration keeps its etag", breaks=("CONFIG-PUT-002",),
          collateral=(("CONFIG-COND-001", "errors: the update before the stale writes gave no new etag"),)),
    Fault("config-not-found-names-device", "a configuration that does not exist is 404 DeviceNotFound",
          breaks=("CONFIG-GET-001",)),
    Fault("config-content-mutable", "an update may change a configuration's content",
          breaks=("CONFIG-IMMUTABLE-001",)),
    Fault("config-ignore-if-match", "configuration PUT and DELETE ignore If-Match", breaks=("CONFIG-COND-001",)),
    Fault("config-unquoted-if-match-stale", "a configuration's etag sent in If-Match as given (unquoted) is stale",
          breaks=("CONFIG-COND-002",),
          collateral=(
              ("CONFIG-CONTENT-003", "errors: the target-condition update with the etag as given is refused with 412"),
          )),
    Fault("config-delete-ignored", "a configuration DELETE answers 204 and keeps the configuration",
          breaks=("CONFIG-DELETE-001",),
          collateral=(
              ("CONFIG-CONTENT-004", "the deleted configuration is still there and still wins its path"),
          )),
    Fault("config-list-ignores-top", "GET /configurations answers every configuration whatever top says",
          breaks=("CONFIG-LIST-001",)),
    Fault("config-id-unchecked", "any configuration id is taken (uppercase, spaces, & ^ [ ] { } \\ | \" < > /, "
          "more than 128 characters)", breaks=("CONFIG-ID-001",)),
    Fault("config-target-unchecked", "a target condition the query language refuses is stored",
          breaks=("CONFIG-TARGET-001",)),
    Fault("config-metrics-unbounded", "a configuration may have more than five custom metrics",
          breaks=("CONFIG-METRIC-001",)),
    Fault("config-count-unbounded", "a hub takes more than 100 configurations", breaks=("CONFIG-COUNT-001",)),
    Fault("config-applied-ignores-priority", "appliedCount counts every targeted twin, whatever configuration of "
          "higher priority also sets its paths", breaks=("CONFIG-SYS-001",)),
    Fault("config-tie-oldest-wins", "of two configurations of the same priority, the older one wins",
          breaks=("CONFIG-SYS-001",),
          collateral=(("CONFIG-CONTENT-002", "of two configurations of the same priority, the twin holds the older "
                                             "one's content"),)),
    Fault("config-custom-metric-zero", "every custom metric's result is 0", breaks=("CONFIG-CUSTOM-001",),
          collateral=(
              ("CONFIG-CUSTOM-002", "the status metric, a custom metric too, reads 0"),
          )),
    Fault("config-metrics-never-refresh", "a configuration runs once, at its creation, and never again",
          breaks=("CONFIG-RUN-001",),
          collateral=(("CONFIG-SYS-001", "the metrics of the configurations created first never see the ones created "
                                         "after them"),
                      ("CONFIG-CONTENT-001", "a twin tagged after the create never gets the content"))),
    Fault("config-content-not-applied", "a configuration's content is written into no twin (only its metrics are "
          "computed)", breaks=("CONFIG-CONTENT-001",),
          collateral=(("CONFIG-CONTENT-002", "no twin holds either configuration's content"),
                      ("CONFIG-CONTENT-003", "the twins never held the content to remove or take on"),
                      ("CONFIG-CONTENT-004", "the twin never takes on the lower configuration's content"),
                      ("CONFIG-CUSTOM-002", "no twin is ever applied, so the status metric counts 0"))),
    Fault("config-content-last-run-wins", "each run of a configuration writes its content whatever the priority of "
          "the others that set the same paths", breaks=("CONFIG-CONTENT-002",)),
    Fault("config-content-kept-when-untargeted", "a twin that no longer meets a configuration's target condition "
          "keeps its settings", breaks=("CONFIG-CONTENT-003",)),
    Fault("config-delete-no-fallback", "a configuration settles only the twins that enter or leave its own scope, so "
          "a twin whose configuration was deleted never takes on the next highest priority one",
          breaks=("CONFIG-CONTENT-004",)),
    Fault("config-status-unseen", "the query engine sees no configurations.[[id]].status on a twin",
          breaks=("CONFIG-CUSTOM-002",)),
    Fault("config-test-queries-no-errors", "testQueries answers no error whatever the queries",
          breaks=("CONFIG-TEST-001",)),
    # -- applyConfigurationContent ---------------------------------------------------------------------------------
    Fault("config-apply-answers-200", "applyConfigurationContent answers 200 with an empty object, not 204",
          breaks=("CONFIG-APPLY-001",)),
    Fault("config-apply-unknown-device-204", "applyConfigurationContent on an unregistered device answers 204",
          breaks=("CONFIG-APPLY-002",)),
)

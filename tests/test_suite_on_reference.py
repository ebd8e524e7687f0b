"""The suite proves itself: 0 failures on the reference under each profile, and every fault switch is caught by the
requirement that exists for it."""

import pytest

from iothub_conformance.reference import FAULTS

# fault switch → (profile, requirement that must fail)
CAUGHT_BY = {
    "drop-request-id": ("iothub", "COMMON-REQID-001"),
    "repeat-request-id": ("iothub", "COMMON-REQID-002"),
    "accept-missing-api-version": ("iothub", "COMMON-APIVER-001"),
    "accept-any-api-version": ("iothub", "COMMON-APIVER-002"),
    "wrong-api-version-error-code": ("iothub", "COMMON-APIVER-004"),
    "no-etag-header": ("iothub", "DI-ETAG-001"),
    "unquoted-etag": ("iothub", "DI-ETAG-002"),
    "etag-header-mismatch": ("iothub", "DI-ETAG-003"),
    "etag-unchanged-on-write": ("iothub", "DI-ETAG-004"),
    "etag-changes-on-read": ("iothub", "DI-ETAG-005"),
    "ignore-if-match": ("iothub", "DI-COND-001"),
    "write-before-precondition": ("iothub", "DI-COND-001"),
    "weak-if-match-matches": ("iothub", "DI-COND-004"),
    "reject-if-match-star": ("iothub", "DI-COND-003"),
    "no-content-type": ("iothub", "COMMON-HDR-001"),
    "no-auth-required": ("iothub", "COMMON-AUTH-001"),
    "accept-expired-token": ("iothub", "COMMON-AUTH-002"),
    "skip-signature-check": ("iothub", "COMMON-AUTH-003"),
    "accept-unknown-policy": ("iothub", "COMMON-AUTH-004"),
    "ignore-token-audience": ("iothub", "COMMON-AUTH-005"),
    "create-returns-200": ("docs-strict", "DI-CREATE-001"),
    "error-envelope-plain": ("iothub", "COMMON-ERR-001"),
    "server-error-on-bad-json": ("iothub", "COMMON-ERR-002"),
    "list-ignores-top": ("iothub", "DI-LIST-001"),
    "update-overwrites-generation-id": ("iothub", "DI-UPDATE-001"),
    "delete-missing-returns-204": ("iothub", "DI-DELETE-002"),
    "no-generated-keys": ("iothub", "DI-CREATE-002"),
    "reject-special-device-ids": ("iothub", "DI-ID-001"),
    "stats-missing-field": ("iothub", "COMMON-SPEC-001"),
    # device messaging
    "d2c-returns-200": ("iothub", "MSG-D2C-001"),
    "d2c-no-size-limit": ("iothub", "MSG-D2C-003"),
    "d2c-accepts-invalid-properties": ("iothub", "MSG-D2C-004"),
    "d2c-refuses-properties": ("iothub", "MSG-D2C-002"),
    "empty-queue-returns-200": ("iothub", "MSG-RECV-001"),
    "receive-drops-properties": ("iothub", "MSG-RECV-002"),
    "no-message-lock": ("iothub", "MSG-RECV-003"),
    "unquoted-lock-etag": ("iothub", "MSG-LOCK-001"),
    "complete-keeps-message": ("iothub", "MSG-COMPLETE-001"),
    "reject-requeues": ("iothub", "MSG-REJECT-001"),
    "abandon-keeps-delivery-count": ("iothub", "MSG-ABANDON-001"),
    "accept-unknown-lock": ("iothub", "MSG-LOCK-002"),
    "lock-lost-precondition-failed": ("iothub", "MSG-LOCK-002"),
    "expired-lock-still-valid": ("iothub", "MSG-LOCK-003"),
    "lock-never-expires": ("iothub", "MSG-LOCK-004"),
    "no-max-delivery-count": ("iothub", "MSG-DELIVERY-001"),
    "lock-expiry-counts-delivery": ("iothub", "MSG-DELIVERY-002"),
    "unbounded-device-queue": ("iothub", "MSG-QUEUE-001"),
    "c2d-no-size-limit": ("iothub", "MSG-C2D-001"),
    "device-token-any-device": ("iothub", "MSG-AUTH-002"),
    "ignore-device-connect": ("iothub", "MSG-AUTH-003"),
    "disabled-device-connects": ("iothub", "MSG-AUTH-004"),
    "refuse-device-tokens": ("iothub", "MSG-AUTH-001"),
    # import/export jobs (these runs get a blob container on Azurite)
    "unknown-job-returns-200": ("iothub", "JOB-GET-002"),
    "cancel-unknown-job-returns-204": ("iothub", "JOB-CANCEL-002"),
    "cancel-ignored": ("iothub", "JOB-CANCEL-001"),
    "cancel-finished-returns-409": ("iothub", "JOB-CANCEL-003"),
    "export-ignores-exclude-keys": ("iothub", "JOB-EXPORT-002"),
    "export-keys-default-flipped": ("iothub", "JOB-EXPORT-003"),
    "export-skips-last-device": ("iothub", "JOB-EXPORT-001"),
    "export-json-array": ("iothub", "JOB-EXPORT-001"),
    "import-skips-updates": ("iothub", "JOB-IMPORT-001"),
    "job-never-completes": ("iothub", "JOB-LIFE-001"),
    "completed-job-progress-0": ("iothub", "JOB-LIFE-001"),
    "failed-job-without-reason": ("iothub", "JOB-FAIL-001"),
    "list-jobs-omits-finished": ("iothub", "JOB-LIST-001"),
    "job-status-done": ("iothub", "JOB-GET-001"),
    "jobs-create-not-found": ("iothub", "JOB-CREATE-001"),
    "importdevices-not-found": ("docs-strict", "JOB-CREATE-001"),
    # scheduled jobs and twins (api-version 2016-11-14)
    "v2-unknown-job-returns-200": ("iothub", "JOBV2-GET-002"),
    "v2-cancel-ignored": ("iothub", "JOBV2-CANCEL-001"),
    "v2-start-time-ignored": ("iothub", "JOBV2-SCHEDULE-001"),
    "v2-query-ignores-filters": ("iothub", "JOBV2-QUERY-001"),
    "twin-job-updates-nothing": ("iothub", "JOBV2-TWIN-001"),
    "twin-job-ignores-condition": ("iothub", "JOBV2-TWIN-001"),
    "method-job-offline-succeeds": ("iothub", "JOBV2-METHOD-001"),
    "method-job-no-statistics": ("iothub", "JOBV2-GET-001"),
    "twin-patch-ignored": ("iothub", "TWIN-PATCH-001"),
    # Resource provider
    "rp-no-auth-required": ("iothub", "RP-AUTH-001"),
    "rp-accept-any-token": ("iothub", "RP-AUTH-002"),
    "rp-drop-request-id": ("iothub", "RP-REQID-001"),
    "rp-accept-missing-api-version": ("iothub", "RP-APIVER-001"),
    "rp-plain-errors": ("iothub", "RP-ERR-001"),
    "rp-create-returns-200": ("iothub", "RP-CREATE-001"),
    "rp-operation-never-ends": ("iothub", "RP-LRO-001"),
    "rp-succeeded-before-hub-exists": ("iothub", "RP-LRO-001"),
    "rp-delete-keeps-hub": ("iothub", "RP-DELETE-001"),
    "rp-delete-no-location": ("iothub", "RP-DELETE-001"),
    "rp-get-reveals-keys": ("iothub", "RP-GET-002"),
    "rp-update-ignored": ("iothub", "RP-UPDATE-001"),
    "rp-listkeys-drops-policy": ("iothub", "RP-KEYS-001"),
    "rp-keyname-ignored": ("iothub", "RP-KEYS-002"),
    "rp-page-repeats-item": ("iothub", "RP-LIST-001"),
    "rp-nextlink-dropped": ("iothub", "RP-LIST-001"),
    "rp-ignore-if-match": ("iothub", "RP-COND-001"),
    "rp-delete-ignores-if-match": ("iothub", "RP-COND-002"),
    "rp-write-before-precondition": ("iothub", "RP-COND-003"),
    "rp-no-etag-header": ("iothub", "RP-ETAG-001"),
    "rp-etag-unchanged-on-update": ("iothub", "RP-ETAG-002"),
    "rp-cg-create-ignored": ("iothub", "RP-CG-001"),
    "rp-cg-delete-ignored": ("docs-strict", "RP-CG-001"),
    "rp-cg-missing-hub-succeeds": ("iothub", "RP-CG-002"),
    "rp-name-always-available": ("iothub", "RP-NAME-001"),
    "rp-stats-zero": ("iothub", "RP-STATS-001"),
    "rp-export-never-completes": ("iothub", "RP-JOB-001"),
    "rp-import-ignores-blob": ("docs-strict", "RP-JOB-002"),
    "rp-quota-values-as-strings": ("iothub", "RP-READ-001"),
}
JOB_FAULTS = {fault for fault, (_, requirement) in CAUGHT_BY.items() if requirement.startswith("JOB-")}
# A surface's faults are proven on the module that holds its requirements (the whole suite runs in the pass tests
# above); the foundation's cross-cutting requirements need the whole suite.
SURFACE_MODULES = {"MSG-": "suites/test_device_messaging.py", "JOB-": "suites/test_jobs.py",
                   "JOBV2-": "suites/test_scheduled_jobs.py", "TWIN-": "suites/test_scheduled_jobs.py",
                   "RP-": "suites/test_resource_provider.py"}


def suites_for(requirement: str) -> str:
    return next((module for prefix, module in SURFACE_MODULES.items() if requirement.startswith(prefix)), "suites")


def test_every_fault_switch_has_a_requirement_that_catches_it():
    assert set(CAUGHT_BY) == set(FAULTS)


@pytest.mark.parametrize("profile", ["iothub", "docs-strict"])
def test_suite_passes_on_the_reference(suite, profile, azurite):
    run = suite("--iothub-profile", profile, "--iothub-blob-container", azurite.container())
    assert run.code == 0, run.summary()
    assert run.failing() == set()
    assert "pass" in run.statuses.values()
    assert run.output.splitlines()[0].startswith("target: embedded reference"), run.output[:300]
    job_results = {rid: status for rid, status in run.statuses.items() if rid.startswith("JOB-")}
    assert "skip" not in {job_results[r] for r in ("JOB-CREATE-001", "JOB-IMPORT-001", "JOB-LIFE-001")}, job_results


def test_jobs_pass_on_the_references_own_storage_when_none_is_given(suite):
    run = suite("--iothub-profile", "iothub", suites="suites/test_jobs.py")
    assert run.code == 0, run.summary()
    jobs = {rid: status for rid, status in run.statuses.items() if rid.startswith("JOB-")}
    assert set(jobs.values()) == {"pass"}, jobs


@pytest.mark.parametrize("fault", sorted(CAUGHT_BY))
def test_fault_switch_fails_the_run_naming_its_requirement(suite, fault, request):
    profile, requirement = CAUGHT_BY[fault]
    storage = ["--iothub-blob-container", request.getfixturevalue("azurite").container()] if fault in JOB_FAULTS else []
    # The resource provider's faults run only the tests that claim the requirement: each RP test builds hubs of its own,
    # so the others add time and prove nothing more.
    only = ["--iothub-only-requirements", requirement] if requirement.startswith("RP-") else []
    run = suite("--iothub-profile", profile, "--iothub-reference-faults", fault, *storage, *only,
                suites=suites_for(requirement))
    assert run.code == 1, f"the run did not fail with fault {fault}:\n{run.summary()}"
    assert run.statuses[requirement] == "fail", (
        f"{fault} should fail {requirement}; failing: {sorted(run.failing())}\n{run.summary()}")

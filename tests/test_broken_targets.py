"""The whole suite against targets that never do what a requirement asks: nothing may pass that the target did not
show. Each target gets the exact set of requirements that may pass, each with the reason it is legitimately
satisfied; every other requirement must be fail, error or skip. A precondition the target broke (no device created,
none read back, no ETag, the valid counterpart of a refused request not served) is an error naming what the target
answered."""

from __future__ import annotations

import json
import re

import pytest

from tests.support import hostile
from tests.support.proofs import SuiteWorker
from tests.support.served import serving

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

# A well-formed connection string for a hub the broken targets pretend to be; its key is never right or wrong there.
CONNECTION_STRING = "HostName=broken.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" \
                    "YnJva2VuLXRhcmdldC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
WRONG_KEY = "d3Jvbmcta2V5LWZvci10aGUtc2VydmVkLXJlZmVyZW5jZQ=="

# The requirements each target may pass, and why that is the target's real behaviour, not a vacuous verdict. None may:
# a refusal (400 for a bad api-version, id or body; 401 without credentials) counts only where the same request made
# right is served, and a target that refuses everything serves nothing, so its refusals show nothing either (a wrong
# key included: the reference's 400 for an unsupported api-version is not shown to judge the api-version while every
# valid request gets 401).
MAY_PASS: dict[str, dict[str, str]] = {
    "always-500": {},
    "always-404": {},
    "always-401": {},
    "redirect-all": {},
    "empty-200": {},
    "wrong-key": {},
    "always-400": {},  # with the error code the iothub profile wants for an api-version error
    "always-400-bare@docs-strict": {},  # no body, and a profile that checks no error code: the status alone decides
    "always-403": {},
}
# The requirements the issue found passing against a target that never creates a device.
FALSE_PASSES = ["COMMON-HDR-001", "DI-ETAG-001", "DI-ETAG-002", "DI-ETAG-003", "DI-ETAG-005", "DI-COND-001",
                "DI-COND-002", "DI-COND-004"]
# The requirements a target answering 400 to everything passed when only the refusal's status was looked at: each is
# an error now (the valid request was not served), never a failure the target did not show either.
REFUSAL_PASSES = ["COMMON-APIVER-001", "COMMON-APIVER-002", "COMMON-APIVER-004", "COMMON-ERR-002", "DI-ID-002",
                  "RP-APIVER-001"]
ANSWERS = {"always-500": "→ 500", "always-404": "→ 404", "always-401": "refused the credentials",
           "redirect-all": "→ 302 to http://127.0.0.1:9/elsewhere", "empty-200": "→ 200 with no body",
           "wrong-key": "refused the credentials", "always-400": "→ 400 (InvalidProtocolVersion)",
           "always-400-bare": "→ 400", "always-403": "→ 403 (IotHubQuotaExceeded)"}


def rp_flags(url: str) -> list[str]:
    return ["--iothub-rp-url", url, "--iothub-rp-token", "conformance-token", "--iothub-rp-subscription",
            "00000000-0000-0000-0000-000000000000", "--iothub-rp-resource-group", "conformance"]


@pytest.fixture
def worker(suite_worker):
    """The suite sessions run one after another in the pytest worker's suite worker (tests/conftest.py), the one the
    fault proofs use: each is a whole run of its own, without paying a fresh interpreter's start-up."""
    return suite_worker


def run_against(worker: SuiteWorker, tmp_path, target: str):
    """Run the suite against `target`: a hostile behaviour, or `wrong-key`, optionally `@<profile>`."""
    name, _, profile = target.partition("@")
    # What these tests read is results.json: statuses, and details the plugin takes from the failures themselves,
    # which no traceback style changes; one line per failure spares formatting the frames of every failing test.
    flags = ["--iothub-no-preflight", "--tb=line", *(["--iothub-profile", profile] if profile else [])]
    if name == "wrong-key":
        # The served reference with a connection string whose key is not the hub's.
        with serving("--rp-delay", "0") as served:
            connection_string = re.sub(r"SharedAccessKey=[^;]+", f"SharedAccessKey={WRONG_KEY}",
                                       served.connection_string)
            return worker.run(["--iothub-target", served.url, "--iothub-connection-string", connection_string,
                               *flags], tmp_path / "bundle")
    with hostile.serve(name) as url:
        return worker.run(["--iothub-target", url, "--iothub-connection-string", CONNECTION_STRING, *flags,
                           *rp_flags(url)], tmp_path / "bundle")


@pytest.mark.parametrize("target", list(MAY_PASS))
def test_nothing_passes_that_the_broken_target_did_not_show(worker, tmp_path, target):
    name = target.partition("@")[0]
    run = run_against(worker, tmp_path, target)
    statuses = run.statuses
    passed = {rid for rid, status in statuses.items() if status == "pass"}
    assert passed == set(MAY_PASS[target]), (
        f"{target}: passed {sorted(passed - set(MAY_PASS[target]))}, expected to pass only {sorted(MAY_PASS[target])}"
        f"\n{run.summary()}")
    assert run.code == 1, f"{target}: exit {run.code}, expected 1 (requirements failed or errored)\n" \
                          f"{run.output[-2000:]}"
    results = json.loads((run.report_dir / "results.json").read_text())["requirements"]
    details = {r["id"]: r["detail"] for r in results}
    for rid in FALSE_PASSES:
        # empty-200 answers a device GET 200 without an ETag: a true DI-ETAG-001 failure, not only an error.
        assert statuses[rid] in ("fail", "error"), f"{name}: {rid} is {statuses[rid]}, expected fail or error"
    if name.startswith("always-400"):
        wrong = {rid: f"{statuses[rid]}: {details[rid][:200]}" for rid in REFUSAL_PASSES
                 if statuses[rid] != "error" or ANSWERS[name] not in details[rid]}
        assert not wrong, f"{target}: expected errors naming the refused valid request: {wrong}"
    # A failed precondition says what the target answered (a wrong key: that the credentials were refused), never
    # a Python repr of the suite's objects; and a refused key is never reported as a device that changed.
    errors = {rid: details[rid] for rid, status in statuses.items() if status == "error" and rid.startswith("DI-")}
    assert errors, run.summary()
    unnamed = {rid: d[:200] for rid, d in errors.items() if ANSWERS[name] not in d}
    assert not unnamed, f"{name}: errors that do not say what the target answered ({ANSWERS[name]!r}): {unnamed}"
    reprs = {rid: d for rid, d in details.items() if re.search(r"object at 0x|\+ {1,2}where ", d)}
    assert not reprs, f"{name}: details with Python reprs: {reprs}"
    blamed = [rid for rid, d in details.items() if "the device changed" in d]
    assert not blamed, f"{name}: a refused request reported as a device that changed: {blamed}"

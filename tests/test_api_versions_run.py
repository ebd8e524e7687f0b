"""A run tests the api-versions of its --api-version list: each suite test runs at its own version, and the tests of
the others are deselected, never reported as passing."""

from __future__ import annotations

import json
import subprocess
import sys

from iothub_conformance.config import API_VERSIONS, ConfigError, Settings, api_versions
from tests.support.suite_runs import ROOT, run_suite


def test_the_option_takes_a_list_of_covered_versions_in_order_each_once():
    assert api_versions(" 2021-04-12,2016-02-03,2021-04-12 ", "--api-version") == "2021-04-12,2016-02-03"
    assert Settings(api_version="2021-04-12,2016-02-03").api_versions == ("2021-04-12", "2016-02-03")
    assert Settings().api_versions == API_VERSIONS


def test_an_uncovered_version_is_one_line_and_exit_2():
    for bad in ("2099-01-01", ",", "2016-02-03,latest"):
        try:
            api_versions(bad, "--api-version")
        except ConfigError as exc:
            assert "--api-version" in str(exc) or "not covered" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was taken")
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--api-version", "2099-01-01"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    assert "api-version '2099-01-01' is not covered by this suite" in done.stdout + done.stderr


def test_a_test_run_once_per_version_runs_only_at_the_run_versions(tmp_path):
    run = run_suite(tmp_path / "b", "--iothub-api-version", "2016-02-03", "-k", "test_missing_api_version_returns_400",
                    suites="suites/test_api_version.py")
    data = json.loads((tmp_path / "b" / "results.json").read_text())
    assert data["api_version"] == "2016-02-03"
    tests = {test for row in data["requirements"] for test in row["tests"]}
    assert tests and all("2016-02-03" in test and "2021-04-12" not in test for test in tests), tests
    assert run.code == 0 and "3 passed" in run.output, run.output[-2000:]


def test_coverage_counts_an_exchange_for_the_operations_of_its_own_api_version():
    from types import SimpleNamespace

    from iothub_conformance.evidence.journal import Exchange
    from iothub_conformance.report.coverage import coverage
    from iothub_conformance.rules.profiles import IOTHUB

    def reached(exchanges, versions):
        target = SimpleNamespace(api_versions=versions, rp=None, profile=IOTHUB)
        return {row["operation_id"] for row in coverage(exchanges, target) if row["reached"]}

    at = {v: Exchange("GET", "/devices/conf-x", 200, None, None, api_version=v) for v in ("2016-02-03", "2021-04-12")}
    assert reached([at["2016-02-03"]], API_VERSIONS) == {"getDevice"}
    assert reached([at["2021-04-12"]], API_VERSIONS) == {"Devices_GetIdentity"}
    unversioned = Exchange("GET", "/devices/conf-x", 400, None, None)  # a test of api-version handling
    assert reached([unversioned], ("2016-02-03",)) == {"getDevice"}
    assert reached([unversioned], API_VERSIONS) == {"getDevice", "Devices_GetIdentity"}
    rows = coverage([at["2016-02-03"]], SimpleNamespace(api_versions=("2016-02-03",), rp=None, profile=IOTHUB))
    why = next(row["why_not"] for row in rows if row["operation_id"] == "Devices_GetIdentity")
    assert why.startswith("not in this run: api-version 2021-04-12")


def test_a_module_outside_the_run_is_not_collected_at_all():
    from iothub_conformance.report.conformance import module_claims

    twins = module_claims(ROOT / "suites" / "test_twins.py")
    assert twins.api_version == "2021-04-12" and "DTWIN-GET-001" in twins.requirements
    assert module_claims(ROOT / "suites" / "test_api_version.py").api_version is None  # runs once per version
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--api-version", "2016-02-03",
                           "--only-requirements", "DI-ETAG-002,COMMON-APIVER-001", "--", "--collect-only", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    collected = {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}
    assert any(c.endswith("test_api_version.py") for c in collected), done.stdout[-2000:]
    assert not any(name in c for c in collected for name in ("test_twins.py", "test_properties", "test_jobs.py"))


def test_only_operations_builds_the_generated_tests_of_the_named_operations_and_refuses_unknown_ones():
    def collect(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--only-requirements",
                               "COMMON-SPEC-001", *args, "--", "--collect-only", "-q"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    done = collect("--only-operations", "getDevice,Devices_GetTwin")
    generated = {line.split("::")[1] for line in done.stdout.splitlines() if "::test_generated" in line}
    assert generated == {"test_generated_requests_conform_to_the_spec_and_checks[GET /devices/{deviceId}]",
                         "test_generated_twin_requests_conform_to_the_spec_and_checks[GET /twins/{id}]"}, \
        done.stdout[-2000:]
    assert any("::test_linked_" in line for line in done.stdout.splitlines())  # stateful tests as without it
    refused = collect("--only-operations", "getDevice,noSuchOperation")
    assert refused.returncode != 0 and "--only-operations: unknown operationIds noSuchOperation" in \
        refused.stdout + refused.stderr, refused.stdout[-1000:] + refused.stderr[-1000:]

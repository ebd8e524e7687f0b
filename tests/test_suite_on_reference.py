"""The suite proves itself: 0 failures on the reference under each profile, and every fault switch fails exactly the
requirements the fault table (iothub_conformance/reference/faults.py) declares, every other one keeping its status.

The proofs run in a suite worker (tests/support/suite_worker.py), one interpreter per pytest worker that runs suite
sessions one after another; each proof runs only the tests that claim what its fault fails. The whole suite with each
fault on is `python -m tests.fault_sweep` (nightly; it prints what each fault changes).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iothub_conformance.reference.faults import FAULTS
from iothub_conformance.rules.profiles import PROFILES
from iothub_conformance.rules.requirements import REQUIREMENTS, judged_by
from iothub_conformance.rules.spec_operations import operations as spec_operations
from tests.support import proofs, shared
from tests.support.suite_runs import SuiteRun

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)


@pytest.fixture(scope="session")
def clean_reference(suite_worker, tmp_path_factory):
    """profile → the whole suite's run on the clean reference (its own storage), once per test run: the first pytest
    worker to ask runs it, the other reads its bundle."""
    root = shared.run_root(tmp_path_factory) / "clean-reference"
    runs: dict[str, SuiteRun] = {}

    def make(profile: str, directory: Path) -> dict:
        run = suite_worker.run(["--iothub-profile", profile], directory / "report", timeout=300)
        return {"code": run.code, "output": run.output, "report_dir": str(run.report_dir)}

    def clean(profile: str) -> SuiteRun:
        if profile not in runs:
            made = shared.once(root, profile, lambda directory: make(profile, directory))
            runs[profile] = SuiteRun(made["code"], made["output"], Path(made["report_dir"]))
        return runs[profile]

    return clean


def test_every_fault_declares_known_requirements_and_says_why_for_each_collateral():
    known_operations = {operation.operation_id for operation in spec_operations()}
    for fault in FAULTS.values():
        assert fault.breaks, fault.name
        assert fault.fails <= set(REQUIREMENTS), (fault.name, sorted(fault.fails - set(REQUIREMENTS)))
        assert fault.profile in PROFILES, fault.name
        assert set(fault.generated_on) <= known_operations, (fault.name, set(fault.generated_on) - known_operations)
        for requirement, why in fault.collateral:
            assert requirement not in fault.breaks and why.strip(), (fault.name, requirement)


@pytest.mark.parametrize("profile", ["iothub", "docs-strict"])
def test_suite_passes_on_the_reference(request, profile, clean_reference):
    # A fresh interpreter with blob storage on Azurite: under iothub the certified run through the command line
    # (tests/support/certified.py, which tests/test_certify.py reads too), under docs-strict plain `pytest suites`.
    if profile == "iothub":
        run = request.getfixturevalue("certified_run")
    else:
        run = request.getfixturevalue("suite")("--iothub-profile", profile, "--iothub-blob-container",
                                               request.getfixturevalue("azurite").container())
    assert run.code == 0, run.summary()
    assert run.failing() == set()
    assert "pass" in run.statuses.values()
    assert run.output.splitlines()[0].startswith("target: embedded reference"), run.output[:300]
    job_results = {rid: status for rid, status in run.statuses.items() if rid.startswith("JOB-")}
    assert "skip" not in {job_results[r] for r in ("JOB-CREATE-001", "JOB-IMPORT-001", "JOB-LIFE-001")}, job_results
    # Blob storage on Azurite and the reference's own, a fresh interpreter and the suite worker: the same verdicts.
    assert run.statuses == clean_reference(profile).statuses


# docs-strict starts exports through the resource provider only: its JOB-EXPORT requirements skip, for that reason.
@pytest.mark.parametrize(("profile", "job_statuses"), [("iothub", {"pass"}), ("docs-strict", {"pass", "skip"})])
def test_suite_passes_on_the_references_own_storage_in_the_suite_worker(clean_reference, profile, job_statuses):
    run = clean_reference(profile)
    assert run.code == 0, run.summary()
    assert run.failing() == set()
    assert set(run.reached) == set(judged_by("run"))  # the baseline of every proof judges every requirement
    jobs = {rid: status for rid, status in run.statuses.items() if rid.startswith("JOB-")}
    assert set(jobs.values()) == job_statuses, jobs


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_fails_exactly_what_the_table_declares(suite_worker, clean_reference, tmp_path, name):
    fault = FAULTS[name]
    clean = clean_reference(fault.profile)
    assert clean.code == 0, f"the clean reference fails under {fault.profile}:\n{clean.summary()}"
    run = suite_worker.run(proofs.proof_args(fault), tmp_path / "report")
    assert run.code == 1, f"the run did not fail with fault {name}:\n{run.summary()}"
    problems = proofs.judge(fault, clean.statuses, run.reached)
    assert not problems, "\n".join(problems) + "\n" + run.summary()

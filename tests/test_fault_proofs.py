"""How a fault proof is judged (tests/support/proofs.py), the suite worker that runs proofs, and the fault sweep's
verdict lines (tests/fault_sweep.py)."""

from __future__ import annotations

import json

import pytest

from iothub_conformance.reference.faults import Fault
from tests import fault_sweep
from tests.support import proofs
from tests.support.suite_runs import SuiteRun

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

FAULT = Fault("some-fault", "does something wrong", breaks=("DI-COND-001",),
              collateral=(("DI-COND-002", "the same If-Match handling serves DELETE"),))
CLEAN = {"DI-COND-001": "pass", "DI-COND-002": "pass", "DI-COND-005": "skip", "DI-ETAG-001": "pass"}


def written(tmp_path, statuses: dict[str, str], code: int = 1, detail: dict | None = None) -> SuiteRun:
    rows = [{"id": rid, "status": status, "detail": (detail or {}).get(rid, ""), "tests": ["suites/x.py::t"]}
            for rid, status in statuses.items()]
    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}"
    report.mkdir()
    (report / "results.json").write_text(json.dumps({"requirements": rows}))
    return SuiteRun(code, "", report)


def test_a_proof_runs_the_tests_claiming_breaks_and_collateral_under_the_faults_profile():
    strict = Fault("f", "d", breaks=("DI-CREATE-001",), profile="docs-strict", collateral=(("DI-ID-001", "why"),))
    assert proofs.proof_args(strict) == ["--iothub-profile", "docs-strict", "--iothub-reference-faults", "f",
                                         "--iothub-only-requirements", "DI-CREATE-001,DI-ID-001",
                                         "--iothub-only-operations", "createOrUpdateDevice",
                                         "--iothub-api-version", "2016-02-03", "--tb=line"]
    # Generated tests: those of the operations of what it breaks, and of those it names as meeting it.
    reaching = Fault("r", "d", breaks=("DI-CREATE-002",), generated_on=("sendDeviceEvent",))
    assert proofs.fault_operations(reaching) == ["createOrUpdateDevice", "sendDeviceEvent"]
    # At the api-versions of what it breaks: a rule of every version, on all of them.
    assert proofs.fault_versions(Fault("h", "d", breaks=("DEVICE-GET-001",))) == ("2021-04-12",)
    assert proofs.fault_versions(Fault("i", "d", breaks=("COMMON-REQID-001",))) == ("2016-02-03", "2021-04-12")
    whole = Fault("g", "d", breaks=("JOBV2-QUERY-001",), whole_suite=True)
    assert proofs.proof_args(whole) == ["--iothub-profile", "iothub", "--iothub-reference-faults", "g", "--tb=line"]


def test_exactly_the_declared_failures_and_nothing_else_moved_is_a_proof():
    assert proofs.judge(FAULT, CLEAN, {**CLEAN, "DI-COND-001": "fail", "DI-COND-002": "error"}) == []


@pytest.mark.parametrize(("reached", "named"), [
    ({"DI-COND-001": "pass", "DI-COND-002": "fail"}, "DI-COND-001 should fail"),  # the break itself passes
    ({"DI-COND-001": "fail"}, "DI-COND-002 should fail"),  # declared collateral never reached
    ({"DI-COND-001": "fail", "DI-COND-002": "fail", "DI-ETAG-001": "fail"}, "DI-ETAG-001 reads fail"),
    ({"DI-COND-001": "fail", "DI-COND-002": "fail", "DI-COND-005": "pass"}, "DI-COND-005 reads pass"),  # a skip
    ({"DI-COND-001": "fail", "DI-COND-002": "fail", "DI-ETAG-001": "skip"}, "DI-ETAG-001 reads skip"),  # a pass
])
def test_a_missing_failure_or_any_other_status_that_moved_is_named(reached, named):
    problems = proofs.judge(FAULT, CLEAN, reached)
    assert any(line.startswith(named) for line in problems), problems


def test_a_requirement_its_test_never_judged_is_not_counted_as_reached(tmp_path):
    stopped = "not reached: the test stopped at [DI-COND-001] first (suites/x.py::t)"
    run = written(tmp_path, {"DI-COND-001": "fail", "DI-ETAG-001": "skip", "DI-COND-005": "skip"},
                  detail={"DI-ETAG-001": stopped, "DI-COND-005": "profile iothub takes no position"})
    assert run.reached == {"DI-COND-001": "fail", "DI-COND-005": "skip"}
    rows = json.loads((run.report_dir / "results.json").read_text())["requirements"]
    rows[0]["tests"] = []  # no test claimed it: "no test ran"
    (run.report_dir / "results.json").write_text(json.dumps({"requirements": rows}))
    assert "DI-COND-001" not in run.reached


def test_the_sweep_marks_each_change_as_declared_undeclared_or_missing(tmp_path):
    clean = written(tmp_path, CLEAN, code=0)
    run = written(tmp_path, {**CLEAN, "DI-COND-001": "fail", "DI-ETAG-001": "error", "DI-COND-005": "skip"},
                  detail={"DI-ETAG-001": "[DI-ETAG-001] no ETag"})
    exact, lines = fault_sweep.sweep_line(FAULT, clean, run)
    assert not exact
    assert "  DI-COND-001: pass→fail [breaks]" in lines
    assert "  DI-ETAG-001: pass→error UNDECLARED: [DI-ETAG-001] no ETag" in lines
    assert "  DI-COND-002: pass MISSING (declared, unchanged)" in lines
    exact, lines = fault_sweep.sweep_line(FAULT, clean, written(tmp_path, {**CLEAN, "DI-COND-001": "fail",
                                                                           "DI-COND-002": "fail"}))
    assert exact and lines == ["  DI-COND-001: pass→fail [breaks]", "  DI-COND-002: pass→fail [collateral]"]


def test_the_sweep_refuses_an_unknown_fault_in_one_line(capsys):
    assert fault_sweep.main(["--faults", "no-such-fault"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown fault 'no-such-fault'") and "\n" not in err


def test_the_suite_worker_answers_a_bad_run_and_survives_a_hung_one(tmp_path):
    worker = proofs.SuiteWorker()
    try:
        refused = worker.run(["--iothub-only-requirements", "NO-SUCH-001"], tmp_path / "refused", timeout=120)
        assert refused.code == 4 and "unknown requirement ids NO-SUCH-001" in refused.output, refused.output[-500:]
        hung = worker.run(["--iothub-profile", "iothub"], tmp_path / "hung", timeout=0.01)
        assert hung.code == -1 and "hung or died" in hung.output
        again = worker.run(["--iothub-only-requirements", "DI-ETAG-002"], tmp_path / "again", timeout=120)
        assert again.code == 0 and again.reached == {"DI-ETAG-001": "pass", "DI-ETAG-002": "pass"}, again.summary()
    finally:
        worker.close()

"""Fault proofs: what a run with a fault on must show, derived from the fault table alone, and how to judge a run.

A proof runs the suite tests that claim `fault.fails` (breaks ∪ collateral) with the fault on, under its profile, and
holds that exactly `fault.fails` fail while every other requirement the run reached keeps its status on the clean
reference under that profile.
"""

from __future__ import annotations

from pathlib import Path

from iothub_conformance.config import API_VERSIONS
from iothub_conformance.reference.faults import Fault
from iothub_conformance.rules.requirements import REQUIREMENTS
from iothub_conformance.rules.spec_operations import run_versions
from tests.support.line_worker import LineWorker
from tests.support.suite_runs import FAILING, SuiteRun

EXAMPLES = 4  # generated examples per operation in the project's own suite runs: enough to meet every fault


def proof_args(fault: Fault) -> list[str]:
    """The suite options of a fault's proof: its profile, the fault, and only the tests that claim what it fails,
    the generated ones for the operations of what it breaks (the whole suite for a fault whose effects travel
    through state other tests leave). A proof reads statuses, which no traceback style changes: one line per
    failure spares formatting every failure's frames."""
    only = [] if fault.whole_suite else ["--iothub-only-requirements", ",".join(sorted(fault.fails)),
                                         "--iothub-only-operations", ",".join(fault_operations(fault)),
                                         "--iothub-api-version", ",".join(fault_versions(fault))]
    return ["--iothub-profile", fault.profile, "--iothub-reference-faults", fault.name, *only, "--tb=line"]


def fault_operations(fault: Fault) -> list[str]:
    """The spec operations whose generated tests see the fault: those of the requirements it breaks (the answers it
    changed) and those it names in `generated_on`."""
    return sorted({operation for rid in fault.breaks for operation in REQUIREMENTS[rid].operations}
                  | set(fault.generated_on))


def fault_versions(fault: Fault) -> tuple[str, ...]:
    """The api-versions of what the fault fails (breaks and collateral): a fault of the 2016 handlers is proven on the
    2016 tests, one of the 2021 handlers on the 2021 tests, one that reaches both on all of them. (The fault sweep,
    tests/fault_sweep.py, runs every fault on the whole suite.)"""
    wanted = set().union(*(run_versions(REQUIREMENTS[rid].operations) for rid in fault.fails))
    return tuple(version for version in API_VERSIONS if version in wanted) or API_VERSIONS


def changes(clean: dict[str, str], run: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Requirement → (clean status, status in the run), for those of `run` whose status differs from `clean`."""
    return {rid: (clean.get(rid, "absent"), status) for rid, status in sorted(run.items())
            if clean.get(rid, "absent") != status}


def judge(fault: Fault, clean: dict[str, str], reached: dict[str, str]) -> list[str]:
    """What is wrong with a proof run, one line each; [] when exactly fault.fails fail and the rest kept their status.

    `clean`: the statuses of the clean reference under the fault's profile; `reached`: the proof run's requirements
    that some test claimed.
    """
    problems = [f"{rid} should fail with {fault.name} but reads {reached.get(rid, 'not reached')}"
                for rid in sorted(fault.fails) if reached.get(rid) not in FAILING]
    problems += [f"{rid} reads {now} with {fault.name} (clean: {before}), which the fault table does not declare"
                 for rid, (before, now) in changes(clean, reached).items() if rid not in fault.fails]
    return problems


class SuiteWorker:
    """A `tests.support.suite_worker` child that runs suite sessions on request (tests/support/line_worker.py)."""

    def __init__(self, examples: int = EXAMPLES):
        self.examples = examples
        self._worker = LineWorker("tests.support.suite_worker", str(examples))

    def run(self, args: list[str], report_dir: Path, timeout: float = 180) -> SuiteRun:
        """One suite session with these options, its bundle in report_dir; a run still going at the timeout is
        killed with its worker and reads as code -1."""
        answer = self._worker.ask({"args": args, "bundle": str(report_dir)}, timeout)
        output = report_dir.with_name(report_dir.name + ".out")
        text = output.read_text(errors="replace") if output.is_file() else ""
        if answer is None:
            return SuiteRun(-1, f"the suite worker hung or died (timeout {timeout:g}s)\n{text}", report_dir)
        return SuiteRun(int(answer["code"]), text, report_dir)

    def close(self) -> None:
        self._worker.close()

"""Running the conformance suite in a child process and reading its verdicts back from results.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from iothub_conformance.evidence.redact import redact

ROOT = Path(__file__).resolve().parents[2]
FAILING = ("fail", "error")
NOT_REACHED_PREFIX = "not reached"  # report/summary.py and report/bundle.py begin such a row's detail so


@dataclass
class SuiteRun:
    """One suite run: its exit code, its pytest output, and its bundle's per-requirement rows."""

    code: int
    output: str
    report_dir: Path

    @property
    def rows(self) -> list[dict]:
        path = self.report_dir / "results.json"
        return json.loads(path.read_text())["requirements"] if path.is_file() else []

    @property
    def statuses(self) -> dict[str, str]:
        return {row["id"]: row["status"] for row in self.rows}

    @property
    def reached(self) -> dict[str, str]:
        """The requirements this run judged: some test claimed them (the others read skip, "no test ran") and did
        not stop before them (a test that failed earlier, or the run deadline, leaves them "not reached")."""
        return {row["id"]: row["status"] for row in self.rows if row["tests"] and not unjudged(row)}

    def failing(self) -> set[str]:
        return {rid for rid, status in self.statuses.items() if status in FAILING}

    def summary(self) -> str:
        """What failed and why, then the end of pytest's output."""
        lines = [f"{row['status'].upper()} {row['id']}: {row['detail'][:400]}" for row in self.rows
                 if row["status"] in FAILING]
        at = self.output.find("short test summary")
        return "\n".join(lines) + "\n" + (self.output[at:] if at >= 0 else self.output[-1500:])


def unjudged(row: dict) -> bool:
    """A results.json row no test judged: skipped as "not reached" (its test stopped at another failure first, or
    the run ended early)."""
    return row["status"] == "skip" and str(row.get("detail") or "").startswith(NOT_REACHED_PREFIX)


def run_suite(report_dir: Path, *args: str, env: dict | None = None, examples: int = 4, timeout: int = 300,
              suites: str = "suites") -> SuiteRun:
    """Run `pytest suites` against the embedded reference (or the given --target) in a fresh interpreter: the
    suite registers schemathesis checks and hypothesis state that must not leak into the project's own tests."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    child_env.update({"IOTHUB_MAX_EXAMPLES": str(examples), **(env or {})})
    command = [sys.executable, "-m", "pytest", suites, "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--iothub-bundle", str(report_dir), *args]
    try:
        done = subprocess.run(command, cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        # Not the exception itself: its message holds the command line, connection string and all.
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else str(exc.stdout or "")
        raise AssertionError(f"the suite run did not end within {timeout} s; its output ended: "
                             f"{redact(output[-1500:])}") from None
    return SuiteRun(done.returncode, done.stdout + done.stderr, report_dir)

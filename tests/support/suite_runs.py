"""Running the conformance suite in a child process and reading its verdicts back from results.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SuiteRun:
    code: int
    output: str
    report_dir: Path

    @property
    def statuses(self) -> dict[str, str]:
        data = json.loads((self.report_dir / "results.json").read_text())
        return {r["id"]: r["status"] for r in data["requirements"]}

    def failing(self) -> set[str]:
        return {rid for rid, status in self.statuses.items() if status in ("fail", "error")}

    def summary(self) -> str:
        """What failed and why: the failing requirements with their detail, then pytest's short summary."""
        lines = []
        report = self.report_dir / "results.json"
        if report.is_file():
            for r in json.loads(report.read_text())["requirements"]:
                if r["status"] in ("fail", "error"):
                    lines.append(f"{r['status'].upper()} {r['id']}: {r['detail'][:400]}")
        tail = self.output[self.output.find("short test summary"):] if "short test summary" in self.output else ""
        return "\n".join(lines) + "\n" + (tail or self.output[-1500:])


def run_suite(report_dir: Path, *args: str, env: dict | None = None, examples: int = 4, timeout: int = 300,
              suites: str = "suites") -> SuiteRun:
    """Run `pytest suites` against the embedded reference (or the given --target) in a fresh interpreter: the
    suite registers schemathesis checks and hypothesis state that must not leak into the project's own tests."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    child_env.update({"IOTHUB_MAX_EXAMPLES": str(examples), **(env or {})})
    command = [sys.executable, "-m", "pytest", suites, "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--iothub-bundle", str(report_dir), *args]
    done = subprocess.run(command, cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=timeout)
    return SuiteRun(done.returncode, done.stdout + done.stderr, report_dir)

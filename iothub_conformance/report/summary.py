"""Per-requirement results (pass / fail / skip / error, as in the OCI conformance suite) from pytest reports."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .. import requirements
from .redact import redact

ORDER = {"fail": 0, "error": 1, "pass": 2, "skip": 3}


@dataclass
class Result:
    test: str
    status: str
    detail: str = ""


class Collector:
    def __init__(self, target) -> None:
        self.target = target
        self.results: dict[str, list[Result]] = {}
        self.report_dir: Path | None = None

    def record(self, report) -> None:
        claimed = [i for name, value in report.user_properties if name == "requirements" for i in value.split(",") if i]
        if not claimed:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            text = redact(str(report.longrepr or ""))
            if report.passed:
                self._add(claimed, report.nodeid, "pass")
            elif report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else text
                self._add(claimed, report.nodeid, "skip", str(reason).removeprefix("Skipped: "))
            elif report.when == "setup":
                self._add(claimed, report.nodeid, "error", text[-500:])
            elif dict(report.user_properties).get("outcome") == "error":
                self._add(claimed, report.nodeid, "error", _excerpt(text, []))
            else:
                failure = dict(report.user_properties).get("failure")
                named = requirements.ids_in(failure if failure is not None else text)
                # A failure that names its requirements fails those; otherwise the test's first (main) requirement.
                for rid in named or claimed[:1]:
                    self._add([rid], report.nodeid, "fail", _excerpt(text, [rid]))

    def _add(self, ids, test, status, detail=""):
        for rid in ids:
            self.results.setdefault(rid, []).append(Result(test, status, detail))

    def status(self, rid: str) -> str:
        results = self.results.get(rid)
        if not results:
            return "skip"
        return min((r.status for r in results), key=ORDER.__getitem__)

    def rows(self):
        for rid, req in requirements.REQUIREMENTS.items():
            results = self.results.get(rid, [])
            status = self.status(rid)
            detail = next((r.detail for r in results if r.status == status), "" if results else "no test ran")
            yield rid, req, status, detail, results

    def table(self) -> list[str]:
        profile = self.target.profile
        lines = ["", f"Requirements ({profile.name} profile, api-version {self.target.api_version}):"]
        counts = dict.fromkeys(ORDER, 0)
        for rid, req, status, detail, _ in self.rows():
            counts[status] += 1
            note = ""
            if status in ("skip", "fail", "error") and detail:
                note = "  — " + detail.splitlines()[0][:110]
            lines.append(f"  {status.upper():5} {rid:18} {req.level:6} {req.statement[:70]}{note}")
        deviations = sorted({(r.profile_rule, profile[r.profile_rule].deviation) for r in requirements.REQUIREMENTS.values()
                             if r.profile_rule and profile[r.profile_rule].deviation})
        for rule, text in deviations:
            lines.append(f"  noted deviation ({rule}): {text}")
        lines.append("  " + ", ".join(f"{n} {s}" for s, n in counts.items()))
        return lines

    def write(self, path: Path) -> None:
        data = {
            "run_id": self.target.run_id,
            "target": redact(self.target.base_url),
            "embedded": self.target.embedded,
            "api_version": self.target.api_version,
            "profile": self.target.profile.name,
            "requirements": [
                {"id": rid, "level": req.level, "statement": req.statement, "source": req.source, "status": status,
                 "detail": detail, "tests": [r.test for r in results]}
                for rid, req, status, detail, results in self.rows()
            ],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")


SCHEMATHESIS_FAILURE = re.compile(r"- (ST\d{3} .*)")


def _excerpt(text: str, named: list[str]) -> str:
    for line in text.splitlines():
        if any(f"[{rid}]" in line for rid in named):
            return line.strip().lstrip("E|").strip()
    match = SCHEMATHESIS_FAILURE.search(text)
    if match:
        return match.group(1).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("E ")]
    return (lines[0][1:].strip() if lines else text.strip().splitlines()[-1] if text.strip() else "")[:300]

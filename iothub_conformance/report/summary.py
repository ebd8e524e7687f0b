"""Per-requirement results (pass / fail / skip / error, as in the OCI conformance suite) from pytest reports."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from iothub_conformance.evidence.journal import Exchange
from iothub_conformance.evidence.redact import redact_data
from iothub_conformance.evidence.text import LIMIT, excerpt
from iothub_conformance.rules import requirements

from .bundle import NOT_REACHED, not_reached
from .coverage import coverage

ORDER = {"fail": 0, "error": 1, "pass": 2, "skip": 3}


FORMAT = "iothub-conformance/results/1"
@dataclass
class Result:
    test: str
    status: str
    detail: str = ""
    evidence: list = field(default_factory=list)  # the failing test's last exchanges (report/transcript.py)


class Collector:
    def __init__(self, target) -> None:
        self.target = target
        self.results: dict[str, list[Result]] = {}
        self.report_dir: Path | None = None
        self.started = now()
        self.seed: str | None = None  # hypothesis's --hypothesis-seed, when the run fixed one
        self.worker_exchanges: list[Exchange] = []  # under `run -n N`: what the workers sent, for coverage
        self.reasons: list[str] = []  # why the run is incomplete; empty: it ran every test it selected
        self.tests_selected: int | None = None
        self.tests_finished = 0  # tests whose teardown was reported: each ran to its end (pass, fail, skip, error)
        self.running: dict[str, None] = {}  # node ids whose setup was reported and teardown not (yet)
        self.finished = False  # the session finished: it judged the run complete or not and wrote the bundle
        self._lock = threading.Lock()

    def mark_incomplete(self, reason: str) -> None:
        """The run ends (or ended) before every selected test ran: its bundle says so, with this reason, and every
        requirement no test reached is marked not reached. Safe from a timer thread or a signal handler."""
        reason = str(reason or "the run ended early").strip()
        with self._lock:
            if reason not in self.reasons:
                self.reasons.append(reason)

    @property
    def complete(self) -> bool:
        return not self.reasons

    @property
    def incomplete(self) -> str | None:
        return "; ".join(self.reasons) if self.reasons else None

    def add_exchanges(self, rows: list) -> None:
        self.worker_exchanges += [Exchange(method, path, status, None, None, bool(generated), api_version)
                                  for method, path, status, generated, api_version in rows]

    def record(self, report) -> None:
        if report.when == "setup":
            self.running[report.nodeid] = None
        elif report.when == "teardown":
            self.tests_finished += 1
            self.running.pop(report.nodeid, None)
        claimed = [i for name, value in report.user_properties if name == "requirements" for i in value.split(",") if i]
        if not claimed:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            text = str(report.longrepr or "")  # the plugin redacted and cut it
            if report.passed:
                self._add(claimed, report.nodeid, "pass")
            elif report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else text
                self._add(claimed, report.nodeid, "skip", excerpt(str(reason).removeprefix("Skipped: ")))
            elif report.when == "setup":
                # The exception's own message (what the target did), not the traceback's tail.
                failure = dict(report.user_properties).get("failure")
                self._add(claimed, report.nodeid, "error", excerpt(failure) if failure else text[-500:],
                          _evidence(report))
            elif dict(report.user_properties).get("outcome") == "not reached":
                # The run deadline cut the test short: it judged nothing.
                self._add(claimed, report.nodeid, "skip", f"{NOT_REACHED} ({self.incomplete or 'the run deadline'}"
                          f"; {report.nodeid} was cut short)")
            elif dict(report.user_properties).get("outcome") == "error":
                failure = dict(report.user_properties).get("failure")
                self._add(claimed, report.nodeid, "error", excerpt(failure) if failure else _excerpt(text),
                          _evidence(report))
            else:
                findings = _findings(report)
                # The requirements the typed failures name fail; a report without them (no plugin) fails the main one.
                failed = list(dict.fromkeys(rid for rid, _ in findings)) or claimed[:1]
                for rid in failed:
                    said = "\n".join(dict.fromkeys(detail for named, detail in findings if named == rid))
                    self._add([rid], report.nodeid, "fail", excerpt(said, LIMIT) if said else _excerpt(text),
                              _evidence(report))
                # The test's other requirements were not judged: it stopped at the failure first.
                stopped = f"not reached: the test stopped at [{failed[0]}] first ({report.nodeid})"
                self._add([rid for rid in claimed if rid not in failed], report.nodeid, "skip", stopped)

    def _add(self, ids, test, status, detail="", evidence=None):
        for rid in ids:
            self.results.setdefault(rid, []).append(Result(test, status, detail, list(evidence or [])))

    def status(self, rid: str) -> str:
        results = self.results.get(rid)
        if not results:
            return "skip"
        return min((r.status for r in results), key=ORDER.__getitem__)

    def _unreached(self) -> str:
        return f"{NOT_REACHED} ({self.incomplete})" if self.reasons else "no test ran"

    def unreached(self) -> int:
        """Requirements the run did not reach because it ended early: no test reached them, or the one that would
        have was cut short. The same rule as results.json readers apply (bundle.not_reached)."""
        return sum(1 for _, _, status, detail, _ in self.rows() if not_reached({"status": status, "detail": detail}))

    def _outside(self, req) -> str | None:
        """Why the run has no test of `req`, when none of its operations is of an api-version the run tests."""
        from iothub_conformance.rules.spec_operations import run_versions

        run = tuple(getattr(self.target, "api_versions", ()) or ())
        if not run:
            return None
        of = run_versions(req.operations)
        if not of or of & set(run):
            return None
        return f"not in this run: api-version {', '.join(sorted(of))} (the run tests {', '.join(run)}; --api-version)"

    def rows(self):
        unreached = self._unreached()
        for rid, req in requirements.judged_by("run").items():
            results = self.results.get(rid, [])
            status = self.status(rid)
            detail = next((r.detail for r in results if r.status == status), "" if results else
                          self._outside(req) or unreached)
            yield rid, req, status, detail, results

    def table(self, most: int = 15) -> list[str]:
        """One screen: requirement counts by surface, then the failures (at most `most`); the full table is in
        results.json and report.html."""
        from .conformance import SURFACES, surface

        profile = self.target.profile
        lines = ["", f"Requirements ({profile.name} profile, api-version {', '.join(_versions(self.target))}):",
                 f"  {'surface':40} {'pass':>5} {'fail':>5} {'error':>6} {'skip':>5}"]
        by_surface: dict[str, dict[str, int]] = {}
        failing = []
        for rid, req, status, detail, _ in self.rows():
            counts = by_surface.setdefault(surface(rid), dict.fromkeys(ORDER, 0))
            counts[status] += 1
            if status in ("fail", "error"):
                note = ("  — " + detail.splitlines()[0][:100]) if detail else ""
                failing.append(f"  {status.upper():5} {rid:18} {req.level:6} {req.statement[:60]}{note}")
        total = dict.fromkeys(ORDER, 0)
        for prefix, counts in by_surface.items():
            name = f"{SURFACES.get(prefix, prefix)} ({prefix})"
            lines.append(f"  {name[:40]:40} {counts['pass']:5} {counts['fail']:5} {counts['error']:6} {counts['skip']:5}")
            for status, n in counts.items():
                total[status] += n
        lines.append(f"  {'all':40} {total['pass']:5} {total['fail']:5} {total['error']:6} {total['skip']:5}")
        lines += failing[:most]
        if len(failing) > most:
            lines.append(f"  … and {len(failing) - most} more failing requirements (results.json, report.html)")
        deviations = self.deviations()
        if deviations:
            lines.append(f"  {len(deviations)} noted deviations of profile {profile.name} from the pages "
                         f"(rules: {', '.join(d['rule'] for d in deviations)})")
        last = ", ".join(f"{n} {s}" for s, n in total.items())
        if self.reasons:
            # The last line says it first: a run that ended early must never read as a clean one.
            last = f"INCOMPLETE ({excerpt(self.incomplete, 300)}): {last}; {self.unreached()} not reached"
        lines.append("  " + last)
        return lines

    def data(self) -> dict:
        """The run's results.json: what was tested, how, and the verdict and evidence per requirement."""
        target = self.target
        rp = getattr(target, "rp", None)
        counts = dict.fromkeys(ORDER, 0)
        rows = []
        for rid, req, status, detail, results in self.rows():
            counts[status] += 1
            evidence = [{"test": r.test, "status": r.status, "detail": r.detail, "exchanges": r.evidence}
                        for r in results if r.status in ("fail", "error")]
            rows.append({"id": rid, "level": req.level, "statement": req.statement, "source": req.source,
                         "profile_rule": req.profile_rule, "status": status, "detail": detail,
                         "tests": [r.test for r in results], "evidence": evidence})
        return {
            "format": FORMAT,
            "run_id": target.run_id,
            "complete": self.complete,
            "incomplete": self.incomplete,  # why not, when complete is false
            "started": self.started,
            "ended": now(),
            "suite": {"version": suite_version(), "commit": _commit()},
            "profile": target.profile.name if target.profile else None,
            "api_version": ",".join(_versions(target)),  # every api-version the run tested, as --api-version takes them
            "target": {"url": target.base_url, "embedded": target.embedded,
                       "rp_url": rp.url if rp is not None else None},
            "tests": {"selected": self.tests_selected, "finished": self.tests_finished},
            "hypothesis": {"seed": self.seed, "max_examples": _max_examples()},
            "specs": spec_digests(),
            "counts": counts,
            "not_reached": sum(1 for row in rows if not_reached(row)),
            "deviations": self.deviations(),
            "requirements": rows,
            "coverage": coverage([*getattr(getattr(target, "journal", None), "exchanges", []),
                                  *self.worker_exchanges], target),
        }

    def deviations(self) -> list[dict]:
        """The profile's noted deviations from the pages, for the requirements a run judges."""
        return deviations(self.target.profile, requirements.judged_by("run").values())

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The data is redacted, not its JSON text: a replacement can then never break the file's quoting.
        path.write_text(json.dumps(redact_data(self.data()), indent=2, ensure_ascii=False), encoding="utf-8")


def deviations(profile, judged) -> list[dict]:
    """The profile's noted deviations from the pages, for the rules the requirements `judged` name."""
    if profile is None:
        return []
    rules = sorted({r.profile_rule for r in judged if r.profile_rule and profile[r.profile_rule].deviation})
    return [{"rule": rule, "deviation": profile[rule].deviation, "source": profile[rule].source} for rule in rules]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evidence(report) -> list:
    raw = dict(report.user_properties).get("evidence")
    try:
        return json.loads(raw) if raw else []
    except ValueError:
        return []


def suite_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iothub-conformance")
    except PackageNotFoundError:
        return None


def _commit() -> str | None:
    """The checkout's commit, when the suite runs from one (a wheel has none)."""
    from ..paths import PACKAGE

    try:
        done = subprocess.run(["git", "-C", str(PACKAGE.parent), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def _max_examples() -> int:
    from iothub_conformance.surfaces.openapi import max_examples

    return max_examples()


def spec_digests() -> list[dict]:
    from ..paths import specs_dir

    root = specs_dir()
    return [{"path": f"specs/{p.relative_to(root).as_posix()}", "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
            for p in sorted(root.rglob("*.yaml"))]


def _findings(report) -> list[tuple[str, str]]:
    """The (requirement id, message) pairs the plugin read from the test's typed failures."""
    raw = dict(report.user_properties).get("findings")
    try:
        pairs = json.loads(raw) if raw else []
    except ValueError:
        return []
    return [(rid, detail) for rid, detail in pairs if rid in requirements.REQUIREMENTS]


def _excerpt(text: str) -> str:
    """A failure's line from a longrepr, when no failure message was kept: its first `E ` line, else its last."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("E ")]
    return (lines[0][1:].strip() if lines else text.strip().splitlines()[-1] if text.strip() else "")[:300]


def _versions(target) -> tuple[str, ...]:
    return tuple(getattr(target, "api_versions", ()) or ()) or (target.api_version,)

"""Two runs compared requirement by requirement: what regressed, what was fixed, what else changed.

Reads the results file of a run bundle (results.json, or requirements.json as earlier runs wrote it). Only the
`requirements` list is needed; the run's profile, api-version and target are compared when both files have them.
An incomplete run is said to be one: a requirement it did not reach is listed as not reached, never as a change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from iothub_conformance.config import ConfigError

from . import bundle
from .bundle import incompleteness, not_reached

BAD = ("fail", "error")


@dataclass
class Results:
    path: str
    requirements: dict[str, dict]  # id → its entry, in file order
    run_id: str | None = None
    profile: str | None = None
    api_version: str | None = None
    target_url: str | None = None
    incomplete: str | None = None  # why the run is incomplete; None: it is complete


@dataclass
class Change:
    id: str
    old: str | None  # None: not in that run
    new: str | None
    statement: str = ""
    detail: str = ""  # the new run's detail, for failures


@dataclass
class Diff:
    old: str
    new: str
    regressions: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    added: list[Change] = field(default_factory=list)  # in NEW only (old is None)
    removed: list[Change] = field(default_factory=list)  # in OLD only (new is None)
    unreached: list[Change] = field(default_factory=list)  # NEW ended early before a test of these ran
    incomplete: str | None = None  # why NEW is incomplete: then no comparison says "no regression"
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def load(path) -> Results:
    file, data = bundle.read(path)
    listed = data["requirements"]
    entries = {}
    for n, entry in enumerate(listed):
        if not (isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("status"), str)):
            raise ConfigError(f"{file}: requirements[{n}] has no id and status")
        entries[entry["id"]] = entry
    target = data.get("target")
    # results.json has {"url": …}; the older requirements.json the URL itself
    url = target.get("url") if isinstance(target, dict) else target if isinstance(target, str) else None
    return Results(str(file), entries, data.get("run_id"), data.get("profile"), data.get("api_version"), url,
                   incompleteness(data))


def _first_line(text) -> str:
    return str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""


def compare(old: Results, new: Results) -> Diff:
    diff = Diff(old.path, new.path, incomplete=new.incomplete)
    if new.incomplete:
        diff.warnings.append(f"NEW is incomplete ({new.incomplete}): what it did not reach is not compared")
    if old.incomplete:
        diff.warnings.append(f"OLD is incomplete ({old.incomplete}): what it did not reach counts as added")
    for label, a, b in (("profile", old.profile, new.profile), ("api-version", old.api_version, new.api_version),
                        ("target URL", old.target_url, new.target_url)):
        if a and b and a != b:  # still compared: the user may mean to compare across them
            diff.warnings.append(f"the runs differ in {label}: {a} → {b}")
    for rid, entry in new.requirements.items():
        before = old.requirements.get(rid)
        status = entry["status"]
        change = Change(rid, before["status"] if before else None, status, entry.get("statement") or "",
                        _first_line(entry.get("detail")) if status in BAD else "")
        if before is not None and not_reached(before):
            before = None  # OLD never judged it
            change.old = None
        if not_reached(entry):
            diff.unreached.append(change)
            continue
        if before is None:
            diff.added.append(change)
            if status in BAD:
                diff.regressions.append(change)
        elif change.old == status:
            continue
        elif status in BAD and change.old not in BAD:
            diff.regressions.append(change)
        elif change.old in BAD and status == "pass":
            diff.fixed.append(change)
        else:  # pass → skip, fail → error, error → skip, …
            diff.changed.append(change)
    diff.removed = [Change(rid, entry["status"], None, entry.get("statement") or "")
                    for rid, entry in old.requirements.items() if rid not in new.requirements and not not_reached(entry)]
    return diff


def _line(change: Change, details: bool) -> str:
    text = f"  {change.id:18} {change.old or '—'} → {change.new or '—'}  {change.statement[:70]}"
    return text + (f"\n      {change.detail}" if details and change.detail else "")


def render(diff: Diff) -> str:
    lines = [f"old: {diff.old}", f"new: {diff.new}"]
    lines += [f"warning: {w}" for w in diff.warnings]
    for title, changes in (("new failures", diff.regressions), ("fixed", diff.fixed),
                           ("status changes", diff.changed), ("added", diff.added), ("removed", diff.removed),
                           ("not reached in NEW (it ended early)", diff.unreached)):
        if changes:
            lines += ["", f"{title} ({len(changes)}):", *(_line(c, details=title == "new failures") for c in changes)]
    last = (f"{len(diff.regressions)} new failures, {len(diff.fixed)} fixed, {len(diff.changed)} other status "
            f"changes, {len(diff.added)} added, {len(diff.removed)} removed")
    if diff.incomplete:
        last = f"NEW IS INCOMPLETE ({diff.incomplete}): {last}, {len(diff.unreached)} not reached"
    lines += ["", last]
    return "\n".join(lines)

"""The bundle of a `check-traffic` run, in the same three files as `run` writes: results.json (the per-requirement
roll-up as in a run, plus each exchange's verdicts, the documented operations the traffic reached and missed, and the
exchanges that match none), junit.xml (one test case per exchange) and report.html (rendered from results.json).

Everything written passes through evidence.redact: recordings hold tokens and keys.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from iothub_conformance.evidence.redact import redact, redact_data
from iothub_conformance.evidence.text import LIMIT, excerpt
from iothub_conformance.report import html, junit, summary
from iothub_conformance.report.summary import FORMAT, ORDER
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.rules.requirements import REQUIREMENTS, Requirement
from iothub_conformance.rules.spec_operations import operations
from iothub_conformance.traffic.exchange import Exchange
from iothub_conformance.traffic.judge import FAIL, PASS, SKIP, Verdict

NOT_SEEN = "no exchange in the traffic showed it"


def judged_here(requests: bool) -> dict[str, Requirement]:
    """The requirements a check-traffic run judges: those one response shows, and with --requests a client's."""
    ways = {"traffic", "requests"} if requests else {"traffic"}
    return {rid: r for rid, r in REQUIREMENTS.items() if ways & set(r.judged_by)}


def _label(verdict: Verdict) -> str:
    request = verdict.exchange.request
    return f"{verdict.exchange.label} {request.method} {request.path}"


def _evidence(exchange: Exchange) -> dict:
    """The exchange in the shape report.html shows a run's evidence in."""
    request, response = exchange.request, exchange.response
    return {"request": f"{request.method} {request.url}", "request_headers": dict(request.headers),
            "request_body": _text(request.body), "status": response.status if response else None,
            "response_headers": dict(response.headers) if response else {},
            "response_body": _text(response.body) if response else None}


def _text(body: bytes) -> str | None:
    if not body:
        return None
    return excerpt(body.decode("utf-8", errors="replace"), LIMIT)


def rows(verdicts: Sequence[Verdict], requests: bool) -> list[dict]:
    """One row per requirement, as results.json of a run has them."""
    found: dict[str, list[tuple[str, str, str, Exchange]]] = {}
    for verdict in verdicts:
        for judgment in verdict.judgments:
            found.setdefault(judgment.requirement, []).append((_label(verdict), judgment.status, judgment.detail,
                                                               verdict.exchange))
    out = []
    for rid, req in judged_here(requests).items():
        results = found.get(rid, [])
        status = min((s for _, s, _, _ in results), key=ORDER.__getitem__) if results else SKIP
        detail = next((d for _, s, d, _ in results if s == status), "") if results else NOT_SEEN
        if status == PASS:
            detail = f"{sum(1 for _, s, _, _ in results if s == PASS)} exchanges showed it"
        evidence = [{"test": label, "status": s, "detail": d, "exchanges": [_evidence(exchange)]}
                    for label, s, d, exchange in results if s == FAIL][:20]
        out.append({"id": rid, "level": req.level, "statement": req.statement, "source": req.source,
                    "profile_rule": req.profile_rule, "status": status, "detail": detail,
                    "tests": list(dict.fromkeys(label for label, _, _, _ in results)), "evidence": evidence})
    return out


def exchanges(verdicts: Sequence[Verdict]) -> list[dict]:
    listed = []
    for verdict in verdicts:
        exchange, match = verdict.exchange, verdict.match
        listed.append({
            "label": exchange.label, "format": exchange.format, "method": exchange.request.method,
            "url": exchange.request.url, "status": exchange.response.status if exchange.response else None,
            "operation": f"{match.spec}#{match.operation_id}" if match else None, "verdict": verdict.status,
            "note": verdict.note or None,
            "judgments": [{"requirement": j.requirement, "status": j.status, "detail": j.detail}
                          for j in verdict.judgments],
            "unobservable": {"request": dict(exchange.unobservable_request),
                             "response": dict(exchange.unobservable_response)},
        })
    return listed


def coverage(verdicts: Sequence[Verdict]) -> list[dict]:
    """Each documented operation: how many exchanges reached it and the statuses they saw."""
    reached: dict[tuple[str, str], list[int]] = {}
    for verdict in verdicts:
        if verdict.match is not None:
            status = verdict.exchange.response.status if verdict.exchange.response else 0
            reached.setdefault((verdict.match.spec, verdict.match.operation_id), []).append(status)
    out = []
    for op in operations():
        statuses = reached.get((op.spec, op.operation_id), [])
        out.append({"spec": op.spec, "operation_id": op.operation_id, "method": op.method.upper(), "path": op.path,
                    "requests": len(statuses), "generated_cases": 0, "statuses": sorted(set(statuses)),
                    "reached": bool(statuses), "why_not": None if statuses else "no exchange in the traffic"})
    return out


def data(verdicts: Sequence[Verdict], files: Sequence[str], profile: Profile, requests: bool, run_id: str,
         started: str) -> dict:
    requirement_rows = rows(verdicts, requests)
    counts = dict.fromkeys(ORDER, 0)
    for row in requirement_rows:
        counts[row["status"]] += 1
    formats = sorted({v.exchange.format for v in verdicts})
    return {
        "format": FORMAT,
        "kind": "traffic",
        "run_id": run_id,
        "complete": True,
        "incomplete": None,
        "started": started,
        "ended": summary.now(),
        "suite": {"version": summary.suite_version(), "commit": None},
        "profile": profile.name,
        "api_version": ", ".join(sorted({v.match.api_version for v in verdicts if v.match})) or None,
        "target": {"url": f"recorded traffic: {len(files)} file(s), {len(verdicts)} exchanges ({', '.join(formats)})",
                   "embedded": False, "rp_url": None},
        "traffic": {"files": list(files), "requests_judged": requests, "exchanges": len(verdicts),
                    "judged": sum(1 for v in verdicts if v.judgments),
                    "undocumented": sum(1 for v in verdicts if v.match is None)},
        "tests": {"selected": len(verdicts), "finished": len(verdicts)},
        "hypothesis": {"seed": None, "max_examples": 0},
        "specs": summary.spec_digests(),
        "counts": counts,
        "not_reached": 0,
        "deviations": summary.deviations(profile, [REQUIREMENTS[row["id"]] for row in requirement_rows]),
        "requirements": requirement_rows,
        "coverage": coverage(verdicts),
        "exchanges": exchanges(verdicts),
        "undocumented": [{"label": v.exchange.label, "method": v.exchange.request.method, "url": v.exchange.request.url,
                          "why": v.note} for v in verdicts if v.match is None],
    }


def junit_xml(verdicts: Sequence[Verdict]) -> ET.Element:
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", {"name": "check-traffic", "tests": str(len(verdicts)), "errors": "0",
                                              "failures": str(sum(1 for v in verdicts if v.status == FAIL)),
                                              "skipped": str(sum(1 for v in verdicts if v.status == SKIP)),
                                              "time": "0"})
    for verdict in verdicts:
        request = verdict.exchange.request
        case = ET.SubElement(suite, "testcase", {"classname": verdict.exchange.source,
                                                  "name": f"#{verdict.exchange.index} {request.method} {request.path}",
                                                  "time": "0"})
        ids = ",".join(dict.fromkeys(j.requirement for j in verdict.judgments))
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", {"name": "requirements", "value": ids})
        if verdict.status == FAIL:
            text = "\n".join(f"[{j.requirement}] {j.detail}" for j in verdict.failures)
            failure = ET.SubElement(case, "failure", {"message": verdict.failures[0].detail[:300]})
            failure.text = text
        elif verdict.status == SKIP:
            reasons = [j.detail for j in verdict.judgments] or [verdict.note or "nothing to judge"]
            ET.SubElement(case, "skipped", {"message": reasons[0][:300]})
    return root


def write(report_dir: Path, results: dict, verdicts: Sequence[Verdict]) -> list[Path]:
    report_dir.mkdir(parents=True, exist_ok=True)
    results = redact_data(results)
    written = []
    path = report_dir / "results.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    written.append(path)
    tree = ET.ElementTree(junit_xml(verdicts))
    path = report_dir / "junit.xml"
    tree.write(path, encoding="utf-8", xml_declaration=True)
    junit.rewrite(path)  # redacted and cut like a run's
    written.append(path)
    path = report_dir / "report.html"
    html.write(results, path)
    written.append(path)
    return written


def summary_lines(results: dict, most: int = 15) -> list[str]:
    """What the terminal shows: the exchanges' verdicts, the failing requirements, the counts."""
    exchanges_ = results["exchanges"]
    by = {s: sum(1 for e in exchanges_ if e["verdict"] == s) for s in (PASS, FAIL, SKIP)}
    traffic = results["traffic"]
    lines = [f"exchanges: {traffic['exchanges']} ({by[PASS]} pass, {by[FAIL]} fail, {by[SKIP]} not judged; "
             f"{traffic['undocumented']} match no documented operation)"]
    failing = [r for r in results["requirements"] if r["status"] == FAIL]
    for r in failing[:most]:
        lines.append(redact(f"  FAIL  {r['id']:18} {r['level']:6} {excerpt(r['detail'], 160).splitlines()[0]}"))
    if len(failing) > most:
        lines.append(f"  … and {len(failing) - most} more failing requirements (results.json, report.html)")
    counts = results["counts"]
    reached = sum(1 for c in results["coverage"] if c["reached"])
    lines.append(f"requirements ({results['profile']} profile): {counts['pass']} pass, {counts['fail']} fail, "
                 f"{counts['skip']} skip; documented operations reached: {reached} of {len(results['coverage'])}")
    return lines

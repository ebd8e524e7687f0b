"""The run's report.html: one self-contained page that tells a person why their endpoint failed.

Built from results.json alone, so `iothub-conformance report` can render it again later. Everything that came from
the run or the target is escaped (a hostile endpoint controls response bodies and headers), and the page loads
nothing: no scripts, fonts, images or outside links. Links are anchors within the page; URLs are shown as text.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from pathlib import Path

from . import bundle
from .bundle import incompleteness, not_reached
from .conformance import SURFACES, surface

BAD = ("fail", "error")
STATUSES = ("fail", "error", "pass", "skip")
LEVELS = ("MUST", "SHOULD")
NOTE = "add your own credentials where the placeholder is"

# NUL and the other C0 controls are not allowed in HTML text, and fonts lack their pictures: show each as \xNN, and a
# run of one (a binary body) as a count. C1 controls and lone surrogates become U+FFFD.
_CONTROLS = re.compile(r"([\x00-\x08\x0b\x0c\x0e-\x1f\x7f])\1*")
_INVALID = re.compile(r"[\x80-\x9f\ud800-\udfff]")


def _control(match: re.Match) -> str:
    code = f"\\x{ord(match.group(1)):02x}"
    n = len(match.group(0))
    return f'<span class="ctl">{code * n if n <= 4 else f"[{n} × {code}]"}</span>'


def _text(value) -> str:
    """The value as escaped HTML text."""
    if value is None:
        return ""
    s = _INVALID.sub("\ufffd", value if isinstance(value, str) else str(value))
    return _CONTROLS.sub(_control, html.escape(s, quote=True))  # escape leaves controls alone: mark them up after


def _anchor(requirement_id) -> str:
    return "req-" + re.sub(r"[^A-Za-z0-9_-]", "-", str(requirement_id))


def _badge(status) -> str:
    status = str(status or "")
    css = status if status in STATUSES else "other"
    return f'<span class="badge {css}">{_text(status.upper() or "?")}</span>'


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def verdict(requirements: list[dict], incomplete: str | None = None) -> tuple[str, str]:
    """The one-line verdict and its CSS class. An incomplete run says so first and is never "all pass"."""
    fail = sum(1 for r in requirements if r.get("status") == "fail")
    error = sum(1 for r in requirements if r.get("status") == "error")
    parts = []
    if fail:
        parts.append(f"{_plural(fail, 'requirement')} {'fails' if fail == 1 else 'fail'}")
    if error:
        parts.append(f"{_plural(error, 'requirement')} could not be decided (error)")
    if incomplete:
        unreached = sum(1 for r in requirements if not_reached(r))
        passed = sum(1 for r in requirements if r.get("status") == "pass")
        parts += [f"{passed} pass", f"{unreached} not reached"]
        return f"incomplete run ({incomplete}): " + ", ".join(parts), "incomplete"
    if not requirements:
        return "no requirements in this run", "none"
    if parts:
        return ", ".join(parts), "bad"
    skipped = sum(1 for r in requirements if r.get("status") == "skip")
    return "all requirements pass" + (f" ({skipped} skipped)" if skipped else ""), "good"


def _duration(started, ended) -> str:
    try:
        seconds = (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
    except (TypeError, ValueError):
        return ""
    return f" ({int(seconds // 60)} min {int(seconds % 60)} s)" if seconds >= 60 else f" ({int(seconds)} s)"


def _header(data: dict, requirements: list[dict]) -> str:
    incomplete = incompleteness(data)
    line, css = verdict(requirements, incomplete)
    target, suite, hypothesis = _dict(data.get("target")), _dict(data.get("suite")), _dict(data.get("hypothesis"))
    url = _text(target.get("url") or "unknown")
    if target.get("embedded"):
        url += " <span class=\"muted\">(the embedded reference)</span>"
    seed = hypothesis.get("seed")
    rows = [
        ("Target", url),
        ("Resource provider (ARM)", _text(target.get("rp_url") or "none")),
        ("Profile", _text(data.get("profile") or "unknown")),
        ("api-version", _text(data.get("api_version") or "unknown")),
        ("Suite", f"{_text(suite.get('version') or '?')}, commit <code>{_text(suite.get('commit') or 'unknown')}</code>"),
        ("Run", f"<code>{_text(data.get('run_id') or '?')}</code>"
                + (f" — <strong>incomplete</strong>: {_text(incomplete)}" if incomplete else ", complete")),
        ("Started / ended", f"{_text(data.get('started') or '?')} / {_text(data.get('ended') or '?')}"
                            f"{_text(_duration(data.get('started'), data.get('ended')))}"),
        ("Hypothesis", f"seed {_text(seed) if seed is not None else 'not fixed'}, "
                       f"{_text(hypothesis.get('max_examples', '?'))} examples per operation"),
    ]
    meta = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (f'<header><h1>IoT Hub REST API conformance</h1>\n<p class="verdict {css}">{_text(line)}</p>\n'
            f'<dl class="meta">{meta}</dl></header>\n')


def _nav(failing: int, exchanges: bool = False) -> str:
    items = [("summary", "Summary"), ("failures", f"Failures and errors ({failing})"),
             ("requirements", "All requirements"), ("deviations", "Noted deviations"),
             *([("exchanges", "Exchanges")] if exchanges else []), ("coverage", "Coverage"), ("specs", "Specs")]
    return '<nav>' + " · ".join(f'<a href="#{key}">{name}</a>' for key, name in items) + '</nav>\n'


def _counts_row(label: str, rows: list[dict], links: bool = True) -> str:
    cells = ""
    for status in STATUSES:
        n = sum(1 for r in rows if r.get("status") == status)
        cells += f'<td class="num{" " + status if n and status in BAD else ""}">{n}</td>'
    failing = ", ".join(f'<a href="#{_anchor(r.get("id"))}">{_text(r.get("id"))}</a>'
                        for r in rows if r.get("status") in BAD) if links else ""
    return f"<tr><th scope=\"row\">{label}</th><td class=\"num\">{len(rows)}</td>{cells}<td>{failing}</td></tr>"


def _summary(requirements: list[dict]) -> str:
    head = ("<tr><th></th><th>requirements</th>" + "".join(f"<th>{s}</th>" for s in STATUSES)
            + "<th>failing</th></tr>")
    by_surface: dict[str, list[dict]] = {}
    for r in requirements:
        by_surface.setdefault(surface(str(r.get("id", ""))), []).append(r)
    surface_rows = "".join(
        _counts_row(f'{_text(SURFACES.get(prefix, prefix))} <span class="muted">{_text(prefix)}</span>', rows)
        for prefix, rows in by_surface.items())
    levels = [lv for lv in LEVELS if any(r.get("level") == lv for r in requirements)]
    levels += sorted({str(r.get("level")) for r in requirements} - set(levels))
    level_rows = "".join(_counts_row(_text(lv), [r for r in requirements if str(r.get("level")) == lv])
                         for lv in levels)
    total = _counts_row("All", requirements, links=False)
    return ('<section id="summary"><h2>Summary</h2>\n'
            f'<h3>By surface</h3><table class="counts"><thead>{head}</thead><tbody>{surface_rows}</tbody>'
            f'<tfoot>{total}</tfoot></table>\n'
            f'<h3>By level</h3><table class="counts"><thead>{head}</thead><tbody>{level_rows}</tbody></table>'
            '</section>\n')


def _pretty(body) -> str:
    """A JSON body indented, so a person can read it; anything else (or a body cut short) as it was."""
    text = str(body)
    if text[:1] in "{[" and text:
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return text


def _message(first: str, headers, body) -> str:
    lines = [first] + [f"{name}: {value}" for name, value in _dict(headers).items()]
    text = "\n".join(str(line) for line in lines)
    if body:
        text += "\n\n" + _pretty(body)
    return text


def _exchange(n: int, total: int, exchange: dict) -> str:
    request = str(exchange.get("request") or "")
    status = exchange.get("status")
    sent = _message(request, exchange.get("request_headers"), exchange.get("request_body"))
    received = _message(f"HTTP {status}", exchange.get("response_headers"), exchange.get("response_body"))
    curl = exchange.get("curl")
    # the curl line carries a placeholder where the run's credential was; a request sent without one has none
    note = f" ({NOTE})" if "<your " in str(curl) else ""
    reproduce = f'<p class="note">Reproduce it{note}:</p><pre class="curl">{_text(curl)}</pre>' if curl else ""
    method = request.split(" ", 1)[0]
    return (f'<div class="exchange"><h5>Exchange {n} of {total}: {_text(method)} → {_text(status)}</h5>'
            '<div class="pair">'
            f'<div><h6>Request</h6><pre>{_text(sent)}</pre></div>'
            f'<div><h6>Response</h6><pre>{_text(received)}</pre></div>'
            f'</div>{reproduce}</div>\n')


def _evidence(evidence: dict) -> str:
    exchanges = [e for e in _list(evidence.get("exchanges")) if isinstance(e, dict)]
    body = "".join(_exchange(n, len(exchanges), e) for n, e in enumerate(exchanges, 1))
    if not exchanges:
        body = '<p class="muted">The test sent no request before it failed, or none was kept.</p>'
    else:
        body = f'<p class="muted">The test\'s last exchanges with the target, oldest first:</p>{body}'
    return (f'<div class="evidence"><h4>{_badge(evidence.get("status"))} test <code>{_text(evidence.get("test"))}'
            f'</code></h4><pre class="detail">{_text(evidence.get("detail"))}</pre>{body}</div>\n')


def _distinct(tests) -> list[str]:
    return list(dict.fromkeys(str(t) for t in _list(tests)))


def _failure(r: dict) -> str:
    rule = f'<p>Profile rule: <code>{_text(r["profile_rule"])}</code></p>' if r.get("profile_rule") else ""
    tests = _distinct(r.get("tests"))
    listed = ", ".join(f"<code>{_text(t)}</code>" for t in tests)
    ran = f'<p class="small muted">Tests for it in this run: {listed}</p>' if tests else ""
    evidence = [e for e in _list(r.get("evidence")) if isinstance(e, dict)]
    shown = "".join(_evidence(e) for e in evidence) or '<p class="muted">No evidence was recorded.</p>'
    # the requirement's detail is its first failing test's: say it once
    detail = "" if evidence and evidence[0].get("detail") == r.get("detail") else \
        f'<pre class="detail">{_text(r.get("detail"))}</pre>'
    return (f'<article class="failure" id="{_anchor(r.get("id"))}">'
            f'<h3>{_badge(r.get("status"))} {_text(r.get("id"))} <span class="level">{_text(r.get("level"))}</span></h3>'
            f'<p class="statement">{_text(r.get("statement"))}</p>'
            f'<p class="source">Source: {_text(r.get("source"))}</p>{rule}'
            f'{detail}{ran}{shown}</article>\n')


def _failures(requirements: list[dict]) -> str:
    bad = [r for r in requirements if r.get("status") in BAD]
    # errors after failures: a failure is a verdict on the endpoint, an error may be the run's own trouble
    bad.sort(key=lambda r: BAD.index(r.get("status")))
    body = "".join(_failure(r) for r in bad) or '<p class="good">No requirement fails.</p>'
    return f'<section id="failures"><h2>Failures and errors</h2>\n{body}</section>\n'


def _brief(detail, limit: int = 300) -> str:
    text = str(detail or "").strip()
    first = text.splitlines()[0] if text else ""
    return first[:limit] + ("…" if len(first) > limit or "\n" in text else "")


def _requirement_row(r: dict) -> str:
    status = r.get("status")
    rid = _text(r.get("id"))
    if status in BAD:
        rid = f'<a href="#{_anchor(r.get("id"))}">{rid}</a>'
    # skip reasons are short and the whole point of the cell; a failure's detail is in full above
    detail = _text(r.get("detail")) if status == "skip" else _text(_brief(r.get("detail")))
    css = status if status in STATUSES else "other"
    return (f'<tr class="{css}"><td class="id">{rid}</td><td class="nowrap">{_text(r.get("level"))}</td>'
            f'<td class="nowrap">{_badge(status)}</td><td>{_text(r.get("statement"))}</td>'
            f'<td class="small wrap">{_text(r.get("source"))}</td><td class="small wrap">{detail}</td></tr>')


def _requirements(requirements: list[dict]) -> str:
    rows = "\n".join(_requirement_row(r) for r in requirements)
    return ('<section id="requirements"><h2>All requirements</h2>\n<table class="requirements"><thead><tr>'
            '<th>id</th><th>level</th><th>status</th><th>statement</th><th>source</th><th>skip reason / detail</th>'
            f'</tr></thead><tbody>\n{rows}\n</tbody></table></section>\n')


def _deviations(data: dict) -> str:
    deviations = [d for d in _list(data.get("deviations")) if isinstance(d, dict)]
    rows = "".join(f'<tr><td><code>{_text(d.get("rule"))}</code></td><td>{_text(d.get("deviation"))}</td>'
                   f'<td class="small wrap">{_text(d.get("source"))}</td></tr>' for d in deviations)
    body = (f'<table><thead><tr><th>rule</th><th>deviation</th><th>source</th></tr></thead><tbody>{rows}</tbody>'
            '</table>') if rows else '<p class="muted">None.</p>'
    return (f'<section id="deviations"><h2>Noted deviations of the {_text(data.get("profile") or "")} profile</h2>'
            f'<p class="muted">Where the profile departs from the pages and why.</p>{body}</section>\n')


def _operation_row(c: dict) -> str:
    statuses = ", ".join(_text(s) for s in _list(c.get("statuses")))
    if c.get("reached"):
        css, note = "reached", ""
    else:
        css, note = "unreached", f'<strong>not reached</strong>: {_text(c.get("why_not") or "no request matched")}'
    path = _text(c.get("path")).replace("/", "/<wbr>")  # long ARM paths break at a slash, not mid-word
    return (f'<tr class="{css}"><td class="nowrap">{_text(c.get("method"))}</td><td class="path wrap">{path}</td>'
            f'<td class="wrap">{_text(c.get("operation_id"))}</td><td class="num">{_text(c.get("requests"))}</td>'
            f'<td class="num">{_text(c.get("generated_cases"))}</td><td>{statuses}</td><td class="small">{note}</td>'
            '</tr>')


def _coverage(data: dict) -> str:
    operations = [c for c in _list(data.get("coverage")) if isinstance(c, dict)]
    by_spec: dict[str, list[dict]] = {}
    for c in operations:
        by_spec.setdefault(str(c.get("spec") or "?"), []).append(c)
    rows = []
    for spec, listed in by_spec.items():  # the spec as a heading row, not a column repeated on every row
        reached = sum(1 for c in listed if c.get("reached"))
        rows.append(f'<tr class="group"><th colspan="7">{_text(spec)} <span class="muted">— {reached} of '
                    f'{len(listed)} exercised</span></th></tr>')
        rows += [_operation_row(c) for c in listed]
    table = ('<table class="coverage"><thead><tr><th>method</th><th>path</th><th>operationId</th>'
             '<th>requests</th><th>generated cases</th><th>statuses seen</th><th>not reached because</th></tr>'
             f'</thead><tbody>\n{chr(10).join(rows)}\n</tbody></table>') if rows else ""
    reached = sum(1 for c in operations if c.get("reached"))
    return (f'<section id="coverage"><h2>Coverage</h2><p>{reached} of {len(operations)} documented operations '
            f'exercised.</p>{table}</section>\n')


def _judgment(j: dict) -> str:
    return (f'<li>{_badge(j.get("status"))} <code>{_text(j.get("requirement"))}</code> '
            f'<span class="small">{_text(_brief(j.get("detail"), 400))}</span></li>')


def _exchange_row(e: dict) -> str:
    judgments = [j for j in _list(e.get("judgments")) if isinstance(j, dict)]
    # The failures and skips are the point; the passes are counted.
    shown = "".join(_judgment(j) for j in judgments if j.get("status") != "pass")
    passes = sum(1 for j in judgments if j.get("status") == "pass")
    said = (f'<ul class="judgments">{shown}</ul>' if shown else "") + \
        (f'<span class="small muted">{passes} passed</span>' if passes else "") + \
        (f'<span class="small muted">{_text(e.get("note"))}</span>' if e.get("note") else "")
    css = e.get("verdict") if e.get("verdict") in STATUSES else "other"
    return (f'<tr class="{css}"><td class="small wrap">{_text(e.get("label"))}</td>'
            f'<td class="nowrap">{_text(e.get("method"))}</td><td class="path wrap">{_text(e.get("url"))}</td>'
            f'<td class="num">{_text(e.get("status"))}</td><td class="small wrap">{_text(e.get("operation") or "—")}</td>'
            f'<td class="nowrap">{_badge(e.get("verdict"))}</td><td>{said}</td></tr>')


def _exchanges(data: dict) -> str:
    """A check-traffic bundle's exchanges, failing ones first: what each was, and what it showed."""
    if "exchanges" not in data:
        return ""
    listed = [e for e in _list(data.get("exchanges")) if isinstance(e, dict)]
    order = {"fail": 0, "pass": 1, "skip": 2}
    listed.sort(key=lambda e: order.get(str(e.get("verdict")), 3))
    rows = "\n".join(_exchange_row(e) for e in listed)
    judged = sum(1 for e in listed if e.get("verdict") != "skip")
    return (f'<section id="exchanges"><h2>Exchanges</h2><p>{len(listed)} recorded exchanges, {judged} judged; '
            'those that match no documented operation are listed with why.</p>'
            '<table class="exchanges"><thead><tr><th>exchange</th><th>method</th><th>url</th><th>status</th>'
            '<th>operation</th><th>verdict</th><th>what it showed</th></tr></thead>'
            f'<tbody>\n{rows}\n</tbody></table></section>\n')


def _specs(data: dict) -> str:
    specs = [s for s in _list(data.get("specs")) if isinstance(s, dict)]
    rows = "".join(f'<tr><td class="wrap">{_text(s.get("path"))}</td>'
                   f'<td class="wrap"><code>{_text(s.get("sha256"))}</code></td></tr>'
                   for s in specs)
    body = (f'<table><thead><tr><th>file</th><th>SHA-256</th></tr></thead><tbody>{rows}</tbody></table>'
            if rows else '<p class="muted">Not recorded.</p>')
    return f'<section id="specs"><h2>Specs</h2>{body}</section>\n'


# No fixed widths: tables and <pre> wrap, so nothing is clipped on a narrow window or on paper.
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;margin:0 auto;padding:1.5rem;
max-width:110rem}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin:1.2rem 0 .4rem}h4{margin:1rem 0 .3rem}h5{margin:.8rem 0 .3rem;font-size:.95rem;overflow-wrap:anywhere}
h6{margin:.2rem 0;font-size:.8rem;text-transform:uppercase;color:#57606a}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;
padding:.5rem .7rem;margin:.3rem 0}
.verdict{font-size:1.35rem;font-weight:700;margin:.2rem 0 .8rem;padding:.4rem .8rem;border-radius:4px;display:inline-block}
.verdict.bad,.verdict.incomplete{color:#fff;background:#cf222e}.verdict.good{color:#fff;background:#1a7f37}.verdict.none{background:#eaeef2}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}
.meta dt{font-weight:600;color:#57606a}.meta dd{margin:0;overflow-wrap:anywhere}
nav{margin:1rem 0;padding:.4rem 0;border-top:1px solid #d0d7de;border-bottom:1px solid #d0d7de}
a{color:#0550ae}
table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
/* anywhere: long tokens (file names, paths) may break, so a table never grows past the page */
.wrap{overflow-wrap:anywhere}.nowrap,.id{white-space:nowrap}
thead th{background:#eaeef2}tfoot th,tfoot td{font-weight:700;background:#f6f8fa}
table.counts{width:auto;min-width:50%}table.counts th,td.num{white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.num.fail,td.num.error{color:#cf222e;font-weight:700}
.small{font-size:.85rem}.muted{color:#57606a}.path{font-family:ui-monospace,monospace;font-size:.85rem}
.badge{display:inline-block;min-width:3.2rem;text-align:center;font-size:.75rem;font-weight:700;padding:.05rem .35rem;
border-radius:3px;color:#fff;background:#6e7781}
.badge.fail{background:#cf222e}.badge.error{background:#bc4c00}.badge.pass{background:#1a7f37}.badge.skip{background:#8c959f}
tr.fail td{background:#ffebe9}tr.error td{background:#fff1e5}tr.skip td{color:#57606a}
tr.unreached td{background:#fff8c5}ul.judgments{margin:0;padding-left:1rem}tr.group th{background:#f6f8fa;padding-top:.5rem}
.level{font-size:.8rem;font-weight:600;color:#57606a;border:1px solid #d0d7de;border-radius:3px;padding:0 .3rem}
.failure{border:1px solid #d0d7de;border-left:5px solid #cf222e;border-radius:4px;padding:.2rem 1rem .8rem;margin:1rem 0}
.statement{font-size:1.05rem;margin:.2rem 0}.source{color:#57606a;margin:.2rem 0}
pre.detail{background:#ffebe9;border-color:#ff8182}
.evidence{border-top:1px dashed #d0d7de;margin-top:.8rem}
.exchange{margin:.6rem 0 .6rem .6rem;padding-left:.6rem;border-left:3px solid #d0d7de}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:.6rem}
.ctl{color:#8250df}.note{margin:.4rem 0 0;font-size:.85rem;color:#57606a}pre.curl{background:#fff;border-style:dashed}
@media print{body{padding:0;font-size:11pt}nav{display:none}a{color:inherit;text-decoration:none}
.pair{display:block}.failure{break-inside:auto}h2,h3,h4,h5{break-after:avoid}
.verdict,.badge,tr.fail td,tr.error td,tr.unreached td,pre.detail{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def render(data: dict) -> str:
    """The whole page for one run's results.json data."""
    requirements = [r for r in _list(data.get("requirements")) if isinstance(r, dict)]
    line, _ = verdict(requirements, incompleteness(data))
    failing = sum(1 for r in requirements if r.get("status") in BAD)
    title = f"IoT Hub conformance: {line} (run {data.get('run_id') or '?'})"
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            # Belt and braces: even if something slipped through escaping, the browser loads and runs nothing.
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f'<title>{_text(title)}</title><style>{CSS}</style></head>\n<body>\n'
            + _header(data, requirements) + _nav(failing, "exchanges" in data) + _summary(requirements)
            + _failures(requirements)
            + _requirements(requirements) + _deviations(data) + _exchanges(data) + _coverage(data) + _specs(data)
            + f'<footer class="muted small"><p>From results.json ({_text(data.get("format") or "unknown format")}). '
              'Secrets in requests and responses were replaced before this page was written.</p></footer>\n'
            '</body></html>\n')


def results_file(path) -> Path:
    return bundle.results_file(path)


def load(path) -> dict:
    return bundle.read(path)[1]


def write(data: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(data), encoding="utf-8")

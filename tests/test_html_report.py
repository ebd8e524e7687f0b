"""report.html: one self-contained page per run — every requirement a row, every failure its evidence and curl line,
everything from the target escaped, nothing loaded from outside; a run writes it, `report` renders it again."""

import copy
import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from iothub_conformance.report import html
from tests.support.suite_runs import ROOT

CURL = ("curl -X PUT 'https://hub.example.net/devices/d1?api-version=2016-02-03' -H 'Authorization: <your SAS token>' "
        "-H 'content-type: application/json' --data-binary '{\"deviceId\":\"d1\"}'")


def exchange(**changes) -> dict:
    entry = {"request": "PUT https://hub.example.net/devices/d1?api-version=2016-02-03",
             "request_headers": {"content-type": "application/json"}, "request_body": '{"deviceId":"d1"}',
             "status": 200, "response_headers": {"etag": "AAAQ", "content-type": "application/json"},
             "response_body": '{"deviceId":"d1","etag":"AAAQ"}', "curl": CURL}
    return {**entry, **changes}


def requirement(rid, status, level="MUST", detail=None, evidence=()) -> dict:
    return {"id": rid, "level": level, "statement": f"statement of {rid}",
            "source": "docs/sources/update-an-existing-device-identity.md", "profile_rule": None, "status": status,
            "detail": detail, "tests": [f"suites/t.py::test_{rid}"], "evidence": list(evidence)}


DATA = {
    "format": "iothub-conformance/results/1", "run_id": "abc12345",
    "started": "2026-01-01T00:00:00Z", "ended": "2026-01-01T00:01:05Z",
    "suite": {"version": "0.1.0", "commit": "0" * 40}, "profile": "iothub", "api_version": "2016-02-03",
    "target": {"url": "https://hub.example.net", "embedded": False, "rp_url": "https://arm.example.net"},
    "hypothesis": {"seed": "42", "max_examples": 15},
    "specs": [{"path": "specs/2016-02-03/common.yaml", "sha256": "ab" * 32}],
    "counts": {"fail": 1, "error": 1, "pass": 2, "skip": 1},
    "deviations": [{"rule": "create_statuses", "deviation": "the real service answers 200 to a create",
                    "source": "OBSERVED.md §1"}],
    "requirements": [
        requirement("COMMON-SPEC-001", "pass"),
        requirement("DI-ETAG-002", "fail", detail="[DI-ETAG-002] ETag 'AAAQ' is not an RFC 7232 entity-tag",
                    evidence=[{"test": "suites/t.py::test_etag", "status": "fail",
                               "detail": "[DI-ETAG-002] ETag 'AAAQ' is not an RFC 7232 entity-tag",
                               "exchanges": [exchange()]}]),
        requirement("MSG-D2C-001", "error", detail="ConnectError: refused",
                    evidence=[{"test": "suites/t.py::test_send", "status": "error", "detail": "ConnectError: refused",
                               "exchanges": []}]),
        requirement("RP-ETAG-001", "pass", level="SHOULD"),
        requirement("DI-COND-005", "skip", detail="profile iothub takes no position on create_if_match_star"),
    ],
    "coverage": [
        {"spec": "specs/2016-02-03/device-identities.yaml", "operation_id": "getDevice", "method": "GET",
         "path": "/devices/{deviceId}", "source": "docs/sources/retrieve-a-device-identity.md", "requests": 7,
         "generated_cases": 3,
         "statuses": [200, 404], "reached": True, "why_not": None},
        {"spec": "specs/2016-02-03/jobs.yaml", "operation_id": "importDevices", "method": "GET",
         "path": "/importdevices", "source": "docs/sources/import-or-update-device-identities.md", "requests": 0,
         "generated_cases": 0, "statuses": [],
         "reached": False, "why_not": "profile iothub starts jobs with POST /jobs/create (rule job_start)"},
    ],
}


class Page(HTMLParser):
    """The page's tags, attributes and text, as a browser would see them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def section(page: str, key: str) -> str:
    start = page.index(f'<section id="{key}">')
    return page[start:page.index("</section>", start)]


def test_every_requirement_has_a_row_and_every_failure_its_details_with_the_curl_line():
    page = html.render(DATA)
    table = section(page, "requirements")
    assert table.count("<tr class=") == len(DATA["requirements"])
    assert all(r["id"] in table for r in DATA["requirements"])
    failures = section(page, "failures")
    for rid in ("DI-ETAG-002", "MSG-D2C-001"):
        assert f'<article class="failure" id="req-{rid}">' in failures
    assert "COMMON-SPEC-001" not in failures and "DI-COND-005" not in failures
    etag = failures[failures.index('id="req-DI-ETAG-002"'):failures.index('id="req-MSG-D2C-001"')]
    assert "statement of DI-ETAG-002" in etag and "docs/sources/update-an-existing-device-identity.md" in etag
    assert "suites/t.py::test_etag" in etag and "is not an RFC 7232 entity-tag" in etag
    assert html._text(CURL) in etag and html.NOTE in etag
    assert "HTTP 200" in etag and "etag: AAAQ" in etag and "content-type: application/json" in etag
    # the table cell of a skip says why
    assert "profile iothub takes no position on create_if_match_star" in table


def test_the_header_summary_and_other_sections():
    page = html.render(DATA)
    assert '<p class="verdict bad">1 requirement fails, 1 requirement could not be decided (error)</p>' in page
    for shown in ("https://hub.example.net", "https://arm.example.net", "iothub", "2016-02-03", "0.1.0", "0" * 40,
                  "abc12345", "2026-01-01T00:00:00Z", "2026-01-01T00:01:05Z", "(1 min 5 s)", "seed 42",
                  "15 examples"):
        assert shown in page[:page.index("<nav>")], shown
    summary = section(page, "summary")
    assert "Device identities" in summary and "Resource provider" in summary and "SHOULD" in summary
    assert "By level" in summary and "By surface" in summary
    assert "the real service answers 200 to a create" in section(page, "deviations")
    coverage = section(page, "coverage")
    assert "1 of 2 documented operations exercised" in coverage
    assert '<tr class="unreached">' in coverage and "rule job_start" in coverage and "getDevice" in coverage
    assert "ab" * 32 in section(page, "specs")


def test_each_failing_id_in_the_summary_links_to_its_details():
    parsed = Page(html.render(DATA))
    ids = {a["id"] for _, a in parsed.tags if "id" in a}
    summary = section(html.render(DATA), "summary")
    for rid in ("DI-ETAG-002", "MSG-D2C-001"):
        assert f'href="#req-{rid}"' in summary and f"req-{rid}" in ids
    assert all(a["href"][1:] in ids for a in parsed.all("a"))


def test_a_passing_run_says_so_in_green():
    data = copy.deepcopy(DATA)
    for r in data["requirements"]:
        if r["status"] in ("fail", "error"):
            r.update(status="pass", detail=None, evidence=[])
    page = html.render(data)
    assert '<p class="verdict good">all requirements pass (1 skipped)</p>' in page
    assert "No requirement fails." in section(page, "failures")


def test_an_incomplete_run_says_so_and_never_all_pass():
    data = copy.deepcopy(DATA)
    for r in data["requirements"]:
        if r["status"] in ("fail", "error"):
            r.update(status="skip", detail="not reached: the run ended early (no tests collected)", evidence=[])
    assert '<p class="verdict good">all requirements pass (3 skipped)</p>' in html.render(data)  # as a complete file
    data.update(complete=False, incomplete="no tests collected")
    page = html.render(data)
    assert '<p class="verdict incomplete">incomplete run (no tests collected): 2 pass, 2 not reached</p>' in page
    assert "all requirements pass" not in page and "<title>IoT Hub conformance: incomplete run" in page
    assert "<strong>incomplete</strong>: no tests collected" in page
    data["requirements"][1]["status"] = "fail"
    assert "incomplete run (no tests collected): 1 requirement fails, 2 pass, 1 not reached" in html.render(data)


HOSTILE_BODY = "<script>alert(1)</script>"
HOSTILE_HEADER = '"><img src=x onerror=alert(1)>'


def hostile() -> dict:
    data = copy.deepcopy(DATA)
    evil = exchange(response_body=HOSTILE_BODY, response_headers={"x-evil": HOSTILE_HEADER, HOSTILE_HEADER: "v"},
                    request=f"GET https://hub.example.net/devices/{HOSTILE_HEADER}", request_body="\x00" * 100 + "\x07",
                    curl=f"curl -X GET 'https://hub.example.net/devices/{HOSTILE_HEADER}'")
    failing = data["requirements"][1]
    failing["detail"] = f"AssertionError: {HOSTILE_BODY}"
    failing["evidence"][0]["exchanges"].append(evil)
    failing["evidence"][0]["test"] = f"suites/t.py::test[{HOSTILE_HEADER}]"
    data["target"]["url"] = f"https://hub.example.net/{HOSTILE_HEADER}"
    data["run_id"] = HOSTILE_BODY
    data["requirements"][0]["id"] = f'X-"{HOSTILE_HEADER}'
    return data


def test_what_the_target_sent_is_escaped():
    page = html.render(hostile())
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    parsed = Page(page)
    assert not parsed.all("script") and not parsed.all("img")
    assert not [a for _, a in parsed.tags if any(k.startswith("on") for k in a)]
    text = "".join(parsed.text)
    assert HOSTILE_BODY in text and f"x-evil: {HOSTILE_HEADER}" in text  # the reader sees what was sent, as text
    # NUL is not allowed in HTML: a run of them is shown as a count
    assert "\x00" not in page and "\x07" not in page and "[100 × \\x00]" in text and "\\x07" in text


def test_the_page_loads_nothing_from_anywhere():
    for data in (DATA, hostile()):
        page = html.render(data)
        parsed = Page(page)
        tags = {t for t, _ in parsed.tags}
        assert not tags & {"script", "img", "link", "iframe", "object", "embed", "video", "audio", "source", "form",
                           "base", "svg", "frame", "input"}
        for _, attrs in parsed.tags:
            assert not set(attrs) & {"src", "srcset", "action", "poster", "background", "formaction", "data"}
            assert attrs.get("href") is None or attrs["href"].startswith("#"), attrs
        assert "url(" not in html.CSS and "@import" not in html.CSS
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    # the target URL is there, as text
    assert "https://hub.example.net" in "".join(Page(html.render(DATA)).text)


def test_an_odd_or_older_file_still_renders():
    page = html.render({"requirements": [{"id": "DI-X-1", "status": "fail", "evidence": [{"exchanges": [{}]}]}]})
    assert "1 requirement fails" in page and 'id="req-DI-X-1"' in page
    assert "no requirements in this run" in html.render({"requirements": []})


def test_a_run_writes_report_html_into_its_bundle(failing_identities_run):
    run = failing_identities_run
    assert run.code == 1, run.summary()
    page = (run.report_dir / "report.html").read_text(encoding="utf-8")
    data = json.loads((run.report_dir / "results.json").read_text(encoding="utf-8"))
    assert page == html.render(data)
    failures = section(page, "failures")
    assert 'id="req-DI-ETAG-002"' in failures and "&lt;your SAS token&gt;" in failures
    assert "SharedAccessSignature" not in page
    assert "report.html" not in run.output  # the plugin prints nothing new


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "report", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_the_report_command_renders_a_bundle_again(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(DATA), encoding="utf-8")
    done = _cli(tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == html.render(DATA)
    out = tmp_path / "elsewhere" / "page.html"
    done = _cli(tmp_path / "results.json", "--output", out)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == html.render(DATA) and str(out) in done.stdout


@pytest.mark.parametrize("content, message", [
    (None, "no such file|holds no results.json"),  # the file, or the directory without one
    ("{", "is not JSON"),
    ("[]", "no requirements list"),
    ('{"requirements": {}}', "no requirements list"),
    (b"\xff\xfe", "cannot read it"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, content, message):
    if isinstance(content, bytes):
        (tmp_path / "results.json").write_bytes(content)
    elif content is not None:
        (tmp_path / "results.json").write_text(content)
    for arg in (tmp_path, tmp_path / "results.json"):
        done = _cli(arg)
        assert done.returncode == 2, done.stdout + done.stderr
        assert re.search(message, done.stderr) and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "report.html").exists()

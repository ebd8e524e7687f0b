"""`check-traffic`: recorded exchanges judged by the specs and the checks, responses and (with --requests) requests.

The corpus of real-service recordings (tests/recordings/, SOURCES.md) raises no failure under iothub, and under
docs-strict only what the iothub profile notes as deviations. The official SDKs' traffic against the reference
(tests/recordings/sdk/: the 2016 Node.js SDKs, the 2021-04-12 Python service SDK and Node.js device SDK) keeps every
client rule under iothub. Each check fails on an exchange that breaks its rule.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from iothub_conformance.http import sas
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from iothub_conformance.rules.requirements import REQUIREMENTS, judged_by
from iothub_conformance.traffic import bundle, formats, judge
from tests.support import node_sdks
from tests.support.reference_api import API, hub_body, hub_path
from tests.support.served import rp_flags, serving
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

RECORDINGS = ROOT / "tests" / "recordings"
REAL = sorted(p for p in RECORDINGS.rglob("*") if p.is_file() and p.suffix != ".md" and "sdk" not in p.parts)
SDK = sorted((RECORDINGS / "sdk").glob("*.har"))
HUB = "conformance-hub.azure-devices.net"
SIG = "dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSAhISE="  # base64 of 32 bytes, not a signature of any key
TOKEN = f"SharedAccessSignature sr={HUB}&sig={SIG.replace('=', '%3D')}&se=4102444800&skn=iothubowner"
STARTED = "2026-12-01T12:00:00.000+00:00"
DEVICE = {"deviceId": "d1", "generationId": "1", "etag": "MQ==", "status": "enabled", "statusReason": None,
          "connectionState": "disconnected", "statusUpdatedTime": "2026-12-01T12:00:00Z",
          "connectionStateUpdatedTime": "2026-12-01T12:00:00Z", "lastActivityTime": "2026-12-01T12:00:00Z",
          "cloudToDeviceMessageCount": 0,
          "authentication": {"symmetricKey": {"primaryKey": "A" * 43 + "=", "secondaryKey": "A" * 43 + "="}}}


def entry(method="GET", path="/devices/d1", query="api-version=2016-02-03", headers=None, body=None, status=200,
          response_headers=None, response_body=DEVICE, drop=()) -> dict:
    """A HAR entry of a well-formed device exchange; `headers`/`response_headers` add or replace (None removes)."""
    sent = {"Authorization": TOKEN, **({"Content-Type": "application/json"} if body is not None else {})}
    answered = {"x-ms-request-id": f"r-{method}-{status}-{len(json.dumps(body))}", "ETag": '"MQ=="',
                "Content-Type": "application/json; charset=utf-8"} if response_body is not None else \
        {"x-ms-request-id": f"r-{method}-{status}"}
    sent.update(headers or {})
    answered.update(response_headers or {})
    text = json.dumps(response_body) if response_body is not None else ""
    request = {"method": method, "url": f"https://{HUB}{path}" + (f"?{query}" if query else ""),
               "headers": [{"name": k, "value": v} for k, v in sent.items() if v is not None and k not in drop],
               "bodySize": len(json.dumps(body)) if body is not None else 0}
    if body is not None:
        request["postData"] = {"mimeType": sent.get("Content-Type") or "", "text": json.dumps(body)}
    return {"startedDateTime": STARTED, "request": request,
            "response": {"status": status, "headers": [{"name": k, "value": v} for k, v in answered.items()
                                                       if v is not None and k not in drop],
                         "content": {"size": len(text), "text": text}}}


def har(tmp_path: Path, *entries: dict, name: str = "traffic.har") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test"}, "entries": list(entries)}}))
    return path


def verdicts(path: Path, profile=IOTHUB, requests=False) -> list[judge.Verdict]:
    return judge.judge_all(formats.read(path), profile, requests=requests)


def failing(found: list[judge.Verdict]) -> set[str]:
    return {j.requirement for v in found for j in v.failures}


def passing(found: list[judge.Verdict]) -> set[str]:
    return {j.requirement for v in found for j in v.judgments if j.status == judge.PASS}


# -- the real service -------------------------------------------------------------------------------------------------

@pytest.mark.requirement("RP-SPEC-001")
def test_the_real_service_recordings_raise_no_failure_under_iothub():
    found = judge.judge_all(formats.read_all(REAL), IOTHUB)
    assert len(found) >= 100 and sum(1 for v in found if v.judgments) >= 11
    assert failing(found) == set(), [(v.exchange.label, v.failures) for v in found if v.failures]
    assert {"RP-READ-001", "RP-SPEC-001", "RP-REQID-001", "RP-STATE-001"} <= passing(found)
    # What no operation documents is listed, not judged.
    assert all(v.note and not v.judgments for v in found if v.match is None)


def test_under_docs_strict_the_real_service_fails_only_where_iothub_notes_a_deviation():
    found = judge.judge_all(formats.read_all(REAL), DOCS_STRICT)
    failed = failing(found)
    assert failed == {"RP-ETAG-001", "RP-STATE-001"}
    for rid in failed:
        rule = REQUIREMENTS[rid].profile_rule
        assert rule and IOTHUB[rule].deviation and IOTHUB[rule].value != DOCS_STRICT[rule].value, rid


# -- a real SDK's requests ----------------------------------------------------------------------------------------------

def test_the_recorded_sdks_requests_keep_every_client_rule_under_iothub():
    found = judge.judge_all(formats.read_all(SDK), IOTHUB, requests=True)
    assert len(found) >= 10 and failing(found) == set(), [(v.exchange.label, v.failures) for v in found if v.failures]
    assert {"CLIENT-OP-001", "CLIENT-APIVER-001", "CLIENT-AUTH-001", "CLIENT-BODY-001", "CLIENT-SAS-001",
            "CLIENT-SAS-002", "CLIENT-SAS-003", "CLIENT-SAS-004"} <= passing(found)


def test_a_fresh_run_of_the_real_sdks_against_the_served_reference_keeps_every_client_rule():
    # The SDKs, unmodified, drive `serve --record` now (tests/support/node_sdks.py); their requests are judged.
    runs = node_sdks.shared_runs()
    exchanges = []
    for run in runs.values():
        assert run.returncode == 0, run.last_line
        agent = node_sdks.USER_AGENTS[run.name]
        exchanges += [e for e in formats.read(run.har) if e.request.header("user-agent") == agent]
    found = judge.judge_all(exchanges, IOTHUB, requests=True)
    assert len(found) == 12 and failing(found) == set(), [(v.exchange.label, v.failures) for v in found if v.failures]
    assert {"CLIENT-SAS-001", "CLIENT-SAS-002", "CLIENT-SAS-003", "CLIENT-SAS-004", "CLIENT-BODY-001"} <= passing(found)


def test_under_docs_strict_the_sdks_depart_only_where_iothub_notes_a_deviation():
    found = judge.judge_all(formats.read_all(SDK), DOCS_STRICT, requests=True)
    clients = {rid for rid in failing(found) if REQUIREMENTS[rid].of_client}
    # The service's lenient JSON reader; the Node.js device SDK's lower-case …/devicebound, which docs-strict does not
    # take as the REST reference's deviceBound.
    assert clients == {"CLIENT-BODY-001", "CLIENT-OP-001"}
    assert IOTHUB["lenient_json_reader"].deviation and IOTHUB["c2d_path_casings"].deviation
    unmatched = {v.exchange.request.path.rsplit("/messages/", 1)[-1].split("/")[0] for v in found
                 if "CLIENT-OP-001" in {f.requirement for f in v.failures}}
    assert unmatched == {"devicebound"}


# -- each request rule fails on a request that breaks it ------------------------------------------------------------------

PUT = {"method": "PUT", "body": {"deviceId": "d1"}}
BROKEN_REQUESTS = [
    ("no api-version", dict(query=""), "CLIENT-APIVER-001"),
    ("undocumented path", dict(path="/devices/d1/things"), "CLIENT-OP-001"),
    ("no Authorization", dict(drop=("Authorization",)), "CLIENT-AUTH-001"),
    ("not a SAS token", dict(headers={"Authorization": "Basic dXNlcjpwYXNz"}), "CLIENT-SAS-001"),
    ("sr names another hub", dict(headers={"Authorization": TOKEN.replace(f"sr={HUB}", "sr=other.azure-devices.net")}),
     "CLIENT-SAS-001"),
    ("sr scoped to another device", dict(headers={"Authorization": TOKEN.replace(f"sr={HUB}", f"sr={HUB}%2Fdevices%2Fd2")}),
     "CLIENT-SAS-001"),
    ("expired before it was sent", dict(headers={"Authorization": TOKEN.replace("se=4102444800", "se=1700000000")}),
     "CLIENT-SAS-002"),
    ("service token without skn", dict(headers={"Authorization": TOKEN.replace("&skn=iothubowner", "")}),
     "CLIENT-SAS-003"),
    ("signature of 16 bytes", dict(headers={"Authorization": TOKEN.replace(SIG.replace("=", "%3D"),
                                                                           "AAAAAAAAAAAAAAAAAAAAAA%3D%3D")}),
     "CLIENT-SAS-004"),
    ("If-Match not an entity-tag", dict(**PUT, headers={"If-Match": "MQ=="}), "CLIENT-IFMATCH-001"),
    ("JSON body as text/plain", dict(**PUT, headers={"Content-Type": "text/plain"}), "CLIENT-CT-001"),
    ("body off the schema", dict(method="PUT", body={"deviceId": "d1", "status": 7}), "CLIENT-BODY-001"),
]


@pytest.mark.requirement("CLIENT-OP-001", "CLIENT-APIVER-001", "CLIENT-AUTH-001", "CLIENT-CT-001",
                         "CLIENT-BODY-001", "CLIENT-IFMATCH-001", "CLIENT-SAS-001", "CLIENT-SAS-002", "CLIENT-SAS-003",
                         "CLIENT-SAS-004")
@pytest.mark.parametrize(("label", "change", "requirement"), BROKEN_REQUESTS, ids=[b[0] for b in BROKEN_REQUESTS])
def test_a_request_that_breaks_a_client_rule_fails_it_and_nothing_else(tmp_path, label, change, requirement):
    same_operation = PUT if change.get("method") == "PUT" else {}
    good = verdicts(har(tmp_path, entry(**same_operation)), requests=True)
    assert failing(good) == set(), good[0].failures
    found = verdicts(har(tmp_path, entry(**change), name="broken.har"), requests=True)
    clients = {rid for rid in failing(found) if REQUIREMENTS[rid].of_client}
    assert clients == {requirement}, found[0].failures


def test_a_token_the_recorder_redacted_is_judged_from_the_facts_it_kept_and_else_not_at_all(tmp_path):
    redacted = entry(headers={"Authorization": "SharedAccessSignature <redacted>"})
    found = verdicts(har(tmp_path, redacted), requests=True)
    assert not {"CLIENT-SAS-001", "CLIENT-SAS-002", "CLIENT-SAS-004"} & (failing(found) | passing(found))
    kept = copy.deepcopy(redacted)
    kept["request"]["_sasToken"] = {"sr": HUB, "se": "1700000000", "skn": "iothubowner", "sig_bytes": 32}
    found = verdicts(har(tmp_path, kept, name="kept.har"), requests=True)
    assert "CLIENT-SAS-002" in failing(found) and "CLIENT-SAS-004" in passing(found)


# -- each response check fails on a response that breaks it -----------------------------------------------------------

BROKEN_RESPONSES = [
    ("no x-ms-request-id", dict(response_headers={"x-ms-request-id": None}), "COMMON-REQID-001"),
    ("no ETag on a device GET", dict(response_headers={"ETag": None}), "DI-ETAG-001"),
    ("unquoted ETag", dict(response_headers={"ETag": "MQ=="}), "DI-ETAG-002"),
    ("header and body etag differ", dict(response_headers={"ETag": '"Mg=="'}), "DI-ETAG-003"),
    ("JSON said to be text", dict(response_headers={"Content-Type": "text/plain"}), "COMMON-HDR-001"),
    ("an undocumented status", dict(status=299), "COMMON-SPEC-001"),
    ("an error without the envelope", dict(status=404, response_body={"error": "no"}, response_headers={"ETag": None}),
     "COMMON-ERR-001"),
    ("no api-version answered 200", dict(query=""), "COMMON-APIVER-001"),
]


@pytest.mark.parametrize(("label", "change", "requirement"), BROKEN_RESPONSES, ids=[b[0] for b in BROKEN_RESPONSES])
def test_a_response_that_breaks_a_rule_fails_it(tmp_path, label, change, requirement):
    assert failing(verdicts(har(tmp_path, entry()))) == set()
    found = verdicts(har(tmp_path, entry(**change), name="broken.har"))
    assert requirement in failing(found), found[0].judgments


def test_a_repeated_request_id_and_an_etag_unchanged_by_a_write_fail(tmp_path):
    same = {"x-ms-request-id": "same"}
    found = verdicts(har(tmp_path, entry(response_headers=same), entry(response_headers=same)))
    assert "COMMON-REQID-002" in failing(found)
    put = entry(method="PUT", body={"deviceId": "d1"}, response_headers={"x-ms-request-id": "r2"})
    found = verdicts(har(tmp_path, entry(), put, name="write.har"))
    assert "DI-ETAG-004" in failing(found)


def test_a_header_the_recorder_wrote_a_placeholder_over_is_unobservable_not_a_failure(tmp_path):
    found = verdicts(har(tmp_path, entry(response_headers={"x-ms-request-id": "[Filtered]"})))
    judged = {j.requirement: j for j in found[0].judgments}
    assert judged["COMMON-REQID-001"].status == judge.SKIP and "unobservable" in judged["COMMON-REQID-001"].detail
    # …unless the user says the recorder keeps it.
    exchange = judge.adjusted(formats.read(har(tmp_path, entry(response_headers={"x-ms-request-id": ""}),
                                               name="b.har"))[0], unobservable=["x-ms-request-id"])
    assert judge.judge(exchange, IOTHUB).failures == []


def test_every_requirement_a_check_decides_on_traffic_is_one_the_registry_says_traffic_judges(tmp_path):
    decided = set()
    for _, change, _ in BROKEN_RESPONSES + BROKEN_REQUESTS:
        for profile in (IOTHUB, DOCS_STRICT):
            for verdict in verdicts(har(tmp_path, entry(**change)), profile, requests=True):
                decided |= {j.requirement for j in verdict.judgments}
    decided |= {j.requirement for v in judge.judge_all(formats.read_all(REAL + SDK), IOTHUB, requests=True)
                for j in v.judgments}
    allowed = set(judged_by("traffic")) | set(judged_by("requests"))
    assert decided <= allowed, sorted(decided - allowed)
    # Those no exchange here decides: the message-lock rules, shown by their own tests (tests/test_check_messages.py).
    assert allowed - decided <= {"MSG-RECV-002", "MSG-LOCK-001", "DI-ETAG-005", "COMMON-APIVER-004", "COMMON-AUTH-001",
                                 "RP-ERR-001", "RP-ETAG-001"}, sorted(allowed - decided)


# -- the reference's own traffic ------------------------------------------------------------------------------------------

def reference_traffic(tmp_path: Path, *faults: str) -> list[judge.Verdict]:
    """A device and a hub made, read and deleted through `serve --record`, judged with its requests."""
    path = tmp_path / f"reference{len(faults)}.har"
    flags = [flag for fault in faults for flag in ("--fault", fault)]
    with serving("--record", str(path), "--rp-delay", "0", *flags) as served:
        cs = sas.parse_connection_string(served.connection_string)
        token = {"Authorization": sas.build_token(cs.host_name, cs.key, cs.key_name)}
        bearer = {"Authorization": f"Bearer {rp_flags(served.announced)['--rp-token']}"}
        with httpx.Client(base_url=served.url, timeout=10) as client:
            assert client.put("/devices/judged", params=API, headers=token, json={"deviceId": "judged"}).is_success
            client.get("/devices/judged", params=API, headers=token)
            client.delete("/devices/judged", params=API, headers={**token, "If-Match": "*"})
            assert client.put(hub_path("judged-hub"), params=API, headers=bearer, json=hub_body()).is_success
            client.get(hub_path("judged-hub"), params=API, headers=bearer)
            client.post(hub_path("judged-hub") + "/listkeys", params=API, headers=bearer)
            client.delete(hub_path("judged-hub"), params=API, headers=bearer)
    exchanges = [e for e in formats.read(path) if e.request.path != "/statistics/service"]  # serving()'s probe
    return judge.judge_all(exchanges, IOTHUB, requests=True)


@pytest.mark.requirement("RP-SPEC-001")
def test_the_reference_answers_its_own_traffic_check_and_a_fault_fails_it(tmp_path):
    clean = reference_traffic(tmp_path)
    assert len(clean) == 7 and failing(clean) == set(), [(v.exchange.label, v.failures) for v in clean if v.failures]
    assert {"RP-SPEC-001", "RP-READ-001", "COMMON-SPEC-001", "DI-ETAG-002", "CLIENT-SAS-001", "CLIENT-SAS-002",
            "CLIENT-SAS-004"} <= passing(clean)
    broken = reference_traffic(tmp_path, "rp-delete-no-location")
    assert failing(broken) == {"RP-SPEC-001"}, [(v.exchange.label, v.failures) for v in broken if v.failures]


# -- the command -------------------------------------------------------------------------------------------------------

def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "check-traffic", *args],
                          capture_output=True, text=True, timeout=120)


def test_the_command_writes_the_bundle_and_exits_as_run_does(tmp_path):
    clean = cli(*map(str, REAL), "--bundle", str(tmp_path / "real"))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    results = json.loads((tmp_path / "real" / "results.json").read_text())
    assert results["kind"] == "traffic" and results["traffic"]["exchanges"] >= 100
    assert [r["id"] for r in results["requirements"]] == list(bundle.judged_here(False))
    assert results["undocumented"] and all(u["why"] for u in results["undocumented"])
    assert any(c["reached"] for c in results["coverage"]) and not all(c["reached"] for c in results["coverage"])
    cases = ET.parse(tmp_path / "real" / "junit.xml").getroot().iter("testcase")
    assert sum(1 for _ in cases) == results["traffic"]["exchanges"]
    page = (tmp_path / "real" / "report.html").read_text()
    assert 'id="exchanges"' in page and f'{results["traffic"]["exchanges"]} recorded exchanges' in page

    broken = har(tmp_path, entry(query=""), entry(headers={"Authorization": TOKEN.replace("se=4102444800", "se=1")}))
    failed = cli(str(broken), "--requests", "--bundle", str(tmp_path / "broken"))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "CLIENT-APIVER-001" in failed.stdout and "CLIENT-SAS-002" in failed.stdout
    failures = ET.parse(tmp_path / "broken" / "junit.xml").getroot().iter("failure")
    assert sum(1 for _ in failures) == 2
    assert "has no api-version" in (tmp_path / "broken" / "report.html").read_text()
    written = "".join((tmp_path / "broken" / name).read_text() for name in ("results.json", "junit.xml", "report.html"))
    assert SIG not in written and SIG.replace("=", "%3D") not in written and SIG not in failed.stdout

    bad = tmp_path / "bad.har"
    bad.write_text("{not json")
    refused = cli(str(bad))
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr

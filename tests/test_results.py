"""The run's results.json: what was tested and how (suite version and commit, spec hashes, api-version, profile,
target, times, hypothesis settings) and, per requirement, the verdict with its evidence — the failing test's last
exchanges, redacted, each with a curl line that reproduces it once the user adds their own credentials."""

import hashlib
import json

import httpx

from iothub_conformance.config import DEFAULT_API_VERSION
from iothub_conformance.evidence import transcript
from iothub_conformance.evidence.redact import redact
from iothub_conformance.paths import specs_dir
from iothub_conformance.rules.requirements import judged_by
from tests.support.suite_runs import run_suite


def test_a_failing_run_writes_results_with_metadata_and_evidence(failing_identities_run):
    run = failing_identities_run
    assert run.code == 1, run.summary()
    data = json.loads((run.report_dir / "results.json").read_text())
    assert data["format"] == "iothub-conformance/results/1"
    assert data["suite"]["version"] and (data["suite"]["commit"] is None or len(data["suite"]["commit"]) == 40)
    assert (data["profile"], data["api_version"]) == ("iothub", DEFAULT_API_VERSION)  # every covered version
    assert data["target"]["embedded"] is True and data["target"]["url"].startswith("https://")
    assert data["started"] <= data["ended"] and data["hypothesis"]["max_examples"] == 4
    for spec in data["specs"]:
        assert hashlib.sha256((specs_dir().parent / spec["path"]).read_bytes()).hexdigest() == spec["sha256"], spec["path"]
    assert {s["path"] for s in data["specs"]} == {f"specs/{p.relative_to(specs_dir()).as_posix()}"
                                                   for p in specs_dir().rglob("*.yaml")}
    assert [r["id"] for r in data["requirements"]] == list(judged_by("run"))
    assert sum(data["counts"].values()) == len(judged_by("run"))
    failed = {r["id"]: r for r in data["requirements"] if r["status"] == "fail"}
    evidence = failed["DI-ETAG-002"]["evidence"][0]
    assert evidence["test"].startswith("suites/test_device_identities.py::") and "[DI-ETAG-002]" in evidence["detail"]
    last = evidence["exchanges"][-1]
    assert last["status"] in (200, 201) and "etag" in {k.lower() for k in last["response_headers"]}
    assert "<your SAS token>" in last["curl"] and "SharedAccessSignature" not in json.dumps(data)
    assert all(not r["evidence"] for r in data["requirements"] if r["status"] == "pass")


def request(method="PUT", url="https://h/devices/d?api-version=2016-02-03&sig=abc", headers=None, body=b""):
    return httpx.Request(method, url, headers=headers or {}, content=body)


def test_curl_puts_a_placeholder_where_the_credential_was():
    sas = request(headers={"Authorization": "SharedAccessSignature sr=h&sig=s3cr3t&se=1&skn=owner",
                           "If-Match": '"AAA"', "Content-Type": "application/json"}, body=b'{"deviceId":"d"}')
    line = transcript.curl(sas, sas.content)
    assert "<your SAS token>" in line and "s3cr3t" not in line and "sig=<redacted>" in line
    assert "if-match: \"AAA\"" in line and "--data-binary" in line
    bearer = request("GET", "https://m/subscriptions/s", headers={"Authorization": "Bearer eyJ0eXAi.x.y"})
    line = transcript.curl(bearer, b"")
    # The placeholder survives the final redaction of the whole file, and the token is not there.
    assert "Bearer <your AAD token>" in redact(line) and "eyJ0eXAi" not in line


def test_an_exchange_is_redacted_and_cut():
    sent = request(body=b'{"authentication":{"symmetricKey":{"primaryKey":"a2V5","secondaryKey":"a2V5"}}}')
    response = httpx.Response(200, content=b"x" * (transcript.BODY_LIMIT + 10), request=sent)
    entry = transcript.exchange(response)
    size = transcript.BODY_LIMIT + 10
    assert "a2V5" not in json.dumps(entry)
    assert entry["response_body"] == "x" * transcript.BODY_LIMIT + f"… ({size:,} bytes, first 2,048 shown)"


def test_only_the_running_tests_last_exchanges_are_kept():
    kept = transcript.Transcripts()
    kept.record(httpx.Response(200, request=request()))  # no test running: nothing kept
    kept.begin("t")
    for status in range(200, 200 + transcript.KEPT + 2):
        kept.record(httpx.Response(status, request=request()))
    ended = [transcript.exchange(response) for response in kept.end()]
    assert [e["status"] for e in ended] == list(range(202, 200 + transcript.KEPT + 2))
    assert kept.end() == []


def test_coverage_counts_requests_and_generated_cases_per_operation_and_says_why_one_was_not_reached(tmp_path):
    run = run_suite(tmp_path / "report", suites="suites/test_jobs.py")
    assert run.code == 0, run.summary()
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    rows = {(r["spec"], r["operation_id"]): r for r in data["coverage"]}
    listed = rows[("specs/2016-02-03/jobs.yaml", "listImportExportJobs")]
    assert listed["reached"] and listed["requests"] >= 1 and 200 in listed["statuses"]
    assert listed["generated_cases"] == 0  # test_jobs.py sends only the suite's own requests
    importdevices = rows[("specs/2016-02-03/jobs.yaml", "importDevices")]
    assert not importdevices["reached"] and "job_start" in importdevices["why_not"]
    devices = rows[("specs/2016-02-03/device-identities.yaml", "createOrUpdateDevice")]
    assert devices["reached"]  # the job tests make their devices through it
    assert all(r["why_not"] for r in data["coverage"] if not r["reached"])


def test_coverage_matches_literal_paths_before_templates():
    from iothub_conformance.report.coverage import match

    assert {op.operation_id for op in match("GET", "/jobs/v2/query")} == {"queryJobs", "Jobs_QueryScheduledJobs"}
    hub = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Devices/IotHubs/h"
    assert [op.operation_id for op in match("GET", hub)] == ["IotHubResource_Get"]
    assert match("GET", "/nowhere") == []
    # The same path in two api-versions' specs is either one's, as the exchange's api-version says.
    assert [op.operation_id for op in match("GET", "/jobs/v2/query", ["2021-04-12"])] == ["Jobs_QueryScheduledJobs"]
    assert [op.operation_id for op in match("GET", "/jobs/v2/query", ["2016-11-14"])] == ["queryJobs"]


def test_a_requirement_whose_test_the_deadline_cut_short_counts_as_not_reached():
    """The count results.json and the terminal give is the rows' own: a requirement no test reached, and one whose
    only test the run deadline cut short, are both not reached."""
    from types import SimpleNamespace

    from iothub_conformance.report.bundle import not_reached
    from iothub_conformance.report.summary import Collector

    collector = Collector(SimpleNamespace())
    collector.mark_incomplete("the run deadline of 3 s was reached (--deadline)")
    collector.record(SimpleNamespace(when="call", passed=False, skipped=False, failed=True, nodeid="suites/t.py::t",
                                     longrepr="cut", user_properties=[("requirements", "TWIN-GET-001"),
                                                                      ("outcome", "not reached")]))
    rows = [{"status": status, "detail": detail} for _, _, status, detail, _ in collector.rows()]
    assert collector.results["TWIN-GET-001"] and collector.unreached() == sum(map(not_reached, rows)) == len(rows)

"""Secrets never reach a report, log or transcript: run failing suites with known secrets, with every log channel on
(-rA, --log-level=INFO, --log-file, --log-cli-level=DEBUG), and count each secret's hits in the terminal output, the
log file and every file of the bundle. Zero allowed; the counts are printed (`pytest -s tests/test_secrets.py`)."""

import base64
import html
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from iothub_conformance.evidence.redact import redact
from iothub_conformance.http import sas
from tests.support.served import serving
from tests.support.suite_runs import run_suite

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

KEY = base64.b64encode(b"conformance-known-secret-key-32b").decode()
CONNECTION_STRING = f"HostName=secrets-hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
URL_PASSWORD = "Pa55-w0rd-in-the-url"
LOGS = ("-rA", "--log-level=INFO", "--log-cli-level=DEBUG")


def _normal(text: str) -> str:
    """The text as a reader sees it: HTML/XML entities and JSON's escaped quotes undone, percent-encoding decoded."""
    return unquote(html.unescape(text).replace('\\"', '"'))


def _hits(text: str, known: dict[str, str] | None = None) -> dict[str, int]:
    """How often each kind of secret occurs in the text (its shapes, plus the known values given)."""
    text = _normal(text)
    counts = {
        "shared access key": text.count(KEY.rstrip("=")),
        "sig= value": len(re.findall(r"(?i)sig=[^&\s\"'<]+", text)),
        "SAS token": len(re.findall(r"SharedAccessSignature\s+(?:sr|sig|se|skn)=", text)),
        "device key in JSON": len(re.findall(r"""["'](?:primaryKey|secondaryKey)["']\s*:\s*["'](?!<redacted>)[^"']+""",
                                             text)),
    }
    for name, value in (known or {}).items():
        counts[name] = text.count(value)
    return counts


def scan(run, bundle: Path, log_file: Path | None = None, known: dict[str, str] | None = None) -> dict:
    """Every place a run writes to, each secret's count in it; printed so that the counts can be quoted."""
    places = {"terminal": run.output}
    if log_file is not None:
        places["--log-file"] = log_file.read_text(encoding="utf-8") if log_file.is_file() else ""
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        places[f"bundle/{path.relative_to(bundle)}"] = path.read_text(encoding="utf-8")
    counts = {place: _hits(text, known) for place, text in places.items()}
    for place, found in counts.items():
        size = len(places[place])
        print(f"secrets grep: {place} ({size:,} characters): "
              + ", ".join(f"{name} {n}" for name, n in found.items()))
    return counts


def assert_none(counts: dict) -> None:
    leaks = {place: {k: n for k, n in found.items() if n} for place, found in counts.items()}
    assert not any(leaks.values()), {place: found for place, found in leaks.items() if found}


def test_failing_run_writes_no_secret_anywhere(tmp_path):
    # Faults make checks fail, so failure transcripts (requests, responses, curl lines) are written; every log
    # channel is on, so httpx's request logs and the suite's own reach the terminal and the log file.
    log_file = tmp_path / "run.log"
    run = run_suite(tmp_path / "report", "--iothub-connection-string", CONNECTION_STRING,
                    "--iothub-reference-faults", "unquoted-etag,no-auth-required,ignore-if-match", *LOGS,
                    f"--log-file={log_file}", "--log-file-level=DEBUG")
    assert run.code == 1, run.output[-2000:]
    assert {p.name for p in (tmp_path / "report").iterdir()} >= {"junit.xml", "results.json", "report.html"}
    assert "HTTP Request: PUT" in log_file.read_text(encoding="utf-8")  # the logs were there to be redacted
    assert_none(scan(run, tmp_path / "report", log_file))


def test_a_password_in_the_target_url_is_nowhere(tmp_path):
    log_file = tmp_path / "run.log"
    with serving("--rp-delay", "0", "--fault", "unquoted-etag") as (url, connection_string):
        target = url.replace("http://", f"http://conf-user:{URL_PASSWORD}@")
        run = run_suite(tmp_path / "report", "--iothub-target", target, "--iothub-connection-string",
                        connection_string, *LOGS, f"--log-file={log_file}", examples=1,
                        suites="suites/test_device_identities.py")
    assert run.code == 1, run.output[-2000:]
    assert run.output.splitlines()[0].startswith("target: http://conf-user:<redacted>@127.0.0.1:")
    assert "conf-user:<redacted>@" in log_file.read_text(encoding="utf-8")  # httpx logged the URL, redacted
    assert_none(scan(run, tmp_path / "report", log_file, {"URL password": URL_PASSWORD}))


def test_redact_removes_every_secret_shape():
    token = sas.build_token("secrets-hub.azure-devices.net", KEY, "iothubowner")
    text = (f"Authorization: {token}\n{CONNECTION_STRING}\nBearer eyJhbGciOi.J9.sig\n"
            f'{{"authentication": {{"symmetricKey": {{"primaryKey": "{KEY}", "secondaryKey": "{KEY}"}}}}}}\n'
            f"https://user:{URL_PASSWORD}@host/x")
    assert any(_hits(text, {"URL password": URL_PASSWORD}).values())
    cleaned = redact(text)
    assert not any(_hits(cleaned, {"URL password": URL_PASSWORD}).values()), cleaned
    assert "eyJhbGciOi" not in cleaned


def test_failing_job_run_writes_no_blob_sas_anywhere(tmp_path, azurite):
    # Job responses echo the container SAS URIs; a job fault makes them appear in failure transcripts, and httpx
    # logs the blob requests' URLs with their sig=.
    container = azurite.container()
    sas_query = container.split("?", 1)[1]
    signature = unquote(re.search(r"sig=([^&]+)", sas_query).group(1))[:20]
    log_file = tmp_path / "run.log"
    run = run_suite(tmp_path / "report", "--iothub-blob-container", container,
                    "--iothub-reference-faults", "job-status-done,failed-job-without-reason", *LOGS,
                    f"--log-file={log_file}", suites="suites/test_jobs.py")
    assert run.code == 1, run.output[-2000:]
    assert "sig=<redacted>" in log_file.read_text(encoding="utf-8")  # the blob URLs were logged, redacted
    assert_none(scan(run, tmp_path / "report", log_file, {"blob signature": signature}))


def test_redact_removes_a_storage_account_key():
    cleaned = redact("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=c2VjcmV0LWtleQ==;BlobEndpoint=x;")
    assert "c2VjcmV0LWtleQ" not in cleaned


def test_failing_rp_run_writes_no_bearer_token_or_hub_key_anywhere(tmp_path):
    # These faults make RP checks fail on responses that carry the hubs' keys, and the failing generated reads print
    # their requests (with the bearer token) as reproduction commands. docs-strict: the profile that wants the
    # ETag header beside a hub's body etag (rule rp_etag_header).
    from iothub_conformance.reference import REFERENCE_RP_TOKEN

    log_file = tmp_path / "run.log"
    run = run_suite(tmp_path / "report", "--iothub-profile", "docs-strict",
                    "--iothub-reference-faults", "rp-get-reveals-keys,rp-no-etag-header", *LOGS,
                    f"--log-file={log_file}", suites="suites/test_resource_provider.py")
    assert run.code == 1, run.output[-2000:]
    assert run.statuses["RP-ETAG-001"] == "fail", run.statuses
    assert_none(scan(run, tmp_path / "report", log_file, {"bearer token": REFERENCE_RP_TOKEN}))


def test_redact_removes_a_key_whose_name_was_cut_away():
    # pytest shortens a long repr in an assertion message, and may cut "primaryKey" away from its value.
    cleaned = redact(f"{{'authentication':...'{KEY}', 'secondaryKey': '<redacted>'}}")
    assert KEY not in cleaned and KEY.rstrip("=") not in cleaned
    assert redact("etag MjM0NzE5NA== and id 3e371160-a307-4216-b0a9-dd741d4cde50") == \
        "etag MjM0NzE5NA== and id 3e371160-a307-4216-b0a9-dd741d4cde50"  # short tags and ids stay readable

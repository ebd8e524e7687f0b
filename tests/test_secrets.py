"""Secrets never reach a report, log or transcript: run a failing suite with known secrets and grep everything."""

import base64
import re
from urllib.parse import unquote

from iothub_conformance import sas
from iothub_conformance.report.redact import redact
from tests.conftest import run_suite

KEY = base64.b64encode(b"conformance-known-secret-key-32b").decode()
CONNECTION_STRING = f"HostName=secrets-hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"


def _leaks(text: str) -> list[str]:
    found = []
    if KEY in text or KEY.rstrip("=") in text:
        found.append("the shared access key")
    found += [m for m in re.findall(r"sig=[^&\s\"'<]+", text) if "redacted" not in m]
    found += re.findall(r"SharedAccessSignature sr=\S+", text)
    found += [m for m in re.findall(r'"primaryKey"\s*:\s*"[^"]+"', text) if "redacted" not in m]
    return found


def test_failing_run_writes_no_secret_anywhere(tmp_path):
    # Faults make checks fail, so failure transcripts (requests, responses, curl lines) are written.
    run = run_suite(tmp_path / "report", "--iothub-connection-string", CONNECTION_STRING,
                    "--iothub-reference-faults", "unquoted-etag,no-auth-required,ignore-if-match", "-rA")
    assert run.code == 1, run.output[-2000:]
    files = [p for p in (tmp_path / "report").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"junit.xml", "results.json", "report.html"}
    for path in files:
        assert not _leaks(path.read_text(encoding="utf-8")), f"secret in {path.name}: {_leaks(path.read_text())[:2]}"
    assert not _leaks(run.output), f"secret in the terminal output: {_leaks(run.output)[:2]}"


def test_redact_removes_every_secret_shape():
    token = sas.build_token("secrets-hub.azure-devices.net", KEY, "iothubowner")
    text = (f"Authorization: {token}\n{CONNECTION_STRING}\nBearer eyJhbGciOi.J9.sig\n"
            f'{{"authentication": {{"symmetricKey": {{"primaryKey": "{KEY}", "secondaryKey": "{KEY}"}}}}}}')
    cleaned = redact(text)
    assert not _leaks(cleaned), cleaned
    assert "eyJhbGciOi" not in cleaned


def test_failing_job_run_writes_no_blob_sas_anywhere(tmp_path, azurite):
    # Job responses echo the container SAS URIs; a job fault makes them appear in failure transcripts.
    container = azurite.container()
    sas_query = container.split("?", 1)[1]
    signature = unquote(re.search(r"sig=([^&]+)", sas_query).group(1))[:20]
    run = run_suite(tmp_path / "report", "--iothub-blob-container", container,
                    "--iothub-reference-faults", "job-status-done,failed-job-without-reason", "-rA",
                    suites="suites/test_jobs.py")
    assert run.code == 1, run.output[-2000:]
    for path in [p for p in (tmp_path / "report").rglob("*") if p.is_file()]:
        text = path.read_text(encoding="utf-8")
        assert signature not in unquote(text) and not _leaks(text), f"the blob SAS in {path.name}"
    assert signature not in unquote(run.output) and not _leaks(run.output), "the blob SAS in the terminal output"


def test_redact_removes_a_storage_account_key():
    cleaned = redact("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=c2VjcmV0LWtleQ==;BlobEndpoint=x;")
    assert "c2VjcmV0LWtleQ" not in cleaned


def test_failing_rp_run_writes_no_bearer_token_or_hub_key_anywhere(tmp_path):
    # These faults make RP checks fail on responses that carry the hubs' keys, and the failing generated reads print
    # their requests (with the bearer token) as reproduction commands.
    from iothub_conformance.reference.rp import REFERENCE_ARM_TOKEN

    run = run_suite(tmp_path / "report", "--iothub-reference-faults", "rp-get-reveals-keys,rp-no-etag-header", "-rA",
                    suites="suites/test_resource_provider.py")
    assert run.code == 1, run.output[-2000:]
    assert run.statuses["RP-ETAG-001"] == "fail", run.statuses
    for path in [p for p in (tmp_path / "report").rglob("*") if p.is_file()] + [None]:
        text = run.output if path is None else path.read_text(encoding="utf-8")
        where = "the terminal output" if path is None else path.name
        assert REFERENCE_ARM_TOKEN not in text, f"the bearer token in {where}"
        assert not _leaks(text), f"a secret in {where}: {_leaks(text)[:2]}"


def test_redact_removes_a_key_whose_name_was_cut_away():
    # pytest shortens a long repr in an assertion message, and may cut "primaryKey" away from its value.
    cleaned = redact(f"{{'authentication':...'{KEY}', 'secondaryKey': '<redacted>'}}")
    assert KEY not in cleaned and KEY.rstrip("=") not in cleaned
    assert redact("etag MjM0NzE5NA== and id 3e371160-a307-4216-b0a9-dd741d4cde50") == \
        "etag MjM0NzE5NA== and id 3e371160-a307-4216-b0a9-dd741d4cde50"  # short tags and ids stay readable

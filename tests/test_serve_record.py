"""The recording middleware (reference/recording.py): HAR 1.2 entries with no secret, bounded bodies, one valid file."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time

import httpx
import pytest

from iothub_conformance.evidence.redact import REDACTED, redact
from iothub_conformance.reference import recording
from iothub_conformance.reference.recording import MAX_RECORDED_BODY, HarFile, Recording

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

SIG = re.compile(r"sig=([^&\s]+)")


def _load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# -- the middleware in process ---------------------------------------------------------------------------------------

def _app(body: bytes, status: int = 200, content_type: str = "text/plain"):
    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
        await send({"type": "http.response.body", "body": body})
    return app


def _exchange(tmp_path, app, **request) -> dict:
    har = HarFile(tmp_path / "one.har")
    transport = httpx.ASGITransport(app=Recording(app, har))

    async def go():
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            await client.request(**{"method": "GET", "url": "/x", **request})
    asyncio.run(go())
    har.close()
    (entry,) = _load(tmp_path / "one.har")["log"]["entries"]
    return entry


def test_a_response_body_past_the_cap_is_cut_and_says_so_and_a_key_across_the_cut_is_still_redacted(tmp_path):
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    body = b"x" * (MAX_RECORDED_BODY - 20) + f'"primaryKey": "{key}"'.encode() + b"y" * 100
    entry = _exchange(tmp_path, _app(body))
    content = entry["response"]["content"]
    assert content["size"] == entry["response"]["bodySize"] == len(body)
    assert len(content["text"]) == MAX_RECORDED_BODY and key[:4] not in content["text"][-20:]
    assert f"first {MAX_RECORDED_BODY} bytes of {len(body)}" in content["comment"] and "cut" in entry["comment"]


def test_bodies_that_are_not_utf8_and_secrets_in_urls_and_bodies_are_redacted(tmp_path):
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    answer = b"\xff\xfe " + f"HostName=h;SharedAccessKeyName=o;SharedAccessKey={key}".encode()
    entry = _exchange(tmp_path, _app(answer), method="POST", url="/x?sig=abcdEFGH1234%2B%3D&se=1",
                      content=b'{"secondaryKey": "s3cr3t-value"}\x80',
                      headers={"Authorization": "Bearer onlylettersbutasecret", "Content-Type": "application/json"})
    text = json.dumps(entry)
    for secret in (key, "abcdEFGH1234", "s3cr3t-value", "onlylettersbutasecret"):
        assert secret not in text
    assert entry["response"]["content"]["text"].startswith("\ufffd\ufffd ")  # no base64 that would hide a secret
    assert entry["request"]["postData"]["text"].endswith("\ufffd")
    assert entry["request"]["queryString"] == [{"name": "sig", "value": REDACTED}, {"name": "se", "value": "1"}]
    assert entry["request"]["url"].startswith("http://127.0.0.1:8080/x?sig=")


def test_entries_from_many_threads_leave_one_valid_file(tmp_path):
    har = HarFile(tmp_path / "many.har")
    threads = [threading.Thread(target=lambda n=n: [har.append({"n": n, "i": i}) for i in range(50)]) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    entries = _load(tmp_path / "many.har")["log"]["entries"]  # valid before close, as after a SIGKILL between entries
    assert har.count == len(entries) == 400
    assert sorted((e["n"], e["i"]) for e in entries) == [(n, i) for n in range(8) for i in range(50)]
    har.close()
    har.append({"late": True})  # after close (shutdown): ignored, the file stays whole
    assert len(_load(tmp_path / "many.har")["log"]["entries"]) == 400


def test_redacting_is_evidence_redact_and_takes_linear_time():
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    for text in (f'{{"primaryKey": "{key}", "connectionString": "HostName=h;SharedAccessKey={key}"}}',
                 f"SharedAccessSignature sr=h&sig=abc%2Bdef%3D&se=1&skn=o and Bearer {key[:30]}-x",
                 "https://user:pass@example.com/" + "a" * 1000 + " " + key):
        assert recording.redact(text) == redact(text) != text
    started = time.monotonic()
    assert recording.redact("a" * MAX_RECORDED_BODY) == "a" * MAX_RECORDED_BODY  # minutes through redact as it is
    assert time.monotonic() - started < 5

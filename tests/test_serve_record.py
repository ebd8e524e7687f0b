"""`serve --record FILE.har`: every exchange the served reference answers, in order, as HAR 1.2, with no secret in the
file, and a file that parses after the server is stopped by SIGTERM; an unwritable FILE is one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
from datetime import datetime
from urllib.parse import quote

import httpx
import pytest

from iothub_conformance.evidence.redact import REDACTED
from iothub_conformance.http import sas
from iothub_conformance.reference.recording import MAX_RECORDED_BODY, HarFile, Recording, _Body
from tests.support.reference_api import API, group_path, hub_body, hub_path
from tests.support.served import free_port, rp_flags, serving
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

SIG = re.compile(r"sig=([^&\s]+)")


def _load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_served_exchanges_are_recorded_in_order_without_secrets_and_parse_after_sigterm(tmp_path):
    path = tmp_path / "traffic.har"
    client_saw = []
    with serving("--record", str(path), "--rp-delay", "0") as served:
        cs = sas.parse_connection_string(served.connection_string)
        token = sas.build_token(cs.host_name, cs.key, cs.key_name)
        bearer = rp_flags(served.announced)["--rp-token"]
        device = "recorded-device"
        hub_headers = {"Authorization": token}
        rp_headers = {"Authorization": f"Bearer {bearer}"}
        with httpx.Client(base_url=served.url, timeout=10) as client:
            client_saw.append(client.put(f"/devices/{device}", params=API, headers=hub_headers,
                                         json={"deviceId": device}))
            client_saw.append(client.get(f"/devices/{device}", params=API, headers=hub_headers))
            client_saw.append(client.get(f"/devices/{device}", headers=hub_headers))  # no api-version
            client_saw.append(client.put(hub_path("recorded-hub"), params=API, headers=rp_headers, json=hub_body()))
            client_saw.append(client.post(hub_path("recorded-hub") + "/listkeys", params=API, headers=rp_headers))
            client_saw.append(client.get(group_path(), params=API, headers=rp_headers))
        assert [r.status_code for r in client_saw] == [200, 200, 400, 201, 200, 200]
    # serving() stops `serve` with SIGTERM; the file must still be whole.
    text = path.read_text(encoding="utf-8")
    har = json.loads(text)["log"]

    assert har["version"] == "1.2" and har["creator"]["name"] == "iothub-conformance" and har["creator"]["version"]
    assert "redacted" in har["comment"]
    probe, *entries = har["entries"]  # serving() asked once whether the server was up
    assert (probe["request"]["url"], probe["response"]["status"]) == (served.url + "/statistics/service", 400)
    assert [(e["request"]["method"], e["request"]["url"], e["response"]["status"]) for e in entries] == [
        (r.request.method, str(r.request.url), r.status_code) for r in client_saw]
    for entry, response in zip(entries, client_saw, strict=True):
        datetime.fromisoformat(entry["startedDateTime"])
        request, answer = entry["request"], entry["response"]
        assert request["httpVersion"] == answer["httpVersion"] == "HTTP/1.1"
        assert request["headersSize"] == answer["headersSize"] == -1
        assert request["bodySize"] == len(response.request.content)
        assert ("postData" in request) == bool(response.request.content)
        assert answer["bodySize"] == answer["content"]["size"] == len(response.content)
        assert answer["content"]["mimeType"] == response.headers["content-type"]
        assert answer["statusText"] == response.reason_phrase
        assert entry["cache"] == {} and set(entry["timings"]) == {"send", "wait", "receive"} and entry["time"] >= 0
        got = {h["name"]: h["value"] for h in answer["headers"]}
        assert got["x-ms-request-id"] == response.headers["x-ms-request-id"]  # the headers the client saw
    assert entries[0]["request"]["queryString"] == [{"name": "api-version", "value": "2016-02-03"}]
    assert entries[2]["request"]["queryString"] == []
    assert json.loads(entries[0]["request"]["postData"]["text"]) == {"deviceId": device}
    assert entries[0]["request"]["postData"]["mimeType"] == "application/json"
    assert json.loads(entries[2]["response"]["content"]["text"])["Message"].startswith("ErrorCode:InvalidProtocolVersion")

    # No secret anywhere: the hub's key, the SAS token and its sig, the bearer token, the keys the answers carried.
    device_keys = client_saw[0].json()["authentication"]["symmetricKey"]
    policy_keys = [key for item in client_saw[4].json()["value"] for key in (item["primaryKey"], item["secondaryKey"])]
    secrets = [cs.key, token, SIG.search(token).group(1), bearer, device_keys["primaryKey"],
               device_keys["secondaryKey"], *policy_keys]
    assert len(policy_keys) >= 2
    for secret in secrets:
        assert secret not in text and quote(secret, safe="") not in text and json.dumps(secret)[1:-1] not in text
    authorizations = [h["value"] for e in entries for h in e["request"]["headers"] if h["name"] == "authorization"]
    assert authorizations == [f"SharedAccessSignature {REDACTED}"] * 3 + [f"Bearer {REDACTED}"] * 3
    listed = json.loads(entries[4]["response"]["content"]["text"])["value"]
    # A key keeps its shape (base64 of as many zero bytes), so the body still meets its schema; the key is gone.
    assert {item["primaryKey"] for item in listed} == {"A" * 43 + "="}
    assert all(e["response"]["content"]["_cut"] is False for e in entries)

    # What a request check judges of a SAS token is kept beside its redacted header, never the signature.
    assert har["_iothubHost"] == cs.host_name
    facts = [e["request"].get("_sasToken") for e in entries]
    assert facts[3:] == [None] * 3  # bearer tokens: nothing kept
    for fact in facts[:3]:
        assert fact["sr"] == cs.host_name and fact["skn"] == cs.key_name and fact["sig_bytes"] == 32
        assert int(fact["se"]) > 0 and set(fact) == {"sr", "se", "skn", "sig_bytes"}


def test_an_unwritable_record_file_is_one_line_and_exit_2_before_serving(tmp_path):
    port = free_port()
    for target in (tmp_path / "no-such-dir" / "x.har", tmp_path):
        done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "serve", "--port", str(port),
                               "--record", str(target)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith(f"error: --record: cannot write {target}: ")
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert done.stdout == ""  # no connection string printed: nothing was served


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


def test_a_whole_body_of_letters_is_recorded_as_it_is():
    # A body is redacted whole by evidence.redact; a 1 MiB run of letters holds no secret and stays as it is.
    body = _Body(MAX_RECORDED_BODY)
    body.add(b"a" * MAX_RECORDED_BODY)
    assert body.text() == "a" * MAX_RECORDED_BODY and not body.cut


def test_an_answer_before_the_body_was_read_says_so(tmp_path):
    async def refuse(scope, receive, send):  # as RequestBodies answers a declared size too large: 413, body unread
        await send({"type": "http.response.start", "status": 413, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    entry = _exchange(tmp_path, refuse, method="POST", content=b"z" * 10)
    assert entry["response"]["status"] == 413 and "answered before the request body was read whole" in entry["comment"]
    assert "comment" not in _exchange(tmp_path, _app(b"ok"), method="POST", content=b"z" * 10)


def test_a_write_that_fails_stops_the_recording_with_one_line(tmp_path):
    warned = []
    har = HarFile(tmp_path / "full.har", warn=warned.append)
    har.append({"n": 0})

    class Full:
        closed = False

        def seek(self, offset):
            pass

        def write(self, data):
            raise OSError(28, "No space left on device")

        def close(self):
            self.closed = True

    har._file.close()
    har._file = Full()  # type: ignore[assignment]
    har.append({"n": 1})
    har.append({"n": 2})
    assert warned == [f"error: recording to {tmp_path / 'full.har'} stopped after 1 entries (the last may be cut): "
                      "No space left on device"]
    assert har.count == 1 and len(_load(tmp_path / "full.har")["log"]["entries"]) == 1

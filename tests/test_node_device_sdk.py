"""The official Node.js device SDK of api-version 2021-04-12 over HTTP (azure-iot-device 1.18.4 with
azure-iot-device-http 1.14.4), unmodified, against `iothub-conformance serve --record` with Azurite as its file-upload
storage: every step of each driver succeeds on what the SDK's own objects say, the recording holds exactly the
requests the SDK made (method, path, status; the redirect's log of what the SDK asked for), the blobs are in the
storage, and no secret reaches the recording or the drivers' output (tests/support/node_device_sdk.py runs them;
Node.js 20 and npm needed).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

import pytest

from tests.support.node_device_sdk import (
    API,
    C2D_MESSAGES,
    HAR_NAME,
    HERE,
    UPLOADS,
    USER_AGENT,
    DeviceSdkRun,
    NodeUnavailable,
    installed,
    sdk_entries,
    shared_run,
)
from tests.support.served import free_port

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

SIG = re.compile(r"sig=(?!<redacted>)[^&\s\"]", re.IGNORECASE)  # a signature's value, not the placeholder
QUERY = "api-version=" + API["api-version"]
RECORDINGS = HERE.parent / "recordings" / "sdk"
HUB = "h.azure-devices.net"
DEVICE = f"HostName={HUB};DeviceId=d1;SharedAccessKey=a2V5"


@pytest.fixture(scope="module")
def run() -> DeviceSdkRun:
    try:
        return shared_run()
    except NodeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


def _exchange(entry: dict) -> tuple[str, str, int]:
    url = urlsplit(entry["request"]["url"])
    return entry["request"]["method"], url.path + (f"?{url.query}" if url.query else ""), entry["response"]["status"]


def _header(message: dict, name: str) -> str | None:
    return next((h["value"] for h in message["headers"] if h["name"].lower() == name), None)


def _probe(entry: dict) -> bool:
    """serving()'s own question whether the server is up."""
    return _exchange(entry)[:2] == ("GET", "/statistics/service")


def _empty_poll(entry: dict) -> bool:
    """A receive that found no message ready (the receiver polls once a second): an empty 204 and nothing else."""
    method, path, status = _exchange(entry)
    return method == "GET" and path.endswith(f"/messages/devicebound?{QUERY}") and status == 204


def _sdk_hub_requests(run: DeviceSdkRun, name: str) -> list[tuple[str, str]]:
    """What the driver `name` asked the hub for, as the redirect logged it (the storage's requests aside)."""
    return [(r["method"], r["path"]) for r in run.drivers[name].requests if ":" not in r["host"]]


def _of_driver(run: DeviceSdkRun, name: str) -> list[dict]:
    """The SDK's recorded exchanges that driver `name` made: device.js's are the messaging ones, upload.js's the files."""
    files = [e for e in sdk_entries(run) if "/files" in urlsplit(e["request"]["url"]).path]
    return files if name == "device-http-upload" else [e for e in sdk_entries(run) if e not in files]


def test_the_harness_made_only_its_own_setup_requests_beside_the_sdk(run):
    device = f"/devices/{quote(run.device_id, safe='')}?{QUERY}"
    setup = [e for e in run.entries() if e not in sdk_entries(run) and not _probe(e)]
    assert [_exchange(e) for e in setup] == [("PUT", device, 200)] + [
        ("POST", "/messages/deviceBound?api-version=2016-02-03", 200)] * len(C2D_MESSAGES)


@pytest.mark.parametrize("name", ["device-http", "device-http-upload"])
def test_the_recording_holds_exactly_the_requests_the_sdk_asked_for(run, name):
    asked = _sdk_hub_requests(run, name)
    recorded = [_exchange(e)[:2] for e in _of_driver(run, name)]
    assert asked and recorded == asked


def test_the_device_sdk_sends_an_event_and_a_batch_and_completes_abandons_and_rejects(run):
    driver = run.drivers["device-http"]
    assert driver.returncode == 0, driver.stdout + driver.stderr
    assert [(s["step"], s["ok"]) for s in driver.steps] == [
        ("send-event", True), ("send-batch", True), ("receive-1", True), ("complete", True), ("receive-2", True),
        ("abandon", True), ("receive-2-again", True), ("reject", True)]
    assert driver.last_line == "device-http: 8 of 8 steps passed"

    base = f"/devices/{quote(run.device_id, safe='')}/messages"
    acted = [e for e in _of_driver(run, "device-http") if not _empty_poll(e)]
    event, batch, first, complete, second, abandon, third, reject = acted
    locks = [(_header(e["response"], "etag") or "").strip('"') for e in (first, second, third)]
    assert all(locks)
    # The SDK's spellings (INVENTORY-2021-04-12 §3.2-3.3): lower-case devicebound, a valueless &reject.
    assert [_exchange(e) for e in acted] == [
        ("POST", f"{base}/events?{QUERY}", 204), ("POST", f"{base}/events?{QUERY}", 204),
        ("GET", f"{base}/devicebound?{QUERY}", 200), ("DELETE", f"{base}/devicebound/{locks[0]}?{QUERY}", 204),
        ("GET", f"{base}/devicebound?{QUERY}", 200), ("POST", f"{base}/devicebound/{locks[1]}/abandon?{QUERY}", 204),
        ("GET", f"{base}/devicebound?{QUERY}", 200), ("DELETE", f"{base}/devicebound/{locks[2]}?{QUERY}&reject", 204)]

    assert event["request"]["postData"]["text"] == "telemetry from the 2021-04-12 Node.js device SDK"
    assert _header(event["request"], "iothub-messageid") == "d2c-1"
    assert _header(event["request"], "iothub-app-sequence") == "0"
    assert _header(batch["request"], "content-type") == "application/vnd.microsoft.iothub.json"
    items = json.loads(batch["request"]["postData"]["text"])
    assert [base64.b64decode(item["body"]).decode() for item in items] == [
        "batch event 1 of the Node.js device SDK", "batch event 2 of the Node.js device SDK"]
    assert [item["properties"] for item in items] == [{"iothub-app-sequence": "1"}, {"iothub-app-sequence": "2"}]

    assert [_header(e["response"], "iothub-messageid") for e in (first, second, third)] == ["c2d-1", "c2d-2", "c2d-2"]
    assert [e["response"]["content"].get("text") for e in (first, second, third)] == [
        "message c2d-1", "message c2d-2", "message c2d-2"]
    # The SDK hands the lock back unquoted in If-Match, as its ETag carried it without the quotes.
    assert [_header(e["request"], "if-match") for e in (complete, abandon, reject)] == locks
    assert all(_header(e["request"], "authorization") == "SharedAccessSignature <redacted>" for e in acted)


def test_the_device_sdk_uploads_a_file_whole_and_step_by_step(run):
    driver = run.drivers["device-http-upload"]
    assert driver.returncode == 0, driver.stdout + driver.stderr
    assert [(s["step"], s["ok"]) for s in driver.steps] == [
        ("upload-to-blob", True), ("get-sas", True), ("put-blob", True), ("notify", True)]
    assert driver.last_line == "device-http-upload: 4 of 4 steps passed"

    files = f"/devices/{quote(run.device_id, safe='')}/files"
    sas_whole, notify_whole, sas_steps, notify_steps = exchanges = _of_driver(run, "device-http-upload")
    answers = [json.loads(e["response"]["content"]["text"]) for e in (sas_whole, sas_steps)]
    correlations = [answer["correlationId"] for answer in answers]
    assert [_exchange(e)[:2] for e in exchanges] == [
        ("POST", f"{files}?{QUERY}"), ("POST", f"{files}/notifications/{quote(correlations[0], safe='')}?{QUERY}"),
        ("POST", f"{files}?{QUERY}"), ("POST", f"{files}/notifications/{quote(correlations[1], safe='')}?{QUERY}")]
    # The SAS request is answered 200; what answers the notification variant no source states, the SDK takes any 2xx.
    assert [_exchange(e)[2] for e in (sas_whole, sas_steps)] == [200, 200]
    assert all(200 <= _exchange(e)[2] < 300 for e in (notify_whole, notify_steps))
    assert [json.loads(e["request"]["postData"]["text"])["blobName"] for e in (sas_whole, sas_steps)] == [
        name for name, _ in UPLOADS]
    assert [unquote(urlsplit(e["request"]["url"]).path.rsplit("/", 1)[1]) for e in (notify_whole, notify_steps)] == \
        correlations
    notified = [json.loads(e["request"]["postData"]["text"]) for e in (notify_whole, notify_steps)]
    assert [(n["isSuccess"], n["statusCode"]) for n in notified] == [(True, 201), (True, 201)]
    assert [_header(e["request"], "iothub-name") for e in (notify_whole, notify_steps)] == ["conformance-hub"] * 2

    # The blobs are in the storage, named {deviceId}/{blobName} (docs/sources/INVENTORY-2021-04-12.md §3.4).
    assert [a["blobName"] for a in answers] == [f"{run.device_id}/{name}" for name, _ in UPLOADS]
    assert {name: run.blobs.get(f"{run.device_id}/{name}") for name, _ in UPLOADS} == {
        name: text.encode() for name, text in UPLOADS}
    storage = [r for r in driver.requests if ":" in r["host"]]
    assert storage and all(r["method"] == "PUT" and f"/{run.device_id}/node-sdk/" in r["path"] for r in storage)


def test_no_secret_reaches_the_recording_or_the_output(run):
    har = run.har.read_text(encoding="utf-8")
    assert len(run.secrets) == 3 and all(run.secrets)
    texts = [har] + [text for driver in run.drivers.values() for text in (driver.stdout, driver.stderr)]
    texts += [json.dumps(driver.requests) for driver in run.drivers.values()]
    for text in texts:
        for secret in run.secrets:
            assert secret not in text and quote(secret, safe="") not in text and json.dumps(secret)[1:-1] not in text
        assert not SIG.search(text)
    assert len(sdk_entries(run)) >= 8  # the check above read a recording of the run, not an empty file


def test_a_driver_whose_request_fails_says_so_and_exits_non_zero():
    # Nothing listens on the port: the first step fails, the driver stops there.
    done = _driver("device.js", {"IOTHUB_DEVICE_CONNECTION_STRING": DEVICE,
                                 "IOTHUB_REDIRECT": f"{HUB}=127.0.0.1:{free_port()}"})
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 1
    assert json.loads(lines[0])["step"] == "send-event" and json.loads(lines[0])["ok"] is False
    assert "ECONNREFUSED" in json.loads(lines[0])["error"]
    assert lines[-1] == "device-http: 0 of 8 steps passed"


def test_a_message_that_never_comes_fails_its_receive_step_in_bounded_time():
    # A hub that takes every event and never has a message: the SDK's receiver only logs its polls, the driver gives up.
    with _answering_204() as port:
        done = _driver("device.js", {"IOTHUB_DEVICE_CONNECTION_STRING": DEVICE, "IOTHUB_RECEIVE_SECONDS": "1",
                                     "IOTHUB_REDIRECT": f"{HUB}=127.0.0.1:{port}"})
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 1
    assert [(line["step"], line["ok"]) for line in lines] == [("send-event", True), ("send-batch", True),
                                                              ("receive-1", False)]
    assert lines[-1]["error"] == "no message within 1 s (the SDK logs a failed poll and polls again)"
    assert done.stdout.strip().splitlines()[-1] == "device-http: 2 of 8 steps passed"


@contextmanager
def _answering_204() -> Iterator[int]:
    """A server on 127.0.0.1 that answers every request 204 with no body; its port."""

    class Empty(BaseHTTPRequestHandler):
        def _empty(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(204)
            self.end_headers()

        do_GET = do_POST = do_DELETE = _empty

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_host_the_redirect_does_not_name_is_unreachable():
    done = _driver("upload.js", {"IOTHUB_DEVICE_CONNECTION_STRING": DEVICE,
                                 "IOTHUB_REDIRECT": f"other.azure-devices.net=127.0.0.1:{free_port()}"})
    first = json.loads(done.stdout.splitlines()[0])
    assert done.returncode == 1 and (first["step"], first["ok"]) == ("upload-to-blob", False)
    assert first["error"] == f"redirect.js: no route for host {HUB}"
    assert done.stdout.strip().splitlines()[-1] == "device-http-upload: 0 of 4 steps passed"


@pytest.mark.parametrize("setting", ["", "127.0.0.1:8080", "example.com=10.0.0.1:443", f"{HUB}=127.0.0.1:80,x"])
def test_the_redirect_takes_only_host_names_mapped_to_ports_of_127_0_0_1(setting):
    done = _driver("device.js", {"IOTHUB_DEVICE_CONNECTION_STRING": DEVICE, "IOTHUB_REDIRECT": setting})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == ("redirect.js: IOTHUB_REDIRECT must be HOST=127.0.0.1:<port>[,HOST=127.0.0.1:<port>…],"
                                   f" not {json.dumps(setting)}")


def test_a_failed_step_prints_no_signature_or_key_its_error_quotes():
    script = ("const { Steps } = require('../node_sdks/steps.js'); const steps = new Steps('scrub', 1, 5);"
              "steps.failed('put', new Error('PUT https://s/c/b?sv=1&sig=c2VjcmV0%2B&se=2 with "
              "SharedAccessSignature sr=h&sig=abc&se=1 for HostName=h;DeviceId=d;SharedAccessKey=a2V5'));")
    done = _driver("-e", {"IOTHUB_REDIRECT": f"{HUB}=127.0.0.1:1"}, script)
    line = json.loads(done.stdout.splitlines()[0])
    assert done.returncode == 1 and line["ok"] is False
    assert line["error"] == ("PUT https://s/c/b?sv=1&sig=<redacted>&se=2 with SharedAccessSignature <redacted> for "
                             "HostName=h;DeviceId=d;SharedAccessKey=<redacted>")


def _driver(script: str, env: dict[str, str], *more: str) -> subprocess.CompletedProcess:
    try:
        node = installed()
    except NodeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    return subprocess.run([node, "-r", "./redirect.js", script, *more], cwd=HERE, env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=60)


def _shape(entry: dict) -> tuple[str, str, int]:
    """An exchange with what changes from run to run (device id, lock token, correlation id) taken out of its path."""
    method, target, status = _exchange(entry)
    target = re.sub(r"/devices/node-device-[0-9]+", "/devices/<id>", target)
    target = re.sub(r"/devicebound/[^/?]+", "/devicebound/<lock>", target)
    target = re.sub(r"/files/notifications/[^/?]+", "/files/notifications/<correlation>", target)
    return method, target, status


def test_the_committed_recording_is_what_a_fresh_run_records(run):
    # tests/recordings/sdk/ is regenerated by `python -m tests.node_device_sdk.record`: the SDK's exchanges only.
    committed_path = RECORDINGS / HAR_NAME
    committed = json.loads(committed_path.read_text(encoding="utf-8"))["log"]
    assert committed["version"] == "1.2" and "only the exchanges the SDK made" in committed["comment"]
    fresh = [e for e in sdk_entries(run) if not _empty_poll(e)]
    assert [_shape(e) for e in committed["entries"]] == [_shape(e) for e in fresh]
    assert {(_header(e["request"], "user-agent") or "").split(" ")[0] for e in committed["entries"]} == {USER_AGENT}
    text = committed_path.read_text(encoding="utf-8")
    assert not SIG.search(text) and not re.search(r"SharedAccessKey=[A-Za-z0-9+/]", text)
    assert all(_header(e["request"], "authorization") == "SharedAccessSignature <redacted>"
               for e in committed["entries"])

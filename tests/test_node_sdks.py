"""The official Node.js SDKs of api-version 2016-02-03, unmodified, against `iothub-conformance serve --record`: every
step of each driver succeeds, the recording holds exactly the requests the SDK made (method, path, status), and no
secret reaches the recording or the drivers' output (tests/support/node_sdks.py runs them; Node.js 20 and npm needed).
"""

from __future__ import annotations

import json
import re
import subprocess
from urllib.parse import quote, urlsplit

import pytest

from tests.support import npm
from tests.support.node_sdks import (
    API,
    C2D_MESSAGES,
    HERE,
    USER_AGENTS,
    NodeUnavailable,
    SdkRun,
    installed,
    sdk_entries,
    shared_runs,
)
from tests.support.served import free_port

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

SIG = re.compile(r"sig=(?!<redacted>)[^&\s\"]", re.IGNORECASE)  # a signature's value, not the placeholder
QUERY = "api-version=" + API["api-version"]
RECORDINGS = HERE.parent / "recordings" / "sdk"


@pytest.fixture(scope="module")
def runs() -> dict[str, SdkRun]:
    try:
        return shared_runs()
    except NodeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


def _exchange(entry: dict) -> tuple[str, str, int]:
    url = urlsplit(entry["request"]["url"])
    return entry["request"]["method"], url.path + (f"?{url.query}" if url.query else ""), entry["response"]["status"]


def _header(message: dict, name: str) -> str | None:
    return next((h["value"] for h in message["headers"] if h["name"].lower() == name), None)


def _probe(entry: dict) -> bool:
    """serving()'s own question whether the server is up."""
    return _exchange(entry) == ("GET", "/statistics/service", 400)


def test_the_registry_sdk_creates_gets_updates_lists_and_deletes(runs):
    run = runs["registry"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert [(s["step"], s["ok"]) for s in run.steps] == [
        ("create", True), ("get", True), ("update", True), ("list", True), ("delete", True)]
    assert run.last_line == "registry: 5 of 5 steps passed"

    device = f"/devices/{quote(run.device_id, safe='')}?{QUERY}"
    entries = run.entries()
    sdk = sdk_entries(run)
    assert [e for e in entries if e not in sdk and not _probe(e)] == []  # nothing but the SDK spoke to it
    assert [_exchange(e) for e in sdk] == [
        ("PUT", device, 200), ("GET", device, 200), ("PUT", device, 200), ("GET", f"/devices/?{QUERY}", 200),
        ("DELETE", device, 204)]
    create, _, update, listing, delete = sdk
    # What made the reference's leniency necessary: the SDK's own spellings (identities._status, app.py).
    assert json.loads(create["request"]["postData"]["text"])["status"] == "Enabled"
    assert json.loads(update["request"]["postData"]["text"])["status"] == "Disabled"
    assert json.loads(update["response"]["content"]["text"])["status"] == "disabled"
    assert run.device_id in [d["deviceId"] for d in json.loads(listing["response"]["content"]["text"])]
    assert [_header(e["request"], "if-match") for e in sdk] == [None, None, "*", None, "*"]
    assert all(_header(e["request"], "authorization") == "SharedAccessSignature <redacted>" for e in sdk)
    assert _header(delete["request"], "iothub-name") == "conformance-hub"  # the hub's name, as the SDK read it


def test_the_device_sdk_sends_an_event_and_completes_abandons_and_rejects(runs):
    run = runs["device-http"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert [(s["step"], s["ok"]) for s in run.steps] == [
        ("send-event", True), ("receive-1", True), ("complete", True), ("receive-2", True), ("abandon", True),
        ("receive-2-again", True), ("reject", True)]
    assert run.last_line == "device-http: 7 of 7 steps passed"

    base = f"/devices/{quote(run.device_id, safe='')}/messages"
    entries = run.entries()
    sdk = sdk_entries(run)
    setup = [e for e in entries if e not in sdk and not _probe(e)]
    assert [_exchange(e) for e in setup] == [("PUT", f"/devices/{quote(run.device_id, safe='')}?{QUERY}", 200)] + [
        ("POST", f"/messages/deviceBound?{QUERY}", 200)] * len(C2D_MESSAGES)
    # The receiver polls once a second; a poll that finds every message locked is an empty 204 and nothing else.
    polls = [e for e in sdk if _exchange(e) == ("GET", f"{base}/devicebound?{QUERY}", 204)]
    acted = [e for e in sdk if e not in polls]
    send, first, complete, second, abandon, third, reject = acted
    locks = [_header(e["response"], "etag").strip('"') for e in (first, second, third)]
    assert [_exchange(e) for e in acted] == [
        ("POST", f"{base}/events?{QUERY}", 204),
        ("GET", f"{base}/devicebound?{QUERY}", 200), ("DELETE", f"{base}/devicebound/{locks[0]}?{QUERY}", 204),
        ("GET", f"{base}/devicebound?{QUERY}", 200), ("POST", f"{base}/devicebound/{locks[1]}/abandon?{QUERY}", 204),
        ("GET", f"{base}/devicebound?{QUERY}", 200), ("DELETE", f"{base}/devicebound/{locks[2]}?{QUERY}&reject", 204)]
    assert send["request"]["postData"]["text"] == "telemetry from the 2016-02-03 Node.js device SDK"
    assert [_header(e["response"], "iothub-messageid") for e in (first, second, third)] == ["c2d-1", "c2d-2", "c2d-2"]
    counts = [int(_header(e["response"], "iothub-deliverycount") or -1) for e in (second, third)]
    assert counts[1] == counts[0] + 1 >= 1  # the abandon put it back, and counted
    # The SDK hands the lock back unquoted in If-Match, as its ETag carried it without the quotes.
    assert [_header(e["request"], "if-match") for e in (complete, abandon, reject)] == locks


@pytest.mark.parametrize("name", ["registry", "device-http"])
def test_no_secret_reaches_the_recording_or_the_output(runs, name):
    run = runs[name]
    har = run.har.read_text(encoding="utf-8")
    assert run.secrets and all(run.secrets)
    for text in (har, run.stdout, run.stderr):
        for secret in run.secrets:
            assert secret not in text and quote(secret, safe="") not in text and json.dumps(secret)[1:-1] not in text
        assert not SIG.search(text)
    assert len(sdk_entries(run)) >= 5  # the check above read a recording of the run, not an empty file


def test_a_driver_whose_request_fails_says_so_and_exits_non_zero():
    # Nothing listens on the port: the first step fails, the driver stops there.
    done = _driver("registry.js", {"IOTHUB_CONNECTION_STRING": "HostName=h.azure-devices.net;SharedAccessKeyName=o;"
                                                             "SharedAccessKey=a2V5", "IOTHUB_REDIRECT":
                                   f"127.0.0.1:{free_port()}"})
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 1
    assert json.loads(lines[0])["step"] == "create" and json.loads(lines[0])["ok"] is False
    assert "ECONNREFUSED" in json.loads(lines[0])["error"]
    assert lines[-1] == "registry: 0 of 5 steps passed"


def test_the_redirect_takes_only_a_port_of_127_0_0_1():
    done = _driver("registry.js", {"IOTHUB_CONNECTION_STRING": "x", "IOTHUB_REDIRECT": "example.com:443"})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == 'redirect.js: IOTHUB_REDIRECT must be 127.0.0.1:<port>, not "example.com:443"'


def test_without_npm_the_install_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(npm.shutil, "which", lambda name: None)
    with pytest.raises(NodeUnavailable) as raised:
        npm.install(tmp_path, tmp_path / "node_modules" / "x" / "package.json", "the SDK tests (tests/node_sdks)")
    assert str(raised.value) == ("npm is not installed: the SDK tests (tests/node_sdks) need Node.js (20 or later) "
                                 "and npm")
    assert not (tmp_path / "node_modules").exists()


def _driver(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    try:
        node = installed()
    except NodeUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    return subprocess.run([node, "-r", "./redirect.js", script], cwd=HERE, env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=60)


def _shape(entry: dict) -> tuple[str, str, int]:
    """An exchange with what changes from run to run (device id, lock token) taken out of its path."""
    method, target, status = _exchange(entry)
    target = re.sub(r"/devices/node-(registry|device)-[0-9]+", "/devices/<id>", target)
    target = re.sub(r"/devicebound/[0-9a-f-]{36}", "/devicebound/<lock>", target)
    return method, target, status


@pytest.mark.parametrize("name", ["registry", "device-http"])
def test_the_committed_recording_is_what_a_fresh_run_records(runs, name):
    # tests/recordings/sdk/ is regenerated by `python -m tests.node_sdks.record`: the SDK's exchanges only.
    run = runs[name]
    committed_path = RECORDINGS / run.har.name
    committed = json.loads(committed_path.read_text(encoding="utf-8"))["log"]
    assert committed["version"] == "1.2" and "only the exchanges the SDK made" in committed["comment"]
    fresh = [e for e in sdk_entries(run) if _exchange(e)[0] != "GET" or _exchange(e)[2] != 204]  # no empty polls
    assert [_shape(e) for e in committed["entries"]] == [_shape(e) for e in fresh]
    agents = {_header(e["request"], "user-agent") for e in committed["entries"]}
    assert agents == {USER_AGENTS[name]}
    text = committed_path.read_text(encoding="utf-8")
    assert not SIG.search(text) and not re.search(r"SharedAccessKey=[A-Za-z0-9+/]", text)
    assert all(_header(e["request"], "authorization") == "SharedAccessSignature <redacted>"
               for e in committed["entries"])

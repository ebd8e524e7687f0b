"""The official Node.js SDKs of api-version 2016-02-03, unmodified, driving `iothub-conformance serve --record`.

tests/node_sdks/ pins them (package.json, package-lock.json) and holds the drivers: registry.js (azure-iothub 1.0.7:
create, get, update, list, delete) and device.js (azure-iot-device-http 1.0.9: send an event; receive, complete,
abandon, reject). `node -r ./redirect.js` sends their https requests to the served reference as plain http; the
connection strings keep the hub's HostName, so the SAS tokens are the ones the SDKs would send to the real service.

Each SDK runs against a reference of its own, recording to a HAR file of its own. `shared_runs()` runs both once per
process and hands their recordings to any test that needs "the HAR of a real SDK run".
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from iothub_conformance.http import sas
from tests.support.npm import NodeUnavailable, install, tool
from tests.support.served import Served, serving
from tests.support.suite_runs import ROOT

HERE = ROOT / "tests" / "node_sdks"
MARKER = HERE / "node_modules" / "azure-iothub" / "package.json"
PURPOSE = "the SDK tests (tests/node_sdks)"
API = {"api-version": "2016-02-03"}
SCRIPT_SECONDS = 60  # each driver stops itself after 30 s; this only bounds a node that hangs outright
# The cloud-to-device messages device.js expects, in the order they are enqueued: (IoTHub-MessageId, body).
C2D_MESSAGES = (("c2d-1", "message c2d-1"), ("c2d-2", "message c2d-2"))
# The User-Agent each SDK sends: its exchanges in a recording are the ones with it.
USER_AGENTS = {"registry": "azure-iothub/1.0.7", "device-http": "azure-iot-device/1.0.9"}

__all__ = ["NodeUnavailable", "SdkRun", "installed", "run_sdks", "sdk_entries", "shared_runs"]


@dataclass(frozen=True)
class SdkRun:
    """One driver's run: what it printed (one JSON line per step, then its summary line), its exit code, the HAR the
    served reference recorded, and the secrets the run used (for the tests that prove none of them leaked)."""

    name: str
    returncode: int
    stdout: str
    stderr: str
    har: Path
    secrets: tuple[str, ...]
    device_id: str

    @property
    def steps(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    @property
    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def entries(self) -> list[dict]:
        return json.loads(self.har.read_text(encoding="utf-8"))["log"]["entries"]


def sdk_entries(run: SdkRun) -> list[dict]:
    """The exchanges of the recording that the SDK itself made (its User-Agent), in order."""
    agent = USER_AGENTS[run.name]
    return [e for e in run.entries() if _header(e["request"], "user-agent") == agent]


def _header(message: dict, name: str) -> str | None:
    return next((h["value"] for h in message["headers"] if h["name"].lower() == name), None)


def _node(script: str, env: dict[str, str], served: Served) -> subprocess.CompletedProcess:
    node = installed()
    port = served.url.rsplit(":", 1)[1]
    child_env = {"PATH": os.environ.get("PATH", ""), "IOTHUB_REDIRECT": f"127.0.0.1:{port}", **env}
    try:
        return subprocess.run([node, "-r", "./redirect.js", script], cwd=HERE, env=child_env, capture_output=True,
                              text=True, timeout=SCRIPT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return subprocess.CompletedProcess(exc.cmd, -9, out + f"node {script}: killed after {SCRIPT_SECONDS} s\n", "")


def _registry(workdir: Path, device_id: str) -> SdkRun:
    har = workdir / "node-registry-2016-02-03.har"
    with serving("--record", str(har)) as served:
        service = sas.parse_connection_string(served.connection_string)
        done = _node("registry.js", {"IOTHUB_CONNECTION_STRING": served.connection_string,
                                     "IOTHUB_DEVICE_ID": device_id}, served)
    return SdkRun("registry", done.returncode, done.stdout, done.stderr, har, (service.key,), device_id)


def _device(workdir: Path, device_id: str) -> SdkRun:
    har = workdir / "node-device-http-2016-02-03.har"
    with serving("--record", str(har)) as served:
        service = sas.parse_connection_string(served.connection_string)
        device_key = _create_device(served, service, device_id)
        for message_id, body in C2D_MESSAGES:
            _send_c2d(served, device_id, message_id, body)
        device = f"HostName={service.host_name};DeviceId={device_id};SharedAccessKey={device_key}"
        done = _node("device.js", {"IOTHUB_DEVICE_CONNECTION_STRING": device}, served)
    return SdkRun("device-http", done.returncode, done.stdout, done.stderr, har, (service.key, device_key), device_id)


def _create_device(served: Served, service: sas.ConnectionString, device_id: str) -> str:
    """The device the device SDK connects as, created with the service policy; its primary key."""
    token = sas.build_token(service.host_name, service.key, service.key_name)
    answer = httpx.put(f"{served.url}/devices/{quote(device_id, safe='')}", params=API, json={"deviceId": device_id},
                       headers={"Authorization": token}, timeout=10)
    answer.raise_for_status()
    return answer.json()["authentication"]["symmetricKey"]["primaryKey"]


def _send_c2d(served: Served, device_id: str, message_id: str, body: str) -> None:
    """Enqueue one message the way a reader of the README does: `iothub-conformance send-c2d`."""
    done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "send-c2d", "--target", served.url,
                           "--device", device_id, "--property", f"IoTHub-MessageId={message_id}", body], cwd=ROOT,
                          env={**os.environ, "IOTHUB_CONNECTION_STRING": served.connection_string},
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"send-c2d failed: {done.stderr.strip()[:300]}")


def installed() -> str:
    """The pinned SDKs installed (npm ci on first use); the path of node. NodeUnavailable without Node.js or npm."""
    install(HERE, MARKER, PURPOSE)
    return tool("node", PURPOSE)


def run_sdks(workdir: Path) -> dict[str, SdkRun]:
    """Install the pinned SDKs if needed, then run each driver against a served reference recording to `workdir`."""
    installed()
    stamp = time.strftime("%Y%m%d%H%M%S")
    return {"registry": _registry(workdir, f"node-registry-{stamp}"),
            "device-http": _device(workdir, f"node-device-{stamp}")}


@functools.cache
def shared_runs() -> dict[str, SdkRun]:
    """Both SDK runs, made once per process in a temporary directory; their HAR files stay until the process ends."""
    workdir = Path(tempfile.mkdtemp(prefix="node-sdks-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    return run_sdks(workdir)

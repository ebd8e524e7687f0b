"""The official Node.js device SDK of api-version 2021-04-12 over HTTP, unmodified, driving `iothub-conformance serve
--record`, with Azurite as the blob storage of its file uploads.

tests/node_device_sdk/ pins it (package.json, package-lock.json: azure-iot-device 1.18.4 with azure-iot-device-http
1.14.4) and holds the drivers: device.js (send an event and a batch; receive, complete, abandon, reject) and upload.js
(uploadToBlob; getBlobSharedAccessSignature, the blob's upload, notifyBlobUploadStatus). `node -r ./redirect.js` sends
their https requests as plain http by host name: the hub's to the served reference, the storage account's to Azurite.
The device connection string keeps the hub's HostName, so the SAS tokens are the ones the SDK would send to the real
service.

Both drivers run against one served reference recording one HAR; the harness's own requests in it (the probe, the
device it creates, the two cloud-to-device messages it enqueues with `send-c2d`) are told from the SDK's by the SDK's
User-Agent. `shared_run()` makes the run once per process.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from iothub_conformance.evidence.redact import redact
from iothub_conformance.http import sas
from tests import azurite
from tests.support.npm import NodeUnavailable, install, tool
from tests.support.served import Served, serving
from tests.support.suite_runs import ROOT

HERE = ROOT / "tests" / "node_device_sdk"
MARKER = HERE / "node_modules" / "azure-iot-device-http" / "package.json"
PURPOSE = "the device SDK tests (tests/node_device_sdk)"
API = {"api-version": "2021-04-12"}
HAR_NAME = "node-device-http-2021-04-12.har"
SCRIPT_SECONDS = 60  # each driver stops itself after 30 s; this only bounds a node that hangs outright
# The cloud-to-device messages device.js expects, in the order they are enqueued: (IoTHub-MessageId, body).
C2D_MESSAGES = (("c2d-1", "message c2d-1"), ("c2d-2", "message c2d-2"))
# What upload.js uploads (its UPLOADS): the blob name the device asks for, and the text it puts there.
UPLOADS = (("node-sdk/upload-to-blob.txt", "a file uploaded by client.uploadToBlob of the Node.js device SDK"),
           ("node-sdk/step-by-step.txt", "a file uploaded between getBlobSharedAccessSignature and notify"))
# The transport sends "azure-iot-device/1.18.4 (node …; os; arch)", the file upload API "azure-iot-device/1.18.4".
USER_AGENT = "azure-iot-device/1.18.4"

__all__ = ["C2D_MESSAGES", "HERE", "NodeUnavailable", "UPLOADS", "DeviceSdkRun", "DriverRun", "installed", "run_sdk",
           "sdk_entries", "shared_run"]


@dataclass(frozen=True)
class DriverRun:
    """One driver's run: what it printed (one JSON line per step, then its summary line), its exit code, and the
    requests the SDK asked for as the redirect logged them ({method, host, path}, in order)."""

    name: str
    returncode: int
    stdout: str
    stderr: str
    requests: tuple[dict, ...] = ()

    @property
    def steps(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    @property
    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""


@dataclass(frozen=True)
class DeviceSdkRun:
    """Both drivers against one served reference: their runs, the HAR it recorded, the blobs the storage holds after
    (name → bytes), and the secrets the run used (for the tests that prove none of them leaked)."""

    har: Path
    device_id: str
    drivers: dict[str, DriverRun]
    blobs: dict[str, bytes]
    secrets: tuple[str, ...]

    def entries(self) -> list[dict]:
        return json.loads(self.har.read_text(encoding="utf-8"))["log"]["entries"]


def sdk_entries(run: DeviceSdkRun) -> list[dict]:
    """The exchanges of the recording that the SDK itself made (its User-Agent), in order."""
    return [e for e in run.entries() if (_header(e["request"], "user-agent") or "").startswith(USER_AGENT)]


def _header(message: dict, name: str) -> str | None:
    return next((h["value"] for h in message["headers"] if h["name"].lower() == name), None)


def installed() -> str:
    """The pinned SDK installed (npm ci on first use); the path of node. NodeUnavailable without Node.js or npm."""
    install(HERE, MARKER, PURPOSE)
    return tool("node", PURPOSE)


def node(script: str, env: dict[str, str], routes: dict[str, int], log: Path) -> DriverRun:
    """Run one driver with the redirect mapping each host name of `routes` to that port of 127.0.0.1 and logging the
    requests to `log`."""
    redirect = ",".join(f"{host}=127.0.0.1:{port}" for host, port in routes.items())
    child_env = {"PATH": os.environ.get("PATH", ""), "IOTHUB_REDIRECT": redirect, "IOTHUB_REDIRECT_LOG": str(log),
                 **env}
    try:
        done = subprocess.run([installed(), "-r", "./redirect.js", script], cwd=HERE, env=child_env,
                              capture_output=True, text=True, timeout=SCRIPT_SECONDS)
        out, err, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        out, err, code = out + f"node {script}: killed after {SCRIPT_SECONDS} s\n", "", -9
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return DriverRun(script, code, out, err, tuple(json.loads(line) for line in lines))


def _create_device(served: Served, service: sas.ConnectionString, device_id: str) -> str:
    """The device the SDK connects as, created with the service policy at 2021-04-12; its primary key."""
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


@contextmanager
def _storage(workdir: Path) -> Iterator[azurite.Azurite]:
    """Azurite in its loose mode: the block upload of @azure/storage-blob 12.8.0 (the version azure-iot-device 1.18.4
    pins) is answered 500 FeatureNotSupported "x-ms-encryption-algorithm … not supported in Azurite strict mode"
    otherwise."""
    store = azurite.start(workdir / "azurite", loose=True)
    try:
        yield store
    finally:
        store.stop()


def _blobs(container_url: str) -> dict[str, bytes]:
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_container_url(container_url)
    return {blob.name: container.download_blob(blob.name).readall() for blob in container.list_blobs()}


def run_sdk(workdir: Path) -> DeviceSdkRun:
    """Install the pinned SDK if needed, start Azurite, serve the reference recording to `workdir` with a file-upload
    container in Azurite, then run device.js and upload.js as one new device."""
    installed()
    device_id = f"node-device-{time.strftime('%Y%m%d%H%M%S')}"
    har = workdir / HAR_NAME
    with _storage(workdir) as store:
        container_url = store.container()
        storage = urlsplit(container_url)
        signature = parse_qs(storage.query)["sig"][0]
        try:
            with serving("--record", str(har), "--file-upload-container", container_url) as served:
                service = sas.parse_connection_string(served.connection_string)
                device_key = _create_device(served, service, device_id)
                for message_id, body in C2D_MESSAGES:
                    _send_c2d(served, device_id, message_id, body)
                device = {"IOTHUB_DEVICE_CONNECTION_STRING":
                          f"HostName={service.host_name};DeviceId={device_id};SharedAccessKey={device_key}"}
                hub = {service.host_name: int(served.url.rsplit(":", 1)[1])}
                drivers = {"device-http": node("device.js", device, hub, workdir / "device.requests")}
                # The storage host is the container URI's: the hub hands out SAS URIs on it.
                upload_routes = {**hub, storage.netloc: int(storage.port or 443)}
                drivers["device-http-upload"] = node("upload.js", device, upload_routes, workdir / "upload.requests")
        except RuntimeError as exc:
            # serve's own complaint (e.g. an option it does not know) quotes its arguments: the container's SAS too.
            raise RuntimeError(redact(str(exc))) from None
        blobs = _blobs(container_url)
    return DeviceSdkRun(har, device_id, drivers, blobs, (service.key, device_key, signature))


@functools.cache
def shared_run() -> DeviceSdkRun:
    """The run, made once per process in a temporary directory; its HAR stays until the process ends."""
    workdir = Path(tempfile.mkdtemp(prefix="node-device-sdk-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    return run_sdk(workdir)

"""The official Python service SDK of api-version 2021-04-12 (azure-iot-hub 2.7.0), unmodified, against the reference.

The SDK cannot share the project's venv (it needs msrest>=0.6.21; the test extra's azure-mgmt-iothub 0.1.0 pins
msrest<0.5), so `install()` builds one of its own from the pinned tests/python_sdk/requirements.txt, once: concurrent
test workers wait on a file lock for the first (as npm.install). It lives at .cache/python-sdk-venv (git-ignored),
outside tests/: the project's tests that read every .py file under tests/ must not read the SDK's packages.

The reference is served in THIS process (uvicorn on 127.0.0.1 in a thread, recording to a HAR as `serve --record`
does), so the test holds its Hub and brings a device and a module online through the suites' own controls
(targets/controls.py) before a driver invokes their direct methods, connects the Plug and Play device the digital
twin driver reads, and plays the device side (over HTTP at 2021-04-12) whose completions and rejections make the
feedback the feedback driver receives. Each driver (tests/python_sdk/registry.py, jobs.py, configurations.py,
digital_twins.py, feedback.py) runs as a child of the SDK venv's python against a reference of its own, all at the
same time, and prints one JSON line per SDK call. `shared_runs()` runs them once per process.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from iothub_conformance.http import sas
from tests.support.served import free_port
from tests.support.suite_runs import ROOT

if TYPE_CHECKING:  # the reference is imported where it is served: tests/conftest.py's prefetch needs none of it
    from iothub_conformance.reference import Hub
    from iothub_conformance.targets.embedded import EmbeddedControls

HERE = ROOT / "tests" / "python_sdk"
VENV = ROOT / ".cache" / "python-sdk-venv"
REQUIREMENTS = HERE / "requirements.txt"
MARKER = VENV / "built-from-requirements.txt"  # the requirements the venv was built from, written last
PURPOSE = "the Python SDK tests (tests/python_sdk)"
SCRIPT_SECONDS = 60  # each driver stops calling after 45 s; this only bounds one that hangs outright
# msrest's User-Agent ends with the generated client's name and version: the SDK's exchanges in a recording.
USER_AGENT = "iothubgatewayserviceapis/"
# How the simulated device and module answer a direct method: distinct statuses, so a mix-up shows.
DEVICE_ANSWER_STATUS, MODULE_ANSWER_STATUS = 200, 202
ONLINE_MODULE = "m-online"
PURGED_MESSAGES = 2
DRIVERS = ("registry", "jobs", "configurations", "digital_twins", "feedback")
# The simulated Plug and Play device: the model and the reported state of the "Device Twin sample" of
# docs/sources/pnp-concepts-digital-twin__2020-07-17_00e046fd.md, and distinct command statuses.
PNP_MODEL = "dtmi:com:example:TemperatureController;1"
PNP_COMPONENT = "thermostat1"
PNP_REPORTED = {"serialNumber": "alwinexlepaho8329", PNP_COMPONENT: {"__t": "c", "maxTempSinceLastReboot": 25.3}}
ROOT_COMMAND_STATUS, COMPONENT_COMMAND_STATUS = 200, 201
# Each message the feedback harness sends its device: (its IoTHub-Ack, what the device does with it). The feedback
# each outcome makes under its ack mode (docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md, "Message
# feedback": positive on Completed, negative on Dead lettered, full on both; none by default).
FEEDBACK_PLAN = (("full", "complete"), ("full", "reject"), ("positive", "complete"), ("positive", "reject"),
                 ("negative", "reject"), ("negative", "complete"), ("none", "complete"))
FEEDBACK_STATUS = {"complete": "Success", "reject": "Rejected"}
FEEDBACK_BATCH_SECONDS = 15


class SdkUnavailable(RuntimeError):
    pass


def python() -> Path:
    return VENV / "bin" / "python"


def built() -> bool:
    """The venv exists and was built from the requirements file as it is now."""
    try:
        return python().exists() and MARKER.read_text(encoding="utf-8") == REQUIREMENTS.read_text(encoding="utf-8")
    except OSError:
        return False


def install(timeout: float = 600) -> Path:
    """Build the SDK venv unless it is current; its python. SdkUnavailable, one line, when it cannot be built."""
    if built():
        return python()
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / "python-sdk-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built():
            _build(timeout)
    return python()


def _build(timeout: float) -> None:
    MARKER.unlink(missing_ok=True)
    wanted = REQUIREMENTS.read_text(encoding="utf-8")
    steps = ([sys.executable, "-m", "venv", "--clear", str(VENV)],
             [str(python()), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
              "-r", str(REQUIREMENTS)])
    for command in steps:
        what = "python -m venv" if command[1:3] == ["-m", "venv"] else "pip install -r tests/python_sdk/requirements.txt"
        try:
            done = subprocess.run(command, cwd=HERE, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SdkUnavailable(f"{what} took longer than {timeout:.0f} s ({PURPOSE})") from None
        if done.returncode != 0:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()] or ["no output"]
            last = next((line for line in reversed(lines) if line.startswith("ERROR")), lines[-1])
            raise SdkUnavailable(f"{what} failed: {PURPOSE} need PyPI (or a pip cache holding azure-iot-hub 2.7.0 and "
                                 f"its pinned dependencies): {last.strip()[:300]}")
    MARKER.write_text(wanted, encoding="utf-8")


def prefetch() -> threading.Thread:
    """Start building the venv in the background (the tests that need it wait on the same lock); a failure is left for
    the test that needs the SDK to report."""

    def run() -> None:
        try:
            install()
        except (SdkUnavailable, OSError):
            pass

    thread = threading.Thread(target=run, name="python-sdk-prefetch", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True)
class Reference:
    """One reference served on 127.0.0.1 and recording to `har`; the test's handle on it."""

    hub: Hub
    controls: EmbeddedControls
    url: str
    connection_string: str
    har: Path
    container: str  # a blob container SAS URI in the hub's in-memory storage
    storage_sig: str


@contextmanager
def serving(har: Path) -> Iterator[Reference]:
    import uvicorn

    from iothub_conformance.reference import Hub, create_app
    from iothub_conformance.reference.recording import HarFile, Recording
    from iothub_conformance.reference.storage import MemoryStorage
    from iothub_conformance.targets.embedded import EmbeddedControls

    hub = Hub.create()
    storage = MemoryStorage()
    hub.blob_transport = storage.transport()
    container = storage.container_uri("pysdk-jobs")
    recording = HarFile(har, hub_host=hub.host_name)
    app = Recording(create_app(hub), recording, now=hub.clock.now)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           limit_concurrency=64))
    thread = threading.Thread(target=server.run, name=f"reference-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the reference did not start on 127.0.0.1:{port}")
            time.sleep(0.02)
        yield Reference(hub, EmbeddedControls(hub), f"http://127.0.0.1:{port}", hub.connection_string(), har,
                        container, storage.sig)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        recording.close()


@dataclass(frozen=True)
class SdkRun:
    """One driver's run: its output (one JSON line per SDK call, then a summary line), exit code, the HAR its
    reference recorded, and the secrets the run used (for the tests that prove none leaked)."""

    name: str
    returncode: int
    stdout: str
    stderr: str
    har: Path
    secrets: tuple[str, ...]
    prefix: str
    tag: str
    seconds: float
    notes: tuple[str, ...] = ()  # what the harness could not arrange

    @property
    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def steps(self, step: str) -> list[dict]:
        return [line for line in self.lines if line["step"] == step]

    def step(self, step: str) -> dict:
        """The one line of `step`; KeyError naming it when the driver printed none (it stopped before)."""
        found = self.steps(step)
        if not found:
            raise KeyError(f"{self.name}: no step {step!r} in the output; last line: {self.last_line}")
        return found[-1]

    @property
    def last_line(self) -> str:
        lines = self.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def entries(self) -> list[dict]:
        return json.loads(self.har.read_text(encoding="utf-8"))["log"]["entries"]


def sdk_entries(run: SdkRun) -> list[dict]:
    """The exchanges of the recording the SDK made (its User-Agent), in order."""
    return [e for e in run.entries() if USER_AGENT in (_header(e["request"], "user-agent") or "")]


def _header(message: dict, name: str) -> str | None:
    return next((h["value"] for h in message["headers"] if h["name"].lower() == name), None)


def device_answer(method: str, payload: object) -> tuple[int, object]:
    return DEVICE_ANSWER_STATUS, {"answeredBy": "device", "method": method, "received": payload}


def module_answer(method: str, payload: object) -> tuple[int, object]:
    return MODULE_ANSWER_STATUS, {"answeredBy": "module", "method": method, "received": payload}


def feedback_expected(prefix: str) -> dict[str, str]:
    """originalMessageId → statusCode of each feedback record the plan should make."""
    made = {}
    for number, (ack, outcome) in enumerate(FEEDBACK_PLAN):
        if ack == "full" or (ack, outcome) in (("positive", "complete"), ("negative", "reject")):
            made[f"{prefix}msg{number}"] = FEEDBACK_STATUS[outcome]
    return made


def pnp_answer(method: str, payload: object) -> tuple[int, object]:
    """A component command arrives as `{component}*{command}` (docs/sources/INVENTORY-2021-04-12.md §2.12)."""
    component, _, command = method.rpartition("*")
    status = COMPONENT_COMMAND_STATUS if component else ROOT_COMMAND_STATUS
    return status, {"answeredBy": component or "root", "command": command, "received": payload}


def _service_token(reference: Reference) -> str:
    service = sas.parse_connection_string(reference.connection_string)
    return sas.build_token(service.host_name, service.key, service.key_name)


def _make_device(reference: Reference, device_id: str, version: str = "2021-04-12") -> httpx.Response:
    made = httpx.put(f"{reference.url}/devices/{quote(device_id, safe='')}", params={"api-version": version},
                     json={"deviceId": device_id}, headers={"Authorization": _service_token(reference)}, timeout=10)
    made.raise_for_status()
    return made


def _prepare_digital_twins(reference: Reference, prefix: str, notes: list[str]) -> dict[str, str]:
    """Make <prefix>pnp, connect it as a Plug and Play device of PNP_MODEL, report PNP_REPORTED, answer commands; and
    <prefix>pnp-offline, connected with the same model, answering nothing."""
    device = prefix + "pnp"
    _make_device(reference, device)
    connect = getattr(reference.controls, "connect_pnp_device", None)
    if connect is None:
        notes.append("the reference's controls have no connect_pnp_device(device_id, model_id): the device has no "
                     "model id")
    else:
        connect(device, PNP_MODEL)
    reference.controls.report_properties(device, PNP_REPORTED)
    reference.controls.answer_methods(device, pnp_answer)
    offline = prefix + "pnp-offline"  # announced its model, then went away: nothing answers its commands
    _make_device(reference, offline)
    if connect is not None:
        connect(offline, PNP_MODEL)
    return {"SDK_PNP_DEVICE": device, "SDK_PNP_COMPONENT": PNP_COMPONENT, "SDK_PNP_MODEL": PNP_MODEL,
            "SDK_PNP_OFFLINE_DEVICE": offline}


def _prepare_feedback(reference: Reference, prefix: str, notes: list[str]) -> dict[str, str]:
    """Send <prefix>fb one message per FEEDBACK_PLAN entry, each with its ack mode and a message id, and have the
    device receive each and complete or reject it over HTTP at api-version 2021-04-12, as a device would."""
    from iothub_conformance.surfaces.messaging import DeviceClient, lock_of

    device = prefix + "fb"
    made = _make_device(reference, device)
    key = made.json()["authentication"]["symmetricKey"]["primaryKey"]
    host = sas.parse_connection_string(reference.connection_string).host_name
    for number, (ack, _) in enumerate(FEEDBACK_PLAN):
        enqueued = reference.controls.enqueue(device, f"feedback {number}".encode(),
                                              {"IoTHub-MessageId": f"{prefix}msg{number}", "IoTHub-Ack": ack})
        if enqueued.status != 200:
            raise RuntimeError(f"could not enqueue a message for {device}: {enqueued.status} {enqueued.detail}")
    with httpx.Client(base_url=reference.url, timeout=10) as client:
        side = DeviceClient(client, host, "2021-04-12", device, key)
        for number, (_, outcome) in enumerate(FEEDBACK_PLAN):
            received = side.receive()
            lock = lock_of(received.headers.get("ETag"))
            if received.status_code != 200 or not lock:
                notes.append(f"device receive {number} at 2021-04-12: {received.status_code} {received.text[:200]}")
                break
            done = side.complete(lock) if outcome == "complete" else side.reject(lock)
            if done.status_code != 204:
                notes.append(f"device {outcome} {number} at 2021-04-12: {done.status_code} {done.text[:200]}")
    # The hub sends a feedback batch "in 15 seconds from last sent" (or at 64 records; the same page, 2026 notes):
    # the hub's clock is moved past that instead of the test waiting it out.
    reference.controls.advance(FEEDBACK_BATCH_SECONDS + 1)
    return {"SDK_FEEDBACK_RECORDS": str(len(feedback_expected(prefix)))}


def _prepare_registry(reference: Reference, prefix: str, notes: list[str]) -> dict[str, str]:
    """Bring <prefix>sas and its module online, and make the purge device with messages waiting."""
    reference.controls.answer_methods(prefix + "sas", device_answer)
    reference.controls.answer_methods(prefix + "sas", module_answer, module_id=ONLINE_MODULE)
    purge = prefix + "purge"
    service = sas.parse_connection_string(reference.connection_string)
    token = sas.build_token(service.host_name, service.key, service.key_name)
    made = httpx.put(f"{reference.url}/devices/{quote(purge, safe='')}", params={"api-version": "2016-02-03"},
                     json={"deviceId": purge}, headers={"Authorization": token}, timeout=10)
    made.raise_for_status()
    for number in range(PURGED_MESSAGES):
        enqueued = reference.controls.enqueue(purge, f"to purge {number}".encode(), {})
        if enqueued.status != 200:
            raise RuntimeError(f"could not enqueue a message for {purge}: {enqueued.status} {enqueued.detail}")
    return {"SDK_PURGE_DEVICE": purge, "SDK_ONLINE_MODULE": ONLINE_MODULE}


def _start(script: str, reference: Reference, extra: dict[str, str]) -> subprocess.Popen:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
           "PYTHONDONTWRITEBYTECODE": "1", "IOTHUB_CONNECTION_STRING": reference.connection_string,
           "IOTHUB_BASE_URL": reference.url, **extra}
    return subprocess.Popen([str(python()), script], cwd=HERE, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=SCRIPT_SECONDS)
        return process.returncode, out, err
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return -9, out + f"killed after {SCRIPT_SECONDS} s\n", err


_PREPARE = {"registry": _prepare_registry, "digital_twins": _prepare_digital_twins, "feedback": _prepare_feedback}


def recording_name(driver: str) -> str:
    """The HAR a driver's reference records: python-<area>-2021-04-12.har."""
    return f"python-{driver.replace('_', '-')}-2021-04-12.har"


def run_sdk(workdir: Path, drivers: tuple[str, ...] = DRIVERS) -> dict[str, SdkRun]:
    """Build the SDK venv if needed, then run the drivers at once, each against a reference of its own."""
    install()
    stamp = time.strftime("%Y%m%d%H%M%S")
    prefix, tag = f"pysdk-{stamp}-", f"run{stamp}"
    runs: dict[str, SdkRun] = {}
    with ExitStack() as stack:
        started = {}
        for name in drivers:
            if name not in DRIVERS:
                raise ValueError(f"no Python SDK driver {name!r}; the drivers: {', '.join(DRIVERS)}")
            reference = stack.enter_context(serving(workdir / recording_name(name)))
            extra = {"SDK_PREFIX": prefix, "SDK_TAG": tag}
            notes: list[str] = []
            if name == "jobs":
                extra["SDK_CONTAINER"] = reference.container
            elif name in _PREPARE:
                extra |= _PREPARE[name](reference, prefix, notes)
            secrets = (sas.parse_connection_string(reference.connection_string).key, reference.storage_sig)
            started[name] = (reference, secrets, notes, time.monotonic(), _start(f"{name}.py", reference, extra))
        for name, (reference, secrets, notes, began, process) in started.items():
            code, out, err = _finish(process)
            runs[name] = SdkRun(name, code, out, err, reference.har, secrets, prefix, tag, time.monotonic() - began,
                                tuple(notes))
    return runs


@functools.cache
def shared_runs() -> dict[str, SdkRun]:
    """Every driver's run, made once per process in a temporary directory; their HAR files stay until it ends."""
    workdir = Path(tempfile.mkdtemp(prefix="python-sdk-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    return run_sdk(workdir)

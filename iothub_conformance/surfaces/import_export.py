"""Import/export job requests as the suites make them, written once (INVENTORY §2a, profile rule `job_start`).

Everything a job writes or reads is named after the run (`<prefix><run-id>-…`), and the blobs the suite wrote are
deleted afterwards; only jobs this run started may be cancelled (target.py guards it).
"""

from __future__ import annotations

import builtins
import itertools
import json
import time

import httpx

from iothub_conformance.http.blobs import Container

TERMINAL = ("completed", "failed", "cancelled")
ORDER = {"enqueued": 0, "running": 1, "completed": 2, "failed": 2, "cancelled": 2}
# What a job reads or writes when it is given no blob name. No page here states one (the 2016 import page names only
# the containers; the later pages make the names optional without a default): "devices.txt" is an assumption, used
# only for the docs-strict GET /importdevices route, and the reference shares it.
DEFAULT_BLOB = "devices.txt"
CURRENT_API_VERSION = "2021-04-12"
CLOCK_POLLS = 120  # on the embedded reference: two minutes of its clock
SETTLE_POLLS = 5


class NotStartable(Exception):
    """The profile gives no data-plane way to start this kind of job."""


class Jobs:
    def __init__(self, client: httpx.Client, target, api_version: str | None = None) -> None:
        self.client = client
        self.target = target
        # api-version 2021-04-12 starts every job with POST /jobs/create, whatever the 2016 rule job_start says.
        self.current = api_version == CURRENT_API_VERSION
        self.params = {"api-version": api_version or target.api_version}
        self.written: list[tuple[Container, str]] = []
        self.started: list[str] = []  # at 2021-04-12: the jobs to cancel at cleanup should they still run
        self._counter = itertools.count(1)

    @property
    def start_route(self) -> str:
        return "jobs/create" if self.current else self.target.profile.value("job_start")

    def blob_name(self, label: str) -> str:
        return f"{self.target.name_prefix}{label}-{next(self._counter)}.txt"

    def write(self, container: Container, name: str, lines: list[dict]) -> None:
        container.put(name, "".join(json.dumps(line) + "\n" for line in lines).encode())
        self.written.append((container, name))

    def start_export(self, container: Container, exclude_keys: bool | None = None,
                     **fields) -> tuple[httpx.Response, str]:
        """Start an export into `container`; returns the response and the blob it will write. `fields`: more of the
        body (the 2021-04-12 JobProperties: storageAuthenticationType, includeConfigurations, …)."""
        if self.start_route != "jobs/create":
            raise NotStartable(f"profile {self.target.profile.name} starts exports through the resource provider "
                               f"only ({self.target.profile['job_start'].source})")
        name = self.blob_name("export")
        body: dict[str, object] = {"type": "export", "outputBlobContainerUri": container.uri, "outputBlobName": name}
        if exclude_keys is not None:
            body["excludeKeysInExport"] = exclude_keys
        body.update(fields)
        self.written.append((container, name))
        return self._started(self.client.post("/jobs/create", params=self.params, json=body)), name

    def start_import(self, container: Container, lines: list[dict], input_uri: str | None = None) -> httpx.Response:
        """Write `lines` as the import input and start the import the way the profile says."""
        if self.start_route == "jobs/create":
            name = self.blob_name("import")
            self.write(container, name, lines)
            body = {"type": "import", "inputBlobContainerUri": input_uri or container.uri,
                    "outputBlobContainerUri": container.uri, "inputBlobName": name}
            if self.current:
                # A 2021 import's line errors go to a log in the output container (iot-hub-bulk-identity-mgmt), whose
                # name no page gives: the run's own output blob name keeps it apart from anyone else's.
                body["outputBlobName"] = self.blob_name("import-log")
                self.written.append((container, body["outputBlobName"]))
            return self._started(self.client.post("/jobs/create", params=self.params, json=body))
        # import-or-update-device-identities.md: GET with a JSON body naming only the containers.
        self.write(container, DEFAULT_BLOB, lines)
        body = {"inputBlobContainerUri": input_uri or container.uri,
                "outputBlobContainerUri": container.uri}
        return self.client.request("GET", "/importdevices", params=self.params, content=json.dumps(body),
                                   headers={"Content-Type": "application/json"})

    def get(self, job_id: str) -> httpx.Response:
        return self.client.get(f"/jobs/{job_id}", params=self.params)

    def list(self) -> httpx.Response:
        return self.client.get("/jobs", params=self.params)

    def cancel(self, job_id: str) -> httpx.Response:
        return self.client.delete(f"/jobs/{job_id}", params=self.params)

    def wait(self, job_id: str, clock=None, settle: bool = False) -> tuple[dict | None, builtins.list[str | None]]:
        """Poll until the job ends; returns its last state and every status seen, in order.
        `settle`: poll SETTLE_POLLS times whatever the status, to see that an ended job stays ended."""
        return poll(lambda: self.get(job_id), TERMINAL, self.target.job_timeout, clock,
                    polls=SETTLE_POLLS if settle else None)

    def _started(self, response: httpx.Response) -> httpx.Response:
        if self.current and response.status_code == 200:
            job_id = response.json().get("jobId") if isinstance(response.json(), dict) else None
            if isinstance(job_id, str):
                self.started.append(job_id)
        return response

    def cleanup(self) -> None:
        # A hub runs one import/export job at a time (quotas page): a job of the run left running would refuse the
        # next test's, so each one still unfinished is cancelled (only the run's own jobs: target.py guards it).
        for job_id in self.started:
            current = self.get(job_id)
            if current.status_code == 200 and (current.json() or {}).get("status") not in TERMINAL:
                self.cancel(job_id)
        self.started.clear()
        for container, name in self.written:
            container.delete(name)
        self.written.clear()


def poll(get, terminal, timeout: float, clock=None, polls: int | None = None) -> tuple[dict | None, list[str | None]]:
    """GET a job until its status is terminal (or, with `polls`, exactly that many times); returns its last state and
    every status seen, in order, or None once it stops answering 200. With the embedded reference's clock each poll
    advances it a second instead of sleeping (at most CLOCK_POLLS polls); elsewhere the wait ends after `timeout`."""
    seen: list[str | None] = []
    deadline = time.monotonic() + timeout
    job = None
    count = polls if polls is not None else CLOCK_POLLS if clock is not None else None
    for _ in itertools.count() if count is None else range(count):
        response = get()
        if response.status_code != 200:
            return None, seen
        job = response.json()
        status = job.get("status") if isinstance(job, dict) else None
        if not seen or seen[-1] != status:
            seen.append(status)
        if (status in terminal and polls is None) or time.monotonic() > deadline:
            return job, seen
        if clock is not None:
            clock.advance(1)
        else:
            time.sleep(1)
    return job, seen


def lines_of(blob: bytes | None) -> list:
    """The JSON values of a one-JSON-per-line blob; a line that is not JSON comes back as the string itself."""
    values = []
    for line in (blob or b"").decode("utf-8", "replace").splitlines():
        if line.strip():
            try:
                values.append(json.loads(line))
            except ValueError:
                values.append(line)
    return values

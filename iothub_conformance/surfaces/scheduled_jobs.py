"""Scheduled jobs and device twins (api-version 2016-11-14) as the suites use them, written once.

Job ids carry the run prefix, and every job's queryCondition names only devices the run created
(`deviceId IN [...]`), so a job never reaches a device the user owns.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx

from iothub_conformance.surfaces.devices import path as device_path
from iothub_conformance.surfaces.import_export import poll

API_VERSION = "2016-11-14"  # the version of the generated JobApi and DeviceTwinApi pages (specs/2016-11-14/)
TERMINAL = ("completed", "failed", "cancelled")


def condition(device_ids) -> str:
    return "deviceId IN [" + ", ".join(f"'{device_id}'" for device_id in device_ids) + "]"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def items_of(body, shape: str) -> list | None:
    """The jobs of a query answer, or None when it does not have the shape the profile allows."""
    if isinstance(body, dict) and isinstance(body.get("value"), dict) and isinstance(body["value"].get("items"), list):
        return body["value"]["items"]
    if shape == "any":
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            return body["items"]
        if isinstance(body, list):
            return body
    return None


class Scheduled:
    def __init__(self, client: httpx.Client, target, api_version: str = API_VERSION) -> None:
        self.client = client
        self.target = target
        self.params = {"api-version": api_version}

    def job_id(self, label: str) -> str:
        """Unique within the run: job ids stay taken on the hub after the job ends."""
        return f"{self.target.name_prefix}{label}-{uuid.uuid4().hex[:12]}"

    def now(self) -> float:
        """The target's time: the embedded reference's clock runs ahead when tests advance it."""
        return self.target.controls.now() if self.target.controls is not None else time.time()

    def twin_job(self, device_ids, twin: dict, start: float | None = None) -> tuple[str, httpx.Response]:
        return self._create("scheduleUpdateTwin", device_ids, {"updateTwin": twin}, start)

    def method_job(self, device_ids, method: str, payload=None, start: float | None = None) -> tuple[str, httpx.Response]:
        request = {"methodName": method, "payload": payload, "responseTimeoutInSeconds": 30,
                   "connectTimeoutInSeconds": 0}
        return self._create("scheduleDeviceMethod", device_ids, {"cloudToDeviceMethod": request}, start)

    def _create(self, kind: str, device_ids, extra: dict, start: float | None) -> tuple[str, httpx.Response]:
        job_id = self.job_id("job")
        body = {"jobId": job_id, "type": kind, "queryCondition": condition(device_ids), **extra,
                "startTime": iso(start if start is not None else self.now()), "maxExecutionTimeInSeconds": 3600}
        return job_id, self.client.put(f"/jobs/v2/{job_id}", params=self.params, json=body)

    def get(self, job_id: str) -> httpx.Response:
        return self.client.get(f"/jobs/v2/{job_id}", params=self.params)

    def cancel(self, job_id: str) -> httpx.Response:
        return self.client.post(f"/jobs/v2/{job_id}/cancel", params=self.params)

    def query(self, job_type: str | None = None, status: str | None = None, page_size: int | None = None,
              continuation: str | None = None, paging: str = "headers") -> httpx.Response:
        """One page of the job query. `paging`: how the page size and continuation are sent (profile rule
        job_query_paging at 2021-04-12): "headers" (x-ms-max-item-count, x-ms-continuation) or "query" (pageSize,
        continuationToken)."""
        params = dict(self.params)
        headers: dict[str, str] = {}
        if job_type:
            params["jobType"] = job_type
        if status:
            params["jobStatus"] = status
        if paging == "query":
            params.update({name: str(value) for name, value in (("pageSize", page_size),
                                                                 ("continuationToken", continuation)) if value})
        else:
            headers.update({name: str(value) for name, value in (("x-ms-max-item-count", page_size),
                                                                 ("x-ms-continuation", continuation)) if value})
        return self.client.get("/jobs/v2/query", params=params, headers=headers)

    def twin(self, device_id: str) -> httpx.Response:
        return self.client.get("/twins/" + device_path(device_id).removeprefix("/devices/"), params=self.params)

    def patch_twin(self, device_id: str, patch: dict) -> httpx.Response:
        return self.client.patch("/twins/" + device_path(device_id).removeprefix("/devices/"), params=self.params,
                                 json=patch)

    def wait(self, job_id: str, clock=None) -> dict | None:
        """Poll until the job ends (advancing the embedded reference's clock instead of sleeping)."""
        return poll(lambda: self.get(job_id), TERMINAL, self.target.job_timeout, clock)[0]

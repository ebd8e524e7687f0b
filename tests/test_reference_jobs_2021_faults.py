"""Each fault switch of the 2021-04-12 import/export and scheduled jobs (reference/faults_2021_jobs.py) changes the
reference's behaviour as its description says, and a hub without it does not. Time moves by hub.clock.advance."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import FAULTS
from tests.support.reference_api import ReferenceApi

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

V21 = {"api-version": "2021-04-12"}


def hubs(fault: str) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each holding the devices a, b and c."""
    pair = ReferenceApi(params=V21), ReferenceApi(fault, params=V21)
    for api in pair:
        api.devices("a", "b", "c")
    return pair


def tags(api: ReferenceApi, device_id: str) -> dict:
    return api.request("GET", f"/twins/{device_id}").json()["tags"]


def twin_job(api: ReferenceApi, job_id: str, condition: str, update: dict) -> dict:
    """Create a twin-update job at 2021-04-12 and run it to its end; the finished job."""
    created = api.request("PUT", f"/jobs/v2/{job_id}", json={
        "jobId": job_id, "type": "scheduleUpdateTwin", "queryCondition": condition, "updateTwin": update})
    assert created.status_code == 200, created.text
    api.hub.clock.advance(api.hub.job_delay + 1)
    return api.request("GET", f"/jobs/v2/{job_id}").json()


def test_fault_sj21_condition_sees_only_device_ids():
    assert FAULTS["sj21-condition-sees-only-device-ids"].breaks == ("SJOB-TWIN-003",)
    good, bad = hubs("sj21-condition-sees-only-device-ids")
    for api, selected in ((good, ["a", "b"]), (bad, [])):
        for device_id in ("a", "b"):
            assert api.request("PATCH", f"/twins/{device_id}", json={"tags": {"sel": "run-1"}}).status_code == 200
        done = twin_job(api, "by-tag", "deviceId IN ['a', 'b', 'c'] AND tags.sel = 'run-1'",
                        {"tags": {"done": 1}, "etag": "*"})
        assert done["status"] == "completed" and done["deviceJobStatistics"]["deviceCount"] == len(selected)
        assert [d for d in "abc" if tags(api, d).get("done") == 1] == selected
        # A condition on ids alone selects the same devices either way.
        by_id = twin_job(api, "by-id", "deviceId IN ['a', 'c']", {"tags": {"id": 1}, "etag": "*"})
        assert by_id["deviceJobStatistics"]["deviceCount"] == 2
        assert [d for d in "abc" if tags(api, d).get("id") == 1] == ["a", "c"]
    assert tags(bad, "a")["sel"] == "run-1"  # the twins themselves keep their tags
    query = bad.request("POST", "/devices/query", json={"query": "SELECT * FROM devices WHERE tags.sel = 'run-1'"})
    assert sorted(t["deviceId"] for t in query.json()) == ["a", "b"]  # the query engine itself is unchanged

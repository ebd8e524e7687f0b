"""Each scheduled job and twin fault switch changes the reference's behaviour as its description says, and a hub without
it does not. Devices answer direct methods through hub.method_handlers (see test_reference_scheduled_jobs.py); time
moves by hub.clock.advance."""

from __future__ import annotations

import pytest

from iothub_conformance.reference import FAULTS
from tests.support.reference_api import (
    SURFACE_PREFIXES,
    TWIN_API,
    ZERO_STATISTICS,
    ReferenceApi,
    error_code,
    faults_breaking,
    iso,
)

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

SCHEDULED_FAULTS = faults_breaking(*SURFACE_PREFIXES["scheduled jobs and twins"])


def hubs(fault: str) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each holding the devices a, b and c."""
    pair = ReferenceApi(params=TWIN_API), ReferenceApi(fault, params=TWIN_API)
    for api in pair:
        api.devices("a", "b", "c")
    return pair


def tags(api: ReferenceApi, device_id: str) -> dict:
    return api.twin(device_id).json()["tags"]


def test_every_scheduled_fault_has_a_test_here():
    assert SCHEDULED_FAULTS
    missing = [name for name in SCHEDULED_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def test_the_descriptions():
    assert FAULTS["v2-unknown-job-returns-200"].description == (
        "GET /jobs/v2/{jobId} of an unknown job answers 200 with an empty job")
    assert FAULTS["v2-cancel-ignored"].description == "a cancelled scheduled job still runs"
    assert FAULTS["v2-start-time-ignored"].description == "a scheduled job runs at once, whatever its startTime"
    assert FAULTS["v2-query-ignores-filters"].description == "GET /jobs/v2/query ignores jobType and jobStatus"
    assert FAULTS["twin-job-updates-nothing"].description == "a twin-update job completes without changing any twin"
    assert FAULTS["twin-job-ignores-condition"].description == (
        "a twin-update job updates every twin, not only those its queryCondition selects")
    assert FAULTS["method-job-offline-succeeds"].description == (
        "a device that is not online counts as succeeded in a method job")
    assert FAULTS["method-job-no-statistics"].description == "a finished job has no deviceJobStatistics"
    assert FAULTS["twin-patch-ignored"].description == "PATCH /twins/{deviceId} answers 200 but changes nothing"


def test_fault_v2_unknown_job_returns_200():
    good, bad = hubs("v2-unknown-job-returns-200")
    refused = good.get_v2("ghost")
    assert refused.status_code == 404 and error_code(refused) == "JobNotFound"
    answered = bad.get_v2("ghost")
    assert answered.status_code == 200 and answered.json() == {}
    job = bad.twin_job("t").json()
    assert bad.get_v2("t").json() == job  # known jobs are unchanged
    assert bad.cancel_v2("ghost").status_code == 404  # only the GET answers 200


def test_fault_v2_cancel_ignored():
    for api, status, changed in ((ReferenceApi(params=TWIN_API), "cancelled", {}),
                                 (ReferenceApi("v2-cancel-ignored", params=TWIN_API), "completed", {"site": "north"})):
        api.devices("a")
        api.twin_job("t", startTime=iso(api.hub.clock.now() + 60))
        assert api.cancel_v2("t").json()["status"] == "cancelled"
        assert api.get_v2("t").json()["status"] == "cancelled"
        api.hub.clock.advance(120)
        assert api.get_v2("t").json()["status"] == status
        assert tags(api, "a") == changed


def test_fault_v2_start_time_ignored():
    good, bad = hubs("v2-start-time-ignored")
    for api in (good, bad):
        created = api.twin_job("t", startTime=iso(api.hub.clock.now() + 3600)).json()
        assert created["status"] == "scheduled"  # the create answer is the same either way
    assert good.get_v2("t").json()["status"] == "scheduled" and tags(good, "a") == {}
    ran = bad.get_v2("t").json()
    assert ran["status"] == "completed" and tags(bad, "a") == {"site": "north"}


def test_fault_v2_query_ignores_filters():
    good, bad = hubs("v2-query-ignores-filters")
    for api, twin_jobs, completed in ((good, ["t"], ["m"]), (bad, ["t", "m"], ["t", "m"])):
        api.twin_job("t", startTime=iso(api.hub.clock.now() + 600))
        api.method_job("m")
        api.hub.clock.advance(2)
        for params, expected in (({"jobType": "scheduleUpdateTwin"}, twin_jobs), ({"jobStatus": "completed"}, completed)):
            items = api.query_v2(**params).json()["value"]["items"]
            assert [job["jobId"] for job in items] == expected
        refused = api.query_v2(jobType="export")  # values are still checked
        assert refused.status_code == 400


def test_fault_twin_job_updates_nothing():
    good, bad = hubs("twin-job-updates-nothing")
    for api, changed in ((good, {"site": "north"}), (bad, {})):
        api.twin_job("t")
        done = api.run_v2("t")
        assert done["status"] == "completed" and done["deviceJobStatistics"]["succeededCount"] == 1
        assert tags(api, "a") == changed
        assert (api.twin("a").json()["version"] == 1) is (not changed)
    assert bad.patch_twin("a", {"tags": {"k": 1}}).json()["tags"] == {"k": 1}  # a PATCH still works


def test_fault_twin_job_ignores_condition():
    good, bad = hubs("twin-job-ignores-condition")
    for api, updated in ((good, "a"), (bad, "abc")):
        api.twin_job("t", condition="deviceId = 'a'")
        done = api.run_v2("t")
        assert done["status"] == "completed"
        assert [d for d in "abc" if tags(api, d) == {"site": "north"}] == list(updated)
        assert done["deviceJobStatistics"]["succeededCount"] == len(updated)
    api = ReferenceApi("twin-job-ignores-condition", params=TWIN_API)
    api.devices("a", "b")
    api.hub.method_handlers["a"] = lambda name, payload: (200, None)
    api.method_job("m", condition="deviceId = 'a'")
    assert api.run_v2("m")["deviceJobStatistics"]["deviceCount"] == 1  # method jobs still follow their condition


def test_fault_method_job_offline_succeeds():
    good, bad = hubs("method-job-offline-succeeds")
    for api, counts in ((good, (1, 1)), (bad, (2, 0))):
        api.hub.method_handlers["a"] = lambda name, payload: (200, None)
        api.method_job("m", condition="deviceId IN ['a', 'b']")
        statistics = api.run_v2("m")["deviceJobStatistics"]
        assert (statistics["succeededCount"], statistics["failedCount"]) == counts
        api.hub.method_handlers["a"] = lambda name, payload: (500, None)
        api.method_job("m2", condition="deviceId = 'a'")
        assert api.run_v2("m2")["deviceJobStatistics"]["failedCount"] == 1  # an online device's failure still counts


def test_fault_method_job_no_statistics():
    good, bad = hubs("method-job-no-statistics")
    for api in (good, bad):
        api.method_job("m")
        api.twin_job("t")
        api.twin_job("later", startTime=iso(api.hub.clock.now() + 600))
        api.hub.clock.advance(2)
    for job_id in ("m", "t"):
        assert good.get_v2(job_id).json()["deviceJobStatistics"]["deviceCount"] == 1
        finished = bad.get_v2(job_id).json()
        assert finished["status"] == "completed" and "deviceJobStatistics" not in finished
        assert all("deviceJobStatistics" not in job for job in bad.query_v2(jobStatus="completed").json()["value"]["items"])
    assert bad.get_v2("later").json()["deviceJobStatistics"] == ZERO_STATISTICS  # a job still to run keeps them


def test_fault_twin_patch_ignored():
    good, bad = hubs("twin-patch-ignored")
    for api in (good, bad):
        before = api.twin("a").json()
        response = api.patch_twin("a", {"tags": {"k": 1}, "properties": {"desired": {"d": 2}}})
        assert response.status_code == 200
        after = api.twin("a").json()
        if api is good:
            assert after["tags"] == {"k": 1} and after["version"] == before["version"] + 1
        else:
            assert after == before and response.json() == before
    stale = bad.patch_twin("a", {"tags": {"k": 1}}, if_match='"stale"')
    assert stale.status_code == 412  # preconditions still hold
    bad.twin_job("t")
    bad.run_v2("t")
    assert tags(bad, "a") == {"site": "north"}  # twin jobs still write twins

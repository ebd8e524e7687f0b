"""The reference hub's device twins and scheduled jobs (api-version 2016-11-14; INVENTORY §3), request by request.
Devices answer direct methods through hub.method_handlers, and time moves by hub.clock.advance, never by sleeping."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from iothub_conformance.reference import Hub, ScheduledJob, scheduled_jobs_state
from iothub_conformance.reference.import_export_jobs import InvalidJob
from tests.support.reference_api import GUID, TWIN_API, ZERO_STATISTICS, ReferenceApi, error_code, iso

with warnings.catch_warnings():  # Starlette asks for a newer client package; httpx is what this project uses
    warnings.simplefilter("ignore", StarletteDeprecationWarning)

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

API = {"api-version": "2016-11-14"}
REGISTRY_API = {"api-version": "2016-02-03"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def api() -> ReferenceApi:
    made = ReferenceApi(params=TWIN_API)
    made.devices("a", "b", "c")
    return made


# --- twins ---

def test_a_new_device_has_an_empty_twin(api):
    response = api.twin("a")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    twin = response.json()
    assert twin == {"deviceId": "a", "etag": twin["etag"], "version": 1, "tags": {},
                    "properties": {"desired": {"$version": 1}, "reported": {"$version": 1}}}
    assert isinstance(twin["etag"], str) and twin["etag"]
    assert response.headers["ETag"] == f'"{twin["etag"]}"'
    assert api.twin("a").json() == twin  # reading changes nothing


def test_patch_merges_tags_and_desired_properties(api):
    before = api.twin("a").json()
    response = api.patch_twin("a", {"tags": {"site": "north", "floor": {"level": 1}},
                               "properties": {"desired": {"rate": 5}}})
    assert response.status_code == 200
    twin = response.json()
    assert twin["tags"] == {"site": "north", "floor": {"level": 1}}
    assert twin["properties"]["desired"] == {"rate": 5, "$version": 2}
    assert twin["properties"]["reported"] == {"$version": 1}
    assert twin["version"] == before["version"] + 1 and twin["etag"] != before["etag"]
    assert response.headers["ETag"] == f'"{twin["etag"]}"'
    assert api.twin("a").json() == twin
    tags_only = api.patch_twin("a", {"tags": {"floor": {"room": "b2"}}}).json()
    assert tags_only["tags"] == {"site": "north", "floor": {"level": 1, "room": "b2"}}  # nested objects merge
    assert tags_only["properties"]["desired"] == {"rate": 5, "$version": 2}  # untouched: same $version
    assert tags_only["version"] == twin["version"] + 1
    assert api.twin("b").json()["tags"] == {}  # other twins are untouched


def test_a_null_removes_its_key(api):
    api.patch_twin("a", {"tags": {"site": "north", "floor": {"level": 1, "room": "b2"}},
                    "properties": {"desired": {"rate": 5, "mode": "eco"}}})
    twin = api.patch_twin("a", {"tags": {"site": None, "floor": {"room": None}, "ghost": None, "new": {"x": None}},
                           "properties": {"desired": {"mode": None}}}).json()
    assert twin["tags"] == {"floor": {"level": 1}, "new": {}}
    assert twin["properties"]["desired"] == {"rate": 5, "$version": 3}


def test_an_object_replaces_a_value_and_a_value_replaces_an_object(api):
    api.patch_twin("a", {"tags": {"x": 1, "y": {"z": 2}}})
    assert api.patch_twin("a", {"tags": {"x": {"inner": True}, "y": [1, 2]}}).json()["tags"] == {
        "x": {"inner": True}, "y": [1, 2]}


def test_read_only_members_of_a_patch_are_left_out(api):
    twin = api.twin("a").json()
    patched = api.patch_twin("a", {"deviceId": "a", "etag": "mine", "version": 99, "tags": {"k": "v"},
                              "properties": {"desired": {"$version": 42, "$metadata": {}, "d": 1}}}).json()
    assert patched["etag"] not in ("mine", twin["etag"]) and patched["version"] == 2
    assert patched["properties"]["desired"] == {"d": 1, "$version": 2}


def test_patch_if_match(api):
    etag = api.twin("a").json()["etag"]
    stale = api.patch_twin("a", {"tags": {"k": 1}}, if_match=f'"{etag}"')
    assert stale.status_code == 200
    refused = api.patch_twin("a", {"tags": {"k": 2}}, if_match=f'"{etag}"')
    assert refused.status_code == 412 and error_code(refused) == "PreconditionFailed"
    assert api.twin("a").json()["tags"] == {"k": 1}  # the refused change was not made
    assert api.patch_twin("a", {"tags": {"k": 3}}, if_match="*").status_code == 200
    current = api.twin("a").json()["etag"]
    assert api.patch_twin("a", {"tags": {"k": 4}}, if_match=f'"other", "{current}"').status_code == 200
    assert api.patch_twin("a", {"tags": {"k": 5}}, if_match='""').status_code == 200  # "" counts as absent
    malformed = api.patch_twin("a", {"tags": {"k": 6}}, if_match="bare")
    assert malformed.status_code == 400 and error_code(malformed) == "ArgumentInvalid"
    assert api.twin("a").json()["tags"] == {"k": 5}


def test_twin_of_an_unknown_device_is_404(api):
    for response in (api.twin("ghost"), api.patch_twin("ghost", {"tags": {}}), api.patch_twin("ghost", {}, if_match="*")):
        assert response.status_code == 404 and error_code(response) == "DeviceNotFound"
    assert "ghost" not in api.hub.twins


@pytest.mark.parametrize("content", [b"", b"{", b"not json", b"[]", b"5", b"null", b'{"tags": NaN}', b"\xff",
                                     b'{"tags": {"k": "\\ud800"}}', b"[" * 5000 + b"]" * 5000])
def test_unreadable_patch_body_is_400_format_error(api, content):
    response = api.request("PATCH", "/twins/a", content=content)
    assert response.status_code == 400 and error_code(response) == "IotHubFormatError"
    assert api.twin("a").json()["version"] == 1


def deep(levels: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"n": value}
    return value


BAD_PATCHES = [
    {"tags": 5},
    {"tags": "north"},
    {"tags": [1]},
    {"properties": 5},
    {"properties": {"desired": "x"}},
    {"properties": {"desired": [1]}},
    {"properties": {"reported": {"r": 1}}},
    {"tags": {"a.b": 1}},
    {"tags": {"$x": 1}},
    {"tags": {"a b": 1}},
    {"tags": {"": 1}},
    {"tags": {"\u0001": 1}},
    {"tags": {"k" * 1025: 1}},
    {"tags": {"ok": {"in.ner": 1}}},
    {"tags": {"list": [{"a.b": 1}]}},
    {"properties": {"desired": {"$other": 1}}},
    {"tags": deep(11)},
    {"tags": {"x": [[[[[[[[[[[1]]]]]]]]]]]}},
    {"deviceId": "b", "tags": {}},
    {"deviceId": 5},
]


@pytest.mark.parametrize("body", BAD_PATCHES)
def test_invalid_patch_is_400_argument_invalid(api, body):
    response = api.patch_twin("a", body)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert api.twin("a").json()["version"] == 1


def test_ten_levels_deep_is_allowed(api):
    assert api.patch_twin("a", {"tags": deep(10)}).status_code == 200


def test_empty_patch_gives_a_new_version(api):
    twin = api.patch_twin("a", {}).json()
    assert twin["version"] == 2 and twin["tags"] == {}
    assert twin["properties"]["desired"] == {"$version": 1}


@pytest.mark.parametrize("device_id", ["a%20b", "x" * 129, "a%3Cb"])
def test_invalid_device_id_is_400(api, device_id):
    for response in (api.twin(device_id), api.patch_twin(device_id, {})):
        assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_a_twin_goes_with_its_device(api):
    api.patch_twin("a", {"tags": {"k": 1}})
    assert api.request("DELETE", "/devices/a", params=REGISTRY_API, headers={"If-Match": "*"}).status_code == 204
    assert api.twin("a").status_code == 404
    api.devices("a")
    assert api.twin("a").json()["tags"] == {} and api.twin("a").json()["version"] == 1


def test_an_import_that_deletes_or_creates_a_device_drops_its_twin():
    api = ReferenceApi(params=TWIN_API)
    api.devices("a", "b")
    api.patch_twin("a", {"tags": {"k": 1}})
    api.patch_twin("b", {"tags": {"k": 2}})
    api.store.write([{"id": "a", "importMode": "delete"}, {"id": "a", "importMode": "create"},
                     {"id": "b", "importMode": "update", "status": "disabled"}])
    assert api.run_job(api.import_())["status"] == "completed"
    assert api.twin("a").json()["tags"] == {}
    assert api.twin("b").json()["tags"] == {"k": 2}  # an update keeps the twin


# --- creating scheduled jobs ---

def test_create_twin_job_answers_the_job(api):
    response = api.twin_job("t1", update={"tags": {"site": "north"}, "properties": {"desired": {"rate": 5}}},
                            maxExecutionTimeInSeconds=600)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    job = response.json()
    assert job == {
        "jobId": "t1", "queryCondition": "deviceId = 'a'", "createdTime": job["createdTime"],
        "startTime": job["createdTime"], "endTime": None, "maxExecutionTimeInSeconds": 600,
        "type": "scheduleUpdateTwin",
        "updateTwin": {"tags": {"site": "north"}, "properties": {"desired": {"rate": 5}}},
        "status": "queued", "failureReason": None, "statusMessage": None, "deviceJobStatistics": ZERO_STATISTICS,
    }
    assert TIME.match(job["createdTime"])
    assert api.get_v2("t1").json() == job


def test_create_method_job_answers_the_job(api):
    job = api.create_v2("m1", {"type": "scheduleDeviceMethod", "queryCondition": "deviceId IN ['a', 'b']",
                            "cloudToDeviceMethod": {"methodName": "reboot", "payload": {"delay": 3},
                                                    "responseTimeoutInSeconds": 30, "connectTimeoutInSeconds": 0}}
                     ).json()
    assert job == {
        "jobId": "m1", "queryCondition": "deviceId IN ['a', 'b']", "createdTime": job["createdTime"],
        "startTime": job["createdTime"], "endTime": None, "maxExecutionTimeInSeconds": None,
        "type": "scheduleDeviceMethod",
        "cloudToDeviceMethod": {"methodName": "reboot", "payload": {"delay": 3}, "responseTimeoutInSeconds": 30,
                                "connectTimeoutInSeconds": 0},
        "status": "queued", "failureReason": None, "statusMessage": None, "deviceJobStatistics": ZERO_STATISTICS,
    }
    assert "updateTwin" not in job


def test_optional_method_fields_are_null_when_not_given(api):
    method = api.method_job("m1").json()["cloudToDeviceMethod"]
    assert method == {"methodName": "reboot", "payload": None, "responseTimeoutInSeconds": None,
                      "connectTimeoutInSeconds": None}


def test_future_start_time_is_scheduled_and_past_is_queued(api):
    now = api.hub.clock.now()
    future = api.twin_job("future", startTime=iso(now + 3600)).json()
    assert future["status"] == "scheduled"
    assert future["startTime"] == datetime.fromtimestamp(now + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert api.twin_job("past", startTime="2016-11-14T00:00:00Z").json()["status"] == "queued"
    assert api.twin_job("ancient", startTime="0001-01-01T00:00:00").json()["startTime"] == "0001-01-01T00:00:00.000Z"


@pytest.mark.parametrize("text", ["2030-01-28T16:24:48.789Z", "2030-01-28T16:24:48.7891234Z", "2030-01-28T16:24:48Z",
                                  "2030-01-28T18:24:48.789+02:00", "2030-01-28T16:24:48.789"])
def test_start_time_forms(api, text):
    job = api.twin_job("j", startTime=text).json()
    assert job["status"] == "scheduled" and job["startTime"].startswith("2030-01-28T16:24:48.")


def test_body_job_id_may_be_left_out_but_must_match(api):
    assert api.create_v2("j1", {"type": "scheduleUpdateTwin", "queryCondition": "deviceId = 'a'",
                             "updateTwin": {}}).status_code == 200
    response = api.twin_job("j2", jobId="other")
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert "j2" not in api.hub.scheduled_jobs


def test_a_job_id_already_used_is_400(api):
    first = api.twin_job("same").json()
    api.run_v2("same")
    for response in (api.twin_job("same"), api.method_job("same")):
        assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
        assert "job id 'same' already used" in response.json()["Message"]
    assert api.get_v2("same").json()["createdTime"] == first["createdTime"]


TWIN = {"type": "scheduleUpdateTwin", "queryCondition": "deviceId = 'a'", "updateTwin": {"tags": {"k": 1}}}
METHOD = {"type": "scheduleDeviceMethod", "queryCondition": "deviceId = 'a'",
          "cloudToDeviceMethod": {"methodName": "reboot"}}

BAD_JOBS = [
    {},
    {"queryCondition": "deviceId = 'a'", "updateTwin": {}},
    {**TWIN, "type": "export"},
    {**TWIN, "type": "ScheduleUpdateTwin"},
    {**TWIN, "type": ["scheduleUpdateTwin"]},
    {**TWIN, "queryCondition": None},
    {**TWIN, "queryCondition": 5},
    {**TWIN, "updateTwin": None},
    {**TWIN, "updateTwin": "tags"},
    {**TWIN, "updateTwin": {"tags": 5}},
    {**TWIN, "updateTwin": {"tags": {"a.b": 1}}},
    {**TWIN, "updateTwin": {"properties": {"reported": {"r": 1}}}},
    {**TWIN, "startTime": "tomorrow"},
    {**TWIN, "startTime": 1700000000},
    {**TWIN, "startTime": "9999-12-31T23:59:59-05:00"},
    {**TWIN, "startTime": "2030-01-28T16:24:48Z" + " " * 64},
    {**TWIN, "maxExecutionTimeInSeconds": -1},
    {**TWIN, "maxExecutionTimeInSeconds": "60"},
    {**TWIN, "maxExecutionTimeInSeconds": 1.5},
    {**TWIN, "maxExecutionTimeInSeconds": True},
    {**TWIN, "maxExecutionTimeInSeconds": 2**31},
    {**TWIN, "jobId": 5},
    {**METHOD, "cloudToDeviceMethod": None},
    {**METHOD, "cloudToDeviceMethod": "reboot"},
    {**METHOD, "cloudToDeviceMethod": {}},
    {**METHOD, "cloudToDeviceMethod": {"methodName": ""}},
    {**METHOD, "cloudToDeviceMethod": {"methodName": 5}},
    {**METHOD, "cloudToDeviceMethod": {"methodName": "m", "responseTimeoutInSeconds": 301}},
    {**METHOD, "cloudToDeviceMethod": {"methodName": "m", "connectTimeoutInSeconds": -1}},
    {**METHOD, "cloudToDeviceMethod": {"methodName": "m", "connectTimeoutInSeconds": "5"}},
    {**METHOD, "cloudToDeviceMethod": {"methodName": "m", "payload": "x" * (128 * 1024)}},
    {**METHOD, "updateTwin": {}, "cloudToDeviceMethod": None},
]


@pytest.mark.parametrize("body", BAD_JOBS)
def test_invalid_job_request_is_400_argument_invalid(api, body):
    response = api.create_v2("bad", body)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert api.hub.scheduled_jobs == {}


@pytest.mark.parametrize("content", [b"", b"{", b"not json", b"[]", b'{"type": NaN}', b"\xff"])
def test_unreadable_job_request_is_400_format_error(api, content):
    response = api.request("PUT", "/jobs/v2/bad", content=content)
    assert response.status_code == 400 and error_code(response) == "IotHubFormatError"
    assert api.hub.scheduled_jobs == {}


@pytest.mark.parametrize("job_id", ["query", "a%20b", "x" * 129])
def test_invalid_job_id_is_400(api, job_id):
    response = api.create_v2(job_id, TWIN)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert api.hub.scheduled_jobs == {}


def test_a_job_may_carry_the_other_types_section(api):
    # Only the section of the job's type counts; the other one is neither checked nor echoed.
    job = api.create_v2("j", {**TWIN, "cloudToDeviceMethod": "junk"}).json()
    assert "cloudToDeviceMethod" not in job and job["updateTwin"] == {"tags": {"k": 1}}


# --- the query condition ---

@pytest.mark.parametrize("condition, ids", [
    ("deviceId = 'a'", ("a",)),
    ('deviceId = "a"', ("a",)),
    ("  deviceId='a'  ", ("a",)),
    ("DEVICEID = 'a'", ("a",)),
    ("deviceId = ''", ("",)),
    ("deviceId = \"it's\"", ("it's",)),
    ("deviceId IN ['a', 'b']", ("a", "b")),
    ("deviceId in [\"a\",'b' , \"c\"]", ("a", "b", "c")),
    ("deviceId IN['a']", ("a",)),
    ("deviceId  In  [ 'a,b' ]", ("a,b",)),
    ("deviceId IN []", ()),
    ("deviceId IN [ ]", ()),
    ("\tdeviceId\nIN\n['a']\n", ("a",)),
])
def test_supported_conditions(condition, ids):
    assert scheduled_jobs_state.parse_condition(condition) == ids


@pytest.mark.parametrize("condition", [
    "", "   ", "deviceId", "deviceId = a", "deviceId = 'a", "deviceId = 'a' OR deviceId = 'b'", "deviceId != 'a'",
    "tags.site = 'north'", "SELECT * FROM devices WHERE deviceId = 'a'", "deviceId IN 'a'", "deviceId IN ['a',]",
    "deviceId IN [,'a']", "deviceId IN ['a' 'b']", "deviceId IN ['a'] AND deviceId = 'b'", "deviceIdIN ['a']",
    "deviceId IN [a]", "deviceId = 'a' 'b'", "deviceId == 'a'", "deviceId = `a`", "deviceId = 'a\"",
])
def test_unsupported_conditions(api, condition):
    with pytest.raises(InvalidJob, match="supports only deviceId"):
        scheduled_jobs_state.parse_condition(condition)
    response = api.twin_job("j", condition=condition)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert "the reference supports only deviceId = '…' and deviceId IN [...] conditions" in response.json()["Message"]


# --- running ---

def test_twin_job_changes_exactly_the_selected_twins(api):
    api.devices("d")
    api.patch_twin("c", {"tags": {"site": "south", "keep": 1}})
    before = {device_id: api.twin(device_id).json() for device_id in "abcd"}
    api.twin_job("t", condition="deviceId IN ['c', 'a', 'ghost']",
                 update={"tags": {"site": "north"}, "properties": {"desired": {"rate": 5}}})
    done = api.run_v2("t")
    assert done["status"] == "completed" and TIME.match(done["endTime"]) and done["failureReason"] is None
    assert done["deviceJobStatistics"] == {"deviceCount": 2, "failedCount": 0, "succeededCount": 2, "runningCount": 0,
                                           "pendingCount": 0}
    after = {device_id: api.twin(device_id).json() for device_id in "abcd"}
    assert after["a"]["tags"] == {"site": "north"} and after["c"]["tags"] == {"site": "north", "keep": 1}
    for device_id in "ac":
        assert after[device_id]["properties"]["desired"] == {"rate": 5, "$version": 2}
        assert after[device_id]["version"] == before[device_id]["version"] + 1
        assert after[device_id]["etag"] != before[device_id]["etag"]
    assert after["b"] == before["b"] and after["d"] == before["d"]
    assert "ghost" not in api.hub.devices and "ghost" not in api.hub.twins
    assert list(api.hub.scheduled_jobs["t"].outcomes) == ["a", "c"]  # deviceId order


def test_method_job_with_one_device_online_and_one_not(api):
    calls = []

    def handler(name, payload):
        calls.append((name, dict(payload)))
        payload["changed"] = True  # a handler's copy: the job keeps its own
        return 200, {"rebooted": True}

    api.hub.method_handlers["a"] = handler
    api.method_job("m", condition="deviceId IN ['b', 'a']", payload={"delay": 3})
    done = api.run_v2("m")
    assert calls == [("reboot", {"delay": 3})]
    assert done["status"] == "completed" and TIME.match(done["endTime"])
    assert done["deviceJobStatistics"] == {"deviceCount": 2, "failedCount": 1, "succeededCount": 1, "runningCount": 0,
                                           "pendingCount": 0}
    assert done["cloudToDeviceMethod"]["payload"] == {"delay": 3}
    outcomes = api.hub.scheduled_jobs["m"].outcomes
    assert outcomes["a"] == {"status": "completed",
                             "outcome": {"deviceMethodResponse": {"status": 200, "payload": {"rebooted": True}}}}
    assert outcomes["b"]["status"] == "failed" and outcomes["b"]["error"]["code"] == "DeviceNotOnline"
    assert api.twin("a").json()["version"] == 1  # a method job writes no twin


@pytest.mark.parametrize("answer", [(404, None), (500, "boom"), (199, None), ("200", None), (True, None), None, 200,
                                    (200,), RuntimeError("device crashed")])
def test_method_job_device_fails_on_anything_but_a_2xx_answer(api, answer):
    def handler(name, payload):
        if isinstance(answer, Exception):
            raise answer
        return answer

    api.hub.method_handlers["a"] = handler
    api.method_job("m")
    done = api.run_v2("m")
    assert done["status"] == "completed"
    assert (done["deviceJobStatistics"]["succeededCount"], done["deviceJobStatistics"]["failedCount"]) == (0, 1)


@pytest.mark.parametrize("status", [200, 201, 299])
def test_method_job_device_succeeds_on_2xx(api, status):
    api.hub.method_handlers["a"] = lambda name, payload: (status, None)
    api.method_job("m")
    assert api.run_v2("m")["deviceJobStatistics"]["succeededCount"] == 1


def test_a_job_that_selects_no_device_completes_with_count_0(api):
    api.twin_job("t", condition="deviceId IN ['ghost', 'other']")
    api.method_job("m", condition="deviceId IN []")
    for job_id in ("t", "m"):
        done = api.run_v2(job_id)
        assert done["status"] == "completed" and done["deviceJobStatistics"] == ZERO_STATISTICS


def test_a_job_waits_for_the_hub_delay(api):
    api.hub.job_delay = 30
    api.twin_job("t")
    api.hub.clock.advance(29)
    assert api.get_v2("t").json()["status"] == "queued"
    assert api.twin("a").json()["tags"] == {}
    api.hub.clock.advance(2)
    assert api.get_v2("t").json()["status"] == "completed"


def test_a_future_job_does_not_run_before_its_start_time_and_runs_after(api):
    start = api.hub.clock.now() + 3600
    created = api.twin_job("t", startTime=iso(start)).json()
    assert created["status"] == "scheduled"
    api.hub.clock.advance(3590)
    waiting = api.get_v2("t").json()
    assert waiting == created
    assert api.twin("a").json()["tags"] == {}
    api.hub.clock.advance(20)
    done = api.get_v2("t").json()
    assert done["status"] == "completed" and done["endTime"] >= done["startTime"] == created["startTime"]
    assert api.twin("a").json()["tags"] == {"site": "north"}


def test_a_job_whose_start_time_came_waits_queued_for_the_hub_delay(api):
    api.hub.job_delay = 30
    api.twin_job("t", startTime=iso(api.hub.clock.now() + 10))
    api.hub.clock.advance(15)
    assert api.get_v2("t").json()["status"] == "queued"
    api.hub.clock.advance(20)
    assert api.get_v2("t").json()["status"] == "completed"


@pytest.mark.parametrize("trigger", ["get", "query", "cancel", "create", "twin", "patch"])
def test_every_twin_and_job_request_brings_jobs_up_to_date(api, trigger):
    api.twin_job("t")
    api.hub.clock.advance(2)
    if trigger == "get":
        api.get_v2("other")
    elif trigger == "query":
        api.query_v2()
    elif trigger == "cancel":
        api.cancel_v2("other")
    elif trigger == "create":
        api.create_v2("other", {})
    elif trigger == "twin":
        api.twin("ghost")
    else:
        api.patch_twin("ghost", {})
    assert api.hub.scheduled_jobs["t"].status == "completed"


def test_other_requests_do_not_run_jobs(api):
    api.twin_job("t")
    api.hub.clock.advance(2)
    api.request("GET", "/devices", params=REGISTRY_API)
    api.request("GET", "/jobs", params=REGISTRY_API)
    assert api.hub.scheduled_jobs["t"].status == "queued"


def test_a_job_runs_only_once(api):
    calls = []
    api.hub.method_handlers["a"] = lambda name, payload: (calls.append(name), (200, None))[1]
    api.method_job("m")
    api.hub.clock.advance(2)
    for _ in range(3):
        api.get_v2("m")
        api.query_v2()
    assert calls == ["reboot"]


def test_jobs_see_the_devices_as_they_are_when_they_run(api):
    api.twin_job("t", condition="deviceId IN ['a', 'late']")
    api.devices("late")
    api.request("DELETE", "/devices/a", params=REGISTRY_API, headers={"If-Match": "*"})
    done = api.run_v2("t")
    assert done["deviceJobStatistics"]["deviceCount"] == 1
    assert api.twin("late").json()["tags"] == {"site": "north"}


def test_a_cancel_while_a_method_job_runs_stops_it(api):
    def handler(name, payload):
        assert api.cancel_v2("m").status_code == 200  # the cancel arrives while the job is running
        return 200, None

    api.hub.method_handlers["a"] = handler
    api.hub.method_handlers["b"] = handler
    api.method_job("m", condition="deviceId IN ['a', 'b']")
    api.hub.clock.advance(2)
    api.query_v2()
    job = api.hub.scheduled_jobs["m"]
    assert job.status == "cancelled" and job.outcomes == {}
    seen = api.get_v2("m").json()
    assert seen["status"] == "cancelled" and TIME.match(seen["endTime"])


def test_an_unexpected_error_fails_the_job(api, monkeypatch):
    def broken(hub, job):
        raise RuntimeError("bug")

    monkeypatch.setattr(scheduled_jobs_state, "_update_twins", broken)
    api.twin_job("t")
    done = api.run_v2("t")
    assert done["status"] == "failed" and done["failureReason"] == "internal error" and TIME.match(done["endTime"])


# --- cancelling ---

def test_cancel_before_the_job_runs(api):
    api.twin_job("t", startTime=iso(api.hub.clock.now() + 60))
    response = api.cancel_v2("t")
    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["status"] == "cancelled" and TIME.match(cancelled["endTime"])
    assert cancelled["deviceJobStatistics"] == ZERO_STATISTICS
    api.hub.clock.advance(120)
    assert api.get_v2("t").json() == cancelled  # a cancelled job never runs
    assert api.twin("a").json()["tags"] == {}


def test_cancel_a_queued_job(api):
    api.method_job("m")
    assert api.cancel_v2("m").json()["status"] == "cancelled"
    calls = []
    api.hub.method_handlers["a"] = lambda name, payload: (calls.append(name), (200, None))[1]
    api.run_v2("m")
    assert calls == []


def test_cancel_a_finished_job_changes_nothing(api):
    api.twin_job("t")
    done = api.run_v2("t")
    response = api.cancel_v2("t")
    assert response.status_code == 200 and response.json() == done
    assert api.get_v2("t").json() == done
    api.twin_job("c", startTime=iso(api.hub.clock.now() + 60))
    cancelled = api.cancel_v2("c").json()
    api.hub.clock.advance(1)
    assert api.cancel_v2("c").json() == cancelled


@pytest.mark.parametrize("job_id", ["ghost", "v2", "t1"])
def test_unknown_job_is_404_job_not_found(api, job_id):
    for response in (api.get_v2(job_id), api.cancel_v2(job_id)):
        assert response.status_code == 404 and error_code(response) == "JobNotFound"
        assert response.json()["ExceptionMessage"].startswith("Tracking ID:")
    assert api.cancel_v2("query").status_code == 404  # no job can be named query


# --- the query ---

def test_query_on_a_new_hub(api):
    response = api.query_v2()
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"value": {"type": "jobResponse", "items": [], "continuationToken": None},
                               "nextLink": None}


def test_query_filters_by_type_and_status(api):
    api.twin_job("t-done")
    api.method_job("m-done")
    api.hub.clock.advance(2)
    api.twin_job("t-scheduled", startTime=iso(api.hub.clock.now() + 600))
    api.method_job("m-cancelled", startTime=iso(api.hub.clock.now() + 600))
    api.cancel_v2("m-cancelled")

    def ids(**params) -> list[str]:
        response = api.query_v2(**params)
        assert response.status_code == 200
        return [job["jobId"] for job in response.json()["value"]["items"]]

    assert ids() == ["t-done", "m-done", "t-scheduled", "m-cancelled"]  # oldest first
    assert ids(jobType="scheduleUpdateTwin") == ["t-done", "t-scheduled"]
    assert ids(jobType="scheduleDeviceMethod") == ["m-done", "m-cancelled"]
    assert ids(jobStatus="completed") == ["t-done", "m-done"]
    assert ids(jobStatus="scheduled") == ["t-scheduled"]
    assert ids(jobStatus="cancelled", jobType="scheduleDeviceMethod") == ["m-cancelled"]
    assert ids(jobStatus="cancelled", jobType="scheduleUpdateTwin") == []
    assert ids(jobStatus="unknown") == [] and ids(jobStatus="failed") == [] and ids(jobStatus="queued") == []
    assert ids(jobType="", jobStatus="") == ids()  # an empty value is no filter
    assert ids(pageSize="1", continuationToken="x") == ids()  # one page holds everything
    items = api.query_v2().json()["value"]["items"]
    assert items == [api.get_v2(job_id).json() for job_id in ids()]


@pytest.mark.parametrize("params", [{"jobType": "export"}, {"jobType": "ScheduleUpdateTwin"}, {"jobStatus": "done"},
                                    {"jobStatus": "Completed"}, {"jobType": "scheduleUpdateTwin", "jobStatus": "x"}])
def test_query_with_unknown_filter_values_is_400(api, params):
    response = api.query_v2(**params)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_query_is_not_a_job_id(api):
    assert api.twin_job("q1").status_code == 200
    assert "items" in api.request("GET", "/jobs/v2/query").json()["value"]
    assert api.request("HEAD", "/jobs/v2/query").status_code == 200


def test_import_export_routes_keep_working(api):
    assert api.request("GET", "/jobs", params=REGISTRY_API).json() == []
    v2 = api.request("GET", "/jobs/v2", params=REGISTRY_API)
    assert v2.status_code == 404 and error_code(v2) == "JobNotFound"
    assert api.request("DELETE", "/jobs/v2", params=REGISTRY_API).status_code == 404


def test_wrong_method_is_405_with_allow(api):
    api.twin_job("t")
    cases = [("DELETE", "/jobs/v2/t", "GET, HEAD, PUT"), ("POST", "/jobs/v2/t", "GET, HEAD, PUT"),
             ("PUT", "/jobs/v2/query", None), ("GET", "/jobs/v2/t/cancel", "POST"),
             ("PUT", "/twins/a", "GET, HEAD, PATCH"), ("DELETE", "/twins/a", "GET, HEAD, PATCH")]
    for method, path, allow in cases:
        response = api.request(method, path, json={})
        if allow is None:  # PUT /jobs/v2/query reaches the job route, which refuses the jobId
            assert response.status_code == 400
            continue
        assert response.status_code == 405 and response.headers["Allow"] == allow, (method, path)


def test_old_finished_jobs_are_forgotten_and_unfinished_ones_never(api, monkeypatch):
    monkeypatch.setattr(scheduled_jobs_state, "KEPT", 2)
    later = iso(api.hub.clock.now() + 600)
    api.twin_job("done")
    api.cancel_v2("done")
    api.twin_job("w1", startTime=later)
    api.twin_job("w2", startTime=later)
    assert list(api.hub.scheduled_jobs) == ["w1", "w2"]  # the finished one went to make room
    refused = api.twin_job("w3", startTime=later)
    assert refused.status_code == 403 and error_code(refused) == "JobQuotaExceeded"
    assert list(api.hub.scheduled_jobs) == ["w1", "w2"]  # a job that has not ended is never forgotten
    api.cancel_v2("w1")
    assert api.twin_job("w3", startTime=later).status_code == 200
    assert list(api.hub.scheduled_jobs) == ["w2", "w3"]


def test_at_most_1000_jobs_are_kept():
    assert scheduled_jobs_state.KEPT == 1000
    hub = Hub.create()
    for number in range(1001):
        job = ScheduledJob(f"j{number}", "scheduleUpdateTwin", "deviceId = 'a'", ("a",), 0.0, 0.0, None, None, {},
                           None, status="completed")
        assert scheduled_jobs_state.add(hub, job)
    assert len(hub.scheduled_jobs) == 1000 and "j0" not in hub.scheduled_jobs


# --- the common rules ---

def test_api_version_2016_11_14_only(api):
    api.twin_job("t")
    for params in ({}, REGISTRY_API, {"api-version": "2018-06-30"}, {"api-version": ["2016-11-14", "2016-02-03"]}):
        for response in (api.twin("a", params=params), api.patch_twin("a", {}, params=params),
                         api.create_v2("n", TWIN, params=params), api.get_v2("t", params=params),
                         api.cancel_v2("t", params=params), api.request("GET", "/jobs/v2/query", params=params)):
            assert response.status_code == 400 and error_code(response) == "InvalidProtocolVersion"
    assert api.twin("a").json()["version"] == 1 and list(api.hub.scheduled_jobs) == ["t"]
    assert api.hub.scheduled_jobs["t"].status == "queued"
    # The 2016-02-03 routes keep their own version.
    devices = api.request("GET", "/devices")
    assert devices.status_code == 400 and error_code(devices) == "InvalidProtocolVersion"
    assert api.request("GET", "/devices", params=REGISTRY_API).status_code == 200


def test_the_api_version_faults_apply_here_too():
    missing = ReferenceApi("accept-missing-api-version", params=TWIN_API)
    missing.devices("a")
    assert missing.twin("a", params={}).status_code == 200
    assert missing.request("GET", "/jobs/v2/query", params={}).status_code == 200
    assert missing.twin("a", params=REGISTRY_API).status_code == 400
    other = ReferenceApi("accept-any-api-version", params=TWIN_API)
    other.devices("a")
    assert other.twin("a", params=REGISTRY_API).status_code == 200
    assert other.twin("a", params={}).status_code == 400
    code = ReferenceApi("wrong-api-version-error-code", params=TWIN_API)
    response = code.twin("a", params=REGISTRY_API)
    assert response.status_code == 400 and response.headers["iothub-errorcode"] == "BadRequest"


def test_tokens_and_permissions(api):
    api.twin_job("t")
    read, read_write, service = api.policy("registryRead"), api.policy("registryReadWrite"), api.policy("service")
    assert api.twin("a", token=read).status_code == 200
    assert api.get_v2("t", token=read).status_code == 200
    assert api.query_v2(token=read).status_code == 200
    assert api.twin_job("rw", token=read_write).status_code == 200
    assert api.patch_twin("a", {}, token=read_write).status_code == 200
    assert api.cancel_v2("rw", token=read_write).status_code == 200
    assert api.method_job("s", token=service).status_code == 200  # a method job reaches devices: ServiceConnect
    refused = [
        api.patch_twin("a", {}, token=read), api.twin_job("x", token=read), api.method_job("x", token=read),
        api.cancel_v2("t", token=read), api.method_job("x", token=read_write), api.twin_job("x", token=service),
        api.twin("a", token=service), api.get_v2("t", token=service), api.query_v2(token=service),
        api.cancel_v2("t", token=service), api.twin("a", token=None), api.patch_twin("a", {}, token=None),
        api.twin_job("x", token=None), api.get_v2("t", token=None), api.cancel_v2("t", token=None), api.query_v2(token=None),
        api.create_v2("x", {}, token=read), api.request("PUT", "/jobs/v2/x", token=read, content=b"{"),
    ]
    for number, response in enumerate(refused):
        assert response.status_code == 401 and error_code(response) == "IotHubUnauthorizedAccess", number
    assert "x" not in api.hub.scheduled_jobs and api.hub.scheduled_jobs["t"].status == "queued"


def test_token_is_checked_before_the_body(api):
    assert api.request("PUT", "/jobs/v2/x", token=None, content=b"{").status_code == 401
    assert api.request("PATCH", "/twins/a", token=None, content=b"{").status_code == 401


def test_request_id_on_every_response(api):
    api.twin_job("t")
    responses = [api.twin("a"), api.twin("ghost"), api.patch_twin("a", {}), api.patch_twin("a", []), api.twin_job("t"),
                 api.method_job("m"), api.get_v2("t"), api.get_v2("ghost"), api.cancel_v2("t"), api.cancel_v2("ghost"),
                 api.query_v2(), api.query_v2(jobType="x"), api.twin("a", token=None), api.twin("a", params={}),
                 api.request("DELETE", "/twins/a")]
    ids = [response.headers["x-ms-request-id"] for response in responses]
    assert all(GUID.match(value) for value in ids) and len(set(ids)) == len(ids)


HOSTILE_PATHS = ["/twins/%00", "/twins/%FF%FE", "/twins/" + "a" * 10000, "/jobs/v2/%00", "/jobs/v2/%C0%AF/cancel",
                 "/jobs/v2/" + "j" * 10000, "/twins/..%2F..%2Fdevices", "/jobs/v2/query%00"]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_no_server_error_on_hostile_paths(api, path):
    for method in ("GET", "PATCH", "PUT", "POST"):
        assert api.request(method, path, content=b"{}").status_code < 500


HOSTILE_BODIES = [
    b"{" * 100000, b'{"type": "scheduleUpdateTwin", "queryCondition": "deviceId IN [' + b"'a'," * 50000 + b"'b']\"}",
    b'{"type": "scheduleUpdateTwin", "queryCondition": "' + b"deviceId IN [" * 10000 + b'", "updateTwin": {}}',
    b'{"type": "scheduleDeviceMethod", "queryCondition": "deviceId = \'a\'", "cloudToDeviceMethod": '
    b'{"methodName": "m", "payload": {"x": "\\ud800"}}}',
    b'{"type": "scheduleUpdateTwin", "queryCondition": "deviceId = \'a\'", "updateTwin": {"tags": {"\\ud800": 1}}}',
    b'{"type": "scheduleUpdateTwin", "queryCondition": "deviceId = \'a\'", "startTime": "\\u0000", "updateTwin": {}}',
    b'{"type": "scheduleUpdateTwin", "queryCondition": "deviceId = \'a\'", "maxExecutionTimeInSeconds": '
    + b"9" * 5000 + b', "updateTwin": {}}',
    b'{"tags": {"k": 1e999}}', b'{"tags": {"k": ' + b"1" * 5000 + b"}}",
]


@pytest.mark.parametrize("content", HOSTILE_BODIES)
def test_no_server_error_on_hostile_bodies(api, content):
    for method, path in (("PUT", "/jobs/v2/h"), ("PATCH", "/twins/a")):
        assert api.request(method, path, content=content).status_code < 500
    api.hub.clock.advance(2)
    assert api.query_v2().status_code == 200 and api.twin("a").status_code == 200

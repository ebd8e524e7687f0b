"""The reference hub's import/export jobs (INVENTORY §2a, §7 item 10), request by request. Blob containers live in
memory behind hub.blob_transport, and time moves by hub.clock.advance, never by sleeping."""

from __future__ import annotations

import base64
import re
import threading
import warnings
from datetime import datetime

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from iothub_conformance.reference import Hub, Job, import_export_jobs
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.reference_api import GUID, ReferenceApi, container, error_code

with warnings.catch_warnings():  # Starlette asks for a newer client package; httpx is what this project uses
    warnings.simplefilter("ignore", StarletteDeprecationWarning)

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.removesuffix("Z"))


def key(fill: int) -> str:
    return base64.b64encode(bytes([fill]) * 32).decode()


@pytest.fixture
def api() -> ReferenceApi:
    return ReferenceApi()


# --- starting a job ---

def test_create_export_answers_the_new_job(api):
    response = api.export()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    job = response.json()
    assert GUID.match(job["jobId"])
    assert job == {
        "jobId": job["jobId"], "startTimeUtc": None, "endTimeUtc": None, "type": "export", "status": "enqueued",
        "progress": 0, "inputBlobContainerUri": None, "outputBlobContainerUri": container("out"),
        "excludeKeysInExport": False, "failureReason": None, "inputBlobName": "devices.txt",
        "outputBlobName": "devices.txt",
    }


def test_create_import_answers_the_new_job(api):
    job = api.import_([], inputBlobName="in.txt", outputBlobName="log.txt").json()
    assert (job["type"], job["status"], job["progress"]) == ("import", "enqueued", 0)
    assert job["inputBlobContainerUri"] == container("in")
    assert job["outputBlobContainerUri"] == container("out")
    assert (job["inputBlobName"], job["outputBlobName"]) == ("in.txt", "log.txt")
    assert job["startTimeUtc"] is None and job["endTimeUtc"] is None and job["failureReason"] is None


def test_system_generated_fields_are_ignored_at_creation(api):
    job = api.export(jobId="mine", status="completed", progress=50, startTimeUtc="2015-01-28T16:24:48.789Z",
                     failureReason="no", inputBlobContainerUri=container("in")).json()
    assert job["jobId"] != "mine" and GUID.match(job["jobId"])
    assert (job["status"], job["progress"], job["startTimeUtc"], job["failureReason"]) == ("enqueued", 0, None, None)
    assert job["inputBlobContainerUri"] is None  # an export has no input


def test_every_job_gets_a_fresh_id(api):
    ids = {api.export().json()["jobId"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("profile", [IOTHUB, DOCS_STRICT], ids=lambda p: p.name)
def test_both_start_routes_are_served_under_every_profile(profile):
    api = ReferenceApi(profile=profile)
    api.store.write([{"id": "a", "importMode": "create"}])
    started = api.importdevices({"inputBlobContainerUri": container("in"), "outputBlobContainerUri": container("out")})
    assert started.status_code == 200
    job = started.json()
    assert (job["type"], job["status"]) == ("import", "enqueued")
    assert api.run_job(started)["status"] == "completed"
    assert "a" in api.hub.devices
    assert api.export().status_code == 200 and api.import_().status_code == 200


def test_importdevices_always_imports_and_takes_the_page_names(api):
    # The page's body names the output "outputBlobContainerUri " (trailing space) and its table "exportBlobContainerUri".
    for name in ("outputBlobContainerUri ", "exportBlobContainerUri"):
        job = api.importdevices({"type": "export", "inputBlobContainerUri": container("in"), name: container("o")})
        assert job.status_code == 200 and job.json()["type"] == "import"
        assert job.json()["outputBlobContainerUri"] == container("o")


def test_importdevices_head_is_405_and_starts_nothing(api):
    response = api.request("HEAD", "/importdevices")
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert api.hub.jobs == {}


@pytest.mark.parametrize("content", [b"", b"{", b"not json", b'{"type": NaN}', b"\xff"])
def test_unparseable_body_is_400_format_error(api, content):
    for route in ("POST /jobs/create", "GET /importdevices"):
        method, path = route.split()
        response = api.request(method, path, content=content)
        assert response.status_code == 400 and error_code(response) == "IotHubFormatError", route
    assert api.hub.jobs == {}


BAD_EXPORTS = [
    [],
    "export",
    {"outputBlobContainerUri": container("out")},
    {"type": "backup", "outputBlobContainerUri": container("out")},
    {"type": "Export", "outputBlobContainerUri": container("out")},
    {"type": ["export"], "outputBlobContainerUri": container("out")},
    {"type": "export"},
    {"type": "export", "outputBlobContainerUri": None},
    {"type": "export", "outputBlobContainerUri": 5},
    {"type": "export", "outputBlobContainerUri": "ftp://account/out?sig=x"},
    {"type": "export", "outputBlobContainerUri": "https://account.blob.core.windows.net/?sig=x"},
    {"type": "export", "outputBlobContainerUri": "https:///out?sig=x"},
    {"type": "export", "outputBlobContainerUri": "https://account:99999/out?sig=x"},
    {"type": "export", "outputBlobContainerUri": "https://[::1/out?sig=x"},
    {"type": "export", "outputBlobContainerUri": "out"},
    {"type": "export", "outputBlobContainerUri": container("out"), "excludeKeysInExport": "true"},
    {"type": "export", "outputBlobContainerUri": container("out"), "excludeKeysInExport": 1},
    {"type": "export", "outputBlobContainerUri": container("out"), "outputBlobName": ""},
    {"type": "export", "outputBlobContainerUri": container("out"), "outputBlobName": 7},
    {"type": "export", "outputBlobContainerUri": container("out"), "outputBlobName": "x" * 1025},
    {"type": "import", "outputBlobContainerUri": container("out")},
    {"type": "import", "inputBlobContainerUri": container("in")},
    {"type": "import", "inputBlobContainerUri": "in", "outputBlobContainerUri": container("out")},
]


@pytest.mark.parametrize("body", BAD_EXPORTS)
def test_invalid_create_body_is_400_argument_invalid(api, body):
    response = api.create_job(body)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert "sig=" not in response.text  # a refused URI is never echoed
    assert api.hub.jobs == {}


@pytest.mark.parametrize("body", [{}, {"inputBlobContainerUri": container("in")},
                                  {"outputBlobContainerUri": container("out")}, []])
def test_invalid_importdevices_body_is_400(api, body):
    response = api.importdevices(body)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_http_containers_and_nested_paths_are_accepted(api):
    for uri in ("http://127.0.0.1:10000/devstoreaccount1/out?sig=x", container("out/sub")):
        assert api.export(outputBlobContainerUri=uri).status_code == 200


# --- reading and cancelling ---

def test_get_and_list(api):
    first = api.export().json()
    second = api.import_([]).json()
    assert api.get_job(first["jobId"]).json() == first
    listed = api.list_jobs()
    assert listed.status_code == 200 and listed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert [job["jobId"] for job in listed.json()] == [first["jobId"], second["jobId"]]  # oldest first
    assert listed.json() == [first, second]


def test_list_is_empty_on_a_new_hub(api):
    assert api.list_jobs().json() == []


@pytest.mark.parametrize("job_id", ["00000000-0000-0000-0000-000000000000", "nope", "create"])
def test_unknown_job_is_404_job_not_found(api, job_id):
    for response in (api.get_job(job_id), api.cancel_job(job_id)):
        assert response.status_code == 404 and error_code(response) == "JobNotFound"
        assert response.json()["ExceptionMessage"].startswith("Tracking ID:")


def test_cancel_an_enqueued_job(api):
    api.hub.job_delay = 30
    job = api.export().json()
    response = api.cancel_job(job["jobId"])
    assert response.status_code == 204 and response.content == b""
    cancelled = api.get_job(job["jobId"]).json()
    assert cancelled["status"] == "cancelled" and TIME.match(cancelled["endTimeUtc"])
    assert cancelled["startTimeUtc"] is None and cancelled["failureReason"] is None
    api.hub.clock.advance(60)
    assert api.get_job(job["jobId"]).json() == cancelled  # a cancelled job never runs
    assert api.store.blobs == {}


def test_cancel_a_finished_job_is_204_and_changes_nothing(api):
    done = api.run_job(api.export())
    failed = api.run_job(api.import_())  # no input blob
    assert (done["status"], failed["status"]) == ("completed", "failed")
    for job in (done, failed):
        assert api.cancel_job(job["jobId"]).status_code == 204
        assert api.get_job(job["jobId"]).json() == job
    api.hub.job_delay = 30
    cancelled = api.export().json()["jobId"]
    api.cancel_job(cancelled)
    before = api.get_job(cancelled).json()
    assert api.cancel_job(cancelled).status_code == 204
    assert api.get_job(cancelled).json() == before


def test_wrong_method_is_405_with_allow(api):
    job_id = api.export().json()["jobId"]
    response = api.request("PUT", f"/jobs/{job_id}", json={})
    assert response.status_code == 405 and response.headers["Allow"] == "DELETE, GET, HEAD"
    assert api.request("POST", "/jobs").status_code == 405
    assert api.request("POST", "/importdevices", json={}).status_code == 405
    assert api.request("PUT", "/jobs/create", json={}).headers["Allow"] == "POST"


# --- the lifecycle ---

def test_job_waits_for_its_delay_then_completes(api):
    api.hub.job_delay = 30
    created = api.export()
    job_id = created.json()["jobId"]
    assert api.get_job(job_id).json()["status"] == "enqueued"
    api.hub.clock.advance(29)
    assert api.get_job(job_id).json()["status"] == "enqueued"
    assert api.store.blobs == {}
    api.hub.clock.advance(2)
    done = api.get_job(job_id).json()
    assert (done["status"], done["progress"], done["failureReason"]) == ("completed", 100, None)
    assert TIME.match(done["startTimeUtc"]) and TIME.match(done["endTimeUtc"])
    assert import_export_jobs.utc(api.hub.jobs[job_id].created_at + 30) <= done["startTimeUtc"] <= done["endTimeUtc"]
    assert when(done["endTimeUtc"]) <= when(import_export_jobs.utc(api.hub.clock.now()))


def test_default_delay_is_one_second_by_the_hub_clock(api):
    assert api.hub.job_delay == 1.0
    job_id = api.export().json()["jobId"]
    api.hub.clock.advance(2)
    assert api.get_job(job_id).json()["status"] == "completed"


@pytest.mark.parametrize("trigger", ["list", "get", "cancel", "create", "importdevices"])
def test_every_job_request_brings_jobs_up_to_date(api, trigger):
    job_id = api.export().json()["jobId"]
    api.hub.clock.advance(2)
    if trigger == "list":
        api.list_jobs()
    elif trigger == "get":
        api.get_job("other")
    elif trigger == "cancel":
        api.cancel_job("other")
    elif trigger == "create":
        api.create_job({})
    else:
        api.importdevices({})
    assert api.hub.jobs[job_id].status == "completed"
    assert ("out", "devices.txt") in api.store.blobs


def test_a_job_runs_only_once(api):
    api.device("a")
    job_id = api.export().json()["jobId"]
    api.hub.clock.advance(2)
    puts = []
    handler = api.store.handler

    def counting(request):
        puts.append(request.method)
        return handler(request)

    api.hub.blob_transport = httpx.MockTransport(counting)
    for _ in range(3):
        api.list_jobs()
        api.get_job(job_id)
    assert puts == ["PUT"]


def test_a_running_job_is_seen_as_running_and_cancelling_it_keeps_it_cancelled(api):
    api.device("a")
    api.store.write([{"id": "b", "importMode": "create"}])
    job_id = api.import_().json()["jobId"]
    api.hub.clock.advance(2)
    api.store.gate = threading.Event()
    runner = threading.Thread(target=api.list_jobs)
    runner.start()
    try:
        assert api.store.entered.wait(10)  # the job is reading its input blob
        seen = api.get_job(job_id).json()
        assert seen["status"] == "running" and TIME.match(seen["startTimeUtc"]) and seen["endTimeUtc"] is None
        assert api.cancel_job(job_id).status_code == 204
    finally:
        api.store.gate.set()
        runner.join(10)
    done = api.get_job(job_id).json()
    assert done["status"] == "cancelled" and TIME.match(done["endTimeUtc"])
    assert "b" not in api.hub.devices  # cancelled before it applied anything


def test_an_unexpected_error_fails_the_job(api, monkeypatch):
    api.device("a")

    def broken(*args):
        raise RuntimeError(f"boom {container('out')}")

    monkeypatch.setattr(import_export_jobs, "export_item", broken)
    job = api.run_job(api.export())
    assert job["status"] == "failed" and job["failureReason"] == "export failed: internal error"


# --- exports ---

def test_export_writes_one_device_per_line_sorted(api):
    b = api.device("b", status="disabled", statusReason="broken")
    a = api.device("a")
    job = api.run_job(api.export())
    assert job["status"] == "completed"
    assert api.store.content_types[("out", "devices.txt")] == "text/plain"
    raw = api.store.blobs[("out", "devices.txt")].decode()
    assert raw.endswith("\n") and len(raw.splitlines()) == 2
    assert api.store.lines() == [
        {"id": "a", "eTag": a["etag"], "status": "enabled", "statusReason": None,
         "authentication": {"symmetricKey": a["authentication"]["symmetricKey"]}},
        {"id": "b", "eTag": b["etag"], "status": "disabled", "statusReason": "broken",
         "authentication": {"symmetricKey": b["authentication"]["symmetricKey"]}},
    ]


def test_export_of_an_empty_registry_is_an_empty_blob(api):
    assert api.run_job(api.export())["status"] == "completed"
    assert api.store.blobs[("out", "devices.txt")] == b""


def test_export_sees_the_devices_as_they_are_when_it_runs(api):
    api.device("early")
    started = api.export()
    api.device("late")
    api.run_job(started)
    assert [line["id"] for line in api.store.lines()] == ["early", "late"]


def test_export_to_a_named_blob(api):
    api.device("a")
    assert api.run_job(api.export(outputBlobName="dir/export 1.txt"))["status"] == "completed"
    assert [line["id"] for line in api.store.lines(blob="dir/export 1.txt")] == ["a"]


def test_export_excludes_keys_when_asked(api):
    api.device("a")
    job = api.run_job(api.export(excludeKeysInExport=True))
    assert job["excludeKeysInExport"] is True
    assert api.store.lines()[0]["authentication"] == {"symmetricKey": {"primaryKey": None, "secondaryKey": None}}
    api.run_job(api.export(excludeKeysInExport=False, outputBlobName="keys.txt"))
    assert api.store.lines(blob="keys.txt")[0]["authentication"]["symmetricKey"]["primaryKey"]


@pytest.mark.parametrize(("profile", "excluded"), [(IOTHUB, False), (DOCS_STRICT, True)], ids=["iothub", "docs-strict"])
def test_export_key_default_follows_the_profile(profile, excluded):
    api = ReferenceApi(profile=profile)
    api.device("a")
    for started in (api.export(), api.export(excludeKeysInExport=None)):
        job = api.run_job(started)
        assert job["excludeKeysInExport"] is excluded
        assert (api.store.lines()[0]["authentication"]["symmetricKey"]["primaryKey"] is None) is excluded


# --- imports ---

def test_import_creates_devices(api):
    lines = [{"id": "a", "importMode": "create"},
             {"id": "b", "importMode": "create", "status": "disabled", "statusReason": "new",
              "authentication": {"symmetricKey": {"primaryKey": key(1), "secondaryKey": key(2)}}}]
    job = api.run_job(api.import_(lines))
    assert (job["status"], job["progress"], job["failureReason"]) == ("completed", 100, None)
    a = api.request("GET", "/devices/a").json()
    assert a["status"] == "enabled" and a["authentication"]["symmetricKey"]["primaryKey"]  # keys generated
    b = api.request("GET", "/devices/b").json()
    assert (b["status"], b["statusReason"]) == ("disabled", "new")
    assert b["authentication"]["symmetricKey"] == {"primaryKey": key(1), "secondaryKey": key(2)}


def test_import_update_replaces_given_fields_and_keeps_the_others(api):
    old = api.device("a", status="disabled", statusReason="why")
    job = api.run_job(api.import_([{"id": "a", "importMode": "update", "status": "enabled",
                                "authentication": {"symmetricKey": {"primaryKey": key(3)}}}]))
    assert job["status"] == "completed"
    new = api.request("GET", "/devices/a").json()
    assert new["status"] == "enabled" and new["statusReason"] == "why"
    assert new["authentication"]["symmetricKey"] == {"primaryKey": key(3),
                                                     "secondaryKey": old["authentication"]["symmetricKey"]["secondaryKey"]}
    assert new["etag"] != old["etag"] and new["generationId"] == old["generationId"]


def test_import_update_if_match_etag(api):
    etag = api.device("a")["etag"]
    job = api.run_job(api.import_([{"id": "a", "importMode": "updateIfMatchETag", "eTag": etag, "statusReason": "ok"}]))
    assert job["status"] == "completed"
    current = api.request("GET", "/devices/a").json()
    assert current["statusReason"] == "ok"
    stale = api.run_job(api.import_([{"id": "a", "importMode": "updateIfMatchETag", "eTag": etag, "statusReason": "no"}]))
    assert stale["status"] == "failed" and "line 1" in stale["failureReason"] and "eTag" in stale["failureReason"]
    assert api.request("GET", "/devices/a").json() == current


def test_import_delete_and_delete_if_match_etag(api):
    api.device("a")
    etag = api.device("b")["etag"]
    api.device("c")
    api.hub.enqueue("a", b"hello", {})
    job = api.run_job(api.import_([{"id": "a", "importMode": "delete"},
                               {"id": "b", "importMode": "deleteIfMatchETag", "eTag": etag}]))
    assert job["status"] == "completed"
    assert sorted(api.hub.devices) == ["c"]
    assert "a" not in api.hub.queues  # its cloud-to-device messages went with it
    stale = api.run_job(api.import_([{"id": "c", "importMode": "deleteIfMatchETag", "eTag": etag}]))
    assert stale["status"] == "failed" and "c" in api.hub.devices


def test_import_lines_apply_in_order(api):
    job = api.run_job(api.import_([{"id": "a", "importMode": "create"},
                               {"id": "a", "importMode": "update", "statusReason": "second"},
                               {"id": "b", "importMode": "create"},
                               {"id": "b", "importMode": "delete"}]))
    assert job["status"] == "completed"
    assert sorted(api.hub.devices) == ["a"] and api.hub.devices["a"].status_reason == "second"


def test_import_skips_blank_lines_and_a_byte_order_mark(api):
    api.store.blobs[("in", "devices.txt")] = '\ufeff{"id":"a","importMode":"create"}\r\n\r\n  \n'.encode()
    assert api.run_job(api.import_())["status"] == "completed"
    assert "a" in api.hub.devices


def test_import_from_a_named_blob(api):
    api.store.write([{"id": "a", "importMode": "create"}], blob="batch/1.txt")
    assert api.run_job(api.import_(inputBlobName="batch/1.txt"))["status"] == "completed"
    assert "a" in api.hub.devices


def test_export_then_import_round_trip(api):
    for device_id in ("a", "b"):
        api.device(device_id, statusReason=device_id)
    api.run_job(api.export())
    exported = api.store.lines()
    api.hub.devices.clear()
    assert api.run_job(api.import_([{**line, "importMode": "create"} for line in exported]))["status"] == "completed"
    again = [api.request("GET", f"/devices/{line['id']}").json() for line in exported]
    assert [d["authentication"]["symmetricKey"] for d in again] == [line["authentication"]["symmetricKey"]
                                                                    for line in exported]
    assert [d["statusReason"] for d in again] == ["a", "b"]


BAD_LINES = [
    ("not json", "not valid JSON"),
    ("[1]", "not a JSON object"),
    ('{"importMode": "create"}', "id must be a string"),
    ('{"id": "bad/id", "importMode": "create"}', "deviceId"),
    ('{"id": "x"}', "importMode"),
    ('{"id": "x", "importMode": "upsert"}', "importMode"),
    ('{"id": "existing", "importMode": "create"}', "already exists"),
    ('{"id": "ghost", "importMode": "update"}', "does not exist"),
    ('{"id": "ghost", "importMode": "delete"}', "does not exist"),
    ('{"id": "existing", "importMode": "updateIfMatchETag"}', "eTag"),
    ('{"id": "existing", "importMode": "deleteIfMatchETag", "eTag": "stale"}', "eTag"),
    ('{"id": "x", "importMode": "create", "status": "paused"}', "status"),
    ('{"id": "x", "importMode": "create", "authentication": {"symmetricKey": {"primaryKey": "short"}}}', "primaryKey"),
    ('{"id": "x", "importMode": "create", "statusReason": 5}', "statusReason"),
]


@pytest.mark.parametrize(("line", "why"), BAD_LINES)
def test_a_bad_line_fails_the_whole_import_and_applies_nothing(api, line, why):
    api.device("existing", statusReason="before")
    before = dict(api.hub.devices)
    lines = [{"id": "fresh", "importMode": "create"}, {"id": "existing", "importMode": "update", "statusReason": "x"},
             line]
    job = api.run_job(api.import_(lines))
    assert job["status"] == "failed" and job["progress"] == 0
    assert job["failureReason"].startswith("import failed: line 3: ") and why in job["failureReason"]
    assert TIME.match(job["endTimeUtc"])
    assert api.hub.devices == before


def test_import_that_exceeds_the_device_quota_fails(api):
    api.hub.max_devices = 2
    api.device("a")
    job = api.run_job(api.import_([{"id": "b", "importMode": "create"}, {"id": "c", "importMode": "create"}]))
    assert job["status"] == "failed" and "line 2" in job["failureReason"] and "maximum" in job["failureReason"]
    assert sorted(api.hub.devices) == ["a"]
    ok = api.run_job(api.import_([{"id": "a", "importMode": "delete"}, {"id": "b", "importMode": "create"},
                              {"id": "c", "importMode": "create"}]))
    assert ok["status"] == "completed" and sorted(api.hub.devices) == ["b", "c"]


def test_import_of_text_that_is_not_utf8_fails(api):
    api.store.blobs[("in", "devices.txt")] = b"\xff\xfe"
    job = api.run_job(api.import_())
    assert job["status"] == "failed" and "UTF-8" in job["failureReason"]


# --- blob failures ---

@pytest.mark.parametrize("case", ["export 403", "import 403", "missing input", "unreachable"])
def test_blob_failures_fail_the_job_without_revealing_the_sas(api, case):
    api.device("a")
    unsigned = container("out", sas_query="sv=2020-10-02&sp=rwdl&se=2099-01-01")
    if case == "export 403":
        started = api.export(outputBlobContainerUri=unsigned)
    elif case == "import 403":
        api.store.write([{"id": "b", "importMode": "create"}])
        started = api.import_(inputBlobContainerUri=container("in", sas_query="sv=2020-10-02&se=2099-01-01"))
    elif case == "missing input":
        started = api.import_(inputBlobName="absent.txt")
    else:
        started = api.export(outputBlobContainerUri=container("out", account="https://elsewhere.example"))
    job = api.run_job(started)
    assert job["status"] == "failed" and job["endTimeUtc"] and job["progress"] == 0
    reason = job["failureReason"]
    assert reason and "sig=" not in reason and "c2VjcmV0" not in reason and "sv=" not in reason and "?" not in reason
    assert sorted(api.hub.devices) == ["a"]
    expected = {"export 403": "403", "import 403": "403", "missing input": "not found", "unreachable": "unreachable"}
    assert expected[case] in reason


def test_without_a_transport_the_hub_uses_the_network():
    hub = Hub.create()
    assert hub.blob_transport is None
    with import_export_jobs._client(hub) as client:
        assert isinstance(client, httpx.Client) and not client.is_closed


# --- the common rules ---

def test_tokens_and_permissions(api):
    job_id = api.export().json()["jobId"]
    read = api.policy("registryRead")
    assert api.export().status_code == 200
    assert api.create_job({"type": "export", "outputBlobContainerUri": container()}, token=read).status_code == 401
    assert api.importdevices({"inputBlobContainerUri": container("in"), "outputBlobContainerUri": container()},
                             token=read).status_code == 401
    assert api.cancel_job(job_id, token=read).status_code == 401
    assert api.get_job(job_id, token=read).status_code == 200
    assert api.list_jobs(token=read).status_code == 200
    read_write = api.policy("registryReadWrite")
    assert api.cancel_job(job_id, token=read_write).status_code == 204
    service = api.policy("service")
    for response in (api.list_jobs(token=service), api.get_job(job_id, token=service), api.cancel_job(job_id, token=service),
                     api.list_jobs(token=None), api.get_job(job_id, token=None), api.cancel_job(job_id, token=None),
                     api.create_job({}, token=None), api.importdevices({}, token=None)):
        assert response.status_code == 401 and error_code(response) == "IotHubUnauthorizedAccess"


def test_token_is_checked_before_the_body(api):
    response = api.request("POST", "/jobs/create", token=None, content=b"{")
    assert response.status_code == 401


@pytest.mark.parametrize("params", [{}, {"api-version": "2018-06-30"}])
def test_api_version_is_required(api, params):
    job_id = api.export().json()["jobId"]
    for response in (api.list_jobs(params=params), api.get_job(job_id, params=params), api.cancel_job(job_id, params=params),
                     api.create_job({"type": "export", "outputBlobContainerUri": container()}, params=params),
                     api.importdevices({}, params=params)):
        assert response.status_code == 400 and error_code(response) == "InvalidProtocolVersion"
    assert api.get_job(job_id).json()["status"] == "enqueued"
    assert len(api.hub.jobs) == 1


def test_request_id_on_every_response(api):
    job_id = api.export().json()["jobId"]
    responses = [api.export(), api.list_jobs(), api.get_job(job_id), api.get_job("ghost"), api.cancel_job(job_id),
                 api.cancel_job("ghost"), api.create_job({}), api.importdevices({}), api.list_jobs(token=None)]
    ids = [response.headers["x-ms-request-id"] for response in responses]
    assert all(GUID.match(value) for value in ids) and len(set(ids)) == len(ids)


def test_the_job_model():
    job = Job("id", "export", 0.5, None, container(), "devices.txt", "devices.txt", True)
    assert job.to_json()["startTimeUtc"] is None
    job.started_at = 1422462288.789
    assert job.to_json()["startTimeUtc"] == "2015-01-28T16:24:48.789Z"


def test_old_finished_jobs_are_forgotten(api, monkeypatch):
    monkeypatch.setattr(import_export_jobs, "KEPT", 2)
    api.hub.job_delay = 1000
    finished = api.export().json()["jobId"]
    api.cancel_job(finished)
    waiting = [api.export().json()["jobId"] for _ in range(2)]
    assert list(api.hub.jobs) == waiting  # the finished one went to make room
    waiting.append(api.export().json()["jobId"])
    assert list(api.hub.jobs) == waiting  # a job that has not ended is never forgotten

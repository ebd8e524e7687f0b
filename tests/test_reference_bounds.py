"""Every store a client can grow in the reference is capped: what is kept stays within its count and bytes, and a
request past a cap gets a 4xx (the documented error where one exists), never a 500 and never unbounded memory."""

from __future__ import annotations

import time

import httpx
import pytest

from iothub_conformance.reference import queues, resource_provider, scheduled_jobs_state, storage, twins
from iothub_conformance.reference.bodies import MAX_REQUEST_BODY
from iothub_conformance.reference.queues import Event, EventLog
from tests.support.reference_api import API, TWIN_API, ReferenceApi

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")


@pytest.fixture
def api() -> ReferenceApi:
    return ReferenceApi()


def code_of(response: httpx.Response) -> str:
    return response.headers.get("iothub-errorcode") or response.json()["Code"]


# -- device-to-cloud retention ----------------------------------------------------------------------------------------

def test_event_log_keeps_the_newest_within_its_count_and_bytes():
    log = EventLog(count=5, size=100)
    for n in range(8):
        log.append(Event("d", bytes([n]) * 10, {}))
    assert [e.body[0] for e in log] == [3, 4, 5, 6, 7]  # count first: the five newest
    log.append(Event("d", b"x" * 80, {"a": "b"}))  # 82 bytes: the oldest go until the rest fit in 100
    assert log.bytes == 92 and [e.body[0] for e in log] == [7, ord("x")]
    log.append(Event("d", b"y" * 500, {}))  # larger than the cap alone: nothing older survives, nor itself
    assert len(log) == 0 and log.bytes == 0


def test_full_size_device_to_cloud_messages_are_kept_up_to_the_byte_cap(api):
    api.device("dev1")
    token = api.device_token("dev1")
    size = api.hub.d2c_max_bytes - 100
    sent = queues.EVENTS_KEPT_BYTES // size + 5
    for n in range(sent):
        body = n.to_bytes(4, "big") + b"x" * (size - 4)
        assert api.request("POST", "/devices/dev1/messages/events", token=token, content=body).status_code == 204
    kept = list(api.hub.events)
    assert api.hub.events.bytes <= queues.EVENTS_KEPT_BYTES
    assert sum(len(e.body) for e in kept) == api.hub.events.bytes
    assert len(kept) < sent and int.from_bytes(kept[-1].body[:4], "big") == sent - 1  # the newest are kept


def test_small_device_to_cloud_messages_are_kept_up_to_the_count(api):
    api.device("dev1")
    token = api.device_token("dev1")
    for n in range(queues.EVENTS_KEPT + 20):
        api.hub.events.append(Event("dev1", str(n).encode(), {}))
    assert api.request("POST", "/devices/dev1/messages/events", token=token, content=b"last").status_code == 204
    assert len(api.hub.events) == queues.EVENTS_KEPT and api.hub.events[-1].body == b"last"


# -- cloud-to-device queues ---------------------------------------------------------------------------------------------

def test_the_hub_wide_c2d_budget_refuses_with_iothub_quota_exceeded(api):
    api.hub.c2d_budget.limit = 10_000
    for device_id in ("a", "b", "c"):
        api.device(device_id)
    assert api.hub.enqueue("a", b"x" * 4000, {}).status == 200
    assert api.hub.enqueue("b", b"x" * 4000, {}).status == 200
    refused = api.hub.enqueue("c", b"x" * 4000, {})
    assert (refused.status, refused.code) == (403, "IotHubQuotaExceeded")
    assert api.hub.c2d_budget.used == 8000
    # Deleting a device gives its queue's bytes back.
    deleted = api.request("DELETE", "/devices/a", headers={"If-Match": "*"})
    assert deleted.status_code == 204 and api.hub.c2d_budget.used == 4000
    assert api.hub.enqueue("c", b"x" * 4000, {}).status == 200


def test_completed_and_dead_lettered_messages_give_their_bytes_back(api):
    api.device("dev1")
    token = api.device_token("dev1")
    api.hub.enqueue("dev1", b"x" * 1000, {"IoTHub-MessageId": "m1", "IoTHub-app-k": "v" * 100})
    api.hub.enqueue("dev1", b"y" * 1000, {})
    assert api.hub.c2d_budget.used > 2000
    first = api.request("GET", "/devices/dev1/messages/devicebound", token=token)
    lock = first.headers["ETag"].strip('"')
    assert api.request("DELETE", f"/devices/dev1/messages/devicebound/{lock}", token=token,
                       params={**API, "reject": ""}).status_code == 204
    dead = api.hub.queues["dev1"].dead_letters[-1]
    assert dead.body == b"" and dead.properties == {"IoTHub-MessageId": "m1"}  # a dead letter keeps no payload
    second = api.request("GET", "/devices/dev1/messages/devicebound", token=token)
    lock = second.headers["ETag"].strip('"')
    assert api.request("DELETE", f"/devices/dev1/messages/devicebound/{lock}", token=token).status_code == 204
    assert api.hub.c2d_budget.used == 0


def test_dead_letters_and_lock_tokens_are_kept_per_device_up_to_kept(api):
    api.device("dev1")
    queue = api.hub.device_queue("dev1")
    for _ in range(queues.KEPT + 10):
        message = queue.add(b"x", {}, 0, 3600)
        queue.lock_next(0, 60)
        queue.dead_letter(message)
    assert len(queue.dead_letters) == queues.KEPT and len(queue.issued) == queues.KEPT
    assert api.hub.c2d_budget.used == 0


# -- request bodies -----------------------------------------------------------------------------------------------------

def test_a_request_body_over_the_cap_is_413_in_the_data_plane_envelope(api):
    too_big = b"{" + b" " * MAX_REQUEST_BODY + b"}"
    refused = api.request("PUT", "/devices/dev1", content=too_big, headers={"Content-Type": "application/json"})
    assert refused.status_code == 413 and code_of(refused) == "MessageTooLarge"
    assert refused.headers["x-ms-request-id"] and "dev1" not in api.hub.devices


def test_a_request_body_over_the_cap_is_413_in_the_resource_provider_envelope(api):
    path = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Devices/IotHubs/conf-big"
    refused = api.rp_request("PUT", path, content=b" " * (MAX_REQUEST_BODY + 1),
                             headers={"Content-Type": "application/json"})
    assert refused.status_code == 413 and refused.json()["Code"] == "RequestEntityTooLarge"


def test_a_body_at_the_cap_is_read(api):
    body = b'{"deviceId": "dev1"}'
    padded = body + b" " * (MAX_REQUEST_BODY - len(body))
    made = api.request("PUT", "/devices/dev1", content=padded, headers={"Content-Type": "application/json"})
    assert made.status_code == 200, made.text


# -- twins --------------------------------------------------------------------------------------------------------------

def test_twin_tags_and_desired_properties_are_capped_at_8_and_32_kb(api):
    api.device("dev1")
    half = {"tags": {"a": "x" * (twins.MAX_TAGS_BYTES // 2)}}
    assert api.request("PATCH", "/twins/dev1", params=TWIN_API, json=half).status_code == 200
    grown = api.request("PATCH", "/twins/dev1", params=TWIN_API, json={"tags": {"b": "y" * (twins.MAX_TAGS_BYTES // 2)}})
    assert grown.status_code == 400 and code_of(grown) == "ArgumentInvalid"
    assert set(api.hub.twins["dev1"].tags) == {"a"}  # the refused patch changed nothing
    desired = {"properties": {"desired": {"d": "z" * twins.MAX_DESIRED_BYTES}}}
    assert api.request("PATCH", "/twins/dev1", params=TWIN_API, json=desired).status_code == 400
    fits = {"properties": {"desired": {"d": "z" * (twins.MAX_DESIRED_BYTES - 100)}}}
    assert api.request("PATCH", "/twins/dev1", params=TWIN_API, json=fits).status_code == 200


def test_a_twin_job_that_would_overgrow_a_twin_fails_for_that_device(api):
    api.device("a")
    api.request("PATCH", "/twins/a", params=TWIN_API, json={"tags": {"a": "x" * (twins.MAX_TAGS_BYTES - 100)}})
    job = {"jobId": "j1", "type": "scheduleUpdateTwin", "queryCondition": "deviceId = 'a'",
           "updateTwin": {"tags": {"b": "y" * 200}}}
    assert api.request("PUT", "/jobs/v2/j1", params=TWIN_API, json=job).status_code == 200
    api.hub.clock.advance(60)
    for _ in range(50):  # jobs run when a job request arrives; bounded wait for the background run
        done = api.request("GET", "/jobs/v2/j1", params=TWIN_API).json()
        if done["status"] in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert done["deviceJobStatistics"]["failedCount"] == 1
    assert set(api.hub.twins["a"].tags) == {"a"}


# -- jobs and storage ---------------------------------------------------------------------------------------------------

def test_scheduled_jobs_are_capped_in_bytes_with_job_quota_exceeded(api, monkeypatch):
    monkeypatch.setattr(scheduled_jobs_state, "KEPT_BYTES", 1500)
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(api.hub.clock.now() + 3600))

    def job(job_id: str) -> httpx.Response:
        return api.request("PUT", f"/jobs/v2/{job_id}", params=TWIN_API, json={
            "jobId": job_id, "type": "scheduleUpdateTwin", "queryCondition": "deviceId = 'a'", "startTime": start,
            "updateTwin": {"tags": {"pad": "p" * 300}}})

    assert job("j1").status_code == 200 and job("j2").status_code == 200 and job("j3").status_code == 200
    refused = job("j4")
    assert refused.status_code == 403 and code_of(refused) == "JobQuotaExceeded"
    assert sum(j.size for j in api.hub.scheduled_jobs.values()) <= 1500


def test_a_job_container_uri_over_4096_characters_is_refused(api):
    uri = "https://account.blob.core.windows.net/c?sig=" + "s" * 4096
    refused = api.request("POST", "/jobs/create", json={"type": "export", "outputBlobContainerUri": uri,
                                                        "excludeKeysInExport": True})
    assert refused.status_code == 400 and code_of(refused) == "ArgumentInvalid"
    assert "s" * 100 not in refused.text  # the message never repeats the SAS
    assert not api.hub.jobs


def test_memory_storage_is_capped_in_bytes(monkeypatch):
    monkeypatch.setattr(storage, "MAX_BYTES", 1000)
    held = storage.MemoryStorage()
    with httpx.Client(transport=held.transport()) as client:
        uri = httpx.URL(held.container_uri("c"))
        blob = uri.copy_with(path="/c/one")
        assert client.put(blob, content=b"x" * 600).status_code == 201
        over = client.put(uri.copy_with(path="/c/two"), content=b"y" * 600)
        assert over.status_code == 413 and over.headers["x-ms-error-code"] == "RequestBodyTooLarge"
        assert client.put(blob, content=b"x" * 900).status_code == 201  # a replaced blob counts once
        assert client.delete(blob).status_code == 202 and held.held == 0
        assert client.put(uri.copy_with(path="/c/two"), content=b"y" * 600).status_code == 201


# -- the resource provider ----------------------------------------------------------------------------------------------

HUBS = "/subscriptions/{sub}/resourceGroups/g/providers/Microsoft.Devices/IotHubs/{name}"
HUB_BODY = {"location": "West US", "sku": {"name": "S1", "capacity": 1}}


def test_a_subscription_holds_at_most_50_hubs(api):
    for n in range(resource_provider.MAX_HUBS_PER_SUBSCRIPTION):
        assert api.rp_request("PUT", HUBS.format(sub="s1", name=f"conf-hub-{n}"), json=HUB_BODY).status_code == 201
    refused = api.rp_request("PUT", HUBS.format(sub="s1", name="conf-hub-extra"), json=HUB_BODY)
    assert refused.status_code == 403 and refused.json()["Code"] == "QuotaExceeded"
    assert api.rp_request("PUT", HUBS.format(sub="s2", name="conf-hub-extra"), json=HUB_BODY).status_code == 201


def test_the_provider_holds_at_most_max_hubs(api, monkeypatch):
    monkeypatch.setattr(resource_provider, "MAX_HUBS", 3)
    for n in range(3):
        assert api.rp_request("PUT", HUBS.format(sub=f"s{n}", name=f"conf-hub-{n}"), json=HUB_BODY).status_code == 201
    refused = api.rp_request("PUT", HUBS.format(sub="s9", name="conf-hub-9"), json=HUB_BODY)
    assert refused.status_code == 403 and len(api.client.app.state.rp.hubs) == 3


def test_an_endpoint_holds_at_most_its_consumer_groups(api, monkeypatch):
    monkeypatch.setattr(resource_provider, "MAX_CONSUMER_GROUPS", 3)
    hub = HUBS.format(sub="s", name="conf-cg")
    assert api.rp_request("PUT", hub, json=HUB_BODY).status_code == 201
    api.hub.clock.advance(60)
    groups = hub + "/eventHubEndpoints/events/ConsumerGroups/"
    assert [api.rp_request("PUT", groups + name).status_code for name in ("g1", "g2")] == [200, 200]  # with $default: 3
    refused = api.rp_request("PUT", groups + "g3")
    assert refused.status_code == 403 and refused.json()["Code"] == "QuotaExceeded"
    assert api.rp_request("PUT", groups + "G1").status_code == 200  # an existing name is no new group
    # Names count in bytes too: a name is path text of any length.
    monkeypatch.setattr(resource_provider, "MAX_CONSUMER_GROUPS", 100)
    monkeypatch.setattr(resource_provider, "MAX_CONSUMER_GROUP_BYTES", 1000)
    assert api.rp_request("PUT", groups + "n" * 900).status_code == 200
    assert api.rp_request("PUT", groups + "m" * 100).status_code == 403

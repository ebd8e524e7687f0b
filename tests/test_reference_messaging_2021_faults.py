"""Each fault switch of device-side messaging and feedback at 2021-04-12 (reference/faults_2021_messaging.py) changes
the reference's behaviour as its description says, and a hub without it does not."""

from __future__ import annotations

import base64
import json

import pytest

from iothub_conformance.targets.embedded import EmbeddedControls
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, error_code, faults_breaking, lock_of

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

MESSAGING_FAULTS = faults_breaking(*SURFACE_PREFIXES["messaging 2021"])
V21 = {"api-version": "2021-04-12"}
BATCH = "application/vnd.microsoft.iothub.json"
FEEDBACK_TYPE = "application/vnd.microsoft.iothub.feedback.json"


def hubs(fault: str) -> tuple[ReferenceApi, ReferenceApi]:
    """A hub without the fault and one with it, each with devices d1 and d2."""
    pair = ReferenceApi(params=V21), ReferenceApi(fault, params=V21)
    for api in pair:
        api.devices("d1", "d2")
    return pair


def send(api: ReferenceApi, body: bytes = b"x", device_id: str = "d1", **kwargs):
    return api.device_call("POST", device_id, "events", content=body, params=V21, **kwargs)


def receive(api: ReferenceApi, device_id: str = "d1", bound: str = "deviceBound", query: dict | None = None):
    return api.device_call("GET", device_id, bound, params={**V21, **(query or {})})


def settle(api: ReferenceApi, method: str, suffix: str, device_id: str = "d1", query: str = "", **kwargs):
    url = f"/devices/{device_id}/messages/{suffix}?api-version=2021-04-12{query}"
    return api.client.request(method, url, headers={"Authorization": api.device_token(device_id),
                                                    **kwargs.pop("headers", {})}, **kwargs)


def held(api: ReferenceApi, device_id: str = "d1", **properties: str) -> str:
    """Enqueue a message and receive it: its lock."""
    api.enqueue(device_id, b"hello", **properties)
    response = receive(api, device_id)
    assert response.status_code == 200, response.text
    return lock_of(response)


def settled(api: ReferenceApi, action: str, message_id: str, ack: str = "full", device_id: str = "d1") -> None:
    lock = held(api, device_id, **{"IoTHub-Ack": ack, "IoTHub-MessageId": message_id})
    method, suffix, query = {"complete": ("DELETE", f"deviceBound/{lock}", ""),
                             "reject": ("DELETE", f"deviceBound/{lock}", "&reject"),
                             "abandon": ("POST", f"deviceBound/{lock}/abandon", "")}[action]
    assert settle(api, method, suffix, device_id, query).status_code == 204


def feedback(api: ReferenceApi, method: str = "GET", suffix: str = "", **kwargs):
    return api.request(method, f"/messages/serviceBound/feedback{suffix}", params=V21, **kwargs)


def batch_after(api: ReferenceApi, seconds: float = 16):
    api.hub.clock.advance(seconds)
    return feedback(api)


def ids(response) -> list:
    return [r.get("originalMessageId") for r in json.loads(response.content)] if response.status_code == 200 else []


def kept(api: ReferenceApi, device_id: str = "d1") -> list:
    return [event["text"] for event in EmbeddedControls(api.hub).received_events(device_id)]


def test_every_messaging_fault_has_a_test_here():
    assert len(MESSAGING_FAULTS) == 30
    missing = [name for name in MESSAGING_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


# -- device-to-cloud ----------------------------------------------------------------------------------------------


def test_fault_d2c_2021_returns_200():
    good, bad = hubs("d2c-2021-returns-200")
    assert send(good).status_code == 204 and send(bad).status_code == 200
    assert kept(bad) == ["x"]


def test_fault_d2c_2021_refuses_sdk_headers():
    good, bad = hubs("d2c-2021-refuses-sdk-headers")
    headers = {"iothub-interface-id": "urn:x:1", "dt-subject": "s"}
    assert send(good, headers=headers).status_code == 204
    refused = send(bad, headers=headers)
    assert refused.status_code == 400 and error_code(refused) == "ArgumentInvalid" and kept(bad) == []
    assert send(bad, headers={"IoTHub-MessageId": "m"}).status_code == 204


def test_fault_d2c_2021_accepts_invalid_properties():
    good, bad = hubs("d2c-2021-accepts-invalid-properties")
    headers = {"iothub-app-note": "two words"}
    assert send(good, headers=headers).status_code == 400
    assert send(bad, headers=headers).status_code == 204 and kept(bad) == ["x"]


def _batch(*bodies: bytes) -> bytes:
    return json.dumps([{"body": base64.b64encode(body).decode()} for body in bodies]).encode()


def test_fault_d2c_batch_refused():
    good, bad = hubs("d2c-batch-refused")
    assert send(good, _batch(b"a", b"b"), headers={"Content-Type": BATCH}).status_code == 204
    assert kept(good) == ["a", "b"]
    assert send(bad, _batch(b"a", b"b"), headers={"Content-Type": BATCH}).status_code == 400 and kept(bad) == []


def test_fault_d2c_batch_accepts_garbage():
    good, bad = hubs("d2c-batch-accepts-garbage")
    assert send(good, b"not json", headers={"Content-Type": BATCH}).status_code == 400
    assert send(bad, b"not json", headers={"Content-Type": BATCH}).status_code == 204 and kept(bad) == []
    assert send(bad, _batch(b"a"), headers={"Content-Type": BATCH}).status_code == 204 and kept(bad) == ["a"]


def test_fault_d2c_2021_no_size_limit():
    good, bad = hubs("d2c-2021-no-size-limit")
    body = b"x" * (256 * 1024)
    assert send(good, body).status_code == 413
    assert send(bad, body).status_code == 204


# -- cloud-to-device, the device side -------------------------------------------------------------------------------


def test_fault_c2d_2021_empty_200():
    good, bad = hubs("c2d-2021-empty-200")
    assert receive(good).status_code == 204
    empty = receive(bad)
    assert empty.status_code == 200 and empty.content == b""


def test_fault_c2d_2021_unquoted_lock():
    good, bad = hubs("c2d-2021-unquoted-lock")
    for api in (good, bad):
        api.enqueue("d1")
    assert receive(good).headers["ETag"].startswith('"')
    etag = receive(bad).headers["ETag"]
    assert not etag.startswith('"') and etag


def test_fault_c2d_2021_drops_sdk_headers():
    good, bad = hubs("c2d-2021-drops-sdk-headers")
    for api in (good, bad):
        api.enqueue("d1")
    assert "iothub-deliverycount" in receive(good).headers
    headers = receive(bad).headers
    assert "iothub-deliverycount" not in headers and "iothub-to" not in headers and "IoTHub-ExpiryTime" in headers


def test_fault_c2d_lock_hint_refused():
    good, bad = hubs("c2d-lock-hint-refused")
    for api in (good, bad):
        api.enqueue("d1")
    hint = {"iothub-messagelocktimeout": "30"}
    assert receive(good, query=hint).status_code == 200
    refused = receive(bad, query=hint)
    assert refused.status_code == 400 and error_code(refused) == "ArgumentInvalid"
    assert receive(bad).status_code == 200  # nothing was locked by the refusal


def test_fault_c2d_2021_devicebound_refused():
    good, bad = hubs("c2d-2021-devicebound-refused")
    for api in (good, bad):
        api.enqueue("d1")
    assert receive(good, bound="devicebound").status_code == 200
    assert receive(bad, bound="devicebound").status_code == 404
    assert receive(bad, bound="deviceBound").status_code == 200
    assert bad.device_call("GET", "d2", "devicebound", params={"api-version": "2016-02-03"}).status_code == 204


def test_fault_c2d_2021_complete_keeps_message():
    good, bad = hubs("c2d-2021-complete-keeps-message")
    for api in (good, bad):
        assert settle(api, "DELETE", f"deviceBound/{held(api)}").status_code == 204
    assert receive(good).status_code == 204
    assert receive(bad).status_code == 200


@pytest.mark.parametrize("query", ["&reject", "&reject="])
def test_fault_c2d_2021_reject_requeues(query):
    good, bad = hubs("c2d-2021-reject-requeues")
    for api in (good, bad):
        assert settle(api, "DELETE", f"deviceBound/{held(api)}", query=query).status_code == 204
    assert receive(good).status_code == 204
    assert receive(bad).status_code == 200


def test_fault_c2d_2021_empty_reject_requeues():
    good, bad = hubs("c2d-2021-empty-reject-requeues")
    for api in (good, bad):
        assert settle(api, "DELETE", f"deviceBound/{held(api)}", query="&reject=").status_code == 204
    assert receive(good).status_code == 204
    assert receive(bad).status_code == 200
    assert settle(bad, "DELETE", f"deviceBound/{held(bad, 'd2')}", "d2", "&reject").status_code == 204
    assert receive(bad, "d2").status_code == 204  # valueless reject still rejects


def test_fault_c2d_2021_abandon_completes():
    good, bad = hubs("c2d-2021-abandon-completes")
    for api in (good, bad):
        assert settle(api, "POST", f"deviceBound/{held(api)}/abandon").status_code == 204
    assert receive(good).status_code == 200
    assert receive(bad).status_code == 204


def test_fault_c2d_if_match_refused():
    good, bad = hubs("c2d-if-match-refused")
    for api, status in ((good, 204), (bad, 412)):
        lock = held(api)
        assert settle(api, "DELETE", f"deviceBound/{lock}", headers={"If-Match": f'"{lock}"'}).status_code == status
    assert settle(bad, "DELETE", f"deviceBound/{held(bad, 'd2')}", "d2").status_code == 204


def test_fault_c2d_2021_lock_lost_404():
    good, bad = hubs("c2d-2021-lock-lost-404")
    lost = settle(good, "DELETE", "deviceBound/unknown")
    assert lost.status_code == 412 and error_code(lost) == "DeviceMessageLockLost"
    lost = settle(bad, "DELETE", "deviceBound/unknown")
    assert lost.status_code == 404 and error_code(lost) == "DeviceNotFound"


def test_fault_c2d_2021_lock_never_expires():
    good, bad = hubs("c2d-2021-lock-never-expires")
    for api in (good, bad):
        held(api)
        api.hub.clock.advance(61)
    assert receive(good).status_code == 200
    assert receive(bad).status_code == 204


def test_fault_c2d_2021_no_max_delivery_count():
    good, bad = hubs("c2d-2021-no-max-delivery-count")
    for api in (good, bad):
        api.enqueue("d1")
        for _ in range(api.hub.max_delivery_count):
            assert settle(api, "POST", f"deviceBound/{lock_of(receive(api))}/abandon").status_code == 204
    assert receive(good).status_code == 204
    assert receive(bad).status_code == 200


# -- feedback -------------------------------------------------------------------------------------------------------


def test_fault_feedback_empty_200():
    good, bad = hubs("feedback-empty-200")
    assert feedback(good).status_code == 204
    empty = feedback(bad)
    assert empty.status_code == 200 and empty.content == b""


def test_fault_feedback_json_content_type():
    good, bad = hubs("feedback-json-content-type")
    for api in (good, bad):
        settled(api, "complete", "m1")
    assert batch_after(good).headers["Content-Type"] == FEEDBACK_TYPE
    answered = batch_after(bad)
    assert answered.headers["Content-Type"] == "application/json" and ids(answered) == ["m1"]


def test_fault_feedback_complete_keeps():
    good, bad = hubs("feedback-complete-keeps")
    for api in (good, bad):
        settled(api, "complete", "m1")
        assert feedback(api, "DELETE", f"/{lock_of(batch_after(api))}").status_code == 204
    assert feedback(good).status_code == 204
    assert ids(feedback(bad)) == ["m1"]


def test_fault_feedback_fields_pascal_case():
    good, bad = hubs("feedback-fields-pascal-case")
    for api in (good, bad):
        settled(api, "complete", "m1")
    assert json.loads(batch_after(good).content)[0]["originalMessageId"] == "m1"
    (record,) = json.loads(batch_after(bad).content)
    assert record["OriginalMessageId"] == "m1" and "originalMessageId" not in record and record["StatusCode"]


def test_fault_feedback_ignores_ack():
    good, bad = hubs("feedback-ignores-ack")
    for api in (good, bad):
        settled(api, "complete", "none", ack="none")
        settled(api, "reject", "positive", ack="positive")
        settled(api, "complete", "negative", ack="negative")
        settled(api, "complete", "full", ack="full")
    assert ids(batch_after(good)) == ["full"]
    assert ids(batch_after(bad)) == ["positive", "negative", "full"]  # ack none still makes no record


def test_fault_feedback_rejected_as_success():
    good, bad = hubs("feedback-rejected-as-success")
    for api in (good, bad):
        settled(api, "reject", "m1")
    assert json.loads(batch_after(good).content)[0]["statusCode"] == "Rejected"
    assert json.loads(batch_after(bad).content)[0]["statusCode"] == "Success"
    assert receive(bad).status_code == 204  # the rejected message is gone all the same


def test_fault_feedback_one_record_per_batch():
    good, bad = hubs("feedback-one-record-per-batch")
    for api in (good, bad):
        for n in range(3):
            settled(api, "complete", f"m{n}")
    good.hub.clock.advance(16)
    assert ids(feedback(good)) == ["m0", "m1", "m2"]
    seen = [ids(feedback(bad)) for _ in range(3)]  # at once: no 15 s wait
    assert seen == [["m0"], ["m1"], ["m2"]]


def test_fault_feedback_abandon_deletes():
    good, bad = hubs("feedback-abandon-deletes")
    for api in (good, bad):
        settled(api, "complete", "m1")
        assert feedback(api, "POST", f"/{lock_of(batch_after(api))}/abandon").status_code == 204
    assert ids(feedback(good)) == ["m1"]
    assert feedback(bad).status_code == 204


def test_fault_feedback_accepts_unknown_lock():
    good, bad = hubs("feedback-accepts-unknown-lock")
    for method, suffix in (("DELETE", "/unknown"), ("POST", "/unknown/abandon")):
        assert feedback(good, method, suffix).status_code == 412
        assert feedback(bad, method, suffix).status_code == 204


def test_fault_feedback_no_service_connect():
    good, bad = hubs("feedback-no-service-connect")
    assert feedback(good, token=good.policy("registryRead")).status_code == 401
    assert feedback(bad, token=bad.policy("registryRead")).status_code == 204
    assert feedback(bad, token=bad.device_token("d1")).status_code == 401


def test_fault_feedback_kept_for_deleted_device():
    good, bad = hubs("feedback-kept-for-deleted-device")
    for api in (good, bad):
        settled(api, "complete", "gone", device_id="d1")
        settled(api, "complete", "kept", device_id="d2")
        assert api.delete_device("d1", if_match="*").status_code == 204
    assert ids(batch_after(good)) == ["kept"]
    assert ids(batch_after(bad)) == ["gone", "kept"]

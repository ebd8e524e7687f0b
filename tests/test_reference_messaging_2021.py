"""The reference's device-side messaging and cloud-to-device feedback at api-version 2021-04-12
(routes_2021_messaging.py, feedback.py, queues.py), and the control that reads what a device sent."""

from __future__ import annotations

import base64
import json

import pytest

from iothub_conformance.targets.embedded import EmbeddedControls
from tests.support.reference_api import ReferenceApi, error_code, lock_of

V21 = {"api-version": "2021-04-12"}
BATCH = "application/vnd.microsoft.iothub.json"


@pytest.fixture
def api():
    made = ReferenceApi(params=V21)
    made.devices("d1", "d2")
    return made


def send(api: ReferenceApi, device_id: str = "d1", body: bytes = b"", **kwargs):
    return api.device_call("POST", device_id, "events", content=body, params=V21, **kwargs)


# -- the received_events control ----------------------------------------------------------------------------------


def test_received_events_lists_one_devices_messages_with_their_properties(api):
    controls = EmbeddedControls(api.hub)
    assert send(api, "d1", b"first", headers={"IoTHub-app-color": "red", "IoTHub-MessageId": "m1"}).status_code == 204
    assert send(api, "d2", b"other").status_code == 204
    assert send(api, "d1", b"\xff\x00").status_code == 204
    events = controls.received_events("d1")
    assert [base64.b64decode(str(event["body"])) for event in events] == [b"first", b"\xff\x00"]
    assert [event["text"] for event in events] == ["first", None]
    assert events[0]["properties"] == {"color": "red"}
    assert events[0]["systemProperties"] == {"IoTHub-MessageId": "m1"}
    assert [event["text"] for event in controls.received_events("d2")] == ["other"]
    assert controls.received_events("nobody") == []


def test_received_events_shows_nothing_for_a_refused_send(api):
    controls = EmbeddedControls(api.hub)
    refused = send(api, "d1", b"x", token=api.device_token("d2"))
    assert refused.status_code == 401
    assert controls.received_events("d1") == [] and controls.received_events("d2") == []


# -- device-to-cloud ----------------------------------------------------------------------------------------------


def test_send_is_204_and_keeps_body_app_and_sdk_system_properties(api):
    headers = {"iothub-app-temp": "21", "iothub-interface-id": "urn:x:1", "dt-subject": "thermo"}
    response = send(api, "d1", b"{}", headers=headers)
    assert response.status_code == 204 and response.content == b""
    event = EmbeddedControls(api.hub).received_events("d1")[-1]
    assert event["text"] == "{}" and event["properties"] == {"temp": "21"}


def test_an_invalid_application_property_is_400_and_nothing_is_kept(api):
    response = send(api, "d1", b"x", headers={"iothub-app-note": "two words"})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert EmbeddedControls(api.hub).received_events("d1") == []


def test_a_batch_is_204_and_each_message_is_kept_with_its_properties(api):
    body = json.dumps([{"body": base64.b64encode(b"one").decode(), "properties": {"iothub-app-k": "v"}},
                       {"body": "two", "base64Encoded": False}]).encode()
    response = send(api, "d1", body, headers={"Content-Type": BATCH})
    assert response.status_code == 204
    events = EmbeddedControls(api.hub).received_events("d1")
    assert [e["text"] for e in events] == ["one", "two"] and events[0]["properties"] == {"k": "v"}


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[]", b'[{"body": "!!"}]', b'[{"body": 1}]',
                                  b'[{"body": "", "base64Encoded": "yes"}]', b'[{"properties": {"a": 1}}]'])
def test_a_malformed_batch_is_400(api, body):
    response = send(api, "d1", body, headers={"Content-Type": BATCH})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert EmbeddedControls(api.hub).received_events("d1") == []


def test_a_message_of_256_kb_is_413_and_one_just_under_is_taken(api):
    assert send(api, "d1", b"x" * (256 * 1024)).status_code == 413
    assert send(api, "d1", b"x" * (256 * 1024 - 1)).status_code == 204


def test_another_devices_token_is_401_and_a_missing_device_404(api):
    assert send(api, "d1", b"x", token=api.device_token("d2")).status_code == 401
    missing = api.device_call("POST", "nobody", "events", token=api.policy("device"), content=b"x", params=V21)
    assert missing.status_code == 404 and error_code(missing) == "DeviceNotFound"


# -- cloud-to-device, the device side -------------------------------------------------------------------------------


def receive(api: ReferenceApi, device_id: str = "d1", bound: str = "deviceBound", **kwargs):
    return api.device_call("GET", device_id, bound, params={**V21, **kwargs.pop("params", {})}, **kwargs)


def settle(api: ReferenceApi, method: str, suffix: str, device_id: str = "d1", query: str = "", **kwargs):
    url = f"/devices/{device_id}/messages/{suffix}" + (f"?api-version=2021-04-12{query}")
    return api.client.request(method, url, headers={"Authorization": api.device_token(device_id),
                                                    **kwargs.pop("headers", {})}, **kwargs)


def test_receive_on_an_empty_queue_is_204(api):
    response = receive(api)
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize("bound", ["deviceBound", "devicebound"])
def test_receive_gives_the_message_its_quoted_lock_and_the_sdk_headers(api, bound):
    api.enqueue("d1", b"hello", **{"IoTHub-MessageId": "m1", "IoTHub-app-color": "red"})
    response = receive(api, bound=bound)
    assert response.status_code == 200 and response.content == b"hello"
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    for name in ("iothub-sequencenumber", "iothub-enqueuedtime", "iothub-expiry", "iothub-deliverycount", "iothub-to"):
        assert response.headers.get(name), name
    assert response.headers["iothub-deliverycount"] == "0" and response.headers["iothub-app-color"] == "red"
    assert receive(api).status_code == 204  # locked: invisible


def test_the_lock_hint_is_taken_and_does_not_change_the_one_minute_lock(api):
    api.enqueue("d1")
    response = receive(api, params={"iothub-messagelocktimeout": "5"})
    assert response.status_code == 200
    api.hub.clock.advance(30)
    assert receive(api).status_code == 204
    api.hub.clock.advance(31)
    assert receive(api).status_code == 200


@pytest.mark.parametrize(("bound", "query"), [("deviceBound", ""), ("devicebound", ""), ("deviceBound", "&reject"),
                                              ("devicebound", "&reject="), ("deviceBound", "&reject=true")])
def test_complete_and_reject_delete_the_message_in_both_casings_and_encodings(api, bound, query):
    api.enqueue("d1", b"hello", **{"IoTHub-Ack": "full", "IoTHub-MessageId": "m"})
    lock = lock_of(receive(api))
    response = settle(api, "DELETE", f"{bound}/{lock}", query=query, headers={"If-Match": f'"{lock}"'})
    assert response.status_code == 204
    api.hub.clock.advance(61)
    assert receive(api).status_code == 204
    with api.hub.lock:
        outcomes = list(api.hub.device_queue("d1").outcomes)
    assert [o.status for o in outcomes] == (["Rejected"] if "reject" in query else ["Success"])


@pytest.mark.parametrize("bound", ["deviceBound", "devicebound"])
def test_abandon_redelivers_with_a_higher_delivery_count_until_the_max(api, bound):
    api.enqueue("d1")
    for count in range(api.hub.max_delivery_count):
        response = receive(api)
        assert response.status_code == 200 and response.headers["iothub-deliverycount"] == str(count)
        assert settle(api, "POST", f"{bound}/{lock_of(response)}/abandon").status_code == 204
    assert receive(api).status_code == 204  # dead-lettered


def test_an_expired_lock_is_412_lock_lost_and_does_not_count_a_delivery(api):
    api.enqueue("d1")
    lock = lock_of(receive(api))
    api.hub.clock.advance(61)
    for method, suffix in (("DELETE", f"deviceBound/{lock}"), ("POST", f"deviceBound/{lock}/abandon")):
        response = settle(api, method, suffix)
        assert response.status_code == 412 and error_code(response) == "DeviceMessageLockLost"
    again = receive(api)
    assert again.status_code == 200 and again.headers["iothub-deliverycount"] == "0"


def test_an_unknown_lock_is_412_and_the_message_stays_held(api):
    api.enqueue("d1")
    lock = lock_of(receive(api))
    assert settle(api, "DELETE", "deviceBound/not-a-lock").status_code == 412
    assert settle(api, "DELETE", f"deviceBound/{lock}").status_code == 204


def test_the_mixed_case_paths_are_2021_only_and_2016_is_unchanged(api):
    api.enqueue("d1")
    old = api.device_call("GET", "d1", "deviceBound", params={"api-version": "2016-02-03"})
    assert old.status_code == 404
    assert api.device_call("GET", "d1", "devicebound", params={"api-version": "2016-02-03"}).status_code == 200


def test_head_on_receive_is_405_and_locks_nothing(api):
    api.enqueue("d1")
    response = api.device_call("HEAD", "d1", "deviceBound", params=V21)
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
    assert receive(api).status_code == 200


# -- feedback -------------------------------------------------------------------------------------------------------


def settled(api: ReferenceApi, ack: str, action: str, message_id: str, device_id: str = "d1") -> None:
    api.enqueue(device_id, b"hello", **{"IoTHub-Ack": ack, "IoTHub-MessageId": message_id})
    lock = lock_of(receive(api, device_id))
    suffix, method, query = {"complete": (f"deviceBound/{lock}", "DELETE", ""),
                             "reject": (f"deviceBound/{lock}", "DELETE", "&reject"),
                             "abandon": (f"deviceBound/{lock}/abandon", "POST", "")}[action]
    assert settle(api, method, suffix, device_id, query).status_code == 204


def feedback(api: ReferenceApi, method: str = "GET", suffix: str = "", spelling: str = "serviceBound", **kwargs):
    return api.request(method, f"/messages/{spelling}/feedback{suffix}", params=V21, **kwargs)


def records(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/vnd.microsoft.iothub.feedback.json"
    return json.loads(response.content)


def test_feedback_with_nothing_to_deliver_is_204_and_needs_service_connect(api):
    response = feedback(api)
    assert response.status_code == 204 and response.content == b""
    for policy in ("registryRead", "device"):
        assert feedback(api, token=api.policy(policy)).status_code == 401
    assert feedback(api, token=api.device_token("d1")).status_code == 401


@pytest.mark.parametrize(("ack", "action", "status"), [
    ("none", "complete", None), ("none", "reject", None), ("positive", "complete", "Success"),
    ("positive", "reject", None), ("negative", "complete", None), ("negative", "reject", "Rejected"),
    ("full", "complete", "Success"), ("full", "reject", "Rejected")])
def test_a_record_follows_the_ack_mode(api, ack, action, status):
    settled(api, ack, action, "m1")
    api.hub.clock.advance(16)
    response = feedback(api)
    if status is None:
        assert response.status_code == 204
        return
    (record,) = records(response)
    generation = api.get_device("d1").json()["generationId"]
    assert record["originalMessageId"] == "m1" and record["statusCode"] == status == record["description"]
    assert record["deviceId"] == "d1" and record["deviceGenerationId"] == generation
    assert record["enqueuedTimeUtc"].endswith("Z")


def test_expiry_and_too_many_deliveries_make_their_records(api):
    api.enqueue("d1", b"hello", **{"IoTHub-Ack": "negative", "IoTHub-MessageId": "expired"})
    api.hub.clock.advance(3601)
    settled(api, "full", "abandon", "exceeded", "d2")
    for _ in range(api.hub.max_delivery_count - 1):
        assert settle(api, "POST", f"deviceBound/{lock_of(receive(api, 'd2'))}/abandon", "d2").status_code == 204
    api.hub.clock.advance(16)
    got = {r["originalMessageId"]: r["statusCode"] for r in records(feedback(api))}
    assert got == {"expired": "Expired", "exceeded": "DeliveryCountExceeded"}


def test_records_wait_15_seconds_on_the_hub_clock_and_come_in_one_batch(api):
    for n in range(3):
        settled(api, "full", "complete", f"m{n}")
    api.hub.clock.advance(14)
    assert feedback(api).status_code == 204
    api.hub.clock.advance(2)
    assert [r["originalMessageId"] for r in records(feedback(api))] == ["m0", "m1", "m2"]


def test_a_batch_holds_at_most_64_records(api):
    with api.hub.lock:
        queue = api.hub.device_queue("d1")
        for n in range(70):
            queue.add(b"", {"IoTHub-Ack": "full", "IoTHub-MessageId": f"m{n}"}, api.hub.clock.now(), 60)
        for message in list(queue.messages):
            queue.complete(message, api.hub.clock.now())
    first = records(feedback(api))
    assert len(first) == 64
    api.hub.clock.advance(16)
    assert len(records(feedback(api))) == 6


@pytest.mark.parametrize("spelling", ["serviceBound", "servicebound"])
def test_a_completed_batch_is_gone_and_an_abandoned_one_comes_back(api, spelling):
    settled(api, "full", "complete", "m1")
    api.hub.clock.advance(16)
    first = feedback(api, spelling=spelling)
    lock = lock_of(first)
    assert feedback(api).status_code == 204  # locked
    assert feedback(api, "POST", f"/{lock}/abandon", spelling).status_code == 204
    again = feedback(api)
    assert records(again) == records(first) and again.headers["iothub-deliverycount"] == "1"
    assert feedback(api, "DELETE", f"/{lock_of(again)}", spelling).status_code == 204
    api.hub.clock.advance(61)
    assert feedback(api).status_code == 204


def test_a_feedback_lock_runs_out_after_60_seconds_and_an_unknown_lock_is_412(api):
    settled(api, "full", "complete", "m1")
    api.hub.clock.advance(16)
    lock = lock_of(feedback(api))
    for method, suffix in (("DELETE", "/nope"), ("POST", "/nope/abandon")):
        response = feedback(api, method, suffix)
        assert response.status_code == 412 and error_code(response) == "DeviceMessageLockLost"
    api.hub.clock.advance(61)
    assert feedback(api, "DELETE", f"/{lock}").status_code == 412
    assert feedback(api).status_code == 200


def test_deleting_a_device_deletes_its_pending_feedback_but_not_another_devices(api):
    settled(api, "full", "complete", "gone", "d1")
    settled(api, "full", "complete", "kept", "d2")
    assert api.delete_device("d1", if_match="*").status_code == 204
    api.hub.clock.advance(16)
    assert [r["originalMessageId"] for r in records(feedback(api))] == ["kept"]


def test_a_batch_already_sent_stays_when_its_device_is_deleted(api):
    settled(api, "full", "complete", "sent", "d1")
    api.hub.clock.advance(16)
    lock = lock_of(feedback(api))
    assert feedback(api, "POST", f"/{lock}/abandon").status_code == 204
    assert api.delete_device("d1", if_match="*").status_code == 204
    assert [r["originalMessageId"] for r in records(feedback(api))] == ["sent"]


def test_feedback_paths_are_2021_only(api):
    for params in ({"api-version": "2016-02-03"},):
        response = api.request("GET", "/messages/serviceBound/feedback", params=params)
        assert response.status_code == 404


@pytest.mark.parametrize("path", ["/devices/d1/messages/deviceBound", "/messages/serviceBound/feedback"])
def test_a_2021_only_path_answers_the_api_version_400_without_a_version_and_404_at_an_older_one(api, path):
    token = api.device_token("d1") if path.startswith("/devices") else api.policy()
    for params in ({}, {"api-version": "1999-01-01"}):
        response = api.request("GET", path, params=params, token=token)
        assert response.status_code == 400 and error_code(response) == "InvalidProtocolVersion", params
    for version in ("2016-02-03", "2016-11-14"):
        assert api.request("GET", path, params={"api-version": version}, token=token).status_code == 404

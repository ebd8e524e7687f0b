"""The reference's device-side messaging and cloud-to-device feedback at api-version 2021-04-12
(routes_2021_messaging.py, feedback.py, queues.py), and the control that reads what a device sent."""

from __future__ import annotations

import base64

import pytest

from iothub_conformance.targets.embedded import EmbeddedControls
from tests.support.reference_api import ReferenceApi

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

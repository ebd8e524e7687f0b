"""The reference hub's Device Messaging surface (INVENTORY §2b, §6, §8), request by request. Time moves by
hub.clock.advance, never by sleeping."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

import anyio
import pytest
from starlette.requests import Request

from iothub_conformance.http import sas
from iothub_conformance.reference import Clock, Enqueued, Event, Hub, messaging_routes
from iothub_conformance.rules.profiles import DOCS_STRICT, IOTHUB
from tests.support.reference_api import API, ReferenceApi, error_code, lock_of

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

LOCK = re.compile(r'^"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"$')
SPECIAL_ID = "a-:.+%_#*?!(),=@;$'b"


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.removesuffix("Z"))


@pytest.fixture
def api() -> ReferenceApi:
    api = ReferenceApi()
    api.device("dev1")
    return api


# --- device-to-cloud send ---

def test_send_stores_the_message_and_its_properties(api):
    headers = {"IoTHub-MessageId": "m-1", "IoTHub-CorrelationId": "c-1", "IoTHub-UserId": "u", "IoTHub-Ack": "full",
               "Content-Type": "application/json", "Content-Encoding": "utf-8", "IoTHub-app-temp": "21.5",
               "X-Other": "ignored"}
    response = api.send(body=b'{"t":21.5}', headers=headers)
    assert response.status_code == 204 and response.content == b""
    event = api.hub.events[-1]
    assert isinstance(event, Event)
    assert (event.device_id, event.body) == ("dev1", b'{"t":21.5}')
    assert event.properties == {"IoTHub-MessageId": "m-1", "IoTHub-CorrelationId": "c-1", "IoTHub-UserId": "u",
                                "IoTHub-Ack": "full", "Content-Type": "application/json",
                                "Content-Encoding": "utf-8", "IoTHub-app-temp": "21.5"}


def test_send_takes_any_octets(api):
    body = bytes(range(256)) * 4
    assert api.send(body=body).status_code == 204
    assert api.hub.events[-1].body == body
    assert api.send(body=b"").status_code == 204 and api.hub.events[-1].body == b""


def test_send_size_limit_is_under_256_kib(api):
    assert api.hub.d2c_max_bytes == 256 * 1024 - 1
    assert api.send(body=b"x" * (256 * 1024 - 1)).status_code == 204
    refused = api.send(body=b"x" * (256 * 1024))
    assert refused.status_code == 413 and error_code(refused) == "MessageTooLarge"
    # Properties count too: name and value of an application property, the value of a system property.
    headers = {"IoTHub-app-ab": "cd", "IoTHub-MessageId": "ef"}
    assert api.send(body=b"x" * (256 * 1024 - 1 - 6), headers=headers).status_code == 204
    assert api.send(body=b"x" * (256 * 1024 - 6), headers=headers).status_code == 413
    assert len(api.hub.events) == 2


@pytest.mark.parametrize(("name", "value"), [
    ("IoTHub-app-", "v"),
    ("IoTHub-app-k", "a b"),
    ("IoTHub-app-k", "a@b"),
    ("IoTHub-app-k", "a/b"),
    ("IoTHub-app-k", "a(b)"),
    ("IoTHub-app-k", "caf\u00e9"),
])
def test_send_refuses_invalid_application_properties(api, name, value):
    response = api.send(body=b"x", headers={name: value.encode("latin-1")})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert not api.hub.events


def test_send_refuses_invalid_application_property_names(api):
    # Over HTTP a header name cannot carry most of these; Hub.enqueue takes any string.
    for name in ("a@b", "a/b", "a b", "a(b)"):
        invalid = api.enqueue(**{f"IoTHub-app-{name}": "v"})
        assert (invalid.status, invalid.code) == (400, "ArgumentInvalid")
    assert api.enqueue(**{"IoTHub-app-": "v"}).status == 400


def test_send_accepts_every_allowed_character(api):
    allowed = "aZ09!#$%&'*+-.^_`|~"
    assert api.send(body=b"x", headers={f"IoTHub-app-{allowed}": allowed, "IoTHub-app-empty": ""}).status_code == 204
    assert api.hub.events[-1].properties[f"IoTHub-app-{allowed.lower()}"] == allowed


def test_send_validation_comes_before_size(api):
    response = api.send(body=b"x" * (300 * 1024), headers={"IoTHub-app-k": "a b"})
    assert response.status_code == 400


# --- receive ---

def test_receive_headers_and_body(api):
    properties = {"IoTHub-MessageId": "m-1", "IoTHub-CorrelationId": "c-1", "IoTHub-UserId": "u",
                  "IoTHub-Ack": "positive", "Content-Encoding": "utf-8", "IoTHub-app-Color": "Red"}
    assert api.enqueue(body=b"\x00\xffpayload", **properties) == Enqueued(200, None, "enqueued as sequence number 1")
    response = api.receive()
    assert response.status_code == 200
    assert response.content == b"\x00\xffpayload"
    headers = response.headers
    assert LOCK.fullmatch(headers["ETag"])
    assert headers["IoTHub-SequenceNumber"] == "1"
    enqueued, expiry = when(headers["IoTHub-EnqueuedTime"]), when(headers["IoTHub-ExpiryTime"])
    assert expiry - enqueued == timedelta(seconds=3600)
    assert headers["iothub-expiry"] == headers["IoTHub-ExpiryTime"]
    assert headers["iothub-deliverycount"] == "0"
    assert headers["IoTHub-To"] == "/devices/dev1/messages/devicebound"
    for name, value in properties.items():
        assert headers[name] == value
    assert "Content-Type" not in headers  # the sender set none
    assert "x-ms-request-id" in headers


def test_receive_carries_the_senders_content_type(api):
    api.enqueue(body=b"{}", **{"Content-Type": "application/json"})
    assert api.receive().headers["Content-Type"] == "application/json"


def test_sequence_numbers_count_from_one_per_device(api):
    api.device("dev2")
    for device_id in ("dev1", "dev1", "dev2"):
        api.enqueue(device_id)
    assert [api.receive("dev1").headers["IoTHub-SequenceNumber"] for _ in range(2)] == ["1", "2"]
    assert api.receive("dev2").headers["IoTHub-SequenceNumber"] == "1"


def test_receive_on_an_empty_queue_is_204(api):
    response = api.receive()
    assert response.status_code == 204 and response.content == b""
    assert "Content-Type" not in response.headers and "ETag" not in response.headers


def test_a_locked_message_is_invisible(api):
    api.enqueue(body=b"one")
    api.enqueue(body=b"two")
    first, second = api.receive(), api.receive()
    assert (first.content, second.content) == (b"one", b"two")
    assert lock_of(first) != lock_of(second)
    assert api.receive().status_code == 204
    api.hub.clock.advance(59)
    assert api.receive().status_code == 204


def test_an_expired_lock_makes_the_message_visible_again(api):
    api.enqueue()
    first = api.receive()
    api.hub.clock.advance(61)
    again = api.receive()
    assert again.status_code == 200 and again.headers["IoTHub-SequenceNumber"] == "1"
    assert lock_of(again) != lock_of(first)
    assert again.headers["iothub-deliverycount"] == "0"  # iothub profile: only an abandon counts


def test_lock_timeout_header(api):
    api.enqueue()
    assert api.receive(headers={"IoTHub-MessageLockTimeout": "5"}).status_code == 200
    api.hub.clock.advance(4)
    assert api.receive().status_code == 204
    api.hub.clock.advance(2)
    assert api.receive(headers={"IoTHub-MessageLockTimeout": "120"}).status_code == 200
    api.hub.clock.advance(100)
    assert api.receive().status_code == 204


@pytest.mark.parametrize("value", ["0", "000", "-1", "+5", "abc", "1.5", "", "5s", "1e3", "\u0661".encode()])
def test_lock_timeout_must_be_a_positive_integer(api, value):
    api.enqueue()
    response = api.receive(headers={"IoTHub-MessageLockTimeout": value})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert api.receive().status_code == 200  # the refused receive locked nothing


@pytest.mark.parametrize("value", ["4001649815441", "9" * 5000, "0004000"])
def test_any_positive_lock_timeout_is_taken(api, value):
    api.enqueue()
    assert api.receive(headers={"IoTHub-MessageLockTimeout": value}).status_code == 200
    api.hub.clock.advance(3000)
    assert api.receive().status_code == 204


def test_expired_messages_are_dead_lettered(api):
    api.enqueue(body=b"old")
    api.hub.clock.advance(3000)
    api.enqueue(body=b"new")
    api.hub.clock.advance(601)
    response = api.receive()
    assert response.content == b"new"
    assert [m.sequence_number for m in api.hub.queues["dev1"].dead_letters] == [1]


# --- complete, reject, abandon ---

def test_complete_removes_the_message(api):
    api.enqueue()
    lock = lock_of(api.receive())
    response = api.complete(lock)
    assert response.status_code == 204 and response.content == b""
    api.hub.clock.advance(61)
    assert api.receive().status_code == 204
    assert not api.hub.queues["dev1"].dead_letters
    assert api.complete(lock).status_code == 412  # already completed


def test_reject_dead_letters_the_message(api):
    api.enqueue(body=b"bad")
    response = api.reject(lock_of(api.receive()))
    assert response.status_code == 204 and response.content == b""
    api.hub.clock.advance(61)
    assert api.receive().status_code == 204
    assert [m.sequence_number for m in api.hub.queues["dev1"].dead_letters] == [1]


def test_reject_takes_any_value(api):
    api.enqueue()
    lock = lock_of(api.receive())
    response = api.device_call("DELETE", "dev1", f"devicebound/{lock}", params={**API, "reject": "true"})
    assert response.status_code == 204
    assert len(api.hub.queues["dev1"].dead_letters) == 1


def test_valueless_reject_flag(api):
    api.enqueue()
    lock = lock_of(api.receive())
    url = f"/devices/dev1/messages/devicebound/{lock}?reject&api-version=2016-02-03"
    response = api.client.request("DELETE", url, headers={"Authorization": api.device_token("dev1")})
    assert response.status_code == 204
    assert len(api.hub.queues["dev1"].dead_letters) == 1


def test_abandon_redelivers_with_a_higher_delivery_count(api):
    api.enqueue()
    first = api.receive()
    response = api.abandon(lock_of(first))
    assert response.status_code == 204 and response.content == b""
    again = api.receive()
    assert again.headers["IoTHub-SequenceNumber"] == "1"
    assert again.headers["iothub-deliverycount"] == "1"
    assert lock_of(again) != lock_of(first)


def test_dead_lettered_after_max_delivery_count_abandons(api):
    api.enqueue(body=b"poison")
    for count in range(10):
        response = api.receive()
        assert response.headers["iothub-deliverycount"] == str(count)
        assert api.abandon(lock_of(response)).status_code == 204
    assert api.receive().status_code == 204
    assert [m.sequence_number for m in api.hub.queues["dev1"].dead_letters] == [1]


def test_max_delivery_count_is_a_hub_setting(api):
    api.hub.max_delivery_count = 2
    api.enqueue()
    api.abandon(lock_of(api.receive()))
    api.abandon(lock_of(api.receive()))
    assert api.receive().status_code == 204


def test_lock_expiry_counts_toward_delivery_under_docs_strict():
    api = ReferenceApi(profile=DOCS_STRICT)
    api.device("dev1")
    api.enqueue()
    for count in range(10):
        response = api.receive()
        assert response.headers["iothub-deliverycount"] == str(count)
        api.hub.clock.advance(61)
    assert api.receive().status_code == 204
    assert len(api.hub.queues["dev1"].dead_letters) == 1


def test_lock_expiry_does_not_count_under_iothub(api):
    api.enqueue()
    for _ in range(12):
        response = api.receive()
        assert response.headers["iothub-deliverycount"] == "0"
        api.hub.clock.advance(61)
    assert api.receive().status_code == 200


@pytest.mark.parametrize("settle", ["complete", "reject", "abandon"])
def test_lost_locks_are_412_device_message_lock_lost(api, settle):
    call = getattr(api, settle)
    api.enqueue()
    # never issued
    response = call("00000000-0000-0000-0000-000000000000")
    assert response.status_code == 412 and error_code(response) == "DeviceMessageLockLost"
    # expired
    expired = lock_of(api.receive())
    api.hub.clock.advance(61)
    assert error_code(call(expired)) == "DeviceMessageLockLost"
    # replaced by a newer receive
    current = lock_of(api.receive())
    assert call(expired).status_code == 412
    # the quoted ETag is not the lock: the path carries the bare token
    assert call(f'"{current}"').status_code == 412
    # nothing changed: the message is still locked by `current`, which still works
    assert api.receive().status_code == 204
    assert call(current).status_code == 204
    assert call(current).status_code == 412  # settled


def test_a_lock_is_scoped_to_its_device(api):
    api.device("dev2")
    api.enqueue("dev1")
    lock = lock_of(api.receive("dev1"))
    assert api.complete(lock, "dev2").status_code == 412
    assert api.complete(lock, "dev1").status_code == 204


def test_lock_expiry_is_exact(api):
    api.enqueue()
    lock = lock_of(api.receive())
    api.hub.clock.advance(59.5)
    assert api.abandon(lock).status_code == 204
    lock = lock_of(api.receive())
    api.hub.clock.advance(60)
    assert api.abandon(lock).status_code == 412


# --- the cloud side: Hub.enqueue and POST /messages/deviceBound ---

def test_enqueue_outcomes(api):
    assert api.enqueue() == Enqueued(200, None, "enqueued as sequence number 1")
    unknown = api.enqueue("ghost")
    assert (unknown.status, unknown.code) == (404, "DeviceNotFound")
    invalid = api.enqueue(**{"IoTHub-app-k": "a b"})
    assert (invalid.status, invalid.code) == (400, "ArgumentInvalid")
    assert api.enqueue(**{"IoTHub-MessageId": "line\nbreak"}).status == 400
    assert api.enqueue(**{"IoTHub-MessageId": "\u20ac"}).status == 400  # cannot go out as a header again
    assert api.enqueue(**{"IoTHub-MessageId": "caf\u00e9 au lait"}).status == 200
    assert api.enqueue(**{"iothub-messageid": "m", "Unknown": "x"}).status == 200  # names are case-insensitive
    assert api.hub.queues["dev1"].messages[-1].properties == {"IoTHub-MessageId": "m"}


def test_enqueue_keeps_application_property_names_as_given(api):
    api.enqueue(**{"IoTHub-app-CamelCase": "Value"})
    assert api.hub.queues["dev1"].messages[0].properties == {"IoTHub-app-CamelCase": "Value"}


def test_queue_depth_via_enqueue(api):
    assert api.hub.queue_depth == 50
    for _ in range(50):
        assert api.enqueue().status == 200
    full = api.enqueue()
    assert (full.status, full.code) == (403, "DeviceMaximumQueueDepthExceeded")
    lock = lock_of(api.receive())
    assert api.enqueue().status == 403  # a locked message still takes its place
    api.complete(lock)
    assert api.enqueue().status == 200


def test_queue_depth_via_service_send(api):
    for _ in range(50):
        assert api.post_c2d("/devices/dev1/messages/devicebound").status_code == 200
    refused = api.post_c2d("/devices/dev1/messages/devicebound")
    assert refused.status_code == 403 and error_code(refused) == "DeviceMaximumQueueDepthExceeded"


@pytest.mark.parametrize(("profile", "limit"), [(IOTHUB, 65536), (DOCS_STRICT, 256 * 1024 - 1)])
def test_c2d_size_limit_follows_the_profile(profile, limit):
    api = ReferenceApi(profile=profile)
    api.device("dev1")
    assert api.enqueue(body=b"x" * limit).status == 200
    too_large = api.enqueue(body=b"x" * (limit + 1))
    assert (too_large.status, too_large.code) == (413, "MessageTooLarge")
    assert api.enqueue(body=b"x" * (limit - 4), **{"IoTHub-app-ab": "cd"}).status == 200
    assert api.enqueue(body=b"x" * (limit - 3), **{"IoTHub-app-ab": "cd"}).status == 413
    to = "/devices/dev1/messages/devicebound"
    assert api.post_c2d(to, b"x" * limit).status_code == 200
    refused = api.post_c2d(to, b"x" * (limit + 1))
    assert refused.status_code == 413 and error_code(refused) == "MessageTooLarge"


def test_service_send_delivers_to_the_device(api):
    headers = {"IoTHub-MessageId": "m-9", "IoTHub-app-k": "v", "IoTHub-Ack": "full"}
    for path in ("/messages/deviceBound", "/messages/devicebound"):
        response = api.post_c2d("/devices/dev1/messages/deviceBound", b"cmd", headers=headers, path=path)
        assert response.status_code == 200 and response.content == b""
        assert "x-ms-request-id" in response.headers
    received = api.receive()
    assert received.content == b"cmd"
    assert (received.headers["IoTHub-MessageId"], received.headers["IoTHub-app-k"]) == ("m-9", "v")
    assert received.headers["IoTHub-Ack"] == "full"


def test_service_send_to_a_special_device_id(api):
    api.device(SPECIAL_ID)
    to = f"/devices/{quote(SPECIAL_ID, safe='')}/messages/devicebound"
    assert api.post_c2d(to, b"x").status_code == 200
    received = api.receive(SPECIAL_ID)
    assert received.status_code == 200
    assert received.headers["IoTHub-To"] == f"/devices/{SPECIAL_ID}/messages/devicebound"


def test_service_send_needs_service_connect(api):
    to = "/devices/dev1/messages/devicebound"
    assert api.post_c2d(to, token=api.policy("service")).status_code == 200
    for token in (api.device_token("dev1"), api.policy("device"), api.policy("registryReadWrite"), None):
        response = api.post_c2d(to, token=token)
        assert response.status_code == 401 and error_code(response) == "IotHubUnauthorizedAccess"
    assert api.hub.queued("dev1") == 1


@pytest.mark.parametrize("to", [None, "", "dev1", "/devices/dev1", "/devices//messages/devicebound",
                                "/devices/dev1/messages/events", "devices/dev1/messages/devicebound",
                                "/devices/dev1/messages/devicebound/x", "/devices/a/b/messages/devicebound"])
def test_service_send_needs_a_device_address(api, to):
    response = api.post_c2d(to)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_service_send_errors(api):
    missing = api.post_c2d("/devices/ghost/messages/devicebound")
    assert missing.status_code == 404 and error_code(missing) == "DeviceNotFound"
    invalid = api.post_c2d("/devices/dev1/messages/devicebound", headers={"IoTHub-app-k": "a/b"})
    assert invalid.status_code == 400 and error_code(invalid) == "ArgumentInvalid"
    no_version = api.request("POST", "/messages/deviceBound", params={}, headers={"IoTHub-To": "bad"})
    assert no_version.status_code == 400 and error_code(no_version) == "InvalidProtocolVersion"


# --- authorization, order of checks, common headers ---

def test_device_token_works_on_its_own_device_only(api):
    api.device("dev2")
    api.enqueue("dev2")
    for call in (lambda t: api.send("dev2", b"x", token=t), lambda t: api.receive("dev2", token=t),
                 lambda t: api.complete("00000000-0000-0000-0000-000000000000", "dev2", token=t),
                 lambda t: api.abandon("00000000-0000-0000-0000-000000000000", "dev2", token=t)):
        response = call(api.device_token("dev1"))
        assert response.status_code == 401 and error_code(response) == "IotHubUnauthorizedAccess"
    assert api.hub.queued("dev2") == 1 and not api.hub.events


def test_policy_tokens_need_device_connect(api):
    api.enqueue()
    for name in ("registryRead", "registryReadWrite", "service"):
        assert api.send(body=b"x", token=api.policy(name)).status_code == 401
        assert api.receive(token=api.policy(name)).status_code == 401
    assert api.send(body=b"x", token=api.policy("device")).status_code == 204
    received = api.receive(token=api.policy("device"))
    assert received.status_code == 200
    assert api.complete(lock_of(received), token=api.policy("iothubowner")).status_code == 204


def test_unknown_device(api):
    for token in (api.policy(), api.policy("device")):
        response = api.receive("ghost", token=token)
        assert response.status_code == 404 and error_code(response) == "DeviceNotFound"
        assert api.send("ghost", b"x", token=token).status_code == 404
        assert api.complete("x", "ghost", token=token).status_code == 404
        assert api.abandon("x", "ghost", token=token).status_code == 404
    # A device token for a device that is gone cannot be validated: 401, not 404.
    api.device("gone")
    token = api.device_token("gone")
    api.request("DELETE", "/devices/gone", headers={"If-Match": "*"})
    assert api.receive("gone", token=token).status_code == 401


def test_disabled_device_is_401(api):
    api.enqueue()
    api.device("dev1", status="disabled")
    for token in (api.device_token("dev1"), api.policy("device"), api.policy()):
        for response in (api.send(body=b"x", token=token), api.receive(token=token), api.complete("x", token=token),
                         api.abandon("x", token=token)):
            assert response.status_code == 401 and error_code(response) == "IotHubUnauthorizedAccess"
            assert "disabled" in response.json()["Message"]
    assert not api.hub.events
    api.device("dev1", status="enabled")
    assert api.receive().status_code == 200


def test_api_version_and_authorization_come_first(api):
    api.enqueue()
    no_version = api.receive(params={})
    assert no_version.status_code == 400 and error_code(no_version) == "InvalidProtocolVersion"
    assert api.receive(params={"api-version": "2099-01-01"}).status_code == 400
    assert api.send(body=b"x", params={}).status_code == 400
    assert api.receive("ghost", params={}, token=api.policy()).status_code == 400
    for response in (api.receive(token=None), api.send(body=b"x", token=None), api.complete("x", token=None),
                     api.abandon("x", token=None)):
        assert response.status_code == 401 and error_code(response) == "IotHubUnauthorizedAccess"
    expired = sas.build_token(f"{api.hub.host_name}/devices/dev1", api.keys["dev1"], expiry=1)
    assert api.receive(token=expired).status_code == 401
    assert api.receive().status_code == 200  # nothing above locked the message


def test_token_sr_must_cover_the_device(api):
    token = sas.build_token(f"{api.hub.host_name}/devices/dev1/messages/events", api.keys["dev1"])
    assert api.send(body=b"x", token=token).status_code == 401  # a device token names the device, not a path


def test_tokens_stay_valid_while_the_clock_moves(api):
    api.hub.clock.advance(3 * 3600)
    assert api.send(body=b"x").status_code == 204


def test_every_response_has_a_request_id(api):
    api.enqueue()
    responses = [api.send(body=b"x"), api.receive(), api.receive(), api.complete("x"), api.abandon("x"),
                 api.receive(token=None), api.receive(params={}), api.send("ghost", token=api.policy()),
                 api.post_c2d("/devices/dev1/messages/devicebound"), api.post_c2d("bad"),
                 api.send(body=b"x" * (300 * 1024))]
    assert all("x-ms-request-id" in r.headers for r in responses)
    assert len({r.headers["x-ms-request-id"] for r in responses}) == len(responses)


def test_wrong_methods_are_405(api):
    for method, suffix in (("GET", "events"), ("PUT", "devicebound"), ("POST", "devicebound"),
                           ("GET", "devicebound/x"), ("GET", "devicebound/x/abandon")):
        response = api.device_call(method, "dev1", suffix)
        assert response.status_code == 405 and error_code(response) == "MethodNotAllowed"
    assert api.request("GET", "/messages/deviceBound").status_code == 405


def test_head_does_not_lock_a_message(api):
    api.enqueue()
    assert api.device_call("HEAD", "dev1", "devicebound").status_code == 405
    assert api.receive().status_code == 200


# --- the device registry sees the queue ---

def test_deleting_a_device_drops_its_queue(api):
    api.enqueue()
    api.enqueue()
    lock = lock_of(api.receive())
    assert api.request("DELETE", "/devices/dev1", headers={"If-Match": "*"}).status_code == 204
    assert "dev1" not in api.hub.queues
    api.device("dev1")
    assert api.receive().status_code == 204
    assert api.complete(lock).status_code == 412
    assert api.enqueue() == Enqueued(200, None, "enqueued as sequence number 1")


def test_cloud_to_device_message_count(api):
    def count(source):
        return source.json()["cloudToDeviceMessageCount"]

    assert count(api.request("GET", "/devices/dev1")) == 0
    api.enqueue()
    api.enqueue()
    lock = lock_of(api.receive())
    assert count(api.request("GET", "/devices/dev1")) == 2  # a locked message still waits
    assert api.request("GET", "/devices").json()[0]["cloudToDeviceMessageCount"] == 2
    assert count(api.request("PUT", "/devices/dev1", json={"statusReason": "x"})) == 2
    api.complete(lock)
    assert count(api.request("GET", "/devices/dev1")) == 1
    api.hub.clock.advance(3601)  # the other one expires
    assert count(api.request("GET", "/devices/dev1")) == 0
    assert api.device("dev3")["cloudToDeviceMessageCount"] == 0


# --- hostile input never gets a 500 ---

@pytest.mark.parametrize("lock", ["x" * 10000, "%00", "..", "%2F", "\u00e9", " ", "'\";--"])
def test_hostile_locks(api, lock):
    for response in (api.complete(quote(lock, safe="")), api.reject(quote(lock, safe="")),
                     api.abandon(quote(lock, safe=""))):
        assert response.status_code in (404, 412), response.text
        assert "x-ms-request-id" in response.headers


def test_hostile_bodies_and_headers(api):
    assert api.send(body=bytes(range(256)) * 1000, headers={"Content-Type": "application/json"}).status_code == 204
    assert api.send(body=b"x" * (300 * 1024)).status_code == 413
    assert api.send(body=b"x" * (5 * 1024 * 1024)).status_code == 413
    assert api.post_c2d("/devices/dev1/messages/devicebound", b"x" * (5 * 1024 * 1024)).status_code == 413
    assert api.send(body=b"x", headers={"IoTHub-app-" + "k" * 5000: "v" * 5000}).status_code == 204
    assert api.send(body=b"\xff" * 10, headers={"Content-Encoding": b"\xff\xfe"}).status_code == 204
    assert api.receive(headers={"IoTHub-MessageLockTimeout": b"\xe9"}).status_code == 400
    assert api.post_c2d("/devices/%ZZ/messages/devicebound").status_code == 404
    assert api.post_c2d("/devices/%E9/messages/devicebound").status_code == 404
    assert api.receive(quote("a/b", safe=""), token=api.policy()).status_code == 404


def test_send_reads_a_large_body_only_as_far_as_the_limit():
    pulled = []

    async def receive():
        pulled.append(1)
        return {"type": "http.request", "body": b"x" * (64 * 1024), "more_body": len(pulled) < 100}

    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)
    body = anyio.run(messaging_routes.read_body, request, 256 * 1024 - 1)
    assert len(body) == 256 * 1024
    assert len(pulled) == 4


# --- the clock ---

def test_clock():
    clock = Clock()
    start = clock.now()
    clock.advance(60)
    assert clock.now() - start >= 60
    clock.advance(0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.advance(float("nan"))
    assert isinstance(Hub.create().clock, Clock)

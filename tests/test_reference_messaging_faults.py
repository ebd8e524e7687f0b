"""Each messaging fault switch changes the reference's behaviour as its description says, and a hub without it does not.

Also: the generic faults reach the messaging routes, and the device-identity etag faults leave the lock ETag alone.
"""

from __future__ import annotations

import re

import pytest

from iothub_conformance.http import sas
from iothub_conformance.rules.profiles import IOTHUB, Profile
from tests.support.reference_api import SURFACE_PREFIXES, ReferenceApi, faults_breaking, lock_of

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

UNKNOWN_LOCK = "00000000-0000-0000-0000-000000000000"
LOCK = re.compile(r'^"[0-9a-f-]{36}"$')

MESSAGING_FAULTS = faults_breaking(*SURFACE_PREFIXES["messaging"])


def with_devices(*faults: str, profile: Profile = IOTHUB) -> ReferenceApi:
    """A hub with the given faults and the devices dev1 and dev2."""
    api = ReferenceApi(*faults, profile=profile)
    api.devices("dev1", "dev2")
    return api


def both(fault: str, **kwargs) -> tuple[ReferenceApi, ReferenceApi]:
    """A correct hub and one with the fault."""
    return with_devices(**kwargs), with_devices(fault, **kwargs)


def test_every_messaging_fault_has_a_test_here():
    assert MESSAGING_FAULTS
    missing = [name for name in MESSAGING_FAULTS if f"test_fault_{name.replace('-', '_')}" not in globals()]
    assert not missing


def test_fault_d2c_returns_200():
    good, bad = both("d2c-returns-200")
    assert good.send(body=b"x").status_code == 204
    assert bad.send(body=b"x").status_code == 200 and bad.hub.events
    assert bad.send(body=b"x", headers={"IoTHub-app-k": "a b"}).status_code == 400  # errors are unchanged


def test_fault_d2c_no_size_limit():
    good, bad = both("d2c-no-size-limit")
    body = b"x" * (256 * 1024)
    assert good.send(body=body).status_code == 413
    assert bad.send(body=body).status_code == 204 and len(bad.hub.events[-1].body) == 256 * 1024


def test_fault_d2c_accepts_invalid_properties():
    good, bad = both("d2c-accepts-invalid-properties")
    for headers in ({"IoTHub-app-k": "a b"}, {"IoTHub-app-k": "a@b"}, {"IoTHub-app-": "v"}):
        assert good.send(body=b"x", headers=headers).status_code == 400
        assert bad.send(body=b"x", headers=headers).status_code == 204
    assert bad.enqueue(**{"IoTHub-app-k": "a b"}).status == 400  # cloud-to-device is still checked


def test_fault_d2c_refuses_properties():
    good, bad = both("d2c-refuses-properties")
    assert good.send(body=b"x", headers={"IoTHub-app-k": "v"}).status_code == 204
    assert bad.send(body=b"x", headers={"IoTHub-app-k": "v"}).status_code == 400
    assert bad.send(body=b"x", headers={"IoTHub-MessageId": "m"}).status_code == 204


def test_fault_empty_queue_returns_200():
    good, bad = both("empty-queue-returns-200")
    assert good.receive().status_code == 204
    response = bad.receive()
    assert response.status_code == 200 and response.content == b""


def test_fault_receive_drops_properties():
    good, bad = both("receive-drops-properties")
    properties = {"IoTHub-MessageId": "m-1", "IoTHub-app-k": "v", "IoTHub-CorrelationId": "c-1"}
    for api in (good, bad):
        api.enqueue(**properties)
    kept = good.receive().headers
    assert (kept["IoTHub-MessageId"], kept["IoTHub-app-k"], kept["IoTHub-CorrelationId"]) == ("m-1", "v", "c-1")
    dropped = bad.receive().headers
    assert "IoTHub-MessageId" not in dropped and "IoTHub-app-k" not in dropped
    assert dropped["IoTHub-CorrelationId"] == "c-1"


def test_fault_no_message_lock():
    good, bad = both("no-message-lock")
    for api in (good, bad):
        api.enqueue()
        assert api.receive().status_code == 200
    assert good.receive().status_code == 204
    again = bad.receive()
    assert again.status_code == 200 and again.headers["IoTHub-SequenceNumber"] == "1"
    assert bad.complete(lock_of(again)).status_code == 204


def test_fault_unquoted_lock_etag():
    good, bad = both("unquoted-lock-etag")
    for api in (good, bad):
        api.enqueue()
    assert LOCK.fullmatch(good.receive().headers["ETag"])
    etag = bad.receive().headers["ETag"]
    assert not etag.startswith('"') and bad.complete(etag).status_code == 204


def test_fault_complete_keeps_message():
    good, bad = both("complete-keeps-message")
    for api in (good, bad):
        api.enqueue()
        assert api.complete(lock_of(api.receive())).status_code == 204
    assert good.receive().status_code == 204
    assert bad.receive().status_code == 200


def test_fault_reject_requeues():
    good, bad = both("reject-requeues")
    for api in (good, bad):
        api.enqueue()
        assert api.reject(lock_of(api.receive())).status_code == 204
    assert good.receive().status_code == 204 and len(good.hub.queues["dev1"].dead_letters) == 1
    assert bad.receive().status_code == 200 and not bad.hub.queues["dev1"].dead_letters


def test_fault_abandon_keeps_delivery_count():
    good, bad = both("abandon-keeps-delivery-count")
    for api in (good, bad):
        api.enqueue()
        assert api.abandon(lock_of(api.receive())).status_code == 204
    assert good.receive().headers["iothub-deliverycount"] == "1"
    assert bad.receive().headers["iothub-deliverycount"] == "0"


def test_fault_accept_unknown_lock():
    good, bad = both("accept-unknown-lock")
    for settle in ("complete", "reject", "abandon"):
        assert getattr(good, settle)(UNKNOWN_LOCK).status_code == 412
        assert getattr(bad, settle)(UNKNOWN_LOCK).status_code == 204
    bad.enqueue()
    expired = lock_of(bad.receive())
    bad.hub.clock.advance(61)
    assert bad.complete(expired).status_code == 412  # a lock that was issued and lost is still refused


def test_fault_lock_lost_precondition_failed():
    good, bad = both("lock-lost-precondition-failed")
    lost = good.complete(UNKNOWN_LOCK)
    assert lost.status_code == 412 and lost.headers["iothub-errorcode"] == "DeviceMessageLockLost"
    lost = bad.complete(UNKNOWN_LOCK)
    assert lost.status_code == 412 and lost.headers["iothub-errorcode"] == "PreconditionFailed"


def test_fault_expired_lock_still_valid():
    good, bad = both("expired-lock-still-valid")
    for settle in ("complete", "reject", "abandon"):
        for api in (good, bad):
            api.enqueue()
            lock = lock_of(api.receive())
            api.hub.clock.advance(61)
            assert getattr(api, settle)(lock).status_code == (204 if api is bad else 412)
            api.hub.queues.clear()
    assert bad.complete(UNKNOWN_LOCK).status_code == 412


def test_fault_lock_never_expires():
    good, bad = both("lock-never-expires")
    locks = []
    for api in (good, bad):
        api.enqueue()
        locks.append(lock_of(api.receive()))
        api.hub.clock.advance(3000)  # well past the lock, not yet past the message's time to live
    assert good.receive().status_code == 200
    assert bad.receive().status_code == 204
    assert bad.complete(locks[1]).status_code == 204


def test_fault_no_max_delivery_count():
    good, bad = both("no-max-delivery-count")
    for api in (good, bad):
        api.enqueue()
        for _ in range(10):
            assert api.abandon(lock_of(api.receive())).status_code == 204
    assert good.receive().status_code == 204
    again = bad.receive()
    assert again.status_code == 200 and again.headers["iothub-deliverycount"] == "10"


def test_fault_lock_expiry_counts_delivery():
    good, bad = both("lock-expiry-counts-delivery")
    for api in (good, bad):
        api.enqueue()
        api.receive()
        api.hub.clock.advance(61)
    assert good.receive().headers["iothub-deliverycount"] == "0"
    assert bad.receive().headers["iothub-deliverycount"] == "1"


def test_fault_unbounded_device_queue():
    good, bad = both("unbounded-device-queue")
    for api in (good, bad):
        for _ in range(50):
            assert api.enqueue().status == 200
    assert (good.enqueue().status, good.enqueue().code) == (403, "DeviceMaximumQueueDepthExceeded")
    assert bad.enqueue().status == 200 and bad.hub.queued("dev1") == 51


def test_fault_c2d_no_size_limit():
    good, bad = both("c2d-no-size-limit")
    body = b"x" * (64 * 1024 + 1)
    assert good.enqueue(body=body).status == 413
    assert bad.enqueue(body=body).status == 200
    to = {"IoTHub-To": "/devices/dev1/messages/devicebound"}
    assert good.request("POST", "/messages/deviceBound", headers=to, content=body).status_code == 413
    assert bad.request("POST", "/messages/deviceBound", headers=to, content=body).status_code == 200
    assert bad.receive().content == body


def test_fault_device_token_any_device():
    good, bad = both("device-token-any-device")
    assert good.send(body=b"x", device_id="dev2", token=good.device_token("dev1")).status_code == 401
    assert bad.send(body=b"x", device_id="dev2", token=bad.device_token("dev1")).status_code == 204
    assert bad.hub.events[-1].device_id == "dev2"
    assert bad.request("GET", "/devices/dev2", token=bad.device_token("dev1")).status_code == 401  # registry: no


def test_fault_ignore_device_connect():
    good, bad = both("ignore-device-connect")
    for name in ("registryRead", "service"):
        assert good.send(body=b"x", token=good.policy(name)).status_code == 401
        assert bad.send(body=b"x", token=bad.policy(name)).status_code == 204
    assert bad.request("GET", "/devices", token=bad.policy("service")).status_code == 401  # other permissions hold


def test_fault_disabled_device_connects():
    good, bad = both("disabled-device-connects")
    for api in (good, bad):
        api.device("dev1", status="disabled")
        api.enqueue()
    assert good.send(body=b"x").status_code == 401 and good.receive().status_code == 401
    assert bad.send(body=b"x").status_code == 204 and bad.receive().status_code == 200


def test_fault_refuse_device_tokens():
    good, bad = both("refuse-device-tokens")
    assert good.send(body=b"x").status_code == 204
    refused = bad.send(body=b"x")
    assert refused.status_code == 401 and refused.headers["iothub-errorcode"] == "IotHubUnauthorizedAccess"
    assert bad.send(body=b"x", token=bad.policy("device")).status_code == 204


# --- the generic faults on the messaging routes ---

def test_generic_faults_reach_messaging():
    assert "x-ms-request-id" not in with_devices("drop-request-id").complete(UNKNOWN_LOCK).headers
    assert "x-ms-request-id" in with_devices("drop-request-id").send(body=b"x").headers
    plain = with_devices("error-envelope-plain").complete(UNKNOWN_LOCK)
    assert plain.status_code == 412 and plain.text == "error" and "iothub-errorcode" not in plain.headers
    assert with_devices("no-auth-required").send(body=b"x", token=None).status_code == 204
    assert with_devices("accept-missing-api-version").send(body=b"x", params={}).status_code == 204
    assert with_devices("accept-any-api-version").receive(params={"api-version": "2099-01-01"}).status_code == 204
    assert with_devices("wrong-api-version-error-code").receive(params={}).headers["iothub-errorcode"] == "BadRequest"
    api = with_devices("skip-signature-check")
    forged = sas.build_token(f"{api.hub.host_name}/devices/dev1", api.keys["dev2"])
    assert api.send(body=b"x", token=forged).status_code == 204
    for api, status in ((with_devices(), 401), (with_devices("ignore-token-audience"), 204)):
        elsewhere = sas.build_token(f"{api.hub.host_name}/devices/dev2", api.hub.policies["device"].key, "device")
        assert api.send(body=b"x", token=elsewhere).status_code == status  # sent to dev1 with a token scoped to dev2
    expired = with_devices("accept-expired-token")
    assert expired.send(body=b"x", token=sas.build_token(f"{expired.hub.host_name}/devices/dev1", expired.keys["dev1"],
                                              expiry=1)).status_code == 204
    ids = with_devices("repeat-request-id")
    assert ids.send(body=b"x").headers["x-ms-request-id"] == ids.receive().headers["x-ms-request-id"]


@pytest.mark.parametrize("fault", ["no-etag-header", "unquoted-etag", "etag-header-mismatch", "etag-changes-on-read",
                                   "no-content-type"])
def test_identity_faults_leave_messages_alone(fault):
    api = with_devices(fault)
    api.enqueue()
    received = api.receive()
    assert LOCK.fullmatch(received.headers["ETag"]) and "Content-Type" not in received.headers
    assert api.complete(lock_of(received)).status_code == 204

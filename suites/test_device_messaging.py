"""Device Messaging (api-version 2016-02-03): device-to-cloud send; cloud-to-device receive, complete, reject, abandon.

Pages: send-device-to-cloud-message.md, receive-/complete-/reject-/abandon-a-cloud-to-device-message.md; INVENTORY.md
§2b, §5, §6. Cloud-to-device messages are fed through the `feeder` fixture (iothub_conformance/surfaces/feeders.py); lock
timeouts use the `clock` fixture, so no test waits one out.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import uuid

import pytest

from iothub_conformance.checks import envelope as errors
from iothub_conformance.checks import lock, received
from iothub_conformance.checks.context import Context
from iothub_conformance.http import sas
from iothub_conformance.rules.failures import PreconditionFailed, RequirementFailure, answered, expect, raise_all, served
from iothub_conformance.surfaces.messaging import lock_of

LOCK_SECONDS = 60  # INVENTORY §6: the lock (visibility) timeout is one minute by default
D2C_LIMIT = 256 * 1024  # send-device-to-cloud-message.md: the whole message has to be less than 256 Kb
PROPERTIES = {
    "IoTHub-MessageId": "conformance-message-1",
    "IoTHub-CorrelationId": "conformance-correlation-1",
    "IoTHub-Ack": "full",
    "Content-Type": "text/plain",
    "Content-Encoding": "utf-8",
    "IoTHub-app-color": "blue",
}


def feed(feeder, device, body=b"hello device", **properties):
    """A message the test relies on: when the target does not take it, there is nothing to receive or lock."""
    fed = feeder.send(device.device_id, body, {"Content-Type": "text/plain", **properties})
    if not fed.accepted:
        raise PreconditionFailed(f"the {feeder.name} feeder could not enqueue a message for {device.device_id}: "
                                 f"{fed.status} {fed.code or ''} {fed.detail}".rstrip())
    return fed


def received_lock(response, what="receive", requirement: str | None = None) -> str:
    """The lock of a received message. When the receive is what the test judges (`requirement`), a missing message
    or lock fails that requirement; otherwise the test's precondition did not hold."""
    token = lock_of(response.headers.get("ETag")) if response.status_code == 200 else None
    if token:
        return token
    said = f"{what}: {answered(response)}, expected 200 with the message and its lock in ETag"
    if requirement is None:
        raise PreconditionFailed(said)
    raise RequirementFailure(requirement, said)


def expect_lock_lost(response, profile, requirement, what):
    statuses = profile.value("lock_lost_statuses")
    expect(requirement, response.status_code in statuses,
           f"{what} → {response.status_code}, expected {' or '.join(map(str, sorted(statuses)))}")
    code = profile.value("lock_lost_code")
    if code and response.status_code == 412:
        expect(requirement, errors.error_code(response) == code,
               f"{what} → 412 names {errors.error_code(response)!r}, expected {code!r}")


def policy_token(target, policy):
    """A token of one of the hub's own policies; only the embedded reference's keys are known to the suite."""
    if target.controls is None:
        pytest.skip(f"needs the key of the {policy!r} policy: tested on the embedded reference only")
    connection = sas.parse_connection_string(target.controls.connection_string(policy))
    return sas.build_token(connection.host_name, connection.key, connection.key_name)


# -- device-to-cloud ---------------------------------------------------------------------------------------------


@pytest.mark.requirement("MSG-D2C-001")
@pytest.mark.parametrize("body", [b"", b"hello hub", bytes(range(256)), b"\x00" * 200_000])
def test_send_device_to_cloud_message_returns_204(device, body):
    response = device.send(body, headers={"Content-Type": "application/octet-stream"})
    expect("MSG-D2C-001", response.status_code == 204, f"send of {len(body)} bytes → {response.status_code}")
    expect("MSG-D2C-001", response.content == b"", "a 204 carries no body")


@pytest.mark.requirement("MSG-D2C-002")
def test_send_with_properties_as_headers_returns_204(device):
    headers = {"IoTHub-MessageId": "conformance-d2c-1", "IoTHub-CorrelationId": "conformance-corr-1",
               "Content-Type": "application/json", "Content-Encoding": "utf-8",
               "IoTHub-app-temperature": "21.5", "IoTHub-app-unit": "celsius"}
    response = device.send(b'{"temperature": 21.5}', headers=headers)
    expect("MSG-D2C-002", response.status_code == 204,
           f"send with properties as headers → {response.status_code}, expected 204")


@pytest.mark.requirement("MSG-D2C-003", "MSG-D2C-001")
def test_send_of_256_kb_returns_413(device):
    under = device.send(b"a" * 250_000, headers={"Content-Type": "application/octet-stream"})
    expect("MSG-D2C-001", under.status_code == 204, f"send of 250,000 bytes → {under.status_code}, expected 204")
    over = device.send(b"a" * D2C_LIMIT, headers={"Content-Type": "application/octet-stream"})
    expect("MSG-D2C-003", over.status_code == 413, f"send of {D2C_LIMIT} bytes (256 KB) → {over.status_code}, expected 413")


@pytest.mark.requirement("MSG-D2C-004")
@pytest.mark.parametrize("name, value", [("IoTHub-app-", "empty-name"), ("IoTHub-app-note", "two words"),
                                         ("IoTHub-app-mail", "a@b"), ("IoTHub-app-path", "a/b")])
def test_send_with_invalid_application_property_returns_400(device, name, value):
    served(device.send(b"x"), "the same send without that property", statuses=(204,))
    response = device.send(b"x", headers={name: value})
    expect("MSG-D2C-004", response.status_code == 400, f"send with {name}: {value!r} → {response.status_code}, expected 400")


# -- cloud-to-device ---------------------------------------------------------------------------------------------


@pytest.mark.requirement("MSG-RECV-001")
def test_receive_on_empty_queue_returns_204(device):
    response = device.receive()
    expect("MSG-RECV-001", response.status_code == 204, f"receive on an empty queue → {response.status_code}, expected 204")
    expect("MSG-RECV-001", response.content == b"", "a 204 carries no body")


@pytest.mark.requirement("MSG-RECV-002")
def test_received_message_carries_lock_and_documented_headers(device, feeder, profile):
    body = b"conformance: C2D with properties"
    feed(feeder, device, body, **PROPERTIES)
    response = device.receive()
    received_lock(response, requirement="MSG-RECV-002")
    raise_all(received.verify(response, Context(profile, sent=PROPERTIES, body=body)))


@pytest.mark.requirement("MSG-LOCK-001")
def test_receive_etag_is_the_lock_token_in_the_profile_form(device, feeder, profile, profile_rule):
    profile_rule("lock_etag_quoted")
    feed(feeder, device)
    response = device.receive()
    received_lock(response)
    raise_all(lock.verify(response, Context(profile)))


@pytest.mark.requirement("MSG-RECV-003")
def test_received_message_is_invisible_while_locked(device, feeder):
    feed(feeder, device)
    received_lock(device.receive(), "first receive")
    again = device.receive()
    expect("MSG-RECV-003", again.status_code == 204,
           f"a second receive while the only message is locked → {again.status_code}")


@pytest.mark.requirement("MSG-COMPLETE-001")
def test_complete_returns_204_and_removes_the_message(device, feeder):
    feed(feeder, device)
    token = received_lock(device.receive())
    response = device.complete(token)
    expect("MSG-COMPLETE-001", response.status_code == 204, f"complete → {response.status_code}, expected 204")
    after = device.receive()
    expect("MSG-COMPLETE-001", after.status_code == 204,
           f"receive after complete → {after.status_code}: the message is still there")


@pytest.mark.requirement("MSG-REJECT-001")
def test_reject_returns_204_and_dead_letters_the_message(device, feeder, target):
    feed(feeder, device)
    token = received_lock(device.receive())
    response = device.reject(token)
    expect("MSG-REJECT-001", response.status_code == 204, f"reject → {response.status_code}, expected 204")
    expect("MSG-REJECT-001", device.receive().status_code == 204, "receive after reject delivered the message again")
    if target.controls is not None:  # past the old lock's timeout it must still not come back
        target.controls.advance(LOCK_SECONDS + 1)
        expect("MSG-REJECT-001", device.receive().status_code == 204,
               "the rejected message came back after its lock timeout")


@pytest.mark.requirement("MSG-ABANDON-001")
def test_abandon_returns_204_and_redelivers_with_higher_delivery_count(device, feeder, profile):
    feed(feeder, device, **{"IoTHub-MessageId": "conformance-abandon"})
    first = device.receive()
    token = received_lock(first)
    response = device.abandon(token)
    expect("MSG-ABANDON-001", response.status_code == 204, f"abandon → {response.status_code}, expected 204")
    second = device.receive()
    received_lock(second, "receive after abandon", "MSG-ABANDON-001")
    expect("MSG-ABANDON-001", second.headers.get("IoTHub-MessageId") == "conformance-abandon",
           "a different message came back")
    header = profile.value("delivery_count_header")
    if header:
        before, after = first.headers.get(header), second.headers.get(header)
        expect("MSG-ABANDON-001", before is not None and after is not None and before.isdigit() and after.isdigit(),
               f"{header} missing or not a number: {before!r}, {after!r}")
        expect("MSG-ABANDON-001", int(after) > int(before), f"{header} went from {before} to {after} across an abandon")


@pytest.mark.requirement("MSG-LOCK-002")
@pytest.mark.parametrize("operation", ["complete", "reject", "abandon"])
def test_unknown_lock_is_refused_and_changes_nothing(device, feeder, profile, operation):
    feed(feeder, device)
    token = received_lock(device.receive())
    response = getattr(device, operation)(str(uuid.uuid4()))
    expect_lock_lost(response, profile, "MSG-LOCK-002", f"{operation} with a lock that was never issued")
    kept = device.complete(token)
    expect("MSG-LOCK-002", kept.status_code == 204,
           f"the held lock no longer completes after a refused {operation}: {kept.status_code}")


@pytest.mark.requirement("MSG-LOCK-003")
@pytest.mark.parametrize("operation", ["complete", "reject", "abandon"])
def test_expired_lock_is_refused(device, feeder, profile, clock, operation):
    feed(feeder, device)
    token = received_lock(device.receive())
    clock.advance(LOCK_SECONDS + 1)
    response = getattr(device, operation)(token)
    expect_lock_lost(response, profile, "MSG-LOCK-003", f"{operation} with an expired lock")


@pytest.mark.requirement("MSG-LOCK-004")
def test_expired_lock_makes_the_message_visible_again(device, feeder, clock):
    feed(feeder, device, **{"IoTHub-MessageId": "conformance-expiry"})
    received_lock(device.receive())
    clock.advance(LOCK_SECONDS + 1)
    again = device.receive()
    expect("MSG-LOCK-004", again.status_code == 200,
           f"receive after the lock expired → {again.status_code}, expected the message")
    expect("MSG-LOCK-004", again.headers.get("IoTHub-MessageId") == "conformance-expiry", "a different message came back")


@pytest.mark.requirement("MSG-DELIVERY-001")
def test_message_is_dead_lettered_after_max_delivery_count(device, feeder, target):
    feed(feeder, device)
    for delivery in range(1, target.max_delivery_count + 1):
        token = received_lock(device.receive(), f"delivery {delivery} of {target.max_delivery_count}",
                              "MSG-DELIVERY-001")
        abandoned = device.abandon(token)
        expect("MSG-DELIVERY-001", abandoned.status_code == 204,
               f"abandon of delivery {delivery}: {answered(abandoned)}, expected 204")
    last = device.receive()
    expect("MSG-DELIVERY-001", last.status_code == 204,
           f"after {target.max_delivery_count} deliveries the message came back ({last.status_code}) instead of "
           "being dead-lettered")


@pytest.mark.requirement("MSG-DELIVERY-002")
def test_lock_expiry_counts_toward_delivery_count_as_profile_says(device, feeder, target, clock, profile_rule):
    counts = profile_rule("lock_expiry_counts_delivery")
    feed(feeder, device)
    for delivery in range(1, target.max_delivery_count + 1):
        received_lock(device.receive(), f"delivery {delivery} of {target.max_delivery_count}", "MSG-DELIVERY-002")
        clock.advance(LOCK_SECONDS + 1)
    last = device.receive()
    if counts:
        expect("MSG-DELIVERY-002", last.status_code == 204,
               f"after {target.max_delivery_count} expired locks the message came back: "
               "expiries should count toward the max delivery count")
    else:
        expect("MSG-DELIVERY-002", last.status_code == 200,
               f"after {target.max_delivery_count} expired locks the message is gone "
               f"({last.status_code}): only an abandon should count as a delivery")


@pytest.mark.requirement("MSG-QUEUE-001")
def test_device_queue_holds_at_most_50_messages(device, feeder, profile):
    for n in range(1, 51):
        fed = feeder.send(device.device_id, f"message {n}".encode(), {"Content-Type": "text/plain"})
        expect("MSG-QUEUE-001", fed.accepted, f"message {n} of 50 was refused: {fed.status} {fed.code} {fed.detail}")
    fed = feeder.send(device.device_id, b"message 51", {"Content-Type": "text/plain"})
    expect("MSG-QUEUE-001", not fed.accepted, "the 51st message in a device queue was accepted")
    if feeder.reports_status:
        expect("MSG-QUEUE-001", fed.status == 403, f"the 51st message → {fed.status}, expected 403")
        if profile.value("error_envelope"):
            expect("MSG-QUEUE-001", fed.code == "DeviceMaximumQueueDepthExceeded", f"the 51st message names {fed.code!r}")


@pytest.mark.requirement("MSG-C2D-001")
def test_c2d_message_over_profile_limit_is_refused_with_413(device, feeder, profile):
    limit = profile.value("c2d_max_bytes")
    under = feeder.send(device.device_id, b"a" * int(limit * 0.9), {"Content-Type": "application/octet-stream"})
    expect("MSG-C2D-001", under.accepted,
           f"a C2D message of {int(limit * 0.9)} bytes was refused: {under.status} {under.code}")
    over = feeder.send(device.device_id, b"a" * (limit + 1), {"Content-Type": "application/octet-stream"})
    expect("MSG-C2D-001", not over.accepted, f"a C2D message of {limit + 1} bytes (limit {limit}) was accepted")
    if feeder.reports_status:
        expect("MSG-C2D-001", over.status == 413, f"a C2D message of {limit + 1} bytes → {over.status}, expected 413")


# -- device authentication ---------------------------------------------------------------------------------------


@pytest.mark.requirement("MSG-AUTH-001")
def test_device_token_is_accepted_for_its_own_device(device):
    sent = device.send(b"x")
    expect("MSG-AUTH-001", sent.status_code == 204, f"send with the device's own token → {sent.status_code}, expected 204")
    taken = device.receive()
    expect("MSG-AUTH-001", taken.status_code == 204,
           f"receive with the device's own token → {taken.status_code}, expected 204")


@pytest.mark.requirement("MSG-AUTH-001")
def test_policy_with_device_connect_is_accepted(device, target):
    response = device.send(b"x", headers={"Authorization": policy_token(target, "device")})
    expect("MSG-AUTH-001", response.status_code == 204, f"send with a DeviceConnect policy token → {response.status_code}")


@pytest.mark.requirement("MSG-AUTH-002")
def test_device_token_on_another_device_returns_401(devices, feeder):
    mine, other = devices("mine"), devices("other")
    feed(feeder, other)
    served(other.send(b"x"), "a send with the device's own token", statuses=(204,))
    wrong = {"Authorization": mine.token()}
    sent = other.send(b"x", headers=wrong)
    expect("MSG-AUTH-002", sent.status_code == 401,
           f"send to another device with my token → {sent.status_code}, expected 401")
    taken = other.receive(headers=wrong)
    expect("MSG-AUTH-002", taken.status_code == 401, f"receive from another device with my token → {taken.status_code}")
    # its message was neither taken nor locked
    received_lock(other.receive(), "the other device's own receive", "MSG-AUTH-002")


@pytest.mark.requirement("MSG-AUTH-003")
@pytest.mark.parametrize("policy", ["registryRead", "service"])
def test_policy_without_device_connect_returns_401(device, target, policy):
    token = policy_token(target, policy)
    served(device.send(b"x"), "a send with the device's own token", statuses=(204,))
    response = device.send(b"x", headers={"Authorization": token})
    expect("MSG-AUTH-003", response.status_code == 401,
           f"send with a {policy} policy token → {response.status_code}, expected 401")


@pytest.mark.requirement("MSG-AUTH-004")
def test_disabled_device_cannot_send_or_receive(devices):
    served(devices("enabled").send(b"x"), "a send from an enabled device", statuses=(204,))
    disabled = devices("disabled", status="disabled")
    sent = disabled.send(b"x")
    expect("MSG-AUTH-004", 400 <= sent.status_code < 500,
           f"send from a disabled device → {sent.status_code}, expected a refusal")
    taken = disabled.receive()
    expect("MSG-AUTH-004", 400 <= taken.status_code < 500,
           f"receive by a disabled device → {taken.status_code}, expected a refusal")

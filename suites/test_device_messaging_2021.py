"""Device-side messaging over HTTPS at api-version 2021-04-12: device-to-cloud send (one message or a batch) and
cloud-to-device receive, complete, reject and abandon (docs/sources/rest-reference-device-group__learn-summary.md;
docs/sources/INVENTORY-2021-04-12.md §3.1–§3.3, §9, §10). Cloud-to-device messages are fed through the `feeder` fixture
(the service sends them over AMQP); lock timeouts use the `clock` fixture, so no test waits one out.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import base64
import json
import uuid
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks import envelope as errors
from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import PreconditionFailed, RequirementFailure, answered, expect, served
from iothub_conformance.surfaces import feeders, openapi
from iothub_conformance.surfaces.devices import Registry
from iothub_conformance.surfaces.messaging import DEVICE_BOUND_2021, DeviceClient, lock_of
from iothub_conformance.targets import session

pytestmark = pytest.mark.api_version("2021-04-12")

LOCK_SECONDS = 60  # the c2d page: the lock timeout is one minute
D2C_LIMIT = 256 * 1024  # the quotas page: device-to-cloud messages up to 256 KB
BATCH = "application/vnd.microsoft.iothub.json"


@pytest.fixture
def devices_2021(registry, target, client, api_version):
    """Devices of the run with their messaging clients at this api-version, on the REST reference's deviceBound."""

    def create(label: str = "msg21", **fields) -> DeviceClient:
        device_id, created = registry.create(label, **fields)
        return DeviceClient.of_created(client, target, device_id, created, api_version, DEVICE_BOUND_2021)

    return create


@pytest.fixture
def device(devices_2021):
    return devices_2021()


def feed(feeder, device, body=b"hello device", **properties):
    fed = feeder.send(device.device_id, body, {"Content-Type": "text/plain", **properties})
    if not fed.accepted:
        raise PreconditionFailed(f"the {feeder.name} feeder could not enqueue a message for {device.device_id}: "
                                 f"{fed.status} {fed.code or ''} {fed.detail}".rstrip())
    return fed


def received_lock(response, what="receive", requirement: str | None = None) -> str:
    token = lock_of(response.headers.get("ETag")) if response.status_code == 200 else None
    if token:
        return token
    said = f"{what}: {answered(response)}, expected 200 with the message and its lock in ETag"
    if requirement is None:
        raise PreconditionFailed(said)
    raise RequirementFailure(requirement, said)


def expect_lock_lost(response, profile, requirement, what):
    statuses, code = profile.value("c2d_lock_lost")
    if statuses is None:
        expect(requirement, 400 <= response.status_code < 500, f"{what} → {response.status_code}, expected a 4xx")
    else:
        expect(requirement, response.status_code in statuses,
               f"{what} → {response.status_code}, expected {' or '.join(map(str, sorted(statuses)))}")
    if code:
        expect(requirement, errors.error_code(response) == code,
               f"{what} → {response.status_code} names {errors.error_code(response)!r}, expected {code!r}")


def batch(*bodies: bytes, **properties: str) -> bytes:
    return json.dumps([{"body": base64.b64encode(body).decode(), "properties": dict(properties)}
                       for body in bodies]).encode()


# -- device-to-cloud ---------------------------------------------------------------------------------------------


@pytest.mark.requirement("D2C-SEND-001")
@pytest.mark.parametrize("body", [b"", b"hello hub", bytes(range(256))])
def test_send_answers_204_without_a_body(device, body):
    response = device.send(body, headers={"Content-Type": "application/octet-stream"})
    expect("D2C-SEND-001", response.status_code == 204, f"send of {len(body)} bytes: {answered(response)}")
    expect("D2C-SEND-001", response.content == b"", "a 204 carries no body")


@pytest.mark.requirement("D2C-PROPS-001")
@pytest.mark.parametrize("headers", [
    {"iothub-app-temperature": "21.5", "iothub-app-unit": "celsius"},
    # NODEDEV sendEvent (INVENTORY-2021-04-12.md §3.1)
    {"IoTHub-MessageId": "conformance-node-1", "IoTHub-CorrelationId": "c-1", "iothub-contenttype": "application/json",
     "iothub-contentencoding": "utf-8", "iothub-interface-id": "urn:conformance:1", "dt-subject": "thermostat",
     "iothub-to": "/devices/x/messages/events"},
    # NETDEV s_mapMessagePropertiesToHttpHeaders
    {"iothub-messageid": "conformance-net-1", "iothub-operation": "d2c", "iothub-messageschema": "schema-1",
     "iothub-creationtimeutc": "2021-04-12T00:00:00.000Z", "iothub-app-k": "v"},
], ids=["app", "node", "net"])
def test_send_takes_the_property_headers_sdks_send(device, headers):
    response = device.send(b'{"t": 21.5}', headers=headers)
    expect("D2C-PROPS-001", response.status_code == 204, f"send with {sorted(headers)}: {answered(response)}")


@pytest.mark.requirement("D2C-PROPS-002")
@pytest.mark.parametrize("name, value", [("iothub-app-note", "two words"), ("iothub-app-mail", "a@b"),
                                         ("iothub-app-path", "a/b")])
def test_send_with_an_invalid_application_property_is_400(device, name, value):
    served(device.send(b"x"), "the same send without that property", statuses=(204,))
    response = device.send(b"x", headers={name: value})
    expect("D2C-PROPS-002", response.status_code == 400, f"send with {name}: {value!r}: {answered(response)}")


@pytest.mark.requirement("D2C-BATCH-001")
def test_a_batch_send_answers_204(device):
    body = batch(b"one", b'{"t": 2}', bytes(range(16)), **{"iothub-app-k": "v"})
    response = device.send(body, headers={"Content-Type": BATCH})
    expect("D2C-BATCH-001", response.status_code == 204, f"batch of 3: {answered(response)}")


@pytest.mark.requirement("D2C-BATCH-002")
@pytest.mark.parametrize("body", [b"not json", b'{"body": "aGk="}', b'[{"body": "***"}]', b"[]"],
                         ids=["text", "object", "not-base64", "empty"])
def test_a_batch_that_is_not_an_array_of_messages_is_400(device, body):
    served(device.send(batch(b"ok"), headers={"Content-Type": BATCH}), "a well-formed batch", statuses=(204,))
    response = device.send(body, headers={"Content-Type": BATCH})
    expect("D2C-BATCH-002", response.status_code == 400, f"batch {body[:30]!r}: {answered(response)}")


@pytest.mark.requirement("D2C-LIMIT-001")
def test_a_message_of_256_kb_is_413(device):
    under = device.send(b"a" * 250_000, headers={"Content-Type": "application/octet-stream"})
    expect("D2C-LIMIT-001", under.status_code == 204, f"send of 250,000 bytes: {answered(under)}")
    over = device.send(b"a" * D2C_LIMIT, headers={"Content-Type": "application/octet-stream"})
    expect("D2C-LIMIT-001", over.status_code == 413, f"send of {D2C_LIMIT} bytes: {answered(over)}, expected 413")
    expect("D2C-LIMIT-001", errors.error_code(over) == "MessageTooLarge",
           f"the 413 names {errors.error_code(over)!r}, expected MessageTooLarge")


# -- cloud-to-device ---------------------------------------------------------------------------------------------


@pytest.mark.requirement("C2D-RECV-001")
def test_receive_on_an_empty_queue_is_204(device):
    response = device.receive()
    expect("C2D-RECV-001", response.status_code == 204, f"receive on an empty queue: {answered(response)}")
    expect("C2D-RECV-001", response.content == b"", "a 204 carries no body")


@pytest.mark.requirement("C2D-RECV-002")
def test_receive_gives_the_body_and_a_quoted_lock(device, feeder):
    feed(feeder, device, b"conformance: the body")
    response = device.receive()
    received_lock(response, requirement="C2D-RECV-002")
    etag = response.headers.get("ETag", "")
    expect("C2D-RECV-002", len(etag) > 2 and etag[0] == etag[-1] == '"', f"ETag {etag!r} is not in double quotes")
    expect("C2D-RECV-002", response.content == b"conformance: the body", f"the body is {response.content[:60]!r}")


@pytest.mark.requirement("C2D-RECV-003")
def test_received_message_carries_the_headers_sdks_read(device, feeder, profile_rule):
    names = profile_rule("c2d_receive_headers")
    feed(feeder, device, **{"IoTHub-MessageId": "conformance-21-1", "IoTHub-app-color": "blue"})
    response = device.receive()
    received_lock(response)
    sent = {name.decode("latin-1") for name, _ in response.headers.raw}
    missing = [name for name in names if name not in sent]
    expect("C2D-RECV-003", not missing, f"the received message lacks {missing} (it carries {sorted(sent)})")
    expect("C2D-RECV-003", response.headers.get("iothub-messageid") == "conformance-21-1",
           f"iothub-messageid is {response.headers.get('iothub-messageid')!r}")
    expect("C2D-RECV-003", "iothub-app-color" in sent and response.headers.get("iothub-app-color") == "blue",
           "the application property color does not come as iothub-app-color: blue")


@pytest.mark.requirement("C2D-LOCKHINT-001")
def test_receive_with_the_lock_timeout_hint_is_served(device, feeder, profile_rule):
    places = profile_rule("c2d_lock_timeout_hint")
    hints = {"header": {"headers": {"IotHub-MessageLockTimeout": "60"}},
             "query": {"params": {"iothub-messagelocktimeout": "60"}}}
    for place in places:
        feed(feeder, device)
        response = device.receive(**hints[place])
        token = received_lock(response, f"receive with the hint as a {place}", "C2D-LOCKHINT-001")
        served(device.complete(token), f"complete after the receive with the hint as a {place}", statuses=(204,))


@pytest.mark.requirement("C2D-PATH-001")
def test_each_path_spelling_is_served(device, feeder, profile_rule):
    for spelling in profile_rule("c2d_path_casings"):
        device.bound = spelling
        for action in ("complete", "reject", "abandon"):
            feed(feeder, device)
            response = device.receive()
            token = received_lock(response, f"receive on …/{spelling}", "C2D-PATH-001")
            settled = getattr(device, action)(token)
            expect("C2D-PATH-001", settled.status_code == 204, f"{action} on …/{spelling}: {answered(settled)}")
        served(device.complete(received_lock(device.receive(), "the abandoned message")), "its complete",
               statuses=(204,))


@pytest.mark.requirement("C2D-COMPLETE-001")
def test_complete_answers_204_and_deletes_the_message(device, feeder, clock):
    feed(feeder, device)
    response = device.complete(received_lock(device.receive()))
    expect("C2D-COMPLETE-001", response.status_code == 204, f"complete: {answered(response)}")
    clock.advance(LOCK_SECONDS + 1)
    after = device.receive()
    expect("C2D-COMPLETE-001", after.status_code == 204, f"receive after complete: {answered(after)}")


@pytest.mark.requirement("C2D-REJECT-001")
def test_reject_dead_letters_the_message_in_each_encoding(device, feeder, clock, profile_rule):
    for encoding in profile_rule("reject_encodings"):
        feed(feeder, device, **{"IoTHub-MessageId": f"conformance-reject-{encoding}"})
        response = device.reject(received_lock(device.receive()), encoding)
        expect("C2D-REJECT-001", response.status_code == 204, f"reject ({encoding}): {answered(response)}")
        clock.advance(LOCK_SECONDS + 1)
        after = device.receive()
        expect("C2D-REJECT-001", after.status_code == 204,
               f"after a reject ({encoding}) and the lock's timeout the message came back: {answered(after)}")


@pytest.mark.requirement("C2D-ABANDON-001")
def test_abandon_puts_the_message_back(device, feeder):
    feed(feeder, device, b"come back")
    response = device.abandon(received_lock(device.receive()))
    expect("C2D-ABANDON-001", response.status_code == 204, f"abandon: {answered(response)}")
    again = device.receive()
    received_lock(again, "receive after abandon", "C2D-ABANDON-001")
    expect("C2D-ABANDON-001", again.content == b"come back", f"a different message came back: {again.content[:40]!r}")


@pytest.mark.requirement("C2D-IFMATCH-001")
def test_settle_with_if_match_is_served(device, feeder, profile_rule):
    forms = profile_rule("settle_if_match")
    for form in forms:
        for action in ("abandon", "complete"):
            feed(feeder, device)
            token = received_lock(device.receive())
            value = f'"{token}"' if form == "quoted" else token
            response = getattr(device, action)(token, headers={"If-Match": value})
            expect("C2D-IFMATCH-001", response.status_code == 204, f"{action} with If-Match {form}: {answered(response)}")
            if action == "abandon":
                served(device.complete(received_lock(device.receive())), "complete of the abandoned message",
                       statuses=(204,))
    feed(feeder, device)
    token = received_lock(device.receive())
    response = device.reject(token, headers={"If-Match": f'"{token}"'})
    expect("C2D-IFMATCH-001", response.status_code == 204, f"reject with If-Match: {answered(response)}")


@pytest.mark.requirement("C2D-LOCK-001")
@pytest.mark.parametrize("operation", ["complete", "reject", "abandon"])
def test_an_unknown_or_expired_lock_is_refused(device, feeder, profile, clock, operation):
    feed(feeder, device)
    token = received_lock(device.receive())
    expect_lock_lost(getattr(device, operation)(str(uuid.uuid4())), profile, "C2D-LOCK-001",
                     f"{operation} with a lock never issued")
    clock.advance(LOCK_SECONDS + 1)
    expect_lock_lost(getattr(device, operation)(token), profile, "C2D-LOCK-001", f"{operation} with an expired lock")
    again = device.receive()
    kept = device.complete(received_lock(again, "the message after the refused settles", "C2D-LOCK-001"))
    expect("C2D-LOCK-001", kept.status_code == 204, f"the message no longer completes: {answered(kept)}")


@pytest.mark.requirement("C2D-LOCK-002")
def test_a_locked_message_is_invisible_until_its_lock_expires(device, feeder, clock):
    feed(feeder, device, b"locked")
    received_lock(device.receive())
    hidden = device.receive()
    expect("C2D-LOCK-002", hidden.status_code == 204, f"a second receive while locked: {answered(hidden)}")
    clock.advance(LOCK_SECONDS + 1)
    again = device.receive()
    received_lock(again, "receive after the lock expired", "C2D-LOCK-002")
    expect("C2D-LOCK-002", again.content == b"locked", f"a different message came back: {again.content[:40]!r}")


@pytest.mark.requirement("C2D-DELIVERY-001")
def test_max_delivery_count_abandons_dead_letter(device, feeder, target):
    feed(feeder, device)
    for delivery in range(1, target.max_delivery_count + 1):
        token = received_lock(device.receive(), f"delivery {delivery} of {target.max_delivery_count}",
                              "C2D-DELIVERY-001")
        abandoned = device.abandon(token)
        expect("C2D-DELIVERY-001", abandoned.status_code == 204, f"abandon {delivery}: {answered(abandoned)}")
    last = device.receive()
    expect("C2D-DELIVERY-001", last.status_code == 204,
           f"after {target.max_delivery_count} abandons the message came back: {answered(last)}")


# -- generated requests (schemathesis) over specs/2021-04-12/device-messaging.yaml ---------------------------------

schema = openapi.load("device-messaging", "2021-04-12")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


def as_device(case, device: DeviceClient) -> None:
    """Every generated request is the run's own device's, signed with its own key (a device-scoped token); a lock
    taken from a receive's ETag loses its quotes, as clients do."""
    case.path_parameters = {**(case.path_parameters or {}), "id": quote(device.device_id, safe="")}
    case.headers = {**(case.headers or {}), "Authorization": device.token()}
    raw = case.path_parameters.get("etag") or ""
    try:
        etag = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        etag = raw
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':
        case.path_parameters["etag"] = quote(lock_of(etag) or "", safe="")


@pytest.fixture(scope="module")
def generated_device(target):
    """One device of the run for the generated requests, with a few messages in its queue when a feeder exists."""
    registry = Registry(session.client(), "2021-04-12", target.name_prefix)
    device_id, created = registry.make("prop-msg21")
    device = DeviceClient.of_created(session.client(), target, device_id, created, "2021-04-12", DEVICE_BOUND_2021)
    feeders.feed_generated(target, device_id)
    yield device
    registry.cleanup()


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_device_messaging_requests_conform_to_the_spec_and_checks(case, generated_device, client):
    as_device(case, generated_device)
    response = cases.send(client, case)
    conforms(case, response, "COMMON-SPEC-001")

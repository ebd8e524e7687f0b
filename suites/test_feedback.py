"""Cloud-to-device feedback at api-version 2021-04-12: receive a feedback batch, complete, abandon
(docs/sources/service-2021-04-12.json, CloudToDeviceMessages_*FeedbackNotification;
docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md, Message feedback; docs/sources/INVENTORY-2021-04-12.md
§2.11, §10 C36). Each test links the device side to the service side: enqueue with an ack mode → the device receives →
completes, rejects or lets the message expire → the service receives the record → completes its batch.

Safety: the feedback queue is the hub's, not the run's. A batch is completed only when every record in it is about the
run's devices and messages this test sent; any other batch is held (locked) while the test looks and then abandoned.
Holding another application's batch delays it and its abandon counts a delivery on it, so on a target other than the
embedded reference these tests run only when the user opts in by naming their requirements in --only-requirements
(e.g. --only-requirements FEEDBACK-RECV-001,FEEDBACK-ACK-001); otherwise they skip and say so.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import json
import uuid

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases, sas
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.messaging import DEVICE_BOUND_2021, DeviceClient, FeedbackClient, lock_of

pytestmark = pytest.mark.api_version("2021-04-12")

CONTENT_TYPE = "application/vnd.microsoft.iothub.feedback.json"
BATCH_SECONDS = 15  # the c2d page (2026 notes): a batch is sent 64 records or 15 seconds from the last, first of both
LOCK_SECONDS = 60
TTL_SECONDS = 3600  # the c2d page: the default time to live of a cloud-to-device message is one hour
RECEIVES = 40  # feedback receives one look may make


def opted_in(request) -> bool:
    """Every requirement the test claims is named in the run's --only-requirements."""
    named = request.config.getoption("iothub_only_requirements", None) or ""
    ids = {i.strip() for i in named.split(",") if i.strip()}
    claimed = {rid for marker in request.node.iter_markers("requirement") for rid in marker.args}
    return bool(claimed) and claimed <= ids


@pytest.fixture
def feedback(client, target, request):
    if not target.embedded and not opted_in(request):
        claimed = ",".join(sorted({rid for m in request.node.iter_markers("requirement") for rid in m.args}))
        pytest.skip("the feedback queue is the whole hub's: receiving locks other applications' records and an abandon "
                    "counts a delivery on them, so on this target it runs only when opted in: "
                    f"--only-requirements {claimed}")
    return FeedbackClient(client)


@pytest.fixture
def device(registry, target, client, api_version):
    device_id, created = registry.create("fb")
    return DeviceClient.of_created(client, target, device_id, created, api_version, DEVICE_BOUND_2021)


def field(record: dict, name: str, profile):
    """A record field under the profile's naming (feedback_record_fields)."""
    if profile.value("feedback_record_fields") == "PascalCase":
        name = name[0].upper() + name[1:]
    return record.get(name)


class Look:
    """What one look at the feedback queue saw: every batch received, with the records this test waits for."""

    def __init__(self, feedback, profile, wanted: set[str]):
        self.feedback, self.profile, self.wanted = feedback, profile, wanted
        self.batches: list[tuple[object, list]] = []  # (response, records) of each batch received, in order
        self.held: list[str] = []

    def mine(self, records: list) -> list:
        return [r for r in records if isinstance(r, dict) and field(r, "originalMessageId", self.profile) in self.wanted]

    def take(self, complete_mine: bool = True) -> list:
        """Receive until 204 (bounded); complete each batch that holds only wanted records, hold the others, abandon
        the held ones at the end. The wanted records seen, in order."""
        found = []
        for _ in range(RECEIVES):
            response = self.feedback.receive()
            if response.status_code != 200:
                break
            lock = lock_of(response.headers.get(self.profile.value("feedback_lock_header") or "ETag"))
            try:
                records = json.loads(response.content)
            except ValueError:
                records = []
            records = records if isinstance(records, list) else []
            self.batches.append((response, records))
            ours = self.mine(records)
            found += ours
            if lock and ours and len(ours) == len(records) and complete_mine:
                self.feedback.complete(lock)
            elif lock:
                self.held.append(lock)
        for lock in self.held:
            self.feedback.abandon(lock)
        self.held = []
        return found


def send_and_settle(feeder, device, ack: str, action: str, clock=None) -> str:
    """Enqueue a message asking for `ack`, then have the device settle it; its message id."""
    message_id = f"conformance-fb-{uuid.uuid4().hex[:12]}"
    fed = feeder.send(device.device_id, b"feedback please", {"IoTHub-MessageId": message_id, "IoTHub-Ack": ack})
    if not fed.accepted:
        raise PreconditionFailed(f"could not enqueue for {device.device_id}: {fed.status} {fed.code} {fed.detail}")
    if action == "expire":
        clock.advance(TTL_SECONDS + 1)
        return message_id
    response = device.receive()
    lock = lock_of(response.headers.get("ETag")) if response.status_code == 200 else None
    if not lock:
        raise PreconditionFailed(f"the device did not receive the message: {answered(response)}")
    settled = {"complete": device.complete, "reject": device.reject, "abandon": device.abandon}[action](lock)
    if settled.status_code != 204:
        raise PreconditionFailed(f"the device's {action}: {answered(settled)}")
    return message_id


def records_of(feedback, profile, clock, *message_ids: str, complete: bool = True) -> list:
    clock.advance(BATCH_SECONDS + 1)
    return Look(feedback, profile, set(message_ids)).take(complete)


@pytest.mark.requirement("FEEDBACK-RECV-001")
def test_receive_with_nothing_to_deliver_is_204(feedback, profile):
    look = Look(feedback, profile, set())
    look.take()  # holds what is there (none of it this test's) and gives it back
    held = []
    for _ in range(RECEIVES):
        response = feedback.receive()
        if response.status_code != 200:
            break
        held.append(lock_of(response.headers.get("ETag")) or "")
    for lock in held:
        feedback.abandon(lock)
    expect("FEEDBACK-RECV-001", response.status_code == 204, f"receive with nothing to deliver: {answered(response)}")
    expect("FEEDBACK-RECV-001", response.content == b"", "a 204 carries no body")


@pytest.mark.requirement("FEEDBACK-RECV-002")
def test_a_batch_is_a_json_array_of_the_feedback_content_type(feedback, feeder, device, profile, clock):
    message_id = send_and_settle(feeder, device, "full", "complete")
    clock.advance(BATCH_SECONDS + 1)
    look = Look(feedback, profile, {message_id})
    look.take()
    ours = [(response, records) for response, records in look.batches if look.mine(records)]
    expect("FEEDBACK-RECV-002", bool(ours), f"no batch holds the record of {message_id} ({len(look.batches)} received)")
    for response, _records in ours:
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        expect("FEEDBACK-RECV-002", content_type == CONTENT_TYPE, f"the batch comes as {content_type!r}")
        expect("FEEDBACK-RECV-002", isinstance(json.loads(response.content), list), "the body is not a JSON array")


@pytest.mark.requirement("FEEDBACK-RECORD-001")
def test_a_record_names_the_message_and_the_device(feedback, feeder, device, registry, profile, clock, profile_rule):
    profile_rule("feedback_record_fields")
    generation = registry.read(device.device_id, "for its generationId").json().get("generationId")
    message_id = send_and_settle(feeder, device, "positive", "complete")
    records = records_of(feedback, profile, clock, message_id)
    expect("FEEDBACK-RECORD-001", len(records) == 1, f"{len(records)} records name {message_id}, expected 1")
    record = records[0]
    for name in ("originalMessageId", "enqueuedTimeUtc", "statusCode", "description", "deviceId",
                 "deviceGenerationId"):
        expect("FEEDBACK-RECORD-001", field(record, name, profile) is not None, f"the record has no {name}: {record}")
    expect("FEEDBACK-RECORD-001", field(record, "deviceId", profile) == device.device_id, f"deviceId: {record}")
    expect("FEEDBACK-RECORD-001", field(record, "deviceGenerationId", profile) == generation,
           f"deviceGenerationId is not the device's {generation!r}: {record}")


@pytest.mark.requirement("FEEDBACK-ACK-001")
def test_feedback_follows_each_ack_mode(feedback, feeder, device, profile, clock):
    cases = [("none", "complete", False), ("none", "reject", False), ("positive", "complete", True),
             ("positive", "reject", False), ("negative", "complete", False), ("negative", "reject", True),
             ("full", "complete", True), ("full", "reject", True)]
    sent = {send_and_settle(feeder, device, ack, action): (ack, action, wanted) for ack, action, wanted in cases}
    seen = {field(r, "originalMessageId", profile) for r in records_of(feedback, profile, clock, *sent)}
    for message_id, (ack, action, wanted) in sent.items():
        expect("FEEDBACK-ACK-001", (message_id in seen) == wanted,
               f"ack {ack}, {action}: {'no' if wanted else 'a'} feedback record"
               f"{', expected one' if wanted else ', expected none'}")


@pytest.mark.requirement("FEEDBACK-STATUS-001")
def test_each_outcome_has_its_status_code(feedback, feeder, devices_for_status, profile, clock, target):
    completed = send_and_settle(feeder, devices_for_status(), "full", "complete")
    rejected = send_and_settle(feeder, devices_for_status(), "full", "reject")
    exceeded_device = devices_for_status()
    exceeded = send_and_settle(feeder, exceeded_device, "full", "abandon")
    for _ in range(target.max_delivery_count - 1):
        response = exceeded_device.receive()
        lock = lock_of(response.headers.get("ETag")) if response.status_code == 200 else None
        if not lock:
            raise PreconditionFailed(f"redelivery of the abandoned message: {answered(response)}")
        exceeded_device.abandon(lock)
    expired = send_and_settle(feeder, devices_for_status(), "full", "expire", clock)
    wanted = {completed: "Success", rejected: "Rejected", exceeded: "DeliveryCountExceeded", expired: "Expired"}
    records = records_of(feedback, profile, clock, *wanted)
    got = {field(r, "originalMessageId", profile): field(r, "statusCode", profile) for r in records}
    for message_id, status in wanted.items():
        expect("FEEDBACK-STATUS-001", got.get(message_id) == status,
               f"the record of a message expected {status} says {got.get(message_id)!r}")


@pytest.fixture
def devices_for_status(registry, target, client, api_version):
    def create() -> DeviceClient:
        device_id, created = registry.create("fbs")
        return DeviceClient.of_created(client, target, device_id, created, api_version, DEVICE_BOUND_2021)

    return create


@pytest.mark.requirement("FEEDBACK-BATCH-001")
def test_records_made_together_come_in_one_batch(feedback, feeder, device, profile, clock):
    sent = {send_and_settle(feeder, device, "full", "complete") for _ in range(3)}
    clock.advance(BATCH_SECONDS + 1)
    look = Look(feedback, profile, sent)
    look.take()
    batches = [records for _, records in look.batches if look.mine(records)]
    expect("FEEDBACK-BATCH-001", len(batches) == 1 and len(look.mine(batches[0])) == 3,
           f"3 records made together came in {len(batches)} batches")
    expect("FEEDBACK-BATCH-001", all(len(records) <= 64 for _, records in look.batches), "a batch holds over 64")


@pytest.mark.requirement("FEEDBACK-COMPLETE-001")
def test_a_completed_batch_is_not_received_again(feedback, feeder, device, profile, clock, profile_rule):
    profile_rule("feedback_lock_header")
    message_id = send_and_settle(feeder, device, "full", "complete")
    first = records_of(feedback, profile, clock, message_id)
    expect("FEEDBACK-COMPLETE-001", len(first) == 1, f"{len(first)} records of {message_id} before the complete")
    clock.advance(LOCK_SECONDS + 1)
    again = Look(feedback, profile, {message_id}).take()
    expect("FEEDBACK-COMPLETE-001", not again, "the completed batch was received again")


@pytest.mark.requirement("FEEDBACK-ABANDON-001")
def test_an_abandoned_batch_is_received_again(feedback, feeder, device, profile, clock, profile_rule):
    profile_rule("feedback_lock_header")
    message_id = send_and_settle(feeder, device, "full", "complete")
    first = records_of(feedback, profile, clock, message_id, complete=False)  # held, then abandoned
    expect("FEEDBACK-ABANDON-001", len(first) == 1, f"{len(first)} records of {message_id} before the abandon")
    again = Look(feedback, profile, {message_id}).take()
    expect("FEEDBACK-ABANDON-001", again == first, f"after the abandon the batch came back as {again}")


@pytest.mark.requirement("FEEDBACK-LOCK-001")
@pytest.mark.parametrize("operation", ["complete", "abandon"])
def test_an_unknown_lock_is_refused(feedback, feeder, device, profile, clock, operation):
    statuses, code = profile.value("c2d_lock_lost")
    response = getattr(feedback, operation)(str(uuid.uuid4()))
    ok = (400 <= response.status_code < 500) if statuses is None else response.status_code in statuses
    expect("FEEDBACK-LOCK-001", ok, f"{operation} with a lock never issued: {answered(response)}")
    if code:
        expect("FEEDBACK-LOCK-001", response.headers.get("iothub-errorcode") == code,
               f"{operation} with a lock never issued names {response.headers.get('iothub-errorcode')!r}")
    message_id = send_and_settle(feeder, device, "full", "complete")
    kept = records_of(feedback, profile, clock, message_id)
    expect("FEEDBACK-LOCK-001", len(kept) == 1, f"after the refusal {len(kept)} records of {message_id} completed")


@pytest.mark.requirement("FEEDBACK-AUTH-001")
def test_feedback_needs_service_connect(feedback, device, target):
    if target.controls is None:
        pytest.skip("needs the key of the registryRead policy: tested on the embedded reference only")
    connection = sas.parse_connection_string(target.controls.connection_string("registryRead"))
    tokens = {"registryRead": sas.build_token(connection.host_name, connection.key, connection.key_name),
              "device": device.token()}
    lock = str(uuid.uuid4())
    for who, token in tokens.items():
        for label, response in (("receive", feedback.receive(headers={"Authorization": token})),
                                ("complete", feedback.complete(lock, headers={"Authorization": token})),
                                ("abandon", feedback.abandon(lock, headers={"Authorization": token}))):
            expect("FEEDBACK-AUTH-001", response.status_code == 401, f"{label} with a {who} token: {answered(response)}")


@pytest.mark.requirement("FEEDBACK-DELETE-001")
def test_a_deleted_devices_pending_feedback_is_never_received(feedback, feeder, devices_for_status, registry, profile,
                                                              clock):
    kept_device, gone_device = devices_for_status(), devices_for_status()
    kept = send_and_settle(feeder, kept_device, "full", "complete")
    gone = send_and_settle(feeder, gone_device, "full", "complete")
    deleted = registry.delete(gone_device.device_id)
    if deleted.status_code not in (200, 204):
        raise PreconditionFailed(f"deleting {gone_device.device_id}: {answered(deleted)}")
    seen = {field(r, "originalMessageId", profile) for r in records_of(feedback, profile, clock, kept, gone)}
    if kept not in seen:
        raise PreconditionFailed(f"the record of {kept}, whose device was not deleted, did not come either")
    expect("FEEDBACK-DELETE-001", gone not in seen,
           f"the record of {gone} came after its device was deleted before the feedback was sent")


# -- generated requests (schemathesis) over the feedback operations of specs/2021-04-12/cloud-to-device.yaml ----------

schema = openapi.load("cloud-to-device", "2021-04-12").exclude(
    operation_id="CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue")  # purges: suites/test_properties_registry_2021
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_feedback_requests_conform_to_the_spec_and_checks(case, feedback, client):
    # `feedback` holds the opt-in: a generated receive locks whatever batch is next in the hub's queue, and the lock
    # runs out by itself (60 s); a generated complete or abandon names a made-up lock token.
    response = cases.send(client, case)
    conforms(case, response, "COMMON-SPEC-001")

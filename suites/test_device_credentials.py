"""Device and module credentials at api-version 2021-04-12, checked both ways on a device's own endpoints: send
(POST /devices/{id}/messages/events), cloud-to-device receive, complete, reject and abandon (…/messages/deviceBound…),
file upload (POST /devices/{id}/files, …/files/notifications). Sources:
docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md (a device key's token grants DeviceConnect for its own
identity only; a policy needs DeviceConnect), docs/sources/INVENTORY-2021-04-12.md §1.3, docs/sources/INVENTORY.md §5.

The device's own key and a DeviceConnect policy are served. Another device's token, a policy without DeviceConnect, an
expired or tampered token, and a module's token are refused with 401 and change nothing: no event is taken (read
through the `received_events` control), the message is still there, unlocked or still locked by the device itself,
no upload is opened (the device can still open one after as many refusals as its limit of ten) and none is completed
(the device's own completion is then taken, and no notification was made). A device's token is refused on the service
endpoints. Only the run's devices are used; cloud-to-device messages come through the `feeder` fixture.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from iothub_conformance.config import ConfigError
from iothub_conformance.http import sas
from iothub_conformance.rules.failures import (
    NotTestable,
    PreconditionFailed,
    RequirementFailure,
    answered,
    expect,
    json_of,
    served,
)
from iothub_conformance.surfaces.devices import Registry
from iothub_conformance.surfaces.file_upload import NO_STORAGE, FileUploads, no_storage
from iothub_conformance.surfaces.messaging import DEVICE_BOUND_2021, DeviceClient, lock_of
from iothub_conformance.surfaces.modules import Modules
from iothub_conformance.surfaces.twins import Query, id_list, twin_path

pytestmark = pytest.mark.api_version("2021-04-12")

V2021 = "2021-04-12"
EXPIRED = 1_000_000_000  # 2001: long past
UPLOAD_LIMIT = 10  # the file-upload page: ten concurrent file uploads per device
MESSAGING = ("send", "receive", "complete", "reject", "abandon")
OPERATIONS = (*MESSAGING, "file-sas", "file-notify")
MODULE_OPERATIONS = ("send", "receive")  # DEVAUTH-MODULE-001 names the device's send and receive
SERVICE_READS = ("identity", "twin", "query")
# Served is any 2xx here: which success status each call answers is the D2C-, C2D- and FILE- requirements' to judge.
SERVED = tuple(range(200, 300))


class Devices:
    """Two devices of the run: `device`, whose endpoints every test calls, and `other`, whose token must not reach
    them; with their file uploads and what the target lets the suite observe."""

    def __init__(self, registry: Registry, client: httpx.Client, target) -> None:
        self.registry = registry
        self.client = client
        self.target = target
        self.device = _device(registry, client, target, "cred")
        self.other = _device(registry, client, target, "credother")
        self.uploads = FileUploads(self.device, target)

    def control(self, name: str) -> Callable | None:
        return getattr(self.target.controls, name, None) if self.target.controls is not None else None


def _device(registry: Registry, client: httpx.Client, target, label: str) -> DeviceClient:
    device_id, created = registry.create(label)
    return DeviceClient.of_created(client, target, device_id, created, V2021, DEVICE_BOUND_2021)


@pytest.fixture
def devices(registry, client, target):
    made = Devices(registry, client, target)
    yield made
    made.uploads.close()


# -- the tokens ----------------------------------------------------------------------------------------------------


def policy_token(devices: Devices, policy: str) -> str:
    """A token of the hub's policy `policy` for the device's endpoints (sr <host>/devices/<id>, skn the policy)."""
    control = devices.control("connection_string")
    if control is None:
        pytest.skip(f"needs the key of the hub's {policy!r} policy: the target offers no control 'connection_string' "
                    "(the embedded reference offers it)")
    try:
        connection = sas.parse_connection_string(control(policy))
    except (ConfigError, LookupError, ValueError) as exc:
        pytest.skip(f"the target's controls give no connection string of the default policy {policy!r}: {exc}")
    return sas.build_token(f"{connection.host_name}/devices/{devices.device.device_id}", connection.key,
                           connection.key_name)


def tampered(token: str) -> str:
    """The same token with one character of its signature changed: still base64, no longer the key's HMAC."""
    sig = sas.parse_token(token).sig
    wrong = ("B" if sig[0] == "A" else "A") + sig[1:]
    changed = token.replace(f"sig={sas.quote_plus(sig)}", f"sig={sas.quote_plus(wrong)}")
    if changed == token:
        raise PreconditionFailed("could not change the signature of the device's token")
    return changed


def module_token(devices: Devices) -> str:
    """The token of a module of the device, signed with the module's own key."""
    device = devices.device
    module_id = "conformance-cred"
    body = json_of(Modules(devices.registry).make(device.device_id, module_id)) or {}
    key = ((body.get("authentication") or {}).get("symmetricKey") or {}).get("primaryKey")
    if not isinstance(key, str) or not key:
        raise PreconditionFailed(f"module {module_id} of {device.device_id} has no primary key to sign with")
    return Modules(devices.registry).token(device.host_name, device.device_id, module_id, key)


# -- the device's endpoints, signed with a given token --------------------------------------------------------------


def signed(token: str) -> dict:
    return {"Authorization": token}


def marker() -> bytes:
    return f"conformance-credentials-{uuid.uuid4().hex}".encode()


def feed(feeder, device: DeviceClient, body: bytes) -> None:
    fed = feeder.send(device.device_id, body, {"Content-Type": "text/plain"})
    if not fed.accepted:
        raise PreconditionFailed(f"the {feeder.name} feeder could not enqueue a message for {device.device_id}: "
                                 f"{fed.status} {fed.code or ''} {fed.detail}".rstrip())


def own_lock(device: DeviceClient, body: bytes) -> str:
    """The lock of the fed message, received with the device's own key: PreconditionFailed unless it came."""
    response = device.receive()
    token = lock_of(response.headers.get("ETag")) if response.status_code == 200 else None
    if not token or response.content != body:
        raise PreconditionFailed(f"the device's own receive of the fed message: {answered(response)}, expected 200 "
                                 "with the message and its lock in ETag")
    return token


def settle(device: DeviceClient, action: str, lock: str, token: str) -> httpx.Response:
    return getattr(device, action)(lock, headers=signed(token))


def events_of(devices: Devices, device_id: str) -> list[str | None]:
    read = devices.control("received_events")
    if read is None:
        pytest.skip("the target offers no control 'received_events': whether it took an event cannot be seen")
    return [event.get("text") for event in read(device_id)]


def notices_of(devices: Devices, blob_name: str) -> list[dict] | None:
    """The service-side notifications for `blob_name`; None when the target offers no control to read them."""
    read = devices.control("file_upload_notifications")
    if read is None:
        return None
    return [notice for notice in read(devices.device.device_id) if notice.get("blobName") == blob_name]


def sas_answer(response: httpx.Response) -> dict | None:
    answer = json_of(response)
    return answer if response.status_code == 200 and isinstance(answer, dict) else None


def own_upload(devices: Devices, blob_name: str) -> tuple[str, str]:
    """(correlationId, blobName) of an upload the device opened with its own key: PreconditionFailed otherwise."""
    answer = sas_answer(devices.uploads.request_sas(blob_name))
    correlation, name = (answer or {}).get("correlationId"), (answer or {}).get("blobName")
    if not isinstance(correlation, str) or not correlation or not isinstance(name, str):
        raise PreconditionFailed(f"the device could not open an upload of {blob_name!r} with its own key")
    return correlation, name


# -- the right token is served (DEVAUTH-DEVICE-001, DEVAUTH-POLICY-001) ---------------------------------------------


def served_to_sas(uploads, token: str) -> httpx.Response:
    """A SAS URI request signed with a token the hub should serve; NotTestable when the hub has no storage."""
    response = uploads.request_sas("credentials.txt", headers=signed(token))
    if no_storage(response):
        raise NotTestable(NO_STORAGE)
    return response


def served_to(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    """`operation` on the device's endpoints, every step signed with `token`, is served and does what it says."""
    device, uploads = devices.device, devices.uploads
    if operation == "send":
        body = marker()
        response = device.send(body, headers={**signed(token), "Content-Type": "text/plain"})
        expect(requirement, response.status_code in SERVED, f"send signed with {what}: {answered(response)}, "
                                                            "expected 2xx")
        expect(requirement, body.decode() in events_of(devices, device.device_id),
               f"the send signed with {what} was served but the hub took no such event")
    elif operation == "file-sas":
        response = served_to_sas(uploads, token)
        answer = sas_answer(response)
        expect(requirement, answer is not None and bool(answer.get("sasToken")) and bool(answer.get("correlationId")),
               f"POST /files signed with {what}: {answered(response)}, expected 200 with a SAS URI and its "
               "correlationId")
        uploads.notify(str((answer or {}).get("correlationId")), success=False, headers=signed(token))
    elif operation == "file-notify":
        response = served_to_sas(uploads, token)
        correlation = (sas_answer(response) or {}).get("correlationId")
        expect(requirement, isinstance(correlation, str) and bool(correlation),
               f"POST /files signed with {what}: {answered(response)}, expected 200 with a correlationId")
        done = uploads.notify(str(correlation), success=False, headers=signed(token))
        expect(requirement, done.status_code in SERVED,
               f"the completion signed with {what}: {answered(done)}, expected 2xx")
    else:
        received_with(requirement, devices, feeder, operation, token, what)


def received_with(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    device, body = devices.device, marker()
    feed(feeder, device, body)
    response = device.receive(headers=signed(token))
    lock = lock_of(response.headers.get("ETag")) if response.status_code == 200 else None
    expect(requirement, bool(lock) and response.content == body,
           f"receive signed with {what}: {answered(response)}, expected 200 with the fed message and its lock")
    if operation == "receive":
        settle(device, "complete", str(lock), token)
        return
    settled = settle(device, operation, str(lock), token)
    expect(requirement, settled.status_code in SERVED, f"{operation} signed with {what}: {answered(settled)}, "
                                                       "expected 2xx")
    # What the settle then does to the queue is the C2D- requirements' to judge, not the credentials' (the device and
    # what is left in its queue go at the end of the test).


@pytest.mark.requirement("DEVAUTH-DEVICE-001")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_devices_own_key_is_served(devices, feeder, operation):
    served_to("DEVAUTH-DEVICE-001", devices, feeder, operation, devices.device.token(), "the device's own key")


@pytest.mark.requirement("DEVAUTH-POLICY-001")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_device_connect_policy_is_served(devices, feeder, operation):
    served_to("DEVAUTH-POLICY-001", devices, feeder, operation, policy_token(devices, "device"),
              "the DeviceConnect policy 'device'")


# -- a wrong token is refused with 401 and changes nothing ---------------------------------------------------------


def refused_without_change(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    probe = {"send": _send_refused, "receive": _receive_refused, "file-sas": _sas_refused,
             "file-notify": _notify_refused}.get(operation, _settle_refused)
    probe(requirement, devices, feeder, operation, token, what)


def _expect_401(requirement: str, response: httpx.Response, what: str) -> None:
    expect(requirement, response.status_code == 401, f"{what}: {answered(response)}, expected 401")


def _send_refused(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    device, own, body = devices.device, marker(), marker()
    served(device.send(own, headers={"Content-Type": "text/plain"}), "the device's send with its own key",
           statuses=SERVED)
    _expect_401(requirement, device.send(body, headers={**signed(token), "Content-Type": "text/plain"}),
                f"send signed with {what}")
    if own.decode() not in events_of(devices, device.device_id):
        raise PreconditionFailed("the event the device sent with its own key is not among those the target says it "
                                 "took, so the absence of the refused one shows nothing")
    for whose in (device, devices.other):
        expect(requirement, body.decode() not in events_of(devices, whose.device_id),
               f"the send signed with {what} was refused, yet the hub took its event (as {whose.device_id}'s)")


def _receive_refused(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    device, body = devices.device, marker()
    feed(feeder, device, body)
    _expect_401(requirement, device.receive(headers=signed(token)), f"receive signed with {what}")
    after = device.receive()
    if after.status_code == 204:
        raise RequirementFailure(requirement, f"after the receive signed with {what} was refused, the device's own "
                                              "receive gets nothing: the refused receive locked or took the message")
    lock = lock_of(after.headers.get("ETag")) if after.status_code == 200 else None
    if not lock or after.content != body:
        raise PreconditionFailed(f"the device's own receive after the refusal: {answered(after)}, expected 200 with "
                                 "the fed message")
    device.complete(lock)


def _settle_refused(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    device, body = devices.device, marker()
    feed(feeder, device, body)
    lock = own_lock(device, body)
    _expect_401(requirement, settle(device, operation, lock, token), f"{operation} signed with {what}")
    done = device.complete(lock)
    if done.status_code in (401, 403):
        raise PreconditionFailed(f"the device's own complete of the message it holds: {answered(done)}")
    expect(requirement, done.status_code in SERVED,
           f"after the {operation} signed with {what} was refused, the device's own complete of the message it "
           f"locked: {answered(done)}, expected 2xx (the refused {operation} settled or released it)")


def _sas_refused(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    uploads = devices.uploads
    correlation, _ = own_upload(devices, "credentials-first.txt")  # the device's own request is served
    uploads.notify(correlation, success=False)
    for attempt in range(UPLOAD_LIMIT):
        response = uploads.request_sas(f"credentials-refused-{attempt}.txt", headers=signed(token))
        _expect_401(requirement, response, f"POST /files signed with {what}")
        answer = json_of(response)
        expect(requirement, not (isinstance(answer, dict) and (answer.get("sasToken") or answer.get("correlationId"))),
               f"the 401 to POST /files signed with {what} carries a SAS token or a correlationId")
    after = uploads.request_sas("credentials-after.txt")
    if after.status_code == 403:
        raise RequirementFailure(requirement, f"after {UPLOAD_LIMIT} refused POST /files signed with {what}, the "
                                              f"device's own is refused: {answered(after)} (the refusals opened "
                                              "uploads)")
    answer = sas_answer(after)
    if answer is None or not answer.get("correlationId"):
        raise PreconditionFailed(f"the device's own POST /files after the refusals: {answered(after)}")
    uploads.notify(str(answer["correlationId"]), success=False)


def _notify_refused(requirement: str, devices: Devices, feeder, operation: str, token: str, what: str) -> None:
    uploads = devices.uploads
    first, _ = own_upload(devices, "credentials-first.txt")
    served(uploads.notify(first, success=False), "the device's own completion of an upload", statuses=SERVED)
    correlation, blob_name = own_upload(devices, "credentials-notify.txt")
    _expect_401(requirement, uploads.notify(correlation, headers=signed(token)),
                f"the completion signed with {what}")
    expect(requirement, not notices_of(devices, blob_name), f"the completion signed with {what} was refused, yet the "
                                                             "hub made a file-upload notification for its blob")
    done = uploads.notify(correlation)
    # A correlationId completes one upload only (FILE-NOTIFY-002): the device's own completion is taken only if the
    # refused one did not complete it.
    expect(requirement, done.status_code in SERVED,
           f"after the completion signed with {what} was refused, the device's own: {answered(done)}, expected 2xx "
           "(the refused completion closed the upload)")


@pytest.mark.requirement("DEVAUTH-OTHER-001")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_another_devices_token_is_refused_and_changes_nothing(devices, feeder, operation):
    refused_without_change("DEVAUTH-OTHER-001", devices, feeder, operation, devices.other.token(),
                           f"the token of another device ({devices.other.device_id})")


@pytest.mark.requirement("DEVAUTH-POLICY-002")
@pytest.mark.parametrize("policy", ["service", "registryReadWrite"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_policy_without_device_connect_is_refused_and_changes_nothing(devices, feeder, operation, policy):
    refused_without_change("DEVAUTH-POLICY-002", devices, feeder, operation, policy_token(devices, policy),
                           f"the policy {policy!r}, which lacks DeviceConnect")


@pytest.mark.requirement("DEVAUTH-EXPIRED-001")
@pytest.mark.parametrize("kind", ["expired", "tampered"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_expired_or_tampered_device_token_is_refused_and_changes_nothing(devices, feeder, operation, kind):
    device = devices.device
    token = device.token(expiry=EXPIRED) if kind == "expired" else tampered(device.token())
    refused_without_change("DEVAUTH-EXPIRED-001", devices, feeder, operation, token,
                           f"the device's {kind} token")


@pytest.mark.requirement("DEVAUTH-MODULE-001")
@pytest.mark.parametrize("operation", MODULE_OPERATIONS)
def test_a_module_token_is_refused_on_its_devices_endpoints(devices, feeder, operation):
    refused_without_change("DEVAUTH-MODULE-001", devices, feeder, operation, module_token(devices),
                           "the token of a module of the device")


# -- a device's token on the service endpoints (DEVAUTH-SERVICE-001) ------------------------------------------------


def service_read(devices: Devices, read: str, headers: dict | None = None) -> httpx.Response:
    device_id, params = devices.device.device_id, {"api-version": V2021}
    if read == "identity":
        return devices.client.get(f"/devices/{device_id}", params=params, headers=headers or {})
    if read == "twin":
        return devices.client.get(twin_path(device_id), params=params, headers=headers or {})
    text = f"SELECT * FROM devices WHERE deviceId IN {id_list([device_id])}"
    Query(devices.registry).scoped(text)
    return devices.client.post("/devices/query", params=params, json={"query": text}, headers=headers or {})


@pytest.mark.requirement("DEVAUTH-SERVICE-001")
@pytest.mark.parametrize("read", SERVICE_READS)
def test_a_device_token_is_refused_on_service_endpoints(devices, read):
    device = devices.device
    served(service_read(devices, read), f"the {read} read signed with the run's own policy",
           list if read == "query" else dict)
    served(device.send(b"credentials", headers={"Content-Type": "text/plain"}),
           "the device's send with its own key, which shows the token is a valid one", statuses=SERVED)
    response = service_read(devices, read, signed(device.token()))
    expect("DEVAUTH-SERVICE-001", response.status_code == 401,
           f"the {read} read signed with the device's own key: {answered(response)}, expected 401")

"""Property tests: schemathesis generates requests from the specs; every response goes through the built-in checks and
the suite's own (iothub_conformance/checks). Stateful runs follow the specs' links: create → get → update → delete for
device identities, receive → complete / reject / abandon for cloud-to-device messages.

A test here claims only the requirements its checks judge on every response (the spec, x-ms-request-id). The checks
that judge some responses only (Content-Type on a JSON body, a received message's headers) still fail their
requirement when a response breaks it, but a run of generated requests that met no such response is no evidence it
holds: those requirements are claimed by their own tests, which see the behaviour or report an error.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import re
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.core.transport import Response

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.surfaces import feeders, openapi
from iothub_conformance.surfaces.devices import Registry
from iothub_conformance.surfaces.devices import path as device_path
from iothub_conformance.surfaces.messaging import DeviceClient, lock_of
from iothub_conformance.targets import session

schema = openapi.load("device-identities")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


NOT_IN_DEVICE_ID = re.compile(r"[^A-Za-z0-9\-:.+%_#*?!(),=@;$']")


def decoded(raw: str) -> str:
    """A path parameter as meant. schemathesis usually hands them percent-encoded, but a value whose own text holds
    `%` and hex digits may come as it is: where decoding would not give UTF-8, the value is taken literally."""
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return raw


def own(case, target, scope: str = "") -> str | None:
    """Generated deviceIds get the run prefix, so the suite only ever changes what it created (DESIGN: Safety).
    A PUT body names the same device as its path: the pages define no other case. Returns the deviceId."""
    raw = (case.path_parameters or {}).get("deviceId")
    if raw is None:
        return None
    # Only documented deviceId characters (create-a-new-device-identity.md): a generated value that strays is mended,
    # so the request stays one the target must accept.
    device_id = NOT_IN_DEVICE_ID.sub("-", decoded(raw))
    prefix = target.name_prefix + scope
    if not device_id.startswith(prefix):
        # A run device from outside this scope (say, picked from a device list by a link) is renamed into it too.
        device_id = prefix + device_id.removeprefix(target.name_prefix)[: 128 - len(prefix)]
    case.path_parameters["deviceId"] = quote(device_id, safe="")
    if case.method.upper() == "PUT" and isinstance(case.body, dict):
        case.body["deviceId"] = device_id
    return device_id


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_requests_conform_to_the_spec_and_checks(case, target, client):
    own(case, target)
    response = cases.send(client, case)
    conforms(case, response, "COMMON-SPEC-001")


class DeviceLifecycle(schema.as_state_machine()):
    """Each scenario works on its own device names only and removes its devices at the end. Hypothesis replays
    scenarios and requires the same steps to be possible each time, so no scenario may change what another sees."""

    scenarios = 0

    def setup(self):
        type(self).scenarios += 1
        self.scope = f"s{self.scenarios}-"
        self.created: set[str] = set()

    def teardown(self):
        target = session.current()
        for device_id in sorted(self.created):
            session.client().delete(device_path(device_id), params={"api-version": target.api_version},
                                    headers={"If-Match": "*"})

    def call(self, case, **kwargs):
        device_id = own(case, session.current(), self.scope)
        response = cases.send(session.client(), case)
        if device_id and case.method.upper() == "PUT" and response.status_code in (200, 201):
            self.created.add(device_id)
        return Response.from_any(response)

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        conforms(case, response, "COMMON-SPEC-001", additional_checks=additional_checks, transport_kwargs=kwargs or None)


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
def test_linked_device_lifecycle_conforms(target):
    DeviceLifecycle.run(settings=settings(SETTINGS, max_examples=max(2, openapi.max_examples() // 3),
                                          stateful_step_count=6))


# -- device messaging --------------------------------------------------------------------------------------------

messaging = openapi.load("device-messaging")


def as_device(case, device) -> None:
    """Every generated messaging request is made by a device this run created, with that device's own token.
    A lock taken from a receive's ETag loses its quotes, as clients do (INVENTORY §6)."""
    case.path_parameters["deviceId"] = quote(device.device_id, safe="")
    case.headers = {**(case.headers or {}), "Authorization": device.token()}
    etag = decoded(case.path_parameters.get("etag") or "")
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':  # a lock taken from a receive's ETag by a link
        case.path_parameters["etag"] = quote(lock_of(etag), safe="")


@pytest.fixture(scope="module")
def messaging_device(target):
    """One device for the generated messaging requests, with a few cloud-to-device messages when a feeder exists."""
    registry = Registry(session.client(), target.api_version, target.name_prefix)
    device_id, created = registry.make("prop-msg")
    device = DeviceClient.of_created(session.client(), target, device_id, created)
    feeders.feed_generated(target, device_id)
    yield device
    registry.cleanup()


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@messaging.parametrize()
@SETTINGS
def test_generated_messaging_requests_conform_to_the_spec_and_checks(case, messaging_device, client):
    as_device(case, messaging_device)
    response = cases.send(client, case)
    conforms(case, response, "COMMON-SPEC-001")


class MessageLifecycle(messaging.as_state_machine()):
    """receive → complete / reject / abandon, following the spec's links; each scenario starts with one message."""

    device = None
    feeder = None

    def setup(self):
        if self.feeder is not None:
            self.feeder.send(self.device.device_id, b"lifecycle", {"Content-Type": "text/plain"})

    def call(self, case, **kwargs):
        as_device(case, self.device)
        return Response.from_any(cases.send(session.client(), case))

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        conforms(case, response, "COMMON-SPEC-001", additional_checks=additional_checks, transport_kwargs=kwargs or None)


@pytest.mark.requirement("COMMON-SPEC-001")
def test_linked_message_lifecycle_conforms(target, messaging_device):
    MessageLifecycle.device = messaging_device
    MessageLifecycle.feeder, reason = feeders.choose(target, target.c2d_feeder)
    if MessageLifecycle.feeder is None:
        pytest.skip(reason)
    MessageLifecycle.run(settings=settings(SETTINGS, max_examples=max(2, openapi.max_examples() // 3),
                                           stateful_step_count=4))


# -- import/export jobs ------------------------------------------------------------------------------------------

# Reads only: a generated job start would hand the hub made-up storage URIs to reach, and a generated cancel could
# name a job this run did not start.
jobs = openapi.load("jobs").include(method="GET", path_regex="^/jobs")


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@jobs.parametrize()
@SETTINGS
def test_generated_job_reads_conform_to_the_spec_and_checks(case, client):
    response = cases.send(client, case)
    conforms(case, response, "COMMON-SPEC-001")


# -- scheduled jobs and twins (api-version 2016-11-14) -----------------------------------------------------------

# Reads only for jobs: a generated job would run on whatever devices its made-up queryCondition selects.
scheduled_reads = openapi.load("jobs", "2016-11-14").include(method="GET")
twins = openapi.load("device-twins", "2016-11-14")


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@scheduled_reads.parametrize()
@SETTINGS
def test_generated_scheduled_job_reads_conform_to_the_spec_and_checks(case, client):
    response = cases.send(client, case)
    conforms(case, response, "COMMON-SPEC-001")


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@twins.parametrize()
@SETTINGS
def test_generated_twin_requests_conform_to_the_spec_and_checks(case, target, client):
    own(case, target)
    response = cases.send(client, case)
    conforms(case, response, "COMMON-SPEC-001")

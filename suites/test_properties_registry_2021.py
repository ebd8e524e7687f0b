"""Property tests over the api-version 2021-04-12 registry specs (devices, statistics, modules, bulk registry, purge):
schemathesis generates requests, every response goes through the built-in checks and the suite's own; stateful runs
follow the specs' links (device create → get → delete; module create → get → delete on a device of the scenario,
whose delete then takes its modules). As suites/test_properties.py: every generated id is moved under the run prefix,
and a test claims only what its checks judge on every response.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import itertools
import re
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.core.transport import Response

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import RequirementFailure
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.devices import path as device_path
from iothub_conformance.surfaces.modules import module_path
from iothub_conformance.targets import session

pytestmark = pytest.mark.api_version("2021-04-12")
V2021 = "2021-04-12"
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)
NOT_IN_ID = re.compile(r"[^A-Za-z0-9\-:.+%_#*?!(),=@;$']")
_BULK_IDS = itertools.count(1)

devices = openapi.load("devices", V2021)
modules = openapi.load("modules", V2021)
bulk = openapi.load("bulk-registry", V2021)
# The purge only: the file's feedback operations receive from the whole hub's feedback queue, which
# suites/test_feedback.py opens only on the embedded reference or when asked.
purge = openapi.load("cloud-to-device", V2021).include(operation_id="CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue")


def _decoded(raw: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return raw


def own(case, target, scope: str = "") -> str | None:
    """The generated device id moved under the run prefix (DESIGN: Safety), a module id kept to the id characters,
    and a PUT body naming the same identity as its path. Returns the device id."""
    params = case.path_parameters or {}
    device_id = None
    if "id" in params:
        device_id = NOT_IN_ID.sub("-", _decoded(params["id"]))
        prefix = target.name_prefix + scope
        if not device_id.startswith(prefix):
            device_id = prefix + device_id.removeprefix(target.name_prefix)[: 128 - len(prefix)]
        params["id"] = quote(device_id, safe="")
    if "mid" in params:
        params["mid"] = quote(NOT_IN_ID.sub("-", _decoded(params["mid"])) or "m", safe="")
    if case.method.upper() == "PUT" and isinstance(case.body, dict) and device_id is not None:
        if "mid" in params:
            case.body["moduleId"] = unquote(params["mid"])
        case.body["deviceId"] = device_id
    return device_id


@pytest.fixture(scope="module")
def made(target):
    """Every device a generated request may have created, deleted at the end of the module."""
    created: set[str] = set()
    yield created
    for device_id in sorted(created):
        session.client().delete(device_path(device_id), params={"api-version": V2021}, headers={"If-Match": "*"})


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@devices.parametrize()
@SETTINGS
def test_generated_device_requests_conform(case, target, client, made):
    device_id = own(case, target, "p21-")
    response = cases.send(client, case)
    if device_id and case.method.upper() == "PUT":
        made.add(device_id)
    conforms(case, response, "COMMON-SPEC-001")


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@modules.parametrize()
@SETTINGS
def test_generated_module_requests_conform(case, target, client, registry):
    parent, _ = registry.make("p21mod")  # the device exists, so generated module writes reach a module
    case.path_parameters["id"] = quote(parent, safe="")
    own(case, target, "p21mod")
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@bulk.parametrize()
@SETTINGS
def test_generated_bulk_creates_conform(case, target, client, made):
    """Creates only, of fresh run ids: a generated update or delete could name a device another test is using."""
    items = case.body if isinstance(case.body, list) else []
    for item in items:
        if isinstance(item, dict):
            item["id"] = f"{target.name_prefix}p21bulk-{next(_BULK_IDS)}"
            item["importMode"] = "create"
            item.pop("eTag", None)
            made.add(item["id"])
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@purge.parametrize()
@SETTINGS
def test_generated_purges_conform(case, target, client):
    own(case, target, "p21purge-")
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")


class _Linked:
    """What both state machines share: ids under the scenario's scope, their devices deleted at the end."""

    scenarios = 0

    def setup(self):
        type(self).scenarios += 1
        self.scope = f"s21-{type(self).__name__[:3].lower()}{self.scenarios}-"
        self.created: set[str] = set()

    def teardown(self):
        for device_id in sorted(self.created):
            session.client().delete(device_path(device_id), params={"api-version": V2021}, headers={"If-Match": "*"})

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        conforms(case, response, "COMMON-SPEC-001", additional_checks=additional_checks, transport_kwargs=kwargs or None)


class DeviceLifecycle(_Linked, devices.as_state_machine()):
    def call(self, case, **kwargs):
        device_id = own(case, session.current(), self.scope)
        response = cases.send(session.client(), case)
        if device_id and case.method.upper() == "PUT" and response.status_code in (200, 201):
            self.created.add(device_id)
        return Response.from_any(response)


class ModuleLifecycle(_Linked, modules.as_state_machine()):
    """device (made in setup) → module create → get → delete; the device's delete then takes its remaining modules."""

    def setup(self):
        super().setup()
        self.device_id = f"{session.current().name_prefix}{self.scope}dev"
        made = session.client().put(device_path(self.device_id), params={"api-version": V2021},
                                    json={"deviceId": self.device_id})
        if made.status_code in (200, 201):
            self.created.add(self.device_id)
        self.modules: set[str] = set()

    def call(self, case, **kwargs):
        case.path_parameters["id"] = quote(self.device_id, safe="")
        own(case, session.current(), self.scope)
        response = cases.send(session.client(), case)
        if case.method.upper() == "PUT" and response.status_code in (200, 201):
            self.modules.add(unquote(case.path_parameters["mid"]))
        return Response.from_any(response)

    def teardown(self):
        super().teardown()
        client = session.client()
        for module_id in sorted(self.modules):
            left = client.get(module_path(self.device_id, module_id), params={"api-version": V2021})
            if left.status_code == 200:
                raise RequirementFailure("DEVICE-DELETE-002", f"module {module_id} of the deleted device "
                                                              f"{self.device_id} still reads 200")


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
def test_linked_device_lifecycle_conforms(target):
    DeviceLifecycle.run(settings=settings(SETTINGS, max_examples=max(2, openapi.max_examples() // 3),
                                          stateful_step_count=6))


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
def test_linked_device_module_lifecycle_conforms(target):
    ModuleLifecycle.run(settings=settings(SETTINGS, max_examples=max(2, openapi.max_examples() // 3),
                                          stateful_step_count=6))

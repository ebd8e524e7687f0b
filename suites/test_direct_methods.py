"""Direct methods at api-version 2021-04-12 (docs/sources/service-2021-04-12.json, Devices_InvokeMethod,
Modules_InvokeMethod, CloudToDeviceMethod, CloudToDeviceMethodResult; docs/sources/INVENTORY-2021-04-12.md §2.6, §9,
§10 C16, C37; docs/sources/iot-hub-devguide-direct-methods__2018-07-17_1e2689b4.md;
docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md). Property tests over specs/2021-04-12/direct-methods.yaml.

A device or module answers only where the target's controls can bring it online (the embedded reference simulates
them); elsewhere the tests that need one skip and say why.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import answered, expect, json_of, served
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.modules import Modules
from iothub_conformance.surfaces.twins import Methods

pytestmark = pytest.mark.api_version("2021-04-12")
LARGE = 128 * 1024 + 64  # over the 128 KB the direct methods page allows


@pytest.fixture
def methods(registry):
    return Methods(registry)


@pytest.fixture
def device_id(registry):
    return registry.make("method")[0]


def need(controls, name: str, why: str):
    found = getattr(controls, name, None) if controls is not None else None
    if found is None:
        pytest.skip(f"the target offers no control {name!r}: {why} (the embedded reference simulates it)")
    return found


class Online:
    """Brings the run's devices and modules online through the target's controls; records every call they get."""

    def __init__(self, controls) -> None:
        self.controls = controls
        self.answer = need(controls, "answer_methods", "no device of this run can be brought online to answer methods")
        self.calls: list[tuple[str, str | None, str, object]] = []
        self.started: list[tuple[str, str | None]] = []

    def bring(self, device_id: str, status: int = 200, reply: object = None, module_id: str | None = None) -> None:
        def handler(name, payload):
            self.calls.append((device_id, module_id, name, payload))
            return status, {"echo": payload} if reply is None else reply

        if module_id is None:
            self.answer(device_id, handler)
        else:
            try:
                self.answer(device_id, handler, module_id=module_id)
            except TypeError:
                pytest.skip("the target's controls cannot bring a module online (answer_methods takes no module_id)")
        self.started.append((device_id, module_id))

    def delay(self, device_id: str, seconds: float, module_id: str | None = None) -> None:
        need(self.controls, "delay_methods", "no simulated device can be made slow")(device_id, seconds,
                                                                                     module_id=module_id)

    def stop(self) -> None:
        for device_id, module_id in self.started:
            if module_id is None:
                self.controls.stop_answering(device_id)
            else:
                self.controls.stop_answering(device_id, module_id=module_id)


@pytest.fixture
def online(target):
    made = Online(target.controls)
    yield made
    made.stop()


@pytest.mark.requirement("METHOD-INVOKE-001")
def test_an_online_device_gets_the_call_and_its_answer_comes_back(methods, device_id, online):
    online.bring(device_id, 201, {"done": True, "n": 7})
    response = methods.call(device_id, "reboot", {"delay": 3}, responseTimeoutInSeconds=30)
    body = json_of(response)
    expect("METHOD-INVOKE-001", response.status_code == 200, f"the method call: {answered(response)}, expected 200")
    expect("METHOD-INVOKE-001", body == {"status": 201, "payload": {"done": True, "n": 7}},
           f"the call answered {str(body)[:300]}, the device said status 201 and payload {{'done': True, 'n': 7}}")
    expect("METHOD-INVOKE-001", online.calls == [(device_id, None, "reboot", {"delay": 3})],
           f"the device got {online.calls!r}, expected one call of reboot with {{'delay': 3}}")


@pytest.mark.requirement("METHOD-INVOKE-002")
def test_a_module_method_reaches_the_module_not_its_device(methods, registry, device_id, online):
    Modules(registry).make(device_id, "edge")
    online.bring(device_id, 200, {"who": "device"})
    online.bring(device_id, 202, {"who": "module"}, module_id="edge")
    response = methods.call(device_id, "status", {"q": 1}, module_id="edge", responseTimeoutInSeconds=30)
    body = json_of(response)
    expect("METHOD-INVOKE-002", response.status_code == 200, f"the module method: {answered(response)}, expected 200")
    expect("METHOD-INVOKE-002", body == {"status": 202, "payload": {"who": "module"}},
           f"the module method answered {str(body)[:300]}, the module said status 202, payload {{'who': 'module'}}")
    expect("METHOD-INVOKE-002", online.calls == [(device_id, "edge", "status", {"q": 1})],
           f"the calls made were {online.calls!r}, expected one to module edge")


@pytest.mark.requirement("METHOD-OFFLINE-001")
def test_a_registered_device_or_module_not_online_is_404(methods, registry, device_id, online, profile_rule):
    status, code = profile_rule("method_offline")
    answering, _ = registry.make("method-on")
    online.bring(answering)
    served(methods.call(answering, responseTimeoutInSeconds=30), "a method of an online device", dict)
    Modules(registry).make(device_id, "idle")
    for label, response in (("device", methods.call(device_id, responseTimeoutInSeconds=30)),
                            ("module", methods.call(device_id, module_id="idle", responseTimeoutInSeconds=30))):
        expect("METHOD-OFFLINE-001", response.status_code == status,
               f"a method of a registered {label} that is not online: {answered(response)}, expected {status}")
        named = response.headers.get("iothub-errorcode")
        expect("METHOD-OFFLINE-001", code is None or named == code, f"the {label}'s {status} names {named!r}, "
                                                                    f"expected {code}")


@pytest.mark.requirement("METHOD-NOTFOUND-001")
def test_a_method_of_an_unregistered_device_is_404_device_not_found(methods, registry):
    missing = registry.name("nomethod")
    for label, response in (("device", methods.call(missing, responseTimeoutInSeconds=30)),
                            ("module", methods.call(missing, module_id="any", responseTimeoutInSeconds=30))):
        expect("METHOD-NOTFOUND-001", response.status_code == 404,
               f"a {label} method of an unregistered device: {answered(response)}, expected 404")
        named = response.headers.get("iothub-errorcode")
        expect("METHOD-NOTFOUND-001", named == "DeviceNotFound", f"the {label} method's 404 names {named!r}, "
                                                                 "expected DeviceNotFound")


@pytest.mark.requirement("METHOD-TIMEOUT-001")
def test_a_device_slower_than_the_timeout_makes_it_504(methods, registry, device_id, online):
    online.bring(device_id)
    Modules(registry).make(device_id, "slow")
    online.bring(device_id, module_id="slow")
    for module_id in (None, "slow"):
        label = "module" if module_id else "device"
        online.delay(device_id, 20, module_id=module_id)
        response = methods.call(device_id, module_id=module_id, responseTimeoutInSeconds=5)
        expect("METHOD-TIMEOUT-001", response.status_code == 504,
               f"a {label} taking 20 s with responseTimeoutInSeconds 5: {answered(response)}, expected 504")
        named = response.headers.get("iothub-errorcode")
        expect("METHOD-TIMEOUT-001", named == "GatewayTimeout", f"the 504 names {named!r}, expected GatewayTimeout")
        online.delay(device_id, 0, module_id=module_id)
        served(methods.call(device_id, module_id=module_id, responseTimeoutInSeconds=5),
               f"the same {label} method once the {label} answers at once", dict)


@pytest.mark.requirement("METHOD-TIMEOUT-002")
def test_timeouts_outside_the_profiles_bounds_are_400_and_the_device_is_not_called(methods, device_id, online,
                                                                                    profile_rule):
    least, most = profile_rule("method_timeout_bounds")
    online.bring(device_id)
    served(methods.call(device_id, responseTimeoutInSeconds=most, connectTimeoutInSeconds=most),
           f"a method with both timeouts at {most} s", dict)
    calls = len(online.calls)
    outside = [{"responseTimeoutInSeconds": most + 1}, {"connectTimeoutInSeconds": most + 1},
               {"connectTimeoutInSeconds": -1}]
    if least is not None:
        outside.append({"responseTimeoutInSeconds": least - 1})
    for timeouts in outside:
        response = methods.call(device_id, **timeouts)
        expect("METHOD-TIMEOUT-002", response.status_code == 400,
               f"a method with {timeouts} (bounds {least}–{most} s): {answered(response)}, expected 400")
    expect("METHOD-TIMEOUT-002", len(online.calls) == calls,
           f"the device was called {len(online.calls) - calls} times for the refused methods")


@pytest.mark.requirement("METHOD-PAYLOAD-001")
def test_a_payload_over_128_kb_is_refused_and_the_device_is_not_called(methods, device_id, online):
    online.bring(device_id)
    served(methods.call(device_id, payload={"blob": "x" * 1024}, responseTimeoutInSeconds=30),
           "a method with a 1 KB payload", dict)
    calls = len(online.calls)
    response = methods.call(device_id, payload={"blob": "x" * LARGE}, responseTimeoutInSeconds=30)
    expect("METHOD-PAYLOAD-001", 400 <= response.status_code < 500,
           f"a method with a payload of {LARGE:,} bytes: {answered(response)}, expected a 4xx")
    expect("METHOD-PAYLOAD-001", len(online.calls) == calls, "the device was called with the refused payload")


# -- generated requests (schemathesis) over specs/2021-04-12/direct-methods.yaml ---------------------------------

schema = openapi.load("direct-methods", "2021-04-12")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.fixture(scope="module")
def generated_methods(target, client):
    """A device and a module of it for the generated calls, online where the target can simulate them."""
    from iothub_conformance.surfaces.devices import Registry

    registry = Registry(client, "2021-04-12", target.name_prefix)
    device_id, _ = registry.make("prop-method")
    Modules(registry).make(device_id, "prop")
    answer = getattr(target.controls, "answer_methods", None)
    if answer is not None:
        answer(device_id, lambda name, payload: (200, {"name": name}))
        answer(device_id, lambda name, payload: (200, None), module_id="prop")
    yield {"device": device_id, "module": "prop"}
    if answer is not None:
        target.controls.stop_answering(device_id)
        target.controls.stop_answering(device_id, module_id="prop")
    registry.cleanup()


def own_call(case, ids: dict[str, str], bounds: tuple) -> None:
    """The run's device and module, timeouts within the profile's bounds and a small payload (the bounds and the
    limit are judged by their own tests)."""
    case.path_parameters["deviceId"] = ids["device"]
    if "moduleId" in case.path_parameters:
        case.path_parameters["moduleId"] = ids["module"]
    if isinstance(case.body, dict):
        least, most = bounds
        for name, low in (("responseTimeoutInSeconds", least or 0), ("connectTimeoutInSeconds", 0)):
            value = case.body.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                case.body[name] = min(max(value, low), most)
        if len(repr(case.body.get("payload"))) > 4096:
            case.body["payload"] = None


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_method_calls_conform_to_the_spec_and_checks(case, generated_methods, profile, client):
    own_call(case, generated_methods, profile.value("method_timeout_bounds"))
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")

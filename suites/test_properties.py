"""Property tests: schemathesis generates requests from the spec; every response goes through the built-in checks and
the suite's own (iothub_conformance/checks). A stateful run follows the spec's links create → get → update → delete.
"""

from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.core.transport import Response

from iothub_conformance import cases, openapi, session

schema = openapi.load("device-identities")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


def own(case, target) -> None:
    """Generated deviceIds get the run prefix, so the suite only ever changes what it created (DESIGN: Safety).
    A PUT body names the same device as its path: the pages define no other case."""
    raw = (case.path_parameters or {}).get("deviceId")
    if raw is None:
        return
    device_id = unquote(raw)  # schemathesis keeps path parameters percent-encoded
    if not device_id.startswith(target.name_prefix):
        device_id = target.name_prefix + device_id[: 128 - len(target.name_prefix)]
        case.path_parameters["deviceId"] = quote(device_id, safe="")
    if case.method.upper() == "PUT" and isinstance(case.body, dict):
        case.body["deviceId"] = device_id


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002", "COMMON-HDR-001")
@schema.parametrize()
@SETTINGS
def test_generated_requests_conform_to_the_spec_and_checks(case, target, client):
    own(case, target)
    response = cases.send(client, case)
    case.validate_response(response)


class DeviceLifecycle(schema.as_state_machine()):
    def call(self, case, **kwargs):
        own(case, session.current())
        return Response.from_any(cases.send(session.client(), case))


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
def test_linked_device_lifecycle_conforms(target):
    DeviceLifecycle.run(settings=settings(SETTINGS, max_examples=max(2, openapi.max_examples() // 3),
                                          stateful_step_count=6))

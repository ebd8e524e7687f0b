"""Errors: the common error codes page (400 for an unparseable body) and the profile's error envelope.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.checks import envelope as errors
from iothub_conformance.checks import headers, request_id
from iothub_conformance.checks.context import Context
from iothub_conformance.config import API_VERSIONS
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, raise_all, require, served
from iothub_conformance.surfaces.devices import path as device_path

REQUEST_IDS = 5


def refused(response, what: str):
    """An error response to judge the envelope of; a success (a missing device found, say) has none."""
    if response.status_code < 400:
        raise PreconditionFailed(f"{what} was not refused, so there is no error envelope to judge: {answered(response)}")
    return response


UNPARSEABLE = [b"{not json", b"[1, 2", b"\xff\xfe", b"null"]


@pytest.mark.requirement("COMMON-ERR-002")
@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("body", UNPARSEABLE)
def test_unparseable_body_returns_400(registry, client, api_version, body):
    registry.make("goodjson")  # the same create with a JSON body is served: else a 400 shows nothing
    device_id = registry.name("badjson")
    response = client.put(f"/devices/{device_id}", params={"api-version": api_version}, content=body,
                          headers={"Content-Type": "application/json"})
    expect("COMMON-ERR-002", response.status_code == 400, f"PUT with body {body!r}: {answered(response)}, expected 400")


@pytest.mark.requirement("COMMON-ERR-002")
@pytest.mark.parametrize("api_version", ["2021-04-12"])  # modules came after 2016
@pytest.mark.parametrize("body", UNPARSEABLE)
def test_unparseable_module_body_returns_400(registry, client, api_version, body):
    device_id, _ = registry.make("modjson")
    modules = f"{device_path(device_id)}/modules"
    # The same create with a JSON body is served: else a 400 shows nothing.
    require(client.put(f"{modules}/good", params={"api-version": api_version},
                       json={"moduleId": "good", "deviceId": device_id}), "could not create a module", (200, 201))
    response = client.put(f"{modules}/bad", params={"api-version": api_version}, content=body,
                          headers={"Content-Type": "application/json"})
    expect("COMMON-ERR-002", response.status_code == 400,
           f"PUT {modules}/bad with body {body!r}: {answered(response)}, expected 400")


@pytest.mark.requirement("COMMON-ERR-001")
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_errors_use_profile_envelope(registry, client, api_version, profile, profile_rule):
    profile_rule("error_envelope")
    # The valid counterparts are served: else the errors judged need not be the ones the requests are refused with.
    registry.read(registry.make("envelope")[0])
    served(client.get("/devices", params={"api-version": api_version}), "GET /devices with the run's token", list)
    responses = [
        refused(registry.get(registry.name("missing")), "GET of a missing device"),  # 404
        refused(client.get("/devices", params={"api-version": "1999-01-01"}), "an unsupported api-version"),  # 400
        refused(client.get("/devices", params={"api-version": api_version}, auth=None), "a read without "
                "Authorization"),  # 401
    ]
    for response in responses:
        raise_all(errors.verify(response, Context(profile)))


@pytest.mark.requirement("COMMON-REQID-001")
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_every_response_carries_request_id_errors_included(registry, client, api_version):
    device_id, created = registry.make("reqid")
    for response in (created, registry.get(device_id), registry.get(registry.name("missing")),
                     client.get("/devices", params={"api-version": "1999-01-01"}),
                     client.get("/devices", params={"api-version": api_version}, auth=None),
                     registry.delete(device_id)):
        raise_all(request_id.verify(response, Context()))


@pytest.mark.requirement("COMMON-REQID-002")
def test_request_ids_are_unique_across_the_run(registry, target):
    responses = [registry.get(registry.name("uniq")) for _ in range(REQUEST_IDS)]
    carried = [r.headers.get("x-ms-request-id") for r in responses if r.headers.get("x-ms-request-id")]
    if len(carried) < REQUEST_IDS:
        raise PreconditionFailed(f"{REQUEST_IDS - len(carried)} of {REQUEST_IDS} responses carry no x-ms-request-id "
                                 f"to compare: {answered(responses[0])}")
    repeated = {rid: n for rid, n in target.journal.request_ids.items() if n > 1}
    expect("COMMON-REQID-002", not repeated, f"x-ms-request-id repeated: {dict(list(repeated.items())[:3])}")


@pytest.mark.requirement("COMMON-HDR-001")
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_json_responses_declare_application_json(registry, client, api_version):
    device_id, created = registry.make("ctype")  # a JSON identity, or PreconditionFailed: something to judge
    for response in (created, registry.read(device_id),
                     require(client.get("/devices", params={"api-version": api_version}), "could not list devices"),
                     require(client.get("/statistics/devices", params={"api-version": api_version}),
                             "could not read the registry statistics")):
        raise_all(headers.verify_content_type(response, Context()))


@pytest.mark.requirement("COMMON-ERR-001")
def test_messaging_errors_use_profile_envelope(device, profile, profile_rule):
    profile_rule("error_envelope")
    responses = [
        device.send(b"x", headers={"Authorization": device.token(expiry=1_000_000_000)}),  # 401
        device.send(b"x", headers={"IoTHub-app-note": "two words"}),  # 400
        device.send(b"a" * 256 * 1024),  # 413
        device.complete("conformance-no-such-lock"),  # 412 or 404
    ]
    for response in responses:
        raise_all(errors.verify(refused(response, "a messaging request the pages refuse"), Context(profile)))


@pytest.mark.requirement("COMMON-REQID-001")
def test_messaging_responses_carry_request_id_as_the_profile_says(device, profile):
    for response in (device.send(b"x"), device.receive(), device.complete("conformance-no-such-lock"),
                     device.send(b"x", headers={"Authorization": device.token(expiry=1_000_000_000)})):
        raise_all(request_id.verify(response, Context(profile)))

"""SAS authentication (INVENTORY §5): bad tokens get 401 and change nothing.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.checks import headers
from iothub_conformance.checks.context import Context
from iothub_conformance.config import API_VERSIONS
from iothub_conformance.http import sas
from iothub_conformance.rules.failures import answered, expect, raise_all, require_etag, served

EXPIRED = 1_000_000_000  # 2001: long past
READS = {"/devices": list, "/statistics/devices": dict, "/statistics/service": dict}  # each read, its JSON answer


def _tokens(target):
    c = target.connection
    good = sas.parse_token(target.token())
    wrong_sig = target.token().replace(f"sig={sas.quote_plus(good.sig)}", "sig=" + sas.quote_plus("A" * 43 + "="))
    return {
        "expired": ("COMMON-AUTH-002", sas.build_token(c.host_name, c.key, c.key_name, expiry=EXPIRED)),
        "bad-signature": ("COMMON-AUTH-003", wrong_sig),
        "unknown-policy": ("COMMON-AUTH-004", sas.build_token(c.host_name, c.key, "conformance-no-such-policy")),
        "other-hub": ("COMMON-AUTH-005", sas.build_token("conformance-other-hub.azure-devices.net", c.key,
                                                          c.key_name)),
    }


@pytest.mark.requirement("COMMON-AUTH-001")
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_request_without_authorization_returns_401_and_creates_nothing(registry, client, api_version):
    registry.make("withauth")  # the same create with the run's token is served: else a 401 shows nothing
    device_id = registry.name("noauth")
    response = client.put(f"/devices/{device_id}", params={"api-version": api_version},
                          json={"deviceId": device_id}, auth=None)
    raise_all(headers.verify_unauthenticated(response, Context()))
    expect("COMMON-AUTH-001", not registry.exists(device_id, "after a PUT without Authorization"),
           "a PUT without Authorization was refused but created the device")


@pytest.mark.requirement("COMMON-AUTH-001")
@pytest.mark.parametrize("path", list(READS))
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_read_without_authorization_returns_401(client, api_version, path):
    served(client.get(path, params={"api-version": api_version}), f"GET {path} with the run's token", READS[path])
    response = client.get(path, params={"api-version": api_version}, auth=None)
    expect("COMMON-AUTH-001", response.status_code == 401,
           f"GET {path} without Authorization: {answered(response)}, expected 401")


@pytest.mark.requirement("COMMON-AUTH-002", "COMMON-AUTH-003", "COMMON-AUTH-004", "COMMON-AUTH-005")
@pytest.mark.parametrize("kind", ["expired", "bad-signature", "unknown-policy", "other-hub"])
@pytest.mark.parametrize("operation", ["update", "delete", "read"])
def test_bad_token_returns_401_and_changes_nothing(registry, target, kind, operation):
    requirement, token = _tokens(target)[kind]
    device_id, created = registry.make("auth")
    before = require_etag(created, f"the create of {device_id}")
    bad = {"Authorization": token}
    if operation == "update":
        response = registry.put(device_id, {"deviceId": device_id, "status": "disabled"}, if_match="*", headers=bad)
    elif operation == "delete":
        response = registry.delete(device_id, if_match="*", headers=bad)
    else:
        response = registry.get(device_id, headers=bad)
    expect(requirement, response.status_code == 401, f"{operation} with a {kind} token: {answered(response)}")
    after = registry.read(device_id, f"after a refused {operation} with a {kind} token")
    expect(requirement, after.headers.get("ETag") == before,
           f"the device changed after a refused {operation} with a {kind} token (ETag {before} → "
           f"{after.headers.get('ETag')})")

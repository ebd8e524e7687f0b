"""api-version: required on every URI; unsupported values refused; supported ones accepted (INVENTORY §1).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.checks import api_version as check
from iothub_conformance.checks.context import Context
from iothub_conformance.config import API_VERSIONS
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, raise_all, served

# Each read and the JSON shape its answer has.
READS = {"/devices": list, "/statistics/devices": dict, "/statistics/service": dict}


def read_is_served(client, path: str, api_version: str) -> None:
    """A 400 for a bad api-version shows the target judged the api-version only if the same read with the run's
    api-version is served (a target that answers 400 to everything would pass otherwise)."""
    served(client.get(path, params={"api-version": api_version}), f"GET {path}?api-version={api_version}", READS[path])


@pytest.mark.requirement("COMMON-APIVER-001", "COMMON-APIVER-004")
@pytest.mark.parametrize("path", list(READS))
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_missing_api_version_returns_400(client, profile, api_version, path):
    read_is_served(client, path, api_version)
    raise_all(check.verify_refused(client.get(path), Context(profile), "COMMON-APIVER-001", "no api-version"))


@pytest.mark.requirement("COMMON-APIVER-001")
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_missing_api_version_on_create_returns_400_and_creates_nothing(registry, client, profile, api_version):
    registry.make("withver")  # the same create with api-version is served: else a refusal shows nothing
    device_id = registry.name("nover")
    response = client.put(f"/devices/{device_id}", json={"deviceId": device_id})
    raise_all(check.verify_refused(response, Context(profile), "COMMON-APIVER-001", "no api-version"))
    expect("COMMON-APIVER-001", not registry.exists(device_id, "after a PUT without api-version"),
           "the device was created anyway")


@pytest.mark.requirement("COMMON-APIVER-002", "COMMON-APIVER-004")
@pytest.mark.parametrize("value", ["1999-01-01", "2016-02-04", "", "latest"])
@pytest.mark.parametrize("api_version", API_VERSIONS)
def test_unsupported_api_version_returns_400(client, profile, api_version, value):
    read_is_served(client, "/statistics/devices", api_version)
    response = client.get("/statistics/devices", params={"api-version": value})
    raise_all(check.verify_refused(response, Context(profile), "COMMON-APIVER-002", f"api-version={value!r}"))


@pytest.mark.requirement("COMMON-APIVER-003")
@pytest.mark.parametrize("api_version", API_VERSIONS)
@pytest.mark.parametrize("path", list(READS))
def test_each_supported_api_version_is_accepted(client, profile, api_version, path):
    version = api_version
    response = client.get(path, params={"api-version": version})
    expect("COMMON-APIVER-003", response.status_code == 200,
           f"GET {path}?api-version={version}: {answered(response)}, expected 200")
    if not isinstance(json_of(response), READS[path]):
        # A 200 that is not the read's answer (an empty body, say) shows nothing about the api-version.
        raise PreconditionFailed(f"GET {path}?api-version={version}: {answered(response)} without the JSON "
                                 f"{READS[path].__name__} it reads")

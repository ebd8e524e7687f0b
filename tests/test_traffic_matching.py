"""Matching a recorded exchange to the spec operation of its api-version (traffic/matching.py)."""

import pytest

from iothub_conformance.traffic import matching
from iothub_conformance.traffic.exchange import Exchange, RecordedRequest

RP = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Devices/IotHubs/hub1"


def _exchange(method: str, url: str) -> Exchange:
    return Exchange(RecordedRequest(method, url), None, "synthetic", 0, "har")


def test_device_get_on_a_real_hub_host():
    found = matching.match(_exchange("GET", "https://myhub.azure-devices.net/devices/dev1?api-version=2016-02-03"))
    assert found is not None
    assert (found.spec, found.operation_id, found.path, found.method, found.api_version) == (
        "specs/2016-02-03/device-identities.yaml", "getDevice", "/devices/{deviceId}", "get", "2016-02-03")
    assert found.parameters == (("deviceId", "dev1"),)


def test_an_encoded_slash_stays_inside_its_parameter():
    found = matching.match(_exchange("GET", "http://127.0.0.1:8080/devices/a%2Fb?api-version=2016-02-03"))
    assert found is not None and found.operation_id == "getDevice" and found.parameters == (("deviceId", "a/b"),)


def test_twin_patch_on_2016_11_14():
    found = matching.match(_exchange("PATCH", "https://myhub.azure-devices.net/twins/dev1?api-version=2016-11-14"))
    assert found is not None
    assert (found.spec, found.operation_id, found.path) == ("specs/2016-11-14/device-twins.yaml", "updateDeviceTwin",
                                                            "/twins/{deviceId}")


def test_the_twin_is_no_operation_of_2016_02_03():
    # The api-version picks the specs: twins are documented from 2016-11-14 on.
    assert matching.match(_exchange("PATCH", "https://h/twins/dev1?api-version=2016-02-03")) is None


def test_rp_hub_get_with_mixed_case_provider_segments():
    url = "https://management.azure.com/subscriptions/sub1/resourcegroups/rg1/providers/microsoft.devices/IoTHubs/Hub1" \
          "?api-version=2016-02-03"
    found = matching.match(_exchange("GET", url))
    assert found is not None
    assert (found.spec, found.operation_id) == ("specs/2016-02-03/resource-provider.yaml", "IotHubResource_Get")
    assert dict(found.parameters) == {"subscriptionId": "sub1", "resourceGroupName": "rg1", "resourceName": "Hub1"}


def test_data_plane_literals_keep_their_case():
    assert matching.match(_exchange("GET", "https://h/Devices/dev1?api-version=2016-02-03")) is None


def test_host_less_record_matches_by_path():
    found = matching.match(_exchange("GET", f"https://unrecorded-host.invalid{RP}?api-version=2016-02-03"))
    assert found is not None and found.operation_id == "IotHubResource_Get"


def test_a_literal_template_wins_over_a_parameter():
    query = matching.match(_exchange("GET", "https://h/jobs/v2/query?api-version=2016-11-14"))
    job = matching.match(_exchange("GET", "https://h/jobs/v2/job1?api-version=2016-11-14"))
    assert query is not None and query.operation_id == "queryJobs"
    assert job is not None and job.operation_id == "getJob" and job.parameters == (("jobId", "job1"),)
    create = matching.match(_exchange("POST", "https://h/jobs/create?api-version=2016-02-03"))
    assert create is not None and create.operation_id == "createImportExportJob"


@pytest.mark.parametrize("url", [
    "https://h/devices/dev1/unknown?api-version=2016-02-03",  # an undocumented path
    "https://h/devices/dev1",  # no api-version: no specs to pick
    "https://h/devices/dev1?api-version=1999-01-01",  # an api-version the specs do not document
    f"https://management.azure.com{RP}/operationResults/abc?api-version=2016-02-03",
])
def test_unknown_paths_match_nothing(url):
    assert matching.match(_exchange("GET", url)) is None


def test_a_documented_path_with_an_undocumented_method_matches_nothing():
    assert matching.match(_exchange("PATCH", "https://h/devices/dev1?api-version=2016-02-03")) is None
    assert matching.match(_exchange("PUT", "https://h/devices/dev1?api-version=2016-02-03")) is not None


def test_versions_are_the_spec_directories():
    assert {"2016-02-03", "2016-11-14"} <= matching.versions()


def test_a_trailing_slash_names_the_same_operation_as_the_service_takes_it():
    # The 2016 Node.js service SDK lists devices with GET /devices/ (matching.py cites its code).
    found = matching.match(_exchange("GET", "https://h/devices/?api-version=2016-02-03"))
    assert found is not None and found.operation_id == "listDevices"


@pytest.mark.parametrize("path", ["/devices/d1/messages/devicebound", "/devices/d1/messages/devicebound/lock1",
                                  "/devices/d1/messages/devicebound/lock1/abandon"])
def test_a_2021_receive_spelled_devicebound_matches_only_where_the_profile_takes_that_spelling(path):
    exchange = _exchange("GET" if path.endswith("devicebound") else "POST" if path.endswith("abandon") else "DELETE",
                         f"https://hub1.azure-devices.net{path}?api-version=2021-04-12")
    assert matching.match(exchange) is None  # the spec spells deviceBound
    assert matching.match(exchange, c2d_spellings=("deviceBound",)) is None
    found = matching.match(exchange, c2d_spellings=("deviceBound", "devicebound"))
    assert found is not None and found.operation_id.startswith("Device_") and "deviceBound" in found.path
    assert "d1" in dict(found.parameters).values()

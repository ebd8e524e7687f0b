"""The specs are valid OpenAPI 3.0 and hold every documented device-identity and device-messaging operation, each
citing its page."""

from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from iothub_conformance.paths import spec_path, specs_dir

DOCS = Path(__file__).resolve().parents[2] / "shared" / "reference" / "docs"

# Every device-identity operation of the 2016-02-03 pages (INVENTORY §2a): page → (method, path).
DEVICE_IDENTITY_PAGES = {
    "create-a-new-device-identity.md": ("put", "/devices/{deviceId}"),
    "update-an-existing-device-identity.md": ("put", "/devices/{deviceId}"),
    "retrieve-a-device-identity.md": ("get", "/devices/{deviceId}"),
    "delete-a-device-identity.md": ("delete", "/devices/{deviceId}"),
    "list-device-identities.md": ("get", "/devices"),
    "retrieve-device-identities-statistics.md": ("get", "/statistics/devices"),
    "retrieve-service-statistics.md": ("get", "/statistics/service"),
}


# Every device-messaging operation of the 2016-02-03 pages (INVENTORY §2b): page → (method, path).
DEVICE_MESSAGING_PAGES = {
    "send-device-to-cloud-message.md": ("post", "/devices/{deviceId}/messages/events"),
    "receive-a-cloud-to-device-message.md": ("get", "/devices/{deviceId}/messages/devicebound"),
    "complete-a-cloud-to-device-message.md": ("delete", "/devices/{deviceId}/messages/devicebound/{etag}"),
    "reject-a-cloud-to-device-message.md": ("delete", "/devices/{deviceId}/messages/devicebound/{etag}"),
    "abandon-a-cloud-to-device-message.md": ("post", "/devices/{deviceId}/messages/devicebound/{etag}/abandon"),
}
# The import/export job pages of the data plane (INVENTORY §2a). export-device-identities1.md and
# import-device-identities.md are resource-provider calls (management.azure.com): the resource-provider spec's.
JOB_PAGES = {
    "list-import-export-jobs.md": ("get", "/jobs"),
    "retrieve-import-export-job.md": ("get", "/jobs/{jobId}"),
    "cancel-import-export-job.md": ("delete", "/jobs/{jobId}"),
    "import-or-update-device-identities.md": ("get", "/importdevices"),
}
# The scheduled jobs and device twins of the generated 2016-11-14 pages (INVENTORY §3).
SCHEDULED_JOB_PAGES = {
    "autogen-2016-11-14__JobApi_CreateJob.yml": ("put", "/jobs/v2/{jobId}"),
    "autogen-2016-11-14__JobApi_GetJob.yml": ("get", "/jobs/v2/{jobId}"),
    "autogen-2016-11-14__JobApi_CancelJob.yml": ("post", "/jobs/v2/{jobId}/cancel"),
    "autogen-2016-11-14__JobApi_QueryJobs.yml": ("get", "/jobs/v2/query"),
}
TWIN_PAGES = {
    "autogen-2016-11-14__DeviceTwinApi_GetDeviceTwin.yml": ("get", "/twins/{deviceId}"),
    "autogen-2016-11-14__DeviceTwinApi_UpdateDeviceTwin.yml": ("patch", "/twins/{deviceId}"),
}
SURFACES = [("2016-02-03", "device-identities", DEVICE_IDENTITY_PAGES),
            ("2016-02-03", "device-messaging", DEVICE_MESSAGING_PAGES),
            ("2016-02-03", "jobs", JOB_PAGES),
            ("2016-11-14", "jobs", SCHEDULED_JOB_PAGES),
            ("2016-11-14", "device-twins", TWIN_PAGES)]


@pytest.mark.parametrize("spec", sorted(str(p.relative_to(specs_dir())) for p in specs_dir().glob("*/*.yaml")))
def test_spec_is_valid_openapi(spec):
    path = specs_dir() / spec
    document, base_uri = read_from_filename(str(path))
    validate(document, base_uri=path.as_uri())


@pytest.mark.parametrize("version, surface, page",
                         [(version, surface, page) for version, surface, pages in SURFACES for page in sorted(pages)])
def test_every_documented_operation_is_in_its_spec(version, surface, page):
    method, path = {(v, s): pages for v, s, pages in SURFACES}[(version, surface)][page]
    spec = yaml.safe_load(spec_path(surface, version).read_text())
    operation = spec["paths"].get(path, {}).get(method)
    assert operation is not None, f"{method.upper()} {path} ({page}) is missing"
    assert page in operation["x-source"], f"{method.upper()} {path} does not cite {page}"


@pytest.mark.parametrize("version, surface", [(version, surface) for version, surface, _ in SURFACES])
def test_cited_pages_exist(version, surface):
    if not DOCS.is_dir():
        pytest.skip("the reference docs are not beside this checkout")
    spec = yaml.safe_load(spec_path(surface, version).read_text())
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "x-source" in operation:
                for page in operation["x-source"].split("; "):
                    assert (DOCS / page).is_file(), page


def test_receive_links_lead_to_complete_reject_and_abandon_with_the_lock_from_the_etag():
    spec = yaml.safe_load(spec_path("device-messaging", "2016-02-03").read_text())
    links = spec["paths"]["/devices/{deviceId}/messages/devicebound"]["get"]["responses"]["200"]["links"]
    assert {name: link["operationId"] for name, link in links.items()} == {
        "completeMessage": "completeDeviceBoundNotification", "rejectMessage": "completeDeviceBoundNotification",
        "abandonMessage": "abandonDeviceBoundNotification"}
    assert all(link["parameters"]["etag"] == "$response.header.ETag" for link in links.values())
    assert "reject" in links["rejectMessage"]["parameters"]


def test_every_operation_declares_request_id_on_every_response():
    spec = yaml.safe_load(spec_path("device-identities", "2016-02-03").read_text())
    common = yaml.safe_load(spec_path("common", "2016-02-03").read_text())
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if "$ref" in response:
                    response = common["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                assert "x-ms-request-id" in response.get("headers", {}), f"{method} {path} {status}"

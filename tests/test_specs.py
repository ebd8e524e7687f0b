"""The specs are valid OpenAPI 3.0 and hold every documented operation (device identities, messaging, jobs, twins and
the resource provider), each citing its page in docs/sources/ and naming the requirements that concern it, as the
registry names the operations back."""

import functools

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from iothub_conformance.paths import spec_path, specs_dir
from iothub_conformance.rules import requirements, sources, spec_operations
from iothub_conformance.rules.requirements import REQUIREMENTS

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

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
# The resource provider (INVENTORY §2c): every rp__*.md operation page, and the two RP job pages. Create and update
# share the hub's PUT; both export pages share exportDevices.
RP_HUB = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/IotHubs"
RP_PAGES = {
    "rp__create-a-new-iot-hub.md": ("put", RP_HUB + "/{resourceName}"),
    "rp__update-metadata-on-an-existing-iot-hub.md": ("put", RP_HUB + "/{resourceName}"),
    "rp__retrieve-metadata-of-an-iot-hub.md": ("get", RP_HUB + "/{resourceName}"),
    "rp__delete-an-iot-hub.md": ("delete", RP_HUB + "/{resourceName}"),
    "rp__retrieve-security-metadata-of-an-iot-hub.md": ("post", RP_HUB + "/{resourceName}/IoTHubKeys/listkeys"),
    "rp__list-iot-hubs-in-a-subscription.md": ("get", "/subscriptions/{subscriptionId}/providers/Microsoft.Devices/IotHubs"),
    "rp__list-iot-hubs-in-a-resource-group.md": ("get", RP_HUB),
    "rp__create-a-d2c-consumer-group.md": ("put", RP_HUB + "/{resourceName}/events/ConsumerGroups/{consumerGroupName}"),
    "rp__delete-a-d2c-consumer-group.md": ("delete",
                                           RP_HUB + "/{resourceName}/events/ConsumerGroups/{consumerGroupName}"),
    "rp__list-d2c-consumer-groups.md": ("get", RP_HUB + "/{resourceName}/events/ConsumerGroups"),
    "rp__export-device-identities2.md": ("post", RP_HUB + "/{resourceName}/exportDevices"),
    "export-device-identities1.md": ("post", RP_HUB + "/{resourceName}/exportDevices"),
    "import-device-identities.md": ("post", RP_HUB + "/{resourceName}/importDevices"),
}
# The operationIds of the resource-provider contract: ARM16's (IotHubResource_*) and the docs-only paths (Docs_*).
RP_OPERATION_IDS = {
    "IotHubResource_CreateOrUpdate", "IotHubResource_Get", "IotHubResource_Delete",
    "IotHubResource_ListBySubscription", "IotHubResource_ListByResourceGroup",
    "IotHubResource_ListKeys", "IotHubResource_GetKeysForKeyName", "Docs_ListKeys",
    "IotHubResource_ListEventHubConsumerGroups", "IotHubResource_GetEventHubConsumerGroup",
    "IotHubResource_CreateEventHubConsumerGroup", "IotHubResource_DeleteEventHubConsumerGroup",
    "Docs_CreateConsumerGroup", "Docs_DeleteConsumerGroup", "Docs_ListConsumerGroups",
    "IotHubResource_GetStats", "IotHubResource_GetValidSkus", "IotHubResource_GetQuotaMetrics",
    "IotHubResource_ListJobs", "IotHubResource_GetJob", "IotHubResource_CheckNameAvailability",
    "IotHubResource_ExportDevices", "IotHubResource_ImportDevices",
}
SURFACES = [("2016-02-03", "device-identities", DEVICE_IDENTITY_PAGES),
            ("2016-02-03", "device-messaging", DEVICE_MESSAGING_PAGES),
            ("2016-02-03", "jobs", JOB_PAGES),
            ("2016-02-03", "resource-provider", RP_PAGES),
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
    spec = parsed(surface, version)
    operation = spec["paths"].get(path, {}).get(method)
    assert operation is not None, f"{method.upper()} {path} ({page}) is missing"
    assert page in operation["x-source"], f"{method.upper()} {path} does not cite {page}"


@pytest.mark.parametrize("spec_file", sorted(str(p.relative_to(specs_dir())) for p in specs_dir().glob("*/*.yaml")
                                              if p.name != "common.yaml"))
def test_every_x_source_resolves_to_a_page_or_note_in_the_repository(spec_file):
    spec = yaml.safe_load((specs_dir() / spec_file).read_text())
    for item in spec["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                cited = sources.citations_in(operation["x-source"])
                assert cited, operation["operationId"]
                for citation in cited:
                    resolved = sources.check(citation)
                    assert isinstance(resolved, str) or resolved.is_relative_to(sources.REPOSITORY / "docs"), citation


def test_every_operation_names_its_requirements_and_every_id_exists():
    for operation in spec_operations.operations():
        label = f"{operation.spec}:{operation.line} {operation.operation_id}"
        assert operation.own, f"{label} names no requirement of its own in x-requirements"
        unknown = [rid for rid in operation.requirements if rid not in REQUIREMENTS]
        assert not unknown, f"{label}: x-requirements names unknown ids {unknown}"
        assert len(operation.own) == len(set(operation.own)), label
        assert not set(operation.own) & set(operation.shared), f"{label} repeats its file's x-requirements"


def test_the_registry_and_the_specs_name_the_same_links():
    in_specs = spec_operations.by_requirement()
    for rid, requirement in REQUIREMENTS.items():
        named = {operation.operation_id for operation in in_specs.get(rid, [])}
        assert named == set(requirement.operations), (
            f"{rid}: the registry names {sorted(requirement.operations)}, the specs' x-requirements {sorted(named)}")


def test_a_file_level_x_requirements_holds_only_what_concerns_every_operation_of_the_file():
    for spec, group in [(op.spec, op) for op in spec_operations.operations() if op.shared]:
        in_file = {op.operation_id for op in spec_operations.operations() if op.spec == spec}
        for rid, _ in group.shared:
            assert in_file <= set(REQUIREMENTS[rid].operations), (spec, rid)


@pytest.mark.parametrize("group, version, surface", [
    ("DEVICE_IDENTITIES", "2016-02-03", "device-identities"), ("DEVICE_MESSAGING", "2016-02-03", "device-messaging"),
    ("IMPORT_EXPORT_JOBS", "2016-02-03", "jobs"), ("RESOURCE_PROVIDER", "2016-02-03", "resource-provider"),
    ("SCHEDULED_JOBS", "2016-11-14", "jobs"), ("DEVICE_TWINS", "2016-11-14", "device-twins"),
    ("DEVICES_2021", "2021-04-12", "devices"), ("BULK_REGISTRY_2021", "2021-04-12", "bulk-registry"),
    ("MODULES_2021", "2021-04-12", "modules"), ("CLOUD_TO_DEVICE_2021", "2021-04-12", "cloud-to-device"),
    ("TWINS_2021", "2021-04-12", "twins"), ("DIRECT_METHODS_2021", "2021-04-12", "direct-methods"),
    ("QUERY_2021", "2021-04-12", "query"), ("IMPORT_EXPORT_JOBS_2021", "2021-04-12", "import-export-jobs"),
    ("SCHEDULED_JOBS_2021", "2021-04-12", "scheduled-jobs"),
    ("CONFIGURATIONS_2021", "2021-04-12", "configurations"), ("DIGITAL_TWINS_2021", "2021-04-12", "digital-twins"),
    ("DEVICE_MESSAGING_2021", "2021-04-12", "device-messaging"), ("FILE_UPLOAD_2021", "2021-04-12", "file-upload"),
    ("DEVICE_SCOPE_2021", "2021-04-12", "device-scope")])
def test_each_operation_group_of_the_registry_is_every_operation_of_its_spec(group, version, surface):
    in_file = [op.operation_id for op in spec_operations.read(spec_path(surface, version), surface)]
    assert list(getattr(requirements, group)) == in_file


def test_operation_ids_are_unique_across_the_specs():
    ids = [operation.operation_id for operation in spec_operations.operations()]
    assert len(ids) == len(set(ids)) == 44 + len(requirements.SERVICE_2021) + len(requirements.DEVICE_2021)


def test_the_reader_takes_file_and_operation_links_with_their_lines(tmp_path):
    spec = tmp_path / "x.yaml"
    spec.write_text("openapi: 3.0.3\nx-requirements: [A-ONE-001]\npaths:\n  /a:\n    get:\n      operationId: getA\n"
                    "      x-requirements: [A-TWO-001,\n                       A-THREE-001]\n    parameters: []\n")
    (operation,) = spec_operations.read(spec, "fake/v/x.yaml")
    assert (operation.spec, operation.line, operation.method, operation.path) == ("fake/v/x.yaml", 5, "get", "/a")
    assert operation.requirements == ("A-ONE-001", "A-TWO-001", "A-THREE-001")
    assert [operation.carried_at(rid) for rid in operation.requirements] == [2, 7, 8]
    assert operation.carried_at("A-NONE-001") is None


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


RP_SPEC = ("resource-provider", "2016-02-03")
RP_HUB_BODY_OPERATIONS = {"IotHubResource_CreateOrUpdate", "IotHubResource_Get"}


@functools.cache
def parsed(surface: str, version: str) -> dict:
    """A spec parsed once per process, for the tests that only read it: the YAML parser is slow, the RP spec long."""
    return yaml.safe_load(spec_path(surface, version).read_text())


def rp_operations():
    spec = parsed(*RP_SPEC)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def rp_response(response: dict) -> dict:
    if "$ref" not in response:
        return response
    spec = parsed(*RP_SPEC)
    return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]


def test_every_resource_provider_operation_of_the_contract_is_in_the_spec():
    ids = [operation["operationId"] for _, _, operation in rp_operations()]
    assert len(ids) == len(set(ids))
    assert set(ids) == RP_OPERATION_IDS


def test_resource_provider_operations_say_their_dialect_and_cite_their_sources():
    for path, method, operation in rp_operations():
        label = f"{method.upper()} {path}"
        assert "dialect" in operation["description"].lower(), label
        if operation["operationId"].startswith("Docs_"):
            assert "INVENTORY.md §7 item 8" in operation["x-source"], label
        elif not any(page.startswith(("rp__", "export-", "import-")) for page in operation["x-source"].split("; ")):
            assert operation["x-source"] == f"INVENTORY.md §2c (ARM16 {operation['operationId']})", label


def test_resource_provider_responses_declare_their_headers_and_errors():
    spec = yaml.safe_load(spec_path(*RP_SPEC).read_text())
    assert spec["servers"] == [{"url": "https://management.azure.com"}]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert spec["security"] == [{"bearer": []}]
    for path, method, operation in rp_operations():
        label = f"{method.upper()} {path}"
        assert "security" not in operation, label
        assert "default" in operation["responses"], label
        error = rp_response(operation["responses"]["default"])
        assert error["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorDetails"}
        for status, response in operation["responses"].items():
            headers = rp_response(response).get("headers", {})
            assert "x-ms-request-id" in headers, f"{label} {status}"
            if status == "202":
                assert {"Location", "Retry-After", "Azure-AsyncOperation"} <= set(headers), f"{label} {status}"
            if status == "201" and operation["operationId"] == "IotHubResource_CreateOrUpdate":
                assert "Azure-AsyncOperation" in headers, f"{label} {status}"
            if status in ("200", "201") and operation["operationId"] in RP_HUB_BODY_OPERATIONS:
                assert "ETag" in headers, f"{label} {status}"
            if status == "204":
                assert "content" not in rp_response(response), f"{label} {status}"
    error_details = spec["components"]["schemas"]["ErrorDetails"]["properties"]
    assert error_details == {name: {"type": "string"} for name in ("Code", "HttpStatusCode", "Message", "Details")}


def test_resource_provider_takes_api_version_everywhere():
    spec = yaml.safe_load(spec_path(*RP_SPEC).read_text())
    common = yaml.safe_load(spec_path("common", "2016-02-03").read_text())
    assert common["components"]["parameters"]["api-version"]["schema"]["enum"] == ["2016-02-03"]
    for path, item in spec["paths"].items():
        refs = [p.get("$ref") for p in item.get("parameters", [])]
        assert "common.yaml#/components/parameters/api-version" in refs, path


def test_the_specs_etag_pattern_is_the_entity_tag_the_checks_judge():
    from iothub_conformance.rules.entity_tags import ENTITY_TAG

    common = yaml.safe_load((specs_dir() / "2016-02-03" / "common.yaml").read_text(encoding="utf-8"))
    assert common["components"]["headers"]["ETag"]["schema"]["pattern"] == f"^{ENTITY_TAG}$"

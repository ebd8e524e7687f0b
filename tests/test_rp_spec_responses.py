"""The resource-provider spec admits both of its dialects: the rp__*.md pages' examples (made valid JSON: placeholders
filled in, the missing braces and stray commas mended) and their ARM16 counterparts (the keys of the ARM Swagger of
2016-02-03 models, INVENTORY §2c) pass the response validation the suite runs (`case.validate_response`, with the
spec-conformance checks only: the suite's own checks need a live target), and a body or header of the wrong type does
not."""

import copy
import datetime
import re

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from iothub_conformance.surfaces import openapi

SCHEMA = openapi.load("resource-provider")
SPEC_CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance,
               response_schema_conformance]

SUB = "/subscriptions/{subscriptionId}"
R = SUB + "/resourceGroups/{resourceGroupName}/providers/Microsoft.Devices/IotHubs"
HUB = R + "/{resourceName}"
PATH_PARAMETERS = {"subscriptionId": "00000000-0000-0000-0000-000000000000", "resourceGroupName": "rg1",
                   "resourceName": "eliohub", "eventHubEndpointName": "events", "name": "cg1",
                   "consumerGroupName": "cg1", "keyName": "iothubowner", "jobId": "job-1"}
HUB_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg1/providers/Microsoft.Devices/IotHubs/eliohub"
KEY_1 = "nB8HGA2wIq9Kh+nmzRd/5HkYrkVqMw/JLGb3SHw0QjM="
KEY_2 = "X0dLdXJUomdTdWx3OVlRTjB1bjBlV0JkQmRzbzZndXE="
REQUEST_ID = {"x-ms-request-id": "6c2f0f5d-2d24-4e5c-a7ce-06f3a9e0a5a0"}
HUB_HEADERS = {**REQUEST_ID, "ETag": '"AAAAAAFD6M4="'}
ASYNC_HEADERS = {**REQUEST_ID, "Location": "https://management.azure.com/operationResults/op-1?api-version=2016-02-03",
                 "Retry-After": "2",
                 "Azure-AsyncOperation": "https://management.azure.com/operations/op-1?api-version=2016-02-03"}

# ---- docs dialect: the pages' examples ----

# rp__retrieve-metadata-of-an-iot-hub.md (Response).
DOCS_HUB = {
    "id": HUB_ID,
    "name": "eliohub",
    "type": "Microsoft.Devices/IotHubs",
    "tags": {"Owner": "owner", "UID": "uid"},
    "location": "East US",
    "resourceGroupName": "rg1",
    "etag": "AAAAAAFD6M4=",
    "properties": {
        "state": 1,
        "provisioningState": "Active",
        "authorizationPolicies": None,
        "hostName": "eliohub.azure-devices.net",
        "eventHubEndpoints": {"events": {"messageRetentionInDays": 1, "partitionCount": 2}},
        "cloudToDevice": {
            "defaultTtlAsIso8601": "PT1H",
            "maxDeliveryCount": 10,
            "feedback": {"maxDeliveryCount": 10, "ttlAsIso8601": "PT1H", "lockDurationAsIso8601": "PT60S"},
        },
    },
    "sku": {"name": "F1", "capacity": 1},
}
DOCS_POLICY = {"name": "iothubowner", "primaryKey": KEY_1, "secondaryKey": KEY_2,
               "permissions": ["ServiceConnect", "RegistryRead", "RegistryWrite", "DeviceConnect"]}
# rp__create-a-new-iot-hub.md (Response): the policies with their keys, and the tier.
DOCS_CREATED_HUB = copy.deepcopy(DOCS_HUB)
DOCS_CREATED_HUB["properties"]["authorizationPolicies"] = [DOCS_POLICY]
DOCS_CREATED_HUB["sku"]["tier"] = "Free"
# rp__list-iot-hubs-in-a-resource-group.md, rp__list-iot-hubs-in-a-subscription.md: a bare array.
DOCS_HUB_LIST = [DOCS_HUB]
# rp__retrieve-security-metadata-of-an-iot-hub.md.
DOCS_SECURITY_METADATA = {"authorizationPolicies": [DOCS_POLICY]}
# rp__list-d2c-consumer-groups.md.
DOCS_CONSUMER_GROUPS = ["$default"]
# export-device-identities1.md (Response; excludeKeys is a bool in its table).
DOCS_EXPORT_JOB = {"jobId": "job-1", "startTimeUtc": "2015-01-28T16:24:48.789Z", "endTimeUtc": None,
                   "type": "export", "status": "enqueued", "progress": 0, "inputBlobContainerUri": None,
                   "exportBlobContainerUri": "https://account.blob.core.windows.net/c?sig=x", "excludeKeys": True,
                   "failureReason": None}

# ---- ARM16 dialect: the same bodies with the keys of the ARM16 models ----

ARM16_POLICY = {"keyName": "iothubowner", "primaryKey": KEY_1, "secondaryKey": KEY_2,
                "rights": "RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect"}
ARM16_EVENT_HUB = {"retentionTimeInDays": 1, "partitionCount": 2, "partitionIds": ["0", "1"],
                   "path": "eliohub", "endpoint": "sb://ihsuprodbyres001dednamespace.servicebus.windows.net/"}
ARM16_HUB = {
    "id": HUB_ID,
    "name": "eliohub",
    "type": "Microsoft.Devices/IotHubs",
    "location": "East US",
    "tags": {"Owner": "owner"},
    "subscriptionid": "00000000-0000-0000-0000-000000000000",
    "resourcegroup": "rg1",
    "etag": "AAAAAAFD6M4=",
    "properties": {
        "authorizationPolicies": None,
        "hostName": "eliohub.azure-devices.net",
        "eventHubEndpoints": {"events": ARM16_EVENT_HUB,
                              "operationsMonitoringEvents": {**ARM16_EVENT_HUB, "path": "eliohub-operationmonitoring"}},
        "cloudToDevice": {"maxDeliveryCount": 10, "defaultTtlAsIso8601": "PT1H",
                          "feedback": {"lockDurationAsIso8601": "PT60S", "ttlAsIso8601": "PT1H",
                                       "maxDeliveryCount": 10}},
        "provisioningState": "Succeeded",
    },
    "sku": {"name": "F1", "tier": "Free", "capacity": 1},
}
ARM16_CREATED_HUB = copy.deepcopy(ARM16_HUB)
ARM16_CREATED_HUB["properties"]["authorizationPolicies"] = [ARM16_POLICY]
ARM16_HUB_LIST = {"value": [ARM16_HUB],
                  "nextLink": "https://management.azure.com" + HUB_ID.rsplit("/", 1)[0] + "?api-version=2016-02-03"
                              "&$skiptoken=2"}
ARM16_LAST_PAGE = {"value": [ARM16_HUB], "nextLink": None}
ARM16_KEYS = {"value": [ARM16_POLICY], "nextLink": None}
ARM16_CONSUMER_GROUPS = {"value": ["$default"], "nextLink": None}
ARM16_JOB = {"jobId": "job-1", "startTimeUtc": "2015-01-28T16:24:48.789Z", "endTimeUtc": None, "type": "export",
             "status": "enqueued", "failureReason": None, "statusMessage": None, "parentJobId": None}
ARM16_ERROR = {"Code": "IotHubNotFound", "HttpStatusCode": "404", "Message": "IotHub not found.",
               "Details": ""}

def _with(body, dotted: str, value):
    body = copy.deepcopy(body)
    *parents, last = dotted.split(".")
    node = body
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[last] = value
    return body


ACCEPTED = [
    # (label, method, path, status, body, headers)
    ("docs get", "GET", HUB, 200, DOCS_HUB, HUB_HEADERS),
    ("arm16 get", "GET", HUB, 200, ARM16_HUB, HUB_HEADERS),
    ("docs create", "PUT", HUB, 201, DOCS_CREATED_HUB, {**HUB_HEADERS, "Azure-AsyncOperation": ASYNC_HEADERS[
        "Azure-AsyncOperation"]}),
    ("arm16 create", "PUT", HUB, 201, ARM16_CREATED_HUB, {**HUB_HEADERS, "Azure-AsyncOperation": ASYNC_HEADERS[
        "Azure-AsyncOperation"]}),
    ("docs sync update", "PUT", HUB, 200, DOCS_CREATED_HUB, HUB_HEADERS),
    ("arm16 sync update", "PUT", HUB, 200, ARM16_CREATED_HUB, HUB_HEADERS),
    ("docs list (resource group)", "GET", R, 200, DOCS_HUB_LIST, REQUEST_ID),
    ("docs list (subscription)", "GET", SUB + "/providers/Microsoft.Devices/IotHubs", 200, DOCS_HUB_LIST, REQUEST_ID),
    ("arm16 list (resource group)", "GET", R, 200, ARM16_HUB_LIST, REQUEST_ID),
    ("arm16 last page (subscription)", "GET", SUB + "/providers/Microsoft.Devices/IotHubs", 200, ARM16_LAST_PAGE,
     REQUEST_ID),
    ("docs security metadata", "POST", HUB + "/IoTHubKeys/listkeys", 200, DOCS_SECURITY_METADATA, REQUEST_ID),
    ("arm16 listkeys", "POST", HUB + "/listkeys", 200, ARM16_KEYS, REQUEST_ID),
    ("arm16 key by name", "POST", HUB + "/IotHubKeys/{keyName}/listkeys", 200, ARM16_POLICY, REQUEST_ID),
    ("docs consumer groups", "GET", HUB + "/events/ConsumerGroups", 200, DOCS_CONSUMER_GROUPS, REQUEST_ID),
    ("arm16 consumer groups", "GET", HUB + "/eventHubEndpoints/{eventHubEndpointName}/ConsumerGroups", 200,
     ARM16_CONSUMER_GROUPS, REQUEST_ID),
    ("arm16 consumer group", "GET", HUB + "/eventHubEndpoints/{eventHubEndpointName}/ConsumerGroups/{name}", 200,
     {"tags": None, "id": HUB_ID + "/eventHubEndpoints/events/ConsumerGroups/cg1", "name": "cg1"}, REQUEST_ID),
    ("docs export (page 1)", "POST", HUB + "/exportDevices", 200, DOCS_EXPORT_JOB, REQUEST_ID),
    ("arm16 export", "POST", HUB + "/exportDevices", 200, ARM16_JOB, REQUEST_ID),
    ("docs export (page 2)", "POST", HUB + "/exportDevices", 202, None, ASYNC_HEADERS),
    ("docs import", "POST", HUB + "/importDevices", 202, None, ASYNC_HEADERS),
    ("arm16 import", "POST", HUB + "/importDevices", 200, {**ARM16_JOB, "type": "import"}, REQUEST_ID),
    ("delete, existing", "DELETE", HUB, 202, None, ASYNC_HEADERS),
    # What the real resource provider sent (tests/recordings/SOURCES.md: the 2016-02-03 recording): a hub with its
    # etag in the body alone and properties.state a name; a delete answering Retry-After 0.
    ("real hub: body etag, no ETag header, state a name", "GET", HUB, 200,
     _with(_with(DOCS_HUB, "etag", "AAAAAACPrdo="), "properties.state", "Active"), REQUEST_ID),
    ("real delete: Retry-After 0", "DELETE", HUB, 202, None, {**ASYNC_HEADERS, "Retry-After": "0"}),
    ("delete, missing", "DELETE", HUB, 204, None, REQUEST_ID),
    ("docs consumer group create", "PUT", HUB + "/events/ConsumerGroups/{consumerGroupName}", 201, None, REQUEST_ID),
    ("arm16 error", "GET", HUB, 404, ARM16_ERROR, REQUEST_ID),
    ("name availability", "POST", SUB + "/providers/Microsoft.Devices/checkNameAvailability", 200,
     {"nameAvailable": False, "reason": "AlreadyExists", "message": "The name is taken."}, REQUEST_ID),
    ("stats", "GET", HUB + "/IotHubStats", 200,
     {"totalDeviceCount": 2, "enabledDeviceCount": 1, "disabledDeviceCount": 1}, REQUEST_ID),
]


REFUSED = [
    # (label, method, path, status, body, headers, what the refusal says)
    ("docs hub, sku.capacity 'one'", "GET", HUB, 200, _with(DOCS_HUB, "sku.capacity", "one"), HUB_HEADERS,
     '"one" is not of type "integer"'),
    ("arm16 hub, sku.capacity 'one'", "GET", HUB, 200, _with(ARM16_HUB, "sku.capacity", "one"), HUB_HEADERS,
     '"one" is not of type "integer"'),
    ("docs list item, sku.capacity 'one'", "GET", R, 200, [_with(DOCS_HUB, "sku.capacity", "one")], REQUEST_ID,
     "oneOf"),
    ("arm16 list item, sku.capacity 'one'", "GET", R, 200,
     {"value": [_with(ARM16_HUB, "sku.capacity", "one")], "nextLink": None}, REQUEST_ID, "oneOf"),
    ("arm16 list without value", "GET", R, 200, {"nextLink": None}, REQUEST_ID, "oneOf"),
    ("retention as a string", "GET", HUB, 200,
     _with(DOCS_HUB, "properties.eventHubEndpoints.events.messageRetentionInDays", "1"), HUB_HEADERS,
     '"1" is not of type "integer"'),
    ("docs policy, permissions a string", "PUT", HUB, 200,
     _with(DOCS_CREATED_HUB, "properties.authorizationPolicies.0.permissions", "RegistryRead"), HUB_HEADERS, "anyOf"),
    ("arm16 policy, unknown rights", "POST", HUB + "/IotHubKeys/{keyName}/listkeys", 200,
     {**ARM16_POLICY, "rights": "Everything"}, REQUEST_ID, '"Everything" is not one of'),
    ("docs consumer groups, a number", "GET", HUB + "/events/ConsumerGroups", 200, [1], REQUEST_ID,
     'is not of type "string"'),
    ("job without status", "POST", HUB + "/exportDevices", 200,
     {k: v for k, v in ARM16_JOB.items() if k != "status"}, REQUEST_ID, '"status" is a required property'),
    ("error, HttpStatusCode a number", "GET", HUB, 404, {**ARM16_ERROR, "HttpStatusCode": 404}, REQUEST_ID,
     '404 is not of type "string"'),
    ("hub, ETag not RFC 7232", "GET", HUB, 200, DOCS_HUB, {**REQUEST_ID, "ETag": "AAAAAACPrdo="}, "does not match"),
    ("no x-ms-request-id", "GET", HUB + "/events/ConsumerGroups", 200, DOCS_CONSUMER_GROUPS, {}, "`x-ms-request-id`"),
    ("create without Azure-AsyncOperation", "PUT", HUB, 201, DOCS_CREATED_HUB, HUB_HEADERS, "`Azure-AsyncOperation`"),
    ("delete 202 without Location", "DELETE", HUB, 202, None,
     {k: v for k, v in ASYNC_HEADERS.items() if k != "Location"}, "`Location`"),
    ("export 202, Retry-After -1", "POST", HUB + "/exportDevices", 202, None, {**ASYNC_HEADERS, "Retry-After": "-1"},
     "less than the minimum of 0"),
]


def validate(method: str, path: str, status: int, body, headers: dict) -> None:
    """What the suite does with a response: `case.validate_response` of a case of the operation."""
    operation = SCHEMA[path][method]
    parameters = {name: PATH_PARAMETERS[name] for name in PATH_PARAMETERS if "{" + name + "}" in path}
    case = operation.Case(path_parameters=parameters, query={"api-version": "2016-02-03"})
    content = {} if body is None else {"json": body}
    request = httpx.Request(method, "https://management.azure.com" + case.formatted_path)
    response = httpx.Response(status, headers=headers, request=request, **content)
    response.elapsed = datetime.timedelta(0)
    if body is not None:
        response.headers["Content-Type"] = "application/json; charset=utf-8"
    case.validate_response(response, checks=SPEC_CHECKS)


@pytest.mark.parametrize("label, method, path, status, body, headers", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_both_dialects_are_accepted(label, method, path, status, body, headers):
    validate(method, path, status, body, headers)


@pytest.mark.parametrize("label, method, path, status, body, headers, reason", REFUSED, ids=[r[0] for r in REFUSED])
def test_wrong_types_and_missing_headers_are_refused(label, method, path, status, body, headers, reason):
    with pytest.raises(FailureGroup) as refused:
        validate(method, path, status, body, headers)
    messages = [str(failure) for failure in refused.value.exceptions]
    assert any(reason in message for message in messages), messages


READS = sorted(op.path for op in (result.ok() for result in SCHEMA.get_all_operations()) if op.method.upper() == "GET")
HUB_NAME = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$")


@pytest.mark.parametrize("path", READS)
def test_every_read_generates_requests(path):
    """Every GET yields cases: a bearer token, api-version 2016-02-03, a hub name of the ARM16 pattern."""
    operation = SCHEMA[path]["GET"]

    @given(operation.as_strategy())
    @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def draw(case):
        assert case.query["api-version"] == "2016-02-03"
        assert case.headers["Authorization"].startswith("Bearer ")
        if "resourceName" in case.path_parameters:
            assert HUB_NAME.match(case.path_parameters["resourceName"])
        if "eventHubEndpointName" in case.path_parameters:
            assert case.path_parameters["eventHubEndpointName"] in ("events", "operationsMonitoringEvents")

    draw()

"""Rules the reference holds to because its specs state them (specs/2016-02-03/jobs.yaml BlobContainerUri,
resource-provider.yaml SymmetricKey and EventHubPropertiesRequest): what one says, the other does."""

from __future__ import annotations

import base64
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iothub_conformance.reference.import_export_jobs import CONTAINER_URI
from tests.support.reference_api import API, ReferenceApi

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

HUB = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Devices/IotHubs/conf-rules"
KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def api() -> ReferenceApi:
    return reference()


def reference() -> ReferenceApi:
    made = ReferenceApi()
    made.provider.delay = 0
    return made


def start_job(api: ReferenceApi, body: dict):
    return api.create_job(body)


def put_hub(api: ReferenceApi, properties: dict):
    body = {"location": "West US", "sku": {"name": "S1", "capacity": 1}, "properties": properties}
    return api.rp_request("PUT", HUB, params=API, json=body)


@pytest.mark.parametrize("uri", [
    "https://account.blob.core.windows.net/container?sv=2020-10-02&sr=c&sp=rwdl&sig=abc%2Bdef",
    "http://127.0.0.1:10000/devstoreaccount1/container?sv=2020-10-02&sig=x",  # Azurite, a five-digit port
    "http://localhost:65535/c",
])
def test_a_container_uri_of_the_spec_form_is_taken(api, uri):
    assert CONTAINER_URI.fullmatch(uri)
    assert start_job(api, {"type": "export", "outputBlobContainerUri": uri}).status_code == 200


@pytest.mark.parametrize("uri", [
    "http://", "http://host", "http://host/", "ftp://host/c", "http://host:65536/c", "http://-host/c",
    "http://h\u00f6st/c", "http://host/c?sig=a b", "http://user@host/c",
])
def test_a_container_uri_outside_the_spec_form_is_400(api, uri):
    assert not CONTAINER_URI.fullmatch(uri)
    refused = start_job(api, {"type": "export", "outputBlobContainerUri": uri})
    assert refused.status_code == 400 and refused.headers["iothub-errorcode"] == "ArgumentInvalid"


def test_an_export_does_not_judge_an_input_uri_it_never_reads(api):
    body = {"type": "export", "outputBlobContainerUri": "https://a.blob.core.windows.net/c", "inputBlobContainerUri": "x"}
    assert start_job(api, body).status_code == 200


def test_a_policy_key_is_a_256_bit_key_in_canonical_base64(api):
    policy = {"keyName": "p", "rights": "RegistryRead"}
    assert put_hub(api, {"authorizationPolicies": [{**policy, "primaryKey": KEY}]}).status_code in (200, 201)
    short = base64.b64encode(bytes(16)).decode()
    loose = KEY[:-2] + "x="  # decodes to the same 32 bytes' length with stray trailing bits
    for key in (short, loose, "not base64!"):
        refused = put_hub(api, {"authorizationPolicies": [{**policy, "primaryKey": key}]})
        assert refused.status_code == 400, key


@pytest.mark.parametrize("left_out", [None, ""])
def test_a_policy_key_left_out_empty_or_null_is_generated(api, left_out):
    made = put_hub(api, {"authorizationPolicies": [{"keyName": "p", "rights": "RegistryRead", "secondaryKey": left_out}]})
    assert made.status_code in (200, 201)
    policy = next(p for p in made.json()["properties"]["authorizationPolicies"] if p["keyName"] == "p")
    assert len(base64.b64decode(policy["secondaryKey"])) == 32


def test_one_retention_spelling_and_a_null_one_does_not_hide_the_other(api):
    both = put_hub(api, {"eventHubEndpoints": {"events": {"retentionTimeInDays": 2, "messageRetentionInDays": 3}}})
    assert both.status_code == 400
    hidden = put_hub(api, {"eventHubEndpoints": {"events": {"retentionTimeInDays": None, "messageRetentionInDays": 0}}})
    assert hidden.status_code == 400  # the docs spelling is read, and 0 days is refused
    fine = put_hub(api, {"eventHubEndpoints": {"events": {"retentionTimeInDays": None, "messageRetentionInDays": 3}}})
    assert fine.status_code in (200, 201)
    assert api.provider.hubs[("s", "g", "conf-rules")].spec.endpoints["events"].retention_days == 3


# -- what these rules read never makes a 500 --------------------------------------------------------------------------

JSON_LEAF = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(max_size=30)
JSON = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                            max_size=3), max_leaves=8)
URIS = st.one_of(st.text(max_size=60), st.from_regex(CONTAINER_URI, fullmatch=True).map(lambda uri: uri[:200]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["import", "export", None]), uri=URIS, other=JSON)
def test_fuzzed_job_bodies_never_make_a_server_error(caplog, kind, uri, other):
    api = reference()
    body = {"type": kind, "inputBlobContainerUri": uri, "outputBlobContainerUri": uri, "excludeKeysInExport": other}
    assert start_job(api, body).status_code < 500
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(JSON, st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
                                    max_size=48)),
       retention=JSON, other_retention=JSON, partitions=JSON)
def test_fuzzed_policies_and_endpoints_never_make_a_server_error(caplog, key, retention, other_retention, partitions):
    api = reference()
    events = {"retentionTimeInDays": retention, "messageRetentionInDays": other_retention, "partitionCount": partitions}
    answer = put_hub(api, {"authorizationPolicies": [{"keyName": "p", "rights": "RegistryRead", "primaryKey": key}],
                           "eventHubEndpoints": {"events": events}})
    assert answer.status_code < 500
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

"""The official RP SDK that speaks api-version 2016-02-03 (azure-mgmt-iothub 0.1.0, OBSERVED.md §2) against
`iothub-conformance serve`: create, get, list, listkeys, consumer groups create/list/delete, delete — every call
succeeds and returns what was stored. This is the reference's resource provider seen by a real client, not by the
suite that shares its authors' reading of the pages.

Run with `-s` to see the transcript of calls and answers.
"""

import base64
import secrets
import time

import pytest

iothub = pytest.importorskip("azure.mgmt.iothub", reason="the RP SDK is in the test extra (azure-mgmt-iothub==0.1.0)")

from azure.mgmt.iothub import IotHubClient  # noqa: E402
from azure.mgmt.iothub.models import (  # noqa: E402
    AccessRights,
    EventHubProperties,
    IotHubDescription,
    IotHubProperties,
    IotHubSkuInfo,
    SharedAccessSignatureAuthorizationRule,
)
from msrest.authentication import BasicTokenAuthentication  # noqa: E402

from tests.support.served import rp_flags  # noqa: E402

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
GROUP = "sdk-group"


def key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def sdk(served_hub):
    flags = rp_flags(served_hub.announced)
    assert flags["--rp-url"] == served_hub.url, flags
    client = IotHubClient(BasicTokenAuthentication({"access_token": flags["--rp-token"]}), SUBSCRIPTION,
                          base_url=flags["--rp-url"])
    # The poller waits this long between polls when an answer has no Retry-After (the create's 201 has none: the page
    # names only Azure-AsyncOperation). The SDK's own `long_running_operation_retry_timeout` argument sets another
    # attribute than the one msrestazure 0.4.34's poller reads, so it is set here.
    client.config.long_running_operation_timeout = 1
    assert client.config.api_version == "2016-02-03"
    return client.iot_hub_resource


STARTED = time.monotonic()


def say(*words) -> None:
    print(f"sdk [{time.monotonic() - STARTED:5.1f} s]:", *words)


def test_rp_sdk_of_2016_02_03_manages_a_hub_on_the_served_reference(sdk):
    owner = SharedAccessSignatureAuthorizationRule(
        key_name="iothubowner", primary_key=key(), secondary_key=key(),
        rights=AccessRights.registry_read_registry_write_service_connect_device_connect)
    reader = SharedAccessSignatureAuthorizationRule(key_name="reader", primary_key=key(), secondary_key=key(),
                                                    rights=AccessRights.registry_read)
    wanted = IotHubDescription(
        location="westus", subscriptionid=SUBSCRIPTION, resourcegroup=GROUP, tags={"made-by": "sdk-test"},
        sku=IotHubSkuInfo(name="S1", capacity=2),
        properties=IotHubProperties(authorization_policies=[owner, reader],
                                    event_hub_endpoints={"events": EventHubProperties(retention_time_in_days=1,
                                                                                      partition_count=2)}))
    began = time.monotonic()

    created = sdk.create_or_update(GROUP, "sdk-hub", wanted).result(timeout=30)
    say("create_or_update →", created.name, created.sku.name, created.sku.capacity, created.tags)
    assert (created.name, created.location, created.sku.name, created.sku.capacity) == ("sdk-hub", "westus", "S1", 2)
    assert created.tags == {"made-by": "sdk-test"}

    got = sdk.get(GROUP, "sdk-hub")
    say("get →", got.id, got.type, got.properties.host_name, got.etag)
    assert got.name == "sdk-hub" and got.type == "Microsoft.Devices/IotHubs"
    assert got.id == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Devices/IotHubs/sdk-hub"
    assert (got.sku.name, got.sku.capacity, got.tags) == ("S1", 2, {"made-by": "sdk-test"})
    assert got.properties.event_hub_endpoints["events"].partition_count == 2
    assert got.etag

    in_group = [hub.name for hub in sdk.list_by_resource_group(GROUP)]
    in_subscription = [hub.name for hub in sdk.list_by_subscription()]
    say("list_by_resource_group →", in_group, "; list_by_subscription →", in_subscription)
    assert in_group == ["sdk-hub"] and in_subscription == ["sdk-hub"]

    keys = {rule.key_name: rule for rule in sdk.list_keys(GROUP, "sdk-hub")}
    say("list_keys →", {name: rule.rights.value for name, rule in keys.items()})
    assert set(keys) == {"iothubowner", "reader"}
    for given in (owner, reader):
        listed = keys[given.key_name]
        assert (listed.primary_key, listed.secondary_key, listed.rights) == (
            given.primary_key, given.secondary_key, given.rights)

    group = sdk.create_event_hub_consumer_group(GROUP, "sdk-hub", "events", "sdk-readers")
    say("create_event_hub_consumer_group →", group.name)
    assert group.name == "sdk-readers"
    groups = list(sdk.list_event_hub_consumer_groups(GROUP, "sdk-hub", "events"))
    say("list_event_hub_consumer_groups →", groups)
    assert sorted(groups) == ["$default", "sdk-readers"]
    sdk.delete_event_hub_consumer_group(GROUP, "sdk-hub", "events", "sdk-readers")
    after = list(sdk.list_event_hub_consumer_groups(GROUP, "sdk-hub", "events"))
    say("delete_event_hub_consumer_group → then listed:", after)
    assert after == ["$default"]

    sdk.delete(GROUP, "sdk-hub").result(timeout=30)
    remaining = [hub.name for hub in sdk.list_by_resource_group(GROUP)]
    say("delete → then listed:", remaining, f"({time.monotonic() - began:.1f} s in all)")
    assert remaining == []

"""The resource-provider plumbing against respx fakes: long-running operations, paging, the RP response rules, the
run's guard and the --rp-* settings. Each rule passes on a conforming answer and fails on the shape that breaks it."""

import httpx
import pytest
import respx

from iothub_conformance.config import ConfigError, Settings
from iothub_conformance.surfaces import rp
from iothub_conformance.targets.resolve import resolve
from iothub_conformance.targets.target import RpEndpoint, SafetyError

BASE = "https://arm.example"
HUBS = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Devices/IotHubs"
OPERATION = f"{BASE}/subscriptions/s/providers/Microsoft.Devices/operationResults/op1?api-version=2016-02-03"


class FakeClock:
    def __init__(self):
        self.moved = []

    def advance(self, seconds):
        self.moved.append(seconds)


def client() -> httpx.Client:
    return httpx.Client(base_url=BASE)


# -- long-running operations ---------------------------------------------------------------------------------------


@respx.mock
def test_wait_follows_the_operation_to_succeeded_moving_the_clock_by_retry_after():
    respx.get(OPERATION).mock(side_effect=[
        httpx.Response(200, json={"status": "InProgress"}, headers={"Retry-After": "3"}),
        httpx.Response(200, json={"status": "InProgress"}),
        httpx.Response(200, json={"status": "Succeeded"}),
    ])
    clock = FakeClock()
    operation = rp.wait(client(), OPERATION, timeout=60, clock=clock)
    assert operation.seen == ["InProgress", "Succeeded"] and operation.succeeded and operation.polls == 3
    assert clock.moved == [3.0, 1.0]


@respx.mock
def test_wait_gives_up_on_an_operation_that_never_ends():
    respx.get(OPERATION).mock(return_value=httpx.Response(200, json={"status": "InProgress"}))
    operation = rp.wait(client(), OPERATION, timeout=60, clock=FakeClock())
    assert not operation.ended and operation.polls == rp.CLOCK_POLLS and operation.seen == ["InProgress"]


@respx.mock
def test_wait_stops_when_the_operation_url_stops_answering_200():
    respx.get(OPERATION).mock(return_value=httpx.Response(404, json={"Code": "NotFound", "Message": "gone"}))
    operation = rp.wait(client(), OPERATION, timeout=60, clock=FakeClock())
    assert not operation.ended and operation.last.status_code == 404


def test_wait_without_an_operation_url_reports_none():
    operation = rp.wait(client(), None, timeout=1)
    assert operation.url is None and not operation.ended


@pytest.mark.parametrize(("header", "seconds"), [("5", 5.0), ("0", 1.0), ("x", 1.0), ("3600", 60.0)])
def test_retry_after_is_bounded(header, seconds):
    assert rp.retry_after(httpx.Response(200, headers={"Retry-After": header})) == seconds


# -- paging --------------------------------------------------------------------------------------------------------


@respx.mock
def test_pages_follows_next_link_to_the_end():
    # The page-2 route first: respx takes the first route that matches, and a URL without a query matches any query.
    respx.get(f"{BASE}{HUBS}", params={"page": "2"}).mock(
        return_value=httpx.Response(200, json={"value": [{"name": "c"}]}))
    respx.get(f"{BASE}{HUBS}").mock(return_value=httpx.Response(
        200, json={"value": [{"name": "a"}, {"name": "b"}], "nextLink": f"{BASE}{HUBS}?page=2"}))
    listing = rp.pages(client(), HUBS)
    assert [i["name"] for i in listing.items] == ["a", "b", "c"] and len(listing.pages) == 2
    assert listing.shape == "value" and not listing.problems


@respx.mock
def test_pages_reports_a_next_link_that_comes_back():
    respx.get(f"{BASE}{HUBS}", params={"page": "2"}).mock(return_value=httpx.Response(
        200, json={"value": [{"name": "a"}], "nextLink": f"{BASE}{HUBS}?page=2"}))
    respx.get(f"{BASE}{HUBS}").mock(return_value=httpx.Response(
        200, json={"value": [{"name": "a"}], "nextLink": f"{BASE}{HUBS}?page=2"}))
    listing = rp.pages(client(), HUBS)
    assert any("twice" in p for p in listing.problems)
    assert rp.repeated([i["name"] for i in listing.items]) == ["a"]


@respx.mock
def test_pages_takes_a_bare_array_as_one_page():
    respx.get(f"{BASE}{HUBS}").mock(return_value=httpx.Response(200, json=[{"name": "a"}]))
    listing = rp.pages(client(), HUBS)
    assert listing.shape == "array" and listing.items == [{"name": "a"}] and not listing.problems


@respx.mock
@pytest.mark.parametrize("body", [{"items": []}, {"value": "a"}, "text"])
def test_pages_reports_a_page_without_a_value_array(body):
    respx.get(f"{BASE}{HUBS}").mock(return_value=httpx.Response(200, json=body))
    assert rp.pages(client(), HUBS).problems


def test_repeated_compares_names_case_insensitively():
    assert rp.repeated(["Hub", "hub", "other"]) == ["hub"]


# -- policies in either dialect ------------------------------------------------------------------------------------


def test_policies_read_either_dialect_alike():
    docs = [{"name": "p", "primaryKey": "k1", "secondaryKey": "k2", "permissions": ["RegistryRead", "ServiceConnect"]}]
    arm16 = [{"keyName": "p", "primaryKey": "k1", "secondaryKey": "k2", "rights": "RegistryRead, ServiceConnect"}]
    assert rp.policies_of(docs) == rp.policies_of(arm16) == {
        "p": {"rights": frozenset({"RegistryRead", "ServiceConnect"}), "primaryKey": "k1", "secondaryKey": "k2"}}
    assert rp.policies_of(rp.policy("p", ["RegistryRead"], "docs")) == {}  # one policy is not a list
    assert rp.policy("p", ["RegistryRead", "ServiceConnect"], "arm16") == {
        "keyName": "p", "rights": "RegistryRead, ServiceConnect"}


@pytest.mark.parametrize(("dialect", "retention"), [("docs", "messageRetentionInDays"),
                                                    ("arm16", "retentionTimeInDays")])
def test_hub_body_speaks_the_dialect(dialect, retention):
    body = rp.hub_body("West US", dialect)
    assert retention in body["properties"]["eventHubEndpoints"]["events"]
    assert ("tier" in body["sku"]) == (dialect == "docs")


# -- the run's guard and the settings ------------------------------------------------------------------------------


@pytest.fixture
def target():
    made = resolve(Settings())
    yield made
    made.close()


def test_the_embedded_reference_serves_the_rp_with_its_own_token(target):
    assert target.rp is not None and target.rp.token == target.app.state.hub.rp_token
    assert target.rp.token not in repr(target.rp)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", f"{HUBS}/users-hub"), ("DELETE", f"{HUBS}/users-hub"), ("POST", f"{HUBS}/users-hub/listkeys"),
    ("POST", f"{HUBS}/users-hub/IoTHubKeys/listkeys"), ("PUT", f"{HUBS}/users-hub/events/ConsumerGroups/g"),
    ("POST", "/subscriptions/s/resourceGroups/g/providers/Microsoft.Devices/somethingElse"),
])
def test_the_rp_client_refuses_to_touch_a_hub_the_run_did_not_create(target, method, path):
    with pytest.raises(SafetyError):
        target.rp_client().request(method, path, params={"api-version": "2016-02-03"})


def test_the_rp_client_reads_and_asks_about_names_freely(target):
    c = target.rp_client()
    assert c.get(f"{HUBS}/users-hub", params={"api-version": "2016-02-03"}).status_code == 404
    asked = c.post("/subscriptions/s/providers/Microsoft.Devices/checkNameAvailability",
                   params={"api-version": "2016-02-03"}, json={"Name": "users-hub"})
    assert asked.status_code == 200


@pytest.mark.parametrize(("given", "message"), [
    ({"rp_url": "https://management.azure.com"}, "--rp-token"),
    ({"rp_url": "https://management.azure.com", "rp_token": "t", "rp_subscription": "s"}, "--rp-resource-group"),
    ({"rp_url": "ftp://x", "rp_token": "t", "rp_subscription": "s", "rp_resource_group": "g"}, "http"),
    ({"rp_url": "https://m", "rp_token": "Bearer t", "rp_subscription": "s", "rp_resource_group": "g"}, "Bearer"),
    ({"rp_token": "t"}, "need --rp-url"),
    ({"rp_timeout": "soon"}, "number of seconds"),
])
def test_bad_rp_settings_are_one_clear_error(given, message):
    with pytest.raises(ConfigError, match=message):
        resolve(Settings.from_env(**given))


def test_an_external_target_without_rp_url_has_no_resource_provider(monkeypatch):
    for name in ("IOTHUB_RP_URL", "IOTHUB_RP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    made = resolve(Settings(target_url="http://127.0.0.1:1",
                            connection_string="HostName=h;SharedAccessKeyName=p;SharedAccessKey=a2V5"))
    assert made.rp is None


def test_rp_endpoint_repr_hides_the_token():
    assert "secret-token" not in repr(RpEndpoint("https://m", "secret-token", "s", "g"))


# -- only the resource provider: URLs it hands out on another host are reported, never followed ---------------------


@respx.mock
@pytest.mark.parametrize("url", ["https://elsewhere.example/operationResults/op1", "http://arm.example/op1",
                                 "https://arm.example:8443/op1", "https://user@elsewhere.example/op1"])
def test_wait_never_follows_an_operation_url_off_the_resource_provider(url):
    elsewhere = respx.get(url__startswith=url.split("/op")[0]).mock(return_value=httpx.Response(200))
    operation = rp.wait(client(), url, timeout=60, clock=FakeClock())
    assert not elsewhere.called and operation.polls == 0
    assert not operation.ended and "is not on the resource provider https://arm.example: not followed" in \
        operation.elsewhere


@respx.mock
def test_wait_follows_an_operation_url_on_the_resource_provider_whatever_its_case_or_default_port():
    respx.get(OPERATION).mock(return_value=httpx.Response(200, json={"status": "Succeeded"}))
    operation = rp.wait(client(), OPERATION.replace("https://arm.example", "https://ARM.example:443"), timeout=60)
    assert operation.succeeded and operation.elsewhere is None


@respx.mock
def test_pages_never_follows_a_next_link_off_the_resource_provider():
    other = respx.get("https://elsewhere.example/hubs").mock(return_value=httpx.Response(200, json={"value": []}))
    respx.get(f"{BASE}{HUBS}").mock(return_value=httpx.Response(
        200, json={"value": [{"name": "a"}], "nextLink": "https://elsewhere.example/hubs?page=2"}))
    listing = rp.pages(client(), HUBS)
    assert not other.called and [i["name"] for i in listing.items] == ["a"]
    assert listing.problems == ["nextLink https://elsewhere.example/hubs?page=2 is not on the resource provider "
                                "https://arm.example: not followed"]


@respx.mock
def test_pages_never_starts_a_list_off_the_resource_provider():
    other = respx.get("https://elsewhere.example/keys").mock(return_value=httpx.Response(200, json={"value": []}))
    listing = rp.pages(client(), "https://elsewhere.example/keys")
    assert not other.called and listing.problems and not listing.pages

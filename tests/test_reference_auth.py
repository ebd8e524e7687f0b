"""The reference hub's SAS token rules (INVENTORY §5, OBSERVED §2) and its policies."""

from __future__ import annotations

import base64
import time
from urllib.parse import quote_plus

import pytest
from starlette.requests import Request

from iothub_conformance.config import ConfigError
from iothub_conformance.http import sas
from iothub_conformance.reference import Hub
from iothub_conformance.reference.authorization import authorize
from tests.support.reference_api import ReferenceApi

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

# Through a proxy or port-forward: a host that is not the hub's own name.
FORWARDED = "http://127.0.0.1:8080"


@pytest.fixture
def api() -> ReferenceApi:
    return ReferenceApi()


def policy_token(hub: Hub, policy: str = "iothubowner", uri: str | None = None, **kwargs) -> str:
    return sas.build_token(uri or hub.host_name, hub.policies[policy].key, policy, **kwargs)


def make_device(api: ReferenceApi, device_id: str = "dev1") -> dict:
    response = api.put_device(device_id)
    assert response.status_code == 200
    return response.json()


def assert_401(response) -> None:
    assert response.status_code == 401
    assert response.headers["iothub-errorcode"] == "IotHubUnauthorizedAccess"
    assert response.json()["Message"].startswith("ErrorCode:IotHubUnauthorizedAccess;")
    assert response.headers["x-ms-request-id"]


def test_owner_token_is_accepted(api):
    assert api.request("GET", "/devices", token=policy_token(api.hub)).status_code == 200


def test_missing_authorization_is_401(api):
    assert_401(api.request("GET", "/devices", token=None))


@pytest.mark.parametrize("header", [
    "", "Bearer abc", "SharedAccessSignature ", "SharedAccessSignature sr=x&se=1",
    "sharedaccesssignature sr=a&sig=b&se=1", "SharedAccessSignature sr=a&sig=b&se=soon",
])
def test_malformed_token_is_401(api, header):
    assert_401(api.request("GET", "/devices", token=header))


def test_expired_token_is_401(api):
    assert_401(api.request("GET", "/devices", token=policy_token(api.hub, expiry=int(time.time()) - 1)))


def test_bad_signature_is_401(api):
    hub = api.hub
    wrong = sas.build_token(hub.host_name, hub.policies["service"].key, "iothubowner")
    assert_401(api.request("GET", "/devices", token=wrong))
    good = policy_token(hub)
    assert_401(api.request("GET", "/devices", token=good.replace("se=", "se=1")))  # se is signed: changing it breaks it


def test_unknown_policy_is_401(api):
    hub = api.hub
    token = sas.build_token(hub.host_name, hub.policies["iothubowner"].key, "nobody")
    assert_401(api.request("GET", "/devices", token=token))


def test_token_for_another_hub_is_401(api):
    assert_401(api.request("GET", "/devices", token=policy_token(api.hub, uri="other-hub.azure-devices.net")))


def test_audience_is_the_hub_host_not_the_host_header(api):
    # Through a proxy or port-forward the Host header differs; the token is still for the hub's own host name.
    accepted = api.request("GET", f"{FORWARDED}/devices", token=policy_token(api.hub))
    assert accepted.status_code == 200 and accepted.request.headers["Host"] == "127.0.0.1:8080"
    assert_401(api.request("GET", f"{FORWARDED}/devices", token=policy_token(api.hub, uri="127.0.0.1:8080")))


def test_host_in_sr_compares_case_insensitively():
    api = ReferenceApi(hub=Hub.create(host_name="Conformance-Hub.azure-devices.net"))
    hub = api.hub
    assert api.request("GET", "/devices", token=policy_token(hub)).status_code == 200  # build_token lower-cases sr
    se = int(time.time()) + 600
    sr = quote_plus("CONFORMANCE-HUB.AZURE-DEVICES.NET")
    token = f"SharedAccessSignature sr={sr}&sig={quote_plus(sas.sign(sr, se, hub.policies['iothubowner'].key))}" \
            f"&se={se}&skn=iothubowner"
    assert api.request("GET", "/devices", token=token).status_code == 200


def test_path_scoped_token_covers_by_segment(api):
    make_device(api, "dev1")
    make_device(api, "dev10")
    token = policy_token(api.hub, uri=f"{api.hub.host_name}/devices/dev1")
    assert api.request("GET", "/devices/dev1", token=token).status_code == 200
    assert_401(api.request("GET", "/devices/dev10", token=token))
    assert_401(api.request("GET", "/devices", token=token))


def test_device_token_on_a_registry_operation_is_401(api):
    device = make_device(api, "dev1")
    key = device["authentication"]["symmetricKey"]["primaryKey"]
    token = sas.build_token(f"{api.hub.host_name}/devices/dev1", key)
    assert_401(api.request("GET", "/devices/dev1", token=token))
    assert_401(api.request("PUT", "/devices/dev1", token=token, json={}))
    assert_401(api.request("DELETE", "/devices/dev1", token=token))


@pytest.mark.parametrize(("policy", "method", "url", "allowed"), [
    ("registryRead", "GET", "/devices", True),
    ("registryRead", "GET", "/statistics/devices", True),
    ("registryRead", "PUT", "/devices/x", False),
    ("registryRead", "DELETE", "/devices/dev1", False),
    ("registryRead", "GET", "/statistics/service", False),
    ("registryReadWrite", "GET", "/devices/dev1", True),
    ("registryReadWrite", "PUT", "/devices/x", True),
    ("registryReadWrite", "DELETE", "/devices/dev1", True),
    ("service", "GET", "/statistics/service", True),
    ("service", "GET", "/devices", False),
    ("device", "GET", "/devices/dev1", False),
    ("device", "GET", "/statistics/service", False),
])
def test_policy_permissions(api, policy, method, url, allowed):
    make_device(api, "dev1")
    kwargs = {"json": {}} if method == "PUT" else {}
    response = api.request(method, url, token=policy_token(api.hub, policy), **kwargs)
    if allowed:
        assert response.status_code in (200, 204)
    else:
        assert_401(response)


def request_for(hub: Hub, token: str, path: str) -> Request:
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"authorization", token.encode())]}
    return Request(scope)


def test_device_token_grants_device_connect_for_its_own_device_only(api):
    hub = api.hub
    device = make_device(api, "Dev1")
    make_device(api, "dev2")
    keys = device["authentication"]["symmetricKey"]
    for key in (keys["primaryKey"], keys["secondaryKey"]):
        token = sas.build_token(f"{hub.host_name}/devices/Dev1", key)  # build_token lower-cases sr, as clients do
        request = request_for(hub, token, "/devices/Dev1/messages/events")
        assert authorize(hub, request, "DeviceConnect", "Dev1") is None
        assert authorize(hub, request, "RegistryRead", "Dev1")
        assert authorize(hub, request_for(hub, token, "/devices/dev2/messages/events"), "DeviceConnect", "dev2")
    wrong_key = sas.build_token(f"{hub.host_name}/devices/Dev1", hub.policies["device"].key)
    assert authorize(hub, request_for(hub, wrong_key, "/devices/Dev1/messages/events"), "DeviceConnect", "Dev1")
    ghost = sas.build_token(f"{hub.host_name}/devices/ghost", keys["primaryKey"])
    assert authorize(hub, request_for(hub, ghost, "/devices/ghost/messages/events"), "DeviceConnect", "ghost")


def test_device_token_must_be_device_scoped(api):
    hub = api.hub
    device = make_device(api, "dev1")
    token = sas.build_token(hub.host_name, device["authentication"]["symmetricKey"]["primaryKey"])
    assert authorize(hub, request_for(hub, token, "/devices/dev1/messages/events"), "DeviceConnect", "dev1")


def test_policy_device_connect(api):
    hub = api.hub
    make_device(api, "dev1")
    request = request_for(hub, policy_token(hub, "device"), "/devices/dev1/messages/events")
    assert authorize(hub, request, "DeviceConnect", "dev1") is None
    assert authorize(hub, request, "ServiceConnect")


# A made-up key for these tests, readable as such; real keys are generated at run time.
TEST_KEY = base64.b64encode(b"test-key-not-a-secret!").decode()


def test_create_with_owner_key():
    key = TEST_KEY
    hub = Hub.create(host_name="myhub.azure-devices.net", owner_key=key)
    assert hub.policies["iothubowner"].key == key
    assert hub.connection_string() == f"HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;" \
                                      f"SharedAccessKey={key}"
    token = sas.build_token(hub.host_name, key, "iothubowner")
    assert ReferenceApi(hub=hub).request("GET", "/devices", token=token).status_code == 200
    assert set(hub.policies) == {"iothubowner", "service", "device", "registryRead", "registryReadWrite"}


def test_from_connection_string():
    cs = sas.parse_connection_string("HostName=h1.azure-devices.net;SharedAccessKeyName=registryRead;"
                                     f"SharedAccessKey={TEST_KEY}")
    hub = Hub.from_connection_string(cs)
    assert hub.host_name == "h1.azure-devices.net"
    assert hub.policies["registryRead"].key == cs.key
    assert hub.policies["registryRead"].permissions == {"RegistryRead", "RegistryWrite", "ServiceConnect",
                                                        "DeviceConnect"}
    assert hub.policies["iothubowner"].key != cs.key
    assert hub.connection_string("registryRead") == str(cs)
    token = sas.build_token(cs.host_name, cs.key, cs.key_name)
    assert ReferenceApi(hub=hub).request("PUT", "/devices/d", token=token, json={}).status_code == 200


def test_from_a_device_connection_string_is_a_config_error():
    cs = sas.parse_connection_string("HostName=h1.azure-devices.net;DeviceId=d;"
                                     f"SharedAccessKey={TEST_KEY}")
    with pytest.raises(ConfigError):
        Hub.from_connection_string(cs)


def test_connection_string_of_an_unknown_policy_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown policy"):
        Hub.create().connection_string("nobody")

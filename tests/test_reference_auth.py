"""The reference hub's SAS token rules (INVENTORY §5, OBSERVED §2) and its policies."""

from __future__ import annotations

import base64
import time
import warnings
from urllib.parse import quote_plus

import pytest
from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request

from iothub_conformance.config import ConfigError
from iothub_conformance.http import sas
from iothub_conformance.reference import Hub, create_app
from iothub_conformance.reference.authorization import authorize

with warnings.catch_warnings():  # Starlette asks for a newer client package; httpx is what this project uses
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

API = {"api-version": "2016-02-03"}


@pytest.fixture
def hub() -> Hub:
    return Hub.create()


def client(hub: Hub, base_url: str | None = None) -> TestClient:
    return TestClient(create_app(hub), base_url=base_url or f"https://{hub.host_name}")


def policy_token(hub: Hub, policy: str = "iothubowner", uri: str | None = None, **kwargs) -> str:
    return sas.build_token(uri or hub.host_name, hub.policies[policy].key, policy, **kwargs)


def call(hub: Hub, token: str | None, method: str = "GET", url: str = "/devices", base_url: str | None = None,
         **kwargs):
    headers = {"Authorization": token} if token is not None else {}
    return client(hub, base_url).request(method, url, params=API, headers=headers, **kwargs)


def make_device(hub: Hub, device_id: str = "dev1") -> dict:
    response = call(hub, policy_token(hub), "PUT", f"/devices/{device_id}", json={})
    assert response.status_code == 200
    return response.json()


def assert_401(response) -> None:
    assert response.status_code == 401
    assert response.headers["iothub-errorcode"] == "IotHubUnauthorizedAccess"
    assert response.json()["Message"].startswith("ErrorCode:IotHubUnauthorizedAccess;")
    assert response.headers["x-ms-request-id"]


def test_owner_token_is_accepted(hub):
    assert call(hub, policy_token(hub)).status_code == 200


def test_missing_authorization_is_401(hub):
    assert_401(call(hub, None))


@pytest.mark.parametrize("header", [
    "", "Bearer abc", "SharedAccessSignature ", "SharedAccessSignature sr=x&se=1",
    "sharedaccesssignature sr=a&sig=b&se=1", "SharedAccessSignature sr=a&sig=b&se=soon",
])
def test_malformed_token_is_401(hub, header):
    assert_401(call(hub, header))


def test_expired_token_is_401(hub):
    assert_401(call(hub, policy_token(hub, expiry=int(time.time()) - 1)))


def test_bad_signature_is_401(hub):
    wrong = sas.build_token(hub.host_name, hub.policies["service"].key, "iothubowner")
    assert_401(call(hub, wrong))
    good = policy_token(hub)
    assert_401(call(hub, good.replace("se=", "se=1")))  # se is signed: changing it breaks the signature


def test_unknown_policy_is_401(hub):
    assert_401(call(hub, sas.build_token(hub.host_name, hub.policies["iothubowner"].key, "nobody")))


def test_token_for_another_hub_is_401(hub):
    assert_401(call(hub, policy_token(hub, uri="other-hub.azure-devices.net")))


def test_audience_is_the_hub_host_not_the_host_header(hub):
    # Through a proxy or port-forward the Host header differs; the token is still for the hub's own host name.
    assert call(hub, policy_token(hub), base_url="http://127.0.0.1:8080").status_code == 200
    assert_401(call(hub, policy_token(hub, uri="127.0.0.1:8080"), base_url="http://127.0.0.1:8080"))


def test_host_in_sr_compares_case_insensitively():
    hub = Hub.create(host_name="Conformance-Hub.azure-devices.net")
    assert call(hub, policy_token(hub)).status_code == 200  # build_token lower-cases sr
    se = int(time.time()) + 600
    sr = quote_plus("CONFORMANCE-HUB.AZURE-DEVICES.NET")
    token = f"SharedAccessSignature sr={sr}&sig={quote_plus(sas.sign(sr, se, hub.policies['iothubowner'].key))}" \
            f"&se={se}&skn=iothubowner"
    assert call(hub, token).status_code == 200


def test_path_scoped_token_covers_by_segment(hub):
    make_device(hub, "dev1")
    make_device(hub, "dev10")
    token = policy_token(hub, uri=f"{hub.host_name}/devices/dev1")
    assert call(hub, token, url="/devices/dev1").status_code == 200
    assert_401(call(hub, token, url="/devices/dev10"))
    assert_401(call(hub, token, url="/devices"))


def test_device_token_on_a_registry_operation_is_401(hub):
    device = make_device(hub, "dev1")
    key = device["authentication"]["symmetricKey"]["primaryKey"]
    token = sas.build_token(f"{hub.host_name}/devices/dev1", key)
    assert_401(call(hub, token, url="/devices/dev1"))
    assert_401(call(hub, token, "PUT", "/devices/dev1", json={}))
    assert_401(call(hub, token, "DELETE", "/devices/dev1"))


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
def test_policy_permissions(hub, policy, method, url, allowed):
    make_device(hub, "dev1")
    kwargs = {"json": {}} if method == "PUT" else {}
    response = call(hub, policy_token(hub, policy), method, url, **kwargs)
    if allowed:
        assert response.status_code in (200, 204)
    else:
        assert_401(response)


def request_for(hub: Hub, token: str, path: str) -> Request:
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"authorization", token.encode())]}
    return Request(scope)


def test_device_token_grants_device_connect_for_its_own_device_only(hub):
    device = make_device(hub, "Dev1")
    make_device(hub, "dev2")
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


def test_device_token_must_be_device_scoped(hub):
    device = make_device(hub, "dev1")
    token = sas.build_token(hub.host_name, device["authentication"]["symmetricKey"]["primaryKey"])
    assert authorize(hub, request_for(hub, token, "/devices/dev1/messages/events"), "DeviceConnect", "dev1")


def test_policy_device_connect(hub):
    make_device(hub, "dev1")
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
    assert call(hub, sas.build_token(hub.host_name, key, "iothubowner")).status_code == 200
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
    assert call(hub, token, "PUT", "/devices/d", json={}).status_code == 200


def test_from_a_device_connection_string_is_a_config_error():
    cs = sas.parse_connection_string("HostName=h1.azure-devices.net;DeviceId=d;"
                                     f"SharedAccessKey={TEST_KEY}")
    with pytest.raises(ConfigError):
        Hub.from_connection_string(cs)


def test_connection_string_of_an_unknown_policy_is_a_config_error(hub):
    with pytest.raises(ConfigError, match="unknown policy"):
        hub.connection_string("nobody")

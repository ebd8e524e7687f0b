"""The reference grants each 2021-04-12 operation to exactly the default policies whose permissions the sources name
for it (PERM-*, rules/requirements_2021_registry.py): every other default policy's token is refused with 401 and
changes nothing. Operations whose permission no source states (purge, jobs, service statistics) are not held here."""

from __future__ import annotations

import pytest

from iothub_conformance.reference.policies import DEFAULT_POLICIES, REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT
from tests.support.reference_api import ReferenceApi

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

V21 = {"api-version": "2021-04-12"}
CALL = {"methodName": "m", "payload": None, "responseTimeoutInSeconds": 5}
TAGS = {"tags": {"a": 1}}

# (method, path, body, the permission it needs)
OPERATIONS = [
    ("GET", "/devices", None, REGISTRY_READ),
    ("GET", "/devices/d1", None, REGISTRY_READ),
    ("GET", "/statistics/devices", None, REGISTRY_READ),
    ("GET", "/devices/d1/modules", None, REGISTRY_READ),
    ("GET", "/devices/d1/modules/m1", None, REGISTRY_READ),
    ("PUT", "/devices/new", {"deviceId": "new"}, REGISTRY_WRITE),
    ("PUT", "/devices/d1", {"deviceId": "d1", "status": "disabled"}, REGISTRY_WRITE),
    ("DELETE", "/devices/d1", None, REGISTRY_WRITE),
    ("POST", "/devices", [{"id": "new", "importMode": "create"}], REGISTRY_WRITE),
    ("PUT", "/devices/d1/modules/new", {}, REGISTRY_WRITE),
    ("PUT", "/devices/d1/modules/m1", {"managedBy": "x"}, REGISTRY_WRITE),
    ("DELETE", "/devices/d1/modules/m1", None, REGISTRY_WRITE),
    *((method, path, body, SERVICE_CONNECT) for path in ("/twins/d1", "/twins/d1/modules/m1")
      for method, body in (("GET", None), ("PATCH", TAGS), ("PUT", TAGS))),
    ("POST", "/devices/query", {"query": "SELECT * FROM devices"}, SERVICE_CONNECT),
    ("POST", "/twins/d1/methods", CALL, SERVICE_CONNECT),
    ("POST", "/twins/d1/modules/m1/methods", CALL, SERVICE_CONNECT),
]


def snapshot(api: ReferenceApi) -> tuple:
    twins = (api.request("GET", "/twins/d1").json()["etag"], api.request("GET", "/twins/d1/modules/m1").json()["etag"])
    with api.hub.lock:  # no request while it is held: the handlers take it
        return (sorted((d, v.etag) for d, v in api.hub.devices.items()),
                sorted((d, m, v.etag) for d, held in api.hub.modules.items() for m, v in held.items()), twins)


@pytest.mark.parametrize("policy", sorted(DEFAULT_POLICIES))
@pytest.mark.parametrize("method, path, body, permission", OPERATIONS, ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS])
def test_a_default_policy_is_served_exactly_when_it_holds_the_permission(policy, method, path, body, permission):
    api = ReferenceApi(params=V21)
    api.request("PUT", "/devices/d1", json={"deviceId": "d1"})
    api.request("PUT", "/devices/d1/modules/m1", json={})
    calls = []
    api.hub.method_handlers["d1"] = api.hub.module_method_handlers[("d1", "m1")] = \
        lambda name, payload: calls.append(name) or (200, None)
    before = snapshot(api)
    headers = {"If-Match": "*"} if method == "DELETE" else {}
    response = api.request(method, path, token=api.policy(policy), json=body, headers=headers)
    granted = permission in DEFAULT_POLICIES[policy]
    if granted:
        assert response.status_code < 300, response.text
    else:
        assert response.status_code == 401 and response.headers["iothub-errorcode"] == "IotHubUnauthorizedAccess"
        assert snapshot(api) == before and calls == []

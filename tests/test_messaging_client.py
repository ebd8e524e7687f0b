"""The device-side request plumbing: device tokens, lock tokens from ETags, and the request shapes of each operation."""

from __future__ import annotations

import httpx
import respx

from iothub_conformance.http import sas
from iothub_conformance.surfaces.messaging import DeviceClient, device_token, lock_of

KEY = "QUJD" * 11
BASE = "https://hub.example"


def test_device_token_is_scoped_to_the_device_and_names_no_policy():
    token = sas.parse_token(device_token("Hub.Example", "Dev-1", KEY))
    assert token.skn is None
    assert token.resource_uri == "hub.example/devices/dev-1"
    assert sas.signature_valid(token, KEY)


def test_lock_of_strips_the_quotes_clients_strip():
    assert lock_of('"abc-1"') == "abc-1"
    assert lock_of("abc-1") == "abc-1"
    assert lock_of('W/"abc-1"') == "abc-1"
    assert lock_of(None) is None


def test_each_operation_has_its_documented_method_and_path():
    with respx.mock(base_url=BASE) as mock:
        route = mock.route().respond(204)
        with httpx.Client(base_url=BASE) as client:
            device = DeviceClient(client, "hub.example", "2016-02-03", "d 1", KEY)
            device.send(b"body", headers={"IoTHub-app-x": "1"})
            device.receive()
            device.complete("lock/1")
            device.reject("lock-2")
            device.abandon("lock-3")
    seen = [(c.request.method, c.request.url.raw_path.decode()) for c in route.calls]
    assert seen == [
        ("POST", "/devices/d%201/messages/events?api-version=2016-02-03"),
        ("GET", "/devices/d%201/messages/devicebound?api-version=2016-02-03"),
        ("DELETE", "/devices/d%201/messages/devicebound/lock%2F1?api-version=2016-02-03"),
        ("DELETE", "/devices/d%201/messages/devicebound/lock-2?reject&api-version=2016-02-03"),
        ("POST", "/devices/d%201/messages/devicebound/lock-3/abandon?api-version=2016-02-03"),
    ]
    for call in route.calls:
        token = sas.parse_token(call.request.headers["Authorization"])
        assert token.skn is None and token.resource_uri == "hub.example/devices/d 1"
    assert route.calls[0].request.content == b"body"

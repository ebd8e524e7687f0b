"""Cloud-to-device feeders: which one a target gets, what each sends, and that none feeds a device the run did not
create."""

from __future__ import annotations

import sys
import types

import httpx
import pytest
import respx

from iothub_conformance.config import ConfigError, Settings
from iothub_conformance.surfaces import feeders
from iothub_conformance.targets.resolve import resolve
from iothub_conformance.targets.target import SafetyError

CS = "HostName=hub.example;SharedAccessKeyName=iothubowner;SharedAccessKey=" + "QUJD" * 11


@pytest.fixture
def no_sdk(monkeypatch):
    """Make `import azure.iot.hub` fail, whatever is installed."""
    monkeypatch.setitem(sys.modules, "azure.iot.hub", None)


@pytest.fixture
def fake_sdk(monkeypatch):
    """A stand-in for azure-iot-hub's IoTHubRegistryManager that records what the feeder asks it to send."""
    sent = []

    class Manager:
        @classmethod
        def from_connection_string(cls, connection_string):
            manager = cls()
            manager.connection_string = connection_string
            return manager

        def send_c2d_message(self, device_id, message, properties=None):
            if device_id.endswith("-full"):
                raise RuntimeError("C2D message send failure")
            sent.append((device_id, message, properties))

    module = types.ModuleType("azure.iot.hub")
    module.IoTHubRegistryManager = Manager
    monkeypatch.setitem(sys.modules, "azure.iot.hub", module)
    return sent


def external(**settings):
    return resolve(Settings(target_url="https://hub.example", connection_string=CS, **settings))


def test_embedded_reference_is_fed_in_process():
    target = resolve(Settings())
    feeder, reason = feeders.choose(target, None)
    assert feeder.name == "in-process" and reason == ""
    device_id = target.name_prefix + "d"
    client = target.client()
    client.put(f"/devices/{device_id}", params={"api-version": "2016-02-03"}, json={"deviceId": device_id})
    assert feeder.send(device_id, b"hi", {"Content-Type": "text/plain"}).accepted
    assert feeder.send(target.name_prefix + "missing", b"hi").status == 404
    target.close()


def test_external_target_without_the_sdk_has_no_feeder_and_says_why(no_sdk):
    feeder, reason = feeders.choose(external(), None)
    assert feeder is None
    assert "amqp" in reason and "--c2d-feeder http" in reason


def test_external_target_with_the_sdk_is_fed_over_amqp(fake_sdk):
    target = external()
    feeder, _ = feeders.choose(target, None)
    assert feeder.name.startswith("amqp") and not feeder.reports_status
    fed = feeder.send(target.name_prefix + "d", b"body", {"IoTHub-MessageId": "m1", "Content-Type": "text/plain",
                                                          "IoTHub-Ack": "full", "IoTHub-app-color": "blue"})
    assert fed.accepted and fed.status == 200
    assert fake_sdk == [(target.name_prefix + "d", b"body", {"messageId": "m1", "contentType": "text/plain",
                                                              "iothub-ack": "full", "color": "blue"})]


def test_amqp_refusal_is_not_accepted_and_has_no_status(fake_sdk):
    target = external()
    feeder, _ = feeders.choose(target, "amqp")
    fed = feeder.send(target.name_prefix + "queue-full", b"x")
    assert not fed.accepted and fed.status is None and fed.code == "RuntimeError"


def test_http_feeder_posts_to_messages_devicebound_naming_the_device():
    target = external(c2d_feeder="http")
    feeder, _ = feeders.choose(target, target.c2d_feeder)
    with respx.mock(base_url="https://hub.example") as mock:
        route = mock.post("/messages/deviceBound").mock(side_effect=[
            httpx.Response(200),
            httpx.Response(403, headers={"iothub-errorcode": "DeviceMaximumQueueDepthExceeded"},
                           json={"Message": "ErrorCode:DeviceMaximumQueueDepthExceeded;full"}),
        ])
        assert feeder.send(target.name_prefix + "a b", b"body", {"IoTHub-app-x": "1"}).accepted
        refused = feeder.send(target.name_prefix + "a b", b"body")
    request = route.calls[0].request
    assert request.headers["IoTHub-To"] == f"/devices/{target.name_prefix}a%20b/messages/devicebound"
    assert request.headers["IoTHub-app-x"] == "1" and request.content == b"body"
    assert request.url.params["api-version"] == "2016-02-03"
    assert (refused.status, refused.code, refused.accepted) == (403, "DeviceMaximumQueueDepthExceeded", False)
    target.close()


@pytest.mark.parametrize("name", ["in-process", "http"])
def test_no_feeder_sends_to_a_device_the_run_did_not_create(name):
    target = resolve(Settings()) if name == "in-process" else external()
    feeder, _ = feeders.choose(target, name)
    with pytest.raises(SafetyError):
        feeder.send("users-own-device", b"x")
    target.close()


def test_feeder_none_skips_with_its_reason():
    feeder, reason = feeders.choose(resolve(Settings()), "none")
    assert feeder is None and "none" in reason


@pytest.mark.parametrize("settings, message", [
    ({"c2d_feeder": "carrier-pigeon"}, "unknown C2D feeder"),
    ({"c2d_feeder": "in-process", "target_url": "https://hub.example", "connection_string": CS}, "embedded"),
    ({"max_delivery_count": "0"}, "from 1 to 100"),
    ({"max_delivery_count": "ten"}, "from 1 to 100"),
])
def test_bad_feeder_settings_are_one_line_config_errors(settings, message):
    with pytest.raises(ConfigError, match=message):
        resolve(Settings.from_env(**settings))


def test_amqp_feeder_without_the_sdk_is_a_config_error(no_sdk, monkeypatch):
    monkeypatch.setattr("iothub_conformance.targets.resolve._installed", lambda module: False)
    with pytest.raises(ConfigError, match="azure-iot-hub"):
        external(c2d_feeder="amqp")


def test_a_receive_on_a_device_outside_the_run_is_refused():
    # A receive locks the user's next message, so the client guards it like a write.
    target = resolve(Settings())
    client = target.client()
    with pytest.raises(SafetyError):
        client.get("/devices/users-own-device/messages/devicebound", params={"api-version": "2016-02-03"})
    assert client.get("/devices/users-own-device", params={"api-version": "2016-02-03"}).status_code == 404
    target.close()


# -- only the target: the amqp feeder connects to the connection string's HostName, so it must be the target's ------

LOCAL = "http://127.0.0.1:8080"


@pytest.fixture
def sdk_calls(fake_sdk, monkeypatch):
    """Every connection the fake service SDK was asked to make."""
    made = []
    manager = sys.modules["azure.iot.hub"].IoTHubRegistryManager
    original = manager.from_connection_string.__func__

    def record(cls, connection_string):
        made.append(connection_string)
        return original(cls, connection_string)

    monkeypatch.setattr(manager, "from_connection_string", classmethod(record))
    return made


def test_auto_never_feeds_over_amqp_when_the_hostname_is_not_the_target(sdk_calls):
    target = resolve(Settings(target_url=LOCAL, connection_string=CS))
    feeder, reason = feeders.choose(target, None)
    assert feeder is None and sdk_calls == []
    assert "HostName hub.example, not to the target 127.0.0.1" in reason
    assert "\n" not in reason


def test_amqp_asked_for_a_target_on_another_host_is_one_config_error(sdk_calls):
    target = resolve(Settings(target_url=LOCAL, connection_string=CS))
    with pytest.raises(ConfigError, match="refusing to contact a host other than the target") as raised:
        feeders.choose(target, "amqp")
    assert "\n" not in str(raised.value) and sdk_calls == []


def test_amqp_cannot_feed_the_embedded_reference(sdk_calls):
    with pytest.raises(ConfigError, match="no AMQP endpoint"):
        feeders.choose(resolve(Settings()), "amqp")
    assert sdk_calls == []


@pytest.mark.parametrize("url", ["https://HUB.example", "https://hub.example.:443", "https://hub.example:8443/base"])
def test_amqp_feeds_a_target_on_the_connection_strings_host(sdk_calls, url):
    feeder, _ = feeders.choose(resolve(Settings(target_url=url, connection_string=CS)), None)
    assert feeder is not None and feeder.name.startswith("amqp")
    assert sdk_calls == [CS]


def test_amqp_asked_for_a_target_on_another_host_ends_the_run_before_it_starts(fake_sdk):
    with pytest.raises(ConfigError, match="--c2d-feeder amqp: .*refusing to contact a host other than the target"):
        resolve(Settings(target_url=LOCAL, connection_string=CS, c2d_feeder="amqp"))

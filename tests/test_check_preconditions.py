"""Failed preconditions: what a test relies on and did not get is an error naming what the target did, never a pass
and never a failure of the rule under test."""

from __future__ import annotations

import re

import httpx
import pytest
import respx

from iothub_conformance.pytest_plugin import plugin
from iothub_conformance.rules.failures import (
    PreconditionFailed,
    answered,
    require,
    require_etag,
    require_json,
    require_object,
    served,
)
from iothub_conformance.surfaces.devices import Registry
from iothub_conformance.surfaces.messaging import DeviceClient

BASE = "https://hub.example"
DEVICE = {"deviceId": "conf-x-dev-1", "etag": "e1", "authentication": {"symmetricKey": {"primaryKey": "cA==",
                                                                                        "secondaryKey": "cw=="}}}


def response(status: int, *, json=None, content: bytes = b"", headers: dict | None = None, method="PUT",
             path="/devices/conf-x-dev-1") -> httpx.Response:
    request = httpx.Request(method, BASE + path)
    if json is not None:
        return httpx.Response(status, json=json, headers=headers, request=request)
    return httpx.Response(status, content=content, headers=headers, request=request)


@pytest.fixture
def hub():
    with respx.mock(base_url=BASE, assert_all_called=False) as mock, httpx.Client(base_url=BASE) as client:
        yield mock, Registry(client, "2016-02-03", "conf-x-")


def test_a_failed_precondition_is_an_error_not_a_check_failure():
    assert not issubclass(PreconditionFailed, AssertionError)
    assert plugin._is_check_failure(PreconditionFailed("x")) is False
    assert plugin._is_check_failure(AssertionError("x")) is True


def test_answered_says_status_error_code_redirect_and_refused_credentials():
    assert answered(response(500)) == "PUT /devices/conf-x-dev-1 → 500"
    coded = response(404, headers={"iothub-errorcode": "DeviceNotFound"}, method="GET")
    assert answered(coded) == "GET /devices/conf-x-dev-1 → 404 (DeviceNotFound)"
    assert answered(response(302, headers={"Location": "http://elsewhere.example/x"})).endswith(
        "→ 302 to http://elsewhere.example/x")
    assert "refused the credentials" in answered(response(401))
    assert "refused the credentials" in answered(response(403))


@pytest.mark.parametrize("made, expected", [
    (response(500), "could not create it: PUT /devices/conf-x-dev-1 → 500"),
    (response(200), "→ 200 with no body that are not a JSON object"),
    (response(200, json=[1]), "→ 200 with 3 bytes that are not a JSON object"),
    (response(200, json={"etag": "e"}), "→ 200 without deviceId"),
])
def test_require_object_refuses_what_is_not_the_expected_object(made, expected):
    with pytest.raises(PreconditionFailed) as raised:
        require_object(made, "could not create it", field="deviceId")
    assert expected in str(raised.value)


def test_require_and_require_etag_pass_what_holds_and_refuse_what_does_not():
    good = response(200, json=DEVICE, headers={"ETag": '"e1"'})
    assert require(good, "x") is good
    assert require_object(good, "x", field="deviceId") == DEVICE
    assert require_etag(good, "x") == '"e1"'
    with pytest.raises(PreconditionFailed, match="without an ETag to compare with"):
        require_etag(response(200, json=DEVICE), "the create")
    with pytest.raises(PreconditionFailed, match="→ 204"):
        require(response(204), "x", (200,))


@pytest.mark.parametrize("answer", [httpx.Response(500), httpx.Response(200), httpx.Response(401),
                                    httpx.Response(302, headers={"Location": "http://elsewhere.example/"})])
def test_make_refuses_a_device_the_target_did_not_create(hub, answer):
    mock, registry = hub
    mock.put(path__startswith="/devices/").mock(return_value=answer)
    with pytest.raises(PreconditionFailed, match=r"could not create device (conf-x-dev-\d+): PUT /devices/\1 ") as refused:
        registry.make("dev")
    device_id = re.search(r"device (\S+):", str(refused.value)).group(1)
    assert registry.created == ([] if answer.status_code != 200 else [device_id])


def test_make_and_read_return_a_created_device(hub):
    mock, registry = hub
    mock.put(path__startswith="/devices/").mock(return_value=httpx.Response(201, json=DEVICE))
    mock.get(path__startswith="/devices/").mock(return_value=httpx.Response(200, json=DEVICE))
    device_id, created = registry.make("dev")
    assert re.fullmatch(r"conf-x-dev-\d+", device_id) and created.status_code == 201
    assert registry.read(device_id).json() == DEVICE


@pytest.mark.parametrize("status, exists", [(200, True), (404, False)])
def test_exists_tells_200_from_404(hub, status, exists):
    mock, registry = hub
    mock.get(path__startswith="/devices/").mock(return_value=httpx.Response(status, json=DEVICE))
    assert registry.exists("conf-x-dev-1") is exists


@pytest.mark.parametrize("status", [500, 401, 302, 204])
def test_exists_cannot_tell_from_any_other_answer(hub, status):
    mock, registry = hub
    mock.get(path__startswith="/devices/").mock(return_value=httpx.Response(status))
    with pytest.raises(PreconditionFailed, match=f"could not tell whether device conf-x-dev-1 exists after x: "
                                                 f"GET /devices/conf-x-dev-1 → {status}"):
        registry.exists("conf-x-dev-1", "after x")


class _Target:
    class connection:
        host_name = "hub.example"

    api_version = "2016-02-03"


@pytest.mark.parametrize("created, expected", [
    (response(401), "could not create device conf-x-dev-1 for a messaging test: PUT /devices/conf-x-dev-1 → 401"),
    (response(200), "→ 200 with no body"),
    (response(200, json={"deviceId": "conf-x-dev-1"}), "has no primary key to sign its messages with"),
])
def test_a_messaging_device_that_was_not_created_is_a_failed_precondition(created, expected):
    with pytest.raises(PreconditionFailed) as raised:
        DeviceClient.of_created(httpx.Client(base_url=BASE), _Target, "conf-x-dev-1", created)
    assert expected in str(raised.value)


@pytest.mark.parametrize("made, kind, expected", [
    (response(400, json={"Message": "ErrorCode:InvalidProtocolVersion;x"}, method="GET", path="/devices"), list,
     "GET /devices → 400 (InvalidProtocolVersion)"),
    (response(200, method="GET", path="/devices"), list, "→ 200 without the JSON list"),
    (response(200, json={"deviceId": "d"}, method="GET", path="/devices"), list, "→ 200 without the JSON list"),
    (response(401, method="GET", path="/devices"), None, "refused the credentials"),
])
def test_a_refusal_counts_only_where_the_valid_request_is_served(made, kind, expected):
    with pytest.raises(PreconditionFailed) as raised:
        served(made, "GET /devices?api-version=2016-02-03", kind)
    message = str(raised.value)
    assert message.startswith("the valid request (GET /devices?api-version=2016-02-03) is not served")
    assert expected in message


def test_a_served_valid_request_lets_the_test_go_on():
    assert served(response(200, json=[], method="GET", path="/devices"), "a list", list) is None
    assert served(response(204, method="POST", path="/devices/d/messages/events"), "a send", statuses=(204,)) is None
    assert require_json(response(200, json={"a": 1}, method="GET"), "a read") == {"a": 1}


def test_two_registries_of_one_run_never_name_the_same_device():
    # Each test has its own registry; a device one test could not delete must not be the next test's "fresh" one.
    first, second = Registry(None, "2016-02-03", "conf-x-"), Registry(None, "2016-02-03", "conf-x-")
    names = [first.name("msg"), second.name("msg"), first.name("msg")]
    assert len(set(names)) == 3, names

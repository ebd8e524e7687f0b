"""The reference hub's Device Identities surface, request by request."""

from __future__ import annotations

import base64
import re
import threading
from urllib.parse import quote

import anyio
import httpx
import pytest

from iothub_conformance.reference import Hub, create_app, registry_routes
from iothub_conformance.rules.profiles import DOCS_STRICT
from tests.support.reference_api import API, GUID, ReferenceApi, error_code

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

SPECIAL_ID = "a-:.+%_#*?!(),=@;$'b"


def path(device_id: str) -> str:
    return "/devices/" + quote(device_id, safe="")


def key(size: int = 32) -> str:
    return base64.b64encode(bytes(range(size))).decode()


@pytest.fixture
def api() -> ReferenceApi:
    return ReferenceApi()


def test_create_get_update_delete_round_trip(api):
    created = api.put_named("dev1")
    assert created.status_code == 200  # the iothub profile takes the real service's 200
    device = created.json()
    assert device["deviceId"] == "dev1"
    assert device["status"] == "enabled"
    assert device["connectionState"] == "Disconnected"
    assert device["cloudToDeviceMessageCount"] == 0
    keys = device["authentication"]["symmetricKey"]
    assert len(base64.b64decode(keys["primaryKey"])) == 32 and len(base64.b64decode(keys["secondaryKey"])) == 32

    fetched = api.get_device("dev1")
    assert fetched.status_code == 200 and fetched.json() == device

    changed = api.put_named("dev1", {"deviceId": "dev1", "status": "disabled", "statusReason": "maintenance"},
                      if_match=created.headers["ETag"])
    assert changed.status_code == 200
    after = changed.json()
    assert (after["status"], after["statusReason"]) == ("disabled", "maintenance")
    assert after["generationId"] == device["generationId"]
    assert after["etag"] != device["etag"]
    assert after["statusUpdatedTime"] > device["statusUpdatedTime"]
    assert after["authentication"] == device["authentication"]  # no authentication given: the keys stay

    deleted = api.delete_device("dev1", if_match=changed.headers["ETag"])
    assert deleted.status_code == 204 and deleted.content == b""
    missing = api.get_device("dev1")
    assert missing.status_code == 404 and error_code(missing) == "DeviceNotFound"

    again = api.put_named("dev1").json()
    assert again["generationId"] != device["generationId"]
    assert again["etag"] not in (device["etag"], after["etag"])


def test_etag_header_is_the_quoted_body_etag(api):
    for response in (api.put_named("d"), api.get_device("d"), api.put_named("d", {"status": "disabled"})):
        assert response.headers["ETag"] == f'"{response.json()["etag"]}"'
        assert re.fullmatch(r'"[\x21\x23-\x7E]+"', response.headers["ETag"])


def test_etag_changes_on_every_write_and_not_on_reads(api):
    first = api.put_named("d").headers["ETag"]
    assert api.get_device("d").headers["ETag"] == first
    assert api.get_device("d").headers["ETag"] == first
    second = api.put_named("d").headers["ETag"]
    third = api.put_named("d", {"statusReason": "x"}).headers["ETag"]
    assert len({first, second, third}) == 3


def test_stale_if_match_on_put_is_412_and_changes_nothing(api):
    stale = api.put_named("d").headers["ETag"]
    current = api.put_named("d").json()
    refused = api.put_named("d", {"status": "disabled"}, if_match=stale)
    assert refused.status_code == 412 and error_code(refused) == "PreconditionFailed"
    assert api.get_device("d").json() == current


def test_stale_if_match_on_delete_is_412_and_keeps_the_device(api):
    stale = api.put_named("d").headers["ETag"]
    api.put_named("d")
    refused = api.delete_device("d", if_match=stale)
    assert refused.status_code == 412 and error_code(refused) == "PreconditionFailed"
    assert api.get_device("d").status_code == 200


def test_weak_tag_never_matches(api):
    etag = api.put_named("d").json()["etag"]
    assert api.put_named("d", if_match=f'W/"{etag}"').status_code == 412
    assert api.delete_device("d", if_match=f'W/"{etag}"').status_code == 412


def test_matching_tag_in_a_list_matches(api):
    etag = api.put_named("d").json()["etag"]
    assert api.put_named("d", if_match=f'"nope", "{etag}"').status_code == 200


def test_if_match_star(api):
    api.put_named("d")
    assert api.put_named("d", {"status": "disabled"}, if_match="*").status_code == 200
    assert api.put_named("d", if_match='"*"').status_code == 200  # the service SDK's quoted star (OBSERVED §2)
    assert api.delete_device("d", if_match="*").status_code == 204
    # RFC 7232 §3.1: * needs a current representation, so it cannot create.
    refused = api.put_named("d", if_match="*")
    assert refused.status_code == 412 and error_code(refused) == "PreconditionFailed"
    assert api.get_device("d").status_code == 404


def test_specific_tag_on_a_missing_device_is_412(api):
    assert api.put_named("d", if_match='"abc"').status_code == 412
    assert api.get_device("d").status_code == 404


def test_empty_quoted_if_match_counts_as_absent(api):
    assert api.put_named("d", if_match='""').status_code == 200
    assert api.put_named("d", if_match='""').status_code == 200
    assert api.delete_device("d", if_match='""').status_code == 204


@pytest.mark.parametrize("value", ["abc", 'w/"abc"', '"a" "b"', ",", '*, "a"', '"unterminated'])
def test_malformed_if_match_is_400(api, value):
    api.put_named("d")
    for response in (api.put_named("d", if_match=value), api.delete_device("d", if_match=value)):
        assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert api.get_device("d").status_code == 200


def test_create_status_follows_the_profile():
    assert ReferenceApi().put_named("d").status_code == 200
    assert ReferenceApi(profile=DOCS_STRICT).put_named("d").status_code == 201


def test_docs_strict_delete_needs_if_match_and_returns_the_etag():
    api = ReferenceApi(profile=DOCS_STRICT)
    etag = api.put_named("d").headers["ETag"]
    refused = api.delete_device("d")
    assert refused.status_code == 428 and error_code(refused) == "PreconditionRequired"
    assert api.delete_device("d", if_match='""').status_code == 428
    assert api.get_device("d").status_code == 200
    assert api.put_named("d", if_match='"*"').status_code == 412  # only a bare * is the wildcard in this profile
    deleted = api.delete_device("d", if_match=etag)
    assert deleted.status_code == 204 and deleted.headers["ETag"] == etag


def test_special_character_device_ids_round_trip(api):
    created = api.put_named(SPECIAL_ID)
    assert created.status_code == 200 and created.json()["deviceId"] == SPECIAL_ID
    assert api.get_device(SPECIAL_ID).json()["deviceId"] == SPECIAL_ID
    assert [d["deviceId"] for d in api.request("GET", "/devices").json()] == [SPECIAL_ID]
    assert api.delete_device(SPECIAL_ID, if_match=created.headers["ETag"]).status_code == 204


def test_ids_that_differ_only_in_case_are_different_devices(api):
    api.put_named("Dev")
    assert api.get_device("dev").status_code == 404


@pytest.mark.parametrize("device_id", ["x" * 129, "has space", "caf\u00e9", "a&b", "a[b]", "a\"b", "a~b"])
def test_invalid_device_ids_are_400(api, device_id):
    for response in (api.put_named(device_id), api.get_device(device_id), api.delete_device(device_id)):
        assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_longest_device_id_is_accepted(api):
    assert api.put_named("x" * 128).status_code == 200


def test_a_slash_in_the_id_is_no_route(api):
    response = api.put_named("a/b")
    assert response.status_code == 404 and error_code(response) == "NotFound"


@pytest.mark.parametrize("content", [b"", b"{", b"not json", b"\xff\xfe", b'{"status": NaN}', b"[" * 100000])
def test_unparseable_body_is_400_format_error(api, content):
    response = api.request("PUT", path("d"), content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and error_code(response) == "IotHubFormatError"


@pytest.mark.parametrize("body", [[], "text", 3, None])
def test_body_that_is_not_an_object_is_400_format_error(api, body):
    response = api.request("PUT", path("d"), json=body)
    assert response.status_code == 400 and error_code(response) == "IotHubFormatError"


@pytest.mark.parametrize("body", [
    {"deviceId": "other"},
    {"deviceId": 5},
    {"status": "enable"},
    {"status": "enabled "},
    {"status": ["enabled"]},
    {"status": 1},
    {"statusReason": "x" * 129},
    {"statusReason": ["x"]},
    {"authentication": "sas"},
    {"authentication": {"symmetricKey": []}},
    {"authentication": {"symmetricKey": {"primaryKey": "not base64!"}}},
    {"authentication": {"symmetricKey": {"primaryKey": key(15)}}},
    {"authentication": {"symmetricKey": {"secondaryKey": key(65)}}},
    {"authentication": {"symmetricKey": {"primaryKey": ""}}},
    {"authentication": {"symmetricKey": {"primaryKey": 12}}},
])
def test_invalid_create_body_is_400(api, body):
    response = api.put_named("d", body)
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert api.get_device("d").status_code == 404


def test_given_keys_status_and_reason_are_stored(api):
    body = {"deviceId": "d", "authentication": {"symmetricKey": {"primaryKey": key(16), "secondaryKey": key(64)}},
            "status": "disabled", "statusReason": "r" * 128, "extra": {"ignored": True}}
    device = api.put_named("d", body).json()
    assert device["authentication"]["symmetricKey"] == {"primaryKey": key(16), "secondaryKey": key(64)}
    assert (device["status"], device["statusReason"]) == ("disabled", "r" * 128)
    assert "extra" not in device


def test_read_only_fields_are_ignored_on_input(api):
    created = api.put_named("d").json()
    updated = api.put_named("d", {"deviceId": "somebody-else", "generationId": "mine", "etag": "mine"}).json()
    assert updated["deviceId"] == "d"
    assert updated["generationId"] == created["generationId"]
    assert updated["etag"] not in ("mine", created["etag"])


def test_update_can_replace_one_key(api):
    created = api.put_named("d").json()["authentication"]["symmetricKey"]
    updated = api.put_named("d", {"authentication": {"symmetricKey": {"secondaryKey": key(20)}}}).json()
    assert updated["authentication"]["symmetricKey"] == {"primaryKey": created["primaryKey"], "secondaryKey": key(20)}


def test_status_updated_time_changes_only_with_status(api):
    first = api.put_named("d").json()["statusUpdatedTime"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", first)
    assert api.put_named("d", {"statusReason": "x"}).json()["statusUpdatedTime"] == first
    assert api.put_named("d", {"status": "disabled"}).json()["statusUpdatedTime"] > first


def test_delete_of_a_missing_device_is_404_even_with_if_match(api):
    for if_match in (None, "*", '"abc"'):
        response = api.delete_device("ghost", if_match=if_match)
        assert response.status_code == 404 and error_code(response) == "DeviceNotFound"


def test_list_is_sorted_and_honours_top(api):
    for device_id in ("c", "a", "b"):
        api.put_named(device_id)
    listed = api.request("GET", "/devices")
    assert listed.status_code == 200 and "ETag" not in listed.headers
    assert listed.headers["Content-Type"] == "application/json; charset=utf-8"
    assert [d["deviceId"] for d in listed.json()] == ["a", "b", "c"]
    for top, expected in (("2", 2), ("+1", 1), ("0", 3), ("-1", 3), ("1001", 3), ("1" * 5000, 3), ("0002", 2)):
        response = api.request("GET", "/devices", params={**API, "top": top})
        assert response.status_code == 200 and len(response.json()) == expected, top


@pytest.mark.parametrize("top", ["abc", "", "1.5", "1e3", "\u0661"])
def test_list_top_must_be_an_integer(api, top):
    response = api.request("GET", "/devices", params={**API, "top": top})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_list_returns_at_most_1000():
    api = ReferenceApi()
    api.hub.max_devices = 1100
    for n in range(1001):
        assert api.put_named(f"d{n:04}").status_code == 200
    assert len(api.request("GET", "/devices").json()) == 1000


def test_quota_is_403(api):
    api.hub.max_devices = 2
    api.put_named("a")
    api.put_named("b")
    refused = api.put_named("c")
    assert refused.status_code == 403 and error_code(refused) == "IotHubQuotaExceeded"
    assert api.put_named("a", {"status": "disabled"}).status_code == 200  # updates still work


def test_registry_statistics(api):
    api.put_named("a")
    api.put_named("b", {"status": "disabled"})
    api.put_named("c", {"status": "disabled"})
    response = api.request("GET", "/statistics/devices")
    assert response.status_code == 200
    assert response.json() == {"totalDeviceCount": 3, "totalDevicesByStatus": {"enabled": 1, "disabled": 2}}


def test_service_statistics(api):
    response = api.request("GET", "/statistics/service")
    assert response.status_code == 200 and response.json() == {"totalConnectedDevices": 0}


def test_request_id_on_every_response_and_unique(api):
    responses = [api.put_named("d"), api.get_device("d"), api.get_device("ghost"), api.request("POST", "/devices"),
                 api.request("GET", "/nowhere"), api.request("GET", "/devices", params={}),
                 api.request("GET", "/devices", token="nope"), api.delete_device("d")]
    ids = [r.headers.get("x-ms-request-id") for r in responses]
    assert all(i and GUID.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_wrong_method_is_405_with_allow(api):
    for method, url, allowed in (("POST", "/devices", {"GET", "HEAD"}),
                                 ("PATCH", path("d"), {"GET", "HEAD", "PUT", "DELETE"}),
                                 ("DELETE", "/statistics/devices", {"GET", "HEAD"})):
        response = api.request(method, url)
        assert response.status_code == 405 and error_code(response) == "MethodNotAllowed"
        assert set(response.headers["Allow"].split(", ")) == allowed


def test_unknown_route_is_404_not_found(api):
    for url in ("/nowhere", "/devices/a/b", "/statistics", "/statistics/devices/"):
        response = api.request("GET", url, params={})
        assert response.status_code == 404 and error_code(response) == "NotFound", url


@pytest.mark.parametrize("params", [{}, {"api-version": ""}, {"api-version": "2021-04-13"},
                                    {"api-version": "2016-02-03 "}, {"API-VERSION": "2016-02-03"}])
def test_missing_or_unsupported_api_version_is_400(api, params):
    for response in (api.request("GET", "/devices", params=params), api.put_named("d", params=params),
                     api.request("GET", "/statistics/service", params=params)):
        assert response.status_code == 400 and error_code(response) == "InvalidProtocolVersion"
    assert api.get_device("d").status_code == 404


def test_api_version_is_checked_before_the_token(api):
    response = api.request("GET", "/devices", token=None, params=None)
    assert response.status_code == 400 and error_code(response) == "InvalidProtocolVersion"


def test_error_envelope_shape(api):
    response = api.get_device("ghost")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"Message", "ExceptionMessage"}
    assert re.fullmatch(r"Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d\d/\d\d/\d{4} \d\d:\d\d:\d\d",
                        body["ExceptionMessage"])


def test_order_validation_then_existence_then_preconditions(api):
    assert api.put_named("bad id", if_match='"stale"').status_code == 400
    assert api.delete_device("ghost", if_match='"stale"').status_code == 404
    api.hub.max_devices = 0
    assert api.put_named("new", if_match="*").status_code == 403


def test_an_unexpected_error_is_400_not_500(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(registry_routes, "admit", broken)
    response = api.request("GET", "/devices")
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert response.headers["x-ms-request-id"]


def test_bad_percent_encoding_is_400(api):
    response = api.request("GET", "/devices/%C3%28")
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    response = api.request("GET", "/devices?api-version=%C3%28", params=None)
    assert response.status_code == 400


def test_in_process_async_client():
    reference = ReferenceApi()
    hub = reference.hub

    async def run():
        transport = httpx.ASGITransport(app=create_app(hub, reference.provider))
        async with httpx.AsyncClient(transport=transport, base_url=f"https://{hub.host_name}",
                                     headers={"Authorization": reference.policy()}, params=API) as client:
            created = await client.put(path(SPECIAL_ID), json={})
            fetched = await client.get(path(SPECIAL_ID))
            broken = await client.put(path("x"), content=b"{")
        return created, fetched, broken

    created, fetched, broken = anyio.run(run)
    assert created.status_code == 200 and fetched.json()["deviceId"] == SPECIAL_ID
    assert broken.status_code == 400


def test_concurrent_creates_are_all_kept():
    hub = Hub.create()
    apis = [ReferenceApi(hub=hub) for _ in range(5)]  # one client per thread, one registry
    failures = []

    def create(n):
        api = apis[n]
        for i in range(20):
            if api.put_named(f"t{n}-{i}").status_code != 200:
                failures.append((n, i))

    threads = [threading.Thread(target=create, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(hub.devices) == 100


@pytest.mark.parametrize("spelled", ["Enabled", "ENABLED", "Disabled", "dIsAbLeD"])
def test_status_is_read_whatever_its_case_and_answered_in_the_service_spelling(api, spelled):
    # The 2016-02-03 Node.js service SDK sends its Device defaults ('Enabled') and 'Disabled' (identities._status).
    created = api.put_named("d", {"status": spelled})
    assert created.status_code == 200 and created.json()["status"] == spelled.lower()
    assert api.get_device("d").json()["status"] == spelled.lower()
    flipped = "enabled" if spelled.lower() == "disabled" else "Disabled"
    updated = api.put_named("d", {"status": flipped}, if_match="*")
    assert updated.status_code == 200 and updated.json()["status"] == flipped.lower()
    assert api.request("GET", "/statistics/devices").json()["totalDevicesByStatus"][flipped.lower()] == 1


def test_the_list_answers_at_devices_with_a_trailing_slash_too(api):
    # Registry.list of every Node.js service SDK asks GET /devices/?api-version=… (app.py).
    api.devices("a", "b")
    slashed = api.request("GET", "/devices/")
    assert slashed.status_code == 200
    assert [d["deviceId"] for d in slashed.json()] == [d["deviceId"] for d in api.request("GET", "/devices").json()]
    assert [d["deviceId"] for d in slashed.json()] == ["a", "b"]
    # The same rules as /devices: api-version, token, top; and a write there is still no route.
    assert error_code(api.request("GET", "/devices/", params={})) == "InvalidProtocolVersion"
    assert api.request("GET", "/devices/", token="nope").status_code == 401
    assert len(api.request("GET", "/devices/", params={**API, "top": "1"}).json()) == 1
    refused = api.request("PUT", "/devices/", json={"deviceId": "c"})
    assert refused.status_code == 405 and error_code(refused) == "MethodNotAllowed"
    assert api.get_device("c").status_code == 404

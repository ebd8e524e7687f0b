"""Where a path serves api-version 2016 and 2021-04-12 side by side, the reference judges api-version first, as the
specs say (specs/2021-04-12/twins.yaml, devices.yaml: a missing or unsupported api-version → 400): a method only
2021-04-12 serves answers a request naming no version, or none it serves, with the api-version's 400, while one
naming a 2016 version keeps the 405 it always had. And GET /devices reads `top` as the int32 the swagger declares."""

from __future__ import annotations

import pytest

from tests.support.reference_api import ReferenceApi, error_code

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

V2021 = {"api-version": "2021-04-12"}


@pytest.fixture
def api() -> ReferenceApi:
    api = ReferenceApi(params=V2021)
    assert api.request("PUT", "/devices/d1", json={"deviceId": "d1"}).status_code == 200
    return api


@pytest.mark.parametrize("params", [{}, {"api-version": "bogus"}, [("api-version", "2021-04-12"),
                                                                   ("api-version", "2016-11-14")]])
def test_a_twin_replace_without_a_served_version_is_the_api_versions_400(api, params):
    response = api.request("PUT", "/twins/d1", params=params, json={"tags": {"a": 1}})
    assert response.status_code == 400 and error_code(response) == "InvalidProtocolVersion", response.text
    assert api.request("GET", "/twins/d1").json()["tags"] == {}


@pytest.mark.parametrize("version", ["2016-02-03", "2016-11-14"])
def test_a_twin_replace_naming_a_2016_version_keeps_its_405(api, version):
    response = api.request("PUT", "/twins/d1", params={"api-version": version}, json={"tags": {"a": 1}})
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, PATCH"
    assert error_code(response) == "MethodNotAllowed"


def test_a_method_no_version_serves_is_405_whatever_the_version(api):
    for params in ({}, V2021, {"api-version": "2016-11-14"}):
        assert api.request("DELETE", "/twins/d1", params=params).status_code == 405


def test_api_version_repeated_is_that_version(api):
    twice = [("api-version", "2021-04-12"), ("api-version", "2021-04-12")]
    replaced = api.request("PUT", "/twins/d1", params=twice, json={"tags": {"a": 1}})
    assert replaced.status_code == 200 and replaced.json()["tags"] == {"a": 1}
    assert api.request("GET", "/twins/d1", params=twice).json()["tags"] == {"a": 1}


def test_a_repeated_2021_version_is_served_by_the_2021_jobs(api):
    twice = [("api-version", "2021-04-12"), ("api-version", "2021-04-12")]
    response = api.request("GET", "/jobs/v2/query", params=twice)
    assert response.status_code == 200 and response.json()["type"] == "jobResponse", response.text
    assert api.request("GET", "/jobs", params=twice).status_code == 200


@pytest.mark.parametrize("top, listed", [("1", 1), ("+1", 1), ("0001", 1), ("0", 2), ("-5", 2), ("1001", 2),
                                         ("2147483647", 2), ("-2147483648", 2)])
def test_top_is_an_int32_and_any_outside_1_to_1000_means_1000(api, top, listed):
    assert api.request("PUT", "/devices/d2", json={"deviceId": "d2"}).status_code == 200
    response = api.request("GET", "/devices", params={**V2021, "top": top})
    assert response.status_code == 200 and len(response.json()) == listed


@pytest.mark.parametrize("top", ["2147483648", "-2147483649", "9" * 5000, "1_0", " 5", "\u0663", "1.5", "", "+", "x"])
def test_a_top_that_is_not_an_int32_is_400(api, top):
    response = api.request("GET", "/devices", params={**V2021, "top": top})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_the_2016_list_keeps_its_top(api):
    # api-version 2016-02-03 reads any integer (list-device-identities.md): a top past int32 is still 1000 there.
    response = api.request("GET", "/devices", params={"api-version": "2016-02-03", "top": "9" * 40})
    assert response.status_code == 200 and len(response.json()) == 1

"""The page size of the reference's job query at api-version 2021-04-12 is the spec's (specs/2021-04-12/scheduled-jobs.yaml:
pageSize and x-ms-max-item-count, a whole number from 1 with no largest value): any such number is served, anything
else is one 400, never a 500; the 2016-11-14 query keeps its own rules."""

from __future__ import annotations

import pytest

from tests.support.reference_api import ReferenceApi, error_code

pytestmark = pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")

V2021 = {"api-version": "2021-04-12"}


@pytest.fixture
def api() -> ReferenceApi:
    api = ReferenceApi(params=V2021)
    api.devices("a")
    for n in range(3):
        body = {"jobId": f"j{n}", "type": "scheduleUpdateTwin", "queryCondition": "deviceId IN ['a']",
                "updateTwin": {"tags": {}}}
        assert api.request("PUT", f"/jobs/v2/j{n}", json=body).status_code == 200
    return api


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["jobId"] for item in response.json()["items"]]


@pytest.mark.parametrize("size", ["1000000000", "18014398509481985", "9" * 5000, "0002"])
@pytest.mark.parametrize("where", ["header", "query"])
def test_any_whole_number_from_1_is_a_page_size(api, size, where):
    # No source gives a largest page size: a huge one is served (the hub's own page at most), never refused.
    if where == "header":
        response = api.request("GET", "/jobs/v2/query", headers={"x-ms-max-item-count": size})
    else:
        response = api.request("GET", "/jobs/v2/query", params={**V2021, "pageSize": size})
    assert ids(response) == (["j0", "j1"] if size == "0002" else ["j0", "j1", "j2"])


@pytest.mark.parametrize("size", [b"", b"0", b"-1", b"+2", b"2.0", b" 2", b"\xb2", b"\xd9\xa3"])
def test_a_page_size_header_that_is_not_a_whole_number_from_1_is_400(api, size):
    # b"\xb2" reads as "²" (a digit to str.isdigit that int() refuses); an empty header is a value, not none.
    response = api.request("GET", "/jobs/v2/query", headers={"x-ms-max-item-count": size})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"
    assert "page size" in response.json()["Message"]


@pytest.mark.parametrize("size", ["", "0", "²", "٣", "x"])
def test_a_page_size_parameter_that_is_not_a_whole_number_from_1_is_400(api, size):
    response = api.request("GET", "/jobs/v2/query", params={**V2021, "pageSize": size})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_the_header_wins_over_the_parameter_and_each_is_held_to_its_form(api):
    response = api.request("GET", "/jobs/v2/query", params={**V2021, "pageSize": "1"},
                           headers={"x-ms-max-item-count": "2"})
    assert ids(response) == ["j0", "j1"]
    response = api.request("GET", "/jobs/v2/query", params={**V2021, "pageSize": "x"},
                           headers={"x-ms-max-item-count": "2"})
    assert response.status_code == 400 and error_code(response) == "ArgumentInvalid"


def test_the_2016_query_keeps_its_own_handler(api):
    # The 2016-11-14 query accepts and ignores pageSize (one page of every job): the size 2021-04-12 refuses is not read.
    old = {"api-version": "2016-11-14"}
    assert api.request("GET", "/jobs/v2/query", params={**old, "pageSize": "0"}).status_code == 200
    assert api.request("GET", "/jobs/v2/query", params={**V2021, "pageSize": "0"}).status_code == 400

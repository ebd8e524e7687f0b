"""Conditional request probes (RFC 7232 §3.1) against small stateful fakes of one device."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx

from iothub_conformance.checks import conditional
from iothub_conformance.rules.failures import PreconditionFailed
from tests.support.failures import only as one

BASE = "https://hub.example"
PATH = "/devices/d1"
API_VERSION = "2016-02-03"


class FakeDevice:
    """One device behind GET/PUT/DELETE; each write bumps the ETag. Flags make it depart from RFC 7232."""

    def __init__(self, *, ignore_if_match: bool = False, apply_on_412: bool = False, weak_matches: bool = False,
                 refuse_star: bool = False, refuse_all: bool = False) -> None:
        self.refuse_all = refuse_all  # every conditional write gets 412, a matching tag too
        self.ignore_if_match = ignore_if_match
        self.apply_on_412 = apply_on_412
        self.weak_matches = weak_matches
        self.refuse_star = refuse_star
        self.version = 1
        self.device: dict | None = {
            "deviceId": "d1", "generationId": "635000000000000001", "etag": "e1", "status": "enabled",
            "statusReason": None, "connectionState": "Disconnected",
            "authentication": {"symmetricKey": {"primaryKey": "cHJpbWFyeQ==", "secondaryKey": "c2Vjb25kYXJ5"}},
        }
        self.requests: list[httpx.Request] = []
        self.request_ids: Iterator[int] = iter(range(1, 10_000))

    @property
    def etag(self) -> str:
        return f'"e{self.version}"'

    def headers(self, with_etag: bool = True) -> dict:
        headers = {"x-ms-request-id": f"r-{next(self.request_ids)}"}
        if with_etag and self.device is not None:
            headers["ETag"] = self.etag
        return headers

    def error(self, status: int, code: str) -> httpx.Response:
        return httpx.Response(status, headers={"x-ms-request-id": f"r-{next(self.request_ids)}",
                                               "iothub-errorcode": code},
                              json={"Message": f"ErrorCode:{code};x", "ExceptionMessage": "Tracking ID:t"})

    def matches(self, if_match: str | None) -> bool:
        if if_match is None or self.ignore_if_match:
            return True
        if self.refuse_all:
            return False
        if if_match.strip() == "*":
            return not self.refuse_star
        candidates = [c.strip() for c in if_match.split(",")]
        if self.weak_matches:
            candidates = [c[2:] if c.startswith("W/") else c for c in candidates]
        return self.etag in candidates

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.device is None:
            return self.error(404, "DeviceNotFound")
        if request.method == "GET":
            return httpx.Response(200, headers=self.headers(), json=self.device)
        matched = self.matches(request.headers.get("If-Match"))
        if not matched and not self.apply_on_412:
            return self.error(412, "PreconditionFailed")
        if request.method == "PUT":
            self.version += 1
            sent = json.loads(request.content)
            self.device = {**self.device, **{k: v for k, v in sent.items() if k != "deviceId"},
                           "etag": f"e{self.version}"}
            response = httpx.Response(200, headers=self.headers(), json=self.device)
        else:
            self.device = None
            response = httpx.Response(204, headers=self.headers(with_etag=False))
        return response if matched else self.error(412, "PreconditionFailed")


@pytest.fixture
def target():
    """Yields a function that installs a fake and returns it with a client pointed at it."""
    clients: list[httpx.Client] = []
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        def install(**flags) -> tuple[FakeDevice, httpx.Client]:
            fake = FakeDevice(**flags)
            fake.route = mock.route(path=PATH).mock(side_effect=fake.handle)
            clients.append(httpx.Client(base_url=BASE))
            return fake, clients[-1]
        yield install
    for client in clients:
        client.close()


def only(failures, requirement: str) -> str:
    """The message of the one failure a probe found, which names `requirement`."""
    return str(one(failures, requirement))


# -- a conforming device ----------------------------------------------------------------------------------------------

def test_conforming_device_passes_the_stale_put_probe(target):
    fake, client = target()
    assert conditional.stale_put_is_refused(client, PATH, API_VERSION) == []
    # the stale PUT changed nothing; then the same PUT with the current ETag proceeded
    assert [r.headers["If-Match"][:7] for r in fake.requests if r.method == "PUT"] == ['"stale-', '"e1"']
    assert fake.etag == '"e2"'
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.url.params["api-version"] == API_VERSION
    assert json.loads(put.content)["deviceId"] == "d1"


def test_conforming_device_passes_the_stale_delete_probe(target):
    fake, client = target()
    assert conditional.stale_delete_is_refused(client, PATH, API_VERSION) == []
    assert fake.device is not None  # the probe never removes the device it judges
    assert [(r.method, r.headers["If-Match"][:7]) for r in fake.requests if r.method != "GET"] == [
        ("DELETE", '"stale-'), ("PUT", '"e1"')]


def test_conforming_device_passes_the_weak_tag_probe(target):
    fake, client = target()
    assert conditional.weak_tag_does_not_match(client, PATH, API_VERSION) == []
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.headers["If-Match"] == 'W/"e1"'


def test_conforming_device_passes_the_current_and_star_probe(target):
    fake, client = target()
    assert conditional.current_and_star_proceed(client, PATH, API_VERSION) == []
    assert [r.headers["If-Match"] for r in fake.requests if r.method == "PUT"] == ['"e1"', "*"]
    assert fake.etag == '"e3"'


def test_conforming_device_passes_all_probes(target):
    _, client = target()
    assert conditional.probe_all(client, PATH, API_VERSION) == []


PROBES = [conditional.stale_put_is_refused, conditional.stale_delete_is_refused, conditional.weak_tag_does_not_match,
          conditional.current_and_star_proceed]


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.__name__)
def test_a_device_that_cannot_be_read_is_a_failed_precondition_not_a_pass(target, probe):
    fake, client = target()
    fake.device = None
    with pytest.raises(PreconditionFailed, match=r"could not read the device .*GET /devices/d1 → 404 \(DeviceNotFound\)"):
        probe(client, PATH, API_VERSION)
    assert {r.method for r in fake.requests} == {"GET"}


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.__name__)
def test_a_device_without_an_etag_is_a_failed_precondition_not_a_pass(target, probe):
    fake, client = target()
    fake.headers = lambda with_etag=True: {"x-ms-request-id": "r"}
    with pytest.raises(PreconditionFailed, match="without an ETag to compare with"):
        probe(client, PATH, API_VERSION)
    assert {r.method for r in fake.requests} == {"GET"}


@pytest.mark.parametrize("probe", PROBES[:3], ids=lambda p: p.__name__)
def test_a_412_from_a_device_that_refuses_even_its_current_etag_is_a_failed_precondition(target, probe):
    fake, client = target(refuse_all=True)
    with pytest.raises(PreconditionFailed, match=r"the valid request \(PUT with the current ETag as If-Match\) is not "
                                                 r"served.*PUT /devices/d1 → 412 \(PreconditionFailed\)"):
        probe(client, PATH, API_VERSION)
    assert fake.etag == '"e1"'


@pytest.mark.parametrize("status", [500, 401, 302])
def test_a_read_back_after_the_412_that_fails_is_a_failed_precondition(target, status):
    fake, client = target()
    handle = fake.handle

    def after_412(request):
        if request.method == "GET" and any(r.method == "PUT" for r in fake.requests):
            fake.requests.append(request)
            return httpx.Response(status, headers={"Location": "http://elsewhere.example/"})
        return handle(request)

    fake.route.mock(side_effect=after_412)
    with pytest.raises(PreconditionFailed, match=f"could not read the device back after PUT .* → {status}"):
        conditional.stale_put_is_refused(client, PATH, API_VERSION)


def test_a_device_gone_after_the_412_fails_the_requirement(target):
    fake, client = target()
    handle = fake.handle

    def gone_after_412(request):
        response = handle(request)
        if request.method == "PUT":
            fake.device = None
        return response

    fake.route.mock(side_effect=gone_after_412)
    message = only(conditional.stale_put_is_refused(client, PATH, API_VERSION), "DI-COND-001")
    assert "the device is gone" in message


def test_probe_all_leaves_out_a_probe_whose_precondition_failed(target):
    fake, client = target()
    fake.device = None
    assert conditional.probe_all(client, PATH, API_VERSION) == []
    assert {r.method for r in fake.requests} == {"GET"}


# -- departures -------------------------------------------------------------------------------------------------------

def test_ignoring_if_match_fails_the_stale_put_probe(target):
    _, client = target(ignore_if_match=True)
    message = only(conditional.stale_put_is_refused(client, PATH, API_VERSION), "DI-COND-001")
    assert "→ 200, expected 412" in message


def test_ignoring_if_match_fails_the_stale_delete_probe(target):
    _, client = target(ignore_if_match=True)
    message = only(conditional.stale_delete_is_refused(client, PATH, API_VERSION), "DI-COND-002")
    assert "→ 204, expected 412" in message


def test_answering_412_but_applying_the_put_fails(target):
    _, client = target(apply_on_412=True)
    message = only(conditional.stale_put_is_refused(client, PATH, API_VERSION), "DI-COND-001")
    assert "changed" in message and '"e1"' in message and '"e2"' in message


def test_answering_412_but_applying_the_delete_fails(target):
    _, client = target(apply_on_412=True)
    message = only(conditional.stale_delete_is_refused(client, PATH, API_VERSION), "DI-COND-002")
    assert "reads back 404" in message


def test_weak_comparison_fails_the_weak_tag_probe(target):
    _, client = target(weak_matches=True)
    message = only(conditional.weak_tag_does_not_match(client, PATH, API_VERSION), "DI-COND-004")
    assert 'W/"e1"' in message and "→ 200" in message


def test_weak_comparison_passes_the_other_probes(target):
    _, client = target(weak_matches=True)
    assert conditional.stale_put_is_refused(client, PATH, API_VERSION) == []
    assert conditional.stale_delete_is_refused(client, PATH, API_VERSION) == []
    assert conditional.current_and_star_proceed(client, PATH, API_VERSION) == []


def test_refusing_the_star_fails_the_current_and_star_probe(target):
    _, client = target(refuse_star=True)
    message = only(conditional.current_and_star_proceed(client, PATH, API_VERSION), "DI-COND-003")
    assert "If-Match * → 412" in message


def test_probe_all_reports_every_departure(target):
    _, client = target(ignore_if_match=True)
    failures = conditional.probe_all(client, PATH, API_VERSION)
    assert [f.requirement for f in failures] == ["DI-COND-001", "DI-COND-004", "DI-COND-002"]

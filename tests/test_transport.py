"""Request plumbing: 429 is retried with bounded back-off honouring Retry-After; every request has a timeout."""

import httpx
import respx

from iothub_conformance.target import Settings, resolve
from iothub_conformance.transport import RetryTransport


def _client(sleeps, retries=3):
    transport = RetryTransport(httpx.HTTPTransport(), retries=retries, sleep=sleeps.append, max_delay=5)
    return httpx.Client(base_url="https://hub.example", transport=transport), transport


def test_429_is_retried_honouring_retry_after():
    sleeps = []
    client, transport = _client(sleeps)
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/devices").mock(side_effect=[httpx.Response(429, headers={"Retry-After": "2"}),
                                               httpx.Response(200, json=[])])
        assert client.get("/devices").status_code == 200
    assert sleeps == [2.0] and transport.retried == 1


def test_429_back_off_is_bounded_and_gives_up():
    sleeps = []
    client, transport = _client(sleeps, retries=3)
    with respx.mock(base_url="https://hub.example") as mock:
        route = mock.get("/devices").respond(429, headers={"Retry-After": "3600"})
        assert client.get("/devices").status_code == 429
    assert route.call_count == 4 and sleeps == [5, 5, 5]


def test_429_without_retry_after_backs_off_exponentially():
    sleeps = []
    client, _ = _client(sleeps, retries=3)
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/devices").respond(429)
        client.get("/devices")
    assert sleeps == [0.5, 1.0, 2.0]


def test_every_request_has_a_timeout():
    target = resolve(Settings(request_timeout=3.5))
    client = target.client()
    try:
        assert client.timeout == httpx.Timeout(3.5)
    finally:
        target.close()


def test_tokens_are_signed_for_the_host_name_while_requests_go_to_the_target_url():
    cs = "HostName=signed-for.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=" \
         "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    target = resolve(Settings(target_url="http://127.0.0.1:8080", connection_string=cs))
    client = target.client()
    try:
        with respx.mock(base_url="http://127.0.0.1:8080") as mock:
            route = mock.get("/statistics/service").respond(200, json={"totalConnectedDevices": 0})
            client.get("/statistics/service", params={"api-version": "2016-02-03"})
        token = route.calls[0].request.headers["Authorization"]
        assert "sr=signed-for.azure-devices.net&" in token and "skn=iothubowner" in token
    finally:
        target.close()

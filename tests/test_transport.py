"""Request plumbing: every exchange with a target ends by its deadline, 429 waiting is capped, bodies are capped, no
request starts after the run deadline; requests are signed for the hub's name while they go to the target URL."""

import threading
import time
from email.utils import formatdate

import httpx
import pytest
import respx

from iothub_conformance.config import ConfigError, Settings
from iothub_conformance.http.transport import (
    BodyTooLarge,
    Limits,
    RequestDeadlineExceeded,
    RetryAfterTooLong,
    RetryTransport,
    RunDeadlineReached,
    TargetSilent,
    http_transport,
)
from iothub_conformance.targets.resolve import resolve
from tests.support import hostile

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

HANG = 20  # seconds after which a request that has not ended counts as hung


def _client(sleeps, retries=3, **limits):
    limits = Limits(**limits)
    transport = RetryTransport(http_transport(limits), limits, retries=retries, sleep=sleeps.append, max_delay=5)
    return httpx.Client(base_url="https://hub.example", transport=transport), transport


def _outcome(send):
    """Run `send` in a thread and wait at most HANG seconds: (result or exception, seconds taken)."""
    box = {}

    def run():
        started = time.monotonic()
        try:
            box["result"] = send()
        except Exception as exc:  # what the request ended with is the subject of the test
            box["result"] = exc
        box["took"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG)
    assert not thread.is_alive(), f"the request did not end within {HANG} s"
    return box["result"], box["took"]


def _target_client(url, limits, timeout=30.0):
    return httpx.Client(base_url=url, transport=RetryTransport(http_transport(limits), limits), timeout=timeout)


# -- 429 ------------------------------------------------------------------------------------------------------------


def test_429_is_retried_honouring_retry_after():
    sleeps = []
    client, transport = _client(sleeps)
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/devices").mock(side_effect=[httpx.Response(429, headers={"Retry-After": "2"}),
                                               httpx.Response(200, json=[])])
        assert client.get("/devices").status_code == 200
    assert sleeps == [2.0] and transport.retried == 1


def test_a_retry_after_beyond_the_wait_cap_is_an_error_naming_it_and_nothing_sleeps():
    sleeps = []
    client, _ = _client(sleeps)
    with respx.mock(base_url="https://hub.example") as mock:
        route = mock.get("/devices").respond(429, headers={"Retry-After": "100000"})
        with pytest.raises(RetryAfterTooLong) as caught:
            client.get("/devices")
    assert str(caught.value) == ("the target asked to retry after 100000 s (Retry-After), beyond the 30 s a request "
                                 "may wait (--retry-wait)")
    assert isinstance(caught.value, httpx.TransportError) and not isinstance(caught.value, AssertionError)
    assert route.call_count == 1 and sleeps == []


def test_429_waits_add_up_to_at_most_retry_wait_per_request():
    sleeps = []
    client, _ = _client(sleeps, retries=5, retry_wait=10)
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/devices").respond(429, headers={"Retry-After": "4"})
        with pytest.raises(RetryAfterTooLong, match=r"after 4 s .*beyond the 2 s left of the 10 s .*--retry-wait"):
            client.get("/devices")
    assert sleeps == [4.0, 4.0]


def test_429_without_retry_after_backs_off_exponentially_and_gives_up_with_the_429():
    sleeps = []
    client, transport = _client(sleeps, retries=3)
    with respx.mock(base_url="https://hub.example") as mock:
        route = mock.get("/devices").respond(429)
        assert client.get("/devices").status_code == 429
    assert sleeps == [0.5, 1.0, 2.0] and route.call_count == 4 and transport.retried == 3


def test_back_off_of_our_own_choosing_stays_within_the_wait_cap():
    sleeps = []
    client, _ = _client(sleeps, retries=4, retry_wait=1.2)
    with respx.mock(base_url="https://hub.example") as mock:
        route = mock.get("/devices").respond(429)
        assert client.get("/devices").status_code == 429
    assert sleeps == [0.5, pytest.approx(0.7)] and route.call_count == 3


def test_retry_after_as_an_http_date_is_honoured():
    sleeps = []
    client, _ = _client(sleeps)
    when = formatdate(time.time() + 5, usegmt=True)
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/devices").mock(side_effect=[httpx.Response(429, headers={"Retry-After": when}),
                                               httpx.Response(200, json=[])])
        assert client.get("/devices").status_code == 200
    assert len(sleeps) == 1 and 3 <= sleeps[0] <= 5


# -- the run deadline ------------------------------------------------------------------------------------------------


def test_no_request_starts_after_the_run_deadline():
    sleeps = []
    client, transport = _client(sleeps)
    transport.limits.run_ends_at = time.monotonic() - 0.1
    with respx.mock(base_url="https://hub.example", assert_all_called=False) as mock:
        route = mock.get("/devices").respond(200, json=[])
        with pytest.raises(RunDeadlineReached, match=r"the run deadline was reached \(--deadline\)"):
            client.get("/devices")
    assert route.call_count == 0


def test_no_429_wait_goes_past_the_run_deadline():
    sleeps = []
    client, transport = _client(sleeps)
    transport.limits.run_ends_at = time.monotonic() + 3
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/devices").respond(429, headers={"Retry-After": "10"})
        with pytest.raises(RetryAfterTooLong, match=r"after 10 s \(Retry-After\), beyond the run deadline"):
            client.get("/devices")
    assert sleeps == []


def test_the_run_deadline_ends_a_request_in_flight():
    limits = Limits(request_timeout=30, run_ends_at=time.monotonic() + 1.0)
    with hostile.serve("never-answer") as url:
        result, took = _outcome(lambda: _target_client(url, limits).get("/devices/x"))
    assert isinstance(result, RunDeadlineReached), result
    assert "the run deadline was reached (--deadline) before the target answered" in str(result)


# -- the request deadline (real sockets: the servers of tests/support/hostile.py) -------------------------------------


@pytest.mark.parametrize("behaviour", ["trickle", "stall", "never-answer"])
def test_a_request_ends_by_its_deadline_whatever_the_per_read_timeout(behaviour):
    # A per-read timeout of 30 s would never fire on "trickle" (a byte every 0.5 s, twice before the deadline): only
    # the whole-exchange one does.
    limits = Limits(request_timeout=1.5)
    with hostile.serve(behaviour) as url:
        result, took = _outcome(lambda: _target_client(url, limits, timeout=30).get("/devices/x"))
    assert isinstance(result, RequestDeadlineExceeded), result
    assert str(result) == "no complete answer within 1.5 s (--request-timeout)"
    assert isinstance(result, httpx.TransportError) and not isinstance(result, AssertionError)
    assert result.request.url.path == "/devices/x"
    assert limits.deadlines_in_a_row == 1


def test_a_shorter_per_read_timeout_still_applies_and_is_not_called_the_deadline():
    limits = Limits(request_timeout=20)
    with hostile.serve("never-answer") as url:
        result, _ = _outcome(lambda: _target_client(url, limits, timeout=0.5).get("/devices/x"))
    assert isinstance(result, httpx.ReadTimeout) and not isinstance(result, RequestDeadlineExceeded)


def test_the_target_client_carries_the_deadline():
    target = resolve(Settings(request_timeout=1.5, target_url="http://127.0.0.1:1", connection_string=(
        "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey="
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")))
    try:
        with hostile.serve("trickle") as url:
            client = target.client(guarded=False)
            client.base_url = url
            result, _ = _outcome(lambda: client.get("/devices/x", params={"api-version": "2016-02-03"}))
        assert isinstance(result, RequestDeadlineExceeded), result
    finally:
        target.close()


def test_after_silent_limit_deadlines_in_a_row_no_further_request_is_sent():
    limits = Limits(request_timeout=0.5, silent_limit=2)
    with hostile.serve("silent-after-first") as url:
        client = _target_client(url, limits)
        assert client.get("/devices/x").status_code == 404
        for _ in range(2):
            assert isinstance(_outcome(lambda: client.get("/devices/x"))[0], RequestDeadlineExceeded)
        result, took = _outcome(lambda: client.get("/devices/x"))
    assert isinstance(result, TargetSilent), result
    assert str(result) == ("the target answered none of the last 2 requests within 0.5 s (--request-timeout): no "
                           "further request is sent")
    assert took < 0.4  # refused at once, not after another deadline


def test_a_complete_answer_resets_the_count_of_deadlines_in_a_row():
    limits = Limits(silent_limit=3)
    limits.deadlines_in_a_row = 2
    client = httpx.Client(transport=RetryTransport(http_transport(limits), limits))
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/devices").respond(200, json=[])
        client.get("https://hub.example/devices")
    assert limits.deadlines_in_a_row == 0 and not limits.target_silent


# -- the body cap ----------------------------------------------------------------------------------------------------


def test_a_body_declared_over_the_cap_is_refused_unread():
    limits = Limits(max_body=1024**2)
    with hostile.serve("bodies-50mb") as url:
        result, _ = _outcome(lambda: _target_client(url, limits).get("/devices/x"))
    assert isinstance(result, BodyTooLarge), result
    assert str(result) == "the response body exceeds 1 MB (--max-body): refused unread (Content-Length 52428800)"


def test_a_streamed_body_over_the_cap_is_refused_after_the_cap_not_read_to_its_end():
    # 10 GB at loopback speed takes a minute and would not fit in memory: ending well inside HANG shows it was cut.
    limits = Limits(max_body=2 * 1024**2)
    with hostile.serve("stream-10gb") as url:
        result, _ = _outcome(lambda: _target_client(url, limits).get("/devices/x"))
    assert isinstance(result, BodyTooLarge), result
    assert str(result).startswith("the response body exceeds 2 MB (--max-body): refused after its first 2 MB")


def _held(value) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, list):
        return sum(len(v) for v in value if isinstance(v, bytes | bytearray))
    return 0


def test_a_refused_body_is_not_kept_alive_by_the_error():
    # A failed test keeps its exception, and the exception its traceback's frames: they must not hold the body read.
    limits = Limits(max_body=4 * 1024**2)
    with hostile.serve("stream-10gb") as url:
        result, _ = _outcome(lambda: _target_client(url, limits).get("/devices/x"))
    assert isinstance(result, BodyTooLarge), result
    frames, tb = [], result.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    assert max(_held(v) for frame in frames for v in frame.f_locals.values()) < 1024**2


def test_bodies_up_to_the_cap_are_read_whole_and_a_head_is_not_judged_by_its_length():
    limits = Limits(max_body=1024)
    client = httpx.Client(transport=RetryTransport(http_transport(limits), limits))
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/exact").respond(200, content=b"x" * 1024)
        mock.get("/over").respond(200, content=b"x" * 1025)
        mock.head("/big").respond(200, headers={"Content-Length": "99999999"})
        assert client.get("https://hub.example/exact").content == b"x" * 1024
        with pytest.raises(BodyTooLarge, match=r"exceeds 1 KB \(--max-body\)"):
            client.get("https://hub.example/over")
        assert client.head("https://hub.example/big").status_code == 200


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_body_is_held_to_the_cap_once_decoded(encoding):
    import gzip
    import zlib

    compress = gzip.compress if encoding == "gzip" else zlib.compress
    limits = Limits(max_body=1024**2)
    client = httpx.Client(transport=RetryTransport(http_transport(limits), limits))
    with respx.mock(base_url="https://hub.example") as mock:
        mock.get("/bomb").respond(200, content=compress(b"0" * (64 * 1024**2)), headers={"Content-Encoding": encoding})
        mock.get("/small").respond(200, content=compress(b"[1, 2]" * 1000), headers={"Content-Encoding": encoding})
        with pytest.raises(BodyTooLarge, match=rf"exceeds 1 MB \(--max-body\) once decoded \(Content-Encoding {encoding}\)"):
            client.get("https://hub.example/bomb")
        assert client.get("https://hub.example/small").content == b"[1, 2]" * 1000


# -- TLS, timeouts, signing -------------------------------------------------------------------------------------------


def test_a_ca_bundle_that_is_not_pem_is_one_config_error(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"^--ca-bundle: .*ca\.pem' holds no usable PEM certificates"):
        http_transport(Limits(), str(bundle))


def test_every_request_has_a_timeout():
    target = resolve(Settings(request_timeout=3.5))
    client = target.client()
    try:
        assert client.timeout == httpx.Timeout(3.5)
        assert target.limits.request_timeout == 3.5
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

"""httpx transports: the in-process reference, bounded retries on 429, and the limits on every request to a target.

httpx's timeouts apply per socket operation, so a target that sends a byte every few seconds would keep a request
waiting forever. Here one deadline covers an exchange whole (connect, TLS, headers and body): every
socket operation waits at most the time left before it (DeadlineBackend), a body over the cap is refused without
being read, and no request starts after the run deadline.
"""

from __future__ import annotations

import contextlib
import email.utils
import ssl
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx

from iothub_conformance.config import (
    DEFAULT_MAX_BODY,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_WAIT,
    DEFAULT_SILENT_LIMIT,
    ConfigError,
)

_SLACK = 0.05  # a socket timeout may fire this much before the deadline it was sized to


@dataclass
class Limits:
    """What bounds every request to a target, and the run as a whole. One Limits is shared by all of a run's clients,
    so the counters below are the run's."""

    request_timeout: float = DEFAULT_REQUEST_TIMEOUT  # connect + headers + body
    retry_wait: float = DEFAULT_RETRY_WAIT  # total 429 waiting per request
    max_body: int = DEFAULT_MAX_BODY
    run_ends_at: float | None = None  # time.monotonic() after which no request starts (the run deadline)
    silent_limit: int | None = DEFAULT_SILENT_LIMIT  # None: never give up on a silent target
    deadlines_in_a_row: int = 0  # requests in a row that got no complete answer within request_timeout
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def target_silent(self) -> bool:
        return self.silent_limit is not None and self.deadlines_in_a_row >= self.silent_limit

    def silence(self) -> str:
        return (f"the target answered none of the last {self.deadlines_in_a_row} requests within "
                f"{self.request_timeout:g} s (--request-timeout)")

    def note_deadline(self) -> None:
        with self._lock:
            self.deadlines_in_a_row += 1

    def note_answer(self) -> None:
        with self._lock:
            self.deadlines_in_a_row = 0


# -- errors: transport errors (so `except httpx.TransportError` catches them), never AssertionError (a verdict of
# error, not fail: the target gave nothing to judge) ---------------------------------------------------------------


class RequestDeadlineExceeded(httpx.TimeoutException):
    """No complete answer within the request deadline."""


class RunDeadlineReached(httpx.TransportError):
    """The run deadline has passed: no new request starts, and one in flight ends."""


class TargetSilent(httpx.TransportError):
    """The last Limits.silent_limit requests all hit the request deadline: the rest would too."""


class RetryAfterTooLong(httpx.TransportError):
    """A 429 asked for a wait beyond what the request may still wait."""


class BodyTooLarge(httpx.TransportError):
    """A response body beyond Limits.max_body."""


def _size(count: int) -> str:
    for unit, name in ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB")):
        if count >= unit and count % unit == 0:
            return f"{count // unit} {name}"
    return f"{count} bytes"


# -- the per-request deadline ---------------------------------------------------------------------------------------


class _Deadline:
    def __init__(self, limits: Limits) -> None:
        now = time.monotonic()
        self.limits = limits
        self.at = now + limits.request_timeout
        ends = limits.run_ends_at
        self.by_run = ends is not None and ends < self.at
        if ends is not None and self.by_run:
            self.at = ends

    def left(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= _SLACK

    def error(self, request: httpx.Request) -> httpx.TransportError:
        if self.by_run:
            return RunDeadlineReached("the run deadline was reached (--deadline) before the target answered",
                                      request=request)
        return RequestDeadlineExceeded(f"no complete answer within {self.limits.request_timeout:g} s "
                                       "(--request-timeout)", request=request)


_active = threading.local()  # this thread's request deadline: the suite may send from several threads


def _current() -> _Deadline | None:
    return getattr(_active, "deadline", None)


@contextmanager
def request_deadline(limits: Limits):
    """The deadline of the exchange this thread is sending: request_timeout from now, or the run deadline if sooner."""
    _refuse_after_run(limits)
    _active.deadline = _Deadline(limits)
    try:
        yield _active.deadline
    finally:
        _active.deadline = None


def _refuse_after_run(limits: Limits) -> None:
    if limits.run_ends_at is not None and time.monotonic() >= limits.run_ends_at:
        raise RunDeadlineReached("the run deadline was reached (--deadline): no new request to the target starts")


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    """The per-operation timeout, cut to the time left before this thread's request deadline."""
    deadline = _current()
    if deadline is None:
        return timeout
    left = deadline.left()
    if left <= 0:
        raise exc("the request deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # A large body is sent whole by one call: cut it so the deadline is checked between pieces.
        for start in range(0, len(buffer), 65536):
            self._inner.write(buffer[start:start + 65536], _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, each of whose waits ends by the deadline of the request this thread is sending."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(self._inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - no unix targets
        return _DeadlineStream(self._inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- the transport to a real endpoint -------------------------------------------------------------------------------


class BoundedHTTPTransport(httpx.HTTPTransport):
    """httpx.HTTPTransport whose requests end by their deadline and whose response bodies are read here, whole and
    capped, while the deadline still holds: what reaches the client is complete and at most max_body bytes."""

    def __init__(self, limits: Limits, ssl_context: ssl.SSLContext | bool = True) -> None:
        super().__init__(verify=ssl_context)
        self.limits = limits
        pool = self._pool
        # The same pool httpx would make, on the deadline backend (HTTPTransport takes no network_backend).
        self._pool = httpcore.ConnectionPool(ssl_context=pool._ssl_context, max_connections=pool._max_connections,
                                             max_keepalive_connections=pool._max_keepalive_connections,
                                             keepalive_expiry=pool._keepalive_expiry, http1=pool._http1,
                                             http2=pool._http2, network_backend=DeadlineBackend())
        pool.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with request_deadline(self.limits) as deadline:
            try:
                response = super().handle_request(request)
                body = self._read_capped(request, response)
            except httpx.TimeoutException:
                if deadline.passed():
                    raise deadline.error(request) from None
                raise
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise httpx.ConnectError(f"the target's TLS certificate is not trusted ({exc}): for a private "
                                             "CA, give --ca-bundle FILE", request=request) from None
                raise
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(body),
                              extensions=response.extensions, request=request)

    def _read_capped(self, request: httpx.Request, response: httpx.Response) -> bytes:
        cap = self.limits.max_body
        try:
            declared = int(response.headers.get("Content-Length", ""))
        except ValueError:
            declared = None
        if declared is not None and declared > cap and request.method != "HEAD" and response.status_code not in (
                204, 304):
            response.close()  # unread: httpcore drops the connection
            raise BodyTooLarge(f"the response body exceeds {_size(cap)} (--max-body): refused unread "
                               f"(Content-Length {declared})", request=request)
        parts: list[bytes] = []
        size = 0
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        decoded = _DecodedSize(encoding, cap) if encoding in _ZLIB_WBITS else None
        try:
            for part in response.stream:  # type: ignore[union-attr]  # a sync transport's stream
                size += len(part)
                if size > cap:
                    parts.clear()  # the error's traceback keeps this frame, and a failed test keeps the error
                    raise BodyTooLarge(f"the response body exceeds {_size(cap)} (--max-body): refused after its "
                                       f"first {_size(cap)}, the rest unread", request=request)
                if decoded is not None and decoded.add(part) > cap:
                    parts.clear()
                    raise BodyTooLarge(f"the response body exceeds {_size(cap)} (--max-body) once decoded "
                                       f"(Content-Encoding {encoding}): refused", request=request)
                parts.append(part)
        finally:
            response.close()
        return b"".join(parts)


_ZLIB_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class _DecodedSize:
    """Counts what a gzip or deflate body decodes to, a piece at a time and discarding it: the client decodes the
    body again, so the cap must hold for the decoded size too (a small compressed body can expand a thousandfold)."""

    def __init__(self, encoding: str, cap: int) -> None:
        self.raw_fallback = encoding == "deflate"  # httpx accepts zlib-wrapped or raw deflate
        self.decoder = zlib.decompressobj(_ZLIB_WBITS[encoding])
        self.cap = cap
        self.total = 0
        self.broken = False  # not decodable: the client's decoding will say so

    def add(self, data: bytes) -> int:
        while data and not self.broken and self.total <= self.cap:
            try:
                out = self.decoder.decompress(data, 65536)
            except zlib.error:
                if self.raw_fallback and self.total == 0:
                    self.raw_fallback, self.decoder = False, zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                self.broken = True
                break
            self.raw_fallback = False
            self.total += len(out)
            data = self.decoder.unconsumed_tail
        return self.total


def http_transport(limits: Limits, ca_bundle: str | None = None) -> httpx.BaseTransport:
    """The transport to a real endpoint: TLS verified (against ca_bundle only, when given), every request bounded by
    `limits`."""
    verify: ssl.SSLContext | bool = True
    if ca_bundle:
        try:
            verify = ssl.create_default_context(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"--ca-bundle: {ca_bundle!r} holds no usable PEM certificates "
                              f"({getattr(exc, 'strerror', None) or exc})") from None
    return BoundedHTTPTransport(limits, verify)


# -- the embedded reference -----------------------------------------------------------------------------------------


class InProcessTransport(httpx.BaseTransport):
    """Serve a sync httpx.Client from an ASGI app through httpx.ASGITransport, with no socket.

    httpx.ASGITransport is async-only; one event loop in a helper thread (an anyio portal) runs it for us.
    """

    def __init__(self, app) -> None:
        import anyio.from_thread  # imported late: anyio is also a pytest plugin, which pytest wants to load first

        self._asgi = httpx.ASGITransport(app=app)
        self._portal_cm: contextlib.AbstractContextManager[Any] | None = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()  # type: ignore[union-attr]  # just made

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            body = b"".join([part async for part in response.stream])  # type: ignore[union-attr]  # ASGI: async
            # A stream, not content=: httpx sets `.elapsed` when it reads and closes the stream.
            return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(body),
                                  extensions=response.extensions)

        return self._portal.call(send)

    def close(self) -> None:
        if self._portal_cm is not None:
            self._portal_cm.__exit__(None, None, None)
            self._portal_cm = None


# -- 429 ------------------------------------------------------------------------------------------------------------


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP-date, RFC 9110 §10.2.3), or None when absent or unreadable."""
    header = response.headers.get("Retry-After", "").strip()
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryTransport(httpx.BaseTransport):
    """Retry 429 answers with bounded back-off, honouring Retry-After (common-error-codes: back off exponentially).

    Each exchange has its own request deadline (the inner transport's); the waits between them add up to at most
    Limits.retry_wait and never pass the run deadline. A Retry-After beyond what is left is an error naming it, not a
    shorter wait: the target said when it would answer, and sooner would only be refused again.
    """

    def __init__(self, inner: httpx.BaseTransport, limits: Limits | None = None, retries: int = 4,
                 base_delay: float = 0.5, max_delay: float = 10.0, sleep=time.sleep) -> None:
        self.inner = inner
        self.limits = limits or Limits()
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay  # the longest back-off of our own choosing (no Retry-After)
        self.sleep = sleep
        self.retried = 0  # counted, not failed (DESIGN: Targets)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limits = self.limits
        if limits.target_silent:
            raise TargetSilent(f"{limits.silence()}: no further request is sent", request=request)
        try:
            response = self._send(request)
        except RequestDeadlineExceeded:
            limits.note_deadline()
            raise
        limits.note_answer()
        return response

    def _send(self, request: httpx.Request) -> httpx.Response:
        waited = 0.0
        for attempt in range(self.retries + 1):
            _refuse_after_run(self.limits)
            response = self.inner.handle_request(request)
            if response.status_code != 429 or attempt == self.retries:
                return response
            response.read()
            response.close()
            wanted = retry_after(response)
            room, by_run = self._room(waited)
            if wanted is None:
                delay = min(self.base_delay * (2**attempt), self.max_delay, room)
                if delay <= 0:
                    return response  # no time left for a wait of our own choosing: the caller gets the 429
            elif wanted > room:
                raise self._too_long(request, wanted, waited, by_run)
            else:
                delay = wanted
            self.retried += 1
            self.sleep(delay)
            waited += delay
        raise AssertionError("unreachable")

    def _room(self, waited: float) -> tuple[float, bool]:
        """How long the next wait may be, and whether the run deadline is what limits it."""
        room = self.limits.retry_wait - waited
        ends = self.limits.run_ends_at
        if ends is not None and ends - time.monotonic() < room:
            return max(0.0, ends - time.monotonic()), True
        return max(0.0, room), False

    def _too_long(self, request, wanted: float, waited: float, by_run: bool) -> httpx.TransportError:
        asked = f"the target asked to retry after {wanted:g} s (Retry-After)"
        if by_run:
            beyond = "beyond the run deadline (--deadline)"
        elif waited == 0:
            beyond = f"beyond the {self.limits.retry_wait:g} s a request may wait (--retry-wait)"
        else:
            beyond = (f"beyond the {self.limits.retry_wait - waited:g} s left of the {self.limits.retry_wait:g} s a "
                      "request may wait (--retry-wait)")
        return RetryAfterTooLong(f"{asked}, {beyond}", request=request)

    def close(self) -> None:
        self.inner.close()

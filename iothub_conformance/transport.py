"""httpx transports: the in-process reference, and bounded retries on 429."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from .config import DEFAULT_MAX_BODY, DEFAULT_REQUEST_TIMEOUT, DEFAULT_RETRY_WAIT


@dataclass
class Limits:
    """What bounds every request to a target, and the run as a whole."""

    request_timeout: float = DEFAULT_REQUEST_TIMEOUT  # connect + headers + body
    retry_wait: float = DEFAULT_RETRY_WAIT  # total 429 waiting per request
    max_body: int = DEFAULT_MAX_BODY
    run_ends_at: float | None = None  # time.monotonic() after which no request starts (the run deadline)


def http_transport(limits: Limits, ca_bundle: str | None = None) -> httpx.BaseTransport:
    """The transport to a real endpoint: TLS verified (against ca_bundle when given)."""
    import ssl

    verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    return httpx.HTTPTransport(verify=verify)


class InProcessTransport(httpx.BaseTransport):
    """Serve a sync httpx.Client from an ASGI app through httpx.ASGITransport, with no socket.

    httpx.ASGITransport is async-only; one event loop in a helper thread (an anyio portal) runs it for us.
    """

    def __init__(self, app) -> None:
        import anyio.from_thread  # imported late: anyio is also a pytest plugin, which pytest wants to load first

        self._asgi = httpx.ASGITransport(app=app)
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            body = b"".join([part async for part in response.stream])
            # A stream, not content=: httpx sets `.elapsed` when it reads and closes the stream.
            return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(body),
                                  extensions=response.extensions)

        return self._portal.call(send)

    def close(self) -> None:
        if self._portal_cm is not None:
            self._portal_cm.__exit__(None, None, None)
            self._portal_cm = None


class RetryTransport(httpx.BaseTransport):
    """Retry 429 answers with bounded back-off, honouring Retry-After (common-error-codes: back off exponentially)."""

    def __init__(self, inner: httpx.BaseTransport, limits: Limits | None = None, retries: int = 4,
                 base_delay: float = 0.5, max_delay: float = 10.0, sleep=time.sleep) -> None:
        self.inner = inner
        self.limits = limits or Limits()
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.retried = 0  # counted, not failed (DESIGN: Targets)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(self.retries + 1):
            response = self.inner.handle_request(request)
            if response.status_code != 429 or attempt == self.retries:
                return response
            response.read()
            response.close()
            self.retried += 1
            self.sleep(self._delay(response, attempt))
        raise AssertionError("unreachable")

    def _delay(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        try:
            wanted = float(header)
        except ValueError:
            wanted = self.base_delay * (2**attempt)
        return max(0.0, min(wanted, self.max_delay))

    def close(self) -> None:
        self.inner.close()

"""Evidence: the last exchanges of a test with the target, redacted, with a curl line that reproduces each request
once the user puts in their own credentials.

The Journal hands every response here; the plugin says which test is running and takes the transcript of a test
that failed. Only the last KEPT exchanges of a test are held, as they were, and written out (bodies, headers and URLs
cut to BODY_LIMIT with their size said) only for a test that failed: most tests pass, and rendering every exchange
was a tenth of a run's time.
"""

from __future__ import annotations

import shlex
import threading
from collections import deque

import httpx

from iothub_conformance.evidence.text import LIMIT, excerpt

KEPT = 4
BODY_LIMIT = LIMIT
# Request headers a reproduction needs; the rest (httpx's defaults) is noise.
REQUEST_HEADERS = ("content-type", "if-match", "if-none-match", "iothub-to", "x-ms-client-request-id")


def _text(content: bytes | str) -> str:
    return excerpt(content, BODY_LIMIT)


def _credential(request: httpx.Request) -> str | None:
    value = request.headers.get("authorization", "")
    if not value:
        return None
    return "Bearer <your AAD token>" if value.lower().startswith("bearer") else "<your SAS token>"


def curl(request: httpx.Request, body: bytes) -> str:
    """A curl command for the request with the credential replaced by a placeholder (never the real one)."""
    parts = ["curl", "-X", request.method, _text(str(request.url))]
    credential = _credential(request)
    if credential:
        parts += ["-H", f"Authorization: {credential}"]
    for name in REQUEST_HEADERS:
        if name in request.headers:
            parts += ["-H", f"{name}: {_text(request.headers[name])}"]
    for name, value in request.headers.items():
        if name.lower().startswith("iothub-app-"):
            parts += ["-H", f"{_text(name)}: {_text(value)}"]
    if body:
        parts += ["--data-binary", _text(body)]
    return " ".join(shlex.quote(part) for part in parts)


def exchange(response: httpx.Response) -> dict:
    request = response.request
    try:
        sent = request.content
    except httpx.RequestNotRead:
        sent = b""
    try:
        received = response.content
    except httpx.ResponseNotRead:
        received = b""
    return {
        "request": f"{request.method} {_text(str(request.url))}",
        "request_headers": {k: _text(v) for k, v in request.headers.items() if k.lower() in REQUEST_HEADERS},
        "request_body": _text(sent),
        "status": response.status_code,
        "response_headers": {_text(k): _text(v) for k, v in response.headers.items()},
        "response_body": _text(received),
        "curl": curl(request, sent),
    }


class Transcripts:
    """The last exchanges of the test that is running (one test at a time per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._test: str | None = None
        self._kept: deque[httpx.Response] = deque(maxlen=KEPT)

    def begin(self, test: str) -> None:
        with self._lock:
            self._test, self._kept = test, deque(maxlen=KEPT)

    def end(self) -> list[httpx.Response]:
        """The test's last exchanges, as they were; `exchange()` writes each out."""
        with self._lock:
            kept, self._test, self._kept = list(self._kept), None, deque(maxlen=KEPT)
        return kept

    def record(self, response: httpx.Response) -> None:
        with self._lock:
            if self._test is None:
                return
        response.read()  # response hooks run before httpx reads the body; it reads it next anyway
        with self._lock:
            self._kept.append(response)

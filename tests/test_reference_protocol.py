"""Broken HTTP framing against `iothub-conformance serve`: a 400 or a quiet close, and nothing logged at ERROR.

Raw bytes over a socket, because an HTTP client will not send an invalid chunk or a short body on purpose.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from iothub_conformance.http import sas
from iothub_conformance.reference.bodies import MAX_REQUEST_BODY

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

ROOT = Path(__file__).resolve().parent.parent
ERROR_LINES = re.compile(r"ERROR|Traceback|Exception in ASGI|Fatal error|unexpected error")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, tmp: Path):
        self.port = _free_port()
        self.log = tmp / "serve.log"
        self._log = self.log.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "iothub_conformance.cli", "serve", "--port", str(self.port)],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True)
        cs = sas.parse_connection_string(self.proc.stdout.readline().strip())
        self.token = sas.build_token(cs.host_name, cs.key, cs.key_name).encode()
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/statistics/service", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the served reference did not start") from None
                time.sleep(0.1)

    def errors(self) -> list[str]:
        time.sleep(0.3)  # let the server write what the last exchange made it log
        return [line for line in self.log.read_text().splitlines() if ERROR_LINES.search(line)]

    def exchange(self, *parts: bytes, pause: float = 0.2, close_early: bool = False) -> bytes:
        """Send `parts` with a pause between them; the status line of the answer, or b"" when the server closed."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            for part in parts:
                s.sendall(part)
                time.sleep(pause)
            if close_early:
                return b""
            answer = b""
            try:
                while chunk := s.recv(65536):
                    answer += chunk
            except (TimeoutError, ConnectionResetError):
                pass
        return answer.split(b"\r\n", 1)[0]

    def head(self, method: str, path: str, *headers: str) -> bytes:
        lines = [f"{method} {path}?api-version=2016-02-03 HTTP/1.1", "Host: 127.0.0.1", *headers]
        return "\r\n".join(lines).encode() + b"\r\nAuthorization: " + self.token + b"\r\n\r\n"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    running = Served(tmp_path_factory.mktemp("served"))
    yield running
    running.stop()


def test_a_good_request_is_served_and_logs_nothing(served):
    # The baseline: the server works and its log is clean, so the cases below measure the framing, not the setup.
    assert served.exchange(served.head("GET", "/devices", "Connection: close")) == b"HTTP/1.1 200 OK"
    assert served.errors() == []


CHUNKED = ("Transfer-Encoding: chunked", "Content-Type: application/json", "Connection: close")


@pytest.mark.parametrize("path", ["/devices/dev1", "/devices/nobody/messages/events", "/twins/dev1"])
@pytest.mark.parametrize("body", [
    [b"zz\r\nabc\r\n0\r\n\r\n"],  # a chunk size that is not hex
    [b"3\r\n{\"a\r\n", b"zz\r\nxx\r\n"],  # a good chunk, then garbage
    [b"3\r\n{\"a\r\n", b"-1\r\n\r\n"],  # a negative chunk size
    [b"3\r\n{\"abcdef\r\n0\r\n\r\n"],  # a chunk longer than its size
], ids=["bad-size", "garbage-after-chunk", "negative-size", "overlong-chunk"])
def test_an_invalid_chunked_body_is_400_and_logs_no_error(served, path, body):
    method = "POST" if path.endswith("events") else "PATCH" if path.startswith("/twins") else "PUT"
    status = served.exchange(served.head(method, path, *CHUNKED), *body)
    assert status in (b"HTTP/1.1 400 Bad Request", b"")
    assert served.errors() == []


def test_a_client_that_leaves_mid_body_logs_no_error(served):
    head = served.head("PUT", "/devices/dev1", "Content-Length: 100", "Content-Type: application/json")
    served.exchange(head, b'{"dev', close_early=True)
    assert served.errors() == []


def test_a_body_shorter_than_its_content_length_logs_no_error(served):
    head = served.head("POST", "/devices/dev1/messages/events", "Content-Length: 5000")
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as s:
        s.sendall(head + b"x" * 100)
        s.shutdown(socket.SHUT_WR)  # the client says it has sent everything: 4,900 bytes short
        try:
            answer = s.recv(1000)
        except ConnectionResetError:
            answer = b""
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400")
    assert served.errors() == []


def test_a_declared_body_over_the_cap_is_413_without_reading_it(served):
    head = served.head("POST", "/devices/dev1/messages/events", f"Content-Length: {MAX_REQUEST_BODY + 1}")
    assert served.exchange(head) == b"HTTP/1.1 413 Request Entity Too Large"
    assert served.errors() == []


def test_a_chunked_body_over_the_cap_is_413(served):
    chunk = b"%x\r\n" % (64 * 1024) + b"x" * (64 * 1024) + b"\r\n"
    head = served.head("POST", "/devices/dev1/messages/events", "Transfer-Encoding: chunked")
    assert served.exchange(head, chunk * (MAX_REQUEST_BODY // len(chunk) + 2), pause=0) == \
        b"HTTP/1.1 413 Request Entity Too Large"
    assert served.errors() == []


def test_the_connection_still_serves_after_a_read_body(served):
    # Reading the body first keeps keep-alive: two requests on one connection both get their answer.
    body = b'{"deviceId": "dev-keepalive"}'
    one = served.head("PUT", "/devices/dev-keepalive", f"Content-Length: {len(body)}", "Content-Type: application/json")
    two = served.head("GET", "/devices/dev-keepalive", "Connection: close")
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as s:
        s.sendall(one + body + two)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert served.errors() == []


def test_a_405_names_the_methods_of_the_requests_api_version():
    # POST /devices (the bulk registry call) came after 2016: a 2016 request is not told it exists.
    from starlette.testclient import TestClient

    from iothub_conformance.reference.app import create_app
    from iothub_conformance.reference.hub import Hub

    client = TestClient(create_app(Hub()))
    at_2016 = client.request("DELETE", "/devices", params={"api-version": "2016-02-03"})
    at_2021 = client.request("DELETE", "/devices", params={"api-version": "2021-04-12"})
    assert (at_2016.status_code, at_2016.headers["Allow"]) == (405, "GET, HEAD")
    assert (at_2021.status_code, at_2021.headers["Allow"]) == (405, "GET, HEAD, POST")

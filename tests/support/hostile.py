"""Misbehaving targets on 127.0.0.1 for the project's tests: `with serve("trickle") as url: ...`.

Raw sockets (socketserver), not an HTTP framework: these servers must be free to break HTTP. Each connection runs in a
daemon thread whose every wait is short and checks the server's stop event, so leaving the `with` block ends them all.
"""

from __future__ import annotations

import itertools
import json
import socket
import socketserver
import threading
import uuid
from contextlib import contextmanager

BEHAVIOURS: dict[str, callable] = {}
_TICK = 0.25  # how often a waiting handler looks at the stop event
_HEAD_LIMIT = 64 * 1024
CHUNK = 64 * 1024
TRICKLE_INTERVAL = 0.5  # seconds between two bytes of "trickle": within any per-read timeout the tests give
STREAM_BYTES = 10 * 1024**3  # "stream-10gb": what the body would come to
BIG_BODY = 50 * 1024**2  # "bodies-50mb"


def behaviour(name: str):
    def register(func):
        BEHAVIOURS[name] = func
        return func

    return register


class _Stopped(Exception):
    """The server is closing, or the client went away: leave the handler."""


class _Conn:
    """One accepted connection, with reads and writes that give up once the server stops."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop
        self.buffer = b""
        sock.settimeout(_TICK)

    def _recv(self) -> bytes:
        while not self.stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                raise _Stopped from None
            if not data:
                raise _Stopped
            return data
        raise _Stopped

    def read_request(self) -> tuple[str, str]:
        """Read one request (head and Content-Length body, which is discarded); return (method, path)."""
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > _HEAD_LIMIT:
                raise _Stopped
            self.buffer += self._recv()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = (lines[0].split(" ") + ["", ""])[:2]
        length = 0
        for line in lines[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())
        while len(self.buffer) < length:
            self.buffer += self._recv()
        self.buffer = self.buffer[length:]
        return method, path

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.stop.is_set():
            try:
                sent = self.sock.send(view)
            except TimeoutError:
                continue
            except OSError:
                raise _Stopped from None
            view = view[sent:]
        if view:
            raise _Stopped

    def wait(self, seconds: float | None = None) -> None:
        """Sleep (forever when None) until the server stops; raise _Stopped when it does."""
        if self.stop.wait(seconds):
            raise _Stopped


def _response(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    fields = {"Content-Type": "application/json; charset=utf-8", **(headers or {}), "Content-Length": str(len(body))}
    lines += [f"{k}: {v}" for k, v in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"Message": f"ErrorCode:{code};{message}", "ExceptionMessage": ""}).encode()


def _answer_each(conn: _Conn, payload: bytes) -> None:
    while True:
        conn.read_request()
        conn.send(payload)


@behaviour("always-500")
def _always_500(conn: _Conn, server) -> None:
    _answer_each(conn, _response("500 Internal Server Error", _error_body("ServerError", "Internal server error.")))


@behaviour("always-404")
def _always_404(conn: _Conn, server) -> None:
    _answer_each(conn, _response("404 Not Found", _error_body("DeviceNotFound", "The device does not exist.")))


@behaviour("always-401")
def _always_401(conn: _Conn, server) -> None:
    _answer_each(conn, _response("401 Unauthorized", _error_body("IotHubUnauthorizedAccess", "Unauthorized")))


@behaviour("redirect-all")
def _redirect_all(conn: _Conn, server) -> None:
    # Somewhere that is never this server, and not reachable: following it must not matter.
    _answer_each(conn, _response("302 Found", headers={"Location": "http://127.0.0.1:9/elsewhere"}))


@behaviour("empty-200")
def _empty_200(conn: _Conn, server) -> None:
    _answer_each(conn, _response("200 OK"))


def _answer_each_with(conn: _Conn, make) -> None:
    """Like _answer_each, with a response made afresh for each request (a new x-ms-request-id each time)."""
    for n in itertools.count(1):
        conn.read_request()
        conn.send(make(n))


def _iothub_error(status: str, code: str, message: str):
    """An error as faithful as the real service's (envelope, iothub-errorcode, a unique x-ms-request-id): only the
    constant status gives the target away."""
    def make(n: int) -> bytes:
        return _response(status, _error_body(code, message),
                         {"iothub-errorcode": code, "x-ms-request-id": str(uuid.uuid4())})

    return make


# Constant answers that some requirement expects for a bad request: a test that looks only at the status would pass.
@behaviour("always-400")
def _always_400(conn: _Conn, server) -> None:
    # The code the iothub profile wants for an api-version error, so a check of the code alone cannot tell either.
    _answer_each_with(conn, _iothub_error("400 Bad Request", "InvalidProtocolVersion", "Invalid protocol version."))


@behaviour("always-400-bare")
def _always_400_bare(conn: _Conn, server) -> None:
    _answer_each(conn, _response("400 Bad Request"))


@behaviour("always-403")
def _always_403(conn: _Conn, server) -> None:
    _answer_each_with(conn, _iothub_error("403 Forbidden", "IotHubQuotaExceeded", "Quota exceeded."))


@behaviour("never-answer")
def _never_answer(conn: _Conn, server) -> None:
    conn.read_request()
    conn.wait()


@behaviour("trickle")
def _trickle(conn: _Conn, server) -> None:
    # Every read gets a byte well within any per-read timeout, yet the head never completes.
    conn.read_request()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Trickle: "
    for i in range(10**9):
        conn.send(head[i:i + 1] if i < len(head) else b"a")
        conn.wait(TRICKLE_INTERVAL)


@behaviour("stall")
def _stall(conn: _Conn, server) -> None:
    conn.read_request()
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    conn.wait()


@behaviour("429-forever")
def _429_forever(conn: _Conn, server) -> None:
    _answer_each(conn, _response("429 Too Many Requests", _error_body("ThrottlingException", "Throttled."),
                                 {"Retry-After": "100000"}))


@behaviour("silent-after-first")
def _silent_after_first(conn: _Conn, server) -> None:
    while True:
        conn.read_request()
        with server.lock:
            server.requests += 1
            first = server.requests == 1
        if not first:
            conn.wait()
        conn.send(_response("404 Not Found", _error_body("DeviceNotFound", "The device does not exist.")))


@behaviour("garbage")
def _garbage(conn: _Conn, server) -> None:
    conn.read_request()
    conn.send(b"\x00\xff\xfe SSH-2.0-not-http \x1b[31m<&]]>\r\n\x00" * 64)


@behaviour("stream-10gb")
def _stream_10gb(conn: _Conn, server) -> None:
    conn.read_request()
    conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" + b"0," * (CHUNK // 2 - 1)  # one 64 KiB piece of an endless JSON array, made once
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    for _ in range(STREAM_BYTES // len(chunk)):
        conn.send(frame)
    conn.send(b"0\r\n\r\n")


@behaviour("bodies-50mb")
def _bodies_50mb(conn: _Conn, server) -> None:
    prefix, suffix = b'{"deviceId": "big", "padding": "', b'"}'
    filler = b"a" * CHUNK
    while True:
        conn.read_request()
        conn.send(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {BIG_BODY}\r\n\r\n"
                  .encode() + prefix)
        left = BIG_BODY - len(prefix) - len(suffix)
        while left > 0:
            piece = filler[:min(left, CHUNK)]
            conn.send(piece)
            left -= len(piece)
        conn.send(suffix)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name = name
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0  # requests that reached a behaviour that counts them
        self.connections: set[socket.socket] = set()
        self.workers: set[threading.Thread] = set()


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        server = self.server
        with server.lock:
            server.connections.add(self.request)
            server.workers.add(threading.current_thread())
        try:
            BEHAVIOURS[server.name](_Conn(self.request, server.stop), server)
        except _Stopped:
            pass
        finally:
            with server.lock:
                server.connections.discard(self.request)
                server.workers.discard(threading.current_thread())


@contextmanager
def serve(name: str):
    """Serve the misbehaviour `name` on a free 127.0.0.1 port in a thread; yield its base URL."""
    if name not in BEHAVIOURS:
        raise ValueError(f"unknown hostile behaviour {name!r}; known: {', '.join(sorted(BEHAVIOURS))}")
    server = _Server(name)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": _TICK}, daemon=True,
                              name=f"hostile-{name}")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        with server.lock:
            connections, workers = list(server.connections), list(server.workers)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for worker in workers:  # each notices the stop event within a tick; daemons, so never block exit
            worker.join(timeout=2)
        thread.join(timeout=2)

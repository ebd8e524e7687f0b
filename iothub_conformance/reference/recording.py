"""`serve --record FILE.har`: every exchange the served reference answers, written to FILE as HAR 1.2
(http://www.softwareishard.com/blog/har-12-spec/), so that a client under test can be run against the reference and its
traffic judged afterwards.

Secrets never reach the file: every header value, URL, query value and body text passes through evidence.redact, and
Authorization values lose their credential whatever its form. The file is valid JSON after every entry: an entry is
written over the closing brackets, which are then written again behind it, so a server stopped at any point between two
entries (Ctrl-C, SIGTERM) leaves a file that parses, and the file is never rewritten whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iothub_conformance import __version__
from iothub_conformance.evidence.redact import REDACTED, is_key_field, redact
from iothub_conformance.http import sas

from .bodies import MAX_REQUEST_BODY

MAX_RECORDED_BODY = 1024 * 1024  # the most of a body's text an entry holds; the reference reads no more of a request
# Bytes read past the cap before redacting, so that a secret the cap cuts through is still recognised whole.
_REDACT_MARGIN = 4096
COMMENT = ("recorded by iothub-conformance serve --record; secret values (SAS tokens and their sig, bearer tokens, "
           "keys, SharedAccessKey=, URL passwords) were redacted to " + REDACTED)
_CLOSE = b"\n]}}\n"
_CREDENTIAL_HEADERS = {"authorization", "proxy-authorization"}


class HarFile:
    """An open HAR file that entries are appended to; valid JSON between any two calls. Thread-safe."""

    def __init__(self, path: Path, warn: Callable[[str], None] | None = None, hub_host: str | None = None):
        self.path = path
        self.warn = warn or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._count = 0
        head: dict[str, Any] = {"version": "1.2", "creator": {"name": "iothub-conformance", "version": __version__},
                                "comment": COMMENT}
        if hub_host:
            # Clients reach the served hub at 127.0.0.1 while their tokens name the hub: check-traffic compares with it.
            head["_iothubHost"] = hub_host
        opening = json.dumps(head, indent=1)[:-2] + ',\n "entries": [\n'  # the object left open for its entries
        # OSError (a missing directory, no permission) reaches the caller before anything is served.
        self._file = path.open("wb")
        self._file.write(('{"log": ' + opening).encode())
        self._end = self._file.tell()  # where the closing brackets start: the next entry is written over them
        self._file.write(_CLOSE)
        self._file.flush()

    @property
    def count(self) -> int:
        return self._count

    def append(self, entry: dict[str, Any]) -> None:
        data = json.dumps(entry, ensure_ascii=False).encode()
        with self._lock:
            if self._file.closed:
                return
            try:
                self._file.seek(self._end)
                self._file.write((b",\n" if self._count else b"") + data)
                self._end = self._file.tell()
                self._file.write(_CLOSE)
                self._file.truncate()
                self._file.flush()
            except OSError as exc:  # a full disk: say so once and stop recording, rather than fail every answer
                self._file.close()
                self.warn(f"error: recording to {self.path} stopped after {self._count} entries (the last may be cut): "
                          f"{exc.strerror or exc}")
                return
            self._count += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


class Recording:
    """ASGI middleware: hands every answered HTTP exchange to `har` as a HAR entry. Outermost, so it records the headers
    the inner middleware add (x-ms-request-id) and what a client sent before the reference read or refused it."""

    def __init__(self, app: ASGIApp, har: HarFile, now: Callable[[], float] = time.time):
        self.app = app
        self.har = har
        self.now = now  # the hub's clock: an exchange is dated as the hub saw it (SAS expiry is judged by it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = self.now()
        ticks = [time.monotonic()]  # start, request read, response started, response ended
        request = _Body(MAX_REQUEST_BODY)
        response = _Body(MAX_RECORDED_BODY)
        answer: dict[str, Any] = {}

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request.add(message.get("body", b""))
                if not message.get("more_body", False) and len(ticks) == 1:
                    ticks.append(time.monotonic())
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = list(message.get("headers", []))
                answer["early"] = len(ticks) == 1  # answered before the request body was read whole (a 413)
                ticks.extend([time.monotonic()] * (3 - len(ticks)))  # a response before the whole request was read
            elif message["type"] == "http.response.body":
                response.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            if answer:  # nothing answered (the client left): no exchange to record
                ticks.append(time.monotonic())
                self.har.append(_entry(scope, started, ticks, request, answer, response))


class _Body:
    """The first `limit` bytes of a body (and a margin to redact with), and its whole size."""

    def __init__(self, limit: int):
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        self._kept = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        room = self.limit + _REDACT_MARGIN - self._kept
        if room > 0 and chunk:
            self.chunks.append(chunk[:room])
            self._kept += min(len(chunk), room)

    def text(self) -> str:
        """Redacted, then cut to the cap. Bytes that are not UTF-8 become U+FFFD: base64 of them would hide a secret
        from redact. A whole JSON body keeps its shape (redacted_json), so its schema can still be judged."""
        raw = b"".join(self.chunks).decode("utf-8", errors="replace")
        if not self.cut:
            shaped = redacted_json(raw)
            if shaped is not None:
                return shaped
        whole = redact(raw)
        return whole[:self.limit] if self.cut else whole

    @property
    def cut(self) -> bool:
        return self.size > self.limit


def redacted_json(text: str) -> str | None:
    """A JSON body with its secrets out and its shape kept: a key (primaryKey, secondaryKey, …) that is base64
    becomes base64 of as many zero bytes, every other string passes through redact. None when `text` is no JSON."""
    try:
        document = json.loads(text)
    except ValueError:
        return None

    def walk(value: Any, name: str = "") -> Any:
        if isinstance(value, dict):
            return {redact(k): walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return _zero_key(value) if is_key_field(name) else redact(value)
        return value

    return json.dumps(walk(document), ensure_ascii=False)


def _zero_key(value: str) -> str:
    try:
        size = len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return REDACTED
    return base64.b64encode(bytes(size)).decode() if size else value


def _entry(scope: Scope, started: float, ticks: list[float], request: _Body, answer: dict[str, Any],
           response: _Body) -> dict[str, Any]:
    start, read, answered, ended = (ticks + [ticks[-1]] * 4)[:4]
    request_headers = _headers(scope.get("headers", []))
    response_headers = _headers(answer["headers"])
    http_version = f"HTTP/{scope.get('http_version', '1.1')}"
    status = answer["status"]
    comments = []
    har_request: dict[str, Any] = {
        "method": scope["method"], "url": _url(scope, request_headers), "httpVersion": http_version, "cookies": [],
        "headers": request_headers, "queryString": _query(scope), "headersSize": -1, "bodySize": request.size,
    }
    if answer["early"]:
        comments.append(f"answered before the request body was read whole: bodySize counts the {request.size} bytes read")
    facts = sas.token_facts(_raw_header(scope.get("headers", []), "authorization"))
    if facts is not None:
        # The token itself is redacted above; what request checks judge of it is kept (never its signature).
        har_request["_sasToken"] = facts
    if request.size:
        har_request["postData"] = {"mimeType": _header(request_headers, "content-type"), "text": request.text(),
                                   "_cut": request.cut}
        if request.cut:
            comments.append(f"request body cut to its first {request.limit} bytes of {request.size}")
    # _cut: whether the text is the body's start only (a redacted text's length differs from `size` either way).
    content: dict[str, Any] = {"size": response.size, "mimeType": _header(response_headers, "content-type"),
                               "text": response.text(), "_cut": response.cut}
    if response.cut:
        comments.append(f"response body cut to its first {response.limit} bytes of {response.size}")
        content["comment"] = comments[-1]
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    entry: dict[str, Any] = {
        "startedDateTime": datetime.fromtimestamp(started, UTC).isoformat(timespec="milliseconds"),
        "time": _ms(ended - start),
        "request": har_request,
        "response": {"status": status, "statusText": reason, "httpVersion": http_version, "cookies": [],
                     "headers": response_headers, "content": content, "redirectURL": _header(response_headers, "location"),
                     "headersSize": -1, "bodySize": response.size},
        "cache": {},
        "timings": {"send": _ms(read - start), "wait": _ms(answered - read), "receive": _ms(ended - answered)},
    }
    if comments:
        entry["comment"] = "; ".join(comments)
    return entry


def _headers(raw: list[tuple[bytes, bytes]]) -> list[dict[str, str]]:
    headers = []
    for name_bytes, value_bytes in raw:
        name, value = name_bytes.decode("latin-1"), value_bytes.decode("latin-1")
        if name.lower() in _CREDENTIAL_HEADERS:
            scheme = value.strip().split(" ", 1)[0] if value.strip() else ""
            # The scheme stays readable; the credential goes whatever its form (redact knows only some forms).
            value = f"{scheme} {REDACTED}" if scheme and " " in value.strip() else REDACTED
        headers.append({"name": name, "value": redact(value)})
    return headers


def _raw_header(raw: list[tuple[bytes, bytes]], name: str) -> str | None:
    return next((v.decode("latin-1") for k, v in raw if k.decode("latin-1").lower() == name), None)


def _header(headers: list[dict[str, str]], name: str) -> str:
    return next((h["value"] for h in headers if h["name"].lower() == name), "")


def _url(scope: Scope, headers: list[dict[str, str]]) -> str:
    server = scope.get("server") or ("127.0.0.1", 80)
    host = _header(headers, "host") or f"{server[0]}:{server[1]}"
    path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")
    return redact(f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else ""))


def _query(scope: Scope) -> list[dict[str, str]]:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    query = []
    for name, value in pairs:
        # Redacted as name=value: a value alone does not say that it is a sig.
        safe_name, _, safe_value = redact(f"{name}={value}").partition("=")
        query.append({"name": safe_name, "value": safe_value})
    return query


def _ms(seconds: float) -> float:
    return round(max(seconds, 0.0) * 1000, 3)

"""The journal: every exchange of a run with its target, in order, for the checks that need history (request-id
uniqueness, ETag stability) and, through its transcripts, for the evidence of each test."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import httpx

from iothub_conformance.evidence.transcript import Transcripts


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    request_id: str | None
    etag: str | None
    generated: bool = False  # a schemathesis case (cases.send), not one of the suite's own requests
    api_version: str | None = None  # the request's api-version query parameter, if it had one


@dataclass
class Journal:
    """Every exchange with the target, in order: checks that need history (uniqueness, ETag stability) read it."""

    exchanges: list[Exchange] = field(default_factory=list)
    request_ids: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    transcripts: Transcripts = field(default_factory=Transcripts)  # the running test's last exchanges, as evidence

    def record(self, response: httpx.Response) -> None:
        self.transcripts.record(response)
        request = response.request
        rid = response.headers.get("x-ms-request-id")
        with self.lock:
            self.exchanges.append(
                Exchange(request.method, request.url.path, response.status_code, rid, response.headers.get("ETag"),
                         bool(request.extensions.get("iothub_generated")), request.url.params.get("api-version"))
            )
            if rid:
                self.request_ids[rid] = self.request_ids.get(rid, 0) + 1

    def times_seen(self, request_id: str) -> int:
        with self.lock:
            return self.request_ids.get(request_id, 0)

    def history(self, path: str) -> list[Exchange]:
        with self.lock:
            return [e for e in self.exchanges if e.path == path]

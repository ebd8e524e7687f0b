"""One response, as the checks see it, whichever client produced it (httpx in suites, schemathesis in properties)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from iothub_conformance.config import SPEC_VERSIONS


@dataclass(frozen=True)
class Observed:
    method: str
    path: str  # decoded
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    api_version: str | None = None  # the request's api-version query parameter

    @property
    def of_2016(self) -> bool:
        """A request of the 2016 run (api-version 2016-02-03 or the 2016-11-14 pages), or one without a version: the
        rules written from the 2016 pages judge these only."""
        return self.api_version is None or self.api_version in SPEC_VERSIONS["2016-02-03"]

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def messaging(self) -> bool:
        return is_messaging(self.path)

    @property
    def received_message(self) -> bool:
        """A successful cloud-to-device receive: its body and Content-Type are the message's, not the API's."""
        return self.method == "GET" and self.messaging and self.path.lower().endswith("/messages/devicebound") \
            and 200 <= self.status < 300

    @property
    def device_id(self) -> str | None:
        """The deviceId when the request was scoped to one device identity (/devices/{deviceId})."""
        parts = self.path.split("/")
        if len(parts) == 3 and parts[1] == "devices" and parts[2]:
            return parts[2]
        return None


def is_messaging(path: str) -> bool:
    """A Device Messaging request (/devices/{deviceId}/messages/…), by its decoded path."""
    parts = path.split("/")
    return len(parts) >= 4 and parts[1] == "devices" and parts[3] == "messages"


def is_device_facing(path: str) -> bool:
    """A request a device makes with its own token: messaging, and file upload (/devices/{deviceId}/files…), which
    takes DeviceConnect (docs/sources/INVENTORY-2021-04-12.md §1.3)."""
    parts = path.split("/")
    return is_messaging(path) or (len(parts) >= 4 and parts[1] == "devices" and parts[3] == "files")


def from_httpx(response) -> Observed:
    request = response.request
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Observed(request.method, request.url.path, response.status_code, headers, response.content,
                    request.url.params.get("api-version"))


def from_schemathesis(response) -> Observed:
    request = response.request
    headers = {k.lower(): ", ".join(v) for k, v in response.headers.items()}
    path = unquote(urlsplit(request.url).path)
    version = (parse_qs(urlsplit(request.url).query).get("api-version") or [None])[0]
    return Observed(request.method, path, response.status_code, headers, response.content or b"", version)


def observe(response) -> Observed:
    if isinstance(response, Observed):
        return response
    if isinstance(response, httpx.Response):
        return from_httpx(response)
    return from_schemathesis(response)

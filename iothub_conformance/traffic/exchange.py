"""One recorded exchange as data: what was sent, what came back, where it was read from, and which of its headers the
recorder is known to have dropped or rewritten (those are unobservable: a check must not hold them against the target).

Every reader (har.py, cassette.py, proxy_recordings.py, session_records.py) builds these; `as_httpx()` hands one to the
checks, which take an httpx-like response (checks/observed.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from iothub_conformance.traffic.errors import TrafficError

Headers = tuple[tuple[str, str], ...]

# A format that records only a path (the older .NET session records) gets this host: reserved by RFC 2606, so it is
# never a real target's, and matching goes by path and method anyway.
UNRECORDED_HOST = "unrecorded-host.invalid"
# Content codings the readers have already undone: the bodies here are the entity, so httpx must not decode them again.
_DECODED = "content-encoding"


def first(headers: Headers, name: str) -> str | None:
    """The first value of a header, by case-insensitive name."""
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


@dataclass(frozen=True)
class RecordedRequest:
    method: str  # upper-case
    url: str  # absolute; the host is UNRECORDED_HOST when the format records none
    headers: Headers = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return first(self.headers, name)

    @property
    def raw_path(self) -> str:
        """The path as sent, still percent-encoded (an encoded '/' inside a deviceId stays inside its segment)."""
        return urlsplit(self.url).path

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.url).query, keep_blank_values=True)

    @property
    def api_version(self) -> str | None:
        values = self.query.get("api-version")
        return values[0] if values else None


@dataclass(frozen=True)
class RecordedResponse:
    status: int
    headers: Headers = ()
    body: bytes = b""  # the entity: any content coding the recording kept has been undone

    def header(self, name: str) -> str | None:
        return first(self.headers, name)


@dataclass(frozen=True)
class Exchange:
    request: RecordedRequest
    response: RecordedResponse | None  # None: the recording holds no answer (a HAR entry with status 0)
    source: str  # the file it was read from
    index: int  # its position in that file, from 0
    format: str  # formats.FORMATS key
    started: datetime | None = None  # when the request was sent, if the format says (HAR startedDateTime)
    # Header name (lower-case) → why its presence or value is not the sender's: stripped by the recorder when absent,
    # or a placeholder the recorder wrote in its place.
    unobservable_request: Mapping[str, str] = field(default_factory=dict)
    unobservable_response: Mapping[str, str] = field(default_factory=dict)
    # "request" / "response": a body the recorder kept only the start of (its schema and length cannot be judged).
    cut: frozenset[str] = frozenset()
    # What a recorder that redacted a SAS token kept in its place (`serve --record`: sr, se, skn and the signature's
    # decoded length, never the signature), for the request checks (checks/sent.py).
    sas: Mapping[str, object] | None = None
    # The hub's host name when the recording gives it apart from the URL: traffic redirected to a local hub is sent to
    # 127.0.0.1 while its tokens name the hub.
    hub_host: str | None = None

    @property
    def label(self) -> str:
        return f"{self.source}#{self.index}"

    @property
    def request_host(self) -> str | None:
        return urlsplit(self.request.url).hostname

    @property
    def host_is_name(self) -> bool:
        """The request went to a host name (not an address, not this machine): the name a token's sr must give."""
        host = self.request_host or ""
        if not self.host_recorded or host in ("localhost", "") or ":" in host:
            return False
        return not re.fullmatch(r"[0-9.]+", host)

    @property
    def host_recorded(self) -> bool:
        return urlsplit(self.request.url).hostname != UNRECORDED_HOST

    def unobservable(self, name: str, side: str = "response") -> str | None:
        """Why header `name` of the request or response cannot be judged, or None when it is what was on the wire."""
        table = self.unobservable_response if side == "response" else self.unobservable_request
        return table.get(name.lower())

    @property
    def when(self) -> datetime | None:
        """When the exchange happened: the format's own time, else the response's Date header (the server's clock)."""
        if self.started is not None:
            return self.started
        date = self.response.header("date") if self.response else None
        if not date:
            return None
        try:
            return parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return None

    def as_httpx(self) -> tuple[httpx.Request, httpx.Response | None]:
        """The exchange as httpx objects, for the checks that judge an httpx response."""
        request = httpx.Request(self.request.method, self.request.url, headers=list(self.request.headers),
                                content=self.request.body)
        if self.response is None:
            return request, None
        headers = [(name, value) for name, value in self.response.headers if name.lower() != _DECODED]
        response = httpx.Response(self.response.status, headers=headers, content=self.response.body, request=request)
        response.elapsed = timedelta(0)  # schemathesis' validate_response reads it; a recording has no timing to give
        return request, response


# Values recorders write in place of a real one. "Sanitized": the Azure test frameworks' replacement (SanitizeValue
# in https://github.com/Azure/azure-sdk-tools/blob/main/tools/test-proxy/Azure.Sdk.Tools.TestProxy/Common/
# RecordedTestSanitizer.cs); "[Filtered]": schemathesis' (DEFAULT_REPLACEMENT in
# https://github.com/schemathesis/schemathesis/blob/master/src/schemathesis/config/_output.py).
PLACEHOLDERS = frozenset({"sanitized", "[filtered]"})
# The zero GUID the Azure test frameworks write over subscription, tenant and request ids; only the Azure recorders
# get it, so a HAR of a target that really answers a zero request id is still judged.
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
_PARTS = re.compile(r"[&;,\s]+")


def is_placeholder(value: str, placeholders: Iterable[str]) -> bool:
    """The whole value, a word of it ("SharedAccessSignature <redacted>") or one key=value part of it (a SAS token's
    sig=Sanitized) is a recorder's placeholder."""
    known = {p.lower() for p in placeholders}
    if value.strip().lower() in known:
        return True
    return any(part.lower() in known or part.partition("=")[2].lower() in known for part in _PARTS.split(value))


def unobservable_headers(headers: Headers, stripped_when_absent: Mapping[str, str], placeholders: Iterable[str],
                         placeholder_reason: str) -> dict[str, str]:
    """Header name → reason, for one side of an exchange: those the recorder drops (when absent) and placeholders."""
    present = {name.lower() for name, _ in headers}
    found = {name: why for name, why in stripped_when_absent.items() if name not in present}
    known = tuple(placeholders)
    for name, value in headers:
        if is_placeholder(value, known):
            found[name.lower()] = placeholder_reason
    return found


def absolute_url(raw: object, where: str) -> str:
    """The request URL as an absolute URL, or a TrafficError naming the entry."""
    if not isinstance(raw, str) or not raw.strip():
        raise TrafficError(f"{where}: the request URL is missing")
    url = raw.strip()
    # Old Azure Python SDK cassettes collapse '//' in URIs ("https:/management.azure.com/…"); the host is still there.
    url = re.sub(r"^(https?):/(?!/)", r"\1://", url, flags=re.IGNORECASE)
    if url.startswith("/"):
        url = f"https://{UNRECORDED_HOST}{url}"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise TrafficError(f"{where}: the request URL is not a URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise TrafficError(f"{where}: the request URL is not an absolute http(s) URL")
    return url


def header_pairs(raw: object, where: str) -> Headers:
    """Headers from the shapes recorders write: {name: value}, {name: [values]} or [{name:, value:}]."""
    if raw is None:
        return ()
    pairs: list[tuple[str, str]] = []
    if isinstance(raw, Mapping):
        for name, value in raw.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if not isinstance(name, str) or not isinstance(item, (str, int, float)) or isinstance(item, bool):
                    raise TrafficError(f"{where}: header {name!r} has a value that is not text")
                pairs.append((name, str(item)))
    elif isinstance(raw, list):
        for item in raw:
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) \
                    or not isinstance(item.get("value"), str):
                raise TrafficError(f"{where}: a header is not a {{name, value}} pair")
            pairs.append((item["name"], item["value"]))
    else:
        raise TrafficError(f"{where}: the headers are neither a mapping nor a list")
    return tuple(pairs)


def status_code(raw: object, where: str) -> int:
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 999:
        raise TrafficError(f"{where}: the status {raw!r} is not an HTTP status code")
    return raw


def method_name(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z]+", raw):
        raise TrafficError(f"{where}: the request method {raw!r} is not an HTTP method")
    return raw.upper()


def mapping(value: object, where: str) -> Mapping:
    """`value` as a mapping (a JSON object, a YAML mapping), else one line naming where the recording breaks."""
    if not isinstance(value, Mapping):
        raise TrafficError(f"{where} is not an object")
    return value

"""Azure SDK test-proxy recordings (JSON): Entries[] → exchanges.

Field names and body rules as the proxy reads its own files (RecordEntry.Deserialize in
https://github.com/Azure/azure-sdk-tools/blob/main/tools/test-proxy/Azure.Sdk.Tools.TestProxy/Common/RecordEntry.cs):
Entries[].{RequestUri, RequestMethod, RequestHeaders, RequestBody, StatusCode, ResponseHeaders, ResponseBody}; a header
is a string or a list of strings. A body is null (none); under a text Content-Type, a JSON object (written as itself),
a string, or a list of strings (text split at line ends); under any other Content-Type, base64 text (an empty list: an
empty body). The older .NET session records share the shape (session_records.py).

What is unobservable: the proxy's sanitizers write "Sanitized" (RecordedTestSanitizer.SanitizeValue, same directory)
and the zero GUID over values such as Authorization, keys and request ids; those values are placeholders, not the
target's. (After sanitizing a body the proxy rewrites Content-Length to match it, so that header agrees with the body
as recorded.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

from iothub_conformance.traffic.bodies import from_base64
from iothub_conformance.traffic.errors import TrafficError
from iothub_conformance.traffic.exchange import (
    PLACEHOLDERS,
    ZERO_GUID,
    Exchange,
    Headers,
    RecordedRequest,
    RecordedResponse,
    absolute_url,
    first,
    header_pairs,
    method_name,
    status_code,
    unobservable_headers,
)

FORMAT = "test-proxy"
PROXY_PLACEHOLDERS = PLACEHOLDERS | {ZERO_GUID}
PLACEHOLDER_REASON = "a placeholder the test-proxy's sanitizer wrote over the value"


def is_text(headers: Headers) -> bool:
    """Whether the proxy stores this body as text (ContentTypeUtilities.TryGetTextEncoding, same file directory)."""
    media = (first(headers, "content-type") or "").strip().lower()
    if not media:
        return False
    charset = media.find("; charset=")
    if charset != -1 and media[charset + len("; charset="):].startswith("utf-8"):
        return True
    return media.startswith(("text/", "application/json", "application/x-www-form-urlencoded")) \
        or media.endswith(("json", "xml", "-urlencoded"))


def body(raw: object, headers: Headers, where: str, text: Callable[[Headers], bool] = is_text) -> bytes:
    """The body's bytes; text(headers) says whether the recorder stored it as text (else base64)."""
    if raw is None:
        return b""
    if isinstance(raw, list):
        if not all(isinstance(line, str) for line in raw):
            raise TrafficError(f"{where}: a body split into lines holds something that is not text")
        return "".join(raw).encode("utf-8") if text(headers) else b""
    if isinstance(raw, (dict, int, float, bool)):
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if isinstance(raw, str):
        if text(headers):
            return raw.encode("utf-8")
        # No text Content-Type: the proxy's base64; the older records (and hand edits) keep plain text here too.
        try:
            return from_base64(raw, where)
        except TrafficError:
            return raw.encode("utf-8")
    raise TrafficError(f"{where}: the body is neither null, text, a list of lines nor a JSON object")


def entries(document: object, source: str, format_name: str, stripped_when_absent: Mapping[str, str],
            placeholder_reason: str, uri_of: Callable[[Mapping, str], str] | None = None,
            text: Callable[[Headers], bool] = is_text) -> list[Exchange]:
    """The exchanges of an Entries[] document; uri_of(entry, where) gives the request URL and text(headers) whether a
    body is stored as text, where the format differs from the test-proxy's."""
    if not isinstance(document, Mapping) or not isinstance(document.get("Entries"), list):
        raise TrafficError(f"{source}: Entries is not a list")
    found = []
    for index, entry in enumerate(document["Entries"]):
        where = f"{source}: entry {index}"
        if not isinstance(entry, Mapping):
            raise TrafficError(f"{where} is not an object")
        sent = header_pairs(entry.get("RequestHeaders"), f"{where}: RequestHeaders")
        received = header_pairs(entry.get("ResponseHeaders"), f"{where}: ResponseHeaders")
        url = uri_of(entry, where) if uri_of else absolute_url(entry.get("RequestUri"), where)
        found.append(Exchange(
            RecordedRequest(method_name(entry.get("RequestMethod"), where), url, sent,
                            body(entry.get("RequestBody"), sent, f"{where}: RequestBody", text)),
            RecordedResponse(status_code(entry.get("StatusCode"), where), received,
                             body(entry.get("ResponseBody"), received, f"{where}: ResponseBody", text)),
            source, index, format_name, None,
            unobservable_headers(sent, stripped_when_absent, PROXY_PLACEHOLDERS, placeholder_reason),
            unobservable_headers(received, stripped_when_absent, PROXY_PLACEHOLDERS, placeholder_reason)))
    return found


def load(path: Path | str) -> object:
    try:
        return json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise TrafficError(f"{path}: not a readable JSON recording ({exc})") from None


def read(path: Path | str, document: object | None = None) -> list[Exchange]:
    source = str(path)
    return entries(load(path) if document is None else document, source, FORMAT, {}, PLACEHOLDER_REASON)

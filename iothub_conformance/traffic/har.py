"""HAR 1.2 (browsers, mitmproxy, schemathesis `--report har`, `serve --record`): log.entries[] → exchanges.

Fields as the HAR 1.2 spec names them (http://www.softwareishard.com/blog/har-12-spec/): entries[].startedDateTime,
request.{method, url, headers[{name, value}], postData.{mimeType, text, params}}, response.{status, headers,
content.{text, encoding}}. content.text is the decoded entity; `encoding: "base64"` marks binary text.

What HAR recorders change: schemathesis writes "[Filtered]" over sensitive header values (Authorization, anything named
*key*, *token*, *auth*, …) and keeps only the first value of a repeated header; `serve --record` writes "<redacted>"
over credentials (evidence/redact.py); a browser's "sanitized" export drops Authorization and Cookie altogether.
A placeholder value is unobservable here; an absent header is taken as absent (mitmproxy and `serve --record` keep
every header), and a user who knows their recorder dropped one says so. Recorders that cap bodies keep the size of
the whole (request.bodySize, response.content.size): a body shorter than its size was cut (Exchange.cut), unless the
recorder says so itself (`_cut`). `serve --record` also keeps the hub's host name (log._iothubHost) and, in place of
each SAS token it redacts, what request checks judge of it (request._sasToken: sr, se, skn, the signature's length).
A response of status 0 is the spec's "no response" (the request failed or was blocked).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from iothub_conformance.evidence.redact import REDACTED
from iothub_conformance.traffic.bodies import from_base64, undo_coding
from iothub_conformance.traffic.errors import TrafficError
from iothub_conformance.traffic.exchange import (
    PLACEHOLDERS,
    Exchange,
    RecordedRequest,
    RecordedResponse,
    absolute_url,
    header_pairs,
    mapping,
    method_name,
    status_code,
    unobservable_headers,
)

FORMAT = "har"
HAR_PLACEHOLDERS = PLACEHOLDERS | {REDACTED}
PLACEHOLDER_REASON = "a placeholder the HAR recorder wrote over the value ([Filtered], <redacted>)"


def _headers(raw: object, where: str):
    # HTTP/2 pseudo-headers (:authority, :path) that browsers list are not headers of the message.
    return tuple((name, value) for name, value in header_pairs(raw, where) if not name.startswith(":"))


def _request_body(request: Mapping, where: str) -> bytes:
    post = request.get("postData")
    if post is None:
        return b""
    post = mapping(post, f"{where}: postData")
    text = post.get("text")
    if isinstance(text, str):
        return from_base64(text, where) if post.get("encoding") == "base64" else text.encode("utf-8")
    params = post.get("params")
    if isinstance(params, list):  # a form the recorder kept as fields only
        return urlencode([(p.get("name", ""), p.get("value", "")) for p in params if isinstance(p, Mapping)]).encode()
    if text is None:
        return b""
    raise TrafficError(f"{where}: postData.text is not text")


def _response(raw: object, where: str) -> RecordedResponse | None:
    response = mapping(raw, f"{where}: response")
    status = status_code(response.get("status"), where)
    if status == 0:
        return None
    headers = _headers(response.get("headers"), f"{where}: response")
    content = mapping(response.get("content", {}), f"{where}: response.content")
    text = content.get("text")
    if text is None:
        body = b""
    elif not isinstance(text, str):
        raise TrafficError(f"{where}: response.content.text is not text")
    elif content.get("encoding") == "base64":
        body = undo_coding(from_base64(text, where), headers, where)
    else:
        body = text.encode("utf-8")
    return RecordedResponse(status, headers, body)


def _size(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _cut(request: Mapping, sent: bytes, raw_response: object, response: RecordedResponse | None) -> frozenset[str]:
    """The sides whose recorded body is shorter than the size the recorder says the whole had. A recorder that
    redacts (serve --record) says it itself with `_cut`: its redacted text differs in length from the body either
    way."""
    cut = set()
    post = request.get("postData")
    said = post.get("_cut") if isinstance(post, Mapping) else None
    if said is True or (said is None and _size(request.get("bodySize")) > len(sent)):
        cut.add("request")
    content = raw_response.get("content") if isinstance(raw_response, Mapping) else None
    said = content.get("_cut") if isinstance(content, Mapping) else None
    if response is not None and isinstance(content, Mapping) \
            and (said is True or (said is None and _size(content.get("size")) > len(response.body))):
        cut.add("response")
    return frozenset(cut)


def _sas(request: Mapping, where: str) -> Mapping[str, object] | None:
    """The SAS token facts `serve --record` keeps in place of the token it redacts (http/sas.py token_facts)."""
    facts = request.get("_sasToken")
    if facts is None:
        return None
    facts = mapping(facts, f"{where}: request._sasToken")
    return {key: facts.get(key) for key in ("sr", "se", "skn", "sig_bytes")}


def _started(raw: object, where: str) -> datetime | None:
    if raw is None:
        return None
    try:
        started = datetime.fromisoformat(str(raw))
    except ValueError:
        raise TrafficError(f"{where}: startedDateTime {raw!r} is not an ISO 8601 time") from None
    # The spec's times carry an offset; one without is taken as UTC, so that it compares with a token's expiry.
    return started if started.tzinfo else started.replace(tzinfo=UTC)


def read(path: Path | str, document: object | None = None) -> list[Exchange]:
    """The exchanges of a HAR file (document: its JSON, when the caller has parsed it already)."""
    source = str(path)
    if document is None:
        try:
            document = json.loads(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise TrafficError(f"{source}: not a readable HAR file ({exc})") from None
    log = mapping(mapping(document, source).get("log"), f"{source}: log")
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise TrafficError(f"{source}: log.entries is not a list")
    hub_host = log.get("_iothubHost") if isinstance(log.get("_iothubHost"), str) else None
    found = []
    for index, raw in enumerate(entries):
        where = f"{source}: entry {index}"
        entry = mapping(raw, where)
        request = mapping(entry.get("request"), f"{where}: request")
        headers = _headers(request.get("headers"), f"{where}: request")
        recorded = RecordedRequest(method_name(request.get("method"), where),
                                   absolute_url(request.get("url"), where), headers, _request_body(request, where))
        response = _response(entry.get("response", {"status": 0}), where)
        found.append(Exchange(
            recorded, response, source, index, FORMAT, _started(entry.get("startedDateTime"), where),
            unobservable_headers(headers, {}, HAR_PLACEHOLDERS, PLACEHOLDER_REASON),
            unobservable_headers(response.headers if response else (), {}, HAR_PLACEHOLDERS, PLACEHOLDER_REASON),
            _cut(request, recorded.body, entry.get("response"), response), _sas(request, where), hub_host))
    return found

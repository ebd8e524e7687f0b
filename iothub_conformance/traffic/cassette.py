"""vcrpy cassettes (YAML, or vcrpy's JSON serializer): interactions[] → exchanges.

The shape vcrpy writes (https://vcrpy.readthedocs.io/en/latest/advanced.html, vcr/serializers): interactions[].request
.{method, uri, body, headers: {name: [values]}} and .response.{status: {code, message}, headers, body: {string}};
bodies are text, or bytes (YAML !!binary) kept as sent: gzip stays gzip unless the recording used
decode_compressed_response. Cassettes written under Python 2 tag text !!python/unicode or !!python/str.

What is unobservable: a cassette does not say which filter_headers / before_record_response its recording used. The
Azure SDK and CLI test frameworks that wrote the public IoT Hub cassettes delete the same list from requests and
responses (VCRTestBase.FILTER_HEADERS and _before_record_response in https://github.com/Azure/azure-cli/blob/
2fe66174e49d7506a9e83975e1a89993f63fc7ff/src/azure-cli-core/azure/cli/core/test_utils/vcr_test_base.py; the
azure-devtools scenario_tests carry it on), so each of those, when absent, is unobservable, never missing; and
they write the zero GUID over subscription and request ids, so a zero GUID value is a placeholder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import yaml

from iothub_conformance.traffic.bodies import undo_coding
from iothub_conformance.traffic.errors import TrafficError
from iothub_conformance.traffic.exchange import (
    PLACEHOLDERS,
    ZERO_GUID,
    Exchange,
    Headers,
    RecordedRequest,
    RecordedResponse,
    absolute_url,
    header_pairs,
    mapping,
    method_name,
    status_code,
    unobservable_headers,
)

FORMAT = "vcrpy"
_FILTERED = "the Azure test frameworks' vcrpy filters delete it from cassettes (VCRTestBase.FILTER_HEADERS)"
STRIPPED_WHEN_ABSENT = {name: _FILTERED for name in (
    "authorization", "client-request-id", "x-ms-client-request-id", "x-ms-correlation-request-id",
    "x-ms-ratelimit-remaining-subscription-reads", "x-ms-request-id", "x-ms-routing-request-id",
    "x-ms-gateway-service-instanceid", "x-ms-ratelimit-remaining-tenant-reads", "x-ms-served-by")}
CASSETTE_PLACEHOLDERS = PLACEHOLDERS | {ZERO_GUID}
PLACEHOLDER_REASON = "a placeholder the recording's filters wrote over the value"


class _Loader(yaml.SafeLoader):
    """safe_load, plus the plain-text tags Python 2 vcrpy wrote; nothing that builds objects."""


def _text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


for _tag in ("tag:yaml.org,2002:python/unicode", "tag:yaml.org,2002:python/str"):
    _Loader.add_constructor(_tag, _text)


def load(text: str, source: str) -> object:
    """The cassette's document (YAML; JSON is YAML too, but json is faster and stricter on JSON input)."""
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except (ValueError, yaml.YAMLError) as exc:
        line = " ".join(str(exc).split())
        raise TrafficError(f"{source}: not a readable cassette ({line[:200]})") from None


def _body(raw: object, headers: Headers, where: str) -> bytes:
    if isinstance(raw, Mapping):  # the response's {string: …}
        raw = raw.get("string")
    if raw is None:
        return b""
    if isinstance(raw, bytes):
        return undo_coding(raw, headers, where)
    if isinstance(raw, str):
        return raw.encode("utf-8")
    raise TrafficError(f"{where}: the body is neither text nor bytes")


def _status(raw: object, where: str) -> int:
    return status_code(raw.get("code") if isinstance(raw, Mapping) else raw, where)


def exchanges(document: object, source: str) -> list[Exchange]:
    interactions = mapping(document, source).get("interactions")
    if not isinstance(interactions, list):
        raise TrafficError(f"{source}: interactions is not a list")
    found = []
    for index, raw in enumerate(interactions):
        where = f"{source}: interaction {index}"
        interaction = mapping(raw, where)
        request = mapping(interaction.get("request"), f"{where}: request")
        response = mapping(interaction.get("response"), f"{where}: response")
        sent = header_pairs(request.get("headers"), f"{where}: request")
        received = header_pairs(response.get("headers"), f"{where}: response")
        found.append(Exchange(
            RecordedRequest(method_name(request.get("method"), where), absolute_url(request.get("uri"), where), sent,
                            _body(request.get("body"), sent, f"{where}: request")),
            RecordedResponse(_status(response.get("status"), f"{where}: response"), received,
                             _body(response.get("body"), received, f"{where}: response")),
            source, index, FORMAT, None,
            unobservable_headers(sent, STRIPPED_WHEN_ABSENT, CASSETTE_PLACEHOLDERS, PLACEHOLDER_REASON),
            unobservable_headers(received, STRIPPED_WHEN_ABSENT, CASSETTE_PLACEHOLDERS, PLACEHOLDER_REASON)))
    return found


def read(path: Path | str, document: object | None = None) -> list[Exchange]:
    source = str(path)
    if document is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrafficError(f"{source}: not a readable cassette ({exc})") from None
        document = load(text, source)
    return exchanges(document, source)

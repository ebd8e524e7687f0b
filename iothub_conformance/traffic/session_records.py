"""The older .NET session records (Microsoft.Azure.Test.HttpRecorder, the management SDKs before the test-proxy).

Entries[] with RequestUri (the path and query only: the records keep no host), EncodedRequestUri (the same, base64),
RequestMethod, RequestBody, RequestHeaders and ResponseHeaders ({name: [values]}), ResponseBody and StatusCode; beside
them Names and Variables. A body is text, or base64 under an image/audio/video/octet-stream/multipart Content-Type
(RecorderUtilities in Azure/azure-sdk-for-net, Microsoft.Azure.Test.HttpRecorder: EncodeUriAsBase64 takes
PathAndQuery; FormatHttpContent re-indents JSON and XML and writes "Sanitized" over primaryKey, secondaryKey and the
connection strings). The test-proxy still reads them, and tells them by EncodedRequestUri (RecordEntry.Deserialize in
https://github.com/Azure/azure-sdk-tools/blob/main/tools/test-proxy/Azure.Sdk.Tools.TestProxy/Common/RecordEntry.cs).

What is unobservable: the public records carry no Authorization header, so its absence says nothing about the client;
ids the recorder replaced carry the zero GUID or "Sanitized"; bodies are re-indented, so their bytes (not their JSON)
differ from the wire. The host is not recorded (exchange.UNRECORDED_HOST).
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Mapping
from pathlib import Path

from iothub_conformance.traffic.errors import TrafficError
from iothub_conformance.traffic.exchange import Exchange, Headers, absolute_url, first
from iothub_conformance.traffic.proxy_recordings import entries, load

FORMAT = "dotnet-session"
STRIPPED_WHEN_ABSENT = {"authorization": "the .NET session records keep no Authorization header"}
PLACEHOLDER_REASON = "a placeholder the .NET recorder wrote over the value"
_BINARY = re.compile(r"(image/*|audio/*|video/*|application/octet-stream|multipart/form-data)")  # the recorder's own


def is_text(headers: Headers) -> bool:
    return not _BINARY.search(first(headers, "content-type") or "")


def _uri(entry: Mapping, where: str) -> str:
    raw = entry.get("RequestUri")
    if not raw and isinstance(entry.get("EncodedRequestUri"), str):
        try:
            raw = b64decode(entry["EncodedRequestUri"], validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise TrafficError(f"{where}: EncodedRequestUri is not base64 of a URI") from None
    return absolute_url(raw, where)


def read(path: Path | str, document: object | None = None) -> list[Exchange]:
    source = str(path)
    return entries(load(path) if document is None else document, source, FORMAT, STRIPPED_WHEN_ABSENT,
                   PLACEHOLDER_REASON, _uri, is_text)

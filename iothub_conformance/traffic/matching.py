"""Which documented operation a recorded exchange exercised: its api-version picks the specs (specs/<version>/), its
path and method pick the operation. Hosts are not compared (a real hub, management.azure.com, 127.0.0.1:port and the
host-less .NET records all reach the same operations).

Literal segments compare exactly on the data plane, and without regard to case on resource-provider paths
(/subscriptions/…): ARM treats its URL segments (resourceGroups, providers, Microsoft.Devices, IotHubs, …)
case-insensitively, and real clients send "resourcegroups" and "IoTHubs". Where two templates match, the one with a
literal segment earlier wins (/jobs/v2/query over /jobs/v2/{jobId}). No match is None: such an exchange is listed as
undocumented, not dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from iothub_conformance.rules import spec_operations
from iothub_conformance.rules.spec_operations import SpecOperation, operations
from iothub_conformance.traffic.exchange import Exchange, RecordedRequest

_PARAMETER = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class Match:
    spec: str  # "specs/2016-02-03/device-identities.yaml"
    operation_id: str
    path: str  # the template, as the spec writes it
    method: str  # lower-case, as in the spec
    api_version: str
    parameters: tuple[tuple[str, str], ...]  # path parameter → value (percent-decoded)


@dataclass(frozen=True)
class _Template:
    operation: SpecOperation
    segments: tuple[re.Pattern[str], ...]
    names: tuple[tuple[str, ...], ...]  # the parameter names in each segment
    rank: tuple[int, ...]  # 1 for a literal segment: sorts the more literal templates first

    @property
    def version(self) -> str:
        return Path(self.operation.spec).parts[1]


def _segment(text: str, arm: bool) -> tuple[re.Pattern[str], tuple[str, ...]]:
    pattern, names, at = "", [], 0
    for found in _PARAMETER.finditer(text):
        pattern += re.escape(text[at:found.start()]) + "(.+)"  # a value is one raw segment: it holds no '/'
        names.append(found.group(1))
        at = found.end()
    pattern += re.escape(text[at:])
    return re.compile(pattern, re.IGNORECASE if arm else 0), tuple(names)


@cache
def _templates(directory: Path | None = None) -> tuple[_Template, ...]:
    built = []
    for operation in operations(directory):
        arm = operation.path.lower().startswith("/subscriptions/")
        parts = [_segment(part, arm) for part in operation.path.strip("/").split("/")]
        built.append(_Template(operation, tuple(p for p, _ in parts), tuple(n for _, n in parts),
                               tuple(0 if names else 1 for _, names in parts)))
    return tuple(sorted(built, key=lambda t: t.rank, reverse=True))


versions = spec_operations.versions  # the api-versions the specs document


def match_request(request: RecordedRequest, directory: Path | None = None) -> Match | None:
    version = request.api_version
    if version is None:
        return None
    return _match(request, version, directory)


def match_any_version(request: RecordedRequest, directory: Path | None = None) -> Match | None:
    """The operation the request's method and path name in any documented api-version (the newest first), whatever
    api-version it sent or left out: what a request without one was meant to reach."""
    for version in sorted(versions(directory), reverse=True):
        found = _match(request, version, directory)
        if found is not None:
            return found
    return None


def _match(request: RecordedRequest, version: str, directory: Path | None) -> Match | None:
    raw = request.raw_path
    segments = raw.strip("/").split("/") if raw.strip("/") else [""]
    if raw.endswith("/") and raw != "/":
        # "/devices/" is "/devices" to the service: the Node.js service SDK lists devices so (npm azure-iothub 1.0.7
        # lib/registry.js: listDevices(endpoint.devicePath('')); azure-iot-common 1.0.8 lib/endpoint.js: '/devices/' + id).
        raw = raw.rstrip("/")
    method = request.method.lower()
    for template in _templates(directory):
        if template.version != version or template.operation.method != method \
                or len(template.segments) != len(segments):
            continue
        values: list[tuple[str, str]] = []
        for pattern, names, segment in zip(template.segments, template.names, segments, strict=True):
            found = pattern.fullmatch(segment)
            if found is None:
                break
            values += [(name, unquote(value)) for name, value in zip(names, found.groups(), strict=True)]
        else:
            operation = template.operation
            return Match(operation.spec, operation.operation_id, operation.path, operation.method, version,
                         tuple(values))
    return None


def match(exchange: Exchange, directory: Path | None = None, c2d_spellings: tuple[str, ...] = ()) -> Match | None:
    """The spec operation the exchange exercised, or None when its api-version or path and method document none.

    `c2d_spellings`: the spellings of a device's …/messages/deviceBound… segment the profile takes as the spec's
    (rule c2d_path_casings): a request that spells it so matches the operation spelled otherwise."""
    found = match_request(exchange.request, directory)
    if found is not None or not c2d_spellings:
        return found
    request = exchange.request
    parts = request.raw_path.split("/")
    if len(parts) >= 5 and parts[1] == "devices" and parts[3] == "messages" and parts[4] in c2d_spellings:
        for spelling in c2d_spellings:
            respelled = "/".join([*parts[:4], spelling, *parts[5:]])
            url = request.url.replace(request.raw_path, respelled, 1)
            found = match_request(replace(request, url=url), directory)
            if found is not None:
                return found
    return None

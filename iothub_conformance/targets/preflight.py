"""Preflight: before any test, one read with the connection string's own credentials (and one of the resource
provider with its token). A target that cannot be reached, refuses the credentials, redirects, or fails its reads
ends the run in one line (exit 2) instead of a half-run of errors blamed on the hub."""

from __future__ import annotations

import httpx

from iothub_conformance.config import ConfigError
from iothub_conformance.http.transport import BodyTooLarge, RequestDeadlineExceeded, RetryAfterTooLong

PROBE_API_VERSION = "2016-02-03"


class PreflightError(ConfigError):
    """The target is not in a state a run can judge."""


def preflight(target) -> None:
    if not target.embedded:
        device = f"{target.name_prefix}preflight"
        policy = target.connection.key_name or f"device {target.connection.device_id}"
        _judge(lambda: target.client().get(f"/devices/{device}", params={"api-version": target.api_version}),
               "target", target.base_url, f"the connection string's credentials (policy {policy!r}): check "
               "SharedAccessKeyName and SharedAccessKey, and that the policy has RegistryRead and RegistryWrite",
               "--target")
    endpoint = target.rp
    if endpoint is not None and not target.embedded_rp:
        path = (f"/subscriptions/{endpoint.subscription}/resourceGroups/{endpoint.resource_group}"
                "/providers/Microsoft.Devices/IotHubs")
        _judge(lambda: target.rp_client().get(path, params={"api-version": PROBE_API_VERSION}),
               "resource provider", endpoint.url, "the --rp-token (is it current, and for this subscription and "
               "resource group?)", "--rp-url")


def _judge(send, name: str, url: str, credentials: str, flag: str) -> None:
    try:
        response = send()
    except (RequestDeadlineExceeded, RetryAfterTooLong, BodyTooLarge) as exc:
        raise PreflightError(f"the {name} {url} gave no usable answer to a plain read: {_one_line(exc)}") from None
    except httpx.TransportError as exc:
        raise PreflightError(f"{name} unreachable: {url} ({type(exc).__name__}: {_one_line(exc)})") from None
    what = f"the {name} {url}"
    status = response.status_code
    line = f"{response.request.method} {response.request.url.path} → {status}"
    code = response.headers.get("iothub-errorcode")
    if status in (401, 403):
        raise PreflightError(f"{what} refused {credentials} ({line}{', ' + code if code else ''})")
    if 300 <= status < 400:
        location = response.headers.get("Location", "no Location")
        raise PreflightError(f"{what} redirects ({line} to {_one_line(location)[:120]}): give {flag} the URL that "
                             "serves the API itself")
    if status == 429:
        raise PreflightError(f"{what} is throttling every attempt ({line}): try again later")
    if status >= 500:
        raise PreflightError(f"{what} fails a plain read ({line}): nothing a run found could be told from that")


def _one_line(value) -> str:
    return " ".join(str(value).split())[:300]

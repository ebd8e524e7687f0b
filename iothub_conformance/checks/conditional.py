"""Conditional requests on a device identity (RFC 7232 §3.1).

stale If-Match → 412 and the device unchanged (read back); current or * → success; strong comparison, so
W/"<current>" does not match. Sources: delete-a-device-identity.md, index__v2017-01-16_d8e1dc17d.md (If-Match rules),
common-error-codes__v2016-12-27_e5666404f.md (412), OBSERVED.md §1, §3; INVENTORY.md §7 item 9.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import httpx

from .. import session
from ..requirements import tag
from .etag import opaque


def read(client: httpx.Client, path: str, api_version: str) -> httpx.Response:
    return client.get(path, params={"api-version": api_version})


def writable(device: dict) -> dict:
    """The fields a client may send back on update (create/update pages)."""
    body = {"deviceId": device.get("deviceId")}
    for name in ("status", "statusReason"):
        if device.get(name) is not None:
            body[name] = device[name]
    keys = (device.get("authentication") or {}).get("symmetricKey") or {}
    if keys.get("primaryKey") and keys.get("secondaryKey"):
        body["authentication"] = {"symmetricKey": {"primaryKey": keys["primaryKey"],
                                                   "secondaryKey": keys["secondaryKey"]}}
    return body


def stale_tag() -> str:
    return f'"stale-{secrets.token_hex(6)}"'


def _unchanged(client, path, api_version, before: httpx.Response, requirement: str, what: str) -> list[str]:
    after = read(client, path, api_version)
    if after.status_code != 200:
        return [tag(requirement, f"after {what} answered 412 the device reads back {after.status_code}, not 200")]
    if after.headers.get("ETag") != before.headers.get("ETag") or after.json() != before.json():
        return [tag(requirement, f"{what} answered 412 but the device changed (ETag {before.headers.get('ETag')} "
                                 f"→ {after.headers.get('ETag')})")]
    return []


def _refused(client, method, path, api_version, if_match, requirement, what, body=None) -> list[str]:
    before = read(client, path, api_version)
    if before.status_code != 200 or not before.headers.get("ETag"):
        return []  # nothing to compare with; DI-GET/DI-ETAG report why
    response = client.request(method, path, params={"api-version": api_version}, headers={"If-Match": if_match},
                              json=body if body is not None else (writable(before.json()) if method == "PUT" else None))
    if response.status_code != 412:
        return [tag(requirement, f"{method} {path} with {what} If-Match {if_match} → {response.status_code}, "
                                 "expected 412")]
    return _unchanged(client, path, api_version, before, requirement, f"{method} with {what} If-Match")


def stale_put_is_refused(client, path, api_version) -> list[str]:
    return _refused(client, "PUT", path, api_version, stale_tag(), "DI-COND-001", "a stale")


def stale_delete_is_refused(client, path, api_version) -> list[str]:
    return _refused(client, "DELETE", path, api_version, stale_tag(), "DI-COND-002", "a stale")


def weak_tag_does_not_match(client, path, api_version) -> list[str]:
    current = read(client, path, api_version).headers.get("ETag")
    if not current:
        return []
    return _refused(client, "PUT", path, api_version, f'W/"{opaque(current)}"', "DI-COND-004", "a weak")


def current_and_star_proceed(client, path, api_version) -> list[str]:
    failures = []
    for label in ("current", "*"):
        before = read(client, path, api_version)
        if before.status_code != 200 or not before.headers.get("ETag"):
            return failures
        if_match = before.headers["ETag"] if label == "current" else "*"
        response = client.put(path, params={"api-version": api_version}, headers={"If-Match": if_match},
                              json=writable(before.json()))
        if response.status_code != 200:
            failures.append(tag("DI-COND-003", f"PUT {path} with the {label} If-Match {if_match} → "
                                               f"{response.status_code}, expected 200"))
    return failures


def probe_all(client, path, api_version) -> list[str]:
    return (stale_put_is_refused(client, path, api_version) + weak_tag_does_not_match(client, path, api_version)
            + stale_delete_is_refused(client, path, api_version)
            + current_and_star_proceed(client, path, api_version))


def conditional_requests(ctx, response, case):
    # Probe once per run, on the first device this run created and can still read.
    if case.method.upper() != "PUT" or response.status_code not in (200, 201):
        return
    path = urlsplit(response.request.url).path  # still percent-encoded: ids may hold # ? %
    failures = session.probe_once("conditional_requests", case.operation.label,
                                  lambda: probe_all(session.client(), path, session.current().api_version))
    if failures:
        raise AssertionError("\n".join(failures))

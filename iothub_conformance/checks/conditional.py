"""Conditional requests on a device identity (RFC 7232 §3.1).

stale If-Match → 412 and the device unchanged (read back), where the current ETag proceeds; current or * → success;
strong comparison, so W/"<current>" does not match. Sources: delete-a-device-identity.md, index__v2017-01-16_d8e1dc17d.md
(If-Match rules), common-error-codes__v2016-12-27_e5666404f.md (412), OBSERVED.md §1, §3; INVENTORY.md §7 item 9.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import httpx

from iothub_conformance.config import SPEC_VERSIONS
from iothub_conformance.rules.failures import (
    PreconditionFailed,
    RequirementFailure,
    answered,
    json_of,
    raise_all,
    require_etag,
    require_object,
    served,
)
from iothub_conformance.targets import session

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


def current(client, path, api_version, what: str) -> httpx.Response:
    """The device as it is now, with its ETag: without both there is nothing a conditional request can be judged by."""
    response = read(client, path, api_version)
    require_object(response, f"could not read the device {what}")
    require_etag(response, f"could not read the device's ETag {what}")
    return response


def _unchanged(client, path, api_version, before: httpx.Response, requirement: str, what: str) -> list[RequirementFailure]:
    after = read(client, path, api_version)
    if after.status_code == 404:
        return [RequirementFailure(requirement, f"{what} answered 412 but the device is gone: it reads back 404")]
    if after.status_code != 200 or not isinstance(json_of(after), dict):
        raise PreconditionFailed(f"could not read the device back after {what} answered 412: {answered(after)}")
    if after.headers.get("ETag") != before.headers.get("ETag") or json_of(after) != json_of(before):
        return [RequirementFailure(requirement, f"{what} answered 412 but the device changed "
                                                f"(ETag {before.headers.get('ETag')} → {after.headers.get('ETag')})")]
    return []


def _refused(client, method, path, api_version, if_match, requirement, what, body=None) -> list[RequirementFailure]:
    before = current(client, path, api_version, f"before {method} with {what} If-Match")
    response = client.request(method, path, params={"api-version": api_version}, headers={"If-Match": if_match},
                              json=body if body is not None else (writable(before.json()) if method == "PUT" else None))
    if response.status_code != 412:
        return [RequirementFailure(requirement, f"{method} {path} with {what} If-Match {if_match} → "
                                                f"{response.status_code}, expected 412")]
    failures = _unchanged(client, path, api_version, before, requirement, f"{method} with {what} If-Match")
    if not failures:
        # A 412 shows the tag was compared only where the current ETag proceeds (a target that refuses every
        # conditional write would pass otherwise). A PUT, so that a probe never removes the device it judges.
        now = current(client, path, api_version, f"after the refused {method}")
        served(client.put(path, params={"api-version": api_version}, headers={"If-Match": now.headers["ETag"]},
                          json=writable(now.json())), "PUT with the current ETag as If-Match")
    return failures


def stale_put_is_refused(client, path, api_version) -> list[RequirementFailure]:
    return _refused(client, "PUT", path, api_version, stale_tag(), "DI-COND-001", "a stale")


def stale_delete_is_refused(client, path, api_version) -> list[RequirementFailure]:
    return _refused(client, "DELETE", path, api_version, stale_tag(), "DI-COND-002", "a stale")


def weak_tag_does_not_match(client, path, api_version) -> list[RequirementFailure]:
    etag = current(client, path, api_version, "to make a weak tag of").headers["ETag"]
    return _refused(client, "PUT", path, api_version, f'W/"{opaque(etag)}"', "DI-COND-004", "a weak")


def current_and_star_proceed(client, path, api_version) -> list[RequirementFailure]:
    failures: list[RequirementFailure] = []
    for label in ("current", "*"):
        before = current(client, path, api_version, f"before PUT with the {label} If-Match")
        if_match = before.headers["ETag"] if label == "current" else "*"
        response = client.put(path, params={"api-version": api_version}, headers={"If-Match": if_match},
                              json=writable(before.json()))
        if response.status_code != 200:
            failures.append(RequirementFailure("DI-COND-003", f"PUT {path} with the {label} If-Match {if_match} → "
                                                              f"{response.status_code}, expected 200"))
    return failures


def probe_all(client, path, api_version) -> list[RequirementFailure]:
    """Every probe's departures. A probe whose precondition fails adds none: as a side check of the generated
    requests it has nothing to judge, and suites/test_conditional_requests.py reports that precondition as an error."""
    failures: list[RequirementFailure] = []
    for probe in (stale_put_is_refused, weak_tag_does_not_match, stale_delete_is_refused, current_and_star_proceed):
        try:
            failures += probe(client, path, api_version)
        except PreconditionFailed:
            continue
    return failures


def conditional_requests(ctx, response, case):
    # Probe once per run, on the first device this run created and can still read.
    if case.method.upper() != "PUT" or response.status_code not in (200, 201):
        return
    version = (case.query or {}).get("api-version", session.current().api_version)
    if version not in SPEC_VERSIONS["2016-02-03"]:
        return  # DI-COND-* are rules of the 2016 pages; 2021-04-12's conditional requests have their own tests
    path = urlsplit(response.request.url).path  # still percent-encoded: ids may hold # ? %
    raise_all(session.probe_once("conditional_requests", case.operation.label,
                                 lambda: probe_all(session.client(), path, session.current().api_version)))

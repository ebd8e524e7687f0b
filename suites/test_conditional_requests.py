"""Conditional requests on device identities (RFC 7232 §3.1; delete page; index If-Match rules).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.checks import conditional
from iothub_conformance.rules.failures import answered, expect, json_of, raise_all, require_etag, served
from iothub_conformance.surfaces.devices import path


@pytest.mark.requirement("DI-COND-001")
def test_update_with_stale_if_match_returns_412_and_leaves_device_unchanged(registry, client, api_version):
    device_id, _ = registry.make("stale")
    raise_all(conditional.stale_put_is_refused(client, path(device_id), api_version))


@pytest.mark.requirement("DI-COND-002")
def test_delete_with_stale_if_match_returns_412_and_leaves_device_unchanged(registry, client, api_version):
    device_id, _ = registry.make("stale")
    raise_all(conditional.stale_delete_is_refused(client, path(device_id), api_version))
    # The same DELETE with the current ETag proceeds: else the 412 shows nothing about the stale tag.
    etag = require_etag(registry.read(device_id, "after the refused DELETE"), f"a read of {device_id}")
    served(registry.delete(device_id, if_match=etag), "DELETE with the current ETag as If-Match", statuses=(200, 204))


@pytest.mark.requirement("DI-COND-003")
def test_update_with_current_or_wildcard_if_match_succeeds(registry, client, api_version):
    device_id, _ = registry.make("current")
    raise_all(conditional.current_and_star_proceed(client, path(device_id), api_version))


@pytest.mark.requirement("DI-COND-003")
@pytest.mark.parametrize("which", ["current", "*"])
def test_delete_with_current_or_wildcard_if_match_succeeds(registry, which):
    device_id, created = registry.make("delcur")
    if_match = require_etag(created, f"the create of {device_id}") if which == "current" else "*"
    response = registry.delete(device_id, if_match=if_match)
    expect("DI-COND-003", response.status_code == 204,
           f"DELETE with If-Match {if_match}: {answered(response)}, expected 204")
    expect("DI-COND-003", not registry.exists(device_id, "after its delete"),
           f"{device_id} still reads back 200 after DELETE → 204")


@pytest.mark.requirement("DI-COND-004")
def test_weak_if_match_does_not_match(registry, client, api_version):
    device_id, _ = registry.make("weak")
    raise_all(conditional.weak_tag_does_not_match(client, path(device_id), api_version))


@pytest.mark.requirement("DI-COND-005")
def test_create_with_wildcard_if_match_follows_profile(registry, profile_rule):
    expected = profile_rule("create_if_match_star")
    registry.make("starplain")  # the same create without If-Match is served: else a refusal shows nothing
    device_id = registry.name("starcreate")
    response = registry.put(device_id, if_match="*")
    expect("DI-COND-005", response.status_code == expected,
           f"PUT-create with If-Match *: {answered(response)}, expected {expected}")
    expect("DI-COND-005", not registry.exists(device_id, "after a refused PUT-create"), "the device was created anyway")


@pytest.mark.requirement("DI-COND-006")
@pytest.mark.parametrize("if_match", [None, '""'])
def test_create_without_or_with_empty_if_match_creates(registry, profile, if_match):
    device_id = registry.name("plain")
    response = registry.put(device_id, if_match=if_match)
    expect("DI-COND-006", response.status_code in profile.value("create_statuses"), f"create with If-Match {if_match}: "
           f"{answered(response)}")
    body = json_of(response)
    expect("DI-COND-006", isinstance(body, dict) and body.get("deviceId") == device_id,
           f"create with If-Match {if_match}: {answered(response)} without the new identity")
    expect("DI-COND-006", registry.exists(device_id, "after its create"), f"{device_id} reads back 404 after its create")


@pytest.mark.requirement("DI-COND-007")
def test_quoted_wildcard_if_match_follows_profile(registry, profile):
    device_id, _ = registry.make("quotedstar")
    registry.read(device_id, "before the quoted wildcard")
    response = registry.put(device_id, if_match='"*"')
    if profile.value("quoted_star_is_wildcard"):
        expect("DI-COND-007", response.status_code == 200, f'If-Match "*": {answered(response)}, expected 200 (wildcard)')
    else:
        expect("DI-COND-007", response.status_code == 412,
               f'If-Match "*": {answered(response)}, expected 412 (not a wildcard)')
        # The bare wildcard proceeds: else the 412 shows nothing about the quoted one.
        served(registry.put(device_id, if_match="*"), "PUT with If-Match *")

"""Device twins at api-version 2021-04-12 (docs/sources/service-2021-04-12.json, Devices_GetTwin, Devices_ReplaceTwin,
Devices_UpdateTwin, Twin; docs/sources/INVENTORY-2021-04-12.md §2.4, §6, §9, §10;
docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md). Property tests over specs/2021-04-12/twins.yaml.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import re

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks import conditional
from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.entity_tags import ENTITY_TAG
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, served
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.twins import Twins, user_properties

pytestmark = pytest.mark.api_version("2021-04-12")

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")  # device twins page, "Device twin metadata"


@pytest.fixture
def twins(registry):
    return Twins(registry)


@pytest.fixture
def device_id(registry):
    return registry.make("twin")[0]


def quoted(twin: dict) -> str:
    """The body etag as the SDKs send it in If-Match (INVENTORY-2021-04-12.md §6)."""
    etag = twin.get("etag")
    if not isinstance(etag, str) or not etag:
        raise PreconditionFailed(f"the twin of {twin.get('deviceId')} has no etag to send back: {str(twin)[:200]}")
    return f'"{etag}"'


def desired(twin: dict) -> dict:
    return user_properties((twin.get("properties") or {}).get("desired"))


@pytest.mark.requirement("DTWIN-GET-001")
def test_get_answers_the_twin_with_its_sections_and_versions(twins, device_id):
    response = twins.get(device_id)
    twin = json_of(response)
    expect("DTWIN-GET-001", response.status_code == 200 and isinstance(twin, dict), f"GET twin: {answered(response)}")
    expect("DTWIN-GET-001", twin.get("deviceId") == device_id, f"the twin names deviceId {twin.get('deviceId')!r}")
    expect("DTWIN-GET-001", isinstance(twin.get("etag"), str) and twin["etag"], f"etag is {twin.get('etag')!r}")
    version = twin.get("version")
    expect("DTWIN-GET-001", isinstance(version, int) and not isinstance(version, bool), f"version is {version!r}")
    expect("DTWIN-GET-001", isinstance(twin.get("tags"), dict), f"tags is {twin.get('tags')!r}")
    properties = twin.get("properties") if isinstance(twin.get("properties"), dict) else {}
    for section in ("desired", "reported"):
        value = properties.get(section)
        expect("DTWIN-GET-001", isinstance(value, dict), f"properties.{section} is {value!r}")
        number = value.get("$version")
        expect("DTWIN-GET-001", isinstance(number, int) and not isinstance(number, bool),
               f"properties.{section}.$version is {number!r}")


@pytest.mark.requirement("DTWIN-GET-002")
def test_a_twin_of_an_unregistered_device_is_404_device_not_found(twins, registry, device_id):
    twins.read(device_id, what="of a registered device")  # so the 404s below are about the device, not the path
    missing = registry.name("notwin")
    for label, response in (("GET", twins.get(missing)), ("PATCH", twins.patch(missing, {"tags": {"a": "b"}})),
                            ("PUT", twins.replace(missing, {"tags": {"a": "b"}}))):
        expect("DTWIN-GET-002", response.status_code == 404, f"{label} twin of an unregistered device: "
                                                             f"{answered(response)}, expected 404")
        code = response.headers.get("iothub-errorcode")
        expect("DTWIN-GET-002", code == "DeviceNotFound", f"{label}: 404 names {code!r}, expected DeviceNotFound")


@pytest.mark.requirement("DTWIN-ID-001")
def test_the_twin_root_holds_the_identitys_read_only_properties(twins, registry):
    device_id, _ = registry.make("twinid", status="disabled", statusReason="conformance")
    identity = json_of(registry.read(device_id, "to compare its twin with"))
    twin = twins.read(device_id)
    expect("DTWIN-ID-001", twin.get("status") == "disabled", f"the twin's status is {twin.get('status')!r}, "
                                                              "the identity's 'disabled'")
    expect("DTWIN-ID-001", twin.get("deviceEtag") == identity.get("etag"),
           f"the twin's deviceEtag {twin.get('deviceEtag')!r} is not the identity's etag {identity.get('etag')!r}")
    present = [name for name in ("generationId", "connectionStateUpdatedTime") if name in twin]
    expect("DTWIN-ID-001", not present, f"the twin's root holds {present}, which the device twins page leaves out")


def _stamps(twin: dict) -> dict[str, object]:
    properties = twin.get("properties") or {}
    return {section: ((properties.get(section) or {}).get("$metadata")) for section in ("desired", "reported")}


@pytest.mark.requirement("DTWIN-META-001")
def test_metadata_stamps_every_level_and_moves_with_a_write(twins, device_id, clock_if_any):
    first = twins.patched(device_id, {"properties": {"desired": {"keep": 1, "nest": {"leaf": 1}}}})
    for section, metadata in _stamps(first).items():
        expect("DTWIN-META-001", isinstance(metadata, dict), f"properties.{section} has no $metadata: {metadata!r}")
        stamp = metadata.get("$lastUpdated")
        expect("DTWIN-META-001", isinstance(stamp, str) and STAMP.match(stamp),
               f"properties.{section}.$metadata.$lastUpdated is {stamp!r}, not YYYY-MM-DDTHH:MM:SS.mmmZ")
    meta = _stamps(first)["desired"]
    leaf = (meta.get("nest") or {}).get("leaf") if isinstance(meta.get("nest"), dict) else None
    for label, node in (("keep", meta.get("keep")), ("nest", meta.get("nest")), ("nest.leaf", leaf)):
        stamp = node.get("$lastUpdated") if isinstance(node, dict) else None
        expect("DTWIN-META-001", isinstance(stamp, str) and STAMP.match(stamp),
               f"$metadata.{label} has no $lastUpdated: {node!r}")
    if clock_if_any is not None:
        clock_if_any.advance(2)  # the stamps have millisecond resolution: let the next write be later
    second = twins.patched(device_id, {"properties": {"desired": {"nest": {"leaf": 2}}}}, what="the second time")
    after = _stamps(second)["desired"] or {}
    moved, kept = (after.get("nest") or {}).get("leaf") or {}, after.get("keep") or {}
    expect("DTWIN-META-001", str(moved.get("$lastUpdated", "")) >= str(leaf.get("$lastUpdated")),
           f"$metadata.nest.leaf.$lastUpdated went from {leaf.get('$lastUpdated')!r} to {moved.get('$lastUpdated')!r}")
    if clock_if_any is not None:
        expect("DTWIN-META-001", moved.get("$lastUpdated") != leaf.get("$lastUpdated"),
               f"the write of nest.leaf 2 s later kept its stamp {leaf.get('$lastUpdated')!r}")
        expect("DTWIN-META-001", kept.get("$lastUpdated") == meta["keep"].get("$lastUpdated"),
               f"the stamp of keep, which the write left alone, moved to {kept.get('$lastUpdated')!r}")


@pytest.mark.requirement("DTWIN-PATCH-001")
def test_patch_merges_and_a_null_removes_its_key(twins, device_id):
    twins.patched(device_id, {"tags": {"a": 1, "b": 2}, "properties": {"desired": {"x": {"y": 1}, "z": 2}}})
    response = twins.patch(device_id, {"tags": {"b": None, "c": 3},
                                       "properties": {"desired": {"z": None, "x": {"w": 2}}}})
    twin = json_of(response)
    expect("DTWIN-PATCH-001", response.status_code == 200 and isinstance(twin, dict), f"PATCH: {answered(response)}")
    expect("DTWIN-PATCH-001", twin.get("tags") == {"a": 1, "c": 3}, f"tags became {twin.get('tags')!r}, expected "
                                                                     "{'a': 1, 'c': 3}")
    expect("DTWIN-PATCH-001", desired(twin) == {"x": {"y": 1, "w": 2}},
           f"desired became {desired(twin)!r}, expected {{'x': {{'y': 1, 'w': 2}}}}")
    stored = twins.read(device_id, what="after the PATCH")
    expect("DTWIN-PATCH-001", (stored.get("tags"), desired(stored)) == (twin.get("tags"), desired(twin)),
           f"the PATCH answered {twin.get('tags')!r} / {desired(twin)!r} but the twin reads "
           f"{stored.get('tags')!r} / {desired(stored)!r}")


@pytest.mark.requirement("DTWIN-PUT-001")
def test_put_replaces_tags_and_desired_properties(twins, device_id):
    twins.patched(device_id, {"tags": {"old": 1}, "properties": {"desired": {"old": 1}}})
    response = twins.replace(device_id, {"deviceId": device_id, "tags": {"new": 2},
                                         "properties": {"desired": {"new": {"n": 3}}}})
    twin = json_of(response)
    expect("DTWIN-PUT-001", response.status_code == 200 and isinstance(twin, dict), f"PUT: {answered(response)}")
    stored = twins.read(device_id, what="after the PUT")
    for label, seen in (("PUT answered", twin), ("the twin reads", stored)):
        expect("DTWIN-PUT-001", seen.get("tags") == {"new": 2}, f"{label} tags {seen.get('tags')!r}, expected "
                                                                 "{'new': 2}")
        expect("DTWIN-PUT-001", desired(seen) == {"new": {"n": 3}},
               f"{label} desired {desired(seen)!r}, expected {{'new': {{'n': 3}}}}")


@pytest.mark.requirement("DTWIN-REPORTED-001")
def test_the_service_cannot_write_reported_properties(twins, device_id, target):
    report = getattr(target.controls, "report_properties", None)
    if report is not None:
        report(device_id, {"device": "said"})  # something of the device's own to keep
    before = user_properties((twins.read(device_id, what="before").get("properties") or {}).get("reported"))
    for label, write in (("PATCH", twins.patch), ("PUT", twins.replace)):
        response = write(device_id, {"tags": {"t": label},
                                     "properties": {"reported": {"device": "overwritten", "service": label}}})
        expect("DTWIN-REPORTED-001", response.status_code in (200, 400),
               f"{label} naming properties.reported: {answered(response)}, expected 200 (ignored) or 400")
        after = user_properties((twins.read(device_id, what=f"after the {label}").get("properties") or {})
                                .get("reported"))
        expect("DTWIN-REPORTED-001", after == before,
               f"{label} → {response.status_code} changed the reported properties from {before!r} to {after!r}")


def numbers(twin: dict) -> tuple:
    """The twin's version and its desired $version."""
    return twin.get("version"), ((twin.get("properties") or {}).get("desired") or {}).get("$version")


@pytest.mark.requirement("DTWIN-VERSION-001")
def test_writes_raise_the_versions_and_reads_do_not(twins, device_id):
    first = twins.read(device_id)
    again = twins.read(device_id, what="a second time")
    expect("DTWIN-VERSION-001", numbers(first) == numbers(again),
           f"a read moved version / desired $version from {numbers(first)} to {numbers(again)}")
    if not all(isinstance(n, int) for n in numbers(first)):
        raise PreconditionFailed(f"the twin has no integer version and desired $version: {numbers(first)}")
    tagged = twins.patched(device_id, {"tags": {"v": 1}})
    expect("DTWIN-VERSION-001", isinstance(tagged.get("version"), int) and tagged["version"] > first["version"],
           f"a tag write moved version from {first['version']} to {tagged.get('version')!r}")
    changed = twins.patched(device_id, {"properties": {"desired": {"v": 1}}})
    before, now = numbers(tagged), numbers(changed)
    expect("DTWIN-VERSION-001", isinstance(now[0], int) and now[0] > before[0],
           f"a desired write moved version from {before[0]} to {now[0]!r}")
    expect("DTWIN-VERSION-001", isinstance(now[1], int) and now[1] > before[1],
           f"a desired write moved properties.desired.$version from {before[1]} to {now[1]!r}")


@pytest.mark.requirement("DTWIN-ETAG-001")
def test_the_body_etag_is_unquoted_changes_on_writes_and_not_on_reads(twins, device_id):
    first = twins.read(device_id)
    etag = first.get("etag")
    expect("DTWIN-ETAG-001", isinstance(etag, str) and etag and '"' not in etag, f"the body etag is {etag!r}")
    expect("DTWIN-ETAG-001", re.fullmatch(ENTITY_TAG, f'"{etag}"'),
           f'"{etag}" is not an RFC 7232 entity-tag, so it cannot go back in If-Match')
    expect("DTWIN-ETAG-001", twins.read(device_id, what="again").get("etag") == etag,
           "a read changed the twin's etag")
    seen = [etag]
    for n in range(2):
        written = twins.patched(device_id, {"tags": {"n": n}}, what=f"write {n + 1}")
        expect("DTWIN-ETAG-001", written.get("etag") not in seen,
               f"write {n + 1} answered an etag the twin had before: {written.get('etag')!r}")
        seen.append(written.get("etag"))


@pytest.mark.requirement("DTWIN-COND-001")
def test_a_stale_if_match_is_412_and_changes_nothing(twins, device_id):
    stale = quoted(twins.read(device_id))
    current = twins.patched(device_id, {"tags": {"state": "kept"}})
    served(twins.patch(device_id, {"tags": {"state": "kept"}}, if_match=quoted(current)),
           "PATCH with the current etag in If-Match")
    before = twins.read(device_id, what="before the stale writes")
    for label, write in (("PATCH", twins.patch), ("PUT", twins.replace)):
        response = write(device_id, {"tags": {"state": "changed"}}, if_match=stale)
        expect("DTWIN-COND-001", response.status_code == 412, f"{label} with a stale If-Match {stale}: "
                                                              f"{answered(response)}, expected 412")
        after = twins.read(device_id, what=f"after the stale {label}")
        expect("DTWIN-COND-001", (after.get("etag"), after.get("tags")) == (before.get("etag"), before.get("tags")),
               f"the refused {label} changed the twin: etag {before.get('etag')} → {after.get('etag')}, "
               f"tags {after.get('tags')!r}")


@pytest.mark.requirement("DTWIN-COND-002")
def test_the_current_etag_quoted_or_a_star_applies(twins, device_id):
    for n, (label, write) in enumerate((("PATCH", twins.patch), ("PUT", twins.replace))):
        for form in ("current", "*"):
            if_match = quoted(twins.read(device_id, what=f"before the {label}")) if form == "current" else "*"
            response = write(device_id, {"tags": {"form": f"{label}-{form}-{n}"}}, if_match=if_match)
            expect("DTWIN-COND-002", response.status_code == 200,
                   f"{label} with If-Match {if_match}: {answered(response)}, expected 200")
            tags = twins.read(device_id, what=f"after the {label}").get("tags") or {}
            expect("DTWIN-COND-002", tags.get("form") == f"{label}-{form}-{n}",
                   f"{label} with If-Match {if_match} answered 200 but the tags read {tags!r}")


def _nested(depth: int) -> dict:
    value: object = "leaf"
    for level in range(depth):
        value = {f"l{depth - level}": value}
    return value  # type: ignore[return-value]


@pytest.mark.requirement("DTWIN-LIMIT-001")
def test_a_write_nested_too_deep_is_400_and_changes_nothing(twins, device_id):
    twins.patched(device_id, {"tags": {"shallow": _nested(4)}}, what="with a shallow value")
    before = twins.read(device_id, what="before the deep writes")
    for label, write in (("PATCH", twins.patch), ("PUT", twins.replace)):
        for where, body in (("tags", {"tags": _nested(12)}), ("desired", {"properties": {"desired": _nested(12)}})):
            response = write(device_id, body)
            expect("DTWIN-LIMIT-001", response.status_code == 400,
                   f"{label} of {where} nested 12 levels deep: {answered(response)}, expected 400")
    after = twins.read(device_id, what="after the deep writes")
    expect("DTWIN-LIMIT-001", (after.get("tags"), desired(after)) == (before.get("tags"), desired(before)),
           f"the refused writes changed the twin: tags {after.get('tags')!r}, desired {desired(after)!r}")


def _sized(total: int) -> dict:
    """An object of 2,000-character strings (each within the page's 4 KB per value) of at least `total` bytes."""
    return {f"k{n:02d}": "x" * 2000 for n in range(total // 2000 + 1)}


@pytest.mark.requirement("DTWIN-LIMIT-002")
def test_tags_over_8_kb_and_desired_over_32_kb_are_400_and_change_nothing(twins, device_id):
    twins.patched(device_id, {"tags": _sized(4000), "properties": {"desired": _sized(20000)}},
                  what="with 6 KB of tags and 22 KB of desired properties")
    before = twins.read(device_id, what="before the large writes")
    for label, write in (("PATCH", twins.patch), ("PUT", twins.replace)):
        for where, body in (("tags", {"tags": _sized(9000)}), ("desired", {"properties": {"desired": _sized(34000)}})):
            response = write(device_id, body)
            expect("DTWIN-LIMIT-002", response.status_code == 400,
                   f"{label} making {where} larger than the page allows: {answered(response)}, expected 400")
    after = twins.read(device_id, what="after the large writes")
    expect("DTWIN-LIMIT-002", after.get("etag") == before.get("etag"), "the refused writes changed the twin's etag")


@pytest.mark.requirement("DTWIN-ARRAY-001")
def test_arrays_are_handled_as_the_profile_says(twins, device_id, profile_rule):
    allowed = profile_rule("twin_arrays")
    before = twins.read(device_id)
    for label, write, body in (("PATCH", twins.patch, {"tags": {"list": [1, "two"]}}),
                               ("PUT", twins.replace, {"properties": {"desired": {"list": [3, {"k": 4}]}}})):
        response = write(device_id, body)
        if allowed:
            expect("DTWIN-ARRAY-001", response.status_code == 200, f"{label} with an array: {answered(response)}, "
                                                                   "expected 200 (profile: arrays are stored)")
            stored = twins.read(device_id, what=f"after the {label}")
            got = (stored.get("tags") or {}).get("list") if label == "PATCH" else desired(stored).get("list")
            sent = (body.get("tags") or body["properties"]["desired"])["list"]
            expect("DTWIN-ARRAY-001", got == sent, f"{label} stored {got!r}, sent {sent!r}")
        else:
            expect("DTWIN-ARRAY-001", response.status_code == 400, f"{label} with an array: {answered(response)}, "
                                                                   "expected 400 (profile: arrays are not allowed)")
            after = twins.read(device_id, what=f"after the {label}")
            expect("DTWIN-ARRAY-001", after.get("etag") == before.get("etag"), f"the refused {label} changed the twin")


# -- generated requests (schemathesis) over specs/2021-04-12/twins.yaml ------------------------------------------

schema = openapi.load("twins", "2021-04-12")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)
BAD_KEY = re.compile(r"[\x00-\x20\x7f-\x9f.$]")


def mended(value: object, depth: int = 0, arrays: bool = True) -> object:
    """A generated tag or property value made one the device twins page allows: keys without '.', '$', space or
    control characters, at most 5 levels, no arrays unless the profile allows them, strings of at most 64 chars."""
    if isinstance(value, dict):
        if depth >= 5:
            return "deep"
        return {(BAD_KEY.sub("-", key)[:64] or "k"): mended(item, depth + 1, arrays)
                for key, item in list(value.items())[:8]}
    if isinstance(value, list):
        return [mended(item, depth + 1, arrays) for item in value[:4]] if arrays else "list"
    if isinstance(value, str):
        return value[:64]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**52:
        return 0  # the page's integer range
    return value


def own_twin(case, device_ids: dict[str, str], profile) -> None:
    """Every generated request names a device (and module) this run made, and a body the page allows."""
    parameters = case.path_parameters or {}
    parameters["id"] = device_ids["device"]
    if "mid" in parameters:
        parameters["mid"] = device_ids["module"]
    body = case.body if isinstance(case.body, dict) else None
    if body is not None:
        arrays = bool(profile.value("twin_arrays"))
        body.pop("deviceId", None)
        body.pop("moduleId", None)
        body.pop("etag", None)  # a generated etag in the body says nothing; If-Match is the condition
        if isinstance(body.get("tags"), dict):
            body["tags"] = mended(body["tags"], 1, arrays)
        elif "tags" in body:
            body.pop("tags")
        properties = body.get("properties")
        if isinstance(properties, dict):
            wanted = properties.get("desired")
            body["properties"] = {"desired": mended(wanted, 1, arrays)} if isinstance(wanted, dict) else {}
    if case.headers:
        case.headers.pop("If-Match", None)  # a generated If-Match is stale: the conditional tests judge that


@pytest.fixture(scope="module")
def generated_twins(target, client):
    """A device and a module of it for the generated requests, deleted afterwards."""
    from iothub_conformance.surfaces.devices import Registry
    from iothub_conformance.surfaces.modules import Modules

    registry = Registry(client, "2021-04-12", target.name_prefix)
    device_id, _ = registry.make("prop-twin")
    Modules(registry).make(device_id, "prop")
    yield {"device": device_id, "module": "prop"}
    registry.cleanup()


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_twin_requests_conform_to_the_spec_and_checks(case, generated_twins, profile, client):
    own_twin(case, generated_twins, profile)
    # The identity's conditional-request probe reads an ETag header, which twins do not carry (INVENTORY §6).
    conforms(case, cases.send(client, case), "COMMON-SPEC-001", excluded_checks=[conditional.conditional_requests])

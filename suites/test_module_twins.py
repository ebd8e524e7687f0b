"""Module twins at api-version 2021-04-12 (docs/sources/service-2021-04-12.json, Modules_GetTwin, Modules_ReplaceTwin,
Modules_UpdateTwin; docs/sources/INVENTORY-2021-04-12.md §2.5;
docs/sources/iot-hub-devguide-module-twins__2020-06-29_ccf574a5.md).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest

from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces.modules import Modules
from iothub_conformance.surfaces.twins import Twins, user_properties

pytestmark = pytest.mark.api_version("2021-04-12")


@pytest.fixture
def twins(registry):
    return Twins(registry)


@pytest.fixture
def modules(registry):
    return Modules(registry)


@pytest.fixture
def device_id(registry):
    return registry.make("mtwin")[0]


def desired(twin: dict) -> dict:
    return user_properties((twin.get("properties") or {}).get("desired"))


@pytest.mark.requirement("MTWIN-GET-001")
def test_get_answers_the_module_twin(twins, modules, device_id):
    modules.make(device_id, "reader")
    response = twins.get(device_id, "reader")
    twin = json_of(response)
    expect("MTWIN-GET-001", response.status_code == 200 and isinstance(twin, dict),
           f"GET module twin: {answered(response)}")
    got = (twin.get("deviceId"), twin.get("moduleId"))
    expect("MTWIN-GET-001", got == (device_id, "reader"), f"the module twin names deviceId, moduleId {got}")
    expect("MTWIN-GET-001", isinstance(twin.get("etag"), str) and twin["etag"], f"etag is {twin.get('etag')!r}")
    expect("MTWIN-GET-001", isinstance(twin.get("version"), int), f"version is {twin.get('version')!r}")
    expect("MTWIN-GET-001", isinstance(twin.get("tags"), dict), f"tags is {twin.get('tags')!r}")
    for section in ("desired", "reported"):
        value = (twin.get("properties") or {}).get(section)
        expect("MTWIN-GET-001", isinstance(value, dict) and isinstance(value.get("$version"), int),
               f"properties.{section} is {value!r}, without an integer $version")


@pytest.mark.requirement("MTWIN-GET-002")
def test_a_twin_of_a_missing_module_is_404(twins, modules, device_id):
    modules.make(device_id, "present")
    twins.read(device_id, "present", "of a module that exists")
    for label, response in (("GET", twins.get(device_id, "absent")),
                            ("PATCH", twins.patch(device_id, {"tags": {"a": "b"}}, "absent")),
                            ("PUT", twins.replace(device_id, {"tags": {"a": "b"}}, "absent"))):
        expect("MTWIN-GET-002", response.status_code == 404,
               f"{label} twin of a module that does not exist: {answered(response)}, expected 404")


@pytest.mark.requirement("MTWIN-PATCH-001")
def test_patch_merges_and_put_replaces(twins, modules, device_id):
    modules.make(device_id, "writer")
    twins.patched(device_id, {"tags": {"a": 1, "b": 2}, "properties": {"desired": {"x": 1}}}, "writer")
    response = twins.patch(device_id, {"tags": {"b": None, "c": 3}, "properties": {"desired": {"y": 2}}}, "writer")
    twin = json_of(response)
    expect("MTWIN-PATCH-001", response.status_code == 200 and isinstance(twin, dict), f"PATCH: {answered(response)}")
    stored = twins.read(device_id, "writer", "after the PATCH")
    expect("MTWIN-PATCH-001", (stored.get("tags"), desired(stored)) == ({"a": 1, "c": 3}, {"x": 1, "y": 2}),
           f"after the PATCH the module twin reads tags {stored.get('tags')!r}, desired {desired(stored)!r}")
    replaced = twins.replace(device_id, {"tags": {"only": 1}, "properties": {"desired": {"only": 2}}}, "writer")
    expect("MTWIN-PATCH-001", replaced.status_code == 200, f"PUT: {answered(replaced)}")
    stored = twins.read(device_id, "writer", "after the PUT")
    expect("MTWIN-PATCH-001", (stored.get("tags"), desired(stored)) == ({"only": 1}, {"only": 2}),
           f"after the PUT the module twin reads tags {stored.get('tags')!r}, desired {desired(stored)!r}")


@pytest.mark.requirement("MTWIN-COND-001")
def test_a_stale_if_match_is_412_and_changes_nothing(twins, modules, device_id):
    modules.make(device_id, "cond")
    stale = twins.read(device_id, "cond").get("etag")
    current = twins.patched(device_id, {"tags": {"state": "kept"}}, "cond")
    if not stale or not current.get("etag"):
        raise PreconditionFailed(f"the module twin has no etag to send back: {current!r}")
    served = twins.patch(device_id, {"tags": {"state": "kept"}}, "cond", if_match=f'"{current["etag"]}"')
    if served.status_code != 200:
        raise PreconditionFailed(f"a PATCH with the current etag is not applied: {answered(served)}")
    before = twins.read(device_id, "cond", "before the stale writes")
    for label, write in (("PATCH", twins.patch), ("PUT", twins.replace)):
        response = write(device_id, {"tags": {"state": "changed"}}, "cond", if_match=f'"{stale}"')
        expect("MTWIN-COND-001", response.status_code == 412,
               f"{label} with a stale If-Match: {answered(response)}, expected 412")
    after = twins.read(device_id, "cond", "after the stale writes")
    expect("MTWIN-COND-001", (after.get("etag"), after.get("tags")) == (before.get("etag"), before.get("tags")),
           f"the refused writes changed the module twin: tags {after.get('tags')!r}")


@pytest.mark.requirement("MTWIN-LIFE-001")
def test_a_module_made_again_starts_with_an_empty_twin(twins, modules, device_id):
    modules.make(device_id, "life")
    twins.patched(device_id, {"tags": {"old": 1}, "properties": {"desired": {"old": 1}}}, "life")
    deleted = modules.delete(device_id, "life", if_match="*")
    if deleted.status_code != 204:
        raise PreconditionFailed(f"could not delete the module: {answered(deleted)}")
    modules.make(device_id, "life")  # at once: no read between shows the old twin the chance to be dropped
    twin = twins.read(device_id, "life", "of the module made again")
    expect("MTWIN-LIFE-001", twin.get("tags") in ({}, None) and desired(twin) == {},
           f"the module made again has the old twin: tags {twin.get('tags')!r}, desired {desired(twin)!r}")

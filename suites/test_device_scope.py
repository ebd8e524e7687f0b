"""The Edge device scope (api-version 2021-04-12): deviceScope and parentScopes on the identity, and the device-scope
calls the Edge hub makes with its $edgeHub module's token (docs/sources/INVENTORY-2021-04-12.md §4.2, §4.3, §5, §9).

Which api-version the calls take is profile rule `scope_api_versions` (the Edge hub and the CLI device client send
preview versions; no page documents the calls, §10 C31): a profile without a position skips them. Everything listed is
the run's own: an Edge device, its $edgeHub module and children created in its scope; a listing is judged on the
run's devices only (a hub's other devices of no scope must not be in it, and no run-less device is ever touched).

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases, sas
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.device_scope import EDGE_HUB, MAX_PAGES, DeviceScope, device_ids
from iothub_conformance.surfaces.messaging import device_token

pytestmark = pytest.mark.api_version("2021-04-12")

LIST, ONE, TARGET = ("Device_GetDevicesAndModulesInScope", "Device_GetDeviceAndModuleInScope",
                     "Device_GetDevicesAndModulesInTargetScope")


@pytest.fixture
def scope(registry, target) -> DeviceScope:
    return DeviceScope(registry, target.connection.host_name)


@pytest.fixture
def versions(profile_rule) -> dict:
    return profile_rule("scope_api_versions")


def scope_result(requirement: str, response, what: str) -> dict:
    body = json_of(response)
    expect(requirement, response.status_code == 200 and isinstance(body, dict),
           f"{what}: {answered(response)}, expected 200 with a ScopeResult")
    for name in ("devices", "modules"):
        expect(requirement, isinstance(body.get(name), (list, type(None))), f"{what}: {name} is not an array")
    return body


def listed(body: dict) -> list:
    return [d.get("deviceId") for d in body.get("devices") or [] if isinstance(d, dict)]


def walk(scope: DeviceScope, edge, version: str, count: int | None, requirement: str) -> list:
    """Every deviceId of the scope, page after page (at most MAX_PAGES), each page judged against `count`."""
    response = scope.list(edge, version, count)
    seen: list = []
    for page in range(MAX_PAGES):
        body = scope_result(requirement, response, f"page {page + 1} of {edge.device_id}'s scope")
        ids = listed(body)
        if count:
            expect(requirement, len(ids) <= count, f"a page of deviceCount={count} holds {len(ids)} devices")
        seen += ids
        link = body.get("continuationLink")
        if not link:
            return seen
        response = scope.follow(edge, link)
    raise PreconditionFailed(f"{edge.device_id}'s scope did not end within {MAX_PAGES} pages")


# -- the api-versions ---------------------------------------------------------------------------------------------


@pytest.mark.requirement("SCOPE-VERSION-001")
def test_scope_calls_are_served_at_the_profiles_api_versions(scope, versions):
    edge = scope.edge("ver", children=1)
    for version in versions[LIST]:
        ids = listed(scope_result("SCOPE-VERSION-001", scope.list(edge, version), f"the scope at {version}"))
        expect("SCOPE-VERSION-001", edge.children[0] in ids, f"the scope at {version} lists {ids}, not the child")
    for version in versions[ONE]:
        scope_result("SCOPE-VERSION-001", scope.one(edge, version, edge.children[0]), f"one identity at {version}")
    for version in versions[TARGET]:
        response = scope.target(edge, version)
        expect("SCOPE-VERSION-001", response.status_code // 100 == 2,
               f"the target-scope call at {version}: {answered(response)}, expected 2xx")


# -- deviceScope on the identity -------------------------------------------------------------------------------------


@pytest.mark.requirement("SCOPE-IDENTITY-001")
def test_device_scope_and_parent_scopes_are_kept(scope, registry, profile):
    edge = scope.edge("ident", children=1)
    child = edge.children[0]
    body = json_of(registry.read(child, "after creating it in the Edge device's scope"))
    expect("SCOPE-IDENTITY-001", body.get("deviceScope") == edge.scope,
           f"GET /devices/{child} → deviceScope {body.get('deviceScope')!r}, set {edge.scope!r}")
    expect("SCOPE-IDENTITY-001", body.get("parentScopes") == [edge.scope],
           f"GET /devices/{child} → parentScopes {body.get('parentScopes')!r}, set {[edge.scope]!r}")
    versions = profile.value("scope_api_versions")
    if versions is None:
        return  # the profile names no api-version for the scope calls: the registry's answer is what is judged
    page = scope_result("SCOPE-IDENTITY-001", scope.list(edge, versions[LIST][0]), "the Edge device's scope")
    found = [d for d in page.get("devices") or [] if isinstance(d, dict) and d.get("deviceId") == child]
    if not found:
        raise PreconditionFailed(f"the Edge device's scope does not list {child} (SCOPE-LIST-001 judges that)")
    expect("SCOPE-IDENTITY-001", found[0].get("deviceScope") == edge.scope and found[0].get("parentScopes") == [
        edge.scope], f"the scope lists {child} with deviceScope {found[0].get('deviceScope')!r} and parentScopes "
                     f"{found[0].get('parentScopes')!r}, set {edge.scope!r}")


# -- the listing, its pages, one identity, the target scope -------------------------------------------------------


@pytest.mark.requirement("SCOPE-LIST-001")
def test_scope_lists_its_devices_and_no_other(scope, registry, versions):
    edge = scope.edge("list", children=2)
    other = scope.edge("lother", children=1)
    outsider, _ = registry.make("lnone")
    ids = walk(scope, edge, versions[LIST][0], None, "SCOPE-LIST-001")
    for child in edge.children:
        expect("SCOPE-LIST-001", child in ids, f"{edge.device_id}'s scope lists {ids}, not its child {child}")
    for foreign in (*other.children, outsider):
        expect("SCOPE-LIST-001", foreign not in ids, f"{edge.device_id}'s scope lists {foreign}, which is not in it")


@pytest.mark.requirement("SCOPE-PAGE-001")
@pytest.mark.parametrize("count", [1, 2])
def test_scope_pages_hold_device_count_and_continue_to_the_rest(scope, versions, count):
    edge = scope.edge(f"page{count}", children=3)
    ids = walk(scope, edge, versions[LIST][0], count, "SCOPE-PAGE-001")
    run_ids = [i for i in ids if i in edge.children]
    expect("SCOPE-PAGE-001", sorted(run_ids) == sorted(edge.children),
           f"the pages of deviceCount={count} list {run_ids} of the children {edge.children}")
    expect("SCOPE-PAGE-001", len(ids) == len(set(ids)), f"the pages of deviceCount={count} repeat devices: {ids}")


@pytest.mark.requirement("SCOPE-ONE-001")
def test_one_identity_of_the_scope(scope, versions):
    edge = scope.edge("one", children=2)
    wanted = edge.children[1]
    body = scope_result("SCOPE-ONE-001", scope.one(edge, versions[ONE][0], wanted), f"the identity {wanted}")
    expect("SCOPE-ONE-001", listed(body) == [wanted], f"deviceAndModuleInDeviceScope for {wanted} lists {listed(body)}")


@pytest.mark.requirement("SCOPE-TARGET-001")
def test_target_scope_lists_the_edge_devices_scope(scope, registry, versions):
    edge = scope.edge("target", children=2)
    response = scope.target(edge, versions[TARGET][0])
    body = json_of(response)
    expect("SCOPE-TARGET-001", response.status_code // 100 == 2 and isinstance(body, dict),
           f"the target-scope call: {answered(response)}, expected 2xx with a ScopeResult")
    ids = listed(body)
    for child in edge.children:
        expect("SCOPE-TARGET-001", child in ids, f"the target-scope call lists {ids}, not the child {child}")
    outsider, _ = registry.make("tnone")
    again = listed(json_of(scope.target(edge, versions[TARGET][0])) or {})
    expect("SCOPE-TARGET-001", outsider not in again, f"the target-scope call lists {outsider}, which is in no scope")


# -- who may ask --------------------------------------------------------------------------------------------------


def refused(requirement: str, response, what: str) -> None:
    expect(requirement, response.status_code == 401, f"{what}: {answered(response)}, expected 401")
    body = json_of(response)
    expect(requirement, not (isinstance(body, dict) and body.get("devices")), f"{what} listed devices anyway")


@pytest.mark.requirement("SCOPE-AUTH-001")
def test_scope_refuses_a_token_that_does_not_cover_it(scope, registry, target, versions):
    edge = scope.edge("auth", children=1)
    other = scope.edge("aother")
    version = versions[LIST][0]
    scope_result("SCOPE-AUTH-001", scope.list(edge, version), "the scope with its own $edgeHub token")
    refused("SCOPE-AUTH-001", scope.list(edge, version, token=scope.token(other)),
            f"{edge.device_id}'s scope signed with {other.device_id}'s {EDGE_HUB} token")
    child = edge.children[0]
    key = json_of(registry.read(child)).get("authentication", {}).get("symmetricKey", {}).get("primaryKey")
    if not key:
        raise PreconditionFailed(f"device {child} has no key to sign with")
    refused("SCOPE-AUTH-001", scope.list(edge, version, token=device_token(target.connection.host_name, child, key)),
            f"{edge.device_id}'s scope signed with its child {child}'s device token")


@pytest.mark.requirement("SCOPE-AUTH-002")
def test_scope_refuses_an_expired_or_tampered_token(scope, versions):
    edge = scope.edge("expired", children=1)
    version = versions[LIST][0]
    scope_result("SCOPE-AUTH-002", scope.list(edge, version), "the scope with a valid $edgeHub token")
    refused("SCOPE-AUTH-002", scope.list(edge, version, token=scope.token(edge, expiry=1_000_000_000)),
            "the scope with an expired $edgeHub token")
    token = sas.parse_token(scope.token(edge))
    tampered = sas.build_token(token.resource_uri, "AAAA" + edge.module_key[4:])
    refused("SCOPE-AUTH-002", scope.list(edge, version, token=tampered), "the scope with a token signed by another key")


# -- generated requests (schemathesis) over specs/2021-04-12/device-scope.yaml ------------------------------------

schema = openapi.load("device-scope", "2021-04-12")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.fixture(scope="module")
def generated_edge(target, client):
    """An Edge device with its $edgeHub module and one child, for the generated requests, deleted afterwards."""
    from iothub_conformance.surfaces.devices import Registry

    registry = Registry(client, "2021-04-12", target.name_prefix)
    scope = DeviceScope(registry, target.connection.host_name)
    yield scope, scope.edge("prop", children=1)
    registry.cleanup()


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_scope_requests_conform_to_the_spec(case, generated_edge, client, profile_rule):
    profile_rule("scope_api_versions")  # the spec's api-versions are the profile's: no position, nothing sent
    scope, edge = generated_edge
    case.path_parameters = {**(case.path_parameters or {}), "deviceId": edge.device_id, "moduleId": EDGE_HUB}
    if case.query and "targetDeviceId" in case.query:
        case.query["targetDeviceId"] = edge.children[0]
        case.query.pop("targetModuleId", None)
    response = cases.send(client, case, headers={"Authorization": scope.token(edge)})
    conforms(case, response, "COMMON-SPEC-001")
    ids = device_ids(response, f"{case.method} {case.path}")
    expect("COMMON-SPEC-001", all(i in (edge.device_id, *edge.children) for i in ids),
           f"a generated scope request listed devices outside the run's Edge scope: {ids}")

"""The resource provider (ARM, api-version 2016-02-03): hubs and their long-running operations, the If-Match tables,
lists and paging, keys, consumer groups, name availability, stats, and export/import through the RP.

Pages: rp__*.md, export-device-identities1.md, import-device-identities.md; INVENTORY.md §1 (tables, async rules),
§2c, §7 item 8. Where the pages and the ARM Swagger differ, profile rule `rp_dialect` says which one the suite speaks;
`rp_conditions` holds the If-Match tables. Every hub is named under the run prefix and deleted afterwards: the suite
never changes, or reads the keys of, a hub it did not create.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import base64
import json
import secrets
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance import checks
from iothub_conformance.checks import rp_rules as rules
from iothub_conformance.checks.context import Context
from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, raise_all, require
from iothub_conformance.rules.profiles import IOTHUB
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.import_export import DEFAULT_BLOB, lines_of, poll
from iothub_conformance.surfaces.rp import PARAMS, RIGHTS, policy, repeated

STALE = '"conf-stale-etag"'
LIST_ATTEMPTS = 3
CONDITIONS = {
    "none": {},
    "if-match:*": {"If-Match": "*"},
    "if-match:stale": {"If-Match": STALE},
    "if-none-match:*": {"If-None-Match": "*"},
}


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def same_location(a, b) -> bool:
    # ARM may answer "westus" for "West US": the region is the same.
    return isinstance(a, str) and isinstance(b, str) and a.replace(" ", "").lower() == b.replace(" ", "").lower()


def dialect_only(rp, profile, what: str) -> None:
    if not rp.speaks.arm16_operations:
        pytest.skip(f"profile {profile.name} follows the rp__*.md pages, which have no {what} "
                    f"({profile['rp_dialect'].source})")


def done(rp, response, what: str, requirement: str = "RP-LRO-001"):
    """Wait for a long-running operation the response started (if any); it must end Succeeded."""
    operation = rp.wait(response)
    if operation.url:
        expect(requirement, not operation.elsewhere, f"{what}: the Azure-AsyncOperation URL {operation.elsewhere}")
        expect(requirement, operation.ended, f"{what}: the operation did not end within the wait (statuses "
               f"{' → '.join(operation.seen) or 'none'}, last answer "
               f"{operation.last.status_code if operation.last else '-'})")
        expect(requirement, operation.succeeded, f"{what}: the operation ended {operation.status!r}")
    return operation


def rp_answers(rp) -> None:
    """A 404 for a missing hub is evidence only from a resource provider that answers otherwise: the resource
    group's hub list must answer 200 with a JSON body (else PreconditionFailed)."""
    listed = require(rp.client.get(rp.group, params=PARAMS), "could not list the resource group's hubs")
    if json_of(listed) is None:
        raise PreconditionFailed(f"could not list the resource group's hubs: {answered(listed)} without a JSON body")


def hub_exists(rp, name: str, what: str) -> bool:
    """200 yes, 404 no; any other answer cannot tell, so PreconditionFailed."""
    response = rp.get(name)
    if response.status_code not in (200, 404):
        raise PreconditionFailed(f"could not tell whether hub {name} exists {what}: {answered(response)}")
    return response.status_code == 200


# -- authorization, request ids, api-version, errors ---------------------------------------------------------------


def refused(rp, requirement: str, what: str, label: str, changes_nothing: bool = True, **credential) -> None:
    """A read and a create sent with `credential` both answer 401, and (`changes_nothing`) the create makes no hub.
    The same read with the run's token must answer first: a 401 from an RP that refuses everything shows nothing."""
    rp_answers(rp)
    listed = rp.client.get(rp.group, params=PARAMS, **credential)
    expect(requirement, listed.status_code == 401, f"GET of the hub list {what} → {listed.status_code}, expected 401")
    name = rp.new_name(label)
    put = rp.client.put(rp.hub(name), params=PARAMS, json=rp.body(), **credential)
    expect(requirement, put.status_code == 401, f"PUT of a hub {what} → {put.status_code}, expected 401")
    if changes_nothing:
        expect(requirement, not hub_exists(rp, name, f"after a refused PUT {what}"),
               f"the refused PUT still created hub {name}")


@pytest.mark.requirement("RP-AUTH-001")
def test_request_without_authorization_returns_401(rp):
    # RP-AUTH-001 is the 401 alone; that a refused request changes nothing is RP-AUTH-002's.
    refused(rp, "RP-AUTH-001", "without Authorization", "noauth", changes_nothing=False, auth=None)


@pytest.mark.requirement("RP-AUTH-002")
def test_request_with_a_token_the_endpoint_did_not_issue_returns_401(rp):
    forged = {"Authorization": f"Bearer conf.{secrets.token_urlsafe(24)}.forged"}
    refused(rp, "RP-AUTH-002", "with a made-up token", "forged", headers=forged)


@pytest.mark.requirement("RP-REQID-001", "RP-ERR-001")
def test_every_response_carries_x_ms_request_id_and_errors_carry_error_details(rp, profile):
    missing = rp.new_name("absent")
    responses = [rp.client.get(rp.group, params=PARAMS),  # 200
                 rp.get(missing),  # 404
                 rp.client.get(rp.group, params=PARAMS, auth=None),  # 401
                 rp.client.get(rp.group)]  # 400: no api-version
    for response in responses:
        raise_all(rules.verify(response, Context(profile)))
    # The errors are the ones the requests are refused with only where the valid list is served.
    require(responses[0], "could not list the resource group's hubs")
    expect("RP-REQID-001", [r.status_code for r in responses[1:]] == [404, 401, 400],
           f"the requests the RP must refuse answered {[r.status_code for r in responses]}, expected 404, 401, 400 "
           "after the 200")


@pytest.mark.requirement("RP-APIVER-001")
@pytest.mark.parametrize("params", [{}, {"api-version": "2000-01-01"}], ids=["missing", "unsupported"])
def test_request_without_a_served_api_version_returns_400(rp, params):
    rp_answers(rp)  # the same list with the served api-version answers: else a 400 shows nothing
    response = rp.client.get(rp.group, params=params)
    expect("RP-APIVER-001", response.status_code == 400, f"GET of the hub list with api-version {params or 'missing'} → "
           f"{response.status_code}, expected 400")


# -- create, read, update, delete ---------------------------------------------------------------------------------


@pytest.mark.requirement("RP-CREATE-001", "RP-LRO-001", "RP-ETAG-001")
def test_create_returns_201_with_azure_asyncoperation_and_the_hub_is_as_stored(rp, target, profile):
    name = rp.new_name("create")
    tags = {"conformance-run": target.run_id}
    response = rp.put(name, rp.body(tags=tags, capacity=1))
    expect("RP-CREATE-001", response.status_code == 201, f"PUT of a new hub → {response.status_code}, expected 201")
    link = response.headers.get("Azure-AsyncOperation")
    expect("RP-CREATE-001", link, "the 201 has no Azure-AsyncOperation header")
    parts = urlsplit(link)
    expect("RP-CREATE-001", parts.scheme in ("http", "https") and parts.netloc, f"Azure-AsyncOperation {link!r} is "
           "not an absolute URL")
    raise_all(rules.verify(response, Context(profile)))
    done(rp, response, f"creating hub {name}")
    got = rp.get(name)
    expect("RP-LRO-001", got.status_code == 200, f"the operation says Succeeded but GET of the hub → {got.status_code}")
    raise_all(rules.verify(got, Context(profile)))
    hub = got.json()
    expect("RP-LRO-001", same_location(hub.get("location"), rp.endpoint.location), f"location {hub.get('location')!r}")
    sku = hub.get("sku") or {}
    expect("RP-LRO-001", (sku.get("name"), sku.get("capacity")) == ("S1", 1), f"sku {sku}, stored S1 × 1")
    expect("RP-LRO-001", (hub.get("tags") or {}).items() >= tags.items(), f"tags {hub.get('tags')}, stored {tags}")


@pytest.mark.requirement("RP-GET-001", "RP-GET-002", "RP-ETAG-001")
def test_get_returns_the_hub_without_keys(rp, profile):
    name = rp.new_name("get")
    hub = rp.settled(name)
    response = rp.get(name)
    raise_all(rules.verify(response, Context(profile)))
    expect("RP-GET-001", hub.get("name", "").lower() == name, f"name {hub.get('name')!r}, expected {name}")
    expect("RP-GET-001", str(hub.get("id", "")).lower().endswith(f"/iothubs/{name}"), f"id {hub.get('id')!r}")
    expect("RP-GET-001", str(hub.get("type", "")).lower() == "microsoft.devices/iothubs", f"type {hub.get('type')!r}")
    expect("RP-GET-001", hub.get("location") and hub.get("sku") and hub.get("etag"),
           f"location, sku or etag missing: {json.dumps(hub)[:300]}")
    policies = (hub.get("properties") or {}).get("authorizationPolicies")
    keyed = [p for p in policies or [] if isinstance(p, dict) and (p.get("primaryKey") or p.get("secondaryKey"))]
    expect("RP-GET-002", not keyed, f"GET of the hub reveals the keys of {len(keyed)} policies")


@pytest.mark.requirement("RP-GET-001")
def test_get_of_missing_hub_returns_404(rp):
    rp_answers(rp)
    response = rp.get(rp.new_name("missing"))
    expect("RP-GET-001", response.status_code == 404,
           f"GET of a hub that does not exist → {response.status_code}, expected 404")


@pytest.mark.requirement("RP-UPDATE-001", "RP-ETAG-002")
def test_update_is_applied_and_changes_the_etag(rp):
    name = rp.new_name("update")
    before = rp.settled(name, tags={"step": "1"})
    response = rp.put(name, rp.body(tags={"step": "2"}, capacity=2))
    expect("RP-UPDATE-001", response.status_code in (200, 201), f"PUT on an existing hub → {response.status_code}")
    done(rp, response, f"updating hub {name}", "RP-UPDATE-001")
    after = rp.get(name).json()
    expect("RP-UPDATE-001", (after.get("tags") or {}).get("step") == "2", f"tags after the update: {after.get('tags')}")
    expect("RP-UPDATE-001", (after.get("sku") or {}).get("capacity") == 2, f"sku after the update: {after.get('sku')}")
    expect("RP-ETAG-002", after.get("etag") != before.get("etag"), f"the etag stayed {before.get('etag')!r}")


@pytest.mark.requirement("RP-DELETE-001")
def test_delete_is_long_running_and_the_hub_is_gone_afterwards(rp, profile):
    name = rp.new_name("delete")
    rp.settled(name)
    response = rp.delete(name)
    allowed = profile.value("rp_conditions")[("DELETE", "none", True)]
    expect("RP-DELETE-001", response.status_code in allowed,
           f"DELETE of a hub → {response.status_code}, expected {sorted(allowed)}")
    if response.status_code == 202:
        absent = [h for h in ("Location", "Retry-After", "Azure-AsyncOperation") if not response.headers.get(h)]
        expect("RP-DELETE-001", not absent, f"the 202 lacks {', '.join(absent)} (rp__delete-an-iot-hub.md)")
    done(rp, response, f"deleting hub {name}", "RP-DELETE-001")
    gone = rp.get(name)
    expect("RP-DELETE-001", gone.status_code == 404,
           f"the delete succeeded but GET of the hub → {gone.status_code}, expected 404")


# -- If-Match / If-None-Match (the tables of INVENTORY §1) ---------------------------------------------------------

# Every profile's table has the same rows; only the statuses they accept differ.
ROWS = sorted(IOTHUB.value("rp_conditions"))


def row_id(row) -> str:
    method, condition, exists = row
    return f"{method}-{'existing' if exists else 'missing'}-{condition}"


@pytest.mark.requirement("RP-COND-001", "RP-COND-002", "RP-COND-003")
@pytest.mark.parametrize("row", ROWS, ids=[row_id(r) for r in ROWS])
def test_conditional_request_answers_as_the_table_says(rp, profile, row):
    method, condition, exists = row
    requirement = "RP-COND-001" if method == "PUT" else "RP-COND-002"
    allowed = profile.value("rp_conditions")[row]
    name = rp.new_name("cond")
    if not exists:
        rp_answers(rp)  # the row's answer for a missing hub shows something only if the RP answers otherwise
    before = rp.settled(name, tags={"step": "1"}) if exists else None
    headers = dict(CONDITIONS.get(condition, {}))
    if condition == "if-match:current":
        headers["If-Match"] = f'"{before["etag"]}"'
    response = (rp.put(name, rp.body(tags={"step": "2"}), headers=headers) if method == "PUT"
                else rp.delete(name, headers=headers))
    expect(requirement, response.status_code in allowed,
           f"{method} of a {'existing' if exists else 'missing'} hub with {headers or 'no condition'} → "
           f"{response.status_code}, the table says {sorted(allowed)}")
    if response.status_code == 412:
        after = rp.get(name)
        if exists:
            expect("RP-COND-003", after.status_code != 404, f"the refused {method} removed hub {name}")
            body = json_of(require(after, f"could not read hub {name} back after the 412"))
            if not isinstance(body, dict):
                raise PreconditionFailed(f"could not read hub {name} back after the 412: {answered(after)}")
            expect("RP-COND-003", (body.get("etag"), (body.get("tags") or {}).get("step")) == (before["etag"], "1"),
                   f"the refused {method} changed the hub: etag {before['etag']!r} → {body.get('etag')!r}, "
                   f"tags {body.get('tags')}")
        else:
            expect("RP-COND-003", not hub_exists(rp, name, "after the 412"), f"the refused PUT created hub {name}")
    else:
        done(rp, response, f"{method} of hub {name}", requirement)


# -- lists ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_hubs(target, rp_client):
    """Three hubs, so that a list of two per page (the reference's) needs a nextLink."""
    from iothub_conformance.surfaces.rp import ResourceManager

    manager = ResourceManager(rp_client, target)
    names = [manager.new_name("list") for _ in range(3)]
    for name in names:
        manager.settled(name)
    yield names
    manager.cleanup()


@pytest.mark.requirement("RP-LIST-001", "RP-LIST-002", "RP-GET-002")
@pytest.mark.parametrize("scope", ["group", "subscription"])
def test_list_returns_every_hub_of_the_run_exactly_once(rp, profile, three_hubs, scope):
    requirement = "RP-LIST-001" if scope == "group" else "RP-LIST-002"
    expected = rp.speaks.list_shape
    # Others may create or delete hubs while the suite pages through a shared list (another worker, the hub's
    # users), and a page boundary may then move. A listing that misses or repeats a run hub is taken again; only one
    # that does so every time is the target's.
    for _ in range(LIST_ATTEMPTS):
        listing = rp.list(scope)
        expect(requirement, not listing.problems, f"the {scope} list: {'; '.join(listing.problems)}")
        expect(requirement, listing.shape == expected, f"the {scope} list is a{'n' if expected == 'array' else ''} "
               f"{listing.shape}, the profile expects {expected}")
        names = [str(item.get("name", "")).lower() for item in listing.items if isinstance(item, dict)]
        twice = [name for name in repeated(names) if name in three_hubs]
        absent = [name for name in three_hubs if name not in names]
        if not twice and not absent:
            break
    expect(requirement, not twice, f"the {scope} list holds {twice} more than once ({len(listing.pages)} pages, "
           f"{LIST_ATTEMPTS} listings)")
    expect(requirement, not absent, f"the {scope} list lacks {absent} ({len(listing.pages)} pages, "
           f"{LIST_ATTEMPTS} listings)")
    for item in listing.items:
        policies = ((item.get("properties") or {}).get("authorizationPolicies") if isinstance(item, dict) else None)
        expect("RP-GET-002", not any(isinstance(p, dict) and p.get("primaryKey") for p in policies or []),
               f"the {scope} list reveals keys of hub {item.get('name') if isinstance(item, dict) else item!r}")


# -- keys ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def keyed_hub(rp):
    """A hub with two policies whose keys the suite chose."""
    dialect = rp.dialect
    given = {"iothubowner": (RIGHTS, new_key(), new_key()), "reader": (("RegistryRead",), new_key(), new_key())}
    name = rp.new_name("keys")
    rp.settled(name, policies=[policy(n, rights, dialect, a, b) for n, (rights, a, b) in given.items()])
    return name, given


@pytest.mark.requirement("RP-KEYS-001")
def test_listkeys_returns_every_policy_with_its_rights_and_keys(rp, keyed_hub):
    name, given = keyed_hub
    response, found, problems = rp.list_keys(name)
    expect("RP-KEYS-001", response.status_code == 200, f"POST {rp.keys(name)} → {response.status_code}, expected 200")
    expect("RP-KEYS-001", not problems, f"listkeys: {'; '.join(problems)}")
    for policy_name, (rights, primary, secondary) in given.items():
        expect("RP-KEYS-001", policy_name in found, f"listkeys lacks policy {policy_name!r} (has {sorted(found)})")
        got = found[policy_name]
        expect("RP-KEYS-001", got["rights"] == frozenset(rights), f"policy {policy_name}: rights {sorted(got['rights'])}")
        expect("RP-KEYS-001", (got["primaryKey"], got["secondaryKey"]) == (primary, secondary),
               f"policy {policy_name}: the keys listed are not the keys stored")


@pytest.mark.requirement("RP-KEYS-002")
def test_keys_for_key_name_returns_that_policy_and_404_for_an_unknown_name(rp, profile, keyed_hub):
    dialect_only(rp, profile, "keys-by-name operation")
    name, given = keyed_hub
    response = rp.key(name, "reader")
    expect("RP-KEYS-002", response.status_code == 200,
           f"POST …/IotHubKeys/reader/listkeys → {response.status_code}, expected 200")
    body = response.json()
    expect("RP-KEYS-002", (body.get("keyName"), body.get("primaryKey")) == ("reader", given["reader"][1]),
           f"keys by name answered policy {body.get('keyName')!r} or another key")
    unknown = rp.key(name, "conf-no-such-policy")
    expect("RP-KEYS-002", unknown.status_code == 404,
           f"keys of an unknown policy name → {unknown.status_code}, expected 404")


# -- consumer groups -----------------------------------------------------------------------------------------------


@pytest.mark.requirement("RP-CG-001")
def test_consumer_group_is_created_listed_and_deleted(rp):
    name = rp.new_name("cg")
    rp.settled(name)
    first = rp.groups(name)
    expect("RP-CG-001", not first.problems, f"the consumer-group list: {'; '.join(first.problems)}")
    expect("RP-CG-001", "$default" in first.items, f"a new hub lists the consumer groups {first.items}, without $default")
    created = rp.create_group(name, "confgroup")
    expect("RP-CG-001", created.status_code == rp.speaks.group_created,
           f"PUT of a consumer group → {created.status_code}, the {rp.speaks.name} contract says {rp.speaks.group_created}")
    expect("RP-CG-001", "confgroup" in rp.groups(name).items, "the consumer group created is not listed")
    deleted = rp.delete_group(name, "confgroup")
    expect("RP-CG-001", deleted.status_code == rp.speaks.group_deleted,
           f"DELETE of a consumer group → {deleted.status_code}, the {rp.speaks.name} contract says "
           f"{rp.speaks.group_deleted}")
    expect("RP-CG-001", "confgroup" not in rp.groups(name).items, "the consumer group deleted is still listed")


@pytest.mark.requirement("RP-CG-002")
def test_consumer_group_request_on_missing_hub_returns_404(rp):
    rp_answers(rp)
    name = rp.new_name("nocg")
    created = rp.create_group(name, "confgroup")
    expect("RP-CG-002", created.status_code == 404, f"PUT of a consumer group on a missing hub → {created.status_code}")
    listed = rp.client.get(rp.consumer_groups(name), params=PARAMS)
    expect("RP-CG-002", listed.status_code == 404,
           f"the consumer groups of a missing hub → {listed.status_code}, expected 404")


# -- names and stats -----------------------------------------------------------------------------------------------


@pytest.mark.requirement("RP-NAME-001")
def test_name_in_use_is_not_available_and_an_unused_name_is(rp, profile):
    dialect_only(rp, profile, "checkNameAvailability operation")
    name = rp.new_name("name")
    rp.settled(name)
    taken = rp.check_name(name)
    expect("RP-NAME-001", taken.status_code == 200, f"checkNameAvailability → {taken.status_code}, expected 200")
    body = taken.json()
    expect("RP-NAME-001", body.get("nameAvailable") is False, f"a name in use is said to be available: {body}")
    expect("RP-NAME-001", body.get("reason") == "AlreadyExists" and body.get("message"), f"no reason or message: {body}")
    free = rp.check_name(rp.new_name("free")).json()
    expect("RP-NAME-001", free.get("nameAvailable") is True, f"an unused name is said not to be available: {free}")


# -- export and import through the RP -----------------------------------------------------------------------------


def job_done(rp, name: str, response, what: str, requirement: str) -> None:
    """Wait for an export/import through the RP: by its job (ARM16: 200 + JobResponse) or its operation (docs: 202)."""
    expect(requirement, response.status_code == rp.speaks.job_started,
           f"{what} → {response.status_code}, the {rp.speaks.name} contract says {rp.speaks.job_started}")
    if response.status_code == 202:
        absent = [h for h in ("Location", "Retry-After", "Azure-AsyncOperation") if not response.headers.get(h)]
        expect(requirement, not absent, f"the 202 of {what} lacks {', '.join(absent)}")
        done(rp, response, what, requirement)
        return
    job_id = response.json().get("jobId")
    expect(requirement, job_id, f"{what} answered without a jobId: {response.text[:200]}")
    job, seen = poll(lambda: rp.job(name, job_id), ("completed", "failed", "cancelled"), rp.endpoint.timeout, rp.clock)
    expect(requirement, job is not None and job.get("status") == "completed",
           f"{what}: the job went {' → '.join(map(str, seen))} and did not complete")


@pytest.fixture
def blob(container):
    """The blob export and import through the RP write and read; removed afterwards."""
    yield DEFAULT_BLOB
    container.delete(DEFAULT_BLOB)


@pytest.mark.requirement("RP-JOB-001")
def test_export_through_the_rp_completes_and_writes_the_devices(rp, container, blob):
    name = rp.new_name("export")
    rp.settled(name)
    job_done(rp, name, rp.export(name, container.uri), "exportDevices", "RP-JOB-001")
    expect("RP-JOB-001", container.get(blob) is not None, f"the completed export wrote no {blob}")


def imported(rp, name: str, container, blob: str, ids: list[str]) -> None:
    """Import `ids` into hub `name` through the RP and wait for the job to end."""
    container.put(blob, "".join(json.dumps({"id": i, "importMode": "create"}) + "\n" for i in ids).encode())
    uri = container.uri
    job_done(rp, name, rp.import_(name, uri, uri), "importDevices", "RP-JOB-002")


@pytest.mark.requirement("RP-JOB-002")
def test_import_through_the_rp_puts_its_devices_in_the_hub(rp, container, blob, target):
    name = rp.new_name("import")
    rp.settled(name)
    ids = [f"{target.name_prefix}rp-import-{n}" for n in (1, 2)]
    imported(rp, name, container, blob, ids)
    job_done(rp, name, rp.export(name, container.uri), "exportDevices", "RP-JOB-001")
    exported = {line.get("id") for line in lines_of(container.get(blob)) if isinstance(line, dict)}
    expect("RP-JOB-002", set(ids) <= exported, f"after the import the hub exports {sorted(exported)}, not {ids}")


@pytest.mark.requirement("RP-STATS-001")
def test_stats_count_the_devices_of_the_hub(rp, profile, container, blob, target):
    dialect_only(rp, profile, "IotHubStats operation")
    name = rp.new_name("stats")
    rp.settled(name)
    empty = rp.stats(name)
    expect("RP-STATS-001", empty.status_code == 200, f"GET …/IotHubStats → {empty.status_code}, expected 200")
    expect("RP-STATS-001", empty.json().get("totalDeviceCount") == 0, f"a new hub counts {empty.json()} devices")
    ids = [f"{target.name_prefix}rp-stats-{n}" for n in (1, 2, 3)]
    imported(rp, name, container, blob, ids)
    counted = rp.stats(name).json()
    expect("RP-STATS-001", counted.get("totalDeviceCount") == len(ids),
           f"IotHubStats counts {counted.get('totalDeviceCount')!r} devices after an import of {len(ids)}")


# -- generated reads (schemathesis) -------------------------------------------------------------------------------

SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)
reads = openapi.load("resource-provider").include(method="GET")


@pytest.fixture(scope="module")
def read_hub(target, rp_client):
    """One settled hub the generated reads are pointed at."""
    from iothub_conformance.surfaces.rp import ResourceManager

    manager = ResourceManager(rp_client, target)
    name = manager.new_name("reads")
    manager.settled(name)
    yield name
    manager.cleanup()


@pytest.mark.requirement("RP-READ-001", "RP-REQID-001", "RP-ETAG-001", "RP-ERR-001", "RP-STATE-001")
@reads.parametrize()
@SETTINGS
def test_generated_reads_conform_to_the_spec(case, target, rp_client, read_hub):
    # Generated reads name the run's subscription, group and hub: they never look at anyone else's.
    fixed = {"subscriptionId": target.rp.subscription, "resourceGroupName": target.rp.resource_group,
             "resourceName": read_hub}
    for key, value in fixed.items():
        if key in (case.path_parameters or {}):
            case.path_parameters[key] = value
    # The run's own token goes with every request: a generated Authorization value is not a credential.
    response = cases.send(rp_client, case, drop_headers=("Authorization",))
    conforms(case, response, "RP-READ-001", excluded_checks=checks.DATA_PLANE)

"""Query at api-version 2021-04-12 (docs/sources/service-2021-04-12.json, Query_GetTwins, QueryResult;
docs/sources/INVENTORY-2021-04-12.md §2.7, §5, §10 C34;
docs/sources/iot-hub-devguide-query-language__2018-02-26_abdce6fa.md).
Every query names only this run's devices (`WHERE deviceId IN [...]`); surfaces/twins.py refuses any other.
Property tests over specs/2021-04-12/query.yaml, and the link device → module → twin patch → query finds it → delete.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import zlib

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks import envelope
from iothub_conformance.checks.context import Context
from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of, served
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.modules import Modules
from iothub_conformance.surfaces.twins import Query, Twins, id_list
from iothub_conformance.targets.target import SafetyError

pytestmark = pytest.mark.api_version("2021-04-12")


@pytest.fixture(scope="module")
def query_allowed(target, client):
    """Whether the run's HTTP client lets a query through: its safety guard reads /devices/{id} paths, and a client
    that takes `query` for a device id not of this run refuses it. Then the query tests skip, saying so."""
    from iothub_conformance.surfaces.devices import Registry

    probe = Query(Registry(client, "2021-04-12", target.name_prefix))
    try:
        probe.post(f"SELECT * FROM devices WHERE deviceId IN {id_list([target.name_prefix + 'query-probe'])}")
    except SafetyError as exc:
        pytest.skip(f"the suite's HTTP client refuses POST /devices/query ({exc}): its guard must let the query "
                    "through (surfaces/twins.py scopes every query to the run's devices)")


@pytest.fixture
def query(registry, query_allowed):
    return Query(registry)


@pytest.fixture
def twins(registry):
    return Twins(registry)


def made(registry, twins, label: str, count: int, tags: list[dict] | None = None) -> list[str]:
    """`count` run devices, the n-th with tags[n] when given."""
    ids = [registry.make(label)[0] for _ in range(count)]
    for device_id, wanted in zip(ids, tags or [], strict=False):
        if wanted:
            twins.patched(device_id, {"tags": wanted}, what="to give it tags")
    return ids


def ids_of(items: list) -> list:
    return [item.get("deviceId") if isinstance(item, dict) else item for item in items]


@pytest.mark.requirement("QUERY-SELECT-001")
def test_select_star_answers_exactly_the_named_twins_as_get_shows_them(query, registry, twins):
    ids = made(registry, twins, "qsel", 3, [{"n": 1}, {"n": 2, "deep": {"k": "v"}}, {}])
    twins.patched(ids[0], {"properties": {"desired": {"mode": "eco"}}})
    unregistered = registry.name("qnone")
    response = query.post(f"SELECT * FROM devices WHERE deviceId IN {id_list(ids + [unregistered])}")
    items = json_of(response)
    expect("QUERY-SELECT-001", response.status_code == 200 and isinstance(items, list), f"query: {answered(response)}")
    expect("QUERY-SELECT-001", sorted(map(str, ids_of(items))) == sorted(ids),
           f"the query answered {ids_of(items)!r}, expected each of {ids} once")
    for item in items:
        if not isinstance(item, dict) or item.get("deviceId") not in ids:
            continue
        stored = twins.read(item["deviceId"], what="to compare with the query")
        for name in ("tags", "properties"):
            expect("QUERY-SELECT-001", item.get(name) == stored.get(name),
                   f"{item['deviceId']}: the query's {name} {str(item.get(name))[:200]} differ from GET's "
                   f"{str(stored.get(name))[:200]}")


def _where_cases(reported: bool) -> list[tuple[str, set[int]]]:
    cases_ = [("tags.site = 'n'", {0}), ("tags.floor > 1", {1, 2}), ("tags.floor >= 2 AND tags.site = 's'", {1}),
              ("tags.site = 'n' OR tags.floor = 2", {0, 2}), ("NOT (tags.floor = 1)", {1, 2}),
              ("tags.floor IN [1, 3]", {0, 1}), ("tags.floor NIN [1, 3]", {2}), ("IS_DEFINED(tags.site)", {0, 1}),
              ("NOT IS_DEFINED(tags.site)", {2}), ("status = 'disabled'", {1}),
              ("properties.desired.mode = 'eco'", {0}), ("tags.floor != 3", {0, 2})]
    if reported:
        cases_.append(("properties.reported.fw = '2.0'", {2}))
    return cases_


@pytest.mark.requirement("QUERY-WHERE-001")
def test_where_selects_exactly_the_twins_that_meet_the_condition(query, registry, twins, target):
    ids = made(registry, twins, "qwhere", 1, [{"floor": 1, "site": "n"}])
    ids += [registry.make("qwhere", status="disabled")[0]]
    twins.patched(ids[1], {"tags": {"floor": 3, "site": "s"}})
    ids += made(registry, twins, "qwhere", 1, [{"floor": 2}])
    twins.patched(ids[0], {"properties": {"desired": {"mode": "eco"}}})
    report = getattr(target.controls, "report_properties", None)
    if report is not None:
        report(ids[2], {"fw": "2.0"})  # reported properties are the device's: only a simulated device can set them
    for condition, expected in _where_cases(report is not None):
        text = f"SELECT * FROM devices WHERE deviceId IN {id_list(ids)} AND ({condition})"
        response = query.post(text)
        items = json_of(response)
        expect("QUERY-WHERE-001", response.status_code == 200 and isinstance(items, list),
               f"WHERE {condition}: {answered(response)}")
        want = sorted(ids[n] for n in expected)
        expect("QUERY-WHERE-001", sorted(map(str, ids_of(items))) == want,
               f"WHERE {condition} selected {sorted(map(str, ids_of(items)))}, expected {want}")


@pytest.mark.requirement("QUERY-MODULES-001")
def test_devices_modules_answers_the_module_twins_that_meet_the_condition(query, registry, twins):
    device_id = registry.make("qmod")[0]
    modules = Modules(registry)
    for module_id in ("m1", "m2"):
        modules.make(device_id, module_id)
    twins.patched(device_id, {"tags": {"role": "sensor"}}, "m1")
    for condition, expected in (("", ["m1", "m2"]), (" AND tags.role = 'sensor'", ["m1"])):
        response = query.post(f"SELECT * FROM devices.modules WHERE deviceId IN {id_list([device_id])}{condition}")
        items = json_of(response)
        expect("QUERY-MODULES-001", response.status_code == 200 and isinstance(items, list),
               f"FROM devices.modules{condition}: {answered(response)}")
        got = sorted((str(i.get("deviceId")), str(i.get("moduleId"))) for i in items if isinstance(i, dict))
        want = [(device_id, m) for m in expected]
        expect("QUERY-MODULES-001", got == want and len(items) == len(want),
               f"FROM devices.modules{condition} answered {got}, expected {want}")


@pytest.mark.requirement("QUERY-AGG-001")
def test_group_by_answers_one_row_per_value_with_its_count(query, registry, twins):
    ids = made(registry, twins, "qagg", 3, [{"g": "a"}, {"g": "a"}, {"g": "b"}])
    text = f"SELECT tags.g AS g, COUNT() AS n FROM devices WHERE deviceId IN {id_list(ids)} GROUP BY tags.g"
    response = query.post(text)
    rows = json_of(response)
    expect("QUERY-AGG-001", response.status_code == 200 and isinstance(rows, list), f"GROUP BY: {answered(response)}")
    got = sorted((row.get("g"), row.get("n")) for row in rows if isinstance(row, dict))
    expect("QUERY-AGG-001", got == [("a", 2), ("b", 1)] and len(rows) == 2,
           f"GROUP BY tags.g answered {rows!r}, expected the rows g=a n=2 and g=b n=1")


@pytest.mark.requirement("QUERY-PAGE-001")
def test_pages_hold_at_most_the_item_count_and_the_tokens_yield_everything_once(query, registry, twins):
    ids = made(registry, twins, "qpage", 5)
    pages = query.pages(f"SELECT * FROM devices WHERE deviceId IN {id_list(ids)}", 2)
    if any(page.status_code != 200 or not isinstance(json_of(page), list) for page in pages):
        bad = next(p for p in pages if p.status_code != 200 or not isinstance(json_of(p), list))
        expect("QUERY-PAGE-001", False, f"a page of the query: {answered(bad)}")
    sizes = [len(json_of(page)) for page in pages]
    expect("QUERY-PAGE-001", all(size <= 2 for size in sizes), f"x-ms-max-item-count 2 gave pages of {sizes} items")
    seen = [str(d) for page in pages for d in ids_of(json_of(page))]
    expect("QUERY-PAGE-001", sorted(seen) == sorted(ids), f"the pages answered {seen}, expected each of {ids} once")
    expect("QUERY-PAGE-001", len(pages) >= 3, f"5 twins came in {len(pages)} pages of at most 2")


@pytest.mark.requirement("QUERY-PAGE-002")
def test_a_continuation_survives_devices_added_and_removed_between_pages(query, registry, twins):
    ids = made(registry, twins, "qcont", 5)
    late = registry.name("qcont-late")
    text = f"SELECT * FROM devices WHERE deviceId IN {id_list(ids + [late])}"
    first = query.post(text, 2)
    page = json_of(first)
    if first.status_code != 200 or not isinstance(page, list) or not page or not first.headers.get("x-ms-continuation"):
        raise PreconditionFailed(f"the first page of 2 of 5 twins came without items or a continuation: "
                                 f"{answered(first)}")
    removed = str(ids_of(page)[0])
    if removed not in ids:
        raise PreconditionFailed(f"the first page names {ids_of(page)!r}, not devices of this query")
    served(registry.delete(removed, if_match="*"), f"deleting {removed} between the pages", statuses=(204,))
    registry.make("unused")  # another device of the run meanwhile, not named by the query
    registry.put(late, {"deviceId": late})
    seen = [str(d) for d in ids_of(page)]
    token = first.headers["x-ms-continuation"]
    for _ in range(20):
        response = query.post(text, 2, token)
        items = json_of(response)
        expect("QUERY-PAGE-002", response.status_code == 200 and isinstance(items, list),
               f"the page after the changes: {answered(response)}")
        seen += [str(d) for d in ids_of(items)]
        token = response.headers.get("x-ms-continuation")
        if not token:
            break
    throughout = [d for d in ids if d != removed]
    wrong = {d: seen.count(d) for d in throughout if seen.count(d) != 1}
    expect("QUERY-PAGE-002", not wrong, f"after {removed} was removed and {late} added between pages, devices that "
                                        f"existed throughout came back this many times: {wrong} (pages: {seen})")


@pytest.mark.requirement("QUERY-TYPE-001")
def test_the_answer_names_its_item_type(query, registry):
    device_id = registry.make("qtype")[0]
    response = query.post(f"SELECT * FROM devices WHERE deviceId IN {id_list([device_id])}")
    served(response, "SELECT * FROM devices", list)
    expect("QUERY-TYPE-001", response.headers.get("x-ms-item-type") == "twin",
           f"SELECT * FROM devices answered x-ms-item-type {response.headers.get('x-ms-item-type')!r}, expected twin")


@pytest.mark.requirement("QUERY-ERR-001")
def test_a_query_the_language_does_not_allow_is_400_with_the_envelope(query, registry, profile):
    scope = id_list([registry.make("qerr")[0]])
    served(query.post(f"SELECT * FROM devices WHERE deviceId IN {scope}"), "a valid query of the same device", list)
    for text in (f"SELECT * FROM devices WHERE deviceId IN {scope} AND",
                 f"SELECT * FROM devices WHERE deviceId IN {scope} AND NO_SUCH_FUNCTION(tags.x)",
                 f"SELECT * FROM nowhere WHERE deviceId IN {scope}"):
        response = query.post(text)
        expect("QUERY-ERR-001", response.status_code == 400, f"the query {text!r}: {answered(response)}, expected 400")
        departures = envelope.verify(response, Context(profile))
        expect("QUERY-ERR-001", not departures, f"the 400 for {text!r} lacks the error envelope: "
                                                f"{'; '.join(d.message for d in departures)}")


# -- the link: device → module → twin patch → query finds it → delete ---------------------------------------------


@pytest.mark.requirement("QUERY-SELECT-001")
def test_a_patched_twin_is_found_by_query_until_its_device_is_deleted(query, registry, twins):
    device_id = registry.make("qlink")[0]
    marker = f"{registry.prefix}link"
    patched = twins.patched(device_id, {"tags": {"link": marker}})
    text = f"SELECT * FROM devices WHERE deviceId IN {id_list([device_id])} AND tags.link = '{marker}'"
    found = query.items(text, "the patched twin")
    expect("QUERY-SELECT-001", ids_of(found) == [device_id] and found[0].get("tags") == patched.get("tags"),
           f"the query for the patched tag answered {str(found)[:300]}")
    served(registry.delete(device_id, if_match="*"), f"deleting {device_id}", statuses=(204,))
    after = query.items(text, "after the delete")
    expect("QUERY-SELECT-001", after == [], f"the query still finds the deleted device: {str(after)[:300]}")


@pytest.mark.requirement("QUERY-MODULES-001")
def test_a_patched_module_twin_is_found_by_query_until_its_device_is_deleted(query, registry, twins):
    device_id = registry.make("qlinkmod")[0]
    Modules(registry).make(device_id, "linked")
    twins.patched(device_id, {"properties": {"desired": {"rate": 5}}}, "linked")
    text = (f"SELECT * FROM devices.modules WHERE deviceId IN {id_list([device_id])} "
            "AND properties.desired.rate = 5")
    found = query.items(text, "the patched module twin")
    expect("QUERY-MODULES-001", [(i.get("deviceId"), i.get("moduleId")) for i in found] == [(device_id, "linked")],
           f"the query for the patched module twin answered {str(found)[:300]}")
    served(registry.delete(device_id, if_match="*"), f"deleting {device_id}", statuses=(204,))
    after = query.items(text, "after the delete")
    expect("QUERY-MODULES-001", after == [], f"the query still finds the module of a deleted device: {after!r}")


# -- generated requests (schemathesis) over specs/2021-04-12/query.yaml ------------------------------------------

schema = openapi.load("query", "2021-04-12")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.fixture(scope="module")
def generated_scope(target, client):
    """Three devices (one with a module) whose ids every generated query names."""
    from iothub_conformance.surfaces.devices import Registry

    registry = Registry(client, "2021-04-12", target.name_prefix)
    ids = [registry.make("prop-query")[0] for _ in range(3)]
    Modules(registry).make(ids[0], "prop")
    yield id_list(ids)
    registry.cleanup()


def scoped_queries(scope: str) -> list[str]:
    return [f"SELECT * FROM devices WHERE deviceId IN {scope}",
            f"SELECT * FROM devices WHERE deviceId IN {scope} AND tags.none = 1",
            f"SELECT * FROM devices.modules WHERE deviceId IN {scope}",
            f"SELECT deviceId, COUNT() AS n FROM devices WHERE deviceId IN {scope} GROUP BY deviceId"]


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_queries_conform_to_the_spec_and_checks(case, query_allowed, generated_scope, client):
    # A generated query text could select any device, and a generated token is no token: the text becomes one of
    # the run's own queries (picked by the generated one), and the page size is kept.
    if isinstance(case.body, dict):
        queries = scoped_queries(generated_scope)
        picked = zlib.crc32(str(case.body.get("query")).encode("utf-8", "surrogatepass")) % len(queries)
        case.body["query"] = queries[picked]
    if case.headers:
        case.headers.pop("x-ms-continuation", None)
    conforms(case, cases.send(client, case), "COMMON-SPEC-001")

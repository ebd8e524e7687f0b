"""Configurations (automatic device management) and applyConfigurationContent at api-version 2021-04-12
(docs/sources/service-2021-04-12.json, Configuration_*; docs/sources/INVENTORY-2021-04-12.md §2.8, §6, §9, §10;
docs/sources/iot-hub-automatic-device-management__2019-12-13_01a0b363.md). Property tests over
specs/2021-04-12/configurations.yaml.

Every configuration here targets only this run's devices (surfaces/configurations.py refuses any other), and is
deleted at the end of its test.

PYTEST_DONT_REWRITE: failures here are RequirementFailures that say what the target did (no bare assert).
"""

import time

import pytest
from hypothesis import HealthCheck, settings

from iothub_conformance.checks import conditional
from iothub_conformance.checks.spec import conforms
from iothub_conformance.http import cases
from iothub_conformance.rules.failures import PreconditionFailed, answered, expect, json_of
from iothub_conformance.surfaces import openapi
from iothub_conformance.surfaces.configurations import Configurations, metric
from iothub_conformance.surfaces.twins import Twins, id_list, literal, user_properties

pytestmark = pytest.mark.api_version("2021-04-12")

TAG = "cfgrun"  # the twin tag the configurations here target, set to a run-prefixed value
CONTENT = {"deviceContent": {"properties.desired.cfgconformance": {"setting": 1}}}


@pytest.fixture
def configurations(registry):
    made = Configurations(registry)
    yield made
    made.cleanup()


def on(device_ids: list[str]) -> str:
    return f"deviceId IN {id_list(device_ids)}"


def body(condition: str, priority: int = 10, **extra) -> dict:
    return {"labels": {"purpose": "conformance"}, "content": CONTENT, "targetCondition": condition,
            "priority": priority, **extra}


def later(clock) -> None:
    """Let the next write be at a later time than the last (the service's times have millisecond resolution)."""
    if clock is not None:
        clock.advance(2)
    else:
        time.sleep(1.1)


def tagged(twins: Twins, device_ids: list[str], value: str) -> None:
    for device_id in device_ids:
        twins.patched(device_id, {"tags": {TAG: value}}, what=f"to tag it {TAG}={value}")


@pytest.mark.requirement("CONFIG-PUT-001")
def test_a_create_answers_and_stores_the_configuration(configurations, registry, profile_rule):
    statuses = profile_rule("configuration_put_statuses")["create"]
    device_id, _ = registry.make("cfgput")
    configuration_id = configurations.name("put")
    sent = body(on([device_id]), priority=7, labels={"purpose": "conformance", "version": "1"})
    response = configurations.put(configuration_id, {"id": configuration_id, **sent})
    made = json_of(response)
    expect("CONFIG-PUT-001", response.status_code in statuses and isinstance(made, dict),
           f"PUT of a new configuration: {answered(response)}, expected one of {sorted(statuses)}")
    stored = configurations.read(configuration_id, "after its create")
    for label, seen in (("the PUT answered", made), ("GET answers", stored)):
        expect("CONFIG-PUT-001", seen.get("id") == configuration_id, f"{label} id {seen.get('id')!r}")
        for name in ("labels", "content", "targetCondition", "priority"):
            expect("CONFIG-PUT-001", seen.get(name) == sent[name],
                   f"{label} {name} {seen.get(name)!r}, sent {sent[name]!r}")
        for name in ("createdTimeUtc", "lastUpdatedTimeUtc", "etag"):
            expect("CONFIG-PUT-001", isinstance(seen.get(name), str) and seen[name], f"{label} {name} "
                                                                                     f"{seen.get(name)!r}")
    expect("CONFIG-PUT-001", stored.get("etag") == made.get("etag"),
           f"GET answers etag {stored.get('etag')!r}, the PUT {made.get('etag')!r}")


@pytest.mark.requirement("CONFIG-PUT-002")
def test_an_update_changes_what_the_page_lets_change(configurations, registry, profile_rule, clock_if_any):
    statuses = profile_rule("configuration_put_statuses")["update"]
    first, _ = registry.make("cfgupd")
    second, _ = registry.make("cfgupd")
    made = configurations.make("upd", body(on([first]), priority=3))
    later(clock_if_any)
    changed = body(on([first, second]), priority=9, labels={"purpose": "changed"},
                   metrics={"queries": {"tagged": f"SELECT deviceId FROM devices WHERE {on([second])}"}})
    response = configurations.put(made["id"], {"id": made["id"], **changed}, if_match="*")
    expect("CONFIG-PUT-002", response.status_code in statuses,
           f"PUT of an existing configuration: {answered(response)}, expected one of {sorted(statuses)}")
    stored = configurations.read(made["id"], "after its update")
    for name in ("labels", "targetCondition", "priority"):
        expect("CONFIG-PUT-002", stored.get(name) == changed[name], f"{name} reads {stored.get(name)!r} after the "
                                                                    f"update to {changed[name]!r}")
    queries = (stored.get("metrics") or {}).get("queries")
    expect("CONFIG-PUT-002", queries == changed["metrics"]["queries"], f"metrics.queries reads {queries!r}")
    expect("CONFIG-PUT-002", stored.get("createdTimeUtc") == made.get("createdTimeUtc"),
           f"createdTimeUtc moved from {made.get('createdTimeUtc')!r} to {stored.get('createdTimeUtc')!r}")
    expect("CONFIG-PUT-002", str(stored.get("lastUpdatedTimeUtc")) >= str(made.get("lastUpdatedTimeUtc")),
           f"lastUpdatedTimeUtc went back from {made.get('lastUpdatedTimeUtc')!r} to "
           f"{stored.get('lastUpdatedTimeUtc')!r}")
    expect("CONFIG-PUT-002", stored.get("etag") != made.get("etag"), f"the update kept the etag {made.get('etag')!r}")


@pytest.mark.requirement("CONFIG-GET-001")
def test_a_configuration_that_does_not_exist_is_404_configuration_not_found(configurations):
    missing = configurations.name("missing")
    for label, response in (("GET", configurations.get(missing)), ("DELETE", configurations.delete(missing))):
        expect("CONFIG-GET-001", response.status_code == 404, f"{label} of a configuration that does not exist: "
                                                              f"{answered(response)}, expected 404")
        code = response.headers.get("iothub-errorcode")
        expect("CONFIG-GET-001", code == "ConfigurationNotFound", f"{label}: 404 names {code!r}, expected "
                                                                  "ConfigurationNotFound")


@pytest.mark.requirement("CONFIG-IMMUTABLE-001")
def test_the_content_cannot_be_updated(configurations, registry):
    device_id, _ = registry.make("cfgimm")
    made = configurations.make("imm", body(on([device_id])))
    other = {"deviceContent": {"properties.desired.cfgconformance": {"setting": 2}}}
    response = configurations.put(made["id"], {**made, "content": other}, if_match="*")
    expect("CONFIG-IMMUTABLE-001", 400 <= response.status_code < 500,
           f"PUT changing the content: {answered(response)}, expected a 4xx (content cannot be updated)")
    stored = configurations.read(made["id"], "after the refused update")
    expect("CONFIG-IMMUTABLE-001", (stored.get("content"), stored.get("etag")) == (made.get("content"), made["etag"]),
           f"the refused update changed the configuration: content {stored.get('content')!r}")


def if_match(etag: str, form: str) -> str:
    return {"quoted": f'"{etag}"', "as-given": etag, "*": "*", '"*"': '"*"'}[form]


@pytest.mark.requirement("CONFIG-COND-001")
def test_a_stale_if_match_is_412_and_changes_nothing(configurations, registry, profile_rule):
    forms = [form for form in profile_rule("configuration_if_match_forms") if "*" not in form]
    device_id, _ = registry.make("cfgstale")
    made = configurations.make("stale", body(on([device_id])))
    current = json_of(configurations.put(made["id"], {**made, "labels": {"state": "kept"}}, if_match="*"))
    if not isinstance(current, dict) or current.get("etag") in (None, made["etag"]):
        raise PreconditionFailed(f"the update before the stale writes gave no new etag: {str(current)[:200]}")
    for form in forms:
        stale = if_match(made["etag"], form)
        for label, response in (
                ("PUT", configurations.put(made["id"], {**made, "labels": {"state": "changed"}}, if_match=stale)),
                ("DELETE", configurations.delete(made["id"], if_match=stale))):
            expect("CONFIG-COND-001", response.status_code == 412,
                   f"{label} with a stale If-Match {stale}: {answered(response)}, expected 412")
            after = configurations.read(made["id"], f"after the stale {label}")
            expect("CONFIG-COND-001", (after.get("etag"), after.get("labels")) == (current["etag"], current["labels"]),
                   f"the refused {label} changed the configuration: etag {current['etag']} → {after.get('etag')}, "
                   f"labels {after.get('labels')!r}")


@pytest.mark.requirement("CONFIG-COND-002")
def test_the_current_etag_and_the_wildcard_apply_in_each_form(configurations, registry, profile_rule):
    forms = profile_rule("configuration_if_match_forms")
    statuses = profile_rule("configuration_put_statuses")["update"]
    device_id, _ = registry.make("cfgcur")
    for n, form in enumerate(forms):
        made = configurations.make("cur", body(on([device_id])))
        condition = if_match(made["etag"], form)
        response = configurations.put(made["id"], {**made, "labels": {"form": f"f{n}"}}, if_match=condition)
        expect("CONFIG-COND-002", response.status_code in statuses,
               f"PUT with If-Match {condition}: {answered(response)}, expected one of {sorted(statuses)}")
        stored = configurations.read(made["id"], f"after the PUT with If-Match {condition}")
        expect("CONFIG-COND-002", stored.get("labels") == {"form": f"f{n}"},
               f"PUT with If-Match {condition} answered {response.status_code} but labels read {stored.get('labels')!r}")
        response = configurations.delete(made["id"], if_match=if_match(str(stored.get("etag")), form))
        expect("CONFIG-COND-002", response.status_code == 204,
               f"DELETE with If-Match in the form {form}: {answered(response)}, expected 204")


@pytest.mark.requirement("CONFIG-DELETE-001")
def test_a_delete_is_204_and_the_configuration_is_gone(configurations, registry):
    device_id, _ = registry.make("cfgdel")
    made = configurations.make("del", body(on([device_id])))
    response = configurations.delete(made["id"])
    expect("CONFIG-DELETE-001", response.status_code == 204, f"DELETE: {answered(response)}, expected 204")
    after = configurations.get(made["id"])
    expect("CONFIG-DELETE-001", after.status_code == 404, f"GET after the DELETE: {answered(after)}, expected 404")
    listed = json_of(configurations.list())
    ids = [item.get("id") for item in listed if isinstance(item, dict)] if isinstance(listed, list) else None
    expect("CONFIG-DELETE-001", ids is not None and made["id"] not in ids,
           f"the list after the DELETE still holds {made['id']}" if ids else f"the list answered {str(listed)[:200]}")


@pytest.mark.requirement("CONFIG-LIST-001")
def test_the_list_holds_the_new_configurations_and_top_bounds_it(configurations, registry):
    device_id, _ = registry.make("cfglist")
    ours = [configurations.make("list", body(on([device_id])))["id"] for _ in range(2)]
    response = configurations.list()
    listed = json_of(response)
    expect("CONFIG-LIST-001", response.status_code == 200 and isinstance(listed, list),
           f"GET /configurations: {answered(response)}, expected 200 with an array")
    ids = [item.get("id") for item in listed if isinstance(item, dict)]
    expect("CONFIG-LIST-001", all(i in ids for i in ours), f"the list lacks {[i for i in ours if i not in ids]}")
    top = configurations.list(top=1)
    one = json_of(top)
    expect("CONFIG-LIST-001", top.status_code == 200 and isinstance(one, list) and len(one) <= 1,
           f"GET /configurations?top=1: {answered(top)}, expected at most 1 configuration"
           + (f", got {len(one)}" if isinstance(one, list) else ""))


@pytest.mark.requirement("CONFIG-ID-001")
def test_an_id_the_page_does_not_allow_is_400_and_creates_nothing(configurations, registry):
    device_id, _ = registry.make("cfgid")
    base = configurations.name("id")
    bad = [base + "-Upper", base + "-a b", *(f"{base}-a{c}b" for c in "&^[]{}\\|\"<>"), base + "x" * (129 - len(base))]
    for configuration_id in bad:
        response = configurations.put(configuration_id, {"id": configuration_id, **body(on([device_id]))})
        expect("CONFIG-ID-001", response.status_code == 400,
               f"PUT of configuration {configuration_id[-24:]!r}: {answered(response)}, expected 400")
        after = configurations.get(configuration_id)
        expect("CONFIG-ID-001", after.status_code != 200, f"the refused id {configuration_id[-24:]!r} was created")


@pytest.mark.requirement("CONFIG-TARGET-001")
def test_a_target_condition_the_language_refuses_is_400(configurations, registry):
    device_id, _ = registry.make("cfgtarget")
    for condition in (f"{on([device_id])} AND", f"{on([device_id])} AND tags.{TAG} = = {literal(device_id)}"):
        configuration_id = configurations.name("target")
        response = configurations.put(configuration_id, {"id": configuration_id, **body(condition)})
        expect("CONFIG-TARGET-001", response.status_code == 400,
               f"PUT with targetCondition {condition[-40:]!r}: {answered(response)}, expected 400")
        after = configurations.get(configuration_id)
        expect("CONFIG-TARGET-001", after.status_code == 404,
               f"GET after the refused create: {answered(after)}, expected 404")


@pytest.mark.requirement("CONFIG-METRIC-001")
def test_more_than_five_custom_metrics_is_400(configurations, registry):
    device_id, _ = registry.make("cfgmetric")
    queries = {f"m{n}": f"SELECT deviceId FROM devices WHERE {on([device_id])}" for n in range(6)}
    configuration_id = configurations.name("metric")
    response = configurations.put(configuration_id, {"id": configuration_id,
                                                     **body(on([device_id]), metrics={"queries": queries})})
    expect("CONFIG-METRIC-001", response.status_code == 400,
           f"PUT with six custom metrics: {answered(response)}, expected 400")
    after = configurations.get(configuration_id)
    expect("CONFIG-METRIC-001", after.status_code == 404, f"GET after the refused create: {answered(after)}")
    five = dict(list(queries.items())[:5])
    made = configurations.make("metric", body(on([device_id]), metrics={"queries": five}))
    expect("CONFIG-METRIC-001", len((made.get("metrics") or {}).get("queries") or {}) == 5,
           f"the create with five metrics answered {str(made.get('metrics'))[:200]}")


def counts(configuration: dict) -> tuple[int | None, int | None]:
    results = (configuration.get("systemMetrics") or {}).get("results")
    return metric(results, "targeted"), metric(results, "applied")


@pytest.mark.requirement("CONFIG-SYS-001")
def test_system_metrics_count_targeted_and_applied_by_priority(configurations, registry, clock_if_any):
    first, _ = registry.make("cfgsys")
    second, _ = registry.make("cfgsys")
    twins = Twins(registry)
    value = registry.name("cfgsys-tag")
    tagged(twins, [first, second], value)
    low = configurations.make("sys", body(f"tags.{TAG} = {literal(value)}", priority=10))
    high = configurations.make("sys", body(on([second]), priority=20))
    later(clock_if_any)
    newest = configurations.make("sys", body(on([second]), priority=20))
    expected = {low["id"]: (2, 1), high["id"]: (1, 0), newest["id"]: (1, 1)}
    for configuration_id, wanted in expected.items():
        seen = configurations.settle(configuration_id, lambda c, w=wanted: counts(c) == w, clock_if_any)
        expect("CONFIG-SYS-001", counts(seen) == wanted,
               f"configuration {configuration_id} counts (targeted, applied) {counts(seen)}, expected {wanted}: "
               "two devices tagged for priority 10, the second also targeted at priority 20 twice, the newer winning")


@pytest.mark.requirement("CONFIG-CUSTOM-001")
def test_custom_metrics_count_the_rows_of_their_queries(configurations, registry, clock_if_any):
    first, _ = registry.make("cfgcustom")
    second, _ = registry.make("cfgcustom")
    value = registry.name("cfgcustom-tag")
    tagged(Twins(registry), [first, second], value)
    queries = {"both": f"SELECT deviceId FROM devices WHERE tags.{TAG} = {literal(value)}",
               "first": f"SELECT deviceId FROM devices WHERE {on([first])}",
               "none": f"SELECT deviceId FROM devices WHERE tags.{TAG} = {literal(value + '-none')}"}
    made = configurations.make("custom", body(on([first, second]), metrics={"queries": queries}))
    wanted = {"both": 2, "first": 1, "none": 0}

    def results(configuration: dict) -> object:
        return (configuration.get("metrics") or {}).get("results")

    seen = configurations.settle(made["id"], lambda c: results(c) == wanted, clock_if_any)
    expect("CONFIG-CUSTOM-001", results(seen) == wanted, f"metrics.results reads {results(seen)!r}, expected "
                                                         f"{wanted} (rows of each query)")


@pytest.mark.requirement("CONFIG-RUN-001")
def test_a_device_tagged_after_the_create_is_counted_at_the_next_run(configurations, registry, clock_if_any):
    """The stateful link: create a configuration, tag a device's twin to match, see the metrics count it, delete."""
    device_id, _ = registry.make("cfgrun")
    value = registry.name("cfgrun-tag")
    made = configurations.make("run", body(f"tags.{TAG} = {literal(value)}"))
    first = configurations.settle(made["id"], lambda c: counts(c)[0] == 0, clock_if_any)
    if counts(first)[0] != 0:
        raise PreconditionFailed(f"before any device is tagged the configuration counts {counts(first)}")
    tagged(Twins(registry), [device_id], value)
    seen = configurations.settle(made["id"], lambda c: counts(c) == (1, 1), clock_if_any)
    expect("CONFIG-RUN-001", counts(seen) == (1, 1),
           f"after {device_id} was tagged to match, (targeted, applied) reads {counts(seen)} past the next run, "
           "expected (1, 1)")
    response = configurations.delete(made["id"])
    expect("CONFIG-RUN-001", response.status_code == 204, f"the DELETE at the end: {answered(response)}")


# -- the content in the twins (the page: the target content "defines the desired properties to be added or updated in
# the targeted device twins") ------------------------------------------------------------------------------------------


def setting(path: str, value: object) -> dict:
    return {"deviceContent": {f"properties.desired.{path}": value}}


def desired_of(twins: Twins, device_ids: list[str]) -> dict[str, dict]:
    return {device_id: user_properties(twins.read(device_id)["properties"].get("desired"))
            for device_id in device_ids}


@pytest.mark.requirement("CONFIG-CONTENT-001")
def test_the_content_reaches_the_targeted_twins_and_no_other(configurations, registry, clock_if_any):
    first, _ = registry.make("cfgcontent")
    second, _ = registry.make("cfgcontent")
    outside, _ = registry.make("cfgcontent")
    late, _ = registry.make("cfgcontent")
    twins = Twins(registry)
    value = registry.name("cfgcontent-tag")
    tagged(twins, [first, second], value)
    wanted = {"setting": value}
    made = configurations.make("content", {**body(f"tags.{TAG} = {literal(value)}"),
                                           "content": setting("cfgcontent", wanted)})
    seen = configurations.until(lambda: desired_of(twins, [first, second, outside]),
                                lambda d: d[first].get("cfgcontent") == wanted == d[second].get("cfgcontent"),
                                clock_if_any, (made["id"],))
    for device_id in (first, second):
        expect("CONFIG-CONTENT-001", seen[device_id].get("cfgcontent") == wanted,
               f"the targeted twin {device_id} reads desired.cfgcontent {seen[device_id].get('cfgcontent')!r} past "
               f"the configuration's first run, expected {wanted!r}")
    expect("CONFIG-CONTENT-001", "cfgcontent" not in seen[outside],
           f"the twin {outside}, which the target condition does not select, reads desired.cfgcontent "
           f"{seen[outside].get('cfgcontent')!r}")
    tagged(twins, [late], value)
    after = configurations.until(lambda: desired_of(twins, [late]), lambda d: d[late].get("cfgcontent") == wanted,
                                 clock_if_any, (made["id"],))
    expect("CONFIG-CONTENT-001", after[late].get("cfgcontent") == wanted,
           f"the twin {late}, tagged to match after the create, reads desired.cfgcontent "
           f"{after[late].get('cfgcontent')!r} past the next run, expected {wanted!r}")


@pytest.mark.requirement("CONFIG-CONTENT-002")
def test_the_highest_priority_and_on_a_tie_the_newest_configuration_sets_a_path(configurations, registry,
                                                                               clock_if_any):
    device_id, _ = registry.make("cfgprio")
    twins = Twins(registry)
    made = [configurations.make("prio", {**body(on([device_id]), priority=40),
                                         "content": setting("cfgtie", "older")})]
    later(clock_if_any)
    made.append(configurations.make("prio", {**body(on([device_id]), priority=40),
                                             "content": setting("cfgtie", "newer")}))
    # the lower priority created last: its own run must not take the path from the higher one
    made.append(configurations.make("prio", {**body(on([device_id]), priority=20),
                                             "content": setting("cfgprio", "high")}))
    later(clock_if_any)
    made.append(configurations.make("prio", {**body(on([device_id]), priority=5), "content": setting("cfgprio", "low")}))
    wanted = {"cfgprio": "high", "cfgtie": "newer"}

    def held(d: dict) -> dict:
        return {name: d[device_id].get(name) for name in wanted}

    seen = configurations.until(lambda: desired_of(twins, [device_id]), lambda d: held(d) == wanted, clock_if_any,
                                tuple(c["id"] for c in made))
    expect("CONFIG-CONTENT-002", held(seen) == wanted,
           f"the twin reads {held(seen)!r} past the runs, expected {wanted!r}: cfgtie set by two of priority 40, "
           "cfgprio at priority 20 and then 5 (created last)")


@pytest.mark.requirement("CONFIG-CONTENT-003")
def test_a_twin_that_leaves_the_scope_loses_the_settings_and_takes_the_next_configuration(configurations, registry,
                                                                                         clock_if_any):
    leaving, _ = registry.make("cfgleave")
    staying, _ = registry.make("cfgleave")
    twins = Twins(registry)
    low = configurations.make("leave", {**body(on([leaving, staying]), priority=5),
                                        "content": setting("cfgleave", "low")})
    content = {"deviceContent": {"properties.desired.cfgleave": "high", "properties.desired.cfgonly": "high"}}
    high = configurations.make("leave", {**body(on([leaving, staying]), priority=20), "content": content})
    reading = (low["id"], high["id"])
    first = {"cfgleave": "high", "cfgonly": "high"}

    def held(d: dict, device_id: str) -> dict:
        return {name: d[device_id].get(name) for name in first}

    before = configurations.until(lambda: desired_of(twins, [leaving]), lambda d: held(d, leaving) == first,
                                  clock_if_any, reading)
    if held(before, leaving) != first:
        raise PreconditionFailed(f"the twin {leaving} never held the higher configuration's content: "
                                 f"{held(before, leaving)!r}")
    response = configurations.put(high["id"], {**high, "targetCondition": on([staying])}, if_match=high["etag"])
    if response.status_code not in (200, 201):
        raise PreconditionFailed(f"could not update the target condition: {answered(response)}")
    wanted = {"cfgleave": "low", "cfgonly": None}
    seen = configurations.until(lambda: desired_of(twins, [leaving, staying]), lambda d: held(d, leaving) == wanted,
                                clock_if_any, reading)
    expect("CONFIG-CONTENT-003", held(seen, leaving) == wanted,
           f"{leaving}, no longer targeted by the priority-20 configuration, reads {held(seen, leaving)!r}, expected "
           f"{wanted!r}: its settings removed, cfgleave from the priority-5 configuration")
    expect("CONFIG-CONTENT-003", held(seen, staying) == first,
           f"{staying}, still targeted, reads {held(seen, staying)!r}, expected {first!r}")


@pytest.mark.requirement("CONFIG-CONTENT-004")
def test_a_delete_hands_the_twins_to_the_next_configuration(configurations, registry, clock_if_any):
    device_id, _ = registry.make("cfgdel")
    twins = Twins(registry)
    low = configurations.make("del", {**body(on([device_id]), priority=5), "content": setting("cfgdel", "low")})
    high = configurations.make("del", {**body(on([device_id]), priority=20), "content": setting("cfgdel", "high")})

    def held(d: dict) -> object:
        return d[device_id].get("cfgdel")

    before = configurations.until(lambda: desired_of(twins, [device_id]), lambda d: held(d) == "high", clock_if_any,
                                  (low["id"], high["id"]))
    if held(before) != "high":
        raise PreconditionFailed(f"the twin never held the higher configuration's content: {held(before)!r}")
    response = configurations.delete(high["id"])
    if response.status_code != 204:
        raise PreconditionFailed(f"could not delete the higher configuration: {answered(response)}")
    seen = configurations.until(lambda: desired_of(twins, [device_id]), lambda d: held(d) == "low", clock_if_any,
                                (low["id"],))
    expect("CONFIG-CONTENT-004", held(seen) == "low",
           f"after the priority-20 configuration was deleted the twin reads desired.cfgdel {held(seen)!r} past the "
           "next run, expected 'low' (the next highest priority configuration's)")


@pytest.mark.requirement("CONFIG-CUSTOM-002")
def test_a_metric_on_the_configuration_status_counts_the_twins_it_was_applied_to(configurations, registry,
                                                                                clock_if_any):
    first, _ = registry.make("cfgstatus")
    second, _ = registry.make("cfgstatus")
    registry.make("cfgstatus")  # a third device, not targeted
    configuration_id = configurations.name("status")
    status = f"SELECT deviceId FROM devices WHERE configurations.[[{configuration_id}]].status = 'Applied'"
    tested = configurations.test_queries({"targetCondition": on([first, second]),
                                          "customMetricQueries": {"applied": status}})
    errors = (json_of(tested) or {}).get("customMetricQueryErrors") if isinstance(json_of(tested), dict) else None
    expect("CONFIG-CUSTOM-002", tested.status_code == 200 and not errors,
           f"testQueries of {status!r}: {answered(tested)}")
    response = configurations.put(configuration_id, {"id": configuration_id, **body(on([first, second])),
                                                     "content": setting("cfgstatus", 1),
                                                     "metrics": {"queries": {"applied": status}}})
    expect("CONFIG-CUSTOM-002", response.status_code in (200, 201), f"PUT with the status metric: {answered(response)}")

    def result(configuration: dict) -> object:
        return ((configuration.get("metrics") or {}).get("results") or {}).get("applied")

    seen = configurations.settle(configuration_id, lambda c: result(c) == 2, clock_if_any)
    expect("CONFIG-CUSTOM-002", result(seen) == 2,
           f"the metric {status!r} reads {result(seen)!r}, expected 2 (the two targeted twins)")


@pytest.mark.requirement("CONFIG-TEST-001")
def test_test_queries_names_the_errors_of_the_queries(configurations, registry):
    device_id, _ = registry.make("cfgtest")
    good = {"targetCondition": on([device_id]),
            "customMetricQueries": {"ok": f"SELECT deviceId FROM devices WHERE {on([device_id])}"}}
    response = configurations.test_queries(good)
    answer = json_of(response)
    expect("CONFIG-TEST-001", response.status_code == 200 and isinstance(answer, dict),
           f"testQueries: {answered(response)}, expected 200")
    errors = answer.get("customMetricQueryErrors") or {}
    expect("CONFIG-TEST-001", not answer.get("targetConditionError") and not any(errors.values()),
           f"valid queries answered errors: {str(answer)[:300]}")
    bad = {"targetCondition": f"{on([device_id])} AND",
           "customMetricQueries": {"ok": good["customMetricQueries"]["ok"], "bad": "SELECT deviceId FROM"}}
    response = configurations.test_queries(bad)
    answer = json_of(response)
    expect("CONFIG-TEST-001", response.status_code == 200 and isinstance(answer, dict),
           f"testQueries with bad queries: {answered(response)}, expected 200")
    errors = answer.get("customMetricQueryErrors") or {}
    expect("CONFIG-TEST-001", isinstance(answer.get("targetConditionError"), str) and answer["targetConditionError"],
           f"a bad target condition answered targetConditionError {answer.get('targetConditionError')!r}")
    expect("CONFIG-TEST-001", bool(errors.get("bad")) and not errors.get("ok"),
           f"customMetricQueryErrors reads {errors!r}, expected an error for 'bad' only")


EDGE_CONTENT = {"modulesContent": {"$edgeAgent": {"properties.desired": {"schemaVersion": "1.0"}},
                                   "$edgeHub": {"properties.desired": {"schemaVersion": "1.0"}}}}


@pytest.mark.requirement("CONFIG-APPLY-001")
def test_content_applies_to_an_edge_device(configurations, registry, profile_rule):
    statuses = profile_rule("apply_configuration_statuses")
    device_id, _ = registry.make("cfgedge", capabilities={"iotEdge": True})
    response = configurations.apply(device_id, EDGE_CONTENT)
    expect("CONFIG-APPLY-001", response.status_code in statuses,
           f"applyConfigurationContent: {answered(response)}, expected one of {sorted(statuses)}")


@pytest.mark.requirement("CONFIG-APPLY-002")
def test_content_for_an_unregistered_device_is_404(configurations, registry):
    registry.make("cfgedge", capabilities={"iotEdge": True})  # the operation is served: its 404 is about the device
    response = configurations.apply(registry.name("cfgnone"), EDGE_CONTENT)
    expect("CONFIG-APPLY-002", response.status_code == 404, f"applyConfigurationContent for an unregistered device: "
                                                            f"{answered(response)}, expected 404")
    code = response.headers.get("iothub-errorcode")
    expect("CONFIG-APPLY-002", code == "DeviceNotFound", f"the 404 names {code!r}, expected DeviceNotFound")


# -- generated requests (schemathesis) over specs/2021-04-12/configurations.yaml ---------------------------------

schema = openapi.load("configurations", "2021-04-12")
SETTINGS = settings(max_examples=openapi.max_examples(), deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=False)


@pytest.fixture(scope="module")
def generated_configurations(target, client):
    """An IoT Edge device for the generated requests and a client for their configurations, deleted afterwards."""
    from iothub_conformance.surfaces.devices import Registry

    registry = Registry(client, "2021-04-12", target.name_prefix)
    device_id, _ = registry.make("prop-cfg", capabilities={"iotEdge": True})
    made = Configurations(registry)
    yield {"device": device_id, "configurations": made}
    made.cleanup()
    registry.cleanup()


def own_configuration(case, generated: dict) -> None:
    """Every generated request names a configuration id or device of this run, and a body the pages allow, whose
    targetCondition selects the run's own device only."""
    made: Configurations = generated["configurations"]
    parameters = case.path_parameters or {}
    operation = case.operation.definition.raw.get("operationId")
    if operation == "Configuration_ApplyOnEdgeDevice":
        parameters["id"] = generated["device"]
        return
    if "id" in parameters:
        parameters["id"] = made.name("gen")
        if operation == "Configuration_CreateOrUpdate":
            made.created.append(parameters["id"])  # deleted with the rest, whatever the target answers
    body = case.body if isinstance(case.body, dict) else None
    if operation == "Configuration_CreateOrUpdate" and body is not None:
        body["id"] = parameters["id"]
        body["targetCondition"] = on([generated["device"]])
        body.pop("metrics", None)  # a generated text is no query; the metric tests send real ones
        body.pop("etag", None)
    if case.headers:
        case.headers.pop("If-Match", None)  # a create names no etag; the conditional tests judge If-Match


@pytest.mark.requirement("COMMON-SPEC-001", "COMMON-REQID-001", "COMMON-REQID-002")
@schema.parametrize()
@SETTINGS
def test_generated_configuration_requests_conform_to_the_spec_and_checks(case, generated_configurations, client):
    own_configuration(case, generated_configurations)
    # The identity's conditional-request probe reads an ETag header, which configurations do not carry (swagger).
    conforms(case, cases.send(client, case), "COMMON-SPEC-001", excluded_checks=[conditional.conditional_requests])


# Last: a target that keeps what it was asked to delete fills up here, not under the tests above.
@pytest.mark.requirement("CONFIG-COUNT-001")
def test_a_standard_hub_takes_at_most_100_configurations(configurations, registry, target):
    if not target.embedded:
        pytest.skip("filling a hub with 100 configurations takes over five minutes at the documented 20 "
                    "configuration operations a minute: tested on the embedded reference")
    listed = json_of(configurations.list(top=100))
    if not isinstance(listed, list) or len(listed) >= 100:
        raise PreconditionFailed(f"the hub's configurations could not be counted below 100: {str(listed)[:200]}")
    device_id = registry.name("cfgcount-none")  # names no device: the configurations target nothing
    for _ in range(100 - len(listed)):
        configurations.make("count", {"targetCondition": on([device_id]), "priority": 1})
    configuration_id = configurations.name("count")
    response = configurations.put(configuration_id, {"id": configuration_id, "targetCondition": on([device_id])})
    expect("CONFIG-COUNT-001", 400 <= response.status_code < 500,
           f"the create of configuration 101: {answered(response)}, expected a 4xx")
    expect("CONFIG-COUNT-001", configurations.get(configuration_id).status_code == 404,
           "configuration 101 was created")

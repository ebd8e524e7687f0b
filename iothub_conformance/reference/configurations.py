"""Configurations (automatic device and module management, api-version 2021-04-12): their state, the rules a
configuration body must meet, and the metrics the hub computes from its twins with the query engine.

Sources: docs/sources/service-2021-04-12.json (Configuration, ConfigurationContent, ConfigurationMetrics,
ConfigurationQueriesTestInput/Response, the error names of DeviceRegistryOperationError);
docs/sources/iot-hub-automatic-device-management__2019-12-13_01a0b363.md (id, labels, target condition, priority,
metrics, "run for the first time shortly after the configuration is created and then at five minute intervals");
docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md (100 configurations per standard hub);
docs/sources/INVENTORY-2021-04-12.md §2.8, §9.

Metrics are what the last run saw: a run happens at creation, at each update (inferred from "When you modify a
configuration, the changes immediately replicate") and then every RUN_INTERVAL seconds of the hub's clock, when a
configuration request arrives. targeted = the twins the target condition selects; applied = those of them for which
some path of this configuration's content is not also set by a configuration of higher rank that targets the same twin
(rank: priority, then the newest creation; the page: "which can include partial modifications"). The names
targetedCount and appliedCount are the reference's: no source in the repository spells them (the page says
"Targeted" and "Applied").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from . import query, twin_documents, twins

RUN_INTERVAL = 300.0  # "and then at five minute intervals"
MAX_CONFIGURATIONS = 100  # per basic or standard hub (quotas page)
MAX_CUSTOM_METRICS = 5  # "Each configuration can have up to five custom metrics"
MAX_ID = 128
MAX_TEXT = 8 * 1024  # the query engine's own bound on one query's text
INVALID_ID = re.compile(r"[A-Z\s&^\[\]{}\\|\"<>/]")  # "lowercase", no spaces, none of & ^ [ ] { } \ | " < > /
MODULES_CONDITION = re.compile(r"^\s*from\s+devices\.modules\s+where\s+", re.I)
TARGETED, APPLIED = "targetedCount", "appliedCount"
CONTENT_KINDS = ("deviceContent", "modulesContent", "moduleContent")
SCHEMA_VERSION = "1.0"

# Error names of the swagger's DeviceRegistryOperationError enum.
NOT_FOUND = "ConfigurationNotFound"
IMMUTABLE_CONTENT = "CannotModifyImmutableConfigurationContent"
COUNT_LIMIT = "ConfigurationCountLimitExceeded"
BAD_TARGET = "InvalidConfigurationTargetCondition"
BAD_CONTENT = "InvalidConfigurationContent"
BAD_METRICS = "InvalidConfigurationCustomMetricsQuery"
ARGUMENT_INVALID = "ArgumentInvalid"


class InvalidConfiguration(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Configuration:
    id: str
    etag: str
    created: float
    updated: float
    labels: dict[str, str]
    content: dict
    target_condition: str
    priority: int
    metric_queries: dict[str, str]
    last_run: float | None = None
    system_results: dict[str, int] = field(default_factory=dict)
    metric_results: dict[str, int] = field(default_factory=dict)
    order: int = 0  # creation order: breaks a tie of creation times
    targets: frozenset[tuple[str, ...]] | None = None  # the twins the last run's target condition selected
    # twin key → the content paths of this configuration the twin holds now (it won them when it last settled)
    applied: dict[tuple[str, ...], frozenset[tuple[str, ...]]] = field(default_factory=dict)


def utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def check_id(configuration_id: str) -> None:
    if not configuration_id or len(configuration_id) > MAX_ID or INVALID_ID.search(configuration_id):
        raise InvalidConfiguration(ARGUMENT_INVALID, f"configuration id {configuration_id[:140]!r} is not up to "
                                   f"{MAX_ID} lowercase characters without spaces or & ^ [ ] {{ }} \\ | \" < > /")


def target_query(condition: str) -> str:
    """The query text a target condition stands for; InvalidConfiguration when the engine refuses it."""
    text = condition.strip()
    if MODULES_CONDITION.match(text):
        built = f"SELECT * {text}"
    elif text == "*":
        built = "SELECT * FROM devices"
    else:
        built = f"SELECT * FROM devices WHERE {text}"
    try:
        query.parse(built)
    except query.InvalidQuery as exc:
        raise InvalidConfiguration(BAD_TARGET, f"targetCondition is not a condition over twins: {exc}") from None
    return built


def metric_problem(text: object) -> str | None:
    if not isinstance(text, str):
        return "a metric query must be a string"
    try:
        query.parse(text)
    except query.InvalidQuery as exc:
        return str(exc)
    return None


def _strings(value: object, what: str, code: str = ARGUMENT_INVALID) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise InvalidConfiguration(code, f"{what} must be an object of strings")
    return dict(value)


def read_content(value: object) -> dict:
    """ConfigurationContent: each of deviceContent, modulesContent, moduleContent an object (modulesContent's
    values objects too). Another member is ignored, as the service's JSON reader ignores members a model lacks
    (profile rule lenient_json_reader); the swagger's ConfigurationContent does not forbid them."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidConfiguration(BAD_CONTENT, "content must be an object")
    value = {kind: part for kind, part in value.items() if kind in CONTENT_KINDS}
    for kind, part in value.items():
        if part is None:
            continue
        if not isinstance(part, dict) or (kind == "modulesContent"
                                          and not all(isinstance(v, dict) for v in part.values())):
            raise InvalidConfiguration(BAD_CONTENT, f"content.{kind} must be an object of objects")
    return {kind: part for kind, part in value.items() if part is not None}


@dataclass(frozen=True)
class Input:
    """What a PUT body asks for."""

    labels: dict[str, str]
    content: dict | None  # None: the body names no content (an update keeps the stored one)
    target_condition: str
    priority: int
    metric_queries: dict[str, str]


def read_input(configuration_id: str, raw: bytes, max_metrics: int = MAX_CUSTOM_METRICS,
               check_target: bool = True) -> Input:
    """The body of a PUT; InvalidConfiguration (400) for what the swagger's schema or the pages refuse."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        raise InvalidConfiguration("IotHubFormatError", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidConfiguration("IotHubFormatError", "the body must be a Configuration object")
    if body.get("id") is not None and body["id"] != configuration_id:
        raise InvalidConfiguration(ARGUMENT_INVALID, "the body's id differs from the URI's")
    condition = body.get("targetCondition") or ""
    if not isinstance(condition, str) or len(condition) > MAX_TEXT:
        raise InvalidConfiguration(BAD_TARGET, "targetCondition must be a string")
    if condition.strip() and check_target:
        target_query(condition)
    priority = body.get("priority", 0)
    if priority is None:
        priority = 0
    if isinstance(priority, bool) or not isinstance(priority, int) or not -2**31 <= priority < 2**31:
        raise InvalidConfiguration(ARGUMENT_INVALID, "priority must be an int32")
    metrics = body.get("metrics")
    if metrics is not None and not isinstance(metrics, dict):
        raise InvalidConfiguration(BAD_METRICS, "metrics must be a ConfigurationMetrics object")
    queries = _strings((metrics or {}).get("queries"), "metrics.queries", BAD_METRICS)
    if len(queries) > max_metrics:
        raise InvalidConfiguration(BAD_METRICS, f"{len(queries)} custom metrics; at most {MAX_CUSTOM_METRICS}")
    for name, text in queries.items():
        problem = metric_problem(text)
        if problem:
            raise InvalidConfiguration(BAD_METRICS, f"metric {name[:64]!r}: {problem}")
    content = read_content(body["content"]) if body.get("content") is not None else None
    return Input(_strings(body.get("labels"), "labels"), content, condition, priority, queries)


def to_json(configuration: Configuration) -> dict:
    return {
        "id": configuration.id,
        "schemaVersion": SCHEMA_VERSION,
        "labels": dict(configuration.labels),
        "content": json.loads(json.dumps(configuration.content)),
        "targetCondition": configuration.target_condition,
        "createdTimeUtc": utc(configuration.created),
        "lastUpdatedTimeUtc": utc(configuration.updated),
        "priority": configuration.priority,
        "systemMetrics": {"results": dict(configuration.system_results), "queries": {}},
        "metrics": {"results": dict(configuration.metric_results), "queries": dict(configuration.metric_queries)},
        "etag": configuration.etag,
    }


# -- metrics ---------------------------------------------------------------------------------------------------------


def _rows(hub: Any, text: str) -> list[dict]:
    return query.run(hub, text, 10**6).items


def _keys(hub: Any, configuration: Configuration) -> set[tuple[str, ...]]:
    """The twins the target condition selects, by (deviceId,) or (deviceId, moduleId)."""
    if not configuration.target_condition.strip():
        return set()
    try:
        rows = _rows(hub, target_query(configuration.target_condition))
    except (InvalidConfiguration, query.InvalidQuery):
        return set()
    return {(str(row.get("deviceId")),) if row.get("moduleId") is None else (str(row.get("deviceId")),
                                                                              str(row["moduleId"]))
            for row in rows if isinstance(row, dict)}


def content_paths(content: dict) -> list[tuple[str, ...]]:
    """Each twin path the content sets: deviceContent's and moduleContent's keys, modulesContent's per module."""
    paths: list[tuple[str, ...]] = []
    for kind in ("deviceContent", "moduleContent"):
        paths += [tuple(key.split(".")) for key in (content.get(kind) or {})]
    for module, part in (content.get("modulesContent") or {}).items():
        paths += [(module, *key.split(".")) for key in part]
    return paths


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def rank(configuration: Configuration, oldest_wins: bool = False) -> tuple[int, float, int]:
    """Higher wins: "The highest numerical value is considered the highest priority. If two configurations have the
    same priority number, the one that was created most recently wins." (`oldest_wins`: a fault's reverse order)."""
    sign = -1 if oldest_wins else 1
    return configuration.priority, sign * configuration.created, sign * configuration.order


@dataclass(frozen=True)
class Rules:
    """How runs count (fault switches turn parts off)."""

    priority: bool = True  # False: appliedCount ignores configurations of higher rank
    oldest_wins: bool = False
    refresh: bool = True  # False: a configuration runs once, at its creation
    custom_metrics: bool = True  # False: every custom metric counts 0
    content: bool = True  # False: no content is written into twins
    content_by_rank: bool = True  # False: the configuration that runs writes its content whatever its rank
    remove_untargeted: bool = True  # False: a twin that leaves the scope keeps the configuration's settings
    fallback: bool = True  # False: a configuration settles only twins that enter or leave its own scope
    interval: float = RUN_INTERVAL  # seconds of the hub's clock between two runs (`serve --configuration-interval`)


def run(hub: Any, configuration: Configuration, now: float, rules: Rules = Rules()) -> None:
    """One run of the configuration: its system and custom metrics as the twins are now. Call under hub.lock."""
    targeted = _keys(hub, configuration)
    before = configuration.targets or frozenset()
    configuration.targets = frozenset(targeted)
    if rules.content:
        scope = targeted ^ before if not rules.fallback else targeted | set(configuration.applied)
        settle(hub, scope, rules, first=configuration)
    mine = content_paths(configuration.content)
    higher = [] if not rules.priority else [
        (other, _keys(hub, other)) for other in hub.configurations.values()
        if other.id != configuration.id and rank(other, rules.oldest_wins) > rank(configuration, rules.oldest_wins)]
    applied = 0
    for key in targeted:
        claimed = [path for other, keys in higher if key in keys for path in content_paths(other.content)]
        if any(not any(_overlap(path, taken) for taken in claimed) for path in mine):
            applied += 1
    configuration.system_results = {TARGETED: len(targeted), APPLIED: applied}
    results = {}
    for name, text in configuration.metric_queries.items():
        try:
            results[name] = len(_rows(hub, text)) if rules.custom_metrics else 0
        except query.InvalidQuery:
            results[name] = 0
    configuration.metric_results = results
    configuration.last_run = now


def run_due(hub: Any, now: float, rules: Rules = Rules()) -> None:
    """Run every configuration whose next run (rules.interval after its last) has come (one never run: at once).
    Call under hub.lock."""
    for configuration in hub.configurations.values():
        due = configuration.last_run is None or (rules.refresh and now >= configuration.last_run + rules.interval)
        if due:
            run(hub, configuration, now, rules)


# -- content: what reaches the twins -----------------------------------------------------------------------------------
# The page: the target content "defines the desired properties to be added or updated in the targeted device twins or
# module twins"; "If two or more configurations target the same twin path, the content from the highest priority
# configuration will apply"; a twin that "no longer meets the target condition": "the settings from the configuration
# will be removed and the twin will be modified by the next highest priority configuration"; on a delete "any device
# twins take on their next highest priority configuration". Content is written when a configuration runs (at its
# creation, at each update, then every RUN_INTERVAL), and at a delete (inferred: the page gives no time for it). What
# the page does not state is not done: a deleted configuration's settings are left in the twins ("no other settings
# are applied"), and modulesContent (IoT Edge deployments) is written into no twin.


def twin_settings(content: dict, key: tuple[str, ...]) -> dict[tuple[str, ...], Any]:
    """The settings a content gives one twin, by path: deviceContent for a device twin, moduleContent for a module
    twin; only paths into the desired properties ("the path to the JSON section within the twin desired properties")."""
    part = content.get("deviceContent" if len(key) == 1 else "moduleContent") or {}
    settings: dict[tuple[str, ...], Any] = {}
    for text, value in part.items():
        path = tuple(text.split("."))
        if path[:2] == ("properties", "desired") and (len(path) > 2 or isinstance(value, dict)):
            settings[path] = value
    return settings


def settle(hub: Any, keys: Any, rules: Rules = Rules(), first: Configuration | None = None,
           gone: Configuration | None = None) -> None:
    """Bring each twin of `keys` to the content its configurations give it: for each path, the configuration of the
    highest rank that targets the twin (as its last run saw) and sets it. A path a configuration newly wins is written;
    a path whose configuration stopped targeting the twin, and that no other configuration sets, is removed. `first`
    (under the content_by_rank fault) outranks every other; `gone`: a configuration just deleted. Call under hub.lock."""
    live = [c for c in hub.configurations.values() if c.targets is not None]
    ordered = sorted(live, key=lambda c: rank(c, rules.oldest_wins), reverse=True)
    if first is not None and not rules.content_by_rank:
        ordered = [first] + [c for c in ordered if c.id != first.id]
    for key in sorted(keys):
        previous = {path: c.id for c in [*live, *([gone] if gone else [])] for path in c.applied.get(key, ())}
        owners: dict[tuple[str, ...], Configuration] = {}
        for configuration in ordered:
            if key in (configuration.targets or ()):
                for path in twin_settings(configuration.content, key):
                    if not any(_overlap(path, taken) for taken in owners):
                        owners[path] = configuration
        patch: dict = {}
        for path, owner in owners.items():
            if previous.get(path) != owner.id:
                _put(patch, path[2:], twin_settings(owner.content, key)[path])
        by_id = {c.id: c for c in live}
        for path, owner_id in previous.items():
            left = by_id.get(owner_id)
            if rules.remove_untargeted and left is not None and key not in (left.targets or ()) \
                    and not any(_overlap(path, taken) for taken in owners):
                _put(patch, path[2:], None)
        for configuration in live:
            won = frozenset(path for path, owner in owners.items() if owner.id == configuration.id)
            if won:
                configuration.applied[key] = won
            else:
                configuration.applied.pop(key, None)
        if patch:
            _write(hub, key, patch)


def forget(hub: Any, configuration: Configuration, rules: Rules = Rules()) -> None:
    """After a delete: its twins take on their next highest priority configuration. Call under hub.lock, with the
    configuration already out of hub.configurations."""
    if rules.content and rules.fallback:
        settle(hub, set(configuration.applied), rules, gone=configuration)


def _put(patch: dict, path: tuple[str, ...], value: Any) -> None:
    """Set `value` at `path` in a nested desired-properties patch (an empty path: merge an object at the root)."""
    if not path:
        for name, item in (value or {}).items():
            _put(patch, (name,), item)
        return
    node = patch
    for name in path[:-1]:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[path[-1]] = json.loads(json.dumps(value))


def _write(hub: Any, key: tuple[str, ...], desired: dict) -> None:
    """The hub's own desired-property write, through the twin write path (etag, versions and $metadata move as for
    any write). A content the twin rules refuse (a key, a depth, a size) is not written."""
    twin = twin_documents.device_twin(hub, key[0]) if len(key) == 1 else twin_documents.module_twin(hub, *key)
    if twin is None:
        return
    try:
        patch = twins.read_patch({"properties": {"desired": desired}})
        twin_documents.store(hub, twin_documents.patched(hub, twin, patch))
    except twins.InvalidTwin:
        return


def created(hub: Any, configuration_id: str, wanted: Input, now: float) -> Configuration:
    order = max((c.order for c in hub.configurations.values()), default=0) + 1
    return Configuration(configuration_id, hub.next_etag(), now, now, wanted.labels, wanted.content or {},
                         wanted.target_condition, wanted.priority, wanted.metric_queries, order=order)


def updated(hub: Any, old: Configuration, wanted: Input, now: float, keep_etag: bool = False) -> Configuration:
    return replace(old, etag=old.etag if keep_etag else hub.next_etag(), updated=max(now, old.updated),
                   labels=wanted.labels, target_condition=wanted.target_condition, priority=wanted.priority,
                   metric_queries=wanted.metric_queries, last_run=None, applied=dict(old.applied),
                   content=old.content if wanted.content is None else wanted.content)


def test_queries(raw: bytes) -> dict:
    """ConfigurationQueriesTestResponse for a ConfigurationQueriesTestInput: an error text for each query the engine
    refuses, "" for a target condition it takes."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        raise InvalidConfiguration("IotHubFormatError", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidConfiguration("IotHubFormatError", "the body must be a ConfigurationQueriesTestInput object")
    condition = body.get("targetCondition")
    error = ""
    if condition is not None:
        if not isinstance(condition, str):
            error = "targetCondition must be a string"
        elif condition.strip():
            try:
                target_query(condition)
            except InvalidConfiguration as exc:
                error = exc.message
    queries = _strings(body.get("customMetricQueries"), "customMetricQueries")
    errors = {name: problem for name, text in queries.items() if (problem := metric_problem(text))}
    return {"targetConditionError": error, "customMetricQueryErrors": errors}

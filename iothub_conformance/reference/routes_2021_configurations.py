"""The routes api-version 2021-04-12 adds (app.py serves them first): configurations (automatic device management) and
applyConfigurationContent.

Sources: docs/sources/service-2021-04-12.json (Configuration_Get, Configuration_CreateOrUpdate, Configuration_Delete,
Configuration_GetConfigurations, Configuration_TestQueries, Configuration_ApplyOnEdgeDevice);
docs/sources/INVENTORY-2021-04-12.md §2.8, §6, §9, §10 (C3, C4, C30). No source states the permission these need
(INVENTORY-2021-04-12.md §1.3): the reference asks RegistryRead to read and RegistryWrite to write (inferred).
Every request is judged in this order: api-version → token → request validation (400) → existence (404) → If-Match
(412) → action. If-Match takes `*` and `"*"`, and an etag quoted or as given (the Python configuration manager sends
the body etag unquoted, INVENTORY-2021-04-12.md §6).
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import configurations as state
from .error_envelope import (
    ARGUMENT_INVALID,
    DEVICE_NOT_FOUND,
    FORMAT_ERROR,
    METHOD_NOT_ALLOWED,
    PRECONDITION_FAILED,
    error_response,
)
from .faults import switch
from .gate import admit
from .hub import Hub
from .identities import InvalidDevice, check_device_id_form
from .policies import REGISTRY_READ, REGISTRY_WRITE
from .responses import json_response

LABELS_DROPPED = switch("config-labels-dropped")
UPDATE_KEEPS_ETAG = switch("config-update-keeps-etag")
NOT_FOUND_NAMES_DEVICE = switch("config-not-found-names-device")
CONTENT_MUTABLE = switch("config-content-mutable")
IGNORE_IF_MATCH = switch("config-ignore-if-match")
UNQUOTED_IF_MATCH_STALE = switch("config-unquoted-if-match-stale")
DELETE_IGNORED = switch("config-delete-ignored")
LIST_IGNORES_TOP = switch("config-list-ignores-top")
ID_UNCHECKED = switch("config-id-unchecked")
TARGET_UNCHECKED = switch("config-target-unchecked")
METRICS_UNBOUNDED = switch("config-metrics-unbounded")
COUNT_UNBOUNDED = switch("config-count-unbounded")
APPLIED_IGNORES_PRIORITY = switch("config-applied-ignores-priority")
TIE_OLDEST_WINS = switch("config-tie-oldest-wins")
CUSTOM_METRIC_ZERO = switch("config-custom-metric-zero")
METRICS_NEVER_REFRESH = switch("config-metrics-never-refresh")
TEST_QUERIES_NO_ERRORS = switch("config-test-queries-no-errors")
APPLY_ANSWERS_200 = switch("config-apply-answers-200")
APPLY_UNKNOWN_DEVICE_204 = switch("config-apply-unknown-device-204")
CONTENT_NOT_APPLIED = switch("config-content-not-applied")
CONTENT_LAST_RUN_WINS = switch("config-content-last-run-wins")
CONTENT_KEPT_WHEN_UNTARGETED = switch("config-content-kept-when-untargeted")
DELETE_NO_FALLBACK = switch("config-delete-no-fallback")


def _admit(request: Request, permission: str) -> Response | None:
    hub: Hub = request.app.state.hub
    return admit(request, permission, versions=hub.current_api_versions)


def _condition(values: list[str]) -> tuple[bool, set[str]] | None:
    """(wildcard, etags) of an If-Match, or None for none (`""` alone counts as none, as for identities)."""
    text = ", ".join(values).strip()
    if not text or text == '""':
        return None
    wildcard, tags = False, set()
    for item in (part.strip() for part in text.split(",")):
        if item in ("*", '"*"'):
            wildcard = True
        elif item.startswith("W/"):
            continue  # a weak tag never matches (RFC 7232 §3.1: strong comparison)
        elif len(item) >= 2 and item[0] == item[-1] == '"':
            tags.add(item[1:-1])
        elif item:
            tags.add(item)  # the etag as given: the Python configuration manager sends it so (INVENTORY §6)
    return wildcard, tags


def _holds(hub: Hub, condition: tuple[bool, set[str]] | None, current: state.Configuration | None,
           request: Request) -> bool:
    if condition is None or hub.has(IGNORE_IF_MATCH):
        return True
    if current is None:
        return False
    wildcard, tags = condition
    if hub.has(UNQUOTED_IF_MATCH_STALE) and ", ".join(request.headers.getlist("if-match")).strip() == current.etag:
        return False
    return wildcard or current.etag in tags


def _rules(hub: Hub) -> state.Rules:
    return state.Rules(priority=not hub.has(APPLIED_IGNORES_PRIORITY), oldest_wins=hub.has(TIE_OLDEST_WINS),
                       refresh=not hub.has(METRICS_NEVER_REFRESH), custom_metrics=not hub.has(CUSTOM_METRIC_ZERO),
                       content=not hub.has(CONTENT_NOT_APPLIED), content_by_rank=not hub.has(CONTENT_LAST_RUN_WINS),
                       remove_untargeted=not hub.has(CONTENT_KEPT_WHEN_UNTARGETED),
                       fallback=not hub.has(DELETE_NO_FALLBACK), interval=hub.configuration_interval)


def _run_due(hub: Hub) -> None:
    """Every configuration due for a run runs (a new or updated one has never run: it runs now), writing its content
    into the twins it targets. Runs happen when a configuration request arrives: a twin read alone does not run them."""
    state.run_due(hub, hub.clock.now(), _rules(hub))


def _document(hub: Hub, configuration: state.Configuration) -> dict:
    document = state.to_json(configuration)
    if hub.has(LABELS_DROPPED):
        document["labels"] = {}
    return document


def _not_found(hub: Hub, configuration_id: str) -> Response:
    code = DEVICE_NOT_FOUND if hub.has(NOT_FOUND_NAMES_DEVICE) else state.NOT_FOUND
    return error_response(hub, 404, code, f"Configuration {configuration_id[:140]!r} not found")


async def configuration(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    configuration_id = request.path_params["configuration_id"]
    if request.method in ("GET", "HEAD"):
        if refused := _admit(request, REGISTRY_READ):
            return refused
        with hub.lock:
            _run_due(hub)
            found = hub.configurations.get(configuration_id)
            document = None if found is None else _document(hub, found)
        return _not_found(hub, configuration_id) if document is None else json_response(hub, 200, document)
    if refused := _admit(request, REGISTRY_WRITE):
        return refused
    condition = _condition(request.headers.getlist("if-match"))
    if request.method == "DELETE":
        with hub.lock:
            found = hub.configurations.get(configuration_id)
            if found is None:
                return _not_found(hub, configuration_id)
            if not _holds(hub, condition, found, request):
                return error_response(hub, 412, PRECONDITION_FAILED, "Precondition failed: the configuration's etag "
                                                                     "did not match")
            if not hub.has(DELETE_IGNORED):
                del hub.configurations[configuration_id]
                state.forget(hub, found, _rules(hub))
        return Response(status_code=204)
    return await _put(request, hub, configuration_id, condition)


async def _put(request: Request, hub: Hub, configuration_id: str, condition) -> Response:
    try:
        if not hub.has(ID_UNCHECKED):
            state.check_id(configuration_id)
        wanted = state.read_input(configuration_id, await request.body(),
                                  10**3 if hub.has(METRICS_UNBOUNDED) else state.MAX_CUSTOM_METRICS,
                                  check_target=not hub.has(TARGET_UNCHECKED))
    except state.InvalidConfiguration as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        _run_due(hub)
        old = hub.configurations.get(configuration_id)
        if condition is not None and not _holds(hub, condition, old, request):
            return error_response(hub, 412, PRECONDITION_FAILED, "Precondition failed: the configuration's etag did "
                                                                 "not match")
        now = hub.clock.now()
        if old is None:
            if len(hub.configurations) >= state.MAX_CONFIGURATIONS and not hub.has(COUNT_UNBOUNDED):
                return error_response(hub, 403, state.COUNT_LIMIT, f"the hub holds {len(hub.configurations)} "
                                      f"configurations, at most {state.MAX_CONFIGURATIONS}")
            new = state.created(hub, configuration_id, wanted, now)
            status = 201
        else:
            if wanted.content is not None and _normal(wanted.content) != _normal(old.content) \
                    and not hub.has(CONTENT_MUTABLE):
                return error_response(hub, 400, state.IMMUTABLE_CONTENT, "Configuration content cannot be updated")
            new = state.updated(hub, old, wanted, now, keep_etag=hub.has(UPDATE_KEEPS_ETAG))
            status = 200
        hub.configurations[configuration_id] = new
        _run_due(hub)
        document = _document(hub, new)
    return json_response(hub, status, document)


def _normal(value: object) -> str:
    return json.dumps(value, sort_keys=True)


async def list_configurations(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := _admit(request, REGISTRY_READ):
        return refused
    values = request.query_params.getlist("top")
    top = state.MAX_CONFIGURATIONS
    if values:
        try:
            top = int(values[-1].strip())
        except ValueError:
            top = 0
        if not 1 <= top < 2**31:
            return error_response(hub, 400, ARGUMENT_INVALID, f"top {values[-1][:40]!r} is not an int32 of at least 1")
        # "Value will be overridden if greater than the maximum deployment count for the IoT Hub"
        top = min(top, state.MAX_CONFIGURATIONS)
    if hub.has(LIST_IGNORES_TOP):
        top = 10**6
    with hub.lock:
        _run_due(hub)
        listed = [_document(hub, c) for c in list(hub.configurations.values())[:top]]
    return json_response(hub, 200, listed)


async def test_queries(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := _admit(request, REGISTRY_READ):
        return refused
    try:
        answer = state.test_queries(await request.body())
    except state.InvalidConfiguration as exc:
        return error_response(hub, 400, exc.code, exc.message)
    if hub.has(TEST_QUERIES_NO_ERRORS):
        answer = {"targetConditionError": "", "customMetricQueryErrors": {}}
    return json_response(hub, 200, answer)


async def apply_content(request: Request) -> Response:
    """POST /devices/{id}/applyConfigurationContent: "Applies the configuration content to an edge device" (swagger).
    No source here says what the hub then does with the content, so the reference validates it and answers."""
    hub: Hub = request.app.state.hub
    device_id = request.path_params["device_id"]
    if refused := _admit(request, REGISTRY_WRITE):
        return refused
    try:
        check_device_id_form(device_id)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else None
        except (ValueError, RecursionError):
            return error_response(hub, 400, FORMAT_ERROR, "the request body is not valid JSON")
        if not isinstance(body, dict):
            return error_response(hub, 400, FORMAT_ERROR, "the body must be a ConfigurationContent object")
        state.read_content(body)
    except InvalidDevice as exc:
        return error_response(hub, 400, exc.code, exc.message)
    except state.InvalidConfiguration as exc:
        return error_response(hub, 400, exc.code, exc.message)
    with hub.lock:
        known = device_id in hub.devices
    if not known and not hub.has(APPLY_UNKNOWN_DEVICE_204):
        return error_response(hub, 404, DEVICE_NOT_FOUND, f"Device {device_id[:140]!r} not found")
    if hub.has(APPLY_ANSWERS_200):
        return json_response(hub, 200, {})
    return Response(status_code=204)


async def test_queries_other_method(request: Request) -> Response:
    """testQueries is an operation, not a configuration's id: another method there is 405, not a configuration call
    (Starlette would hand it to /configurations/{configuration_id})."""
    hub: Hub = request.app.state.hub
    return error_response(hub, 405, METHOD_NOT_ALLOWED, f"{request.method} is not allowed here", headers={"Allow": "POST"})


ROUTES: list[Route] = [
    Route("/configurations/testQueries", test_queries, methods=["POST"]),
    Route("/configurations/testQueries", test_queries_other_method, methods=["GET", "PUT", "DELETE", "PATCH"]),
    Route("/configurations", list_configurations, methods=["GET"]),
    Route("/configurations/{configuration_id}", configuration, methods=["GET", "PUT", "DELETE"]),
    Route("/devices/{device_id}/applyConfigurationContent", apply_content, methods=["POST"]),
]

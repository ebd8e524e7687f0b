"""The resource provider's handlers (ARM, api-version 2016-02-03; the rp__*.md pages and the ARM16 operations,
INVENTORY §2c).

Both path families are served whatever the profile; each speaks its own shapes and statuses. Where they share a path
(hub PUT/GET/DELETE and the two hub lists) the profile's `rp_dialect` chooses the shape. Every request is judged in
this order: route and method (Starlette, see app.py) → bearer token (401) → api-version (400) → body (400) →
existence (404) → preconditions (412) → action.

The operation URLs are the reference's choice (no page states their form): Azure-AsyncOperation points to
/subscriptions/{subscriptionId}/providers/Microsoft.Devices/operationStatuses/{operationId} and Location to
…/operationResults/{operationId}, each absolute (the request's scheme and host) and carrying api-version.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import import_export_jobs, resource_provider, rp_errors, rp_requests, rp_views
from .faults import switch
from .import_export_jobs import COMPLETED
from .resource_provider import (
    FAILED_STATUS,
    IN_PROGRESS,
    ManagedHub,
    Operation,
    ResourceProvider,
    new_etag,
)
from .rp_errors import RpError
from .rp_requests import API_VERSION, DEFAULT_GROUP, ENDPOINTS, HUB_NAME

RP_ACCEPT_ANY_TOKEN = switch("rp-accept-any-token")
RP_ACCEPT_MISSING_API_VERSION = switch("rp-accept-missing-api-version")
RP_CG_CREATE_IGNORED = switch("rp-cg-create-ignored")
RP_CG_DELETE_IGNORED = switch("rp-cg-delete-ignored")
RP_CG_MISSING_HUB_SUCCEEDS = switch("rp-cg-missing-hub-succeeds")
RP_CREATE_RETURNS_200 = switch("rp-create-returns-200")
RP_DELETE_IGNORES_IF_MATCH = switch("rp-delete-ignores-if-match")
RP_DELETE_NO_LOCATION = switch("rp-delete-no-location")
RP_ETAG_UNCHANGED_ON_UPDATE = switch("rp-etag-unchanged-on-update")
RP_EXPORT_NEVER_COMPLETES = switch("rp-export-never-completes")
RP_GET_REVEALS_KEYS = switch("rp-get-reveals-keys")
RP_IGNORE_IF_MATCH = switch("rp-ignore-if-match")
RP_IMPORT_IGNORES_BLOB = switch("rp-import-ignores-blob")
RP_KEYNAME_IGNORED = switch("rp-keyname-ignored")
RP_LISTKEYS_DROPS_POLICY = switch("rp-listkeys-drops-policy")
RP_NAME_ALWAYS_AVAILABLE = switch("rp-name-always-available")
RP_NEXTLINK_DROPPED = switch("rp-nextlink-dropped")
RP_NO_AUTH_REQUIRED = switch("rp-no-auth-required")
RP_NO_ETAG_HEADER = switch("rp-no-etag-header")
RP_PAGE_REPEATS_ITEM = switch("rp-page-repeats-item")
RP_PLAIN_ERRORS = switch("rp-plain-errors")
RP_QUOTA_VALUES_AS_STRINGS = switch("rp-quota-values-as-strings")
RP_STATE_AS_NAME = switch("rp-state-as-name")
RP_STATS_ZERO = switch("rp-stats-zero")
RP_SUCCEEDED_BEFORE_HUB_EXISTS = switch("rp-succeeded-before-hub-exists")
RP_UPDATE_IGNORED = switch("rp-update-ignored")
RP_WRITE_BEFORE_PRECONDITION = switch("rp-write-before-precondition")

JSON_TYPE = "application/json; charset=utf-8"
PROVIDER = "/subscriptions/{subscription_id}/providers/Microsoft.Devices"
GROUP = "/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.Devices/IotHubs"
HUB = GROUP + "/{name}"


def is_rp_path(path: str) -> bool:
    return path == "/subscriptions" or path.startswith("/subscriptions/")


# -- responses -------------------------------------------------------------------------------------------------------

def rp_json(status: int, payload, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    response = Response(body, status_code=status, headers=headers)
    response.headers["Content-Type"] = JSON_TYPE
    return response


def rp_error(rp: ResourceProvider, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """ARM16 ErrorDetails {Code, HttpStatusCode, Message, Details}, all strings (INVENTORY §2c, §4d)."""
    if rp.has(RP_PLAIN_ERRORS):
        return Response("error", status_code=status, headers=headers, media_type="text/plain")
    return rp_json(status, {"Code": code, "HttpStatusCode": str(status), "Message": message, "Details": ""}, headers)


def hub_response(rp: ResourceProvider, status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    """ARM16 IotHubDescription.etag: an etag in the body is also the ETag header (INVENTORY §2c)."""
    headers = dict(headers or {})
    properties = body.get("properties")
    if rp.has(RP_STATE_AS_NAME) and isinstance(properties, dict) and "state" in properties:
        body = {**body, "properties": {**properties, "state": "Active"}}  # as the real service names it
    if not rp.has(RP_NO_ETAG_HEADER):
        headers["ETag"] = f'"{body["etag"]}"'
    return rp_json(status, body, headers)


def operation_url(request: Request, operation: Operation, kind: str) -> str:
    """kind "operationStatuses" (Azure-AsyncOperation) or "operationResults" (Location)."""
    base = str(request.base_url).rstrip("/")
    return (f"{base}/subscriptions/{quote(operation.subscription_id, safe='')}/providers/Microsoft.Devices/{kind}/"
            f"{operation.operation_id}?api-version={API_VERSION}")


def accepted(request: Request, rp: ResourceProvider, operation: Operation, location: bool = True) -> Response:
    """202 with Location, Retry-After and Azure-AsyncOperation (rp__delete-an-iot-hub.md; INVENTORY §1)."""
    headers = {"Azure-AsyncOperation": operation_url(request, operation, "operationStatuses")}
    if location:
        headers["Location"] = operation_url(request, operation, "operationResults")
        headers["Retry-After"] = str(rp.retry_after(operation))
    return Response(status_code=202, headers=headers)


# -- the gate --------------------------------------------------------------------------------------------------------

def admit(request: Request) -> Response | None:
    """None when the request may proceed, else its 401 (token) or 400 (api-version; OBSERVED §4 names the codes)."""
    rp: ResourceProvider = request.app.state.rp
    header = request.headers.get("authorization")
    if header is None:
        if not rp.has(RP_NO_AUTH_REQUIRED):
            return rp_error(rp, 401, rp_errors.AUTHENTICATION_FAILED, "the request has no Authorization header",
                            {"WWW-Authenticate": "Bearer"})
    else:
        scheme, _, token = header.strip().partition(" ")
        accepted_token = rp.has(RP_ACCEPT_ANY_TOKEN) or secrets.compare_digest(
            token.strip().encode("utf-8", "replace"), rp.token.encode())
        if scheme.lower() != "bearer" or not accepted_token:
            return rp_error(rp, 401, rp_errors.INVALID_TOKEN, "the bearer token is not valid for this resource provider",
                            {"WWW-Authenticate": "Bearer"})
    values = request.query_params.getlist("api-version")
    if not values:
        if not rp.has(RP_ACCEPT_MISSING_API_VERSION):
            return rp_error(rp, 400, rp_errors.MISSING_API_VERSION,
                            f"the api-version query parameter is required (supported: {API_VERSION})")
    elif any(value != API_VERSION for value in values):
        wrong = next(value for value in values if value != API_VERSION)
        return rp_error(rp, 400, rp_errors.UNSUPPORTED_API_VERSION,
                        f"api-version {wrong[:40]!r} is not supported (supported: {API_VERSION})")
    return None


Handler = Callable[[Request, ResourceProvider], Awaitable[Response]]


def handler(func: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The gate, then the handler; an RpError becomes its ErrorDetails response."""

    async def endpoint(request: Request) -> Response:
        rp: ResourceProvider = request.app.state.rp
        if refused := admit(request):
            return refused
        try:
            return await func(request, rp)
        except RpError as exc:
            return rp_error(rp, exc.status, exc.code, exc.message)

    endpoint.__name__ = func.__name__
    return endpoint


def dialect(rp: ResourceProvider) -> str:
    return rp.profile.value("rp_dialect")


def where(request: Request) -> tuple[str, str, str]:
    params = request.path_params
    return params["subscription_id"], params["resource_group"], params["name"]


def existing(request: Request, rp: ResourceProvider) -> ManagedHub:
    """The addressed hub (call under rp.lock); 404 when there is none (every page: "Returns 404 if the IoT hub is
    not found")."""
    found = rp.find(*where(request))
    if found is None:
        raise hub_not_found(request)
    return found


def hub_not_found(request: Request) -> RpError:
    _, group, name = where(request)
    return RpError(404, rp_errors.RESOURCE_NOT_FOUND, f"IoT hub {name[:80]!r} not found in resource group {group[:90]!r}")


def conditions(request: Request, rp: ResourceProvider, header: str) -> rp_requests.Condition | None:
    return rp_requests.parse_condition(request.headers.getlist(header), bool(rp.profile.value("quoted_star_is_wildcard")))


# -- hubs ------------------------------------------------------------------------------------------------------------

async def hub_resource(request: Request) -> Response:
    """R/{resourceName}: one route for its methods, so a wrong method's 405 lists them all in Allow."""
    if request.method == "PUT":
        return await put_hub(request)
    if request.method == "DELETE":
        return await delete_hub(request)
    return await get_hub(request)


@handler
async def get_hub(request: Request, rp: ResourceProvider) -> Response:
    """rp__retrieve-metadata-of-an-iot-hub.md: 200 with security properties null; 404."""
    with rp.lock:
        rp.advance()
        found = existing(request, rp)
        if rp.has(RP_SUCCEEDED_BEFORE_HUB_EXISTS) and rp.now() < found.active_at:
            raise hub_not_found(request)
        body = rp_views.hub_json(found, dialect(rp), rp.state(found), keys=rp.has(RP_GET_REVEALS_KEYS))
    return hub_response(rp, 200, body)


@handler
async def put_hub(request: Request, rp: ResourceProvider) -> Response:
    """Create (rp__create-a-new-iot-hub.md: 201 + Azure-AsyncOperation) or update (the RP page's table: 200; the update
    page: 201 long-running). The arm16 dialect answers an update 200 at once, the docs dialect 201 with an operation.
    The If-Match / If-None-Match tables are the RP page's (INVENTORY §1)."""
    subscription_id, group, name = where(request)
    rp_requests.check_name(name)
    spec = rp_requests.parse_hub(await request.body())
    if_match, if_none_match = conditions(request, rp, "if-match"), conditions(request, rp, "if-none-match")
    speaks = dialect(rp)
    with rp.lock:
        rp.advance()
        found = rp.find(subscription_id, group, name)
        current = found.etag if found is not None else None
        if not rp.has(RP_IGNORE_IF_MATCH):
            stale = if_match is not None and not if_match.if_match(current)
            if stale or (if_none_match is not None and not if_none_match.if_none_match(current)):
                if stale and found is not None and rp.has(RP_WRITE_BEFORE_PRECONDITION):
                    rp.apply(found, spec)
                    found.etag = new_etag()
                raise RpError(412, rp_errors.PRECONDITION_FAILED, "the hub's etag does not meet the request's condition")
        if found is None:
            if full := rp.room_for(subscription_id):
                raise RpError(403, rp_errors.QUOTA_EXCEEDED, full)
            synchronous = rp.has(RP_CREATE_RETURNS_200)
            now = rp.now()
            created = rp.new_hub(subscription_id, group, name, spec, now if synchronous else now + rp.delay)
            rp.hubs[created.key] = created
            body = rp_views.hub_json(created, speaks, rp.state(created), keys=True)
            if synchronous:
                return hub_response(rp, 200, body)
            operation = rp.start("create", created)
            return hub_response(rp, 201, body, {"Azure-AsyncOperation": operation_url(request, operation,
                                                                                      "operationStatuses")})
        etag = found.etag if rp.has(RP_ETAG_UNCHANGED_ON_UPDATE) else new_etag()
        if rp.has(RP_UPDATE_IGNORED):
            shown = replace(found, spec=spec, etag=etag)  # answered, never stored
        else:
            rp.apply(found, spec)
            found.etag = etag
            shown = found
        body = rp_views.hub_json(shown, speaks, rp.state(found), keys=True)
        if speaks != "docs":
            return hub_response(rp, 200, body)
        operation = rp.start("update", found)
        return hub_response(rp, 201, body, {"Azure-AsyncOperation": operation_url(request, operation,
                                                                                  "operationStatuses")})


@handler
async def delete_hub(request: Request, rp: ResourceProvider) -> Response:
    """rp__delete-an-iot-hub.md: 202 + Location, Retry-After and Azure-AsyncOperation; the RP page's table: 204 for
    a missing hub whatever the If-Match, 412 for a stale one."""
    if_match = conditions(request, rp, "if-match")
    with rp.lock:
        rp.advance()
        found = rp.find(*where(request))
        if found is None:
            return Response(status_code=204)
        if if_match is not None and not if_match.if_match(found.etag) and not rp.has(RP_DELETE_IGNORES_IF_MATCH):
            raise RpError(412, rp_errors.PRECONDITION_FAILED, "the hub's etag does not match If-Match")
        operation = found.deleting = rp.start("delete", found)
        return accepted(request, rp, operation, location=not rp.has(RP_DELETE_NO_LOCATION))


@handler
async def list_by_subscription(request: Request, rp: ResourceProvider) -> Response:
    return hub_list(request, rp, None)


@handler
async def list_by_group(request: Request, rp: ResourceProvider) -> Response:
    return hub_list(request, rp, request.path_params["resource_group"])


def hub_list(request: Request, rp: ResourceProvider, group: str | None) -> Response:
    """docs: a bare array of every hub ("IoT Hub resource provider does not support paging"); arm16: {value, nextLink}
    pages of rp.page_size (x-ms-pageable), the next one behind an absolute nextLink with $skiptoken."""
    speaks = dialect(rp)
    with rp.lock:
        rp.advance()
        bodies = [rp_views.hub_json(found, speaks, rp.state(found), keys=False)
                  for found in rp.listed(request.path_params["subscription_id"], group)]
    if speaks == "docs":
        return rp_json(200, bodies)
    size = max(1, int(rp.page_size))
    keys = [_list_key(body) for body in bodies]
    # The token names the last hub handed out (not an offset), so a hub created or deleted meanwhile shifts nothing:
    # the next page starts after that hub. A token the reference never handed out starts the list over.
    after = _token_key(request.query_params.get("$skiptoken", ""))
    start = 0 if after is None else next((i for i, key in enumerate(keys) if key > after), len(keys))
    page = bodies[start:start + size]
    last = start + len(page) - 1
    if after is not None and start > 0 and rp.has(RP_PAGE_REPEATS_ITEM):
        page = [bodies[start - 1], *page]
    link = None
    if start + size < len(bodies) and not (after is None and rp.has(RP_NEXTLINK_DROPPED)):
        path = f"/subscriptions/{quote(request.path_params['subscription_id'], safe='')}"
        if group is not None:
            path += f"/resourceGroups/{quote(group, safe='')}"
        token = base64.urlsafe_b64encode(keys[last].encode()).decode().rstrip("=")
        link = f"{str(request.base_url).rstrip('/')}{path}/providers/Microsoft.Devices/IotHubs" \
               f"?api-version={API_VERSION}&$skiptoken={token}"
    return rp_json(200, {"value": page, "nextLink": link})


def _list_key(body: dict) -> str:
    """A hub's place in the lists: resource group, then name, compared case-insensitively (ResourceProvider.listed's
    order; the NUL between them sorts before every character a group name may hold, so string order is that order)."""
    group = str(body.get("resourceGroupName") or body.get("resourcegroup") or "").lower()
    return f"{group}\x00{body['name'].lower()}"


def _token_key(token: str) -> str | None:
    if not token or len(token) > 400:
        return None
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


# -- keys ------------------------------------------------------------------------------------------------------------

def _policies(rp: ResourceProvider, found: ManagedHub) -> list[rp_requests.RpPolicy]:
    policies = list(found.spec.policies)
    return policies[:-1] if rp.has(RP_LISTKEYS_DROPS_POLICY) else policies


@handler
async def list_keys(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_ListKeys: {value: [SharedAccessSignatureAuthorizationRule], nextLink}."""
    with rp.lock:
        rp.advance()
        policies = _policies(rp, existing(request, rp))
    return rp_json(200, {"value": [rp_views.policy_json(policy, "arm16") for policy in policies], "nextLink": None})


@handler
async def docs_list_keys(request: Request, rp: ResourceProvider) -> Response:
    """rp__retrieve-security-metadata-of-an-iot-hub.md: {authorizationPolicies: [{name, …, permissions}]}."""
    with rp.lock:
        rp.advance()
        policies = _policies(rp, existing(request, rp))
    return rp_json(200, {"authorizationPolicies": [rp_views.policy_json(policy, "docs") for policy in policies]})


@handler
async def key_for_name(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_GetKeysForKeyName: one policy; 404 for a name the hub does not have."""
    key_name = request.path_params["key_name"]
    with rp.lock:
        rp.advance()
        policies = list(existing(request, rp).spec.policies)
    if rp.has(RP_KEYNAME_IGNORED):
        chosen = policies[:1]
    else:
        chosen = [policy for policy in policies if policy.name.lower() == key_name.lower()]
    if not chosen:
        raise RpError(404, rp_errors.RESOURCE_NOT_FOUND, f"the hub has no policy named {key_name[:64]!r}")
    return rp_json(200, rp_views.policy_json(chosen[0], "arm16"))


# -- consumer groups -------------------------------------------------------------------------------------------------

def _endpoint(request: Request) -> str:
    """eventHubEndpointName: events or operationsMonitoringEvents, compared case-insensitively; else 404."""
    given = request.path_params.get("endpoint", "events")
    for name in ENDPOINTS:
        if name.lower() == given.lower():
            return name
    raise RpError(404, rp_errors.RESOURCE_NOT_FOUND, f"no event-hub endpoint {given[:64]!r} (known: {', '.join(ENDPOINTS)})")


def _groups(request: Request, rp: ResourceProvider) -> tuple[ManagedHub | None, list[str]]:
    """The addressed hub and its endpoint's consumer groups (call under rp.lock). A missing hub is a 404, unless the
    fault rp-cg-missing-hub-succeeds answers as if it existed, with a throwaway list."""
    endpoint = _endpoint(request)
    subscription_id, group, name = where(request)
    found = rp.find(subscription_id, group, name)
    if found is None:
        if rp.has(RP_CG_MISSING_HUB_SUCCEEDS):
            return None, [DEFAULT_GROUP]
        raise hub_not_found(request)
    return found, found.consumer_groups[endpoint]


def _add_group(rp: ResourceProvider, groups: list[str], name: str) -> None:
    if rp.has(RP_CG_CREATE_IGNORED):
        return
    if not any(known.lower() == name.lower() for known in groups):
        # Read from the module at each call: the caps are the reference's choice, and tests lower them.
        most, most_bytes = resource_provider.MAX_CONSUMER_GROUPS, resource_provider.MAX_CONSUMER_GROUP_BYTES
        if len(groups) >= most or sum(map(len, groups)) + len(name) > most_bytes:
            raise RpError(403, rp_errors.QUOTA_EXCEEDED, "the endpoint already holds its maximum of consumer groups "
                                                         f"({most}, or {most_bytes} bytes of names)")
        groups.append(name)


def _remove_group(rp: ResourceProvider, groups: list[str], name: str) -> None:
    if rp.has(RP_CG_DELETE_IGNORED):
        return
    groups[:] = [known for known in groups if known.lower() != name.lower()]


def _change_group(request: Request, rp: ResourceProvider, add: bool) -> None:
    """Add or remove the path's consumer group: one body for both path families, whose answers differ."""
    with rp.lock:
        rp.advance()
        _, groups = _groups(request, rp)
        (_add_group if add else _remove_group)(rp, groups, request.path_params["group"])


def _group_id(request: Request) -> str:
    subscription_id, group, name = where(request)
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}/providers/{rp_requests.HUB_TYPE}/{name}"


@handler
async def list_groups(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_ListEventHubConsumerGroups: {value: [names], nextLink}."""
    with rp.lock:
        rp.advance()
        _, groups = _groups(request, rp)
        names = list(groups)
    return rp_json(200, {"value": names, "nextLink": None})


async def consumer_group(request: Request) -> Response:
    """…/eventHubEndpoints/{endpoint}/ConsumerGroups/{name}: one route for its methods."""
    if request.method == "PUT":
        return await put_group(request)
    if request.method == "DELETE":
        return await delete_group(request)
    return await get_group(request)


@handler
async def get_group(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_GetEventHubConsumerGroup: 200 {tags, id, name}; 404."""
    name = request.path_params["group"]
    with rp.lock:
        rp.advance()
        _, groups = _groups(request, rp)
        known = next((group for group in groups if group.lower() == name.lower()), None)
    if known is None:
        raise RpError(404, rp_errors.RESOURCE_NOT_FOUND, f"no consumer group {name[:64]!r}")
    return rp_json(200, rp_views.consumer_group_json(_group_id(request), _endpoint(request), known))


@handler
async def put_group(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_CreateEventHubConsumerGroup: 200 {tags, id, name}."""
    _change_group(request, rp, add=True)
    return rp_json(200, rp_views.consumer_group_json(_group_id(request), _endpoint(request), request.path_params["group"]))


@handler
async def delete_group(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_DeleteEventHubConsumerGroup: 200 without a body."""
    _change_group(request, rp, add=False)
    return Response(status_code=200)


@handler
async def docs_list_groups(request: Request, rp: ResourceProvider) -> Response:
    """rp__list-d2c-consumer-groups.md: a bare array, ["$default", …]."""
    with rp.lock:
        rp.advance()
        _, groups = _groups(request, rp)
        names = list(groups)
    return rp_json(200, names)


async def docs_consumer_group(request: Request) -> Response:
    """…/events/ConsumerGroups/{name}: PUT (rp__create-a-d2c-consumer-group.md, 201) and DELETE
    (rp__delete-a-d2c-consumer-group.md, 204), neither with a body."""
    if request.method == "PUT":
        return await docs_put_group(request)
    return await docs_delete_group(request)


@handler
async def docs_put_group(request: Request, rp: ResourceProvider) -> Response:
    _change_group(request, rp, add=True)
    return Response(status_code=201)


@handler
async def docs_delete_group(request: Request, rp: ResourceProvider) -> Response:
    _change_group(request, rp, add=False)
    return Response(status_code=204)


# -- registry, skus, quotas, names -----------------------------------------------------------------------------------

async def run_due_jobs(rp: ResourceProvider, managed: ManagedHub) -> None:
    """Run the hub's due import/export jobs to their end, as import_export_routes.catch_up does for the data plane: blob
    work in a worker thread, never on the event loop or under a lock."""
    rp.sync_registry(managed)
    registry = managed.registry
    with registry.lock:
        due = import_export_jobs.start_due(registry)
    for job in due:
        if job.type == "export" and rp.has(RP_EXPORT_NEVER_COMPLETES):
            continue
        if job.type == "import" and rp.has(RP_IMPORT_IGNORES_BLOB):
            with registry.lock:
                job.status, job.progress, job.ended_at = COMPLETED, 100, registry.clock.now()
            continue
        await anyio.to_thread.run_sync(import_export_jobs.run, registry, job)


async def _caught_up(request: Request, rp: ResourceProvider) -> ManagedHub:
    with rp.lock:
        rp.advance()
        found = existing(request, rp)
    await run_due_jobs(rp, found)
    return found


@handler
async def stats(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_GetStats: RegistryStatistics of the hub's own registry."""
    found = await _caught_up(request, rp)
    with found.registry.lock:
        devices = list(found.registry.devices.values())
    if rp.has(RP_STATS_ZERO):
        devices = []
    enabled = sum(1 for device in devices if device.status == "enabled")
    return rp_json(200, {"totalDeviceCount": len(devices), "enabledDeviceCount": enabled,
                         "disabledDeviceCount": len(devices) - enabled})


@handler
async def skus(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_GetValidSkus."""
    with rp.lock:
        rp.advance()
        existing(request, rp)
    return rp_json(200, {"value": rp_views.skus_json(), "nextLink": None})


@handler
async def quota_metrics(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_GetQuotaMetrics."""
    with rp.lock:
        rp.advance()
        found = existing(request, rp)
    with found.registry.lock:
        devices = len(found.registry.devices)
    metrics = rp_views.quota_json(found, devices)
    if rp.has(RP_QUOTA_VALUES_AS_STRINGS):
        metrics = [{**m, "CurrentValue": str(m["CurrentValue"]), "MaxValue": str(m["MaxValue"])} for m in metrics]
    return rp_json(200, {"value": metrics, "nextLink": None})


@handler
async def list_jobs(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_ListJobs: the hub's import and export jobs."""
    found = await _caught_up(request, rp)
    with found.registry.lock:
        items = [rp_views.job_json(job) for job in found.registry.jobs.values()]
    return rp_json(200, {"value": items, "nextLink": None})


@handler
async def get_job(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_GetJob: 200 JobResponse; 404."""
    found = await _caught_up(request, rp)
    job_id = request.path_params["job_id"]
    with found.registry.lock:
        job = found.registry.jobs.get(job_id)
        payload = rp_views.job_json(job) if job is not None else None
    if payload is None:
        raise RpError(404, rp_errors.RESOURCE_NOT_FOUND, f"no job {job_id[:64]!r}")
    return rp_json(200, payload)


@handler
async def check_name_availability(request: Request, rp: ResourceProvider) -> Response:
    """ARM16 IotHubResource_CheckNameAvailability: Invalid for a name the pattern refuses, AlreadyExists for one any
    hub has (host names are global), else available."""
    name = rp_requests.parse_name_request(await request.body())
    with rp.lock:
        rp.advance()
        taken = rp.name_taken(name)
    if rp.has(RP_NAME_ALWAYS_AVAILABLE):
        return rp_json(200, {"nameAvailable": True, "reason": None, "message": None})
    if not HUB_NAME.fullmatch(name):
        return rp_json(200, {"nameAvailable": False, "reason": "Invalid",
                             "message": f"{name[:80]!r} is not a valid IoT hub name: 3-50 letters, digits or hyphens"})
    if taken:
        return rp_json(200, {"nameAvailable": False, "reason": "AlreadyExists",
                             "message": f"an IoT hub named {name!r} already exists"})
    return rp_json(200, {"nameAvailable": True, "reason": None, "message": None})


# -- import and export -----------------------------------------------------------------------------------------------

@handler
async def export_devices(request: Request, rp: ResourceProvider) -> Response:
    return await _start_job(request, rp, "export")


@handler
async def import_devices(request: Request, rp: ResourceProvider) -> Response:
    return await _start_job(request, rp, "import")


async def _start_job(request: Request, rp: ResourceProvider, kind: str) -> Response:
    job_body = rp_requests.parse_job_request(await request.body(), kind)
    with rp.lock:
        rp.advance()
        found = rp.find(*where(request))
    # The body is judged before existence: for a missing hub, a registry that is thrown away reads it.
    reader = found.registry if found is not None else rp.scratch_registry()
    try:
        job = import_export_jobs.read_request(reader, json.dumps(job_body).encode())
    except import_export_jobs.InvalidJob as exc:
        raise rp_errors.invalid(rp_requests.job_message(kind, exc.message)) from None
    if found is None:
        raise hub_not_found(request)
    await run_due_jobs(rp, found)
    with found.registry.lock:
        import_export_jobs.add(found.registry, job)
        payload = rp_views.job_json(job)
    # arm16 (ARM16 ExportDevices/ImportDevices, export-device-identities1.md): 200 JobResponse. docs
    # (rp__export-device-identities2.md, import-device-identities.md): 202 with the operation's URLs.
    if dialect(rp) != "docs":
        return rp_json(200, payload)
    with rp.lock:
        operation = rp.start(kind, found, job.job_id)
    return accepted(request, rp, operation)


# -- operations ------------------------------------------------------------------------------------------------------

def _operation(request: Request, rp: ResourceProvider) -> Operation:
    """Call under rp.lock."""
    operation = rp.operations.get(request.path_params["operation_id"])
    if operation is None or operation.subscription_id.lower() != request.path_params["subscription_id"].lower():
        raise RpError(404, rp_errors.RESOURCE_NOT_FOUND, "no such operation")
    return operation


async def _job_status(rp: ResourceProvider, operation: Operation) -> tuple[str | None, dict | None]:
    """An export or import operation's job, run up to now: (its status, its JobResponse); (None, None) for another
    operation or a job no longer kept."""
    if operation.job_id is None:
        return None, None
    await run_due_jobs(rp, operation.hub)
    registry = operation.hub.registry
    with registry.lock:
        job = registry.jobs.get(operation.job_id)
        return (job.status, rp_views.job_json(job)) if job is not None else (None, None)


@handler
async def operation_status(request: Request, rp: ResourceProvider) -> Response:
    """Azure-AsyncOperation: 200 {status}, with {error: {code, message}} when Failed; Retry-After while it runs."""
    with rp.lock:
        rp.advance()
        operation = _operation(request, rp)
    job_status, job = await _job_status(rp, operation)
    with rp.lock:
        status = rp.status(operation, job_status)
        headers = {"Retry-After": str(rp.retry_after(operation))} if status == IN_PROGRESS else None
    payload: dict = {"status": status}
    if status == FAILED_STATUS:
        payload["error"] = {"code": rp_errors.JOB_FAILED, "message": (job or {}).get("failureReason") or "the job failed"}
    return rp_json(200, payload, headers)


@handler
async def operation_result(request: Request, rp: ResourceProvider) -> Response:
    """Location (INVENTORY §1): 202 + Retry-After while the operation runs, then what the synchronous call would have
    answered: a delete 200 without a body, an export or import 200 JobResponse."""
    with rp.lock:
        rp.advance()
        operation = _operation(request, rp)
    if operation.kind not in ("delete", "export", "import"):
        raise RpError(404, rp_errors.RESOURCE_NOT_FOUND, "this operation has no result URL")
    job_status, job = await _job_status(rp, operation)
    with rp.lock:
        if rp.status(operation, job_status) == IN_PROGRESS:
            return Response(status_code=202, headers={"Retry-After": str(rp.retry_after(operation)),
                                                      "Location": operation_url(request, operation, "operationResults")})
    if operation.kind == "delete":
        return Response(status_code=200)
    if job is None:
        raise RpError(404, rp_errors.RESOURCE_NOT_FOUND, "the operation's job is no longer kept")
    return rp_json(200, job)


ROUTES = [
    Route(PROVIDER + "/IotHubs", list_by_subscription, methods=["GET"]),
    Route(PROVIDER + "/checkNameAvailability", check_name_availability, methods=["POST"]),
    Route(PROVIDER + "/operationStatuses/{operation_id}", operation_status, methods=["GET"]),
    Route(PROVIDER + "/operationResults/{operation_id}", operation_result, methods=["GET"]),
    Route(GROUP, list_by_group, methods=["GET"]),
    Route(HUB, hub_resource, methods=["GET", "PUT", "DELETE"]),
    Route(HUB + "/listkeys", list_keys, methods=["POST"]),
    Route(HUB + "/IotHubKeys/{key_name}/listkeys", key_for_name, methods=["POST"]),
    Route(HUB + "/IoTHubKeys/listkeys", docs_list_keys, methods=["POST"]),
    Route(HUB + "/eventHubEndpoints/{endpoint}/ConsumerGroups", list_groups, methods=["GET"]),
    Route(HUB + "/eventHubEndpoints/{endpoint}/ConsumerGroups/{group}", consumer_group,
          methods=["GET", "PUT", "DELETE"]),
    Route(HUB + "/events/ConsumerGroups", docs_list_groups, methods=["GET"]),
    Route(HUB + "/events/ConsumerGroups/{group}", docs_consumer_group, methods=["PUT", "DELETE"]),
    Route(HUB + "/IotHubStats", stats, methods=["GET"]),
    Route(HUB + "/skus", skus, methods=["GET"]),
    Route(HUB + "/quotaMetrics", quota_metrics, methods=["GET"]),
    Route(HUB + "/jobs", list_jobs, methods=["GET"]),
    Route(HUB + "/jobs/{job_id}", get_job, methods=["GET"]),
    Route(HUB + "/exportDevices", export_devices, methods=["POST"]),
    Route(HUB + "/importDevices", import_devices, methods=["POST"]),
]

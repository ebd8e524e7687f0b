"""The reference as an ASGI app: a data-plane hub and, under /subscriptions, the resource provider beside it, on one
clock; x-ms-request-id on every response, and no 500 for bad input."""

from __future__ import annotations

import logging
import uuid

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import (
    import_export_routes,
    messaging_routes,
    registry_routes,
    routes_2021_configurations,
    routes_2021_digital_twins,
    routes_2021_files,
    routes_2021_jobs,
    routes_2021_messaging,
    routes_2021_registry,
    routes_2021_scope,
    routes_2021_twins,
    rp_errors,
    rp_routes,
    scheduled_jobs_routes,
    twin_routes,
)
from .bodies import RequestBodies
from .error_envelope import ARGUMENT_INVALID, METHOD_NOT_ALLOWED, NOT_FOUND, error_response
from .faults import switch
from .hub import Hub
from .resource_provider import ResourceProvider

DROP_REQUEST_ID = switch("drop-request-id")
REPEAT_REQUEST_ID = switch("repeat-request-id")
RP_DROP_REQUEST_ID = switch("rp-drop-request-id")

log = logging.getLogger(__name__)

# api-version 2021-04-12, one list per surface group.
ROUTES_2021 = (
    *routes_2021_registry.ROUTES, *routes_2021_twins.ROUTES, *routes_2021_jobs.ROUTES,
    *routes_2021_configurations.ROUTES, *routes_2021_digital_twins.ROUTES, *routes_2021_messaging.ROUTES,
    *routes_2021_files.ROUTES, *routes_2021_scope.ROUTES,
)


def create_app(hub: Hub, rp: ResourceProvider | None = None) -> Starlette:
    """Serve `hub`, and `rp` under /subscriptions; no `rp`: a provider beside the hub (ResourceProvider.beside)."""
    rp = rp if rp is not None else ResourceProvider.beside(hub)
    routes = [
        # api-version 2021-04-12, one list per surface group. First: where a path is also served below, Starlette takes
        # the first route with the path and the method, so each list names only the methods it adds.
        *ROUTES_2021,
        Route("/devices", registry_routes.list_devices, methods=["GET"]),
        # The service lists at /devices/ too: every Node.js service SDK lists there, from the 2016-02-03 one
        # (azure-iothub 1.0.7: Registry.list reads endpoint.devicePath('') = '/devices/',
        # https://github.com/Azure/azure-iot-sdks/blob/c98b3b7e85e028d3536a5d68fda8217001210774/node/service/lib/_registry_common_testrun.js
        # lists a real hub with it) to the RestApiClient-based 1.x. Only the list: no other route takes a slash.
        Route("/devices/", registry_routes.list_devices, methods=["GET"]),
        Route("/devices/{device_id}", registry_routes.device, methods=["GET", "PUT", "DELETE"]),
        Route("/statistics/devices", registry_routes.registry_statistics, methods=["GET"]),
        Route("/statistics/service", registry_routes.service_statistics, methods=["GET"]),
        Route("/devices/{device_id}/messages/events", messaging_routes.send_event, methods=["POST"]),
        Route("/devices/{device_id}/messages/devicebound", messaging_routes.receive, methods=["GET"]),
        Route("/devices/{device_id}/messages/devicebound/{lock}", messaging_routes.complete, methods=["DELETE"]),
        Route("/devices/{device_id}/messages/devicebound/{lock}/abandon", messaging_routes.abandon, methods=["POST"]),
        # The service-side send, under both spellings the pages use (INVENTORY §7 item 6).
        Route("/messages/deviceBound", messaging_routes.send_to_device, methods=["POST"]),
        Route("/messages/devicebound", messaging_routes.send_to_device, methods=["POST"]),
        # Import/export jobs: both ways to start one are served, whatever the profile (INVENTORY §2a, §7 item 10).
        Route("/jobs", import_export_routes.list_jobs, methods=["GET"]),
        Route("/jobs/create", import_export_routes.create_job, methods=["POST"]),
        Route("/jobs/{job_id}", import_export_routes.job, methods=["GET", "DELETE"]),
        Route("/importdevices", import_export_routes.import_devices, methods=["GET"]),
        # Twins and scheduled jobs (api-version 2016-11-14, INVENTORY §3). The query route comes before the job route,
        # so that /jobs/v2/query is never read as a jobId.
        Route("/twins/{device_id}", twin_routes.twin, methods=["GET", "PATCH"]),
        Route("/jobs/v2/query", scheduled_jobs_routes.query_jobs, methods=["GET"]),
        Route("/jobs/v2/{job_id}", scheduled_jobs_routes.job, methods=["GET", "PUT"]),
        Route("/jobs/v2/{job_id}/cancel", scheduled_jobs_routes.cancel_job, methods=["POST"]),
        # The resource provider (ARM, INVENTORY §2c), served by the same app under /subscriptions.
        *rp_routes.ROUTES,
    ]
    # Outermost first: every answer gets its request id, bodies are read whole before any handler (bodies.py).
    middleware = [Middleware(RequestIds, hub=hub, rp=rp), Middleware(RequestBodies, hub=hub, rp=rp),
                  Middleware(NoServerErrors, hub=hub, rp=rp)]
    # Starlette types every handler as taking Exception, though it calls one with the class it is keyed by.
    handlers = {HTTPException: routing_error}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)  # type: ignore[arg-type]
    # A path with a slash too many or too few is answered where it is (404, or the list above), never redirected.
    app.router.redirect_slashes = False
    app.state.hub = hub
    added = {id(route) for route in ROUTES_2021}
    app.state.routes_before_2021 = [r for r in routes if id(r) not in added and isinstance(r, Route)]
    app.state.rp = rp
    return app


async def routing_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's 404 (no route) and 405 (route without that method) in the service's envelope; under /subscriptions
    in the resource provider's (ErrorDetails)."""
    hub: Hub = request.app.state.hub
    if rp_routes.is_rp_path(request.url.path):
        return _rp_routing_error(request, exc)
    if exc.status_code == 404:
        return error_response(hub, 404, NOT_FOUND, f"no resource at {request.url.path[:200]}")
    if exc.status_code == 405:
        allowed = sorted(m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip())
        if request.query_params.get("api-version") not in hub.current_api_versions:
            # A 2016 request is told what 2016 serves there (POST /devices, the bulk call, came with later versions).
            # As Starlette answers: the methods of the first route whose path matches.
            first = next((r for r in request.app.state.routes_before_2021 if r.path_regex.match(request.url.path)), None)
            allowed = sorted(first.methods or ()) if first is not None else allowed
        return error_response(hub, 405, METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                              headers={"Allow": ", ".join(allowed)})
    return error_response(hub, exc.status_code, ARGUMENT_INVALID, str(exc.detail))


def _rp_routing_error(request: Request, exc: HTTPException) -> Response:
    rp: ResourceProvider = request.app.state.rp
    if exc.status_code == 404:
        return rp_routes.rp_error(rp, 404, rp_errors.NOT_FOUND, f"no resource at {request.url.path[:200]}")
    if exc.status_code == 405:
        allowed = sorted(m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip())
        return rp_routes.rp_error(rp, 405, rp_errors.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                                  headers={"Allow": ", ".join(allowed)})
    return rp_routes.rp_error(rp, exc.status_code, rp_errors.BAD_REQUEST, str(exc.detail))


class RequestIds:
    """Adds x-ms-request-id (a fresh GUID) to every response, errors included (OBSERVED §1, §4). Resource-provider
    responses follow their own fault switch (the RP page: "each operation returns an x-ms-request-id header")."""

    def __init__(self, app: ASGIApp, hub: Hub, rp: ResourceProvider):
        self.app = app
        self.hub = hub
        self.rp = rp
        self.fixed = str(uuid.uuid4()) if hub.has(REPEAT_REQUEST_ID) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        resource_provider = rp_routes.is_rp_path(scope["path"])

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                if resource_provider:
                    if not self.rp.has(RP_DROP_REQUEST_ID):
                        MutableHeaders(scope=message)["x-ms-request-id"] = str(uuid.uuid4())
                elif not (message["status"] >= 400 and self.hub.has(DROP_REQUEST_ID)):
                    MutableHeaders(scope=message)["x-ms-request-id"] = self.fixed or str(uuid.uuid4())
            await send(message)

        await self.app(scope, receive, send_with_id)


class NoServerErrors:
    """Turns an unexpected exception into a 400 envelope: no input may make the reference answer 500.

    A pure-ASGI wrapper rather than an `Exception` handler, because Starlette re-raises after such a handler answers,
    and an in-process client (httpx.ASGITransport, TestClient) would then see the exception instead of the 400.
    """

    def __init__(self, app: ASGIApp, hub: Hub, rp: ResourceProvider):
        self.app = app
        self.hub = hub
        self.rp = rp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            return  # the client left: nothing to answer, and nothing went wrong here
        except Exception:
            if started:
                raise
            log.exception("reference hub: unexpected error, answered 400")
            if rp_routes.is_rp_path(scope["path"]):
                response = rp_routes.rp_error(self.rp, 400, rp_errors.BAD_REQUEST, "the request could not be processed")
            else:
                response = error_response(self.hub, 400, ARGUMENT_INVALID, "the request could not be processed")
            await response(scope, receive, send)

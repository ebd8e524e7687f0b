"""The reference hub as an ASGI app: routes, x-ms-request-id on every response, and no 500 for bad input."""

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

from . import errors, job_routes, messaging, registry, rp, rp_routes, scheduled_routes, twin_routes
from .bodies import RequestBodies
from .errors import error_response
from .hub import Hub

log = logging.getLogger(__name__)


def create_app(hub: Hub) -> Starlette:
    routes = [
        Route("/devices", registry.list_devices, methods=["GET"]),
        Route("/devices/{device_id}", registry.device, methods=["GET", "PUT", "DELETE"]),
        Route("/statistics/devices", registry.registry_statistics, methods=["GET"]),
        Route("/statistics/service", registry.service_statistics, methods=["GET"]),
        Route("/devices/{device_id}/messages/events", messaging.send_event, methods=["POST"]),
        Route("/devices/{device_id}/messages/devicebound", messaging.receive, methods=["GET"]),
        Route("/devices/{device_id}/messages/devicebound/{lock}", messaging.complete, methods=["DELETE"]),
        Route("/devices/{device_id}/messages/devicebound/{lock}/abandon", messaging.abandon, methods=["POST"]),
        # The service-side send, under both spellings the pages use (INVENTORY §7 item 6).
        Route("/messages/deviceBound", messaging.send_to_device, methods=["POST"]),
        Route("/messages/devicebound", messaging.send_to_device, methods=["POST"]),
        # Import/export jobs: both ways to start one are served, whatever the profile (INVENTORY §2a, §7 item 10).
        Route("/jobs", job_routes.list_jobs, methods=["GET"]),
        Route("/jobs/create", job_routes.create_job, methods=["POST"]),
        Route("/jobs/{job_id}", job_routes.job, methods=["GET", "DELETE"]),
        Route("/importdevices", job_routes.import_devices, methods=["GET"]),
        # Twins and scheduled jobs (api-version 2016-11-14, INVENTORY §3). The query route comes before the job route,
        # so that /jobs/v2/query is never read as a jobId.
        Route("/twins/{device_id}", twin_routes.twin, methods=["GET", "PATCH"]),
        Route("/jobs/v2/query", scheduled_routes.query_jobs, methods=["GET"]),
        Route("/jobs/v2/{job_id}", scheduled_routes.job, methods=["GET", "PUT"]),
        Route("/jobs/v2/{job_id}/cancel", scheduled_routes.cancel_job, methods=["POST"]),
        # The resource provider (ARM, INVENTORY §2c), served by the same app under /subscriptions.
        *rp_routes.ROUTES,
    ]
    # Outermost first: every answer gets its request id, bodies are read whole before any handler (bodies.py).
    middleware = [Middleware(RequestIds, hub=hub), Middleware(RequestBodies, hub=hub), Middleware(NoServerErrors, hub=hub)]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: routing_error})
    # `/devices/` is not a route of the service; answer 404 rather than redirect a client elsewhere.
    app.router.redirect_slashes = False
    app.state.hub = hub
    return app


async def routing_error(request: Request, exc: HTTPException) -> Response:
    """Starlette's 404 (no route) and 405 (route without that method) in the service's envelope; under /subscriptions
    in the resource provider's (ErrorDetails)."""
    hub: Hub = request.app.state.hub
    if rp_routes.is_rp_path(request.url.path):
        return _rp_routing_error(request, exc)
    if exc.status_code == 404:
        return error_response(hub, 404, errors.NOT_FOUND, f"no resource at {request.url.path[:200]}")
    if exc.status_code == 405:
        allowed = sorted(m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip())
        return error_response(hub, 405, errors.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                              headers={"Allow": ", ".join(allowed)})
    return error_response(hub, exc.status_code, errors.ARGUMENT_INVALID, str(exc.detail))


def _rp_routing_error(request: Request, exc: HTTPException) -> Response:
    hub: Hub = request.app.state.hub
    if exc.status_code == 404:
        return rp_routes.rp_error(hub, 404, rp.NOT_FOUND, f"no resource at {request.url.path[:200]}")
    if exc.status_code == 405:
        allowed = sorted(m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip())
        return rp_routes.rp_error(hub, 405, rp.METHOD_NOT_ALLOWED, f"{request.method} is not allowed here",
                                  headers={"Allow": ", ".join(allowed)})
    return rp_routes.rp_error(hub, exc.status_code, rp.BAD_REQUEST, str(exc.detail))


class RequestIds:
    """Adds x-ms-request-id (a fresh GUID) to every response, errors included (OBSERVED §1, §4). Resource-provider
    responses follow their own fault switch (the RP page: "each operation returns an x-ms-request-id header")."""

    def __init__(self, app: ASGIApp, hub: Hub):
        self.app = app
        self.hub = hub
        self.fixed = str(uuid.uuid4()) if hub.has("repeat-request-id") else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        resource_provider = rp_routes.is_rp_path(scope["path"])

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                if resource_provider:
                    if not self.hub.has("rp-drop-request-id"):
                        MutableHeaders(scope=message)["x-ms-request-id"] = str(uuid.uuid4())
                elif not (message["status"] >= 400 and self.hub.has("drop-request-id")):
                    MutableHeaders(scope=message)["x-ms-request-id"] = self.fixed or str(uuid.uuid4())
            await send(message)

        await self.app(scope, receive, send_with_id)


class NoServerErrors:
    """Turns an unexpected exception into a 400 envelope: no input may make the reference answer 500.

    A pure-ASGI wrapper rather than an `Exception` handler, because Starlette re-raises after such a handler answers,
    and an in-process client (httpx.ASGITransport, TestClient) would then see the exception instead of the 400.
    """

    def __init__(self, app: ASGIApp, hub: Hub):
        self.app = app
        self.hub = hub

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
                response = rp_routes.rp_error(self.hub, 400, rp.BAD_REQUEST, "the request could not be processed")
            else:
                response = error_response(self.hub, 400, errors.ARGUMENT_INVALID, "the request could not be processed")
            await response(scope, receive, send)

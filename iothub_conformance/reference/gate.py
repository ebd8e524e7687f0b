"""What every data-plane request passes before its handler reads it: api-version, then the SAS token."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response

from .authorization import authorize
from .error_envelope import INVALID_PROTOCOL_VERSION, UNAUTHORIZED, error_response
from .faults import switch
from .hub import Hub

ACCEPT_ANY_API_VERSION = switch("accept-any-api-version")
ACCEPT_MISSING_API_VERSION = switch("accept-missing-api-version")
WRONG_API_VERSION_ERROR_CODE = switch("wrong-api-version-error-code")


def admit(request: Request, permission: str, device_id: str | None = None,
          versions: Sequence[str] | None = None, module_id: str | None = None) -> Response | None:
    """None when the request may proceed, else the 400 (api-version) or 401 (token) to send.

    `versions`: the api-versions the route serves; None means hub.supported_api_versions. `module_id`: the module the
    request is scoped to (only a token for that module, or a policy's, is admitted by a module-scoped route).
    """
    hub: Hub = request.app.state.hub
    problem = api_version_problem(hub, request, versions)
    if problem:
        # OBSERVED §1: the service names InvalidProtocolVersion for a missing and for an unsupported value.
        code = "BadRequest" if hub.has(WRONG_API_VERSION_ERROR_CODE) else INVALID_PROTOCOL_VERSION
        return error_response(hub, 400, code, problem)
    reason = authorize(hub, request, permission, device_id, module_id)
    if reason:
        return error_response(hub, 401, UNAUTHORIZED, reason)
    return None


def api_version_problem(hub: Hub, request: Request, versions: Sequence[str] | None = None) -> str | None:
    versions = hub.supported_api_versions if versions is None else versions
    values = request.query_params.getlist("api-version")
    supported = ", ".join(versions)
    if not values:
        return None if hub.has(ACCEPT_MISSING_API_VERSION) else f"api-version is required (supported: {supported})"
    unsupported = [value for value in values if value not in versions]
    if unsupported and not hub.has(ACCEPT_ANY_API_VERSION):
        return f"api-version {unsupported[0][:40]!r} is not supported (supported: {supported})"
    return None

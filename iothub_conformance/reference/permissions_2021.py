"""The shared access permission each 2021-04-12 registry operation needs, and the fault switches that loosen it.

docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md: RegistryRead "Grants read access to the identity
registry", RegistryRead and RegistryWrite "read and write access"; docs/sources/INVENTORY-2021-04-12.md §1.3 (identity
GET and list, statistics of the registry: RegistryRead; identity PUT and DELETE, bulk POST /devices: RegistryWrite).
A handler asks here instead of naming the permission to gate.admit, so a fault can let a token that lacks it through.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .faults import switch
from .gate import admit
from .hub import Hub
from .policies import REGISTRY_READ, REGISTRY_WRITE, SERVICE_CONNECT

SERVICE_TOKEN_READS_MODULES = switch("perm-2021-service-token-reads-modules")
READ_TOKEN_WRITES_MODULES = switch("perm-2021-read-token-writes-modules")
# ServiceConnect operations (the device-twins page: twin operations "require the ServiceConnect permission"; the
# direct-methods page: "service connect"; the SAS page: "run queries"), each loosened by a fault of its own.
REGISTRY_TOKEN_SERVES_TWINS = switch("perm-2021-registry-token-serves-twins")
REGISTRY_TOKEN_QUERIES = switch("perm-2021-registry-token-queries")
REGISTRY_TOKEN_INVOKES_METHODS = switch("perm-2021-registry-token-invokes-methods")
REGISTRY_TOKEN_SERVES = {"twin": REGISTRY_TOKEN_SERVES_TWINS, "query": REGISTRY_TOKEN_QUERIES,
                         "method": REGISTRY_TOKEN_INVOKES_METHODS}


# What each fault opens up: the identity writes and reads it concerns (a device's are not among them).
LOOSENED_WRITES = ("module", "bulk")
LOOSENED_READS = ("module",)


def admit_read(request: Request, what: str, device_id: str | None = None,
               module_id: str | None = None) -> Response | None:
    """gate.admit for an identity read or the registry's statistics (RegistryRead); `what`: device, module or
    statistics. With perm-2021-service-token-reads-modules, a ServiceConnect token may read modules too."""
    hub: Hub = request.app.state.hub
    refused = admit(request, REGISTRY_READ, device_id, versions=hub.current_api_versions, module_id=module_id)
    if refused is None or refused.status_code != 401:
        return refused
    if what in LOOSENED_READS and hub.has(SERVICE_TOKEN_READS_MODULES):
        if admit(request, SERVICE_CONNECT, device_id, versions=hub.current_api_versions) is None:
            return None
    return refused


def admit_write(request: Request, what: str, device_id: str | None = None) -> Response | None:
    """gate.admit for an identity write (RegistryWrite); `what`: device, module or bulk. With
    perm-2021-read-token-writes-modules, a RegistryRead token may write modules and make the bulk call."""
    hub: Hub = request.app.state.hub
    needed = REGISTRY_READ if what in LOOSENED_WRITES and hub.has(READ_TOKEN_WRITES_MODULES) else REGISTRY_WRITE
    return admit(request, needed, device_id, versions=hub.current_api_versions)


def admit_service(request: Request, what: str, device_id: str | None = None) -> Response | None:
    """gate.admit for a twin, query or direct-method request (ServiceConnect); `what`: twin, query or method. With the
    fault for `what` on, a RegistryRead token (policy registryRead) is served too."""
    hub: Hub = request.app.state.hub
    refused = admit(request, SERVICE_CONNECT, device_id, versions=hub.current_api_versions)
    if refused is None or refused.status_code != 401 or not hub.has(REGISTRY_TOKEN_SERVES[what]):
        return refused
    return refused if admit(request, REGISTRY_READ, device_id, versions=hub.current_api_versions) else None

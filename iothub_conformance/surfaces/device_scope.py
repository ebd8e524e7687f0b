"""The Edge device-scope calls as the Edge hub makes them (docs/sources/INVENTORY-2021-04-12.md §4.3), and the run's own
Edge device with its $edgeHub module and the children in its scope (§4.2), written once. Every identity is the run's
(Registry names it); the calls are signed with the $edgeHub module's token, as the Edge hub signs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from iothub_conformance.http import sas
from iothub_conformance.rules.failures import PreconditionFailed, answered, json_of

from .devices import Registry
from .modules import Modules, module_path

EDGE_HUB = "$edgeHub"
SCOPE_PREFIX = "ms-azure-iot-edge://"  # §4.2: the CLI's DEVICE_DEVICESCOPE_PREFIX
LIST = "devicesAndModulesInDeviceScope"
ONE = "deviceAndModuleInDeviceScope"
TARGET = "devicesAndModulesInTargetDeviceScope"
MAX_PAGES = 50  # a listing followed page by page stops here: a target whose links never end is judged, not waited on


def _key(body: object, what: str) -> str:
    key = (((body or {}).get("authentication") or {}).get("symmetricKey") or {}).get("primaryKey") \
        if isinstance(body, dict) else None
    if not isinstance(key, str) or not key:
        raise PreconditionFailed(f"{what} has no primary key to sign with")
    return key


@dataclass
class Edge:
    """An Edge device of the run, its $edgeHub module's key, its scope and the children registered in it."""

    device_id: str
    scope: str
    module_key: str
    children: list[str] = field(default_factory=list)


class DeviceScope:
    def __init__(self, registry: Registry, host_name: str) -> None:
        self.registry = registry
        self.modules = Modules(registry)
        self.client: httpx.Client = registry.client
        self.host_name = host_name

    # -- the run's identities -----------------------------------------------------------------------------------

    def edge(self, label: str = "edge", children: int = 0) -> Edge:
        """An Edge device (capabilities.iotEdge) with its $edgeHub module and `children` devices in its scope. The
        scope is the one the target gave the Edge device, else one the suite sets (ms-azure-iot-edge://<id>)."""
        device_id, _ = self.registry.make(label, capabilities={"iotEdge": True})
        body = json_of(self.registry.read(device_id, "after creating it as an Edge device"))
        scope = body.get("deviceScope") if isinstance(body, dict) else None
        if not isinstance(scope, str) or not scope:
            scope = f"{SCOPE_PREFIX}{device_id}"
            put = self.registry.put(device_id, {"deviceId": device_id, "capabilities": {"iotEdge": True},
                                                "deviceScope": scope}, if_match="*")
            if put.status_code != 200:
                raise PreconditionFailed(f"could not give Edge device {device_id} the scope {scope}: {answered(put)}")
        module = self.modules.get(device_id, EDGE_HUB)
        if module.status_code == 404:
            module = self.modules.make(device_id, EDGE_HUB)
        if module.status_code not in (200, 201):
            raise PreconditionFailed(f"Edge device {device_id} has no readable {EDGE_HUB} module: {answered(module)}")
        edge = Edge(device_id, scope, _key(json_of(module), f"module {EDGE_HUB} of {device_id}"))
        for n in range(children):
            edge.children.append(self.child(edge, f"{label}-c{n}"))
        return edge

    def child(self, edge: Edge, label: str) -> str:
        device_id, _ = self.registry.make(label, deviceScope=edge.scope, parentScopes=[edge.scope])
        return device_id

    def token(self, edge: Edge, **kwargs) -> str:
        """The $edgeHub module's token: sr <host>/devices/<edge>/modules/$edgeHub (§1.3, §4.3)."""
        return sas.build_token(f"{self.host_name}/devices/{edge.device_id}/modules/{EDGE_HUB}", edge.module_key,
                               **kwargs)

    # -- the calls ----------------------------------------------------------------------------------------------

    def path(self, edge: Edge, operation: str) -> str:
        return module_path(edge.device_id, EDGE_HUB) + "/" + operation

    def list(self, edge: Edge, version: str, count: int | None = None, token: str | None = None,
             headers: dict | None = None) -> httpx.Response:
        params = {"api-version": version}
        if count is not None:
            params["deviceCount"] = str(count)
        return self.client.get(self.path(edge, LIST), params=params,
                               headers={"Authorization": token or self.token(edge), **(headers or {})})

    def follow(self, edge: Edge, link: str) -> httpx.Response:
        """A page's continuationLink: a path and query relative to the hub (EDGE's tests)."""
        # Only a path on the target's own host is followed (DESIGN: the suite contacts no host the user did not name).
        if not link.startswith(f"/devices/{quote(edge.device_id, safe='')}/") and not link.startswith(
                f"/devices/{edge.device_id}/"):
            raise PreconditionFailed(f"the continuationLink {link[:200]!r} is no path of {edge.device_id}'s scope")
        return self.client.get(link, headers={"Authorization": self.token(edge)})

    def one(self, edge: Edge, version: str, target: str, module: str | None = None) -> httpx.Response:
        params = {"api-version": version, "targetDeviceId": target}
        if module is not None:
            params["targetModuleId"] = module
        return self.client.get(self.path(edge, ONE), params=params, headers={"Authorization": self.token(edge)})

    def target(self, edge: Edge, version: str, page_size: int = 100, link: str = "") -> httpx.Response:
        body = {"pageSize": page_size, "continuationLink": link, "authChain": edge.device_id}
        return self.client.post(self.path(edge, TARGET), params={"api-version": version}, json=body,
                                headers={"Authorization": self.token(edge)})


def device_ids(response: httpx.Response, what: str) -> list[str]:
    """The deviceIds of a ScopeResult; PreconditionFailed when the answer is none."""
    body = json_of(response)
    if response.status_code // 100 != 2 or not isinstance(body, dict):
        raise PreconditionFailed(f"{what}: {answered(response)}, expected 200 with a ScopeResult")
    devices = body.get("devices") or []
    if not isinstance(devices, list):
        raise PreconditionFailed(f"{what}: devices is not an array")
    return [str(d.get("deviceId")) for d in devices if isinstance(d, dict)]

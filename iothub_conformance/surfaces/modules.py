"""Module identities, the bulk registry operation and the cloud-to-device purge (api-version 2021-04-12) as the suites
make them, written once. Every id is the run's: modules hang off devices the test's Registry created, and a bulk
request names only ids the Registry made (DESIGN: Safety)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from iothub_conformance.http import sas
from iothub_conformance.rules.failures import PreconditionFailed, answered, json_of

from .devices import Registry
from .devices import path as device_path

V2021 = "2021-04-12"


def module_path(device_id: str, module_id: str | None = None) -> str:
    base = device_path(device_id) + "/modules"
    return base if module_id is None else base + "/" + quote(module_id, safe="")


class Modules:
    """Modules on the devices of one Registry; they go when their device is deleted (Registry.cleanup)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client: httpx.Client = registry.client

    def _params(self) -> dict:
        return {"api-version": V2021}

    def put(self, device_id: str, module_id: str, body: dict | None = None, *, if_match: str | None = None,
            headers: dict | None = None) -> httpx.Response:
        self._own(device_id)
        hdrs = dict(headers or {})
        if if_match is not None:
            hdrs["If-Match"] = if_match
        body = {"moduleId": module_id, "deviceId": device_id} if body is None else body
        return self.client.put(module_path(device_id, module_id), params=self._params(), json=body, headers=hdrs)

    def make(self, device_id: str, module_id: str, **fields) -> httpx.Response:
        """A module the test relies on: PreconditionFailed unless the target created it and answered with it."""
        response = self.put(device_id, module_id, {"moduleId": module_id, "deviceId": device_id, **fields})
        if response.status_code not in (200, 201) or not isinstance(json_of(response), dict):
            raise PreconditionFailed(f"could not create module {module_id} on {device_id}: {answered(response)}")
        return response

    def get(self, device_id: str, module_id: str, headers: dict | None = None) -> httpx.Response:
        return self.client.get(module_path(device_id, module_id), params=self._params(), headers=headers or {})

    def read(self, device_id: str, module_id: str, what: str = "") -> dict:
        response = self.get(device_id, module_id)
        body = json_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise PreconditionFailed(f"could not read module {module_id} of {device_id} back"
                                     f"{' ' + what if what else ''}: {answered(response)}")
        return body

    def list(self, device_id: str) -> httpx.Response:
        return self.client.get(module_path(device_id), params=self._params())

    def delete(self, device_id: str, module_id: str, *, if_match: str | None = "*") -> httpx.Response:
        self._own(device_id)
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.client.delete(module_path(device_id, module_id), params=self._params(), headers=headers)

    def token(self, host_name: str, device_id: str, module_id: str, key: str) -> str:
        """A module-scoped SAS token: sr <host>/devices/<d>/modules/<m>
        (docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md)."""
        return sas.build_token(f"{host_name}/devices/{device_id}/modules/{module_id}", key)

    def _own(self, device_id: str) -> None:
        if not device_id.startswith(self.registry.prefix):
            raise PreconditionFailed(f"refusing to change modules of {device_id!r}: not a device of this run")


class Bulk:
    """POST /devices with items naming only this run's devices; created ones join the Registry's cleanup."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def post(self, items: list[dict]) -> httpx.Response:
        foreign = [item.get("id") for item in items if not str(item.get("id", "")).startswith(self.registry.prefix)]
        if foreign:
            raise PreconditionFailed(f"refusing a bulk request naming devices of no run: {foreign[:3]}")
        for item in items:
            if item.get("importMode") == "create" and item["id"] not in self.registry.created:
                self.registry.created.append(item["id"])
        return self.registry.client.post("/devices", params={"api-version": V2021}, json=items)


def purge(registry: Registry, device_id: str) -> httpx.Response:
    if not device_id.startswith(registry.prefix):
        raise PreconditionFailed(f"refusing to purge {device_id!r}: not a device of this run")
    return registry.client.delete(device_path(device_id) + "/commands", params={"api-version": V2021})

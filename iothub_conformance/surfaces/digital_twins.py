"""IoT Plug and Play digital twins and their commands (api-version 2021-04-12) as the suites make them, written once.

Safety (DESIGN: Safety): reads, patches and commands name only devices whose id has the run prefix.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from iothub_conformance.rules.failures import PreconditionFailed, answered, json_of

from .devices import Registry

V2021 = "2021-04-12"


def twin_path(device_id: str) -> str:
    return "/digitaltwins/" + quote(device_id, safe="")


def command_path(device_id: str, command: str, component: str | None = None) -> str:
    base = twin_path(device_id)
    if component is not None:
        base += "/components/" + quote(component, safe="")
    return f"{base}/commands/{quote(command, safe='')}"


class DigitalTwins:
    """Digital-twin reads, JSON Patch updates and commands on the devices of one Registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client: httpx.Client = registry.client

    def _own(self, device_id: str) -> None:
        if not device_id.startswith(self.registry.prefix):
            raise PreconditionFailed(f"refusing to touch the digital twin of {device_id!r}: not a device of this run")

    def get(self, device_id: str) -> httpx.Response:
        self._own(device_id)
        return self.client.get(twin_path(device_id), params={"api-version": V2021})

    def read(self, device_id: str, what: str = "") -> tuple[dict, httpx.Response]:
        """The digital twin and its response, else PreconditionFailed (there is nothing to compare with)."""
        response = self.get(device_id)
        body = json_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise PreconditionFailed(f"could not read the digital twin of {device_id}{' ' + what if what else ''}: "
                                     f"{answered(response)}")
        return body, response

    def patch(self, device_id: str, operations: list[dict], if_match: str | None = None) -> httpx.Response:
        self._own(device_id)
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.client.patch(twin_path(device_id), params={"api-version": V2021}, json=operations, headers=headers)

    def patched(self, device_id: str, operations: list[dict], what: str = "") -> httpx.Response:
        """A patch the test relies on (not the one it judges): its 202, else PreconditionFailed."""
        response = self.patch(device_id, operations)
        if response.status_code != 202:
            raise PreconditionFailed(f"could not patch the digital twin of {device_id}{' ' + what if what else ''}: "
                                     f"{answered(response)}")
        return response

    def command(self, device_id: str, command: str, payload: object = None, component: str | None = None,
                **timeouts: int) -> httpx.Response:
        """A command; responseTimeoutInSeconds / connectTimeoutInSeconds given by name go in the query."""
        self._own(device_id)
        params: dict[str, str | int] = {"api-version": V2021, **timeouts}
        return self.client.post(command_path(device_id, command, component), params=params, json=payload)


def add(path: str, value: object) -> dict:
    return {"op": "add", "path": path, "value": value}


def replace(path: str, value: object) -> dict:
    return {"op": "replace", "path": path, "value": value}


def remove(path: str) -> dict:
    return {"op": "remove", "path": path}

"""Device-identity requests as the suites make them, written once."""

from __future__ import annotations

import itertools
from urllib.parse import quote

import httpx

from iothub_conformance.rules.failures import PreconditionFailed, answered, require_object


def path(device_id: str) -> str:
    """/devices/{deviceId}, percent-encoded: ids may hold # ? % and other reserved characters."""
    return "/devices/" + quote(device_id, safe="")


# One counter for the whole run (each process; under `run -n N` the prefix names the worker): a device a test could
# not delete (a target refusing the cleanup) never comes back as another test's "fresh" device with its old queue.
_NAMES = itertools.count(1)


class Registry:
    def __init__(self, client: httpx.Client, api_version: str, prefix: str) -> None:
        self.client = client
        self.api_version = api_version
        self.prefix = prefix
        self.created: list[str] = []

    def name(self, label: str = "dev") -> str:
        """A fresh deviceId owned by this run."""
        return f"{self.prefix}{label}-{next(_NAMES)}"

    def _params(self, api_version) -> dict:
        return {"api-version": api_version or self.api_version}

    def put(self, device_id: str, body: dict | None = None, *, if_match: str | None = None,
            api_version: str | None = None, headers: dict | None = None, **kwargs) -> httpx.Response:
        hdrs = dict(headers or {})
        if if_match is not None:
            hdrs["If-Match"] = if_match
        if body is None:
            body = {"deviceId": device_id}
        response = self.client.put(path(device_id), params=self._params(api_version), json=body, headers=hdrs,
                                   **kwargs)
        if response.status_code in (200, 201) and device_id not in self.created:
            self.created.append(device_id)
        return response

    def create(self, label: str = "dev", **fields) -> tuple[str, httpx.Response]:
        device_id = self.name(label)
        return device_id, self.put(device_id, {"deviceId": device_id, **fields})

    def make(self, label: str = "dev", **fields) -> tuple[str, httpx.Response]:
        """A device the test relies on (not the create it judges): PreconditionFailed unless the target created it
        and answered with its identity."""
        device_id, response = self.create(label, **fields)
        require_object(response, f"could not create device {device_id}", (200, 201), field="deviceId")
        return device_id, response

    def read(self, device_id: str, what: str = "") -> httpx.Response:
        """The device as stored, with 200 and its identity, else PreconditionFailed (nothing to compare with)."""
        response = self.get(device_id)
        require_object(response, f"could not read device {device_id} back{' ' + what if what else ''}")
        return response

    def exists(self, device_id: str, what: str = "") -> bool:
        """Whether the device is there: 200 yes, 404 no; any other answer cannot tell, so PreconditionFailed."""
        response = self.get(device_id)
        if response.status_code not in (200, 404):
            raise PreconditionFailed(f"could not tell whether device {device_id} exists{' ' + what if what else ''}: "
                                     f"{answered(response)}")
        return response.status_code == 200

    def get(self, device_id: str, **kwargs) -> httpx.Response:
        return self.client.get(path(device_id), params=self._params(kwargs.pop("api_version", None)), **kwargs)

    def delete(self, device_id: str, *, if_match: str | None = "*", **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if if_match is not None:
            headers["If-Match"] = if_match
        return self.client.delete(path(device_id), params=self._params(kwargs.pop("api_version", None)),
                                  headers=headers, **kwargs)

    def cleanup(self) -> None:
        """Delete what this registry created, and nothing else."""
        for device_id in self.created:
            self.delete(device_id, if_match="*")
        self.created.clear()

"""Device-messaging requests as a device makes them, written once (device-messaging-rest-apis, INVENTORY §2b, §5)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from iothub_conformance.http import sas
from iothub_conformance.rules.failures import PreconditionFailed, answered, require_object
from iothub_conformance.surfaces.devices import path as device_path


def device_token(host_name: str, device_id: str, key: str, **kwargs) -> str:
    """A device-scoped token: sr = <host>/devices/<id>, no skn, signed with the device's own key (INVENTORY §5)."""
    return sas.build_token(f"{host_name}/devices/{device_id}", key, None, **kwargs)


def lock_of(etag: str | None) -> str | None:
    """The lock token in a receive ETag: clients strip the surrounding double quotes (INVENTORY §6)."""
    if etag is None:
        return None
    value = etag.strip()
    if value.startswith("W/"):
        value = value[2:]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value


# How the suite spells the cloud-to-device path at 2021-04-12: the REST reference's deviceBound (the 2016 pages say
# devicebound). Which casings a target must serve is the profile's rule c2d_path_casings.
DEVICE_BOUND_2021 = "deviceBound"


class DeviceClient:
    """One device's messaging endpoints, signed with that device's key unless a request says otherwise."""

    @classmethod
    def of_created(cls, client: httpx.Client, target, device_id: str, created: httpx.Response,
                   api_version: str | None = None, bound: str = "devicebound") -> DeviceClient:
        """The client of a device the run just created (`created` answers its PUT), with the key the hub gave it, at
        `api_version` (the target's by default)."""
        body = require_object(created, f"could not create device {device_id} for a messaging test", (200, 201))
        key = ((body.get("authentication") or {}).get("symmetricKey") or {}).get("primaryKey")
        if not isinstance(key, str) or not key:
            raise PreconditionFailed(f"device {device_id} has no primary key to sign its messages with: "
                                     f"{answered(created)}")
        return cls(client, target.connection.host_name, api_version or target.api_version, device_id, key, bound)

    def __init__(self, client: httpx.Client, host_name: str, api_version: str, device_id: str, key: str,
                 bound: str = "devicebound") -> None:
        self.client = client
        self.host_name = host_name
        self.api_version = api_version
        self.device_id = device_id
        self.key = key
        # The path segment of cloud-to-device calls: the 2016 pages' devicebound, or 2021-04-12's deviceBound (LEARN).
        self.bound = bound

    def token(self, **kwargs) -> str:
        return device_token(self.host_name, self.device_id, self.key, **kwargs)

    def _request(self, method: str, suffix: str, *, headers: dict | None = None, params: dict | None = None,
                 **kwargs) -> httpx.Response:
        hdrs = {"Authorization": self.token(), **(headers or {})}
        query = {"api-version": self.api_version, **(params or {})}
        return self.client.request(method, device_path(self.device_id) + suffix, params=query, headers=hdrs,
                                   **kwargs)

    def send(self, body: bytes = b"", headers: dict | None = None, **kwargs) -> httpx.Response:
        return self._request("POST", "/messages/events", content=body, headers=headers, **kwargs)

    def receive(self, headers: dict | None = None, **kwargs) -> httpx.Response:
        return self._request("GET", f"/messages/{self.bound}", headers=headers, **kwargs)

    def complete(self, lock: str, **kwargs) -> httpx.Response:
        return self._request("DELETE", f"/messages/{self.bound}/" + quote(lock, safe=""), **kwargs)

    def reject(self, lock: str, encoding: str = "valueless", **kwargs) -> httpx.Response:
        """reject-a-cloud-to-device-message.md: `?reject` with no value; `encoding="empty"`: `reject=` as the Azure
        CLI sends it (INVENTORY-2021-04-12.md §10 C8)."""
        if encoding == "empty":
            return self._request("DELETE", f"/messages/{self.bound}/" + quote(lock, safe=""), params={"reject": ""},
                                 **kwargs)
        url = device_path(self.device_id) + f"/messages/{self.bound}/" + quote(lock, safe="")
        hdrs = {"Authorization": self.token(), **(kwargs.pop("headers", None) or {})}
        request = self.client.build_request("DELETE", url, params={"api-version": self.api_version}, headers=hdrs)
        request.url = request.url.copy_with(query=b"reject&" + request.url.query)
        return self.client.send(request, **kwargs)

    def abandon(self, lock: str, **kwargs) -> httpx.Response:
        return self._request("POST", f"/messages/{self.bound}/" + quote(lock, safe="") + "/abandon", **kwargs)


class FeedbackClient:
    """The service side's cloud-to-device feedback at api-version 2021-04-12 (docs/sources/service-2021-04-12.json,
    CloudToDeviceMessages_*FeedbackNotification), signed as the client's policy unless a request says otherwise."""

    PATH = "/messages/serviceBound/feedback"

    def __init__(self, client: httpx.Client, api_version: str = "2021-04-12") -> None:
        self.client = client
        self.api_version = api_version

    def _request(self, method: str, suffix: str = "", **kwargs) -> httpx.Response:
        return self.client.request(method, self.PATH + suffix, params={"api-version": self.api_version}, **kwargs)

    def receive(self, **kwargs) -> httpx.Response:
        return self._request("GET", **kwargs)

    def complete(self, lock: str, **kwargs) -> httpx.Response:
        return self._request("DELETE", "/" + quote(lock, safe=""), **kwargs)

    def abandon(self, lock: str, **kwargs) -> httpx.Response:
        return self._request("POST", "/" + quote(lock, safe="") + "/abandon", **kwargs)

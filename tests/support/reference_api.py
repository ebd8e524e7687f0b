"""One in-process reference for the reference's own tests: a data-plane hub and the resource provider beside it (one
clock) behind a Starlette TestClient, with signed request helpers for every surface.

Tokens: `token=MISSING` (the default) signs as the owner policy (or, for device calls, with the device's own key, and
for the resource provider with its bearer token); `token=None` sends no Authorization header; a string is sent as it is.
Blobs: the data plane's import/export jobs reach `store` (a BlobStore), the provider's hubs reach `storage` (the
reference's own MemoryStorage).
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

import httpx
from starlette.exceptions import StarletteDeprecationWarning

from iothub_conformance.http import sas
from iothub_conformance.reference import FAULTS, Hub, ResourceProvider, create_app
from iothub_conformance.reference.storage import MemoryStorage
from iothub_conformance.rules.profiles import IOTHUB, Profile

with warnings.catch_warnings():  # Starlette asks for a newer client package; httpx is what this project uses
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

API = {"api-version": "2016-02-03"}
TWIN_API = {"api-version": "2016-11-14"}  # twins and scheduled jobs
OWNER = "iothubowner"
MISSING: Any = object()
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

ACCOUNT = "https://account.blob.core.windows.net"
SAS = "sv=2020-10-02&sp=rwdl&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"

RP_BASE = "https://management.conformance.local"
SUB = "00000000-0000-0000-0000-000000000000"
GROUP = "conformance"
RP_JSON = "application/json; charset=utf-8"


def container(name: str = "out", sas_query: str = SAS, account: str = ACCOUNT) -> str:
    """A container SAS URI in BlobStore's account."""
    return f"{account}/{name}?{sas_query}" if sas_query else f"{account}/{name}"


def error_code(response: httpx.Response) -> str:
    """The IoT Hub error code, after checking that the header and the envelope's Message agree."""
    code = response.headers["iothub-errorcode"]
    assert response.json()["Message"].startswith(f"ErrorCode:{code};")
    return code


def lock_of(response: httpx.Response) -> str:
    """The lock token of a received cloud-to-device message: its ETag without the quotes."""
    return response.headers["ETag"].strip('"')


def rp_error_code(response: httpx.Response) -> str:
    """The resource provider's ErrorDetails code, after checking the envelope."""
    assert response.headers["content-type"] == RP_JSON
    payload = response.json()
    assert set(payload) == {"Code", "HttpStatusCode", "Message", "Details"}
    assert all(isinstance(value, str) for value in payload.values())
    assert payload["HttpStatusCode"] == str(response.status_code) and payload["Message"]
    return payload["Code"]


def group_path(group: str = GROUP, sub: str = SUB) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Devices/IotHubs"


def hub_path(name: str, group: str = GROUP, sub: str = SUB) -> str:
    return f"{group_path(group, sub)}/{name}"


def hub_body(sku: str = "S1", capacity: int = 1, location: str = "West US", **extra) -> dict:
    return {"location": location, "sku": {"name": sku, "capacity": capacity}, **extra}


class BlobStore:
    """Blob containers in memory: put, get and delete of a blob and the container list, as Azure Storage answers
    them; 403 without a SAS signature, and no connection at all to any host but the account's."""

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}  # (container, blob name) → content
        self.content_types: dict[tuple[str, str], str] = {}
        self.gate: threading.Event | None = None  # when set up, every request waits for it
        self.entered = threading.Event()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if request.url.host != httpx.URL(ACCOUNT).host:
            raise httpx.ConnectError("no such host", request=request)
        if "sig=" not in request.url.query.decode():
            return httpx.Response(403, text="AuthenticationFailed")
        name, _, blob = request.url.path.lstrip("/").partition("/")
        blob = unquote(blob)
        if not blob:
            if request.method == "GET" and request.url.params.get("comp") == "list":
                prefix = request.url.params.get("prefix", "")
                names = sorted(n for c, n in self.blobs if c == name and n.startswith(prefix))
                listed = "".join(f"<Blob><Name>{escape(n)}</Name></Blob>" for n in names)
                return httpx.Response(200, text=f"<EnumerationResults><Blobs>{listed}</Blobs><NextMarker/>"
                                                "</EnumerationResults>")
            return httpx.Response(400)
        key = (name, blob)
        if request.method == "PUT":
            self.blobs[key] = request.read()
            self.content_types[key] = request.headers.get("Content-Type", "")
            return httpx.Response(201)
        if request.method == "GET":
            return httpx.Response(200, content=self.blobs[key]) if key in self.blobs else httpx.Response(404)
        if request.method == "DELETE":
            return httpx.Response(202) if self.blobs.pop(key, None) is not None else httpx.Response(404)
        return httpx.Response(405)

    def lines(self, name: str = "out", blob: str = "devices.txt") -> list[dict]:
        return [json.loads(line) for line in self.blobs[(name, blob)].decode().splitlines() if line]

    def write(self, lines: list, name: str = "in", blob: str = "devices.txt") -> None:
        self.blobs[(name, blob)] = "".join((item if isinstance(item, str) else json.dumps(item)) + "\n"
                                           for item in lines).encode()


class ReferenceApi:
    """The reference in-process: `hub` (the data plane), `provider` (the resource provider), `client` (TestClient)."""

    def __init__(self, *faults: str, profile: Profile = IOTHUB, hub: Hub | None = None, params: dict | None = None,
                 base_url: str | None = None):
        self.hub = hub or Hub.create(profile=profile, faults=faults)
        self.provider = ResourceProvider.beside(self.hub)
        self.store = BlobStore()
        self.hub.blob_transport = httpx.MockTransport(self.store.handler)
        self.storage = MemoryStorage()
        self.provider.blob_transport = self.storage.transport()
        self.params = API if params is None else params  # the query of `request` unless given
        self.client = TestClient(create_app(self.hub, self.provider), base_url=base_url or f"https://{self.hub.host_name}")
        self.keys: dict[str, str] = {}  # deviceId → primary key, for the devices made by `device`

    # -- data plane: tokens and requests --------------------------------------------------------------------------

    def policy(self, name: str = OWNER) -> str:
        return sas.build_token(self.hub.host_name, self.hub.policies[name].key, name)

    def device_token(self, device_id: str) -> str:
        return sas.build_token(f"{self.hub.host_name}/devices/{device_id}", self.keys[device_id])

    def request(self, method: str, url: str, token=MISSING, headers=None, params=MISSING, **kwargs) -> httpx.Response:
        auth = {} if token is None else {"Authorization": self.policy() if token is MISSING else token}
        query = self.params if params is MISSING else params
        return self.client.request(method, url, params=query, headers={**auth, **(headers or {})}, **kwargs)

    # -- device identities ----------------------------------------------------------------------------------------

    def device(self, device_id: str = "dev1", **body) -> dict:
        """Create the device (its key is kept for `device_token`); its representation."""
        response = self.put_device(device_id, {"deviceId": device_id, **body})
        assert response.status_code in (200, 201), response.text
        self.keys[device_id] = response.json()["authentication"]["symmetricKey"]["primaryKey"]
        return response.json()

    def devices(self, *device_ids: str) -> None:
        for device_id in device_ids:
            self.device(device_id)

    def put_device(self, device_id: str = "d", body=None, if_match=None, **kwargs) -> httpx.Response:
        headers = {**({"If-Match": if_match} if if_match is not None else {}), **kwargs.pop("headers", {})}
        kwargs.setdefault("params", API)
        return self.request("PUT", "/devices/" + quote(device_id, safe=""), headers=headers,
                            json={} if body is None else body, **kwargs)

    def put_named(self, device_id: str = "d", body=None, if_match=None, **kwargs) -> httpx.Response:
        """put_device with a body that names the device (`{"deviceId": device_id}`) unless given one."""
        return self.put_device(device_id, {"deviceId": device_id} if body is None else body, if_match, **kwargs)

    def get_device(self, device_id: str = "d", **kwargs) -> httpx.Response:
        kwargs.setdefault("params", API)
        return self.request("GET", "/devices/" + quote(device_id, safe=""), **kwargs)

    def delete_device(self, device_id: str = "d", if_match=None, **kwargs) -> httpx.Response:
        headers = {**({"If-Match": if_match} if if_match is not None else {}), **kwargs.pop("headers", {})}
        kwargs.setdefault("params", API)
        return self.request("DELETE", "/devices/" + quote(device_id, safe=""), headers=headers, **kwargs)

    # -- device messaging -----------------------------------------------------------------------------------------

    def device_call(self, method: str, device_id: str, suffix: str, token=MISSING, **kwargs) -> httpx.Response:
        """A device-side messaging call, signed with the device's own key unless given another token."""
        token = self.device_token(device_id) if token is MISSING else token
        kwargs.setdefault("params", API)
        return self.request(method, f"/devices/{quote(device_id, safe='')}/messages/{suffix}", token=token, **kwargs)

    def send(self, device_id: str = "dev1", body: bytes = b"", **kwargs) -> httpx.Response:
        return self.device_call("POST", device_id, "events", content=body, **kwargs)

    def receive(self, device_id: str = "dev1", **kwargs) -> httpx.Response:
        return self.device_call("GET", device_id, "devicebound", **kwargs)

    def complete(self, lock: str, device_id: str = "dev1", **kwargs) -> httpx.Response:
        return self.device_call("DELETE", device_id, f"devicebound/{lock}", **kwargs)

    def reject(self, lock: str, device_id: str = "dev1", **kwargs) -> httpx.Response:
        return self.device_call("DELETE", device_id, f"devicebound/{lock}", params={**API, "reject": ""}, **kwargs)

    def abandon(self, lock: str, device_id: str = "dev1", **kwargs) -> httpx.Response:
        return self.device_call("POST", device_id, f"devicebound/{lock}/abandon", **kwargs)

    def enqueue(self, device_id: str = "dev1", body: bytes = b"hello", **properties):
        """A cloud-to-device message put straight into the device's queue (Hub.enqueue)."""
        return self.hub.enqueue(device_id, body, properties)

    def post_c2d(self, to, body: bytes = b"hello", headers=None, token=MISSING, path: str = "/messages/deviceBound"):
        """The service-side send, IoTHub-To naming the device (None: no IoTHub-To header)."""
        to_header = {} if to is None else {"IoTHub-To": to}
        return self.request("POST", path, token=token, headers={**to_header, **(headers or {})}, content=body,
                            params=API)

    # -- import/export jobs ---------------------------------------------------------------------------------------

    def create_job(self, body, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", API)
        return self.request("POST", "/jobs/create", json=body, **kwargs)

    def export(self, **body) -> httpx.Response:
        return self.create_job({"type": "export", "outputBlobContainerUri": container("out"), **body})

    def import_(self, lines: list | None = None, **body) -> httpx.Response:
        if lines is not None:
            self.store.write(lines)
        return self.create_job({"type": "import", "inputBlobContainerUri": container("in"),
                                "outputBlobContainerUri": container("out"), **body})

    def importdevices(self, body, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", API)
        return self.request("GET", "/importdevices", json=body, **kwargs)

    def get_job(self, job_id: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", API)
        return self.request("GET", f"/jobs/{job_id}", **kwargs)

    def list_jobs(self, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", API)
        return self.request("GET", "/jobs", **kwargs)

    def cancel_job(self, job_id: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", API)
        return self.request("DELETE", f"/jobs/{job_id}", **kwargs)

    def run_job(self, response: httpx.Response) -> dict:
        """The import/export job the response started, after its delay has passed."""
        assert response.status_code == 200, response.text
        self.hub.clock.advance(self.hub.job_delay + 1)
        fetched = self.get_job(response.json()["jobId"])
        assert fetched.status_code == 200
        return fetched.json()

    # -- twins and scheduled jobs (api-version 2016-11-14) ---------------------------------------------------------

    def twin(self, device_id: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", TWIN_API)
        return self.request("GET", f"/twins/{device_id}", **kwargs)

    def patch_twin(self, device_id: str, body=None, if_match=None, **kwargs) -> httpx.Response:
        headers = {"If-Match": if_match} if if_match is not None else {}
        kwargs.setdefault("params", TWIN_API)
        return self.request("PATCH", f"/twins/{device_id}", headers=headers, json=body, **kwargs)

    def create_v2(self, job_id: str, body, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", TWIN_API)
        return self.request("PUT", f"/jobs/v2/{job_id}", json=body, **kwargs)

    def twin_job(self, job_id: str, condition: str = "deviceId = 'a'", update=None, token=MISSING,
                 **body) -> httpx.Response:
        update = {"tags": {"site": "north"}} if update is None else update
        return self.create_v2(job_id, {"jobId": job_id, "type": "scheduleUpdateTwin", "queryCondition": condition,
                                       "updateTwin": update, **body}, token=token)

    def method_job(self, job_id: str, condition: str = "deviceId = 'a'", name: str = "reboot", payload=None,
                   token=MISSING, **body) -> httpx.Response:
        return self.create_v2(job_id, {"jobId": job_id, "type": "scheduleDeviceMethod", "queryCondition": condition,
                                       "cloudToDeviceMethod": {"methodName": name, "payload": payload}, **body},
                              token=token)

    def get_v2(self, job_id: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", TWIN_API)
        return self.request("GET", f"/jobs/v2/{job_id}", **kwargs)

    def cancel_v2(self, job_id: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("params", TWIN_API)
        return self.request("POST", f"/jobs/v2/{job_id}/cancel", **kwargs)

    def query_v2(self, token=MISSING, **params) -> httpx.Response:
        return self.request("GET", "/jobs/v2/query", token=token, params={**TWIN_API, **params})

    def run_v2(self, job_id: str) -> dict:
        """The scheduled job after its delay has passed."""
        self.hub.clock.advance(self.hub.job_delay + 1)
        fetched = self.get_v2(job_id)
        assert fetched.status_code == 200, fetched.text
        return fetched.json()

    # -- the resource provider ------------------------------------------------------------------------------------

    def rp_request(self, method: str, url: str, token=MISSING, params=MISSING, headers=None,
                   **kwargs) -> httpx.Response:
        """A resource-provider request with its bearer token; api-version unless the URL has a query of its own."""
        auth = {} if token is None else {"Authorization": f"Bearer {self.provider.token if token is MISSING else token}"}
        query = (None if "?" in url else API) if params is MISSING else params
        return self.client.request(method, url, params=query, headers={**auth, **(headers or {})}, **kwargs)

    def advance(self, seconds: float | None = None) -> None:
        """Move the shared clock on: by the provider's operation delay unless told otherwise."""
        self.hub.clock.advance(self.provider.delay if seconds is None else seconds)

    def put_hub(self, name: str, payload: dict | None = None, headers=None, group: str = GROUP,
                **body) -> httpx.Response:
        return self.rp_request("PUT", hub_path(name, group), json=hub_body(**body) if payload is None else payload,
                               headers=headers)

    def get_hub(self, name: str, group: str = GROUP) -> httpx.Response:
        return self.rp_request("GET", hub_path(name, group))

    def delete_hub(self, name: str, headers=None) -> httpx.Response:
        return self.rp_request("DELETE", hub_path(name), headers=headers)

    def create_hub(self, name: str, group: str = GROUP, **body) -> dict:
        """A hub that exists and has finished provisioning: its PUT body (with keys)."""
        response = self.put_hub(name, group=group, **body)
        assert response.status_code in (200, 201), response.text
        self.advance()
        return response.json()

    def status(self, url: str) -> httpx.Response:
        return self.rp_request("GET", url)

    def hub_keys(self, name: str) -> dict[str, dict]:
        response = self.rp_request("POST", hub_path(name) + "/listkeys")
        assert response.status_code == 200, response.text
        return {item["keyName"]: item for item in response.json()["value"]}

    def import_lines(self, name: str, lines: list[dict]) -> str:
        """Import `lines` into the managed hub through the RP (ARM16 body) and run the job; its jobId."""
        self.storage.container_uri("in")
        self.storage.containers["in"]["devices.txt"] = "".join(json.dumps(item) + "\n" for item in lines).encode()
        response = self.rp_request("POST", hub_path(name) + "/importDevices", json={
            "InputBlobContainerUri": self.storage.container_uri("in"),
            "OutputBlobContainerUri": self.storage.container_uri("out")})
        assert response.status_code == 200, response.text
        self.advance(self.provider.job_delay)
        return response.json()["jobId"]

    def hub_job(self, name: str, job_id: str) -> dict:
        response = self.rp_request("GET", f"{hub_path(name)}/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def pages(self, url: str) -> list[list[dict]]:
        """Every page of an arm16 list, following nextLink (at most 20)."""
        pages, response = [], self.rp_request("GET", url)
        while True:
            assert response.status_code == 200, response.text
            payload = response.json()
            pages.append(payload["value"])
            if not payload["nextLink"]:
                return pages
            assert len(pages) < 20
            response = self.rp_request("GET", payload["nextLink"])


def rp_api(profile: Profile = IOTHUB, faults=(), base_url: str = RP_BASE) -> ReferenceApi:
    """The reference as its resource provider's clients see it: requests go to RP_BASE (any host does)."""
    return ReferenceApi(*faults, profile=profile, base_url=base_url)


def import_line(device_id: str, status: str = "enabled") -> dict:
    """One line of an import blob that creates the device."""
    return {"id": device_id, "importMode": "create", "status": status}


# What a scheduled job that reached no device counts (the 2016-11-14 page's deviceJobStatistics).
ZERO_STATISTICS = {"deviceCount": 0, "failedCount": 0, "succeededCount": 0, "runningCount": 0, "pendingCount": 0}


def iso(seconds: float) -> str:
    """Epoch seconds as an ISO 8601 UTC time with an offset."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


# The requirement-id prefixes of each surface whose faults a test module of its own proves (FAULTS[name].breaks).
SURFACE_PREFIXES = {
    "messaging": ("MSG-",),
    "import/export jobs": ("JOB-",),
    "scheduled jobs and twins": ("JOBV2-", "TWIN-"),
    "resource provider": ("RP-",),
    # api-version 2021-04-12: each group's faults are checked by its own *_faults test module
    "registry 2021": ("DEVICE-", "BULK-", "MODULE-", "STATS-", "PURGE-", "PERM-"),
    "twins, methods and query 2021": ("DTWIN-", "MTWIN-", "METHOD-", "QUERY-"),
    "jobs 2021": ("IEJOB-", "SJOB-"),
    "configurations 2021": ("CONFIG-",),
    "digital twins 2021": ("PNP-",),
    "messaging 2021": ("D2C-", "C2D-", "FEEDBACK-"),
    "files 2021": ("FILE-",),
    "credentials and scope 2021": ("DEVAUTH-", "SCOPE-"),
}


def faults_breaking(*prefixes: str) -> list[str]:
    """The declared faults that break a requirement whose id starts with one of `prefixes`, in table order."""
    return [name for name, fault in FAULTS.items() if any(req.startswith(prefixes) for req in fault.breaks)]

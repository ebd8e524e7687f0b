"""The resource provider client (ARM, api-version 2016-02-03): paths, hub bodies in the profile's dialect,
long-running operations and paging. Written once, used by the RP suite.

Sources: the rp__*.md pages, export-device-identities1.md, import-device-identities.md, INVENTORY.md §1 (async rules),
§2c, §7 item 8; OBSERVED.md §2. The profile rule `rp_dialect` chooses between the pages ("docs") and the ARM Swagger
the RP SDK speaks ("arm16") wherever the two differ.
"""

from __future__ import annotations

import builtins
import itertools
import re
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import httpx

from iothub_conformance.http.transport import retry_after as header_seconds
from iothub_conformance.rules.failures import PreconditionFailed, answered, json_of

API_VERSION = "2016-02-03"
PARAMS = {"api-version": API_VERSION}
# msrestazure's poller (OBSERVED §2: the RP SDK) ends on these operation statuses, compared case-insensitively.
TERMINAL = ("succeeded", "failed", "canceled")
RIGHTS = ("RegistryRead", "RegistryWrite", "ServiceConnect", "DeviceConnect")
HUB_NAME = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{2,49}[a-zA-Z0-9]$")  # ARM16 IotHubDescription.name
MAX_PAGES = 100  # a list that keeps handing out nextLinks past this is reported, not followed forever
CLOCK_POLLS = 60  # polls of an operation on the embedded reference, whose clock moves instead of the suite sleeping
MAX_RETRY_AFTER = 60
# One counter for the whole run: a hub another test deleted may still be going away under its old name.
_NAMES = itertools.count(1)


@dataclass(frozen=True)
class Dialect:
    """What differs between the two RP contracts (INVENTORY §2c, §7 item 8): the one place that says it."""

    name: str
    list_shape: str  # "array": a bare JSON array, no paging (rp__list-*); "value": {value, nextLink} (x-ms-pageable)
    keys_path: str  # after …/IotHubs/{name}/
    keys_field: str  # where listkeys puts the policies
    groups_path: str  # after …/IotHubs/{name}/
    group_created: int
    group_deleted: int
    job_started: int  # exportDevices / importDevices: 202 starts an operation, 200 answers with the job
    retention_field: str
    arm16_operations: bool  # keys by name, checkNameAvailability, IotHubStats: ARM16 only, no page has them


DIALECTS = {
    "docs": Dialect("docs", "array", "IoTHubKeys/listkeys", "authorizationPolicies", "events/ConsumerGroups",
                    201, 204, 202, "messageRetentionInDays", False),
    "arm16": Dialect("arm16", "value", "listkeys", "value", "eventHubEndpoints/events/ConsumerGroups",
                     200, 200, 200, "retentionTimeInDays", True),
}


@dataclass
class Operation:
    """How a long-running operation went: the statuses its Azure-AsyncOperation URL reported, in order, and its
    last answer. `url` is None when the first response named no operation."""

    url: str | None
    seen: list[str] = field(default_factory=list)
    last: httpx.Response | None = None
    polls: int = 0
    elsewhere: str | None = None  # why the URL was not followed: it names a host other than the resource provider

    @property
    def status(self) -> str | None:
        return self.seen[-1] if self.seen else None

    @property
    def ended(self) -> bool:
        return self.status is not None and self.status.lower() in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status is not None and self.status.lower() == "succeeded"


@dataclass
class Listing:
    """Every item a list gave, page by page, and what was wrong with its paging."""

    pages: list[list] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    shape: str | None = None  # "array" (a bare JSON array, the rp__list-* pages) or "value" ({value, nextLink})

    @property
    def items(self) -> list:
        return [item for page in self.pages for item in page]


def retry_after(response: httpx.Response, default: float = 1.0) -> float:
    """Seconds to wait before the next poll: the response's Retry-After (read as the transport reads it), bounded to
    1–60."""
    seconds = header_seconds(response)
    return min(max(default if seconds is None else seconds, 1.0), MAX_RETRY_AFTER)


def elsewhere(client: httpx.Client, url: str) -> str | None:
    """Why `url` (an operation or a nextLink the RP handed out) must not be followed, or None. The suite sends its
    bearer token only to the --rp-url the user named; a URL on another scheme, host or port is the RP's departure,
    reported, never contacted. A relative URL stays on the client's host."""
    parts, base = urlsplit(url), client.base_url
    if not parts.netloc:
        return None
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    base_port = base.port or {"http": 80, "https": 443}.get(base.scheme)
    if (parts.scheme, (parts.hostname or "").lower(), port) == (base.scheme, base.host.lower(), base_port):
        return None
    return f"{url[:200]} is not on the resource provider {base.scheme}://{base.netloc.decode()}: not followed"


def wait(client: httpx.Client, url: str | None, timeout: float, clock=None) -> Operation:
    """Poll an Azure-AsyncOperation URL until its status is terminal. With the embedded reference's clock each poll
    moves it forward by Retry-After instead of sleeping (at most CLOCK_POLLS polls); elsewhere the wait ends after
    `timeout` seconds."""
    operation = Operation(url)
    if not url:
        return operation
    operation.elsewhere = elsewhere(client, url)
    if operation.elsewhere:
        return operation
    deadline = time.monotonic() + timeout
    for count in itertools.count(1):
        response = client.get(url)
        operation.last, operation.polls = response, count
        status = _status_of(response)
        if status is not None and (not operation.seen or operation.seen[-1] != status):
            operation.seen.append(status)
        if response.status_code != 200 or operation.ended:
            return operation
        pause = retry_after(response)
        if clock is not None:
            if count >= CLOCK_POLLS:
                return operation
            clock.advance(pause)
        else:
            if time.monotonic() + pause > deadline:
                return operation
            time.sleep(pause)
    raise AssertionError("unreachable")


def _status_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    status = body.get("status") if isinstance(body, dict) else None
    return status if isinstance(status, str) else None


def pages(client: httpx.Client, url: str, params: dict | None = None, key: str = "value") -> Listing:
    """GET a list and follow its nextLinks (ARM16 x-ms-pageable). A bare JSON array is one page with no paging (the
    rp__list-* pages). Reports a nextLink that repeats, a page that is not a list, and more than MAX_PAGES pages."""
    listing = Listing()
    seen_links: set[str] = set()
    refused = elsewhere(client, url)
    if refused:
        listing.problems.append(f"the list {refused}")
        return listing
    response = client.get(url, params=params)
    while True:
        listing.statuses.append(response.status_code)
        if response.status_code != 200:
            listing.problems.append(f"page {len(listing.pages) + 1} answered {response.status_code}")
            return listing
        try:
            body = response.json()
        except ValueError:
            listing.problems.append(f"page {len(listing.pages) + 1} is not JSON")
            return listing
        if isinstance(body, list):
            listing.shape = listing.shape or "array"
            listing.pages.append(body)
            return listing
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            listing.problems.append(f"page {len(listing.pages) + 1} has no {key!r} array: {str(body)[:200]}")
            return listing
        listing.shape = listing.shape or "value"
        listing.pages.append(body[key])
        link = body.get("nextLink")
        if not link:
            return listing
        if link in seen_links:
            listing.problems.append(f"nextLink {link[:200]} was handed out twice: the list would never end")
            return listing
        if len(listing.pages) >= MAX_PAGES:
            listing.problems.append(f"more than {MAX_PAGES} pages")
            return listing
        seen_links.add(link)
        refused = elsewhere(client, link)
        if refused:
            listing.problems.append(f"nextLink {refused}")
            return listing
        response = client.get(link)


def repeated(names: list[str]) -> list[str]:
    """Names that occur more than once (case-insensitively, as ARM compares names)."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    return sorted(name for name, count in counts.items() if count > 1)


def policies_of(body) -> dict[str, dict]:
    """Authorization policies in either dialect → {name: {"rights": frozenset, "primaryKey", "secondaryKey"}}.
    docs: {name, permissions: [...]}; ARM16: {keyName, rights: "A, B"}."""
    found: dict[str, dict] = {}
    for item in body if isinstance(body, list) else []:
        if not isinstance(item, dict):
            continue
        name = item.get("keyName", item.get("name"))
        rights = item.get("rights", item.get("permissions"))
        if isinstance(rights, str):
            rights = [part.strip() for part in rights.split(",") if part.strip()]
        if isinstance(name, str):
            found[name] = {"rights": frozenset(rights or ()), "primaryKey": item.get("primaryKey"),
                           "secondaryKey": item.get("secondaryKey")}
    return found


def policy(name: str, rights, dialect: str, primary: str | None = None, secondary: str | None = None) -> dict:
    """One authorization policy for a request body, in the dialect's shape."""
    if dialect == "docs":
        item = {"name": name, "permissions": list(rights)}
    else:
        item = {"keyName": name, "rights": ", ".join(rights)}
    if primary:
        item["primaryKey"] = primary
    if secondary:
        item["secondaryKey"] = secondary
    return item


def hub_body(location: str, dialect: str, sku: str = "S1", capacity: int = 1, tags: dict | None = None,
             policies: list[dict] | None = None, retention_days: int = 1, partitions: int = 2) -> dict:
    """A hub for PUT, in the dialect's shape (rp__create-a-new-iot-hub.md; ARM16 IotHubDescription)."""
    retention = DIALECTS[dialect].retention_field
    properties: dict = {"eventHubEndpoints": {"events": {retention: retention_days, "partitionCount": partitions}}}
    if policies is not None:
        properties["authorizationPolicies"] = policies
    sku_body = {"name": sku, "capacity": capacity}
    if dialect == "docs":  # the create page marks tier required; ARM16 makes it read-only
        sku_body["tier"] = "Free" if sku == "F1" else "Standard"
    return {"location": location, "tags": dict(tags or {}), "properties": properties, "sku": sku_body}


class ResourceManager:
    """The RP operations the suite uses, with the paths and shapes of the profile's dialect. Records the hubs it
    created so `cleanup` deletes exactly those."""

    def __init__(self, client: httpx.Client, target) -> None:
        self.client = client
        self.endpoint = target.rp
        self.dialect = target.profile.value("rp_dialect")
        self.speaks = DIALECTS[self.dialect]
        self.prefix = target.name_prefix
        self.clock = target.controls
        self.created: list[str] = []

    # -- paths ----------------------------------------------------------------------------------------------------
    @property
    def group(self) -> str:
        return (f"/subscriptions/{quote(self.endpoint.subscription, safe='')}/resourceGroups/"
                f"{quote(self.endpoint.resource_group, safe='')}/providers/Microsoft.Devices/IotHubs")

    @property
    def subscription(self) -> str:
        return f"/subscriptions/{quote(self.endpoint.subscription, safe='')}/providers/Microsoft.Devices"

    def hub(self, name: str) -> str:
        return f"{self.group}/{quote(name, safe='')}"

    def consumer_groups(self, name: str, group: str | None = None) -> str:
        """The consumer-group path of the dialect: docs …/events/ConsumerGroups, ARM16
        …/eventHubEndpoints/events/ConsumerGroups (INVENTORY §7 item 8)."""
        base = f"{self.hub(name)}/{self.speaks.groups_path}"
        return base if group is None else f"{base}/{quote(group, safe='')}"

    def keys(self, name: str) -> str:
        return f"{self.hub(name)}/{self.speaks.keys_path}"

    # -- names and bodies -----------------------------------------------------------------------------------------
    def new_name(self, label: str = "hub") -> str:
        """A hub name under the run prefix that fits the ARM16 name pattern (3–50 letters, digits, hyphens)."""
        name = f"{self.prefix}{label}{next(_NAMES)}".lower()[:50].rstrip("-")
        assert HUB_NAME.match(name), f"the run prefix makes an invalid hub name {name!r}"
        return name

    def body(self, **kwargs) -> dict:
        return hub_body(self.endpoint.location, self.dialect, **kwargs)

    # -- hubs -----------------------------------------------------------------------------------------------------
    def put(self, name: str, body: dict, headers: dict | None = None) -> httpx.Response:
        response = self.client.put(self.hub(name), params=PARAMS, json=body, headers=headers)
        if response.status_code in (200, 201) and name not in self.created:
            self.created.append(name)
        return response

    def get(self, name: str) -> httpx.Response:
        return self.client.get(self.hub(name), params=PARAMS)

    def delete(self, name: str, headers: dict | None = None) -> httpx.Response:
        return self.client.delete(self.hub(name), params=PARAMS, headers=headers)

    def wait(self, response: httpx.Response) -> Operation:
        """Follow the response's Azure-AsyncOperation URL (if any) to a terminal status."""
        return wait(self.client, response.headers.get("Azure-AsyncOperation"), self.endpoint.timeout, self.clock)

    def create(self, name: str, **body) -> tuple[httpx.Response, Operation]:
        """PUT a new hub and wait for its operation to end."""
        response = self.put(name, self.body(**body))
        return response, self.wait(response)

    def settled(self, name: str, **body) -> dict:
        """A hub that exists and has finished provisioning: its GET body."""
        response, operation = self.create(name, **body)
        assert response.status_code in (200, 201), (
            f"[RP-CREATE-001] PUT of hub {name} → {response.status_code}: {response.text[:300]}")
        if operation.url:
            assert not operation.elsewhere, f"[RP-LRO-001] creating hub {name}: its operation {operation.elsewhere}"
            assert operation.succeeded, (
                f"[RP-LRO-001] creating hub {name}: its operation reported {' → '.join(operation.seen) or 'nothing'}")
        got = self.get(name)
        assert got.status_code == 200, f"[RP-LRO-001] GET of the hub just created → {got.status_code}"
        body = json_of(got)
        if not isinstance(body, dict):
            raise PreconditionFailed(f"could not read hub {name} just created: {answered(got)} without a JSON hub")
        return body

    def list(self, scope: str = "group") -> Listing:
        url = self.group if scope == "group" else f"{self.subscription}/IotHubs"
        return pages(self.client, url, PARAMS)

    # -- keys, consumer groups, names, stats, jobs ---------------------------------------------------------------
    def list_keys(self, name: str) -> tuple[httpx.Response, dict[str, dict], builtins.list[str]]:
        """The hub's policies with their keys, by the dialect's path: (first response, policies, problems).
        docs: {authorizationPolicies: [...]}; ARM16: a page {value: [...], nextLink}."""
        response = self.client.post(self.keys(name), params=PARAMS)
        if response.status_code != 200:
            return response, {}, []
        body = response.json()
        key = self.speaks.keys_field
        if not isinstance(body, dict) or not isinstance(body.get(key), list):
            return response, {}, [f"no {key} array in {str(body)[:200]}"]
        items, problems = list(body[key]), []
        if self.speaks.list_shape == "value" and body.get("nextLink"):
            rest = pages(self.client, body["nextLink"])
            items += rest.items
            problems += rest.problems
        return response, policies_of(items), problems

    def key(self, name: str, key_name: str) -> httpx.Response:
        """ARM16 GetKeysForKeyName."""
        return self.client.post(f"{self.hub(name)}/IotHubKeys/{quote(key_name, safe='')}/listkeys", params=PARAMS)

    def create_group(self, name: str, group: str) -> httpx.Response:
        return self.client.put(self.consumer_groups(name, group), params=PARAMS)

    def delete_group(self, name: str, group: str) -> httpx.Response:
        return self.client.delete(self.consumer_groups(name, group), params=PARAMS)

    def groups(self, name: str) -> Listing:
        return pages(self.client, self.consumer_groups(name), PARAMS)

    def check_name(self, name: str) -> httpx.Response:
        return self.client.post(f"{self.subscription}/checkNameAvailability", params=PARAMS, json={"Name": name})

    def stats(self, name: str) -> httpx.Response:
        return self.client.get(f"{self.hub(name)}/IotHubStats", params=PARAMS)

    def job(self, name: str, job_id: str) -> httpx.Response:
        return self.client.get(f"{self.hub(name)}/jobs/{quote(job_id, safe='')}", params=PARAMS)

    def export(self, name: str, container_uri: str, exclude_keys: bool = True) -> httpx.Response:
        """exportDevices with the dialect's body (export-device-identities1.md / ARM16 ExportDevicesRequest)."""
        body = ({"exportBlobContainerUri": container_uri, "excludeKeys": exclude_keys} if self.dialect == "docs"
                else {"ExportBlobContainerUri": container_uri, "ExcludeKeys": exclude_keys})
        return self.client.post(f"{self.hub(name)}/exportDevices", params=PARAMS, json=body)

    def import_(self, name: str, input_uri: str, output_uri: str) -> httpx.Response:
        """importDevices with the dialect's body (import-device-identities.md / ARM16 ImportDevicesRequest)."""
        body = ({"inputBlobContainerUri": input_uri, "exportBlobContainerUri": output_uri} if self.dialect == "docs"
                else {"InputBlobContainerUri": input_uri, "OutputBlobContainerUri": output_uri})
        return self.client.post(f"{self.hub(name)}/importDevices", params=PARAMS, json=body)

    def cleanup(self) -> None:
        """Delete every hub this client created; never any other."""
        # The deletes are not waited for: a real hub takes minutes to go, and nothing later depends on it.
        for name in self.created:
            try:
                self.delete(name)
            except httpx.HTTPError:
                pass
        self.created.clear()

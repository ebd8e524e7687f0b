"""Device and module twins, direct methods and query (api-version 2021-04-12) as the suites make them, written once.

Safety (DESIGN: Safety): writes and method calls name only devices whose id has the run prefix; a query names its
devices (`WHERE deviceId IN [...]` of run devices) or the run's own tag, and the client refuses any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

import httpx

from iothub_conformance.rules.failures import PreconditionFailed, answered, json_of

from .devices import Registry

V2021 = "2021-04-12"
MAX_PAGES = 20  # a query's pages the suite follows at most: its queries select a handful of devices
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_IN_LIST = re.compile(r"\bdeviceId\s+IN\s*\[([^\]]*)\]", re.I)


def twin_path(device_id: str, module_id: str | None = None) -> str:
    base = "/twins/" + quote(device_id, safe="")
    return base if module_id is None else f"{base}/modules/{quote(module_id, safe='')}"


def method_path(device_id: str, module_id: str | None = None) -> str:
    return twin_path(device_id, module_id) + "/methods"


def literal(value: str) -> str:
    """A string constant of the query language: single quotes, a quote doubled."""
    return "'" + value.replace("'", "''") + "'"


def id_list(device_ids: Iterable[str]) -> str:
    return "[" + ", ".join(literal(d) for d in device_ids) + "]"


def user_properties(section: dict | None) -> dict:
    """A property section without the hub's own $version and $metadata."""
    return {k: v for k, v in (section or {}).items() if not k.startswith("$")}


class Twins:
    """Twin reads and writes on the devices (and their modules) of one Registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client: httpx.Client = registry.client

    def _own(self, device_id: str) -> None:
        if not device_id.startswith(self.registry.prefix):
            raise PreconditionFailed(f"refusing to change the twin of {device_id!r}: not a device of this run")

    def get(self, device_id: str, module_id: str | None = None) -> httpx.Response:
        return self.client.get(twin_path(device_id, module_id), params={"api-version": V2021})

    def read(self, device_id: str, module_id: str | None = None, what: str = "") -> dict:
        """The twin as stored, else PreconditionFailed (there is nothing to compare with)."""
        response = self.get(device_id, module_id)
        body = json_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            who = device_id + (f" module {module_id}" if module_id else "")
            raise PreconditionFailed(f"could not read the twin of {who}{' ' + what if what else ''}: {answered(response)}")
        return body

    def write(self, method: str, device_id: str, body: dict, module_id: str | None = None, *,
              if_match: str | None = None) -> httpx.Response:
        self._own(device_id)
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.client.request(method, twin_path(device_id, module_id), params={"api-version": V2021},
                                   json=body, headers=headers)

    def patch(self, device_id: str, body: dict, module_id: str | None = None, **kwargs) -> httpx.Response:
        return self.write("PATCH", device_id, body, module_id, **kwargs)

    def replace(self, device_id: str, body: dict, module_id: str | None = None, **kwargs) -> httpx.Response:
        return self.write("PUT", device_id, body, module_id, **kwargs)

    def patched(self, device_id: str, body: dict, module_id: str | None = None, what: str = "") -> dict:
        """A PATCH the test relies on (not the one it judges): its twin, else PreconditionFailed."""
        response = self.patch(device_id, body, module_id)
        twin = json_of(response)
        if response.status_code != 200 or not isinstance(twin, dict):
            raise PreconditionFailed(f"could not update the twin of {device_id}{' ' + what if what else ''}: "
                                     f"{answered(response)}")
        return twin


class Methods:
    """Direct methods on the devices (and modules) of one Registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client: httpx.Client = registry.client

    def invoke(self, device_id: str, body: object, module_id: str | None = None) -> httpx.Response:
        if not device_id.startswith(self.registry.prefix):
            raise PreconditionFailed(f"refusing to call a method of {device_id!r}: not a device of this run")
        return self.client.post(method_path(device_id, module_id), params={"api-version": V2021}, json=body)

    def call(self, device_id: str, name: str = "conformance", payload: object = None, module_id: str | None = None,
             **timeouts: int) -> httpx.Response:
        """methodName, payload and any of responseTimeoutInSeconds / connectTimeoutInSeconds given by name."""
        return self.invoke(device_id, {"methodName": name, "payload": payload, **timeouts}, module_id)


class Query:
    """POST /devices/query over the run's own devices only."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client: httpx.Client = registry.client

    def scoped(self, text: str) -> None:
        """Refuse a query that could select devices of no run: it must name run devices in `deviceId IN [...]`
        (every id prefixed) or compare with a run-prefixed constant."""
        prefix = self.registry.prefix
        lists = _IN_LIST.findall(text)
        named = [m.replace("''", "'") for part in lists for m in _QUOTED.findall(part)]
        if lists and named and all(n.startswith(prefix) for n in named):
            return
        if not lists and any(c.replace("''", "'").startswith(prefix) for c in _QUOTED.findall(text)):
            return
        raise PreconditionFailed(f"refusing a query that does not name this run's devices only: {text[:200]!r}")

    def post(self, text: str, max_items: int | None = None, continuation: str | None = None) -> httpx.Response:
        self.scoped(text)
        headers = {}
        if max_items is not None:
            headers["x-ms-max-item-count"] = str(max_items)
        if continuation is not None:
            headers["x-ms-continuation"] = continuation
        return self.client.post("/devices/query", params={"api-version": V2021}, json={"query": text},
                                headers=headers)

    def items(self, text: str, what: str = "") -> list:
        """The first page's items of a query the test relies on, else PreconditionFailed."""
        response = self.post(text)
        body = json_of(response)
        if response.status_code != 200 or not isinstance(body, list):
            raise PreconditionFailed(f"the query {what or text!r} was not answered with a list: {answered(response)}")
        return body

    def pages(self, text: str, max_items: int, between=None) -> list[httpx.Response]:
        """Every page, following x-ms-continuation (at most MAX_PAGES); `between(n)` runs after page n."""
        pages = [self.post(text, max_items)]
        while pages[-1].status_code == 200 and pages[-1].headers.get("x-ms-continuation"):
            if len(pages) >= MAX_PAGES:
                raise PreconditionFailed(f"the query {text!r} still had a continuation after {MAX_PAGES} pages")
            if between is not None:
                between(len(pages))
            pages.append(self.post(text, max_items, pages[-1].headers["x-ms-continuation"]))
        return pages

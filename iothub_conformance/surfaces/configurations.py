"""Configurations (automatic device management, api-version 2021-04-12) as the suites make them, written once.

Safety (DESIGN: Safety): a configuration changes the twins its targetCondition selects, so every configuration this
client writes has a run-prefixed id and a targetCondition that names only the run's devices (`deviceId IN [...]` of
run devices, or a comparison with a run-prefixed constant), checked as surfaces/twins.Query checks a query; it
deletes only the configurations it created.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

import httpx

from iothub_conformance.rules.failures import PreconditionFailed, answered, json_of

from .devices import Registry
from .twins import Query

V2021 = "2021-04-12"
RUN_INTERVAL = 300  # "Automatic configurations run … then at five minute intervals" (automatic device management page)
SETTLE_SECONDS = RUN_INTERVAL + 60  # how long a metric may take to follow the twins
CLOCK_STEP = 30  # a poll advances the embedded clock this many seconds
WALL_STEPS = (1, 2, 4, 8)  # elsewhere the first polls wait this long (a hub may run sooner), the rest WALL_STEP
WALL_STEP = 10
_NAMES = itertools.count(1)
T = TypeVar("T")


def path(configuration_id: str) -> str:
    return "/configurations/" + quote(configuration_id, safe="")


def metric(results: object, word: str) -> int | None:
    """A system metric by the page's word for it (Targeted, Applied): the results entry whose name starts so
    (the reference sends targetedCount and appliedCount; no source states the names)."""
    if not isinstance(results, dict):
        return None
    for name, value in results.items():
        if isinstance(name, str) and name.lower().startswith(word.lower()) and isinstance(value, int):
            return value
    return None


class Configurations:
    """Configuration requests over the run's own configurations and devices."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.client: httpx.Client = registry.client
        self.prefix = registry.prefix
        self.created: list[str] = []
        self._query = Query(registry)

    def name(self, label: str = "cfg") -> str:
        """A fresh configuration id owned by this run (the page: lowercase, no spaces)."""
        made = f"{self.prefix}{label}-{next(_NAMES)}"
        if made != made.lower() or " " in made:
            raise PreconditionFailed(f"the run prefix {self.prefix!r} cannot start a configuration id: the automatic "
                                     "device management page asks for lowercase letters without spaces")
        return made

    def _own(self, configuration_id: str) -> None:
        if not configuration_id.startswith(self.prefix):
            raise PreconditionFailed(f"refusing to change configuration {configuration_id[:80]!r}: not this run's")

    def scoped(self, condition: str) -> None:
        """Refuse a targetCondition that could select twins of no run."""
        text = condition.strip()
        if not text:
            return
        if text == "*" or text.lower().startswith("from "):
            raise PreconditionFailed(f"refusing a targetCondition that selects more than this run's devices: {text!r}")
        self._query.scoped(f"SELECT * FROM devices WHERE {text}")

    def get(self, configuration_id: str) -> httpx.Response:
        return self.client.get(path(configuration_id), params={"api-version": V2021})

    def read(self, configuration_id: str, what: str = "") -> dict:
        response = self.get(configuration_id)
        body = json_of(response)
        if response.status_code != 200 or not isinstance(body, dict):
            raise PreconditionFailed(f"could not read configuration {configuration_id}{' ' + what if what else ''}: "
                                     f"{answered(response)}")
        return body

    def put(self, configuration_id: str, body: dict, *, if_match: str | None = None) -> httpx.Response:
        self._own(configuration_id)
        condition = body.get("targetCondition")
        self.scoped(condition if isinstance(condition, str) else "")
        headers = {"If-Match": if_match} if if_match is not None else {}
        response = self.client.put(path(configuration_id), params={"api-version": V2021}, json=body, headers=headers)
        if response.status_code < 300 and configuration_id not in self.created:
            self.created.append(configuration_id)
        return response

    def make(self, label: str, body: dict) -> dict:
        """A configuration the test relies on (not the create it judges), else PreconditionFailed."""
        configuration_id = self.name(label)
        response = self.put(configuration_id, {"id": configuration_id, **body})
        made = json_of(response)
        if response.status_code not in (200, 201) or not isinstance(made, dict):
            raise PreconditionFailed(f"could not create configuration {configuration_id}: {answered(response)}")
        return made

    def delete(self, configuration_id: str, *, if_match: str | None = "*") -> httpx.Response:
        self._own(configuration_id)
        headers = {"If-Match": if_match} if if_match is not None else {}
        return self.client.delete(path(configuration_id), params={"api-version": V2021}, headers=headers)

    def list(self, top: int | None = None) -> httpx.Response:
        params: dict[str, str | int] = {"api-version": V2021}
        if top is not None:
            params["top"] = top
        return self.client.get("/configurations", params=params)

    def test_queries(self, body: dict) -> httpx.Response:
        return self.client.post("/configurations/testQueries", params={"api-version": V2021}, json=body)

    def apply(self, device_id: str, content: dict) -> httpx.Response:
        if not device_id.startswith(self.prefix):
            raise PreconditionFailed(f"refusing to apply content to {device_id!r}: not a device of this run")
        return self.client.post(f"/devices/{quote(device_id, safe='')}/applyConfigurationContent",
                                params={"api-version": V2021}, json=content)

    def settle(self, configuration_id: str, done: Callable[[dict], bool], clock=None) -> dict:
        """Read the configuration until `done(configuration)` holds or its next run is surely past (SETTLE_SECONDS).
        Returns the last reading."""
        return self.until(lambda: self.read(configuration_id, "while waiting for its next run"), done, clock)

    def until(self, probe: Callable[[], T], done: Callable[[T], bool], clock=None, reading: tuple[str, ...] = ()) -> T:
        """`probe()` (a twin read, say) until `done` holds of it or a configuration run is surely past
        (SETTLE_SECONDS): with the embedded reference's clock each poll moves it CLOCK_STEP seconds, elsewhere it
        waits (WALL_STEPS, then WALL_STEP). Each poll first reads the `reading` configurations: a hub that runs its
        configurations when one is requested (the embedded reference) runs the due ones then, and to any other hub a
        read is harmless. Returns the last probe."""
        for configuration_id in reading:
            self.read(configuration_id)
        current = probe()
        for step in _steps(clock is not None):
            if done(current):
                return current
            if clock is not None:
                clock.advance(step)
            else:
                time.sleep(step)
            for configuration_id in reading:
                self.read(configuration_id, "while waiting for its next run")
            current = probe()
        return current

    def cleanup(self) -> None:
        """Delete what this client created, and nothing else."""
        for configuration_id in self.created:
            self.delete(configuration_id, if_match="*")
        self.created.clear()


def _steps(clocked: bool) -> list[float]:
    """The waits between polls, adding up to SETTLE_SECONDS or just past it."""
    if clocked:
        return [CLOCK_STEP] * (SETTLE_SECONDS // CLOCK_STEP + 1)
    steps: list[float] = list(WALL_STEPS)
    while sum(steps) < SETTLE_SECONDS:
        steps.append(WALL_STEP)
    return steps

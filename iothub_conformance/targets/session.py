"""The run's active Target, shared by the suites and by the schemathesis checks (which get no fixtures)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from iothub_conformance.targets.target import Target

_lock = threading.Lock()
_target: Target | None = None
_client: httpx.Client | None = None
_probed: dict[tuple[str, str], list[Any]] = {}  # what each probe found: its checks' typed failures
T = TypeVar("T")


def activate(target: Target) -> None:
    global _target, _client
    with _lock:
        _target, _client = target, None
        _probed.clear()


def deactivate() -> None:
    global _target, _client
    with _lock:
        if _target is not None:
            _target.close()
        _target, _client = None, None
        _probed.clear()


def active() -> bool:
    return _target is not None


def current() -> Target:
    if _target is None:
        raise RuntimeError("no active target: run the suite through pytest with the iothub_conformance plugin")
    return _target


def client() -> httpx.Client:
    global _client
    with _lock:
        if _client is None:
            _client = current().client()
        return _client


def probe_once(check: str, operation: str, probe: Callable[[], list[T]]) -> list[T]:
    """Active checks re-send requests; they do it once per operation per run to keep runs fast. The result is kept
    so a replayed example (hypothesis shrinking) sees the same verdict."""
    key = (check, operation)
    with _lock:
        if key in _probed:
            return _probed[key]
    result = probe()
    with _lock:
        return _probed.setdefault(key, result)

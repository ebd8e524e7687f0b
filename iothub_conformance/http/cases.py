"""Sending schemathesis cases through the Target's httpx client (never `case.call()`, which bypasses it)."""

from __future__ import annotations

import httpx

GENERATED = "iothub_generated"
# requests-style keys that httpx spells differently or does not take
_DROP = ("cookies", "auth")


def request_kwargs(case, base_url: str) -> dict:
    kwargs = dict(case.as_transport_kwargs(base_url=base_url))
    for key in _DROP:
        kwargs.pop(key, None)
    if "data" in kwargs:
        kwargs["content"] = kwargs.pop("data")
    kwargs["headers"] = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "connection"}
    return kwargs


def send(client: httpx.Client, case, *, params: dict | None = None, drop_params: tuple[str, ...] = (),
         headers: dict | None = None, drop_headers: tuple[str, ...] = (), **extra) -> httpx.Response:
    """Send `case`, optionally with query parameters or headers changed or removed."""
    kwargs = request_kwargs(case, str(client.base_url))
    query = {k: v for k, v in (kwargs.pop("params", None) or {}).items() if k not in drop_params}
    query.update(params or {})
    hdrs = {k: v for k, v in kwargs.pop("headers").items() if k.lower() not in {d.lower() for d in drop_headers}}
    hdrs.update(headers or {})
    # Marked so the report's coverage can tell generated cases from the suite's own requests.
    extensions = {**extra.pop("extensions", {}), GENERATED: True}
    return client.request(params=query, headers=hdrs, extensions=extensions, **kwargs, **extra)

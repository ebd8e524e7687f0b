"""The query engine (POST /devices/query, api-version 2021-04-12): a query over a hub's device twins, module twins or
device jobs, a page at a time.

Entry points, free of route code:
  `parse(text)` → Query (query_language.py): `.matches(document)` tells whether a twin or job document meets its WHERE
  clause (scheduled jobs' queryCondition can use it as `parse(f"SELECT * FROM devices WHERE {condition}")`);
  `run(hub, text, max_items, continuation)` → Page, under the hub's lock; InvalidQuery for a text the language does
  not allow or a token this engine did not give.

Paging (docs/sources/service-2021-04-12.json Query_GetTwins; docs/sources/INVENTORY-2021-04-12.md §2.7, §5, §10 C34):
results come in the order of their ids (deviceId, then moduleId or jobId), and a continuation token names the last id
a page returned, not a count: a device added or removed between pages moves no other device into or out of the pages
still to come. Aggregate rows are paged by position (they are made from the whole collection at each request).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from . import scheduled_jobs_2021
from .faults import switch
from .query_language import UNDEFINED, Expression, InvalidQuery, Query, parse
from .twin_documents import device_twin, module_twin, modules_of, to_json

QUERY_TWIN_WITHOUT_PROPERTIES = switch("query-twin-without-properties")
QUERY_NOT_IGNORED = switch("query-not-ignored")
QUERY_MODULES_EMPTY = switch("query-modules-empty")
QUERY_GROUP_BY_IGNORED = switch("query-group-by-ignored")
QUERY_PAGE_SIZE_IGNORED = switch("query-page-size-ignored")
QUERY_CONTINUATION_BY_OFFSET = switch("query-continuation-by-offset")
CONFIG_STATUS_UNSEEN = switch("config-status-unseen")

# The page size when x-ms-max-item-count is absent or not acceptable, and the most a page holds: the 2018 query page
# says "up to 100" (the 2016 one "up to 1000", INVENTORY-2021-04-12 §10 C34); "The service may use a different value
# if the value specified is not acceptable".
MAX_PAGE = 100
MAX_TOKEN = 4096

__all__ = ["MAX_PAGE", "UNDEFINED", "InvalidQuery", "Page", "Query", "item_type", "page_size", "parse", "run"]


@dataclass(frozen=True)
class Page:
    items: list[dict]
    continuation: str | None  # None: this is the last page
    item_type: str  # x-ms-item-type: one of the swagger's QueryResult.type values


def item_type(query: Query) -> str:
    """twin for whole twins, deviceJob for device jobs, raw for projections and aggregates (QueryResult.type)."""
    if query.items is not None:
        return "raw"
    return "deviceJob" if query.collection == "devices.jobs" else "twin"


def page_size(header: str | None) -> int:
    try:
        asked = int((header or "").strip())
    except ValueError:
        return MAX_PAGE
    return asked if 1 <= asked <= MAX_PAGE else MAX_PAGE


def run(hub: Any, text: str, max_items: int = MAX_PAGE, continuation: str | None = None) -> Page:
    """One page of the query's results. Call under hub.lock."""
    query = parse(text)
    if hub.has(QUERY_NOT_IGNORED) and query.where is not None:
        query = replace(query, where=_without_not(query.where))
    if hub.has(QUERY_GROUP_BY_IGNORED):
        query = replace(query, group_by=())
    if hub.has(QUERY_PAGE_SIZE_IGNORED):
        max_items = 10**9
    fingerprint = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    position = _read_token(continuation, fingerprint)
    twins = query.collection != "devices.jobs"
    keyed = [(key, document) for key, document in _documents(hub, query.collection)
             if query.matches(_with_configurations(hub, key, document) if twins else document)]
    if query.aggregates:
        return _by_offset(query.aggregate([document for _, document in keyed]), query, position, max_items, fingerprint)
    rows: list[tuple[tuple[str, ...], dict]] = [(key, _shaped(hub, query, document)) for key, document in keyed]
    if hub.has(QUERY_CONTINUATION_BY_OFFSET):
        return _by_offset([row for _, row in rows], query, position, max_items, fingerprint)
    after, sent = position.get("after"), int(position.get("sent", 0))
    if after is not None:
        rows = [(key, row) for key, row in rows if key > tuple(after)]
    limit = max_items if query.top is None else min(max_items, max(0, query.top - sent))
    page = rows[:limit]
    more = len(rows) > limit and (query.top is None or sent + len(page) < query.top)
    token = _token({"q": fingerprint, "after": list(page[-1][0]), "sent": sent + len(page)}) if more and page else None
    return Page([row for _, row in page], token, item_type(query))


def _by_offset(rows: list[dict], query: Query, position: dict, max_items: int, fingerprint: str) -> Page:
    offset = int(position.get("offset", position.get("sent", 0)))
    end = len(rows) if query.top is None else min(len(rows), query.top)
    page = rows[offset:min(end, offset + max_items)]
    following = offset + len(page)
    token = _token({"q": fingerprint, "offset": following, "sent": following}) if following < end else None
    return Page(page, token, item_type(query))


def _with_configurations(hub: Any, key: tuple[str, ...], document: dict) -> dict:
    """The document a WHERE clause sees: with `configurations.{id}.status` 'Applied' for each configuration whose
    content the twin holds (automatic device management page: WHERE configurations.[[yourconfigname]].status =
    'Applied'). The twin document itself shows no such member: the swagger's Twin has none."""
    if hub.has(CONFIG_STATUS_UNSEEN):
        return document
    statuses = {configuration.id: {"status": "Applied"}
                for configuration in (getattr(hub, "configurations", None) or {}).values()
                if getattr(configuration, "applied", {}).get(key)}
    return {**document, "configurations": statuses} if statuses else document


def _shaped(hub: Any, query: Query, document: dict) -> dict:
    if query.items is not None:
        return query.project(document)
    if hub.has(QUERY_TWIN_WITHOUT_PROPERTIES) and query.collection == "devices":
        return {key: value for key, value in document.items() if key != "properties"}
    return document


def _documents(hub: Any, collection: str) -> list[tuple[tuple[str, ...], dict]]:
    """(sort key, document) of every member of the collection, in key order."""
    documents: list[tuple[tuple[str, ...], dict]] = []
    for device_id in sorted(hub.devices):
        if collection == "devices":
            twin = device_twin(hub, device_id)
            if twin is not None:
                documents.append(((device_id,), to_json(hub, twin)))
        elif collection == "devices.modules" and not hub.has(QUERY_MODULES_EMPTY):
            for module_id in sorted(modules_of(hub, device_id)):
                found = module_twin(hub, device_id, module_id)
                if found is not None:
                    documents.append(((device_id, module_id), to_json(hub, found)))
    if collection == "devices.jobs":
        documents = sorted(_device_jobs(hub))
    return documents


def _device_jobs(hub: Any) -> list[tuple[tuple[str, ...], dict]]:
    """One document per device and scheduled job (the query page's `jobs` collection), as scheduled_jobs_2021 makes
    them: the device's own status and, once the job ran, its outcome. A device deleted since is left out."""
    return [((document["deviceId"], document["jobId"]), document) for document in scheduled_jobs_2021.device_jobs(hub)
            if document["deviceId"] in hub.devices]


def _without_not(expression: Expression) -> Expression:
    if expression.kind == "not":
        return _without_not(expression.parts[0])
    parts = tuple(_without_not(part) if isinstance(part, Expression) else part for part in expression.parts)
    return Expression(expression.kind, parts)


def _token(position: dict) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str | None, fingerprint: str) -> dict:
    """The position a token names; {} for none. A token of another query, or one this engine never made, is refused."""
    if not token:
        return {}
    if len(token) > MAX_TOKEN:
        raise InvalidQuery("the continuation token is too long")
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidQuery("the continuation token is not one this hub gave") from None
    valid = (isinstance(position, dict) and position.get("q") == fingerprint
             and isinstance(position.get("sent", 0), int) and isinstance(position.get("offset", 0), int)
             and (position.get("after") is None
                  or (isinstance(position["after"], list) and all(isinstance(k, str) for k in position["after"]))))
    if not valid:
        raise InvalidQuery("the continuation token does not belong to this query")
    return position

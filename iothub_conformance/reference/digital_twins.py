"""The digital-twin view of a device twin (IoT Plug and Play, api-version 2021-04-12), its JSON Patch updates and its
commands.

Sources: docs/sources/pnp-concepts-digital-twin__2020-07-17_00e046fd.md (the digital twin JSON format: `$dtId`, root
properties, `$metadata.$model`, per writable property desiredValue, desiredVersion, ackVersion, ackCode,
ackDescription, lastUpdateTime; a component is `{"__t": "c"}` in the device twin and an object with its own
`$metadata` in the digital twin; a writable property's acknowledgement is reported as {value, ac, av, ad});
docs/sources/pnp-howto-manage-digital-twin__2020-12-17_354e0e7a.md (add / replace / remove of properties and
components, the `$metadata` marker, DTDL names, no arrays, depth ≤ 5, the ArgumentInvalid text);
docs/sources/INVENTORY-2021-04-12.md §2.12 (a component command reaches the device as `{component}*{command}`; the
Node.js SDK's [5; 300] response timeout).

The state is the device twin (twins.py's Twin): a patch changes its desired section through twins.updated_twin, so
the twin's etag, version, desired `$version` and metadata move as for any desired write. Every function taking a hub
is called under hub.lock.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from . import twin_documents
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, DEVICE_NOT_ONLINE, GATEWAY_TIMEOUT
from .faults import switch
from .twins import Twin, TwinPatch, updated_twin

PNP_NO_DTID = switch("pnp-no-dtid")
PNP_REPORTED_NOT_AT_ROOT = switch("pnp-reported-not-at-root")
PNP_COMPONENT_MARKER_SHOWN = switch("pnp-component-marker-shown")
PNP_ACK_METADATA_MISSING = switch("pnp-ack-metadata-missing")
PNP_REMOVE_IGNORED = switch("pnp-remove-ignored")
PNP_COMPONENT_MARKER_NOT_REQUIRED = switch("pnp-component-marker-not-required")
PNP_ARRAYS_ACCEPTED = switch("pnp-arrays-accepted")
PNP_COMMAND_STATUS_DROPPED = switch("pnp-command-status-dropped")
PNP_COMPONENT_COMMAND_BARE_NAME = switch("pnp-component-command-bare-name")
PNP_COMMAND_OFFLINE_504 = switch("pnp-command-offline-504")
PNP_COMMAND_TIMEOUT_UNBOUNDED = switch("pnp-command-timeout-unbounded")
PNP_COMMAND_NO_TIMEOUT = switch("pnp-command-no-timeout")

COMPONENT_MARKER = {"__t": "c"}  # concepts page: "a component is identified by the { "__t": "c"} marker"
MAX_DEPTH = 5  # howto page: "A maximum depth of a five levels is supported for a complex object"
# howto page, "Name": a-z, A-Z, 0-9 (not first), underscore (not first or last), 1-64 characters.
DTDL_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9_]{0,62}[A-Za-z0-9])?")
DEFAULT_RESPONSE_TIMEOUT = 30  # the direct methods page: "If timeout is not set, it defaults to 30 seconds"
ACK_FIELDS = (("ackVersion", "av"), ("ackCode", "ac"), ("ackDescription", "ad"))

log = logging.getLogger(__name__)


class InvalidPatch(ValueError):
    """A patch the hub refuses: 400 ArgumentInvalid with `message`."""


def not_conformant(name: str) -> InvalidPatch:
    # The howto page's "generic error message".
    return InvalidPatch(f"'{name}' exists within the device twin and is not digital twin conformant property. "
                        "Please refer to aka.ms/dtpatch to update this to be conformant.")


# -- the view ------------------------------------------------------------------------------------------------------


def _is_component(value: object) -> bool:
    return isinstance(value, dict) and value.get("__t") == "c"


def _is_ack(value: object) -> bool:
    """A writable property's reported acknowledgement: {value, ac, av, ad} (concepts page, Writable Property)."""
    return isinstance(value, dict) and "value" in value and "ac" in value


def _stamp(metadata: object) -> str | None:
    return metadata.get("$lastUpdated") if isinstance(metadata, dict) else None


def _properties(hub: Any, desired: dict, desired_meta: dict, desired_version: int, reported: dict,
                reported_meta: dict) -> tuple[dict, dict]:
    """The values and the $metadata entries of one level (the root or a component), without its components."""
    values: dict = {}
    metadata: dict = {}
    for name, value in reported.items():
        if name.startswith("$") or name == "__t" or _is_component(value):
            continue
        if _is_ack(value):
            values[name] = value["value"]
        elif not hub.has(PNP_REPORTED_NOT_AT_ROOT):
            values[name] = value
        entry: dict = {}
        if _is_ack(value) and not hub.has(PNP_ACK_METADATA_MISSING):
            entry.update({mine: value[theirs] for mine, theirs in ACK_FIELDS if theirs in value})
        stamp = _stamp(reported_meta.get(name))
        if stamp is not None:
            entry["lastUpdateTime"] = stamp
        metadata[name] = entry
    for name, value in desired.items():
        if name.startswith("$") or name == "__t" or _is_component(value):
            continue
        entry = metadata.setdefault(name, {})
        entry["desiredValue"] = value
        meta = desired_meta.get(name)
        version = meta.get("$lastUpdatedVersion") if isinstance(meta, dict) else None
        entry["desiredVersion"] = version if isinstance(version, int) else desired_version
        if hub.has(PNP_ACK_METADATA_MISSING):
            for mine, _ in ACK_FIELDS:
                entry.pop(mine, None)
    return values, metadata


def view(hub: Any, twin: Twin) -> dict:
    """The digital twin JSON of a device twin (concepts page, "Digital twin JSON format")."""
    values, metadata = _properties(hub, twin.desired, twin.desired_metadata, twin.desired_version, twin.reported,
                                   twin.reported_metadata)
    document: dict = {} if hub.has(PNP_NO_DTID) else {"$dtId": twin.device_id}
    document.update(values)
    names = [n for n, v in twin.reported.items() if _is_component(v)]
    names += [n for n, v in twin.desired.items() if _is_component(v) and n not in names]
    for name in names:
        reported = _child(twin.reported, name) if _is_component(twin.reported.get(name)) else {}
        desired = _child(twin.desired, name) if _is_component(twin.desired.get(name)) else {}
        own_values, own_metadata = _properties(
            hub, desired, _child(twin.desired_metadata, name), twin.desired_version, reported,
            _child(twin.reported_metadata, name))
        if hub.has(PNP_COMPONENT_MARKER_SHOWN):
            document[name] = {"__t": "c", **own_values}
        else:
            document[name] = {**own_values, "$metadata": own_metadata}
    header: dict = {} if twin.model_id is None else {"$model": twin.model_id}
    document["$metadata"] = {**header, **metadata}
    return document


def _child(metadata: dict, name: str) -> dict:
    value = metadata.get(name)
    return value if isinstance(value, dict) else {}


# -- updates -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    op: str
    names: tuple[str, ...]  # one (root property or component) or two (a component's property)
    value: Any = None


def read_patch(body: object) -> list[Operation]:
    """The operations of a JSON Patch body; InvalidPatch for anything the howto page does not allow."""
    if not isinstance(body, list):
        raise InvalidPatch("the body must be a JSON Patch: an array of operations")
    operations = []
    for item in body:
        if not isinstance(item, dict):
            raise InvalidPatch("each JSON Patch operation must be an object")
        op, path = item.get("op"), item.get("path")
        if op not in ("add", "replace", "remove"):
            raise InvalidPatch(f"JSON Patch operation {str(op)[:40]!r} is not supported: add, replace or remove")
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidPatch("a JSON Patch path must start with '/'")
        names = tuple(part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/"))
        if len(names) > 2:
            raise InvalidPatch(f"path {path[:100]!r}: a patch names a property, a component, or a component's property")
        for name in names:
            if not DTDL_NAME.fullmatch(name):
                raise not_conformant(name[:64])
        if op == "remove":
            operations.append(Operation(op, names))
            continue
        if "value" not in item:
            raise InvalidPatch(f"{op} {path[:100]!r} has no value")
        operations.append(Operation(op, names, item["value"]))
    return operations


def _check_value(hub: Any, name: str, value: object, depth: int) -> None:
    """The howto page's property value rules: no arrays, objects at most five levels, DTDL field names."""
    if isinstance(value, list):
        if hub.has(PNP_ARRAYS_ACCEPTED):
            for item in value:
                _check_value(hub, name, item, depth)
            return
        raise not_conformant(name)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise not_conformant(name)
        for key, item in value.items():
            if not DTDL_NAME.fullmatch(key):
                raise not_conformant(key[:64])
            _check_value(hub, name, item, depth + 1)


def _component_value(hub: Any, name: str, value: object, existing: bool) -> dict | None:
    """The properties of a component write, or None when `value` is not one (a root property's value)."""
    marked = isinstance(value, dict) and "$metadata" in value
    if not marked:
        if existing and not hub.has(PNP_COMPONENT_MARKER_NOT_REQUIRED):
            raise not_conformant(name)  # a component write needs the empty $metadata marker
        if existing and isinstance(value, dict):
            return dict(value)
        return None
    assert isinstance(value, dict)
    if value["$metadata"] != {}:
        raise InvalidPatch(f"component {name!r}: $metadata must be an empty object")
    return {k: v for k, v in value.items() if k != "$metadata"}


def applied(hub: Any, twin: Twin, operations: list[Operation]) -> dict:
    """The device twin's desired section after the patch; InvalidPatch (nothing changed) when one operation fails."""
    desired = json.loads(json.dumps(twin.desired))
    components = {n for n, v in {**twin.reported, **twin.desired}.items() if _is_component(v)}
    for operation in operations:
        first = operation.names[0]
        if len(operation.names) == 2:
            _, prop = operation.names
            if first not in components and (first in desired or first in twin.reported):
                raise not_conformant(first)  # a root property, not a component: the patch names a field of it
            holder = desired.get(first) if _is_component(desired.get(first)) else dict(COMPONENT_MARKER)
            if operation.op == "remove":
                if not hub.has(PNP_REMOVE_IGNORED):
                    holder.pop(prop, None)
            else:
                _check_value(hub, prop, operation.value, 0)
                holder[prop] = operation.value
            desired[first] = holder
            components.add(first)
            continue
        if operation.op == "remove":
            if not hub.has(PNP_REMOVE_IGNORED):
                desired.pop(first, None)
            continue
        properties = _component_value(hub, first, operation.value, first in components)
        if properties is None:
            _check_value(hub, first, operation.value, 0)
            desired[first] = operation.value
            continue
        for prop, value in properties.items():
            if not DTDL_NAME.fullmatch(prop):
                raise not_conformant(prop[:64])
            _check_value(hub, prop, value, 0)
        # "An add or replace component operation sets the desired values of all the provided properties. It also
        # clears desired values for any writable properties not provided with the update."
        desired[first] = {**COMPONENT_MARKER, **properties}
        components.add(first)
    return desired


def _merge_patch(old: dict, new: dict) -> dict:
    """The merge patch (a null removes its key) that makes `old` into `new`, so twins.updated_twin stamps only what
    changed."""
    patch: dict = {key: None for key in old if key not in new}
    for key, value in new.items():
        before = old.get(key, patch)
        if before == value and type(before) is type(value):
            continue
        patch[key] = _merge_patch(before, value) if isinstance(value, dict) and isinstance(before, dict) else value
    return patch


def update(hub: Any, twin: Twin, operations: list[Operation]) -> Twin:
    """The device twin after the patch, stored; InvalidPatch (or twins.InvalidTwin for the size limits) otherwise."""
    desired = applied(hub, twin, operations)
    if desired == twin.desired:
        return twin
    return twin_documents.store(hub, updated_twin(hub, twin, TwinPatch(desired=_merge_patch(twin.desired, desired))))


def announce(hub: Any, device_id: str, model_id: str) -> None:
    """A Plug and Play device connects and announces its model id (concepts page: "A device twin and a digital twin
    are initialized the first time an IoT Plug and Play device connects"). LookupError: no such device."""
    if not isinstance(model_id, str) or not model_id:
        raise ValueError("a model id is a non-empty string (a DTMI)")
    with hub.lock:
        twin = twin_documents.device_twin(hub, device_id)
        if twin is None:
            raise LookupError(f"no device {device_id!r}")
        twin_documents.store(hub, replace(twin, model_id=model_id))


# -- commands ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """200 with the device's `status` and `payload`, or an error status with its code and message."""

    status: int
    code: str | None = None
    message: str = ""
    device_status: int | None = None
    payload: Any = None


def command_timeouts(hub: Any, response: str | None, connect: str | None) -> tuple[int, int]:
    """The query's responseTimeoutInSeconds and connectTimeoutInSeconds; InvalidPatch (400) outside the bounds."""
    def seconds(name: str, raw: str | None, default: int) -> int:
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidPatch(f"{name} must be an int32 number of seconds") from None
        if not -2**31 <= value < 2**31:
            raise InvalidPatch(f"{name} must be an int32 number of seconds")
        return value

    response_timeout = seconds("responseTimeoutInSeconds", response, DEFAULT_RESPONSE_TIMEOUT)
    connect_timeout = seconds("connectTimeoutInSeconds", connect, 0)
    bounds = hub.profile.value("pnp_command_timeout_bounds") or hub.profile.value("method_timeout_bounds")
    least, most = bounds
    if not hub.has(PNP_COMMAND_TIMEOUT_UNBOUNDED):
        if response_timeout > most or (least is not None and response_timeout < least):
            raise InvalidPatch(f"responseTimeoutInSeconds must be {least or 0} to {most}")
        if not 0 <= connect_timeout <= most:
            raise InvalidPatch(f"connectTimeoutInSeconds must be 0 to {most}")
    return response_timeout, connect_timeout


def invoke(hub: Any, device_id: str, component: str | None, command: str, payload: Any,
           response_timeout: int) -> Answer:
    """Hand the command to the device's method handler (the suite's controls registered it)."""
    if device_id not in hub.devices:
        return Answer(404, DEVICE_NOT_FOUND, f"Device {device_id!r} not found")
    handler = hub.method_handlers.get(device_id)
    if handler is None:
        if hub.has(PNP_COMMAND_OFFLINE_504):
            return Answer(504, GATEWAY_TIMEOUT, f"device {device_id!r} did not answer in time")
        status, _ = hub.profile.value("method_offline")
        return Answer(status, DEVICE_NOT_ONLINE, f"device {device_id!r} is not online")
    latency = hub.method_latency.get((device_id, None), 0.0)
    if latency > response_timeout and not hub.has(PNP_COMMAND_NO_TIMEOUT):
        return Answer(504, GATEWAY_TIMEOUT, f"device {device_id!r} did not answer within {response_timeout} seconds")
    name = command if component is None or hub.has(PNP_COMPONENT_COMMAND_BARE_NAME) else f"{component}*{command}"
    try:
        status, answered = handler(name, json.loads(json.dumps(payload)))
    except Exception:
        log.warning("reference hub: the method handler of %r raised or gave no (status, payload)", device_id,
                    exc_info=True)
        return Answer(504, GATEWAY_TIMEOUT, f"device {device_id!r} gave no answer")
    if not isinstance(status, int) or isinstance(status, bool):
        return Answer(504, GATEWAY_TIMEOUT, f"device {device_id!r} answered no status")
    if hub.has(PNP_COMMAND_STATUS_DROPPED):
        status = 200
    return Answer(200, device_status=status, payload=answered)


__all__ = ["ARGUMENT_INVALID", "Answer", "InvalidPatch", "Operation", "announce", "applied", "command_timeouts",
           "invoke", "read_patch", "update", "view"]

"""The bulk registry operation at api-version 2021-04-12: POST /devices with up to 100 ExportImportDevice items.

Sources: docs/sources/service-2021-04-12.json (BulkRegistry_UpdateRegistry: "A device identity can be specified only
once in the list … A maximum of 100 devices"; 200 and 400 both a BulkRegistryOperationResult); the import modes of
docs/sources/iot-hub-bulk-identity-mgmt__2017-07-03_0819162b.md (create of an existing id, update or delete of a
missing one, an eTag mismatch: an error for that device); docs/sources/INVENTORY-2021-04-12.md §2.2 (NET does not raise
for `iothub-errorcode: BulkRegistryOperationFailure`), §7.2 (codes).

Whether the other items are applied when one fails is not stated: each item is applied on its own, as an import job
does (the page: errors are written to the log), and the suite judges only the failing item.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response

from . import devices_2021, permissions_2021
from .error_envelope import ARGUMENT_INVALID, DEVICE_NOT_FOUND, PRECONDITION_FAILED, error_response
from .faults import switch
from .hub import Hub
from .identities import InvalidDevice
from .responses import json_response

CREATE_NOT_STORED = switch("bulk-create-not-stored")
UPDATE_NOT_APPLIED = switch("bulk-update-not-applied")
DELETE_NOT_APPLIED = switch("bulk-delete-not-applied")
IGNORES_ETAG = switch("bulk-ignores-etag")
PARTIAL_REPORTS_SUCCESS = switch("bulk-partial-reports-success")
NO_LIMIT = switch("bulk-no-limit")

MAX_ITEMS = 100
MODES = ("create", "update", "updateIfMatchETag", "delete", "deleteIfMatchETag")
ALREADY_EXISTS = "DeviceAlreadyExists"  # 409001
DEFINED_MULTIPLE_TIMES = "DeviceDefinedMultipleTimes"  # 400011
BULK_FAILURE = "BulkRegistryOperationFailure"  # 400013


class ItemFailed(Exception):
    def __init__(self, code: str, status: str):
        super().__init__(status)
        self.code = code
        self.status = status


async def update_registry(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    if refused := permissions_2021.admit_write(request, "bulk"):
        return refused
    try:
        items = json.loads(await request.body())
    except (ValueError, RecursionError):
        return error_response(hub, 400, "IotHubFormatError", "the request body is not valid JSON")
    if not isinstance(items, list) or not items:
        return error_response(hub, 400, ARGUMENT_INVALID, "the request body must be a non-empty JSON array of devices")
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if not hub.has(NO_LIMIT):
        if len(items) > MAX_ITEMS:
            return error_response(hub, 400, ARGUMENT_INVALID,
                                  f"{len(items)} devices: at most {MAX_ITEMS} can be specified per request")
        twice = sorted({i for i in ids if isinstance(i, str) and ids.count(i) > 1})
        if twice:
            return error_response(hub, 400, DEFINED_MULTIPLE_TIMES,
                                  f"device {twice[0][:140]!r} is specified more than once")
    errors = []
    with hub.lock:
        for item, device_id in zip(items, ids, strict=True):
            try:
                _apply(hub, item, device_id)
            except ItemFailed as failed:
                errors.append({"deviceId": device_id if isinstance(device_id, str) else None,
                               "errorCode": failed.code, "errorStatus": failed.status, "moduleId": None,
                               "operation": item.get("importMode") if isinstance(item, dict) else None})
            except InvalidDevice as exc:
                errors.append({"deviceId": device_id if isinstance(device_id, str) else None, "errorCode": exc.code,
                               "errorStatus": exc.message, "moduleId": None,
                               "operation": item.get("importMode") if isinstance(item, dict) else None})
    succeeded = not errors or hub.has(PARTIAL_REPORTS_SUCCESS)
    body = {"isSuccessful": succeeded, "errors": errors, "warnings": []}
    if succeeded:
        return json_response(hub, 200, body)
    return json_response(hub, 400, body, {"iothub-errorcode": BULK_FAILURE})


def _apply(hub: Hub, item: object, device_id: object) -> None:
    """One item, under hub.lock: ItemFailed (or InvalidDevice) says why it was not applied."""
    if not isinstance(item, dict) or not isinstance(device_id, str):
        raise ItemFailed(ARGUMENT_INVALID, "each item must be an object with a string id")
    devices_2021.check_id(device_id, "id")
    mode = item.get("importMode")
    if mode not in MODES:
        raise ItemFailed(ARGUMENT_INVALID, f"importMode {str(mode)[:40]!r} is not one of {', '.join(MODES)} (twin "
                                           "modes are not served by the reference)")
    if item.get("moduleId") is not None:
        raise ItemFailed(ARGUMENT_INVALID, "module items are not served by the reference")
    old = hub.devices.get(device_id)
    if mode == "create":
        if old is not None:
            raise ItemFailed(ALREADY_EXISTS, f"device {device_id!r} already exists")
        if len(hub.devices) >= hub.max_devices:
            raise ItemFailed("IotHubQuotaExceeded", f"the hub already holds its maximum of {hub.max_devices} devices")
        given = devices_2021.device_input_2021({**item, "deviceId": device_id})
        if not hub.has(CREATE_NOT_STORED):
            hub.devices[device_id] = devices_2021.new_device(hub, device_id, given)
            hub.renew(device_id)
        return
    if old is None:
        raise ItemFailed(DEVICE_NOT_FOUND, f"device {device_id!r} does not exist")
    if mode.endswith("IfMatchETag") and not hub.has(IGNORES_ETAG) and _unquoted(item.get("eTag")) != old.etag:
        raise ItemFailed(PRECONDITION_FAILED, f"the eTag of device {device_id!r} does not match")
    if mode.startswith("update"):
        given = devices_2021.device_input_2021({**item, "deviceId": device_id})
        if not hub.has(UPDATE_NOT_APPLIED):
            hub.devices[device_id] = devices_2021.updated_device(hub, old, given)
        return
    if not hub.has(DELETE_NOT_APPLIED):
        del hub.devices[device_id]
        hub.renew(device_id)


def _unquoted(etag: object) -> str | None:
    """Clients send the body's etag as it is or quoted (INVENTORY-2021-04-12.md §6)."""
    if not isinstance(etag, str):
        return None
    return etag[1:-1] if len(etag) >= 2 and etag[0] == etag[-1] == '"' else etag

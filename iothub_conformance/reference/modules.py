"""Module identities (api-version 2021-04-12): the Module a hub keeps per device, the body rules and its representation.

Sources: docs/sources/service-2021-04-12.json (definitions Module, AuthenticationMechanism; Modules_CreateOrUpdateIdentity:
"The moduleId and generationId cannot be updated by the user"); docs/sources/INVENTORY-2021-04-12.md §2.3, §9 (module
ids follow the device-id rule); docs/sources/iot-hub-devguide-module-twins__2020-06-29_ccf574a5.md ("you can create up to
50 module identities" under each device identity).

A hub keeps them as `hub.modules: dict[deviceId, dict[moduleId, Module]]`, read and written under hub.lock; deleting a
device deletes its modules (Hub.renew).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from .credentials import Credentials, parse_credentials
from .identities import NEVER, IdentityHub, InvalidDevice, _now, _string
from .identities import check_device_id as _check_id

MAX_MODULES_PER_DEVICE = 50  # iot-hub-devguide-module-twins: "up to 50 module identities" per device


def check_module_id(hub: IdentityHub, module_id: str) -> None:
    """Module ids follow the device-id rule (INVENTORY-2021-04-12 §9: "Device ID / module ID")."""
    try:
        _check_id(hub, module_id)
    except InvalidDevice as exc:
        raise InvalidDevice(exc.code, exc.message.replace("deviceId", "moduleId", 1)) from None


@dataclass(frozen=True)
class ModuleInput:
    """What a module PUT body asks for; None means "not given"."""

    module_id: str | None = None
    device_id: str | None = None
    managed_by: str | None = None
    credentials: Credentials | None = None


def module_input(body: dict) -> ModuleInput:
    return ModuleInput(
        module_id=_string(body, "moduleId"),
        device_id=_string(body, "deviceId"),
        managed_by=_string(body, "managedBy"),
        credentials=parse_credentials(body),
    )


@dataclass(frozen=True)
class Module:
    device_id: str
    module_id: str
    generation_id: str
    etag: str
    credentials: Credentials
    managed_by: str | None = None
    connection_state_updated_time: str = NEVER

    def keys(self) -> list[str]:
        return self.credentials.keys()

    def to_json(self, queued: int = 0) -> dict:
        return {
            "moduleId": self.module_id,
            "managedBy": self.managed_by,
            "deviceId": self.device_id,
            "generationId": self.generation_id,
            "etag": self.etag,
            "connectionState": "Disconnected",
            "connectionStateUpdatedTime": self.connection_state_updated_time,
            "lastActivityTime": NEVER,
            "cloudToDeviceMessageCount": queued,
            "authentication": self.credentials.to_json(),
        }


def new_module(hub: IdentityHub, device_id: str, module_id: str, given: ModuleInput, generate_keys: bool = True) -> Module:
    """A module made from a create body; keys are generated when the body gives none. Call under hub.lock."""
    credentials = given.credentials or Credentials()
    return Module(
        device_id=device_id,
        module_id=module_id,
        generation_id=f"{secrets.randbelow(10**18):018d}",
        etag=hub.next_etag(),
        credentials=credentials.with_generated_keys() if generate_keys else credentials,
        managed_by=given.managed_by,
        connection_state_updated_time=_now(),
    )


def updated_module(hub: IdentityHub, old: Module, given: ModuleInput, new_etag: bool = True) -> Module:
    """`old` changed as an update body asks; moduleId, deviceId and generationId stay the server's. Call under
    hub.lock."""
    credentials = old.credentials if given.credentials is None else given.credentials.merged_into(old.credentials)
    return replace(
        old,
        credentials=credentials,
        managed_by=old.managed_by if given.managed_by is None else given.managed_by,
        etag=hub.next_etag() if new_etag else old.etag,
    )

"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device and module credentials on the device-facing endpoints, and the Edge device-scope calls."""

from __future__ import annotations

from .operation_groups import DEVICE_SCOPE_2021
from .requirement import V2021_RELEASE, Requirement

_SAS = "docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md"
_INV = "docs/sources/INVENTORY-2021-04-12.md"
_INV16 = "docs/sources/INVENTORY.md"
_ERR = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
_SW = "docs/sources/service-2021-04-12.json"
# The device-facing operations a device's credentials reach (send, receive and settle, file upload).
_DEVICE = ("Device_SendDeviceEvent", "Device_ReceiveDeviceBoundNotification", "Device_CompleteDeviceBoundNotification",
           "Device_AbandonDeviceBoundNotification", "Device_CreateFileUploadSasUri", "Device_UpdateFileUploadStatus")
_LIST = ("Device_GetDevicesAndModulesInScope",)
_ONE = ("Device_GetDeviceAndModuleInScope",)
_TARGET = ("Device_GetDevicesAndModulesInTargetScope",)
_SCOPE_RULE = "scope_api_versions"


def _r(rid: str, statement: str, source: str, operations: tuple[str, ...], rule: str | None = None,
       level: str = "MUST") -> Requirement:
    return Requirement(rid, level, statement, source, operations=operations, since=V2021_RELEASE, profile_rule=rule)


REQUIREMENTS: list[Requirement] = [
    # -- device and module credentials ----------------------------------------------------------------------------
    _r("DEVAUTH-DEVICE-001",
       "At 2021-04-12 a token signed with a device's own key (no skn, sr <host>/devices/<deviceId>) is accepted on "
       "that device's endpoints: its send, receive and file upload are served.",
       f"{_SAS} (Use a symmetric key in the identity registry); {_INV} §1.3 (device-side operations)", _DEVICE),
    _r("DEVAUTH-POLICY-001",
       "At 2021-04-12 a token of a policy with DeviceConnect (skn device, sr <host>/devices/<deviceId>) is accepted on "
       "that device's endpoints.",
       f"{_SAS} (Use a shared access policy to access on behalf of a device); {_INV} §1.3", _DEVICE),
    _r("DEVAUTH-OTHER-001",
       "At 2021-04-12 a device's token on another device's endpoints is refused with 401 and changes nothing: no "
       "event is taken, the other device's message stays locked by no one, no upload SAS URI is issued.",
       f"{_SAS} (a device key's token only grants DeviceConnect for the associated device identity); {_INV16} §5 (401 "
       "when the token does not apply to the request URI)", _DEVICE),
    _r("DEVAUTH-POLICY-002",
       "At 2021-04-12 a token of a policy without DeviceConnect (service, registryReadWrite) is refused with 401 on the "
       "device endpoints.",
       f"{_SAS} (Access control and permissions: DeviceConnect grants access to device-facing endpoints); {_INV} §1.3",
       _DEVICE),
    _r("DEVAUTH-EXPIRED-001",
       "At 2021-04-12 a device token that has expired, or whose signature is not the device key's, is refused with 401 "
       "on the device endpoints.",
       f"{_SAS} (SAS token structure: expiry, signature); {_INV16} §5 (401 when the token cannot be validated); {_ERR} "
       "(401003 IoTHubUnauthorized)", _DEVICE),
    _r("DEVAUTH-MODULE-001",
       "At 2021-04-12 a module's token (sr <host>/devices/<d>/modules/<m>) is refused with 401 on its device's own "
       "endpoints (send, receive): its sr is no segment prefix of /devices/<d>/messages/….",
       f"{_SAS} (token service: /devices/{{deviceId}}/modules/{{moduleId}} as resourceURI); {_INV16} §5 (sr is a "
       f"URI prefix matched by segment; 401 when it does not apply to the request URI); {_INV} §10 (C22)",
       _DEVICE[:2]),
    _r("DEVAUTH-SERVICE-001",
       "At 2021-04-12 a device's token is refused with 401 on service endpoints (the device's identity, its twin, a "
       "query): it grants DeviceConnect only.",
       f"{_SAS} (A token signed with a device identity's symmetric key only grants the DeviceConnect permission); "
       f"{_INV} §1.3", ("Devices_GetIdentity", "Devices_GetTwin", "Query_GetTwins")),
    # -- Edge device scope ----------------------------------------------------------------------------------------
    _r("SCOPE-VERSION-001",
       "The device-scope calls are served at the api-versions the profile names (iothub: those the Edge hub and the "
       "CLI device client send: 2018-08-30-preview and 2019-10-01 for the two GETs, 2020-06-30-preview for the POST).",
       f"{_INV} §4.3 (EDGE, CLIDEV), §10 (C31: device clients send other versions than the run's)",
       DEVICE_SCOPE_2021, rule=_SCOPE_RULE),
    _r("SCOPE-IDENTITY-001",
       "A device registered at 2021-04-12 with a deviceScope (ms-azure-iot-edge://…) and parentScopes keeps them: GET "
       "/devices/{id} and, where the profile names the scope calls' api-version, its Edge device's scope listing "
       "return them as set.",
       f"{_SW} (Device.deviceScope, Device.parentScopes); {_INV} §4.2", _LIST),
    _r("SCOPE-LIST-001",
       "devicesAndModulesInDeviceScope, signed with the Edge device's $edgeHub module token, answers 200 with a "
       "ScopeResult {devices, modules, continuationLink} listing every device whose deviceScope is the Edge device's, "
       "and no device of another scope or of none.",
       f"{_INV} §4.3 (EDGE GetIdentitiesInScope; CLIDEV: devices which belong to the same deviceScope), §4.2",
       _LIST, rule=_SCOPE_RULE),
    _r("SCOPE-PAGE-001",
       "A deviceCount of n (1–1000) gives pages of at most n devices, and following each continuationLink (a path with "
       "its query, relative to the hub) until there is none gives every device of the scope exactly once.",
       f"{_INV} §4.3 (EDGE InScopeIdentitiesUriTemplate, continuation links), §5 (Edge scope paging), §9 (Edge scope "
       "batch 0–1000)", _LIST, rule=_SCOPE_RULE),
    _r("SCOPE-ONE-001",
       "deviceAndModuleInDeviceScope?targetDeviceId=<d> answers 200 with a ScopeResult whose devices are that device "
       "of the scope alone.",
       f"{_INV} §4.3 (EDGE GetIdentity; CLIDEV get_device_and_module_in_scope)", _ONE, rule=_SCOPE_RULE),
    _r("SCOPE-TARGET-001",
       "POST devicesAndModulesInTargetDeviceScope with {pageSize, continuationLink, authChain} answers 2xx with a "
       "ScopeResult listing the devices of the Edge device's scope.",
       f"{_INV} §4.3 (EDGE GetIdentitiesInTargetScope, NestedScopeRequest: any 2xx accepted)", _TARGET,
       rule=_SCOPE_RULE),
    _r("SCOPE-AUTH-001",
       "A device-scope call signed with a token whose sr does not cover its path (another Edge device's $edgeHub "
       "module, a device of the scope) is refused with 401 and lists nothing.",
       f"{_INV} §4.3 (EDGE signs with the $edgeHub module's token); {_INV16} §5 (sr a segment prefix of the request "
       f"URI, else 401); {_SAS} (module-scoped tokens)", DEVICE_SCOPE_2021, rule=_SCOPE_RULE),
    _r("SCOPE-AUTH-002",
       "A device-scope call signed with an expired $edgeHub token, or one whose signature is not the module key's, is "
       "refused with 401 and lists nothing.",
       f"{_SAS} (SAS token structure: expiry, signature); {_INV16} §5 (401 when the token cannot be validated)",
       DEVICE_SCOPE_2021, rule=_SCOPE_RULE),
]

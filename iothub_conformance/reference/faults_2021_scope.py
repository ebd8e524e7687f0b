"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): device and module credentials on the
device-facing endpoints (reference/authorization.py), and the Edge device-scope calls (reference/routes_2021_scope.py)."""

from __future__ import annotations

from .fault_types import Fault, because

_EDGE_VERSION = ("errors: the scope call at the Edge hub's api-version is refused, so what it lists cannot be judged")

TABLE: tuple[Fault, ...] = (
    # -- device and module credentials at 2021-04-12 (authorization.py) ----------------------------------------------
    Fault("devauth-2021-refuse-device-tokens", "at 2021-04-12, device endpoints refuse a token signed with the device's "
          "own key", breaks=("DEVAUTH-DEVICE-001",),
          collateral=because("errors: the device's own request, which shows the refusals mean something (and, for "
                             "the service reads, that the device's token is a valid one), is refused",
                             "DEVAUTH-OTHER-001", "DEVAUTH-POLICY-002", "DEVAUTH-EXPIRED-001", "DEVAUTH-MODULE-001",
                             "DEVAUTH-SERVICE-001")
          + because("the 2021-04-12 device-side calls, signed with the device's key, answer 401 (fail where the call is "
                    "the requirement, error where it is a precondition)",
                    "C2D-ABANDON-001", "C2D-COMPLETE-001", "C2D-DELIVERY-001", "C2D-IFMATCH-001", "C2D-LOCK-001",
                    "C2D-LOCK-002", "C2D-LOCKHINT-001", "C2D-PATH-001", "C2D-RECV-001", "C2D-RECV-002", "C2D-RECV-003",
                    "C2D-REJECT-001", "D2C-BATCH-001", "D2C-BATCH-002", "D2C-LIMIT-001", "D2C-PROPS-001",
                    "D2C-PROPS-002", "D2C-SEND-001", "FEEDBACK-ABANDON-001", "FEEDBACK-ACK-001", "FEEDBACK-BATCH-001",
                    "FEEDBACK-COMPLETE-001", "FEEDBACK-DELETE-001", "FEEDBACK-LOCK-001", "FEEDBACK-RECORD-001",
                    "FEEDBACK-RECV-002", "FEEDBACK-STATUS-001", "FILE-AUTH-001", "FILE-LIMIT-001", "FILE-NOTICE-001",
                    "FILE-NOTIFY-001", "FILE-NOTIFY-002", "FILE-NOTIFY-003", "FILE-NOTIFY-004", "FILE-SAS-001",
                    "FILE-SAS-002", "FILE-SAS-003", "FILE-TTL-001")
          + because("errors: the generated device-side requests are signed with the device's key, which is refused",
                    "COMMON-REQID-001", "COMMON-REQID-002", "COMMON-SPEC-001")),
    Fault("devauth-2021-refuse-policy-tokens", "at 2021-04-12, device endpoints refuse a DeviceConnect policy's token",
          breaks=("DEVAUTH-POLICY-001",)),
    Fault("devauth-2021-device-token-any-device", "at 2021-04-12, a device's token is accepted on any device's "
          "endpoints", breaks=("DEVAUTH-OTHER-001",),
          collateral=(
              ("FILE-AUTH-001", "another device's token gets a SAS URI for this device's upload"),
          )),
    Fault("devauth-2021-policy-without-device-connect", "at 2021-04-12, device endpoints take a policy token without "
          "DeviceConnect", breaks=("DEVAUTH-POLICY-002",)),
    Fault("devauth-2021-expired-device-token", "at 2021-04-12, device endpoints take an expired device token",
          breaks=("DEVAUTH-EXPIRED-001",)),
    Fault("devauth-2021-module-token-as-device", "at 2021-04-12, a module's token is accepted on its device's "
          "endpoints", breaks=("DEVAUTH-MODULE-001",)),
    Fault("devauth-2021-device-token-serves-service", "at 2021-04-12, a device's token is accepted on service "
          "endpoints", breaks=("DEVAUTH-SERVICE-001",)),
    # -- Edge device scope (routes_2021_scope.py) ----------------------------------------------------------------------
    Fault("scope-2021-edge-versions-refused", "the device-scope calls are refused at the api-versions the Edge hub and "
          "the CLI send", breaks=("SCOPE-VERSION-001",),
          collateral=(because(_EDGE_VERSION, "SCOPE-IDENTITY-001", "SCOPE-LIST-001", "SCOPE-PAGE-001", "SCOPE-ONE-001",
                             "SCOPE-TARGET-001", "SCOPE-AUTH-001", "SCOPE-AUTH-002")
          + (("COMMON-SPEC-001", "a generated scope request at an api-version of the spec answers 400"),))
          + (
              ("COMMON-APIVER-003", "a generated scope request at an api-version the Edge hub sends is refused with 400"),
          )),
    Fault("scope-2021-scope-ignored", "the device-scope listing lists every device of the hub, in scope or not",
          breaks=("SCOPE-LIST-001",),
          collateral=(("SCOPE-TARGET-001", "the target-scope call lists the same way: devices of no scope come too"),)),
    Fault("scope-2021-no-continuation-link", "a device-scope page holds deviceCount devices but no continuationLink "
          "to the rest", breaks=("SCOPE-PAGE-001",)),
    Fault("scope-2021-one-ignores-target", "deviceAndModuleInDeviceScope lists the whole scope instead of the target "
          "device", breaks=("SCOPE-ONE-001",)),
    Fault("scope-2021-target-scope-empty", "devicesAndModulesInTargetDeviceScope answers an empty ScopeResult",
          breaks=("SCOPE-TARGET-001",)),
    Fault("scope-2021-listing-drops-scopes", "the devices of a ScopeResult carry no deviceScope or parentScopes",
          breaks=("SCOPE-IDENTITY-001",)),
    Fault("scope-2021-foreign-token", "the device-scope calls take any valid token of the hub: another Edge device's "
          "$edgeHub module, any device", breaks=("SCOPE-AUTH-001",)),
    Fault("scope-2021-expired-token", "the device-scope calls take an expired $edgeHub token",
          breaks=("SCOPE-AUTH-002",)),
)

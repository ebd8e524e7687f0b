"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
device and module credentials on the device-facing endpoints, and the Edge device-scope calls.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   scope_api_versions   operationId → the api-versions the device-scope call is served at, the Edge hub's first
#                        (the one the suite sends); None: no position (no page documents these calls at any version,
#                        and the run's 2021-04-12 is none of those the clients send)

_INV = "docs/sources/INVENTORY-2021-04-12.md"

IOTHUB: dict[str, Rule] = {
    "scope_api_versions": Rule(
        {"Device_GetDevicesAndModulesInScope": ("2018-08-30-preview", "2019-10-01"),
         "Device_GetDeviceAndModuleInScope": ("2018-08-30-preview", "2019-10-01"),
         "Device_GetDevicesAndModulesInTargetScope": ("2020-06-30-preview",)},
        f"{_INV} §4.3 (the Edge hub's DeviceScopeApiClient: 2018-08-30-preview, 2020-06-30-preview for the nested "
        "call; the CLI device client: 2019-10-01)",
        deviation="the device-scope calls are served at the Edge hub's and the CLI's api-versions, not the run's "
                  "2021-04-12 (no page documents them)"),
}
DOCS_STRICT: dict[str, Rule] = {
    "scope_api_versions": Rule(None, f"{_INV} §4.3 (the calls are in neither the swagger nor the REST reference), "
                                     "§10 (C31)"),
}

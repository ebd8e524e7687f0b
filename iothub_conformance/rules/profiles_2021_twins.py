"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
device and module twins, direct methods, query.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   twin_arrays            True: an array value in tags or desired properties is stored and returned as sent; False:
#                          it is refused with 400 and the twin stays as it was
#   method_offline         (status, error code) a direct method for a registered device that is not online answers;
#                          code None: only the status is checked
#   method_timeout_bounds  (least, most) seconds responseTimeoutInSeconds may be; a value outside is refused with 400
#                          (least None: no lower bound is checked); connectTimeoutInSeconds may be 0 … most

_DT = "docs/sources/iot-hub-devguide-device-twins__2020-02-01_132b418f.md"
_DM = "docs/sources/iot-hub-devguide-direct-methods__2018-07-17_1e2689b4.md"
_INV = "docs/sources/INVENTORY-2021-04-12.md"

IOTHUB: dict[str, Rule] = {
    "twin_arrays": Rule(True, f"{_DT} (the 2024 revision: Arrays are also supported); {_INV} §10 (C23: the Node.js "
                              "SDKs moved to the api-version that supports twin arrays)",
                        deviation="twin values may be arrays (the stored 2020 device-twin page: not allowed)"),
    "method_offline": Rule((404, "DeviceNotOnline"), "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md "
                                                     f"(404103 DeviceNotOnline); {_INV} §10 (C37)"),
    "method_timeout_bounds": Rule((5, 300), f"{_DM} (notes 2, 3: the current page and the .NET docs, 5 to 300 s); "
                                            f"{_INV} §9; {_INV} §10 (C16)"),
}
DOCS_STRICT: dict[str, Rule] = {
    "twin_arrays": Rule(False, f"{_DT} (Tags and properties format: Arrays are not allowed); {_INV} §10 (C23)"),
    "method_offline": Rule((404, None), f"{_DM} (Response: a 404 error for devices not currently connected; the page "
                                        "names no code)"),
    "method_timeout_bounds": Rule((None, 300), f"{_DM} (Method lifecycle: default 30 seconds, settable up to 300 "
                                               "seconds; no least value)"),
}

"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
IoT Plug and Play digital twins and their commands.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   digital_twin_etag           "weak": the digital twin's ETag header is W/"…"; "any": weak or strong, either is
#                               taken (the other ETag rules hold alike)
#   pnp_command_timeout_bounds  (least, most) seconds a command's responseTimeoutInSeconds may be; a value outside is
#                               refused with 400; None: the profile takes no position (the requirement skips)
# (A command for a device that is not online is judged by method_offline, profiles_2021_twins.py.)

_SW = "docs/sources/service-2021-04-12.json"
_INV = "docs/sources/INVENTORY-2021-04-12.md"

IOTHUB: dict[str, Rule] = {
    # No recording shows a digital twin's header; the hub's observed ETag headers are strong (C6), the swagger's weak.
    "digital_twin_etag": Rule("any", f"{_INV} §10 (C6: the swagger says Weak Etag, the real service's ETag headers "
                                    "are strong); no recording of a digital twin"),
    "pnp_command_timeout_bounds": Rule((5, 300), f"{_INV} §2.12 (the Node.js service SDK: The "
                                                 f"responseTimeoutInSeconds must be within [5; 300]); {_INV} §9"),
}
DOCS_STRICT: dict[str, Rule] = {
    "digital_twin_etag": Rule("weak", f"{_SW} (DigitalTwin_GetDigitalTwin: Weak Etag; DigitalTwin_UpdateDigitalTwin: "
                                      f"Weak Etag of the modified resource); {_INV} §10 (C6)"),
    # The swagger declares no bounds and the digital-twin pages state none.
    "pnp_command_timeout_bounds": Rule(None, f"{_SW} (DigitalTwin_InvokeRootLevelCommand, "
                                             "DigitalTwin_InvokeComponentCommand: int32, no bounds)"),
}

"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
device-side file upload (SAS URI, blob, completion notification).

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   file_notify_path   True: a completion at /files/notifications/{correlationId} (the id in the path) is served as
#                      the documented /files/notifications; None: no position (the pages name only the latter)

_INV = "docs/sources/INVENTORY-2021-04-12.md"

IOTHUB: dict[str, Rule] = {
    "file_notify_path": Rule(True, f"{_INV} §3.4 (the official Node.js device SDK always notifies there, the .NET "
                                   f"device SDK on its failure path), §10 (C14); docs/sources/SDKS.md",
                             deviation="completions are also taken at /files/notifications/{correlationId}, which "
                                       "no page documents"),
}
DOCS_STRICT: dict[str, Rule] = {
    "file_notify_path": Rule(None, "docs/sources/iot-hub-devguide-file-upload__2021-07-30_0238602a.md and "
                                   "docs/sources/rest-reference-device-group__learn-summary.md name only "
                                   f"/files/notifications, with the correlationId in the body ({_INV} §10 C14)"),
}

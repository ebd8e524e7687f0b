"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
IoT Plug and Play digital twins and their commands.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:

IOTHUB: dict[str, Rule] = {}
DOCS_STRICT: dict[str, Rule] = {}

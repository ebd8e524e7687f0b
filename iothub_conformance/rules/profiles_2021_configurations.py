"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
configurations (automatic device management) and applyConfigurationContent.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   configuration_put_statuses    {"create": statuses, "update": statuses} a configuration PUT may answer
#   configuration_if_match_forms  the If-Match forms that must apply: "quoted" ("<etag>"), "as-given" (the body etag
#                                 unquoted), "*" (bare) and '"*"' (quoted wildcard)
#   apply_configuration_statuses  the statuses applyConfigurationContent may answer

_SW = "docs/sources/service-2021-04-12.json"
_INV = "docs/sources/INVENTORY-2021-04-12.md"
_D18_PUT = "docs/sources/autogen-2018-06-30__Service_CreateOrUpdateConfiguration.yml"

IOTHUB: dict[str, Rule] = {
    "configuration_put_statuses": Rule(
        {"create": frozenset({200, 201}), "update": frozenset({200, 201})},
        f"{_SW} (Configuration_CreateOrUpdate: 200 or 201); docs/sources/SDKS.md (the Python SDK accepts 200 or 201 "
        f"for a configuration PUT); {_INV} §11 (which one the hub sends is not stated)"),
    "configuration_if_match_forms": Rule(
        ("as-given", "quoted", "*", '"*"'),
        f"{_INV} §6, §10 (C3, C4: the Python configuration manager sends the etag as given and a bare *; the .NET and "
        "Node.js SDKs quote the etag and send \"*\"); docs/sources/SDKS.md",
        deviation="If-Match takes the configuration's etag unquoted, as the Python SDK sends it, besides the RFC 7232 "
        "forms"),
    "apply_configuration_statuses": Rule(
        frozenset({204}), f"{_SW} (Configuration_ApplyOnEdgeDevice: 204); docs/sources/SDKS.md (the Python SDK "
                          f"expects 204 only); {_INV} §10 (C30)"),
}
DOCS_STRICT: dict[str, Rule] = {
    "configuration_put_statuses": Rule(
        {"create": frozenset({201}), "update": frozenset({200})},
        f"{_SW} (Configuration_CreateOrUpdate: 201 Created, 200 OK); {_D18_PUT} (201 Returns the created "
        "Configuration object, 200 Returns the updated one)"),
    "configuration_if_match_forms": Rule(
        ("quoted", "*"),
        f"{_SW} (Configuration_CreateOrUpdate, Configuration_Delete: a weak ETag as per RFC7232; the wildcard "
        "character (*)); RFC 7232 §3.1"),
    "apply_configuration_statuses": Rule(
        frozenset({200, 204}), "docs/sources/autogen-2018-06-30__Service_ApplyConfigurationOnEdgeDevice.yml (200 OK, "
                               f"204 No Content); {_SW} (Configuration_ApplyOnEdgeDevice: 204); {_INV} §10 (C30)"),
}

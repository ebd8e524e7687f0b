"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
devices, bulk registry, modules, statistics, cloud-to-device purge.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   device_create_statuses_2021   the statuses a device create may answer
#   device_etag_header_2021       True: a response carrying a device has ETag: "<body etag>"; None: no position
#   delete_requires_if_match_2021 True: a device DELETE without If-Match is refused; False: it deletes
#   quoted_star_is_wildcard_2021  `If-Match: "*"` (quoted, as the service SDKs send it) is the wildcard
#   stats_shape_2021              the fields device statistics carry
#   identity_field_names_2021     the names of a device's keys container and status time on the wire
#   module_create_statuses_2021   the statuses a module create may answer

SW = "docs/sources/service-2021-04-12.json"
INV = "docs/sources/INVENTORY-2021-04-12.md"
STATS = ("totalDeviceCount", "enabledDeviceCount", "disabledDeviceCount")
FIELDS = ("authentication", "statusUpdatedTime")

IOTHUB: dict[str, Rule] = {
    "device_create_statuses_2021": Rule(frozenset({200}), f"{INV} §10 (C1: the swagger, the real service and the "
                                                          "Python SDK all take 200; only the 2016 pages say 201)"),
    "device_etag_header_2021": Rule(True, f"{INV} §1.2, §10 (C5, C6: the real service quotes the ETag header of device "
                                          "responses)",
                                    deviation="device responses carry an ETag header, which the swagger does not "
                                              "declare"),
    "delete_requires_if_match_2021": Rule(False, f"{INV} §10 (C39: the swagger's If-Match is required: false; the SDKs "
                                                 "omit it on create)"),
    "quoted_star_is_wildcard_2021": Rule(True, f"{INV} §6, §10 (C3: the Python, .NET and Node.js SDKs send If-Match: "
                                               "\"*\")",
                                         deviation="If-Match: \"*\" (quoted) counts as the wildcard, as the SDKs send "
                                                   "it"),
    "stats_shape_2021": Rule(STATS, f"{SW} (RegistryStatistics); {INV} §10 (C20)"),
    "identity_field_names_2021": Rule(FIELDS, f"{SW} (Device.authentication, Device.statusUpdatedTime); {INV} §10 "
                                              "(C26: the SDKs read the swagger's names)"),
    "module_create_statuses_2021": Rule(frozenset({200, 201}), f"{SW} (Modules_CreateOrUpdateIdentity: 200 or 201); "
                                                               f"{INV} §10 (C2: which one the hub sends is not "
                                                               "stated), §11"),
}
DOCS_STRICT: dict[str, Rule] = {
    "device_create_statuses_2021": Rule(frozenset({200}), f"{SW} (Devices_CreateOrUpdateIdentity: 200 only)"),
    "device_etag_header_2021": Rule(None, f"{SW} (Devices_GetIdentity: no response header declared); {INV} §1.2, §10 "
                                          "(C5)"),
    "delete_requires_if_match_2021": Rule(False, f"{SW} (Devices_DeleteIdentity: If-Match required: false)"),
    "quoted_star_is_wildcard_2021": Rule(False, f"{SW} (Devices_DeleteIdentity: \"the wildcard character (*)\"); "
                                                "RFC 7232 §3.1"),
    "stats_shape_2021": Rule(STATS, f"{SW} (RegistryStatistics)"),
    "identity_field_names_2021": Rule(FIELDS, f"{SW} (Device.authentication, Device.statusUpdatedTime: the wire "
                                              "names; the identity-registry page's auth and statusUpdateTime name "
                                              f"properties, not JSON fields, {INV} §10 C26)"),
    "module_create_statuses_2021": Rule(frozenset({200, 201}), f"{SW} (Modules_CreateOrUpdateIdentity: 200 or 201)"),
}

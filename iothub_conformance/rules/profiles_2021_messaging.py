"""Disputed rules of api-version 2021-04-12 (rules/profiles.py joins them into each profile's table):
device-side messaging over HTTPS (events, cloud-to-device receive and settle) and cloud-to-device feedback.

At 2021-04-12, docs-strict reads the service's swagger (docs/sources/service-2021-04-12.json) and the developer-guide
pages to the letter; iothub follows the real service where the sources show it departs from them
(docs/sources/INVENTORY-2021-04-12.md §10 lists the disagreements).
"""

from __future__ import annotations

from .rule import Rule

# Rule names and what their values mean:
#   c2d_path_casings        the spellings of …/messages/deviceBound… a 2021 device request may use, each served alike
#   reject_encodings        how a reject may name `reject` in the query: "valueless" (`&reject`), "empty" (`reject=`)
#   settle_if_match         the If-Match forms (the lock token "quoted", "unquoted") a complete, reject or abandon may
#                           carry and still be served
#   c2d_lock_lost           (statuses, error code) a settle with an unknown or expired lock answers; statuses None:
#                           any 4xx
#   c2d_receive_headers     the header names, exactly so spelled, a received message carries
#   c2d_lock_timeout_hint   where a receive may carry the lock-timeout hint and still be served: "header", "query"
#   feedback_record_fields  "camelCase" or "PascalCase": how a feedback record names its fields
#   feedback_lock_header    the response header that carries a received feedback batch's lock token (quoted)

_INV = "docs/sources/INVENTORY-2021-04-12.md"
_C2D = "docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md"
_LEARN = "docs/sources/rest-reference-device-group__learn-summary.md"
_ERR = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
_SDK_HEADERS = ("iothub-messageid", "iothub-sequencenumber", "iothub-enqueuedtime", "iothub-expiry",
                "iothub-deliverycount", "iothub-to")

IOTHUB: dict[str, Rule] = {
    "c2d_path_casings": Rule(("deviceBound", "devicebound"),
                             f"{_INV} §3.2, §10 (C11: CLIDEV and NETDEV send deviceBound, NODEDEV at 2021-04-12 "
                             "devicebound; both run against the service)",
                             deviation="the lower-case devicebound of the Node.js SDK is served as the REST reference's "
                                       "deviceBound"),
    "reject_encodings": Rule(("valueless", "empty"), f"{_INV} §3.3, §10 (C8: NODEDEV and NETDEV send &reject, CLIDEV "
                                                     "reject=)",
                             deviation="reject= (the CLI's empty value) rejects as the valueless flag does"),
    "settle_if_match": Rule(("quoted", "unquoted"), f"{_INV} §3.3, §10 (C9: NODEDEV sends the lock unquoted, NETDEV "
                                                    "quoted on complete and reject)",
                            deviation="If-Match, which no reference declares on these calls, is tolerated as SDKs send "
                                      "it"),
    "c2d_lock_lost": Rule((frozenset({412}), "DeviceMessageLockLost"),
                          f"{_ERR} (412002 DeviceMessageLockLost); {_INV} §10 (C33: NET maps 412 to "
                          "DeviceMessageLockLostException)"),
    "c2d_receive_headers": Rule(_SDK_HEADERS, f"{_INV} §3.2, §10 (C12, C13: CLIDEV, NETDEV and NODEDEV read these "
                                              "lower-case names; NETDEV compares them case-sensitively)",
                                deviation="the iothub-* names the SDKs read, where the 2016 page spells IoTHub-…"),
    "c2d_lock_timeout_hint": Rule(("header", "query"), f"{_INV} §3.2, §10 (C10: CLIDEV sends the header "
                                                       "IotHub-MessageLockTimeout, NETDEV the query parameter "
                                                       "iothub-messagelocktimeout)"),
    "feedback_record_fields": Rule("camelCase", f"{_C2D} (the 2026 notes, item 6: camelCase record fields); "
                                                f"{_INV} §10 (C36)",
                                   deviation="feedback records in camelCase (the 2026 page), the 2018 page PascalCase"),
    "feedback_lock_header": Rule("ETag", f"{_INV} §2.11 (not stated: inferred from the device receive, whose ETag is "
                                         f"the lock token, §3.2); {_C2D} (Message feedback: the semantics for receiving "
                                         "feedback are the same as for cloud-to-device messages)",
                                 deviation="inferred: no source states the header of a feedback lock token"),
}
DOCS_STRICT: dict[str, Rule] = {
    "c2d_path_casings": Rule(("deviceBound",), f"{_LEARN} (Receive, Complete, Abandon Device Bound Notification: "
                                               "…/messages/deviceBound)"),
    "reject_encodings": Rule(("valueless",), f"{_LEARN} (Complete Device Bound Notification: include a query "
                                             "parameter called reject); docs/sources/reject-a-cloud-to-device-message.md "
                                             "(?reject)"),
    "settle_if_match": Rule(None, f"{_LEARN} (no If-Match is declared on these calls); {_INV} §10 (C9)"),
    "c2d_lock_lost": Rule((None, "DeviceMessageLockLost"), f"{_ERR} (412002 DeviceMessageLockLost: the page gives no "
                                                           f"HTTP status); {_INV} §10 (C33)"),
    "c2d_receive_headers": Rule(None, f"{_LEARN} (no response header is declared); {_INV} §10 (C12)"),
    "c2d_lock_timeout_hint": Rule(None, f"{_C2D} (the 2026 notes, item 1: one minute and can't be changed); {_LEARN} "
                                        "(no such parameter is declared)"),
    "feedback_record_fields": Rule("PascalCase", f"{_C2D} (Message feedback: the record table and example); "
                                                 f"{_INV} §10 (C36)"),
    "feedback_lock_header": Rule(None, f"{_INV} §2.11, §11 (how the lock token is returned is not stated)"),
}

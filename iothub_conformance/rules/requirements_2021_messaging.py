"""Requirements of api-version 2021-04-12 (rules/requirements.py joins them into the registry):
device-side messaging over HTTPS (events, cloud-to-device receive and settle) and cloud-to-device feedback."""

from __future__ import annotations

from .requirement import V2021_RELEASE, Requirement

_INV = "docs/sources/INVENTORY-2021-04-12.md"
_LEARN = "docs/sources/rest-reference-device-group__learn-summary.md"
_C2D = "docs/sources/iot-hub-devguide-messages-c2d__2018-03-15_7afb7b94.md"
_ERR = "docs/sources/troubleshoot-error-codes__2022-04-04_61992a0a.md"
_QUOTAS = "docs/sources/iot-hub-devguide-quotas-throttling__2023-02-09_e0310978.md"
_SW = "docs/sources/service-2021-04-12.json"
_SEND = ("Device_SendDeviceEvent",)
_RECEIVE = ("Device_ReceiveDeviceBoundNotification",)
_COMPLETE = ("Device_CompleteDeviceBoundNotification",)
_ABANDON = ("Device_AbandonDeviceBoundNotification",)
_SETTLE = _COMPLETE + _ABANDON
_F_RECEIVE = ("CloudToDeviceMessages_ReceiveFeedbackNotification",)
_F_COMPLETE = ("CloudToDeviceMessages_CompleteFeedbackNotification",)
_F_ABANDON = ("CloudToDeviceMessages_AbandonFeedbackNotification",)
_FEEDBACK = _F_RECEIVE + _F_COMPLETE + _F_ABANDON


def _r(rid: str, statement: str, source: str, operations: tuple[str, ...], rule: str | None = None,
       level: str = "MUST") -> Requirement:
    return Requirement(rid, level, statement, source, operations=operations, since=V2021_RELEASE, profile_rule=rule)


REQUIREMENTS: list[Requirement] = [
    # -- device-to-cloud -------------------------------------------------------------------------------------------
    _r("D2C-SEND-001", "A device-to-cloud send (POST /devices/{id}/messages/events) answers 204 with no body.",
       f"{_LEARN} (Send Device Event: 204 No Content); {_INV} §3.1", _SEND),
    _r("D2C-PROPS-001",
       "A send whose application properties come as iothub-app-* headers and whose system properties come as the "
       "headers the SDKs send (message id, correlation id, iothub-to, iothub-contenttype, iothub-interface-id, "
       "dt-subject, …) is accepted.",
       f"{_LEARN} (Send Device Event: iothub-app-XXX); {_INV} §3.1 (NODEDEV sendEvent, NETDEV header map)", _SEND),
    _r("D2C-PROPS-002",
       "A send whose application property name or value uses a character outside the HTTP-safe set is refused with "
       "400.",
       f"{_INV} §3.1 (Limits: property names and values limited to the HTTP-safe character set)", _SEND),
    _r("D2C-BATCH-001",
       "A batch send (Content-Type application/vnd.microsoft.iothub.json, a JSON array of {body: base64, properties}) "
       "answers 204.",
       f"{_INV} §3.1 (Batch: NODEDEV sendEventBatch, NETDEV BatchedMessageContentType)", _SEND),
    _r("D2C-BATCH-002",
       "A batch send whose body is not a JSON array of messages with base64 bodies is refused with 400.",
       "docs/sources/common-error-codes__v2016-12-27_e5666404f.md (400: the body cannot be parsed); "
       f"{_INV} §3.1 (Batch)", _SEND),
    _r("D2C-LIMIT-001",
       "A device-to-cloud message of 256 KB or more is refused with 413 MessageTooLarge; one under it is accepted.",
       f"{_QUOTAS} (Device-to-cloud messaging: maximum message size 256 KB); {_INV} §3.1, §7.2 (413001 "
       "MessageTooLarge)", _SEND),
    # -- cloud-to-device, the device side ------------------------------------------------------------------------
    _r("C2D-RECV-001", "A receive on an empty queue answers 204 with no body.",
       f"{_LEARN} (Receive Device Bound Notification: 204 if the device message queue is empty); {_INV} §3.2",
       _RECEIVE),
    _r("C2D-RECV-002",
       "A receive answers 200 with the message's body and its lock token in an ETag header, in double quotes (the "
       "SDKs strip the first and last character).",
       f"{_LEARN} (Receive Device Bound Notification: 200, the body); {_INV} §3.2 (ETag = lock token: CLIDEV strip, "
       "NODEDEV substring(1, len-1), NETDEV Trim)", _RECEIVE),
    _r("C2D-RECV-003",
       "A received message carries the profile's property headers, so spelled (iothub: iothub-messageid, "
       "iothub-sequencenumber, iothub-enqueuedtime, iothub-expiry, iothub-deliverycount, iothub-to), and its "
       "application properties as iothub-app-*.",
       f"{_INV} §3.2 (Response headers read by clients), §10 (C12, C13)", _RECEIVE, "c2d_receive_headers"),
    _r("C2D-LOCKHINT-001",
       "A receive that carries the lock-timeout hint where the profile says SDKs send it (iothub: the header "
       "IotHub-MessageLockTimeout, the query parameter iothub-messagelocktimeout) is served as any receive.",
       f"{_INV} §3.2 (Lock timeout hint), §10 (C10)", _RECEIVE, "c2d_lock_timeout_hint"),
    _r("C2D-PATH-001",
       "Receive, complete, reject and abandon are served on each path spelling the profile gives (iothub: deviceBound "
       "and devicebound).",
       f"{_LEARN} (…/messages/deviceBound); {_INV} §3.2, §10 (C11)", _RECEIVE + _SETTLE, "c2d_path_casings"),
    _r("C2D-COMPLETE-001", "A complete with the received lock token answers 204 and deletes the message.",
       f"{_LEARN} (Complete Device Bound Notification: a completed message is deleted from the device queue); "
       f"{_C2D} (Message lifecycle); {_INV} §3.3", _COMPLETE),
    _r("C2D-REJECT-001",
       "A reject (the complete DELETE with reject in the query, in each encoding the profile gives) answers 204 and "
       "dead-letters the message: it is never delivered again.",
       f"{_LEARN} (Complete Device Bound Notification: a rejected message is dead-lettered); {_INV} §3.3, §10 (C8)",
       _COMPLETE, "reject_encodings"),
    _r("C2D-ABANDON-001",
       "An abandon answers 204 and puts the message back in the queue, to be received again.",
       f"{_LEARN} (Abandon Device Bound Notification: put back in the device queue for re-delivery); {_INV} §3.3",
       _ABANDON),
    _r("C2D-IFMATCH-001",
       "A complete, reject or abandon carrying If-Match with the lock token in a form the profile gives (iothub: "
       "quoted and unquoted, as SDKs send it) is served as without it.",
       f"{_INV} §3.3 (If-Match on these), §10 (C9)", _SETTLE, "settle_if_match"),
    _r("C2D-LOCK-001",
       "A complete, reject or abandon whose lock token is unknown or has expired is refused with the profile's status "
       "and code (iothub: 412 DeviceMessageLockLost) and changes nothing.",
       f"{_ERR} (412002 DeviceMessageLockLost: after the lock timeout expires); {_INV} §3.3, §10 (C33)", _SETTLE,
       "c2d_lock_lost"),
    _r("C2D-LOCK-002",
       "A received message is invisible to other receives while locked and visible again once its one-minute lock "
       "has expired.",
       f"{_C2D} (Message lifecycle: lock timeout, one minute); {_INV} §9 (C2D lock)", _RECEIVE),
    _r("C2D-DELIVERY-001",
       "A message abandoned as often as the hub's maxDeliveryCount is dead-lettered: it is not delivered again.",
       f"{_C2D} (Message lifecycle: max delivery count; the 2026 notes, item 2); {_INV} §9 (maxDeliveryCount default "
       "10)", _RECEIVE + _ABANDON),
    # -- feedback --------------------------------------------------------------------------------------------------
    _r("FEEDBACK-RECV-001", "A feedback receive with no feedback to deliver answers 204 with no body.",
       f"{_SW} (CloudToDeviceMessages_ReceiveFeedbackNotification: 200 or 204); {_INV} §2.11", _F_RECEIVE),
    _r("FEEDBACK-RECV-002",
       "A feedback receive with feedback to deliver answers 200 with Content-Type "
       "application/vnd.microsoft.iothub.feedback.json and a body that is a JSON array of records.",
       f"{_C2D} (Message feedback: ContentType, the body is a JSON-serialized array of records); {_INV} §2.11",
       _F_RECEIVE),
    _r("FEEDBACK-RECORD-001",
       "A feedback record names the profile's fields (iothub: originalMessageId, enqueuedTimeUtc, statusCode, "
       "description, deviceId, deviceGenerationId) with the message's id, the device's id and generationId.",
       f"{_C2D} (Message feedback: the record table; the 2026 notes, item 6); {_INV} §10 (C36)", _F_RECEIVE,
       "feedback_record_fields"),
    _r("FEEDBACK-ACK-001",
       "Feedback follows each message's ack mode: none makes no record, positive a record of completion only, "
       "negative of dead-lettering only (rejected, expired, too many deliveries), full of either.",
       f"{_C2D} (Message feedback: the Ack property table; the 2026 notes, item 4)", _F_RECEIVE),
    _r("FEEDBACK-STATUS-001",
       "A record's statusCode names the outcome: Success for a completion, Rejected for a rejection, Expired for a "
       "message whose time to live ran out, DeliveryCountExceeded for one abandoned maxDeliveryCount times.",
       f"{_C2D} (Message feedback: StatusCode values)", _F_RECEIVE),
    _r("FEEDBACK-BATCH-001",
       "Records made within 15 seconds of each other come in one feedback batch (at most 64 records a batch).",
       f"{_C2D} (Message feedback: batched in a single message; the 2026 notes, item 5: 64 messages or 15 seconds)",
       _F_RECEIVE),
    _r("FEEDBACK-COMPLETE-001",
       "A feedback complete with the received batch's lock token (from the profile's header) answers 204 and deletes "
       "the batch: it is not received again.",
       f"{_SW} (CloudToDeviceMessages_CompleteFeedbackNotification: a completed message is deleted from the feedback "
       f"queue); {_INV} §2.11", _F_RECEIVE + _F_COMPLETE, "feedback_lock_header"),
    _r("FEEDBACK-ABANDON-001",
       "A feedback abandon answers 204 and the batch is received again, with the same records.",
       f"{_SW} (CloudToDeviceMessages_AbandonFeedbackNotification); {_C2D} (the semantics for receiving feedback are "
       "the same as for cloud-to-device messages)", _F_RECEIVE + _F_ABANDON, "feedback_lock_header"),
    _r("FEEDBACK-LOCK-001",
       "A feedback complete or abandon whose lock token is unknown is refused with the profile's lock-lost status and "
       "code, and the held batch still completes.",
       f"{_C2D} (the semantics for receiving feedback are the same as for cloud-to-device messages); {_ERR} (412002 "
       f"DeviceMessageLockLost); {_INV} §10 (C33)", _F_COMPLETE + _F_ABANDON, "c2d_lock_lost"),
    _r("FEEDBACK-AUTH-001",
       "Feedback receive, complete and abandon need ServiceConnect: a token of a policy without it, or a device's "
       "token, is refused with 401.",
       f"docs/sources/iot-hub-dev-guide-sas__2022-04-28_583ac50d.md (ServiceConnect: retrieve the corresponding delivery "
       f"acknowledgments); {_INV} §1.3", _FEEDBACK),
    _r("FEEDBACK-DELETE-001",
       "When a device is deleted, the feedback not yet sent about its messages is deleted too: it is never received.",
       f"{_C2D} (the 2026 notes, item 7: when a device is deleted, any pending feedback is deleted as well)",
       _F_RECEIVE),
]

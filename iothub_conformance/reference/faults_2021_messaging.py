"""Fault switches of api-version 2021-04-12 (rows faults.py joins into its table): device-side messaging over HTTPS
(events, cloud-to-device receive and settle) and cloud-to-device feedback (routes_2021_messaging.py, feedback.py)."""

from __future__ import annotations

from .fault_types import Fault, because  # noqa: F401  (because: for collateral rows that share one why)

TABLE: tuple[Fault, ...] = (
    # -- device-to-cloud -------------------------------------------------------------------------------------------
    Fault("d2c-2021-returns-200", "a 2021 device-to-cloud send answers 200 instead of 204", breaks=("D2C-SEND-001",),
          collateral=(because("every send answers 200: the sends these tests check or rely on expect 204",
                             "D2C-PROPS-001", "D2C-PROPS-002", "D2C-BATCH-001", "D2C-BATCH-002", "D2C-LIMIT-001"))
          + (
              ("COMMON-SPEC-001", "a generated send answers 200, a status the spec does not declare"),
          )),
    Fault("d2c-2021-refuses-sdk-headers", "a 2021 send carrying a system property header only the SDKs name "
                                          "(iothub-interface-id, dt-subject, …) is refused with 400",
          breaks=("D2C-PROPS-001",),
          collateral=(
              ("COMMON-SPEC-001", "a generated send with those headers is refused with 400"),
          )),
    Fault("d2c-2021-accepts-invalid-properties", "a 2021 send accepts application properties outside the HTTP-safe "
                                                 "characters", breaks=("D2C-PROPS-002",)),
    Fault("d2c-batch-refused", "a 2021 batch send (application/vnd.microsoft.iothub.json) is refused with 400",
          breaks=("D2C-BATCH-001",),
          collateral=(("D2C-BATCH-002", "errors: the well-formed batch the test sends first is refused"),)),
    Fault("d2c-batch-accepts-garbage", "a 2021 batch send whose body is not a JSON array is accepted (204) and "
                                       "dropped", breaks=("D2C-BATCH-002",)),
    Fault("d2c-2021-no-size-limit", "a 2021 send of 256 KB or more is accepted", breaks=("D2C-LIMIT-001",)),
    # -- cloud-to-device, the device side ------------------------------------------------------------------------------
    Fault("c2d-2021-empty-200", "a 2021 receive on an empty queue answers 200 with no body", breaks=("C2D-RECV-001",),
          collateral=(because("the receive that shows the message gone answers 200, not 204", "C2D-COMPLETE-001",
                             "C2D-DELIVERY-001", "C2D-LOCK-002", "C2D-REJECT-001"))
          + (
              ("COMMON-SPEC-001", "a generated receive on an empty queue answers 200 with a body the spec does not allow"),
          )),
    Fault("c2d-2021-unquoted-lock", "a 2021 receive gives the lock token in ETag without its double quotes",
          breaks=("C2D-RECV-002",)),
    Fault("c2d-2021-drops-sdk-headers", "a 2021 receive names its properties as the 2016 page does (IoTHub-ExpiryTime"
                                        ", …) and leaves out the iothub-* headers the SDKs read",
          breaks=("C2D-RECV-003",)),
    Fault("c2d-lock-hint-refused", "a 2021 receive with the iothub-messagelocktimeout query parameter is refused "
                                   "with 400", breaks=("C2D-LOCKHINT-001",),
          collateral=(
              ("COMMON-SPEC-001", "a generated receive with the lock-timeout hint is refused with 400"),
          )),
    Fault("c2d-2021-devicebound-refused", "at 2021 the lower-case …/messages/devicebound paths answer 404",
          breaks=("C2D-PATH-001",)),
    Fault("c2d-2021-complete-keeps-message", "a 2021 complete answers 204 but leaves the message in the queue",
          breaks=("C2D-COMPLETE-001",),
          collateral=((("FEEDBACK-STATUS-001", "the completed message makes no Success record: it is still queued"),
                      ("FEEDBACK-ACK-001", "a completion makes no record, so ack positive and full see none"),
                      ("FEEDBACK-RECV-002", "no completion makes a record, so there is no batch to receive"),
                      ("FEEDBACK-RECORD-001", "no completion makes a record, so there is no record to read"),
                      ("FEEDBACK-COMPLETE-001", "no completion makes a record, so there is no batch to complete"),
                      ("FEEDBACK-ABANDON-001", "no completion makes a record, so there is no batch to abandon"),
                      ("FEEDBACK-BATCH-001", "no completion makes a record, so there is no batch"),
                      ("FEEDBACK-LOCK-001", "no completion makes a record, so there is no batch to lock")))
          + (
              ("FEEDBACK-DELETE-001", "errors: no completion makes a record, so the other device's record the test waits "
                                      "for never comes"),
          )),
    Fault("c2d-2021-reject-requeues", "a 2021 reject answers 204 but puts the message back in the queue",
          breaks=("C2D-REJECT-001",),
          collateral=(("FEEDBACK-STATUS-001", "the rejected message makes no Rejected record: it is queued again"),
                      ("FEEDBACK-ACK-001", "a rejection makes no record, so ack negative sees none"))),
    Fault("c2d-2021-empty-reject-requeues", "a 2021 reject written reject= (an empty value) puts the message back",
          breaks=("C2D-REJECT-001",)),
    Fault("c2d-2021-abandon-completes", "a 2021 abandon answers 204 but deletes the message",
          breaks=("C2D-ABANDON-001",),
          collateral=(("C2D-DELIVERY-001", "the first abandon deletes the message, so the second delivery is missing"),
                      ("C2D-IFMATCH-001", "errors: the abandoned message the test then completes is gone"),
                      ("C2D-PATH-001", "errors: the abandoned message the test then completes is gone"),
                      ("FEEDBACK-STATUS-001", "abandoning deletes as a completion, so the message is never "
                                              "dead-lettered for DeliveryCountExceeded"))),
    Fault("c2d-if-match-refused", "a 2021 complete, reject or abandon carrying If-Match is refused with 412",
          breaks=("C2D-IFMATCH-001",)),
    Fault("c2d-2021-lock-lost-404", "a 2021 complete, reject or abandon with an unknown or expired lock answers 404 "
                                    "DeviceNotFound", breaks=("C2D-LOCK-001",)),
    Fault("c2d-2021-lock-never-expires", "a 2021 receive locks its message for ever", breaks=("C2D-LOCK-002",),
          collateral=(("C2D-LOCK-001", "the lock a test let run out still holds, so settling with it succeeds"),)),
    Fault("c2d-2021-no-max-delivery-count", "a 2021 abandon never dead-letters a message, however often delivered",
          breaks=("C2D-DELIVERY-001",),
          collateral=(("FEEDBACK-STATUS-001", "no message is dead-lettered, so there is no DeliveryCountExceeded"),)),
    # -- feedback ----------------------------------------------------------------------------------------------------
    Fault("feedback-empty-200", "a feedback receive with nothing to deliver answers 200 with no body",
          breaks=("FEEDBACK-RECV-001",)),
    Fault("feedback-json-content-type", "a feedback batch comes as application/json",
          breaks=("FEEDBACK-RECV-002",)),
    Fault("feedback-complete-keeps", "a feedback complete answers 204 but the batch is delivered again",
          breaks=("FEEDBACK-COMPLETE-001",),
          collateral=because("a completed batch comes back in the same look, so its records are seen twice",
                             "FEEDBACK-ABANDON-001", "FEEDBACK-BATCH-001", "FEEDBACK-LOCK-001", "FEEDBACK-RECORD-001")),
    Fault("feedback-fields-pascal-case", "feedback records name their fields in PascalCase (the 2018 page)",
          breaks=("FEEDBACK-RECORD-001",),
          collateral=((("FEEDBACK-STATUS-001", "its records have no statusCode, only StatusCode"),
                      ("FEEDBACK-RECV-002", "its records have no originalMessageId to find the test's batch by"),
                      ("FEEDBACK-ACK-001", "its records have no originalMessageId to find them by"),
                      ("FEEDBACK-BATCH-001", "its records have no originalMessageId to find them by"),
                      ("FEEDBACK-ABANDON-001", "its records have no originalMessageId to find them by"),
                      ("FEEDBACK-COMPLETE-001", "its records have no originalMessageId to find them by"),
                      ("FEEDBACK-LOCK-001", "its records have no originalMessageId to find them by")))
          + (
              ("FEEDBACK-DELETE-001", "errors: its records have no originalMessageId, so the other device's record is not "
                                      "found"),
          )),
    Fault("feedback-ignores-ack", "feedback records every final state of a message that asked for feedback, whatever "
                                  "its ack mode (positive, negative) asked for",
          breaks=("FEEDBACK-ACK-001",)),
    Fault("feedback-rejected-as-success", "a 2021 reject is recorded as Success", breaks=("FEEDBACK-STATUS-001",),
          collateral=(("FEEDBACK-ACK-001", "a rejection is recorded as Success, which ack negative does not ask for and "
                                           "ack positive gets"),)),
    Fault("feedback-one-record-per-batch", "every feedback record comes in a batch of its own, sent at once",
          breaks=("FEEDBACK-BATCH-001",)),
    Fault("feedback-abandon-deletes", "a feedback abandon answers 204 but deletes the batch",
          breaks=("FEEDBACK-ABANDON-001",)),
    Fault("feedback-accepts-unknown-lock", "a feedback complete or abandon with an unknown or expired lock answers "
                                           "204", breaks=("FEEDBACK-LOCK-001",)),
    Fault("feedback-no-service-connect", "feedback takes a RegistryRead token in place of ServiceConnect",
          breaks=("FEEDBACK-AUTH-001",)),
    Fault("feedback-kept-for-deleted-device", "the feedback not yet sent about a deleted device's messages is still "
                                              "delivered", breaks=("FEEDBACK-DELETE-001",)),
)

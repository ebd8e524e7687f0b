"""IoTHubHttpRuntimeManager of azure-iot-hub 2.7.0, unmodified, against the served reference: the cloud-to-device
feedback the harness produced is received, abandoned, received again and completed, batch by batch, until the
feedback queue is empty; the abandoned lock completed once more (refused); then one receive of the empty queue
through the manager itself.

IoTHubHttpRuntimeManager.receive_feedback_notification returns None whatever came (the generated operation
deserializes no body), so the receives that should bring records go through the same operation of the manager's
protocol client with `raw=True`: the SDK's ClientRawResponse holds the status, the headers and the records. The lock
token is taken from the response's ETag, quotes stripped, as the device side's receive gives its lock (how the
feedback lock token comes over HTTPS is not stated: docs/sources/INVENTORY-2021-04-12.md §2.11; the reference's
profile rule feedback_lock_header).

Runs inside .cache/python-sdk-venv; the harness (tests/support/python_sdk.py) sets IOTHUB_CONNECTION_STRING,
IOTHUB_BASE_URL and SDK_FEEDBACK_RECORDS (how many feedback records the device outcomes it arranged should bring).
"""

from __future__ import annotations

import sys

from azure.iot.hub import IoTHubHttpRuntimeManager
from steps import Steps, aim, setting

MAX_BATCHES = 10  # each batch holds at least one record: more than the harness produces
LOCK_LOST = (412, "DeviceMessageLockLost")


def lock_of(etag):
    if not etag:
        return None
    value = etag.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def main() -> int:
    run = Steps("python feedback")
    hm = IoTHubHttpRuntimeManager.from_connection_string(setting("IOTHUB_CONNECTION_STRING"))
    aim(hm, setting("IOTHUB_BASE_URL"))
    wanted = int(setting("SDK_FEEDBACK_RECORDS"))
    receive = hm.protocol.cloud_to_device_messages.receive_feedback_notification

    # -- the first batch: received, abandoned, received again, completed ----------------------------------------------
    first = run.call("receive feedback, raw", receive, raw=True, summary={"raw": True})
    lock = lock_of(getattr(getattr(first, "response", None), "headers", {}).get("ETag"))
    run.call("abandon feedback", hm.abandon_feedback_notification, lock, summary={"lock_token": lock})
    abandoned = lock
    records = 0
    for batch in range(MAX_BATCHES):
        got = run.call(f"receive feedback batch {batch + 1}, raw", receive, raw=True, summary={"raw": True})
        response = getattr(got, "response", None)
        if response is None or response.status_code == 204:
            break
        lock = lock_of(response.headers.get("ETag"))
        run.call(f"complete feedback batch {batch + 1}", hm.complete_feedback_notification, lock,
                 summary={"lock_token": lock})
        try:
            records += len(response.json())
        except ValueError:
            break
        if records >= wanted:
            break
    run.note("feedback records received", {"records": records, "wanted": wanted}, ok=records == wanted)
    # The abandoned lock holds nothing any more: lock loss is 412 (docs/sources/INVENTORY-2021-04-12.md §10 C33).
    run.call("complete the abandoned lock", hm.complete_feedback_notification, abandoned, expect=LOCK_LOST,
             summary={"lock_token": abandoned})

    # -- the queue is empty now: the manager's own receive -------------------------------------------------------------
    run.call("receive feedback of an empty queue, raw", receive, raw=True, summary={"raw": True})
    run.call("receive feedback of an empty queue", hm.receive_feedback_notification)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())

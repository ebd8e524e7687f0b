"""DigitalTwinClient of azure-iot-hub 2.7.0, unmodified, against the served reference: the digital twin of a simulated
Plug and Play device read, patched with JSON Patch under its ETag (and once with a stale one) and read again; a
root-level and a component command invoked; and the same calls through the client's protocol operations with
`raw=True`, which is where the SDK gives the ETag, Location and x-ms-command-statuscode headers (DigitalTwinClient's own
methods return only the body, or nothing for a PATCH).

Runs inside .cache/python-sdk-venv; the harness (tests/support/python_sdk.py) sets IOTHUB_CONNECTION_STRING,
IOTHUB_BASE_URL, SDK_PREFIX, SDK_PNP_DEVICE (a device it connected as a Plug and Play device of model SDK_PNP_MODEL,
which reported a root property and a component and answers commands) and SDK_PNP_COMPONENT (that component's name).
"""

from __future__ import annotations

import sys

from azure.iot.hub import DigitalTwinClient
from steps import Steps, aim, setting

# docs/sources/INVENTORY-2021-04-12.md §2.12 and §7 (412 PreconditionFailed, 404 DeviceNotFound).
STALE = (412, "PreconditionFailed")
NO_DEVICE = (404, "DeviceNotFound")
NOT_ONLINE = (404, "DeviceNotOnline")  # as a direct method to a device not online (§2.6)
ROOT_COMMAND, COMPONENT_COMMAND = "reboot", "getMaxMinReport"


def main() -> int:
    run = Steps("python digital twins")
    dt = DigitalTwinClient.from_connection_string(setting("IOTHUB_CONNECTION_STRING"))
    aim(dt, setting("IOTHUB_BASE_URL"))
    prefix, device, component = setting("SDK_PREFIX"), setting("SDK_PNP_DEVICE"), setting("SDK_PNP_COMPONENT")
    operations = dt.protocol.digital_twin

    # -- read ------------------------------------------------------------------------------------------------------------
    run.call("get digital twin", dt.get_digital_twin, device, summary={"digital_twin_id": device})
    first = run.call("get digital twin, raw", operations.get_digital_twin, device, raw=True,
                     summary={"digital_twin_id": device, "raw": True})
    etag = (getattr(first, "headers", None) or {}).get("ETag")

    # -- JSON Patch under the ETag (as given, as the SDK sends it), then the same ETag again -----------------------------
    patch = [{"op": "add", "path": "/targetTemperature", "value": 42},
             {"op": "add", "path": f"/{component}/targetTemperature", "value": 21.5}]
    run.call("update digital twin", dt.update_digital_twin, device, patch, etag,
             summary={"digital_twin_id": device, "patch": patch, "etag": etag})
    stale = [{"op": "replace", "path": "/targetTemperature", "value": 7}]
    run.call("update digital twin with a stale etag", dt.update_digital_twin, device, stale, etag, expect=STALE,
             summary={"digital_twin_id": device, "patch": stale, "etag": etag})
    run.call("get digital twin after the update", dt.get_digital_twin, device, summary={"digital_twin_id": device})
    again = [{"op": "replace", "path": "/targetTemperature", "value": 43}]
    run.call("update digital twin, raw", operations.update_digital_twin, device, again, raw=True,
             summary={"digital_twin_id": device, "patch": again, "raw": True})
    run.call("get digital twin, raw, after the raw update", operations.get_digital_twin, device, raw=True,
             summary={"digital_twin_id": device, "raw": True})

    # -- commands --------------------------------------------------------------------------------------------------------
    payload = {"delay": 2}
    run.call("invoke command", dt.invoke_command, device, ROOT_COMMAND, payload, 5, 10,
             summary={"digital_twin_id": device, "command_name": ROOT_COMMAND, "payload": payload,
                      "connect_timeout_in_seconds": 5, "response_timeout_in_seconds": 10})
    since = {"since": "2021-04-12T00:00:00Z"}
    run.call("invoke component command", dt.invoke_component_command, device, component, COMPONENT_COMMAND, since,
             5, 10, summary={"digital_twin_id": device, "component_path": component,
                             "command_name": COMPONENT_COMMAND, "payload": since})
    run.call("invoke command, raw", operations.invoke_root_level_command, device, ROOT_COMMAND, payload, None, 10,
             raw=True, summary={"digital_twin_id": device, "command_name": ROOT_COMMAND, "raw": True})
    run.call("invoke component command, raw", operations.invoke_component_command, device, component,
             COMPONENT_COMMAND, since, None, 10, raw=True,
             summary={"digital_twin_id": device, "component_path": component, "command_name": COMPONENT_COMMAND,
                      "raw": True})

    # -- a Plug and Play device that is not online, a device that does not exist --------------------------------------
    offline = setting("SDK_PNP_OFFLINE_DEVICE")
    run.call("invoke command on a device not online", dt.invoke_command, offline, ROOT_COMMAND, payload, 5, 5,
             expect=NOT_ONLINE, summary={"digital_twin_id": offline, "command_name": ROOT_COMMAND})
    missing = prefix + "missing"
    run.call("get the digital twin of a device that does not exist", dt.get_digital_twin, missing, expect=NO_DEVICE,
             summary={"digital_twin_id": missing})
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())

"""IoTHubJobManager of azure-iot-hub 2.7.0, unmodified, against the served reference: an export job run to its end, the
job list, a second export job cancelled before it starts; a scheduled twin update run to its end over the run's two
devices, a scheduled method job cancelled before its start time, and the scheduled-job query.

Runs inside .cache/python-sdk-venv; the harness (tests/support/python_sdk.py) sets IOTHUB_CONNECTION_STRING,
IOTHUB_BASE_URL, SDK_PREFIX, SDK_TAG and SDK_CONTAINER (a blob container SAS URI the served hub can write to). The two
devices are made (and deleted) with IoTHubRegistryManager.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

from azure.iot.hub import IoTHubJobManager, IoTHubRegistryManager
from azure.iot.hub.models import CloudToDeviceMethod, JobProperties, JobRequest, Twin
from steps import Steps, aim, setting

FINISHED = ("completed", "failed", "cancelled")
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.25


def main() -> int:
    run = Steps("python jobs")
    connection, base_url = setting("IOTHUB_CONNECTION_STRING"), setting("IOTHUB_BASE_URL")
    jm = IoTHubJobManager.from_connection_string(connection)
    rm = IoTHubRegistryManager.from_connection_string(connection)
    aim(jm, base_url)
    aim(rm, base_url)
    prefix, tag, container = setting("SDK_PREFIX"), setting("SDK_TAG"), setting("SDK_CONTAINER")
    devices = [prefix + "job1", prefix + "job2"]
    for device_id in devices:
        run.call("create job device", rm.create_device_with_sas, device_id, None, None, "enabled",
                 summary={"device_id": device_id})

    # -- import/export jobs --------------------------------------------------------------------------------------------
    export = JobProperties(type="export", output_blob_container_uri=container, exclude_keys_in_export=True)
    summary = {"type": "export", "output_blob_container_uri": "<the run's container>", "exclude_keys_in_export": True}
    job = run.call("create export job", jm.create_import_export_job, export, summary=summary)
    job_id = getattr(job, "job_id", None)
    run.call("list import/export jobs", jm.get_import_export_jobs)
    wait(run, "poll export job", jm.get_import_export_job, job_id)
    second = run.call("create a second export job", jm.create_import_export_job, export, summary=summary)
    second_id = getattr(second, "job_id", None)
    run.call("cancel the second export job", jm.cancel_import_export_job, second_id, summary={"job_id": second_id})
    run.call("get the cancelled export job", jm.get_import_export_job, second_id, summary={"job_id": second_id})

    # -- scheduled jobs ------------------------------------------------------------------------------------------------
    condition = "deviceId IN [" + ", ".join(f"'{d}'" for d in devices) + "]"
    twin_job = prefix + "twinjob"
    request = JobRequest(job_id=twin_job, type="scheduleUpdateTwin", query_condition=condition,
                         update_twin=Twin(etag="*", tags={"pysdkjob": tag}), start_time=datetime.now(UTC),
                         max_execution_time_in_seconds=60)
    run.call("create scheduled twin update", jm.create_scheduled_job, twin_job, request,
             summary={"job_id": twin_job, "type": "scheduleUpdateTwin", "query_condition": condition,
                      "tags": {"pysdkjob": tag}})
    wait(run, "poll scheduled twin update", jm.get_scheduled_job, twin_job)
    for device_id in devices:
        run.call("get a job device's twin", rm.get_twin, device_id, summary={"device_id": device_id})
    method_job = prefix + "methodjob"
    later = JobRequest(job_id=method_job, type="scheduleDeviceMethod", query_condition=condition,
                       cloud_to_device_method=CloudToDeviceMethod(method_name="pysdk.later", payload={},
                                                                  response_timeout_in_seconds=10),
                       start_time=datetime.now(UTC) + timedelta(hours=1), max_execution_time_in_seconds=60)
    run.call("create scheduled method job", jm.create_scheduled_job, method_job, later,
             summary={"job_id": method_job, "type": "scheduleDeviceMethod", "start_time": "in an hour"})
    run.call("get the scheduled method job", jm.get_scheduled_job, method_job, summary={"job_id": method_job})
    run.call("cancel the scheduled method job", jm.cancel_scheduled_job, method_job, summary={"job_id": method_job})
    run.call("query completed twin updates", jm.query_scheduled_jobs, "scheduleUpdateTwin", "completed",
             summary={"job_type": "scheduleUpdateTwin", "job_status": "completed"})
    run.call("query cancelled method jobs", jm.query_scheduled_jobs, "scheduleDeviceMethod", "cancelled",
             summary={"job_type": "scheduleDeviceMethod", "job_status": "cancelled"})

    for device_id in devices:
        run.call("delete job device", rm.delete_device, device_id, summary={"device_id": device_id})
    return run.finish()


def wait(run: Steps, step: str, get, job_id) -> None:
    """Read the job until it ends (or WAIT_SECONDS pass); every read is a step."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        job = run.call(step, get, job_id, summary={"job_id": job_id})
        if job is None or getattr(job, "status", None) in FINISHED or time.monotonic() > deadline:
            return
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate tests/recordings/sdk/node-device-http-2021-04-12.har from a fresh run of the 2021-04-12 Node.js device SDK
against `serve --record` (with Azurite as its file-upload storage):

    python -m tests.node_device_sdk.record

The file is the recording `serve --record` wrote (secrets redacted), keeping the exchanges the SDK made (its
User-Agent) less the receiver's empty polls (a GET answered 204, as many as the timing makes), and leaving out the
harness's own: the probe that the server is up, the device it created and the cloud-to-device messages it enqueued
with `send-c2d`. The blob uploads went to Azurite, not to the hub: they are in no recording.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.azurite import AzuriteUnavailable
from tests.support import sdk_recordings
from tests.support.node_device_sdk import NodeUnavailable, run_sdk, sdk_entries

NOTE = ("; only the exchanges the SDK made are kept (python -m tests.node_device_sdk.record), less the receiver's empty "
        "polls: the harness's probe, its device creation and its send-c2d requests are left out")


def _empty_poll(entry: dict) -> bool:
    return entry["request"]["method"] == "GET" and entry["response"]["status"] == 204


def main() -> int:
    try:
        with tempfile.TemporaryDirectory(prefix="node-device-sdk-") as workdir:
            run = run_sdk(Path(workdir))
            for driver in run.drivers.values():
                if driver.returncode != 0:
                    print(f"error: {driver.name} did not pass: {driver.last_line}", file=sys.stderr)
                    return 1
            kept = [e for e in sdk_entries(run) if not _empty_poll(e)]
            lines = "; ".join(driver.last_line for driver in run.drivers.values())
            print(f"{sdk_recordings.write(run.har, kept, NOTE)}; {lines}")
    except (NodeUnavailable, AzuriteUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

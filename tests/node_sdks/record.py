"""Regenerate tests/recordings/sdk/ from a fresh run of the 2016-02-03 Node.js SDKs against `serve --record`:

    python -m tests.node_sdks.record

Each file is the recording `serve --record` wrote (secrets redacted), keeping the exchanges the SDK made (its
User-Agent) and leaving out the harness's own: the probe that the server is up, the device it created for the device
SDK and the cloud-to-device messages it enqueued with `send-c2d`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.support import sdk_recordings
from tests.support.node_sdks import NodeUnavailable, run_sdks, sdk_entries

NOTE = ("; only the exchanges the SDK made are kept (python -m tests.node_sdks.record): the harness's probe, its device "
        "creation and its send-c2d requests are left out")


def main() -> int:
    try:
        with tempfile.TemporaryDirectory(prefix="node-sdks-") as workdir:
            runs = run_sdks(Path(workdir))
            for run in runs.values():
                if run.returncode != 0:
                    print(f"error: {run.name} did not pass: {run.last_line}", file=sys.stderr)
                    return 1
                print(f"{sdk_recordings.write(run.har, sdk_entries(run), NOTE)}; {run.last_line}")
    except NodeUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

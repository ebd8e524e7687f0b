"""Regenerate the Python SDK's recordings in tests/recordings/sdk/ from a fresh run of azure-iot-hub 2.7.0 against the
reference served in this process (tests/support/python_sdk.py):

    python -m tests.python_sdk.record [DRIVER ...]

(every driver by default; or only those named: registry, jobs, configurations, digital_twins, feedback). Each file is
the recording the served reference wrote (as `serve --record` does, secrets redacted), keeping the exchanges the SDK
made (its User-Agent) and leaving out the harness's own: the devices it made for the purge, the Plug and Play device
and the feedback, the messages it queued and the device side's receives and settlements. The SDK venv
(.cache/python-sdk-venv) is built first when it is missing, from PyPI.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.support import sdk_recordings
from tests.support.python_sdk import DRIVERS, SdkUnavailable, run_sdk, sdk_entries

NOTE = ("; only the exchanges the SDK made are kept (python -m tests.python_sdk.record): the harness's own requests "
        "(the devices it prepared, the messages it queued, the device side's receives and settlements) are left out")


def main(argv: list[str]) -> int:
    unknown = sorted(set(argv) - set(DRIVERS))
    if unknown:
        print(f"error: no Python SDK driver {unknown[0]!r}; the drivers: {', '.join(DRIVERS)}", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="python-sdk-") as workdir:
            runs = run_sdk(Path(workdir), tuple(argv) or DRIVERS)
            failed = [run for run in runs.values() if run.returncode != 0 or not all(line["ok"] for line in run.lines)]
            if failed:
                print(f"error: the {failed[0].name} driver did not pass: {failed[0].last_line}", file=sys.stderr)
                return 1
            for run in runs.values():
                print(f"{sdk_recordings.write(run.har, sdk_entries(run), NOTE)}; {run.last_line}")
    except SdkUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

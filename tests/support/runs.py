"""Run a command as a child and measure it: exit code, wall time, its own peak memory; a child still running at the
timeout is killed (with its process group) and reported as hung, so a hang fails a test instead of stalling it."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Finished:
    code: int | None  # None: still running at the timeout, then killed
    seconds: float
    max_rss_mb: float  # the child's own peak resident memory (not its children's, not ours)
    stdout: str
    stderr: str

    @property
    def hung(self) -> bool:
        return self.code is None


def run_measured(command: list[str], *, cwd, env: dict, timeout: float) -> Finished:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        box = {}
        # os.wait4 gives this one child's rusage; in a thread, so the timeout can be enforced around it.
        waiter = threading.Thread(target=lambda: box.update(result=os.wait4(proc.pid, 0)), daemon=True)
        waiter.start()
        waiter.join(timeout)
        hung = waiter.is_alive()
        if hung:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            waiter.join(10)
        seconds = time.monotonic() - started
        proc.returncode = 0  # reaped by wait4 above; keeps Popen from waiting again
        _, status, usage = box.get("result", (0, 0, None))
        code = None if hung else os.waitstatus_to_exitcode(status)
        rss = usage.ru_maxrss / 1024 if usage else 0.0  # KiB on Linux
        out.seek(0)
        err.seek(0)
        return Finished(code, seconds, rss, out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def tree_size(path: Path) -> int:
    """Bytes in the files under path (0 when it does not exist)."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) if Path(path).exists() else 0

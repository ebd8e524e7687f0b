"""A child process that answers JSON requests, one a line on its stdin, one answer a line on its stdout: the suite
worker and the schemathesis worker keep an interpreter and its imports across the runs they are asked for. Restarted
after a request it did not answer in time, or that ended it, so one bad run costs its own test only."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.suite_runs import ROOT


class LineWorker:
    def __init__(self, module: str, *args: str):
        self.command = [sys.executable, "-m", module, *args]
        self._proc: subprocess.Popen | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()

    def _start(self) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
        proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        self._answers = queue.Queue()
        answers, stdout = self._answers, proc.stdout
        assert stdout is not None

        def read() -> None:
            for line in stdout:
                answers.put(line)
            answers.put(None)  # the worker ended

        threading.Thread(target=read, daemon=True).start()
        return proc

    def ask(self, request: dict, timeout: float) -> dict | None:
        """The worker's answer to `request`; None when it gave none within `timeout` seconds (it is killed) or
        ended."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = self._start()
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        try:
            line = self._answers.get(timeout=timeout)
        except queue.Empty:
            line = None
        if line is None:
            self.close(kill=True)
            return None
        return json.loads(line)

    def close(self, kill: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the worker ends when its requests do
        try:
            proc.wait(timeout=0 if kill else 10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextmanager
def output_to(path: Path) -> Iterator[None]:
    """In a worker: file descriptors 1 and 2 go to `path` for the run, then back (the answer channel stays clean)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "wb") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for target, fd in enumerate(saved, start=1):
                os.dup2(fd, target)
                os.close(fd)

"""Work done once for a whole test run, whichever pytest-xdist worker asks first: results kept as JSON under the run's
shared temporary directory, a file lock per name so a second asker waits for the first instead of doing it again."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

POLL = 0.2  # seconds between two looks for a result another worker is making


def run_root(tmp_path_factory) -> Path:
    """The directory every worker of this run shares: the parent of the worker's own base temp under xdist (which
    names each worker's `popen-gwN`), the base temp itself without it."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(root: Path, name: str, make: Callable[[Path], dict]) -> dict:
    """`make(directory)` for `name`, run by the first process to ask; the others wait on its lock and read what it
    returned. Every call with the same root and name gets the same dict."""
    directory = root / name
    directory.mkdir(parents=True, exist_ok=True)
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also when its holder dies
        done = directory / "result.json"
        if done.is_file():
            return json.loads(done.read_text())
        result = make(directory)
        done.write_text(json.dumps(result))
        return result


def claim(root: Path, name: str) -> bool:
    """True for exactly one process of those that claim `name` under root (then it must `publish` a result)."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(root / f"{name}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def publish(root: Path, name: str, result: dict) -> None:
    partial = root / f"{name}.json.part"
    partial.write_text(json.dumps(result))
    partial.replace(root / f"{name}.json")  # whole or absent: a reader never sees half of it


def collect(root: Path, name: str, timeout: float) -> dict | None:
    """The result published for `name`, waiting up to `timeout` seconds for it; None if it never came."""
    path = root / f"{name}.json"
    deadline = time.monotonic() + timeout
    while not path.is_file():
        if time.monotonic() > deadline:
            return None
        time.sleep(POLL)
    return json.loads(path.read_text())

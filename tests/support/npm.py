"""`npm ci` of a pinned Node.js package directory of the tests (its package.json and committed package-lock.json), once:
concurrent test workers wait on a file lock for the first one. Without Node.js or npm, one clear line."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path


class NodeUnavailable(RuntimeError):
    pass


def tool(name: str, purpose: str) -> str:
    """The path of `node` or `npm`, or NodeUnavailable naming what needs it."""
    found = shutil.which(name)
    if found is None:
        raise NodeUnavailable(f"{name} is not installed: {purpose} need Node.js (20 or later) and npm")
    return found


def install(directory: Path, marker: Path, purpose: str, timeout: float = 600) -> Path:
    """npm ci in `directory` unless `marker` (a file the install puts there) already exists; returns `marker`."""
    if marker.exists():
        return marker
    npm = tool("npm", purpose)
    with open(directory / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            try:
                # --prefer-offline: the lock file pins every version and digest, so a cached package needs no second
                # look at the registry (a sixth of the install's CPU time); one not in the cache is still fetched.
                done = subprocess.run([npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
                                      cwd=directory, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise NodeUnavailable(f"npm ci in {directory.name} took longer than {timeout:.0f} s") from None
            if done.returncode != 0 or not marker.exists():
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise NodeUnavailable(f"npm ci in {directory.name} failed ({purpose}): {last[:300]}")
    return marker


def prefetch(packages: Iterable[tuple[Path, Path, str]]) -> threading.Thread:
    """Start installing `(directory, marker, purpose)` packages in the background, one after the other: the tests
    that need them wait on the same lock, and meanwhile the others run (a fresh checkout spends ~12 s in npm ci).
    A failure is left for the test that needs the package to report."""

    def run() -> None:
        for directory, marker, purpose in packages:
            try:
                install(directory, marker, purpose)
            except (NodeUnavailable, OSError):
                pass

    thread = threading.Thread(target=run, name="npm-prefetch", daemon=True)
    thread.start()
    return thread

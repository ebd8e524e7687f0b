"""The hub's clock for messaging times: real time plus an offset, so tests can move time forward without sleeping."""

from __future__ import annotations

import threading
import time


class Clock:
    def __init__(self):
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Epoch seconds."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        # Time only moves forward: a lock or expiry time already handed out must never come back into the future.
        if not seconds >= 0:
            raise ValueError(f"the clock only moves forward, not by {seconds!r} seconds")
        with self._lock:
            self._offset += seconds

"""The run deadline and the signals that end a run: either way the run stops, its requests end, and its bundle is
written marked incomplete."""

from __future__ import annotations

import signal
import threading
import time

CLEANUP_SECONDS = 30.0  # after the deadline, what deleting the run's own devices may still take


class RunClock:
    """Ends the run `seconds` after start: from then on no request to the target starts (Limits.run_ends_at), and
    `on_expiry(reason)` stops the session after the test in progress."""

    def __init__(self, seconds: float, limits, on_expiry) -> None:
        self.seconds = seconds
        self.limits = limits
        self.on_expiry = on_expiry
        self.expired = False
        self._timer: threading.Timer | None = None

    def start(self) -> None:
        self.limits.run_ends_at = time.monotonic() + self.seconds
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        self.on_expiry(f"the run deadline of {self.seconds:g} s was reached (--deadline)")

    def stop(self) -> None:
        """The run is over: cancel the timer and leave a short window to delete what the run created."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.limits.run_ends_at = time.monotonic() + CLEANUP_SECONDS


class Terminated(KeyboardInterrupt):
    """SIGTERM: pytest treats it as an interruption, so the session finishes and writes its bundle."""


def _raise_terminated(signum, frame):
    raise Terminated(f"signal {signal.Signals(signum).name}")


def catch_sigterm():
    """While the suite runs, SIGTERM ends it like Ctrl-C does (SIGINT). Returns what restores the previous handler;
    a no-op outside the main thread, where signals cannot be caught."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    return lambda: signal.signal(signal.SIGTERM, previous)

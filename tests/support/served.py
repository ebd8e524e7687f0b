"""`iothub-conformance serve` in a child process on a free port of 127.0.0.1, for the tests that need a served
reference (SDKs, hostile-target comparisons, the CLI)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from tests.support.suite_runs import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    url: str
    connection_string: str
    announced: list[str]  # the lines `serve` printed after the connection string

    def __iter__(self):  # url, connection_string = served_hub
        return iter((self.url, self.connection_string))


@contextmanager
def serving(*extra: str):
    """`iothub-conformance serve` on a free port of 127.0.0.1, stopped afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "iothub_conformance.cli", "serve", "--port", str(port), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # `serve` prints the connection string first, then where it serves, then the resource provider's flags.
        connection_string = proc.stdout.readline().strip()
        announced = [proc.stdout.readline().strip() for _ in range(2)]
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/statistics/service", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the served reference did not start: {proc.stderr.read()[-500:]}") from None
                time.sleep(0.1)
        yield Served(url, connection_string, announced)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def rp_flags(announced: list[str]) -> dict[str, str]:
    """The resource-provider flags `serve` printed: --rp-url URL --rp-token TOKEN …"""
    line = next(line for line in announced if line.startswith("resource provider:"))
    words = line.removeprefix("resource provider:").split()
    return dict(zip(words[::2], words[1::2], strict=False))

"""Helpers for the project's own tests: running the conformance suite in a child process and reading its verdicts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class SuiteRun:
    code: int
    output: str
    report_dir: Path

    @property
    def statuses(self) -> dict[str, str]:
        data = json.loads((self.report_dir / "results.json").read_text())
        return {r["id"]: r["status"] for r in data["requirements"]}

    def failing(self) -> set[str]:
        return {rid for rid, status in self.statuses.items() if status in ("fail", "error")}

    def summary(self) -> str:
        """What failed and why: the failing requirements with their detail, then pytest's short summary."""
        lines = []
        report = self.report_dir / "results.json"
        if report.is_file():
            for r in json.loads(report.read_text())["requirements"]:
                if r["status"] in ("fail", "error"):
                    lines.append(f"{r['status'].upper()} {r['id']}: {r['detail'][:400]}")
        tail = self.output[self.output.find("short test summary"):] if "short test summary" in self.output else ""
        return "\n".join(lines) + "\n" + (tail or self.output[-1500:])


def run_suite(report_dir: Path, *args: str, env: dict | None = None, examples: int = 4, timeout: int = 300,
              suites: str = "suites") -> SuiteRun:
    """Run `pytest suites` against the embedded reference (or the given --target) in a fresh interpreter: the
    suite registers schemathesis checks and hypothesis state that must not leak into the project's own tests."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    child_env.update({"IOTHUB_MAX_EXAMPLES": str(examples), **(env or {})})
    command = [sys.executable, "-m", "pytest", suites, "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--iothub-bundle", str(report_dir), *args]
    done = subprocess.run(command, cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=timeout)
    return SuiteRun(done.returncode, done.stdout + done.stderr, report_dir)


@pytest.fixture
def suite(tmp_path):
    def run(*args, **kwargs) -> SuiteRun:
        return run_suite(tmp_path / f"report-{len(list(tmp_path.iterdir()))}", *args, **kwargs)

    return run


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """Blob storage on 127.0.0.1 for the job tests (Azurite, installed from tests/azurite on first use)."""
    from tests import azurite as storage

    try:
        running = storage.start(tmp_path_factory.mktemp("azurite"))
    except storage.AzuriteUnavailable as exc:
        pytest.fail(str(exc))
    yield running
    running.stop()


def _free_port() -> int:
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
    port = _free_port()
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


@pytest.fixture
def served_hub():
    with serving() as served:
        yield served


@pytest.fixture
def quick_served_hub():
    """A served reference whose RP operations end at once: a whole-suite run need not wait a second per hub."""
    with serving("--rp-delay", "0") as served:
        yield served


def rp_flags(announced: list[str]) -> dict[str, str]:
    """The resource-provider flags `serve` printed: --rp-url URL --rp-token TOKEN …"""
    line = next(line for line in announced if line.startswith("resource provider:"))
    words = line.removeprefix("resource provider:").split()
    return dict(zip(words[::2], words[1::2], strict=False))

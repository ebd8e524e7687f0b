"""`iothub-conformance run --certify` against the embedded reference, in a child with a bare environment (no venv on
PATH, nothing but the checkout on PYTHONPATH): the certification tests' runs, and the one whole certified run that a
test run makes once and several tests read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import bytecode
from tests.support.suite_runs import ROOT, SuiteRun

PRODUCT = {"vendor": "Example Ltd", "product": "Hub emulator", "version": "1.0", "endpoint": "http://127.0.0.1:1"}


def cli(*args: str, cwd: Path, examples: int = 3) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "IOTHUB_MAX_EXAMPLES": str(examples), "PYTHONPATH": str(ROOT),
                               **bytecode.environment()})


def certified(directory: Path, container: str) -> SuiteRun:
    """The whole suite, certified, with blob storage in `container` (Azurite): its exit code, output and bundle."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "product.json").write_text(json.dumps(PRODUCT))
    done = cli("--certify", "--product", "product.json", "--reports", str(directory / "r"), "--blob-container",
               container, cwd=directory, examples=4)
    bundles = sorted((directory / "r").iterdir()) if (directory / "r").is_dir() else []
    return SuiteRun(done.returncode, done.stdout + done.stderr, bundles[0] if bundles else directory / "r")

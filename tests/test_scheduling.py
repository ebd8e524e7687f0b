"""The own tests' order (tests/support/scheduling.py): slow modules first, each module's tests together, and under
pytest-xdist one test at a time to a free worker, so a long test holds back no queue of others."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from tests.support.scheduling import SLOW, slow_first
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)


def item(name: str, slow: bool):
    return SimpleNamespace(name=name, get_closest_marker=lambda marker: object() if slow and marker == SLOW else None)


def test_slow_modules_come_first_and_everything_else_keeps_its_order():
    items = [item("a1", False), item("b1", True), item("b2", True), item("c1", False), item("d1", True)]
    assert [i.name for i in slow_first(items)] == ["b1", "b2", "d1", "a1", "c1"]


QUICK = """
import os, time
def test_{n}():
    with open(os.environ["ORDER_LOG"], "a") as log:
        log.write(f"{{os.environ['PYTEST_XDIST_WORKER']}} {n} {{time.monotonic()}}\\n")
"""
LONG = """
import os, time
import pytest
pytestmark = pytest.mark.slow
def test_long():
    with open(os.environ["ORDER_LOG"], "a") as log:
        log.write(f"{{os.environ['PYTEST_XDIST_WORKER']}} long {{time.monotonic()}}\\n")
    time.sleep({seconds})
"""


def test_under_xdist_the_slow_module_starts_first_and_holds_back_at_most_one_test(tmp_path):
    # The slow module sorts last by name, and 120 quick tests would make xdist's default first hand-out 15 in a row.
    for n in range(120):
        (tmp_path / f"test_q{n:03}.py").write_text(QUICK.format(n=f"q{n:03}"))
    (tmp_path / "test_zz_long.py").write_text(textwrap.dedent(LONG.format(seconds=3)))
    log = tmp_path / "order.log"
    env = {**os.environ, "ORDER_LOG": str(log), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.support.scheduling", str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    runs = [line.split() for line in log.read_text().splitlines()]
    assert len(runs) == 121
    began = float(next(at for _, name, at in runs if name == "long"))
    before = [name for _, name, at in runs if float(at) < began]
    assert len(before) < 60, before  # handed out first (the other worker may have begun meanwhile), not last
    worker = next(w for w, name, _ in runs if name == "long")
    # Behind the long test waits the one test a worker holds next; the other worker ran all the rest meanwhile.
    assert sum(1 for w, _, _ in runs if w == worker) <= 2, [name for w, name, _ in runs if w == worker]

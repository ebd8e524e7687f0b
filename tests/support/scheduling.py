"""The order the project's own tests run in (hooks that tests/conftest.py takes in): the modules marked `slow` first,
handed to pytest-xdist's workers one test at a time, so no worker is left with a long test while the other idles.

Longest first is what balances two workers at the end; which modules are long is marked in each (`pytestmark =
pytest.mark.slow`), and `python -m tests.bench_own_tests --by-module` lists the measured seconds per module next to
the marks, to find a mark missing or outlived.
"""

from __future__ import annotations

import pytest

SLOW = "slow"


def pytest_configure(config):
    config.addinivalue_line("markers", f"{SLOW}: a module whose tests run the suite or wait on child processes; "
                                       "scheduled first, so the two workers end together")
    if getattr(config.option, "dist", "no") == "load" and getattr(config.option, "maxschedchunk", None) is None:
        # xdist's first hand-out gives each worker a quarter of the tests in a row: one worker would get every slow
        # module at the front of the order, and the other the quick ones.
        config.option.maxschedchunk = 1


def slow_first(items: list) -> list:
    """The slow modules' tests first, then the rest; otherwise collection order, so every module's tests stay
    together (its fixtures are set up once per worker) and every xdist worker computes the same order."""
    return sorted(items, key=lambda item: item.get_closest_marker(SLOW) is None)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering for parametrized fixtures, which the stable sort keeps
def pytest_collection_modifyitems(config, items):
    items[:] = slow_first(items)

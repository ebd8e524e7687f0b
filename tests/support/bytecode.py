"""Where the test run's Python processes keep compiled bytecode when PYTHONDONTWRITEBYTECODE forbids it beside the
sources: a temporary directory of the run (PYTHONPYCACHEPREFIX), removed at its end.

The tests start ~200 fresh interpreters (suite runs, the command line, served references, the suite workers); without
a cache each compiles the package and pytest rewrites every suite module's asserts again, a fifth of the run's CPU
time. The sources' folders stay as the variable asked: nothing is written beside them.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

_MADE = "_iothub_tests_pycache"


def configure(config) -> None:
    """In the controller (or a run without workers), before pytest-xdist starts its workers: they and every child
    inherit the environment."""
    if hasattr(config, "workerinput") or not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    prefix = os.environ.get("PYTHONPYCACHEPREFIX")
    if not prefix:
        prefix = tempfile.mkdtemp(prefix="iothub-tests-pycache-")
        setattr(config, _MADE, prefix)  # ours to remove; a prefix the user set is theirs
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


def unconfigure(config) -> None:
    made = getattr(config, _MADE, None)
    if made:
        shutil.rmtree(made, ignore_errors=True)


def environment() -> dict[str, str]:
    """The bytecode settings of this run, for a child given an environment of its own: without them it would write
    beside the sources."""
    return {name: os.environ[name] for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX") if name in os.environ}

"""A child process that runs the conformance suite again and again in one interpreter (`python -m
tests.support.suite_worker EXAMPLES`): one JSON request a line on stdin, one JSON answer a line on the stdout it
started with.

Each request is a whole `pytest suites …` session of its own (a fresh reference, target, collector and bundle); only
the interpreter and the imported suite modules are kept, which saves the start-up and spec loading a fresh process pays
per run. The suite modules read --max-examples when they are imported, so a worker runs every session with the one
count it started with. The sessions' pytest output goes to a file per run, never to the answer channel.

Its sessions do not shrink: a proof asks which requirements fail, not for the smallest example, and shrinking a
stateful test whose failure depends on the hub's state can take until the run deadline (170 s) for one proof. They
take short tracebacks, as `iothub-conformance run` does, unless a request's args say otherwise.

    request: {"args": ["--iothub-profile", "iothub", …], "bundle": "/tmp/…/report"}
    answer:  {"code": 1, "output": "/tmp/…/report.out"}
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

from iothub_conformance.cli import SUITE_PLUGINS
from tests.support.line_worker import output_to
from tests.support.suite_runs import ROOT

PROFILE = "iothub-proofs"  # hypothesis settings: every phase but shrinking
# What `iothub-conformance run` adds to its pytest arguments (cli.py) and a session may still override: short
# tracebacks (the long style's frame-by-frame formatting is most of a failing run's time), and only the plugins the
# suite needs (with PYTEST_DISABLE_PLUGIN_AUTOLOAD, set in main): registering and parsing every installed one was a
# fifth of a narrowed proof's time.
AS_THE_CLI = ["--tb=short", *[arg for name in SUITE_PLUGINS for arg in ("-p", name)]]
# pytest's unraisable-exception plugin runs the garbage collector over the whole heap (several passes) as each session
# ends, to report exceptions raised in finalizers: a third of a second per proof, for warnings no proof reads.
QUIET_ENDINGS = ["-p", "no:unraisableexception"]


def run_once(args: list[str], bundle: Path) -> tuple[int, Path]:
    import pytest

    output = bundle.with_name(bundle.name + ".out")
    bundle.parent.mkdir(parents=True, exist_ok=True)
    with output_to(output):
        try:
            code = int(pytest.main(["suites", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *QUIET_ENDINGS,
                                    *AS_THE_CLI,
                                    f"--hypothesis-profile={PROFILE}", "--iothub-bundle", str(bundle), *args]))
        except BaseException as exc:  # noqa: BLE001 - every request gets an answer; the parent judges it
            print(f"the suite worker's run raised {type(exc).__name__}: {exc}", file=sys.stderr)
            code = -1
    return code, output


def main(argv: list[str]) -> int:
    from hypothesis import Phase, settings

    settings.register_profile(PROFILE, phases=[Phase.explicit, Phase.reuse, Phase.generate])
    os.chdir(ROOT)
    for name in [n for n in os.environ if n.startswith("IOTHUB_")]:
        del os.environ[name]
    os.environ["IOTHUB_MAX_EXAMPLES"] = str(int(argv[0]))
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing but answers on the answer channel
    frozen = False
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            code, output = run_once([str(a) for a in request["args"]], Path(request["bundle"]))
            answers.write(json.dumps({"code": code, "output": str(output)}) + "\n")
            if not frozen:
                # The first session imported the suite and its specs for good: keep the garbage collector from
                # walking them again in every later session (pytest collects twice as each session ends).
                gc.collect()
                gc.freeze()
                frozen = True
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The whole suite with each fault on (a measurement for a nightly job, not a test): what every fault changes.

    python -m tests.fault_sweep [--jobs 2] [--faults NAME,NAME] [--examples 4] [--timeout 300] [--keep DIR] [--fresh]

Runs the clean reference once under each profile a fault names, then the whole suite once per fault under its profile,
`--jobs` at a time, in suite workers as the proofs do (tests/support/suite_worker.py; `--fresh`: a new interpreter for
every run). Prints, per fault, every requirement whose status differs from the
clean run under that profile (pass→fail, pass→error, skip→pass, …), marked as the fault table declares it: [breaks],
[collateral], or UNDECLARED; and the declared ones that did not change (MISSING). Exit 0 when every fault changes
exactly what it declares (breaks ∪ collateral all failing, nothing else moved), 1 otherwise, 2 on a bad option.
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iothub_conformance.config import ConfigError
from iothub_conformance.reference.faults import FAULTS, Fault, parse_faults
from tests.support.proofs import EXAMPLES, SuiteWorker, changes
from tests.support.suite_runs import FAILING, SuiteRun, unjudged


def sweep_line(fault: Fault, clean: SuiteRun, run: SuiteRun) -> tuple[bool, list[str]]:
    """Whether the fault changed exactly what it declares, and the lines saying what it changed."""
    moved = changes(clean.statuses, run.statuses)
    rows = {row["id"]: row for row in run.rows}
    collateral = dict(fault.collateral)
    lines, exact = [], run.code == 1
    for rid, (before, now) in moved.items():
        if rid in fault.breaks:
            mark = "[breaks]"
        elif rid in collateral:
            mark = "[collateral]"
        elif unjudged(rows[rid]):
            mark = "(not reached: judged nothing)"
        else:
            mark, exact = "UNDECLARED", False
        if now not in FAILING and rid in fault.fails:
            exact = False
        said = " ".join(str(rows[rid]["detail"]).split())[:160]
        lines.append(f"  {rid}: {before}→{now} {mark}" + (f": {said}" if mark == "UNDECLARED" and said else ""))
    for rid in sorted(fault.fails - set(moved)):
        exact = False
        lines.append(f"  {rid}: {run.statuses.get(rid, 'absent')} MISSING (declared, unchanged)")
    if run.code != 1:
        lines.append(f"  exit code {run.code} (a failing run exits 1)" + ("\n" + run.output[-800:] if run.code != 0 else ""))
    return exact, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fault_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, choices=range(1, 5), metavar="1-4")
    parser.add_argument("--faults", help="comma-separated fault names (default: every fault)")
    parser.add_argument("--examples", type=int, default=EXAMPLES, choices=range(1, 101), metavar="1-100")
    parser.add_argument("--timeout", type=float, default=300, help="seconds one run may take (default 300)")
    parser.add_argument("--keep", help="keep the runs' bundles in this directory")
    parser.add_argument("--fresh", action="store_true", help="a new interpreter for every run")
    args = parser.parse_args(argv)
    try:
        chosen = sorted(parse_faults(args.faults)) if args.faults else sorted(FAULTS)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    faults = [FAULTS[name] for name in chosen]
    workers: queue.Queue[SuiteWorker] = queue.Queue()
    for _ in range(args.jobs):
        workers.put(SuiteWorker(args.examples))
    try:
        return _sweep(faults, args, workers)
    finally:
        while not workers.empty():
            workers.get().close()


def _sweep(faults: list[Fault], args: argparse.Namespace, workers: queue.Queue[SuiteWorker]) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(args.jobs) as pool:
        reports = Path(args.keep) if args.keep else Path(scratch)

        def run(name: str, extra: list[str]) -> SuiteRun:
            worker = workers.get()  # one run at a time per worker
            try:
                return worker.run(extra, reports / name, timeout=args.timeout)
            finally:
                if args.fresh:
                    worker.close()
                workers.put(worker)

        profiles = sorted({fault.profile for fault in faults})
        cleans = dict(zip(profiles, pool.map(lambda p: run(f"clean-{p}", ["--iothub-profile", p]), profiles),
                          strict=True))
        for profile, clean in cleans.items():
            if clean.code != 0:
                print(f"the clean reference fails under profile {profile}: no sweep\n{clean.summary()}")
                return 1
        runs = pool.map(lambda f: run(f.name, ["--iothub-profile", f.profile, "--iothub-reference-faults", f.name]),
                        faults)
        inexact = []
        for fault, faulty in zip(faults, runs, strict=True):
            exact, lines = sweep_line(fault, cleans[fault.profile], faulty)
            print(f"{fault.name} ({fault.profile}){'' if exact else ': differs from the fault table'}", flush=True)
            print("\n".join(lines), flush=True)
            if not exact:
                inexact.append(fault.name)
    print(f"{len(faults)} faults in {time.monotonic() - started:.0f}s; "
          + (f"{len(inexact)} differ from the fault table: {', '.join(inexact)}" if inexact
             else "each changes exactly what the fault table declares"))
    return 1 if inexact else 0


if __name__ == "__main__":
    sys.exit(main())

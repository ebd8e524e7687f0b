"""Wall time of the project's own tests as the README runs them (a measurement, not a test).

    python -m tests.bench_own_tests [--workers 3] [--by-module] [-- extra pytest arguments]
    python -m tests.bench_own_tests --fresh

Prints the wall time, the CPU time of pytest and its children, pytest's last line and the exit code (and pytest's
slowest-durations table when the extra arguments ask for one, e.g. `-- --durations=20`); exits with pytest's code.
`--by-module` prints each module's seconds of test time next to its `slow` mark (tests/support/scheduling.py runs the
marked modules first), flagging a module that is long but unmarked, or marked but short.

`--fresh` times the README's test command itself, word for word, in a clone of the checkout's last commit: a new
venv, the install, and the tests with nothing built yet (no node_modules, no SDK venv, no caches of the checkout).
Packages come from the machine's pip and npm caches when they hold them, as on any machine that installed them once.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 3600  # seconds: a hung run still ends
LONG, SHORT = 5.0, 1.0  # seconds of test time: above, a module should be marked slow; below, it need not be
DURATION = re.compile(r"^([\d.]+)s (?:setup|call|teardown)\s+(tests/[^:\s]+\.py)::")


def module_seconds(output: str) -> dict[str, float]:
    """Seconds of test time per module, from pytest's durations table."""
    seconds: dict[str, float] = defaultdict(float)
    for line in output.splitlines():
        if match := DURATION.match(line):
            seconds[match.group(2)] += float(match.group(1))
    return dict(seconds)


def marked_slow() -> set[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "tests", "--collect-only", "-q", "-m", "slow",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    return {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}


def by_module(seconds: dict[str, float], slow: set[str]) -> list[str]:
    lines = []
    for module in sorted(set(seconds) | slow, key=lambda m: -seconds.get(m, 0.0)):
        spent, marked = seconds.get(module, 0.0), module in slow
        flag = "  <- long, not marked slow" if spent > LONG and not marked else \
            "  <- marked slow, but short" if spent < SHORT and marked else ""
        lines.append(f"{spent:8.1f}s  {'slow' if marked else '    '}  {module}{flag}")
    return lines


def readme_test_command() -> str:
    """The README's test command: the one line that makes a venv, installs the test extras and runs `pytest tests`."""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("python3.11 -m venv") and "[test]" in line and "pytest tests" in line:
            return line.strip()
    raise SystemExit("README.md holds no test command (python3.11 -m venv … '.[test]' … pytest tests)")


def fresh() -> int:
    """The README's test command in a fresh clone: the install's and the tests' wall time, and the sum."""
    command = readme_test_command()
    install, tests = command.rsplit(" && ", 1)
    where = Path(tempfile.mkdtemp(prefix="iothub-bench-"))
    try:
        subprocess.run(["git", "clone", "-q", str(ROOT), str(where / "checkout")], check=True, timeout=300)
        times = []
        for part in (install, tests):
            started = time.monotonic()
            done = subprocess.run(["bash", "-c", part], cwd=where / "checkout", capture_output=True, text=True,
                                  timeout=LIMIT)
            times.append(time.monotonic() - started)
            if done.returncode != 0:
                tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
                print(f"{part}: exit {done.returncode}: {' / '.join(tail)}")
                return done.returncode
        last = next((line for line in reversed(done.stdout.splitlines()) if line.strip()), "")
        print(f"{command}\n  install {times[0]:.0f}s + tests {times[1]:.0f}s = {sum(times):.0f}s wall "
              f"({sum(times) / 60:.1f} min) in a fresh clone: {last}")
        return 0
    finally:
        shutil.rmtree(where, ignore_errors=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_own_tests")
    parser.add_argument("--workers", type=int, default=3, choices=range(1, 17), metavar="1-16")
    parser.add_argument("--by-module", action="store_true", help="seconds per module next to its slow mark")
    parser.add_argument("--fresh", action="store_true", help="the README's test command in a fresh clone, install included")
    parser.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.fresh:
        return fresh()
    extra = [*args.extra, *(["--durations=0", "-vv"] if args.by_module else [])]
    command = [sys.executable, "-m", "pytest", "tests", "-n", str(args.workers), "-q", *extra]
    started, cpu = time.monotonic(), os.times()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=LIMIT)
    except subprocess.TimeoutExpired:
        print(f"{' '.join(command[1:])}: still running after {LIMIT}s, stopped")
        return 1
    wall, after = time.monotonic() - started, os.times()
    children = (after.children_user - cpu.children_user, after.children_system - cpu.children_system)
    lines = done.stdout.splitlines()
    if args.by_module:
        print("\n".join(by_module(module_seconds(done.stdout), marked_slow())))
        print("\n".join(line for line in lines if line.startswith(("FAILED ", "ERROR ")))[:6000])
    else:
        table = next((i for i, line in enumerate(lines) if "slowest" in line and "durations" in line), None)
        if table is not None:
            print("\n".join(line for line in lines[table:] if line.strip() and not line.startswith("(")
                             and "short test summary" not in line)[:6000])
    last = next((line for line in reversed(lines) if line.strip()), "")
    print(f"{' '.join(command[1:])}: {wall:.0f}s wall ({wall / 60:.1f} min), CPU {children[0]:.0f}s user "
          f"+ {children[1]:.0f}s system, exit {done.returncode}: {last}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

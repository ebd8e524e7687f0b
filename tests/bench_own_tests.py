"""Wall time of the project's own tests as the README runs them (a measurement, not a test).

    python -m tests.bench_own_tests [--workers 2] [-- extra pytest arguments]

Prints the wall time, pytest's last line and the exit code (and pytest's slowest-durations table when the extra
arguments ask for one, e.g. `-- --durations=20`); exits with pytest's code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 3600  # seconds: a hung run still ends


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_own_tests")
    parser.add_argument("--workers", type=int, default=2, choices=range(1, 17), metavar="1-16")
    parser.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "pytest", "tests", "-n", str(args.workers), "-q", *args.extra]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=LIMIT)
    except subprocess.TimeoutExpired:
        print(f"{' '.join(command[1:])}: still running after {LIMIT}s, stopped")
        return 1
    wall = time.monotonic() - started
    lines = done.stdout.splitlines()
    table = next((i for i, line in enumerate(lines) if "slowest" in line and "durations" in line), None)
    if table is not None:
        print("\n".join(line for line in lines[table:] if line.strip() and not line.startswith("(")
                         and "short test summary" not in line)[:6000])
    last = next((line for line in reversed(done.stdout.splitlines()) if line.strip()), "")
    print(f"{' '.join(command[1:])}: {wall:.0f}s wall ({wall / 60:.1f} min), exit {done.returncode}: {last}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

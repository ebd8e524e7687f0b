"""Wall time of `iothub-conformance run` against the embedded reference (a measurement, not a test).

    python tests/benchmark.py [--repeat 3] [--max-examples 15]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-examples", type=int, default=15)
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as reports:
        for _ in range(args.repeat):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--reports", reports,
                                   "--max-examples", str(args.max_examples)], cwd=ROOT, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:])
                return 1
    print(f"iothub-conformance run (embedded reference, max-examples {args.max_examples}): "
          f"median {statistics.median(times):.2f}s, min {min(times):.2f}s, max {max(times):.2f}s over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())

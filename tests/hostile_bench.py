"""Measure `iothub-conformance run` with DEFAULT settings against each hostile target: exit code, wall time, peak
memory of the run, bundle size, and the requirements that passed. A measurement run by hand, not a test:

    python -m tests.hostile_bench                      # with the preflight (as a user runs it)
    python -m tests.hostile_bench --without-preflight  # also each target meeting the suite itself (long: ~30 min)
    python -m tests.hostile_bench --only trickle garbage

Each run is a child process killed after --hang seconds (reported as hung), so the bench ends on its own.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.support import hostile
from tests.support.runs import run_measured, tree_size
from tests.support.served import serving
from tests.support.suite_runs import ROOT

KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
CONNECTION_STRING = f"HostName=hostile.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
TARGETS = ["never-answer", "trickle", "stall", "429-forever", "silent-after-first", "always-500", "redirect-all",
           "garbage", "stream-10gb", "bodies-50mb", "wrong-key", "reference"]


@contextmanager
def _target(name: str):
    """(url, connection string) of the named target: a hostile server, or the served reference (right or wrong key)."""
    if name in ("wrong-key", "reference"):
        with serving("--rp-delay", "0") as served:
            connection_string = served.connection_string
            if name == "wrong-key":
                head, _, _ = connection_string.rpartition("SharedAccessKey=")
                connection_string = f"{head}SharedAccessKey={KEY}"
            yield served.url, connection_string
    else:
        with hostile.serve(name) as url:
            yield url, CONNECTION_STRING


def measure(name: str, preflight: bool, root: Path, hang: float) -> dict:
    bundle = root / f"{name}{'' if preflight else '-no-preflight'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    with _target(name) as (url, connection_string):
        command = [sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(bundle), "--target", url,
                   "--connection-string", connection_string, *([] if preflight else ["--no-preflight"])]
        run = run_measured(command, cwd=ROOT, env=env, timeout=hang)
    passed, statuses = [], {}
    results = bundle / "results.json"
    if results.exists():
        requirements = json.loads(results.read_text(encoding="utf-8"))["requirements"]
        passed = [r["id"] for r in requirements if r["status"] == "pass"]
        for r in requirements:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    last = (run.stderr.strip().splitlines() or run.stdout.strip().splitlines() or [""])[-1]
    return {"target": name, "preflight": preflight, "exit": "hung" if run.hung else run.code,
            "seconds": run.seconds, "peak_mb": run.max_rss_mb, "bundle_kb": tree_size(bundle) / 1024,
            "statuses": statuses, "passed": passed, "last_line": last[:160]}


def table(rows: list[dict]) -> str:
    lines = [f"{'target':20} {'preflight':9} {'exit':>4} {'wall s':>7} {'peak MB':>8} {'bundle KB':>10}  "
             "pass/fail/error/skip  passed"]
    for r in rows:
        s = r["statuses"]
        counts = "/".join(str(s.get(k, 0)) for k in ("pass", "fail", "error", "skip")) if s else "-"
        passed = ", ".join(r["passed"]) if len(r["passed"]) <= 6 else f"{len(r['passed'])} requirements"
        lines.append(f"{r['target']:20} {'on' if r['preflight'] else 'off':9} {r['exit']!s:>4} {r['seconds']:7.1f} "
                     f"{r['peak_mb']:8.0f} {r['bundle_kb']:10.0f}  {counts:20}  {passed or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=TARGETS, help="measure these targets only")
    parser.add_argument("--without-preflight", action="store_true", help="also run each with --no-preflight")
    parser.add_argument("--hang", type=float, default=600, help="seconds after which a run is killed (default 600)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp:
        for name in args.only or TARGETS:
            for preflight in (True, False) if args.without_preflight and name != "reference" else (True,):
                rows.append(measure(name, preflight, Path(tmp), args.hang))
                r = rows[-1]
                print(f"{name} (preflight {'on' if preflight else 'off'}): exit {r['exit']}, {r['seconds']:.1f} s, "
                      f"{r['peak_mb']:.0f} MB — {r['last_line']}", flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How the suites collect and speak: every item has its own node id (so progress reaches 100 % and verdicts and
evidence are per item), and every assert names what the target did instead of pytest's Python reprs."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.suite_runs import ROOT

SUITES = sorted((ROOT / "suites").glob("test_*.py"))


def collected() -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "suites", "--collect-only", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if line.startswith("suites/") and "::" in line]


def test_every_suite_item_has_its_own_node_id():
    ids = collected()
    shared = sorted({i for i in ids if ids.count(i) > 1})
    assert not shared, f"{len(shared)} node ids are shared by several items: {shared[:5]}"
    generated = [i for i in ids if "::test_generated_" in i]
    assert generated and all(i.endswith("]") and (" /" in i) for i in generated), generated[:5]
    assert "suites/test_properties.py::test_generated_requests_conform_to_the_spec_and_checks[GET /devices]" in ids

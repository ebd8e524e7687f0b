"""Writing an official SDK's own exchanges into tests/recordings/sdk/ (python -m tests.node_sdks.record,
python -m tests.python_sdk.record): the recording the reference made, less what the harness sent itself."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.suite_runs import ROOT

OUT = ROOT / "tests" / "recordings" / "sdk"


def write(har: Path, entries: list, note: str) -> str:
    """Keep `entries` of the recording `har` and add `note` to its comment, under its own name in OUT; returns the
    line the recorders print for it."""
    data = json.loads(har.read_text(encoding="utf-8"))
    data["log"]["entries"] = entries
    data["log"]["comment"] = data["log"].get("comment", "") + note
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / har.name
    target.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    return f"{shown}: {len(entries)} exchanges"

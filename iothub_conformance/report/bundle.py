"""Reading a run's bundle back: its results file, found in a run directory or named itself, as JSON with a
requirements list. `diff` and `report` both read bundles through here."""

from __future__ import annotations

import json
from pathlib import Path

from iothub_conformance.config import ConfigError

# results.json since the report bundle; requirements.json in bundles of earlier runs (same requirements list)
RESULT_FILES = ("results.json", "requirements.json")

# The detail of a requirement no test reached because the run ended early (a skip: diff, certify and report.html read
# it by this prefix). "not reached: the test stopped at …" is another thing: one test ended at an earlier failure.
NOT_REACHED = "not reached: the run ended early"


def not_reached(entry: dict) -> bool:
    """A results.json requirement entry that the run did not reach because it ended early."""
    return entry.get("status") == "skip" and str(entry.get("detail") or "").startswith(NOT_REACHED)


def incompleteness(data: dict) -> str | None:
    """Why a results.json run is incomplete, or None when it is complete (files written before the field existed
    were written only by complete runs' sessionfinish)."""
    if data.get("complete") is False:
        return str(data.get("incomplete") or "the run ended early")
    return None


def results_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such file or directory")
    if path.is_dir():
        for name in RESULT_FILES:
            if (path / name).is_file():
                return path / name
        raise ConfigError(f"{path} holds no {' or '.join(RESULT_FILES)}")
    return path


def read(path) -> tuple[Path, dict]:
    """The results file and its data; one clear ConfigError for anything that is not a run's results."""
    file = results_file(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read it ({type(exc).__name__})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{file} is not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("requirements"), list):
        raise ConfigError(f"{file} has no requirements list")
    return file, data

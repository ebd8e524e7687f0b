"""Where the specs, suites and reports live: the checkout when run from one, else the copies inside the wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE.parent


def _find(name: str) -> Path:
    for base in (_CHECKOUT, PACKAGE / "_bundled"):
        if (base / name).is_dir():
            return base / name
    raise FileNotFoundError(f"cannot find the {name}/ directory next to the package")


def specs_dir() -> Path:
    return _find("specs")


def suites_dir() -> Path:
    return _find("suites")


def reports_dir() -> Path:
    """reports/ of the checkout, else ./reports of the current directory."""
    return _CHECKOUT / "reports" if (_CHECKOUT / "suites").is_dir() else Path.cwd() / "reports"


def spec_path(surface: str, api_version: str) -> Path:
    return specs_dir() / api_version / f"{surface}.yaml"

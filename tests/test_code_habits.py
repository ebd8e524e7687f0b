"""The habits CI holds the code to: ruff clean, the import layers kept (import-linter contracts in pyproject.toml),
and mypy clean over the package at its default strictness. Each runs the tool as a user would, from the checkout."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.suite_runs import ROOT


def _tool(name: str) -> str:
    """The tool installed beside this interpreter (the test extra installs it), else one on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' installs it")
    return found


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_the_code_is_ruff_clean():
    done = _run(_tool("ruff"), "check", "iothub_conformance", "suites", "tests", "conftest.py")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_import_layers_hold():
    done = _run(_tool("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" not in done.stdout.lower().replace("0 broken", ""), done.stdout[-2000:]


def test_the_package_type_checks():
    done = _run(_tool("mypy"), "--cache-dir", str(ROOT / ".mypy_cache"))
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout, done.stdout[-2000:]


def test_no_test_module_imports_another():
    # Shared helpers live in tests/support/ (or are fixtures): importing a test module runs its collection-time code
    # and ties two test files together.
    import ast

    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                last = name.split(".")[-1]
                if name.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not offenders, offenders

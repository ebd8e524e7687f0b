"""`iothub-conformance explain ID` prints one requirement's whole chain, each part read from where the code keeps it;
an unknown id is one line, exit 2, with the closest ids."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from iothub_conformance.reference.faults import FAULTS, Fault
from iothub_conformance.report import explain
from iothub_conformance.rules import sources, spec_operations
from iothub_conformance.rules.requirements import REQUIREMENTS

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

ROOT = sources.REPOSITORY


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def _section(text: str, title: str) -> list[str]:
    """The indented lines under one heading of the output."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    return [line.strip() for line in lines[start + 1:] if line.startswith("  ")][
        :next((j for j, line in enumerate(lines[start + 1:]) if not line.startswith("  ")), None)]


def _site_exists(site: str) -> bool:
    file, line = re.match(r"(\S+?):(\d+)", site).groups()
    return (ROOT / file).is_file() and 0 < int(line) <= len((ROOT / file).read_text().splitlines())


@pytest.mark.parametrize("rid", ["DI-ETAG-002", "MSG-LOCK-001"])
def test_explain_prints_every_part_of_the_chain(rid):
    done = _cli("explain", rid)
    assert done.returncode == 0, done.stderr
    text, requirement = done.stdout, REQUIREMENTS[rid]
    assert text.startswith(f"{rid}  {requirement.level}  (binding since {requirement.since})")
    assert requirement.statement in text and f"source: {requirement.source}" in text
    # every citation of the source, resolved to a repository file or a URL
    resolved = _section(text, "source:")
    assert len(resolved) == len(sources.citations_in(requirement.source))
    for line in resolved:
        where = line.split(" → ")[1]
        assert where.startswith("https://") or (ROOT / where).is_file(), line
    # the rule under each profile
    profiles = _section(text, "profiles")
    assert [line.split()[0] for line in profiles if not line.startswith("noted")] == ["iothub", "docs-strict"]
    # the spec operations, at the lines that hold them
    operations = _section(text, "spec operations")
    assert {line.split()[3] for line in operations} == set(requirement.operations)
    for line in operations:
        file, number = line.split()[0].split(":")
        assert re.match(r"\s*(get|put|post|delete|patch):", (ROOT / file).read_text().splitlines()[int(number) - 1])
    # the check that raises it, the tests that claim it, and the faults that break it with their proofs
    checks = _section(text, "checks")
    assert checks and all(_site_exists(site) for site in checks)
    assert any(site.startswith("iothub_conformance/checks/") for site in checks)
    tests = _section(text, "suite tests")
    assert tests and all(_site_exists(site) and site.split()[0].startswith("suites/") for site in tests)
    faults = _section(text, "faults")
    named = [line.split(":")[0] for line in faults if not line.startswith("proof:")]
    assert named and set(named) == {f.name for f in FAULTS.values() if rid in f.fails}
    proofs = [line.removeprefix("proof: ") for line in faults if line.startswith("proof:")]
    # Each proof selects its fault's test alone (test_a_proof_command_selects_only_its_fault shows the selection).
    assert proofs == [explain.proof_command(FAULTS[name], FAULTS) for name in named]
    assert all(p.startswith(f"pytest tests/test_suite_on_reference.py -k {n}") or f"'{n} and not " in p
               for p, n in zip(proofs, named, strict=True))


@pytest.mark.parametrize("rid", ["DI-ETAG-002", "MSG-LOCK-001", "COMMON-SPEC-001"])
def test_a_check_site_points_at_code_that_names_the_requirement(rid):
    sites = explain.raised_at(rid)
    assert sites
    for site in sites:
        # a string constant starts on its line; one split over lines (implicit concatenation) may name it below
        lines = (ROOT / site.file).read_text().splitlines()[site.line - 1:site.line + 3]
        assert rid in "".join(lines), site


def test_the_spec_lines_are_those_of_the_operations_carrying_the_id():
    text = explain.explain("COMMON-AUTH-001", FAULTS)
    carriers = spec_operations.by_requirement()["COMMON-AUTH-001"]
    for operation in carriers:
        assert f"{operation.spec}:{operation.line}  {operation.method.upper()} {operation.path}" in text
    assert "the file's x-requirements" in text  # COMMON-AUTH-001 concerns every operation of its files


def test_constants_in_docstrings_and_markers_are_not_places_that_raise(tmp_path):
    tree = ast.parse('"""Example: [DI-ETAG-002] says so."""\n'
                     'import pytest\n'
                     '@pytest.mark.requirement("DI-ETAG-002")\n'
                     'def test_x():\n'
                     '    expect("DI-ETAG-002", True, "why")\n'
                     '    fail(f"[DI-ETAG-002] {x}")\n')
    scan = explain._scan(tree)
    assert explain._named(scan.strings, "DI-ETAG-002") == [3, 5, 6] and scan.markers == {3}
    assert explain._within(scan.scopes, 5) == "test_x" and explain._within(scan.scopes, 1) == "module level"


def test_a_fault_that_fails_an_id_as_collateral_says_why(monkeypatch):
    extra = Fault("ignore-everything", "answers 200 to everything", breaks=("DI-GET-002",),
                  collateral=(("DI-ETAG-002", "the 200 carries no ETag"),))
    monkeypatch.setitem(FAULTS, extra.name, extra)
    assert (extra, "the 200 carries no ETag") in explain.faults_breaking("DI-ETAG-002", FAULTS)
    assert "ignore-everything: answers 200 to everything (collateral: the 200 carries no ETag)" in explain.explain(
        "DI-ETAG-002", FAULTS)


def test_a_proof_command_selects_only_its_fault():
    for fault in FAULTS.values():
        command = explain.proof_command(fault, FAULTS)
        expression = command.split(" -k ", 1)[1].strip("'")
        selected = [name for name in FAULTS if _matches(expression, name)]
        assert selected == [fault.name], (command, selected)


def _matches(expression: str, name: str) -> bool:
    """pytest -k on a test id holding the fault's name: "a and not b" by substring."""
    wanted, *excluded = expression.split(" and not ")
    return wanted in name and not any(other in name for other in excluded)


def test_an_id_is_found_whatever_its_case():
    assert explain.find("di-etag-002") is REQUIREMENTS["DI-ETAG-002"]


@pytest.mark.parametrize("given, message", [
    ("DI-ETAG-02", "error: unknown requirement 'DI-ETAG-02' (did you mean DI-ETAG-002"),
    ("NOPE", "error: unknown requirement 'NOPE' (`iothub-conformance requirements` lists them)"),
])
def test_an_unknown_id_is_one_line_exit_2_with_close_matches(given, message):
    done = _cli("explain", given)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.startswith(message) and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_every_requirement_can_be_explained():
    for rid in REQUIREMENTS:
        text = explain.explain(rid, FAULTS)
        assert "UNRESOLVED" not in text and "spec operations" in text and "suite tests" in text, rid

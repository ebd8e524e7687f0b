"""`iothub-conformance explain ID`: one requirement's whole chain, from its statement to the faults that prove it.

Statement, level and since; its source, each citation resolved; what each profile makes of it; the spec operations
whose x-requirements name it; the places in the package that raise it (a string constant naming it, found with
`ast`); the suite tests that claim it and the suite lines that assert it; the fault switches that break it, and the
command that runs each one's proof. Everything is read from the registry, the specs, the sources and the fault table
(handed in by the CLI: the report side does not import the reference), so the chain printed is the chain the code has.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from iothub_conformance.config import ConfigError
from iothub_conformance.rules import sources, spec_operations
from iothub_conformance.rules.profiles import PROFILES
from iothub_conformance.rules.requirements import REQUIREMENTS, Requirement

from .. import paths
from .conformance import FaultLike, tests_with_lines

PROOFS = "tests/test_suite_on_reference.py"
# Where the registry and the fault table name every id: they are the chain's ends, not places that raise it.
_NOT_RAISING = ("rules/requirements.py", "reference/faults.py")


@dataclass(frozen=True)
class Site:
    file: str  # relative to the repository (or to the package's parent when installed)
    line: int
    within: str = ""  # the function or class the line is in

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f" ({self.within})" if self.within else "")


def find(requirement_id: str) -> Requirement:
    """The requirement, or a ConfigError naming the closest ids."""
    if requirement_id in REQUIREMENTS:
        return REQUIREMENTS[requirement_id]
    if requirement_id.upper() in REQUIREMENTS:
        return REQUIREMENTS[requirement_id.upper()]
    close = difflib.get_close_matches(requirement_id.upper(), list(REQUIREMENTS), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else " (`iothub-conformance requirements` lists them)"
    raise ConfigError(f"unknown requirement {requirement_id!r}{hint}")


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class _Scan:
    """What `explain` reads from a module, gathered in one walk of its tree (a walk per question was most of the
    command's time)."""
    strings: list[tuple[str, int]]  # (value, line) of every string constant but the docstrings
    markers: frozenset[int]  # lines of the `requirement(...)` marker calls: those claim an id, they do not assert it
    scopes: list[tuple[int, int, str]]  # (first line, last line, name) of every function and class


def _scan(tree: ast.AST) -> _Scan:
    docstrings: set[int] = set()  # a docstring that shows an id as an example raises nothing
    constants: list[tuple[int, str, int]] = []  # (node id, value, line)
    markers: set[int] = set()
    scopes: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                constants.append((id(node), node.value, node.lineno))
            continue
        if isinstance(node, (ast.Module, *_SCOPES)) and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            docstrings.add(id(node.body[0].value))
        if isinstance(node, _SCOPES):
            scopes.append((node.lineno, node.end_lineno or node.lineno, node.name))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requirement":
            markers.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    strings = [(value, line) for node, value, line in constants if node not in docstrings]
    return _Scan(strings, frozenset(markers), scopes)


def _named(strings: list[tuple[str, int]], requirement_id: str) -> list[int]:
    """Lines of the string constants that name the id: the id itself, or a message that starts "[ID] …"."""
    tagged = f"[{requirement_id}]"
    return sorted({line for value, line in strings if value == requirement_id or tagged in value})


def _within(scopes: list[tuple[int, int, str]], line: int) -> str:
    """The innermost function or class around a line, for a reader to know what they will find there."""
    names = [(first, name) for first, last, name in scopes if first <= line <= last]
    return max(names)[1] if names else "module level"


@dataclass(frozen=True)
class _Module:
    """One parsed module, read once per process: `explain` of every id reads the same files."""
    path: Path
    scan: _Scan


@cache
def _module(path: Path) -> _Module:
    return _Module(path, _scan(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))


@cache
def _package_modules() -> tuple[Path, ...]:
    """The package's modules, checks/ first; without the registry and the fault table, which name every id."""
    modules = sorted(paths.PACKAGE.rglob("*.py"), key=lambda p: (not p.is_relative_to(paths.PACKAGE / "checks"), p))
    return tuple(m for m in modules if not str(m.relative_to(paths.PACKAGE)).endswith(_NOT_RAISING))


@cache
def _suite_tests() -> dict[str, dict[str, int]]:
    return tests_with_lines()


def _relative(path: Path) -> str:
    for base in (sources.REPOSITORY, paths.PACKAGE.parent):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def raised_at(requirement_id: str) -> list[Site]:
    """Where the package raises the id: checks/ first, then the rest of the package."""
    return [Site(_relative(m.path), line, _within(m.scan.scopes, line)) for m in map(_module, _package_modules())
            for line in _named(m.scan.strings, requirement_id)]


def asserted_in_suites(requirement_id: str) -> list[Site]:
    """Suite lines that name the id outside a marker: the assertions (`expect("ID", …)`) that judge it."""
    return [Site(_relative(m.path), line, _within(m.scan.scopes, line))
            for m in map(_module, sorted(paths.suites_dir().glob("*.py")))
            for line in _named(m.scan.strings, requirement_id) if line not in m.scan.markers]


def faults_breaking(requirement_id: str, faults: Mapping[str, FaultLike]) -> list[tuple[FaultLike, str | None]]:
    """(fault, why) for each fault that fails the id: why is None where the id is what the fault exists to break."""
    found: list[tuple[FaultLike, str | None]] = []
    for fault in faults.values():
        if requirement_id in fault.breaks:
            found.append((fault, None))
        found += [(fault, why) for rid, why in fault.collateral if rid == requirement_id]
    return found


def proof_command(fault: FaultLike, faults: Mapping[str, FaultLike]) -> str:
    """The pytest command that runs this fault's proof alone (`-k` matches substrings: other names are excluded)."""
    longer = sorted(name for name in faults if name != fault.name and fault.name in name)
    expression = " and ".join([fault.name, *(f"not {name}" for name in longer)])
    return f"pytest {PROOFS} -k " + (f"'{expression}'" if longer else fault.name)


def _resolved(citation: sources.Citation) -> str:
    try:
        where = sources.check(citation)
    except sources.Unresolved as exc:
        return f"UNRESOLVED: {exc}"
    return where if isinstance(where, str) else _relative(where)


def _profile_lines(requirement: Requirement) -> list[str]:
    lines = []
    width = max(map(len, PROFILES))
    for name, profile in PROFILES.items():
        if not requirement.profile_rule:
            lines.append(f"  {name:{width}}  applies (no profile rule: every profile judges it the same)")
            continue
        rule = profile[requirement.profile_rule]
        said = "no position: skip" if rule.value is None else f"{requirement.profile_rule} = {_value(rule.value)}"
        lines.append(f"  {name:{width}}  {said}  — {rule.source}")
        if rule.deviation:
            lines.append(f"  {'':{width}}  noted deviation: {rule.deviation}")
    return lines


def _value(value: object) -> str:
    if isinstance(value, dict):
        return f"a {len(value)}-case table"
    if isinstance(value, (set, frozenset)):
        return "/".join(sorted(map(str, value)))
    if isinstance(value, (tuple, list)):
        return "/".join(map(str, value))
    return str(value)


def explain(requirement_id: str, faults: Mapping[str, FaultLike]) -> str:
    """The chain of one requirement; faults: the reference's fault table (`reference.faults.FAULTS`)."""
    requirement = find(requirement_id)
    rid = requirement.id
    lines = [f"{rid}  {requirement.level}  (binding since {requirement.since})", f"  {requirement.statement}", "",
             f"source: {requirement.source}"]
    lines += [f"  {citation.text} → {_resolved(citation)}" for citation in sources.citations_in(requirement.source)]
    rule = f" (profile rule {requirement.profile_rule})" if requirement.profile_rule else ""
    lines += ["", f"profiles{rule}:", *_profile_lines(requirement)]
    lines += ["", "spec operations (x-requirements):"]
    for operation in spec_operations.by_requirement().get(rid, []):
        carried = operation.carried_at(rid)
        where = "the file's x-requirements" if (rid, carried) in operation.shared else "its x-requirements"
        lines.append(f"  {operation.spec}:{operation.line}  {operation.method.upper()} {operation.path}  "
                     f"{operation.operation_id}  ({where}, line {carried})")
    raised = raised_at(rid)
    lines += ["", "checks (where the package raises it):", *(f"  {site}" for site in raised)]
    if not raised:
        lines.append("  none in the package: the suite tests below judge it themselves")
    tests = _suite_tests().get(rid, {})
    lines += ["", "suite tests (requirement markers):"]
    lines += [f"  {test.split('::')[0]}:{line}  {test.split('::', 1)[1]}" for test, line in tests.items()]
    asserted = asserted_in_suites(rid)
    if asserted:
        lines += ["", "suite lines that assert it:", *(f"  {site}" for site in asserted)]
    breaking = faults_breaking(rid, faults)
    lines += ["", "faults that break it, and their proofs:"]
    for fault, why in breaking:
        how = "breaks it" if why is None else f"collateral: {why}"
        under = "" if fault.profile == "iothub" else f", profile {fault.profile}"
        lines += [f"  {fault.name}: {fault.description} ({how}{under})", f"    proof: {proof_command(fault, faults)}"]
    if not breaking and requirement.of_client:
        lines.append("  none: a rule for what a client sends; the recordings that break it are in the tests above")
    elif not breaking:
        lines.append("  none: no fault switch of the reference breaks it")
    return "\n".join(lines) + "\n"

"""The conformance document: every requirement, the spec operations it concerns, the tests that prove it, the faults
that break it and what each profile makes of it.

Generated from the registry, the specs' x-requirements, the suites' markers and the fault table, so the document
cannot drift from the code; CONFORMANCE.md is the committed copy (`requirements --check CONFORMANCE.md` in CI). The
suites are read with `ast`, not imported: importing them would load specs, schemathesis and the plugin just to read
decorators.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from iothub_conformance.config import ConfigError
from iothub_conformance.rules import spec_operations
from iothub_conformance.rules.profiles import PROFILES
from iothub_conformance.rules.requirements import REQUIREMENTS, Requirement

from .. import paths

FORMATS = ("md", "json")


class FaultLike(Protocol):
    """What the document reads of a fault switch. The table itself (reference/faults.py) is handed in by the caller:
    the report side does not import the reference (import-linter contract in pyproject.toml)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def profile(self) -> str: ...

    @property
    def breaks(self) -> tuple[str, ...]: ...

    @property
    def collateral(self) -> tuple[tuple[str, str], ...]: ...

# Readable names for the id prefixes; a prefix not listed here is shown as itself.
SURFACES = {
    "COMMON": "Common to every operation",
    "DI": "Device identities",
    "MSG": "Device messaging",
    "JOB": "Import/export jobs",
    "JOBV2": "Scheduled jobs",
    "TWIN": "Device twins",
    "RP": "Resource provider",
    # api-version 2021-04-12
    "DEVICE": "Devices (2021-04-12)",
    "BULK": "Bulk registry (2021-04-12)",
    "MODULE": "Modules (2021-04-12)",
    "STATS": "Statistics (2021-04-12)",
    "PURGE": "Cloud-to-device purge (2021-04-12)",
    "DTWIN": "Device twins (2021-04-12)",
    "MTWIN": "Module twins (2021-04-12)",
    "METHOD": "Direct methods (2021-04-12)",
    "QUERY": "Query (2021-04-12)",
    "IEJOB": "Import/export jobs (2021-04-12)",
    "SJOB": "Scheduled jobs (2021-04-12)",
    "PERM": "Permissions (2021-04-12)",
    "CONFIG": "Configurations (2021-04-12)",
    "PNP": "Digital twins (2021-04-12)",
    "FEEDBACK": "Cloud-to-device feedback (2021-04-12)",
    "D2C": "Device-to-cloud messages over HTTPS (2021-04-12)",
    "C2D": "Cloud-to-device messages over HTTPS (2021-04-12)",
    "FILE": "File upload (2021-04-12)",
    "DEVAUTH": "Device and module credentials (2021-04-12)",
    "SCOPE": "Edge device scope (2021-04-12)",
}


def _requirement_ids(node: ast.AST) -> list[str]:
    """String arguments of every `….requirement(...)` call under node: a decorator, or a parametrize stack's
    `pytest.param(..., marks=pytest.mark.requirement(...))`."""
    ids = []
    for call in ast.walk(node):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "requirement"
                and isinstance(call.func.value, (ast.Attribute, ast.Name))
                and (getattr(call.func.value, "attr", None) or getattr(call.func.value, "id", None)) == "mark"):
            ids += [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return ids


def _pytestmark(body: list[ast.stmt]) -> list[str]:
    """Ids a module's or class's `pytestmark = …` gives every test in it."""
    ids = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets):
            ids += _requirement_ids(stmt.value)
    return ids


def _scan(body: list[ast.stmt], prefix: str, inherited: list[str], found: dict[str, dict[str, int]]) -> bool:
    """Record each decorated function or class under body, with its line; a class's marks pass to its test methods,
    and the class is recorded itself only when none of them was. Returns whether anything was recorded."""
    recorded = False
    for node in body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        name = f"{prefix}::{node.name}"
        own = [i for d in node.decorator_list for i in _requirement_ids(d)]
        if isinstance(node, ast.ClassDef):
            ids = inherited + own + _pytestmark(node.body)
            if _scan(node.body, name, ids, found):
                recorded = True
                continue
        else:
            ids = own + (inherited if node.name.startswith("test") else [])
        for rid in dict.fromkeys(ids):
            found.setdefault(rid, {}).setdefault(name, node.lineno)
            recorded = True
    return recorded


@dataclass(frozen=True)
class ModuleClaims:
    """What a suite module's source says of its tests, read without importing it."""

    requirements: frozenset[str]  # every id its tests claim
    api_version: str | None  # its `pytestmark = pytest.mark.api_version("…")`, if any


@cache
def module_claims(module: Path) -> ModuleClaims:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    found: dict[str, dict[str, int]] = {}
    _scan(tree.body, module.name, _pytestmark(tree.body), found)
    version = None
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets):
            for call in ast.walk(stmt.value):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "api_version" and call.args and isinstance(call.args[0], ast.Constant)):
                    version = str(call.args[0].value)
    return ModuleClaims(frozenset(found), version)


# What proves the requirements a run does not judge (recorded traffic, a client's requests): check-traffic's own tests,
# in a checkout (a wheel carries no tests/).
TRAFFIC_PROOFS = "tests/test_check_traffic.py"


def tests_with_lines(suites_dir: Path | None = None) -> dict[str, dict[str, int]]:
    """Requirement id → {"suites/<module>.py::<test>": line of its def} for every test that claims it (and
    "tests/test_check_traffic.py::<test>" for the requirements only check-traffic judges)."""
    directory = Path(suites_dir) if suites_dir else paths.suites_dir()
    found: dict[str, dict[str, int]] = {}
    modules = [(module, f"{directory.name}/{module.name}") for module in sorted(directory.glob("*.py"))]
    traffic = directory.parent / TRAFFIC_PROOFS
    if traffic.is_file():
        modules.append((traffic, TRAFFIC_PROOFS))
    for module, name in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        _scan(tree.body, name, _pytestmark(tree.body), found)
    return found


def tests_by_requirement(suites_dir: Path | None = None) -> dict[str, list[str]]:
    """Requirement id → the "suites/<module>.py::<test>" ids that claim it, from every suites/*.py."""
    return {rid: list(tests) for rid, tests in tests_with_lines(suites_dir).items()}


def surface(requirement_id: str) -> str:
    """The id's prefix: COMMON, DI, MSG, …"""
    return requirement_id.split("-", 1)[0]


def _brief(value) -> str:
    if isinstance(value, dict):
        text = f"{len(value)}-case table"
    elif isinstance(value, (frozenset, set)):
        text = "/".join(sorted(map(str, value)))
    elif isinstance(value, (tuple, list)):
        text = "/".join(map(str, value))
    else:
        text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def applies(requirement: Requirement, profile) -> str:
    """"applies", "applies (rule=value)" or "skip: <why>" for one profile."""
    if not requirement.profile_rule:
        return "applies"
    rule = profile[requirement.profile_rule]
    if rule.value is None:
        return f"skip: {rule.source}"
    return f"applies ({requirement.profile_rule}={_brief(rule.value)})"


def faults_of(requirement_id: str, faults: Mapping[str, FaultLike]) -> list[dict]:
    """The fault switches that fail the id: {"fault", "how": "breaks" | "collateral", "why"}."""
    found = []
    for fault in faults.values():
        if requirement_id in fault.breaks:
            found.append({"fault": fault.name, "how": "breaks", "why": fault.description})
        found += [{"fault": fault.name, "how": "collateral", "why": why} for rid, why in fault.collateral
                  if rid == requirement_id]
    return found


def _operations_by_spec(requirement: Requirement) -> dict[str, list[str]]:
    """Spec file → the requirement's operations in it ("all" when it concerns every operation of the file)."""
    in_file: dict[str, list[str]] = {}
    for operation in spec_operations.operations():
        in_file.setdefault(operation.spec.removeprefix("specs/"), []).append(operation.operation_id)
    chosen = {}
    for spec, operations in in_file.items():
        mine = [o for o in operations if o in requirement.operations]
        if mine:
            chosen[spec] = ["all"] if mine == operations and len(operations) > 1 else mine
    return chosen


def entries(faults: Mapping[str, FaultLike], suites_dir: Path | None = None) -> list[dict]:
    tests = tests_by_requirement(suites_dir)
    return [{"id": r.id, "surface": surface(r.id), "level": r.level, "statement": r.statement, "source": r.source,
             "since": r.since, "profile_rule": r.profile_rule, "judged_by": list(r.judged_by),
             "operations": list(r.operations),
             "spec_operations": _operations_by_spec(r), "tests": tests.get(r.id, []), "faults": faults_of(r.id, faults),
             "profiles": {name: applies(r, profile) for name, profile in PROFILES.items()}}
            for r in REQUIREMENTS.values()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[dict]) -> str:
    names = list(PROFILES)
    lines = ["# IoT Hub REST API conformance requirements", "",
             "Generated by `iothub-conformance requirements` from the requirement registry "
             "(iothub_conformance/rules/requirements.py), the profiles (iothub_conformance/rules/profiles.py), the "
             "specs' `x-requirements`, the `requirement` markers in suites/ and the fault table "
             "(iothub_conformance/reference/faults.py); do not edit by hand. Regenerate it with "
             "`iothub-conformance requirements --output CONFORMANCE.md`; `iothub-conformance explain ID` prints one "
             "requirement's whole chain.", "",
             "Sources cite docs/sources/ (the copied pages and the research notes); Spec operations name the "
             "operationIds of specs/<api-version>/<surface>.yaml (all: every operation of the file); Faults are the "
             "reference's fault switches that fail the requirement (collateral: it fails too, besides the one the "
             "fault exists for), each proven by `pytest tests/test_suite_on_reference.py -k <fault>`."]
    by_surface: dict[str, list[dict]] = {}
    for row in rows:
        by_surface.setdefault(row["surface"], []).append(row)
    header = ["ID", "Level", "Since", "Statement", "Source", "Spec operations", "Tests", "Faults", *names]
    for prefix, group in by_surface.items():
        title = SURFACES.get(prefix, prefix)
        lines += ["", f"## {title} ({prefix})" if title != prefix else f"## {prefix}", "",
                  "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in group:
            tests = "<br>".join(f"`{t}`" for t in row["tests"]) or "—"
            operations = "<br>".join(f"`{spec}`: {', '.join(ids)}" for spec, ids in row["spec_operations"].items())
            faults = "<br>".join(f"`{f['fault']}`" + (" (collateral)" if f["how"] == "collateral" else "")
                                 for f in row["faults"]) or "—"
            cells = [row["id"], row["level"], row["since"], _cell(row["statement"]), _cell(row["source"]),
                     operations or "—", tests, faults, *(_cell(row["profiles"][n]) for n in names)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def document(fmt: str, faults: Mapping[str, FaultLike], suites_dir: Path | None = None) -> str:
    """The document in md or json; faults: the reference's fault table (`reference.faults.FAULTS`)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    rows = entries(faults, suites_dir)
    return markdown(rows) if fmt == "md" else json.dumps(rows, indent=2) + "\n"

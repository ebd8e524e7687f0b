"""Every assertion in suites/ names its requirement: no bare `assert` (its failure would name none), and an expect()
or conforms() in a test names one of the test's own `requirement` markers. Read with `ast`, without running a test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from iothub_conformance.paths import suites_dir
from iothub_conformance.rules.requirements import REQUIREMENTS

SUITES = sorted(suites_dir().glob("*.py"))
# The helpers that raise a RequirementFailure, and the position of the requirement among their arguments.
NAMING = {"expect": 0, "conforms": 2, "RequirementFailure": 0}


def markers(function: ast.FunctionDef) -> list[str]:
    return [arg.value for decorator in function.decorator_list if isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute) and decorator.func.attr == "requirement"
            for arg in decorator.args if isinstance(arg, ast.Constant)]


def named(call: ast.Call) -> ast.expr | None:
    """The expression a failure-raising call names its requirement with (None: the default, COMMON-SPEC-001)."""
    name = call.func.id if isinstance(call.func, ast.Name) else None
    if name not in NAMING:
        return None
    position = NAMING[name]
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == "requirement"), None)


def ids_in(expression: ast.expr) -> list[str]:
    """The literal ids an expression may name (`"A"`, `"A" if x else "B"`); a variable names none that `ast` sees."""
    return [node.value for node in ast.walk(expression) if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def problems(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found.append(f"{where}:{node.lineno}: a bare assert names no requirement; use expect(requirement, …)")
        raised = node.exc.func if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) else \
            node.exc if isinstance(node, ast.Raise) else None
        if isinstance(raised, ast.Name) and raised.id == "AssertionError":
            found.append(f"{where}:{node.lineno}: raise AssertionError names no requirement; raise RequirementFailure")
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        claimed = markers(function)
        for call in ast.walk(function):
            expression = named(call) if isinstance(call, ast.Call) else None
            for rid in ids_in(expression) if expression is not None else []:
                if rid not in REQUIREMENTS:
                    found.append(f"{where}:{call.lineno}: {rid!r} is not a registered requirement")
                elif function.name.startswith("test_") and rid not in claimed:
                    found.append(f"{where}:{call.lineno}: {function.name} names {rid} but claims only "
                                 f"{', '.join(claimed) or 'nothing'}")
    return found


@pytest.mark.parametrize("path", SUITES, ids=[p.name for p in SUITES])
def test_every_assertion_in_the_suites_names_a_requirement_the_test_claims(path: Path):
    assert problems(path.read_text(encoding="utf-8"), path.name) == []


def test_the_suites_are_read():
    assert {"test_device_identities.py", "test_properties.py", "test_resource_provider.py"} <= {p.name for p in SUITES}
    calls = sum(1 for p in SUITES for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                if isinstance(n, ast.Call) and named(n) is not None)
    assert calls > 200  # the suites' assertions, all through the helpers


BROKEN = '''
import pytest
from iothub_conformance.rules.failures import expect

def helper(response):
    expect("NO-SUCH-001", response, "x")

@pytest.mark.requirement("DI-GET-001")
def test_one(response):
    assert response.status_code == 200, "bare"
    expect("DI-GET-002", response, "another test's requirement")
    expect("DI-GET-001" if response else "DI-GET-002", response, "either")
    expect("DI-GET-001", response, "its own")
    conforms(case, response, "RP-READ-001")
    raise AssertionError("[DI-GET-001] untyped")
'''


def test_a_bare_assert_a_foreign_or_unknown_id_are_each_caught():
    found = problems(BROKEN, "broken.py")
    assert [line.split(":")[1] for line in found] == ["10", "15", "6", "11", "12", "14"], found
    assert "'NO-SUCH-001' is not a registered requirement" in found[2]
    assert "test_one names DI-GET-002 but claims only DI-GET-001" in found[3]
    assert "names RP-READ-001" in found[5]

"""Reading what a check found: the typed failures it returns, by requirement."""

from __future__ import annotations

import re

from iothub_conformance.rules.failures import RequirementFailure


def only(failures: list[RequirementFailure], requirement: str, pattern: str = "") -> RequirementFailure:
    """The one failure a check found: it names `requirement`, and its message (`[ID] detail…`) matches `pattern`."""
    assert all(isinstance(f, RequirementFailure) for f in failures), failures
    assert [f.requirement for f in failures] == [requirement], failures
    assert re.search(pattern, str(failures[0])), f"{failures[0]} does not match {pattern!r}"
    return failures[0]

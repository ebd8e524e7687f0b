"""The shape of a fault switch, apart from the tables, so that each surface's table can live in a module of its own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One fault switch: what it makes the reference do, and the requirements a run with it on must fail.

    `breaks` are the requirements the fault exists for; `collateral` the others it may fail too, each with why. A proof
    (tests/test_suite_on_reference.py) runs the suite with the fault under `profile` and asserts that exactly
    breaks ∪ collateral fail while every other requirement keeps the status it has on the clean reference. The proof
    runs only the tests that claim those requirements, unless `whole_suite`: the fault's effects reach them through
    state other tests leave behind (a device its cleanup could not delete, a job another test cancelled), or through
    a check that probes every generated request (api-version handling) in tests that claim other requirements. Of
    the generated tests (one per spec operation) it runs those of the operations of `breaks` and of `generated_on`:
    the operations whose generated requests meet the fault through something else it broke (a device created without
    keys cannot sign its generated messaging requests).
    """

    name: str
    description: str
    breaks: tuple[str, ...]
    profile: str = "iothub"
    collateral: tuple[tuple[str, str], ...] = ()  # (requirement id, why this fault fails it too)
    whole_suite: bool = False
    generated_on: tuple[str, ...] = ()  # spec operationIds, besides those of `breaks`, whose generated tests fail

    @property
    def fails(self) -> frozenset[str]:
        return frozenset(self.breaks) | {requirement for requirement, _ in self.collateral}


def because(why: str, *requirements: str) -> tuple[tuple[str, str], ...]:
    """Collateral rows that share one why: a fault that breaks a precondition many tests rely on."""
    return tuple((requirement, why) for requirement in requirements)

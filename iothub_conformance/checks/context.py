"""What a check judges a response by besides the response: the profile's rules, the run's journal of exchanges and,
for a received message, what it was fed with. Every check takes `(response, context)` and returns the failures it
found (a list of RequirementFailure, empty when the response keeps the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from iothub_conformance.evidence.journal import Journal
from iothub_conformance.rules.profiles import Profile
from iothub_conformance.targets import session


@dataclass(frozen=True)
class Context:
    profile: Profile | None = None  # None: no disputed rule is decided, so none is checked
    journal: Journal | None = None  # None: nothing to compare across responses (uniqueness, ETag history)
    sent: Mapping[str, str] | None = None  # a received message's properties as the feeder sent them (header names)
    body: bytes | None = None  # … and its body
    # Requirement id → the response headers its judgment read. Filled by `judging()` only when a caller hands in a
    # dict (the traffic judge, traffic/judge.py): a requirement passes an exchange only where a check reached its
    # verdict, and a verdict that read a header the recorder dropped is unobservable, not a pass.
    judged: dict[str, tuple[str, ...]] | None = field(default=None, compare=False)

    def judging(self, *requirements: str, reads: tuple[str, ...] = ()) -> None:
        """Say that the check is deciding `requirements` on this response now, from the headers `reads`."""
        if self.judged is not None:
            for rid in requirements:
                self.judged[rid] = tuple(dict.fromkeys(self.judged.get(rid, ()) + reads))

    def value(self, rule: str) -> Any:
        """The profile's value of `rule`, None without a profile."""
        return self.profile.value(rule) if self.profile is not None else None

    @classmethod
    def of_run(cls) -> Context:
        """The running suite's profile and journal, as the schemathesis checks see them."""
        if not session.active():
            return cls()
        target = session.current()
        return cls(target.profile, target.journal)

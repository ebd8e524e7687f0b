"""What one requirement is (the registry, rules/requirements.py, holds them all) and the suite versions that made
requirements binding."""

from __future__ import annotations

from dataclasses import dataclass

# The suite version that first shipped the registry: every requirement below has been binding since.
FIRST_RELEASE = "0.1.0"
# The first suite version that judges recorded traffic (`check-traffic`).
TRAFFIC_RELEASE = "0.2.0"
# The first suite version that tests api-version 2021-04-12.
V2021_RELEASE = "0.3.0"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str  # MUST | SHOULD
    statement: str
    source: str  # citations, `; `-separated: docs/sources/<page> (section), docs/sources/INVENTORY.md §5, RFC 7232 §2.3
    operations: tuple[str, ...]  # operationIds in specs/ this requirement concerns
    since: str  # the suite version that made it binding
    profile_rule: str | None = None  # the profiles.py rule that decides it, when disputed
    # What judges it: "run" (the suite against a target), "traffic" (`check-traffic`: one recorded response shows
    # it), "requests" (`check-traffic --requests`: what a client sent).
    judged_by: tuple[str, ...] = ("run",)

    @property
    def of_client(self) -> bool:
        """A rule for what a client sends, not for how a target answers."""
        return self.judged_by == ("requests",)

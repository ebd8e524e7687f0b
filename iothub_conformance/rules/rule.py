"""One profile's decision of one disputed rule (the profiles, rules/profiles.py, hold them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    value: object
    source: str
    # Set when the accepted behaviour departs from the pages (2021-04-12: the swagger): a noted deviation.
    deviation: str | None = None

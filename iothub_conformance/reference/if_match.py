"""If-Match parsing and strong comparison (RFC 7232 §2.3, §3.1; OBSERVED §2, §3)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from iothub_conformance.rules.entity_tags import ETAGC

from .faults import switch
from .hub import Hub

UNQUOTED_ETAG = switch("unquoted-etag")
WEAK_IF_MATCH_MATCHES = switch("weak-if-match-matches")

# One list element: an entity-tag, or else a bare run (group 3) that is only valid when empty; then `,` or the end.
LIST_ITEM = re.compile(rf'[ \t]*(?:(W/)?"({ETAGC}*)"|([^",]*?))[ \t]*(?:,|\Z)')


class MalformedIfMatch(ValueError):
    pass


@dataclass(frozen=True)
class IfMatch:
    wildcard: bool = False
    tags: tuple[tuple[bool, str], ...] = ()  # (weak, opaque-tag) pairs

    def matches(self, hub: Hub, current: set[str]) -> bool:
        """True when the condition holds for a device whose etag is one of `current` (empty: no device)."""
        if self.wildcard:
            return bool(current)
        # Strong comparison: a weak tag never matches (RFC 7232 §2.3.2).
        return any((not weak or hub.has(WEAK_IF_MATCH_MATCHES)) and tag in current for weak, tag in self.tags)


def parse_if_match(hub: Hub, values: list[str]) -> IfMatch | None:
    """The request's If-Match condition, or None when there is none.

    `""` alone counts as absent (SDKs send it for "no condition"); `"*"` is the wildcard only when the profile says so.
    """
    text = ", ".join(values).strip()
    if not text or text == '""':
        return None
    if text == "*" or (text == '"*"' and hub.profile.value("quoted_star_is_wildcard")):
        return IfMatch(wildcard=True)
    tags = []
    pos = 0
    while pos < len(text):
        item = LIST_ITEM.match(text, pos)
        if item is None:
            raise MalformedIfMatch(f"If-Match {text!r} is not * or a comma-separated list of quoted entity-tags")
        pos = item.end()
        bare = item.group(3)
        if bare is None:
            tags.append((bool(item.group(1)), item.group(2)))
        elif bare and hub.has(UNQUOTED_ETAG):
            tags.append((False, bare))  # a client that copied the unquoted ETag header sends it back as it is
        elif bare:
            raise MalformedIfMatch(f"If-Match element {bare!r} is not a quoted entity-tag")
        # an empty element is allowed and ignored (RFC 7230 §7)
    if not tags:
        raise MalformedIfMatch("If-Match lists no entity-tag")
    return IfMatch(tags=tuple(tags))

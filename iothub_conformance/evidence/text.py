"""Bounded text: what a target sent is cut before it reaches a message, a report or the terminal, and says its size.

A hostile or broken target can answer with bodies of many megabytes; a failure message that quotes one must not copy
it whole into the longrepr, junit.xml, results.json and report.html. Everything here is redacted as it is cut.
"""

from __future__ import annotations

from iothub_conformance.evidence.redact import redact

LIMIT = 2048  # characters of one body or line shown
TEXT_LIMIT = 64 * 1024  # characters of one whole message or report section
_SLACK = 256  # redact a little past the cut, so a secret straddling it is still recognised whole


def excerpt(body: bytes | str | None, limit: int = LIMIT) -> str:
    """The first `limit` characters of a body, redacted; when it is longer, followed by its full size, e.g.
    "… (50,331,648 bytes, first 2,048 shown)". Invalid UTF-8 becomes U+FFFD."""
    if not body:
        return ""
    if isinstance(body, bytes | bytearray | memoryview):
        size, unit = len(body), "bytes"
        text = bytes(body[:limit + _SLACK]).decode("utf-8", "replace")
    else:
        size, unit = len(body), "characters"
        text = body[:limit + _SLACK]
    if size <= limit:
        return redact(text)
    return f"{redact(text)[:limit]}… ({size:,} {unit}, first {limit:,} shown)"


def bounded(text: str | None, line_limit: int = LIMIT, limit: int = TEXT_LIMIT) -> str:
    """A multi-line text (a traceback, a captured log) redacted, each line cut to `line_limit` and the whole to about
    `limit`: its beginning and its end (where a traceback's error is) are kept, and the cut says what it left out."""
    if not text:
        return text or ""
    lines = text.split("\n")
    head: list[str] = []
    tail: list[str] = []
    budget = limit // 4
    # Lines are taken from the start and, with the larger share, from the end; a cut line costs at most line_limit.
    for line in lines:
        cost = min(len(line), line_limit) + 1
        if cost > budget:
            break
        head.append(line)
        budget -= cost
    budget += limit - limit // 4
    for line in reversed(lines[len(head):]):
        cost = min(len(line), line_limit) + 1
        if cost > budget:
            break
        tail.append(line)
        budget -= cost
    tail.reverse()
    left_out = len(lines) - len(head) - len(tail)
    kept = [excerpt(line, line_limit) if len(line) > line_limit else redact(line) for line in head]
    if left_out:
        kept.append(f"… ({left_out:,} lines cut, {len(text):,} characters in all) …")
    kept += [excerpt(line, line_limit) if len(line) > line_limit else redact(line) for line in tail]
    return "\n".join(kept)

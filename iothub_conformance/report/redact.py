"""Secrets never reach a report, log or transcript: every text that leaves the suite passes through here."""

from __future__ import annotations

import re

REDACTED = "<redacted>"
_PATTERNS = [
    # SharedAccessSignature sr=…&sig=…&se=…: the whole token goes, not only sig (it could be replayed until se).
    (re.compile(r"SharedAccessSignature\s+[^\s\"'<>,}]+"), f"SharedAccessSignature {REDACTED}"),
    (re.compile(r"(?i)(sig=)[^&\s\"'<>,}]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(SharedAccessKey=)[^;\s\"'<>,}]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(AccountKey=)[^;\s\"'<>,}]+"), rf"\g<1>{REDACTED}"),  # storage connection strings
    (re.compile(r"(?i)(Bearer\s+)[A-Za-z0-9\-._~+/]+=*"), rf"\g<1>{REDACTED}"),
    # A key on its own: base64 of 16 to 64 bytes with its padding, as hubs and SDKs make them (32 bytes: 43 chars
    # and "="). It catches a key whose name was cut away, e.g. by a truncated repr in an assertion message.
    (re.compile(r"(?<![A-Za-z0-9+/=])(?:[A-Za-z0-9+/]{4}){5,21}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)"
                r"(?![A-Za-z0-9+/=])"), REDACTED),
    # Device keys in JSON bodies (authentication.symmetricKey.primaryKey / secondaryKey).
    (re.compile(r"(?i)(['\"](?:primaryKey|secondaryKey|primary|secondary)['\"]\s*:\s*['\"])[^'\"]*"),
     rf"\g<1>{REDACTED}"),
]


def redact(text: str) -> str:
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text

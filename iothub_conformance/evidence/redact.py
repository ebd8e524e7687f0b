"""Secrets never reach a report, log or transcript: every text that leaves the suite passes through here.

The patterns are precise so that they never rewrite the suite's own words ("a bearer token the endpoint did not
issue" stays as it is): a secret is recognised by its syntax (key=value fields, a SAS token's fields, a token's
length and characters, a URL's userinfo), not by a word alone.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"
# token68 (RFC 7235 §2.1) of at least 16 characters with one that is not a letter: an AAD JWT, an opaque token; never
# an English word.
_BEARER_TOKEN = r"(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{16,}=*"
_PATTERNS = [
    # SharedAccessSignature sr=…&sig=…&se=…: the whole token goes, not only sig (it could be replayed until se).
    (re.compile(r"SharedAccessSignature\s+(?:sr|sig|se|skn)=[^\s\"'<>,}]*"), f"SharedAccessSignature {REDACTED}"),
    (re.compile(r"(?i)(sig(?:=|%3D))[^&\s\"'<>,}]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(SharedAccessKey=)[^;\s\"'<>,}]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(?i)(AccountKey=)[^;\s\"'<>,}]+"), rf"\g<1>{REDACTED}"),  # storage connection strings
    # The scheme is case-insensitive (RFC 7235 §2.1); the token is told from a word by its length and characters.
    (re.compile(rf"(?i:(?<![A-Za-z])(bearer)(\s+)){_BEARER_TOKEN}"), rf"\g<1>\g<2>{REDACTED}"),
    # user:password@ in any URL (RFC 3986 §3.2.1): the password goes, the user name stays.
    # The scheme starts where a run of scheme characters starts (the lookbehind): trying every start inside a long
    # run of letters would be quadratic in its length.
    (re.compile(r"(?<![A-Za-z0-9+.\-])([A-Za-z0-9+.\-]+://[^\s/?#@:<>\"']*:)[^\s/?#@<>\"']+@"), rf"\g<1>{REDACTED}@"),
    # A key on its own: base64 of 16 to 64 bytes with its padding, as hubs and SDKs make them (32 bytes: 43 chars
    # and "="). It catches a key whose name was cut away, e.g. by a truncated repr in an assertion message.
    (re.compile(r"(?<![A-Za-z0-9+/=])(?:[A-Za-z0-9+/]{4}){5,21}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)"
                r"(?![A-Za-z0-9+/=])"), REDACTED),
    # Device keys in JSON bodies (authentication.symmetricKey.primaryKey / secondaryKey).
    (re.compile(r"(?i)(['\"](?:primaryKey|secondaryKey|primary|secondary)['\"]\s*:\s*['\"])[^'\"]*"),
     rf"\g<1>{REDACTED}"),
]


_KEY_FIELD = re.compile(r"(?i)(?:primaryKey|secondaryKey|primary|secondary)\Z")


def is_key_field(name: object) -> bool:
    """A JSON member that holds a key (authentication.symmetricKey.primaryKey, a policy's secondaryKey, …)."""
    return bool(_KEY_FIELD.match(str(name)))


# What every pattern above needs somewhere in the text (in lower case): "=" or "%3d" (the key=value and token fields,
# sig, a key's padding), "@" (userinfo), "bearer", or a key field's name. A text with none of them keeps every
# character, so it is returned without running the patterns: most of a report's strings are ids, statuses and words.
# Only for ASCII text: the patterns' (?i) also takes "ı" and "ſ" for "i" and "s", which lower() keeps apart.
_NEEDS = ("=", "%3d", "@", "bearer", "primary", "secondary")


def redact(text: str) -> str:
    if not text:
        return text
    if text.isascii():
        lowered = text.lower()
        if not any(needle in lowered for needle in _NEEDS):
            return text
    return _redacted(text)


def _redacted(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_data(value):
    """Every string in a JSON-like value redacted (keys too): redacting the data, not its serialised text, cannot
    break the quoting of the file it is written to."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k:
                REDACTED if isinstance(v, str) and v and is_key_field(k) else redact_data(v)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value

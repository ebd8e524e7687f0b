"""SAS tokens and connection strings, as INVENTORY §5 describes them.

token = "SharedAccessSignature sr={urlencoded uri}&sig={urlencoded b64 hmac}&se={expiry}[&skn={policy}]"
sig   = base64(HMAC-SHA256(base64decode(key), urlencode(uri) + "\n" + se))
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote_plus, unquote_plus, urlencode  # noqa: F401  (quote_plus re-exported)

from iothub_conformance.config import ConfigError

PREFIX = "SharedAccessSignature "
# An expiry is seconds since 1970 as a decimal string; 19 digits already pass the 64-bit range, so a longer one is not
# a time (and int() of thousands of digits raises instead of parsing).
MAX_EXPIRY_DIGITS = 19


@dataclass(frozen=True)
class ConnectionString:
    host_name: str
    key: str
    key_name: str | None = None  # absent for a device connection string
    device_id: str | None = None

    @property
    def hub_name(self) -> str:
        return self.host_name.split(".", 1)[0]

    def __str__(self) -> str:
        parts = [f"HostName={self.host_name}"]
        if self.device_id:
            parts.append(f"DeviceId={self.device_id}")
        if self.key_name:
            parts.append(f"SharedAccessKeyName={self.key_name}")
        parts.append(f"SharedAccessKey={self.key}")
        return ";".join(parts)

    def __repr__(self) -> str:  # never print the key by accident
        return f"ConnectionString(host_name={self.host_name!r}, key_name={self.key_name!r}, key=<redacted>)"


def parse_connection_string(text: str) -> ConnectionString:
    """Parse `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…` (or a device's `DeviceId=…`)."""
    fields: dict[str, str] = {}
    for part in (text or "").strip().split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"malformed connection string: segment {name.strip()[:20]!r} is not Name=Value")
        fields[name.strip()] = value.strip()
    missing = [k for k in ("HostName", "SharedAccessKey") if not fields.get(k)]
    if not fields.get("SharedAccessKeyName") and not fields.get("DeviceId"):
        missing.append("SharedAccessKeyName")
    if missing:
        raise ConfigError(f"malformed connection string: missing {', '.join(missing)}")
    key = fields["SharedAccessKey"]
    try:
        base64.b64decode(key, validate=True)
    except binascii.Error:
        raise ConfigError("malformed connection string: SharedAccessKey is not base64") from None
    host = fields["HostName"]
    if "/" in host or " " in host:
        raise ConfigError("malformed connection string: HostName must be a host name, not a URL")
    return ConnectionString(host, key, fields.get("SharedAccessKeyName"), fields.get("DeviceId"))


def sign(encoded_resource_uri: str, expiry: int | str, key: str) -> str:
    """Base64 HMAC-SHA256 over `encoded_resource_uri + "\\n" + expiry` with the base64-decoded key."""
    message = f"{encoded_resource_uri}\n{expiry}".encode()
    digest = hmac.new(base64.b64decode(key), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def build_token(resource_uri: str, key: str, policy: str | None = None, expiry: int | None = None,
                ttl: int = 3600) -> str:
    """A token for `resource_uri` (host[/path], no scheme), lower-cased as the docs ask."""
    se = int(expiry if expiry is not None else time.time() + ttl)
    sr = quote_plus(resource_uri.lower())
    fields = {"sr": sr, "sig": sign(sr, se, key), "se": str(se)}
    if policy:
        fields["skn"] = policy
    # sr is already encoded; the other values are encoded here.
    return PREFIX + "&".join([f"sr={sr}"] + [urlencode({k: v}) for k, v in fields.items() if k != "sr"])


@dataclass(frozen=True)
class Token:
    sr: str  # as sent (URL-encoded): the signature covers this exact text
    sig: str  # URL-decoded base64
    se: int
    skn: str | None

    @property
    def resource_uri(self) -> str:
        return unquote_plus(self.sr)


class TokenError(ValueError):
    pass


def parse_token(header: str) -> Token:
    if not header or not header.startswith(PREFIX):
        raise TokenError("not a SharedAccessSignature")
    raw: dict[str, str] = {}
    for part in header[len(PREFIX):].strip().split("&"):
        name, sep, value = part.partition("=")
        if not sep or name in raw:
            raise TokenError("malformed token field")
        raw[name] = value
    if not {"sr", "sig", "se"} <= raw.keys():
        raise TokenError("token lacks sr, sig or se")
    if not (raw["se"].isascii() and raw["se"].isdigit()):
        raise TokenError("se is not a decimal number")
    if len(raw["se"]) > MAX_EXPIRY_DIGITS:
        raise TokenError(f"se has more than {MAX_EXPIRY_DIGITS} digits")
    sig = dict(parse_qsl(f"sig={raw['sig']}", keep_blank_values=True)).get("sig", "")
    skn = unquote_plus(raw["skn"]) if "skn" in raw else None
    return Token(sr=raw["sr"], sig=sig, se=int(raw["se"]), skn=skn)


def signature_valid(token: Token, key: str) -> bool:
    # compare_digest refuses non-ASCII text; a signature is base64, so such a sig is simply wrong.
    return token.sig.isascii() and hmac.compare_digest(sign(token.sr, token.se, key), token.sig)


def scope_covers(scope: str, resource: str) -> bool:
    """True when `scope` is a prefix of `resource` by whole path segments (`/a/b` covers `/a/b/c`, not `/a/bc`)."""
    scope, resource = scope.lower().rstrip("/"), resource.lower().rstrip("/")
    return resource == scope or resource.startswith(scope + "/")


def token_facts(header: str | None) -> dict[str, object] | None:
    """What a SharedAccessSignature header says, for judging a client's token without keeping its signature: sr (the
    resource URI, decoded), se (as sent), skn and how many bytes the signature decodes to (None: it is no base64).
    None when the header is no such token. A recording keeps these in place of a token it redacts."""
    if not header or not header.startswith(PREFIX):
        return None
    fields = dict(parse_qsl(header[len(PREFIX):].strip(), keep_blank_values=True))
    if not {"sr", "sig"} & fields.keys():
        return None
    sig = fields.get("sig") or ""
    try:
        decoded: int | None = len(base64.b64decode(sig, validate=True)) if sig else None
    except (binascii.Error, ValueError):
        decoded = None
    return {"sr": fields.get("sr"), "se": fields.get("se"), "skn": fields.get("skn"), "sig_bytes": decoded}

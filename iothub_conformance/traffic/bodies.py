"""Body bytes from the ways recorders store them: text, base64, and content codings a recorder kept on the wire."""

from __future__ import annotations

import base64
import binascii
import zlib

from iothub_conformance.traffic.errors import TrafficError
from iothub_conformance.traffic.exchange import Headers, first

# The largest body a coding is undone into: a recording is input, and a small gzip can unpack to gigabytes.
MAX_DECODED = 64 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def from_base64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TrafficError(f"{where}: the body says base64 but is not base64") from None


def _inflate(body: bytes, wbits: int, where: str) -> bytes:
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(body, MAX_DECODED)
    except zlib.error as exc:
        raise TrafficError(f"{where}: the body says it is compressed but does not decompress ({exc})") from None
    if decoder.unconsumed_tail:
        raise TrafficError(f"{where}: the body decompresses to more than {MAX_DECODED // (1024 * 1024)} MiB")
    if not decoder.eof:
        raise TrafficError(f"{where}: the body says it is compressed but its stream is cut short")
    return out


def undo_coding(body: bytes, headers: Headers, where: str) -> bytes:
    """The entity of a body a recorder stored as sent (vcrpy keeps gzip bytes unless told to decode them).

    A body whose Content-Encoding says gzip but that does not start like gzip was decoded by the recorder already
    (some keep the header); it is taken as it is.
    """
    coding = (first(headers, "content-encoding") or "").strip().lower()
    if coding in ("gzip", "x-gzip") and body.startswith(_GZIP_MAGIC):
        return _inflate(body, 16 + zlib.MAX_WBITS, where)
    if coding == "deflate" and body[:1] == b"\x78":
        return _inflate(body, zlib.MAX_WBITS, where)
    return body

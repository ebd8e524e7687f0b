"""Which recording format a file holds, told from its content (a .json may be HAR, a test-proxy recording, a .NET
session record or a vcrpy cassette written with the JSON serializer), and reading it with the right reader."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from iothub_conformance.traffic import cassette, har, proxy_recordings, session_records
from iothub_conformance.traffic.errors import TrafficError
from iothub_conformance.traffic.exchange import Exchange

# A recording is input: one larger than this is refused unread rather than parsed into memory.
MAX_FILE = 256 * 1024 * 1024
FORMATS: dict[str, Callable[[Path | str, object | None], list[Exchange]]] = {
    har.FORMAT: har.read,
    cassette.FORMAT: cassette.read,
    proxy_recordings.FORMAT: proxy_recordings.read,
    session_records.FORMAT: session_records.read,
}
KNOWN = "HAR 1.2, a vcrpy cassette, an Azure SDK test-proxy recording or a .NET session record"


def _kind(document: object) -> str | None:
    if not isinstance(document, Mapping):
        return None
    if isinstance(document.get("log"), Mapping) and "entries" in document["log"]:
        return har.FORMAT
    if "interactions" in document:
        return cassette.FORMAT
    if isinstance(document.get("Entries"), list):
        # EncodedRequestUri and a host-less RequestUri mark the older records (the test-proxy tells them apart so).
        older = any(isinstance(e, Mapping) and ("EncodedRequestUri" in e or str(e.get("RequestUri", "")).startswith("/"))
                    for e in document["Entries"])
        return session_records.FORMAT if older else proxy_recordings.FORMAT
    return None


def _document(path: Path) -> object:
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise TrafficError(f"{path}: {size} bytes is larger than the {MAX_FILE // (1024 * 1024)} MiB a recording may be")
        data = path.read_bytes()
    except OSError as exc:
        raise TrafficError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TrafficError(f"{path}: not a recording ({KNOWN}): it is not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    if text.lstrip().startswith(("{", "[")):
        # JSON-looking text that does not parse: say so rather than let YAML report something stranger.
        raise TrafficError(f"{path}: not a recording ({KNOWN}): its JSON does not parse")
    return cassette.load(text, str(path))


def detect(path: Path | str) -> tuple[str, object]:
    """(format name, parsed document), or a TrafficError saying the file is no recording this tool reads."""
    document = _document(Path(path))
    kind = _kind(document)
    if kind is None:
        raise TrafficError(f"{path}: not a recording ({KNOWN})")
    return kind, document


def read(path: Path | str) -> list[Exchange]:
    kind, document = detect(path)
    return FORMATS[kind](path, document)


def read_all(paths: Iterable[Path | str]) -> list[Exchange]:
    return [exchange for path in paths for exchange in read(path)]

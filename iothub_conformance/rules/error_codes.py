"""The error code an IoT Hub error response names: its `iothub-errorcode` header, else the code at the start of the
body's Message ("ErrorCode:<Name>;…", OBSERVED.md §1). Read here, below the checks and the failure messages that both
quote it."""

from __future__ import annotations

import json
import re

CODE = re.compile(r"^ErrorCode:([A-Za-z0-9]+);")


def message_code(message: object) -> str | None:
    """The code a Message field starts with, or None."""
    match = CODE.match(message) if isinstance(message, str) else None
    return match.group(1) if match else None


def error_code(header: str | None, body: bytes | str | None) -> str | None:
    """The code a response names, from its iothub-errorcode header value or, without one, its body's Message."""
    if header:
        return header
    try:
        parsed = json.loads(body or b"")
    except ValueError:
        return None
    return message_code(parsed.get("Message")) if isinstance(parsed, dict) else None

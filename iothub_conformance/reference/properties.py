"""Message properties carried as HTTP headers (send and receive pages, INVENTORY §2b, §8) and the size they add up to."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# The system properties a sender may set, under the header names of the 2016 pages.
SYSTEM_HEADERS = ("IoTHub-MessageId", "IoTHub-CorrelationId", "IoTHub-UserId", "IoTHub-Ack", "Content-Type",
                  "Content-Encoding")
APP_PREFIX = "IoTHub-app-"
# iot-hub-devguide-messaging (INVENTORY §8): over HTTP, application property names and values use only these.
APP_TEXT = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]*")
# RFC 7230 §3.2 field-value characters: a system property value has to go out again as a header on receive.
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")

_SYSTEM_BY_LOWER = {name.lower(): name for name in SYSTEM_HEADERS}


class InvalidProperty(ValueError):
    pass


def read_properties(headers: Iterable[tuple[str, str]], check_app: bool = True) -> dict[str, str]:
    """The message properties among `headers`, keyed by header name: system ones spelled as the pages spell them,
    application ones as `IoTHub-app-` plus the name as given. Other headers are ignored; a repeat keeps the first value.
    """
    found: dict[str, str] = {}
    for key, value in headers:
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidProperty("property names and values must be strings")
        lower = key.lower()
        if lower in _SYSTEM_BY_LOWER:
            name = _SYSTEM_BY_LOWER[lower]
            if not HEADER_VALUE.fullmatch(value):
                raise InvalidProperty(f"{name} is not a valid header value")
        elif lower.startswith(APP_PREFIX.lower()):
            app_name = key[len(APP_PREFIX):]
            if check_app:
                check_app_property(app_name, value)
            name = APP_PREFIX + app_name
        else:
            continue
        found.setdefault(name, value)
    return found


def check_app_property(name: str, value: str) -> None:
    if not name:
        raise InvalidProperty(f"an application property ({APP_PREFIX}…) needs a name")
    for kind, text in (("name", name), ("value", value)):
        if not APP_TEXT.fullmatch(text):
            raise InvalidProperty(f"application property {kind} {text[:64]!r} may use only ASCII letters, digits "
                                  "and ! # $ % & ' * + - . ^ _ ` | ~")


def is_app(name: str) -> bool:
    return name.startswith(APP_PREFIX)


def message_size(body: bytes, properties: Mapping[str, str]) -> int:
    """Body plus system property values plus application property names and values (INVENTORY §8).

    Header text arrives as latin-1, one character per byte, so characters are counted.
    """
    size = len(body)
    for name, value in properties.items():
        size += len(value) + (len(name) - len(APP_PREFIX) if is_app(name) else 0)
    return size

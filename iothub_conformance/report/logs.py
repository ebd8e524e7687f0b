"""Log records redacted as they are made, while the suite runs.

httpx logs every request's URL at INFO (a blob container's `sig=` with it), and the suite's own modules log too. A
record factory sees every record of every logger before any handler does (pytest's captured logs, --log-file,
--log-cli-level, a user's own handler), so redacting there is the one place. It is installed only for a suite run
and removed after it: importing or installing the package changes nothing for other projects' logging.
"""

from __future__ import annotations

import logging
import threading

from iothub_conformance.evidence.redact import redact
from iothub_conformance.evidence.text import bounded

_lock = threading.Lock()
_installed: list = []  # [(our factory, the factory it wraps)] while installed


def _redacting(previous):
    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not _installed:  # uninstalled while another factory still wraps this one: pass records through
            return record
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the logging module's to report, as it would
            return record
        record.msg, record.args = bounded(message), ()
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when it is set, so the traceback they print is this redacted one.
            record.exc_text = bounded(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    return factory


def install() -> None:
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()
        ours = _redacting(previous)
        logging.setLogRecordFactory(ours)
        _installed.append((ours, previous))


def uninstall() -> None:
    with _lock:
        if not _installed:
            return
        ours, previous = _installed.pop()
        # Put the previous factory back only if nobody wrapped ours meanwhile; else leave theirs (ours stays a link).
        if logging.getLogRecordFactory() is ours:
            logging.setLogRecordFactory(previous)


def installed() -> bool:
    return bool(_installed)

"""What every Python SDK driver shares. Runs INSIDE the SDK's own venv (.cache/python-sdk-venv): it imports only the
standard library and the SDK's packages, never the project.

Each SDK call prints one JSON line: the step, the SDK method, a summary of its arguments, and either the SDK's returned
object as a dict (`as_dict()` of its msrest models) or the exception it raised (class, HTTP status, the service's error
code and the first bytes of its body). Keys never reach the output: a key field shows which key it is ("<sent primary>")
instead of its value. The last line counts the steps that came out as the driver expected.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
import time

from msrest.exceptions import ClientRequestError, HttpOperationError
from msrest.pipeline import ClientRawResponse

STOP_AFTER = 45.0  # seconds; the harness kills a driver after 60
_KEY_FIELDS = {"primary_key", "secondary_key", "primaryKey", "secondaryKey"}
_SIG = re.compile(r"(sig=)[^&\s\"']+", re.IGNORECASE)  # a SAS signature in a URI the SDK echoes (a container's)


class Steps:
    def __init__(self, name: str):
        self.name = name
        self.count = 0
        self.passed = 0
        self.started = time.monotonic()
        self.keys: dict[str, str] = {}  # key value → how the output names it

    def key(self, label: str) -> str:
        """A fresh base64 key of 32 bytes; the output names it `<label>`, never shows it."""
        value = base64.b64encode(secrets.token_bytes(32)).decode()
        self.keys[value] = f"<{label}>"
        return value

    def call(self, step: str, function, *args, expect: tuple[int, str] | None = None, summary: dict | None = None,
             **kwargs):
        """Call the SDK; `expect` is the error the step expects, (HTTP status, iothub-errorcode), None: success.
        Returns what the SDK returned, or None when it raised."""
        if time.monotonic() - self.started > STOP_AFTER:
            self._emit({"step": step, "call": function.__name__, "ok": False, "error": "driver time is up"})
            return None
        line: dict = {"step": step, "call": function.__name__, "args": summary or {}}
        value = None
        try:
            value = function(*args, **kwargs)
        except HttpOperationError as exc:
            response = exc.response
            status, code = getattr(response, "status_code", None), _header(response, "iothub-errorcode")
            line.update(ok=expect == (status, code), error=type(exc).__name__, status=status, code=code,
                        body=_SIG.sub(r"\1<redacted>", _text(response)))
        except ClientRequestError as exc:  # no answer at all (after msrest's own retries): no later call would get one
            line.update(ok=False, error=type(exc).__name__, message=_SIG.sub(r"\1<redacted>", str(exc)[:300]))
            self._emit(line)
            print(f"{self.name}: the hub did not answer; stopping", flush=True)
            sys.exit(self.finish() or 1)
        except Exception as exc:  # the SDK's own failure (a missing header, a model it cannot read): name it
            line.update(ok=False, error=type(exc).__name__, message=_SIG.sub(r"\1<redacted>", str(exc)[:300]))
        else:
            line.update(ok=expect is None, result=self.plain(value))
        self._emit(line)
        return value

    def note(self, step: str, result: dict, ok: bool) -> None:
        """A line about the SDK's own state rather than a call."""
        self._emit({"step": step, "call": None, "ok": ok, "result": result})

    def plain(self, value):
        """The SDK's object as JSON-ready data, keys replaced by their labels."""
        if isinstance(value, ClientRawResponse):
            return self._hide(raw(value))
        if hasattr(value, "as_dict"):
            value = value.as_dict()
        elif isinstance(value, list):
            return [self.plain(v) for v in value]
        elif value is not None and not isinstance(value, dict | str | int | float | bool):
            value = {k: v for k, v in vars(value).items() if not k.startswith("_")}
        return self._hide(value)

    def _hide(self, value, name: str = ""):
        if isinstance(value, dict):
            return {k: self._hide(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._hide(v) for v in value]
        if name in _KEY_FIELDS and isinstance(value, str):
            return self.keys.get(value, f"<another key of {len(value)} characters>")
        if isinstance(value, str):
            return _SIG.sub(r"\1<redacted>", value)
        if hasattr(value, "as_dict"):
            return self._hide(value.as_dict())
        return value

    def _emit(self, line: dict) -> None:
        self.count += 1
        self.passed += bool(line["ok"])
        print(json.dumps(line, default=str), flush=True)

    def finish(self) -> int:
        print(f"{self.name}: {self.passed} of {self.count} steps as expected", flush=True)
        return 0 if self.passed == self.count else 1


def raw(value: ClientRawResponse) -> dict:
    """What a `raw=True` protocol call gave: its output, the headers the SDK read (`add_headers`), and the response's
    status, ETag, Content-Type and body (parsed when JSON): where an operation returns nothing else (a feedback
    receive, a digital-twin PATCH), these are what the SDK's caller has."""
    response = value.response
    text = _text(response, limit=4000)
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = text[:300]
    output = value.output.as_dict() if hasattr(value.output, "as_dict") else value.output
    return {"output": output, "headers": dict(value.headers), "status": getattr(response, "status_code", None),
            "etag": _header(response, "ETag"), "content_type": _header(response, "Content-Type"), "body": body}


def _header(response, name: str):
    headers = getattr(response, "headers", None) or {}
    return headers.get(name)


def _text(response, limit: int = 300) -> str:
    try:
        return (response.text or "")[:limit]
    except Exception:  # a response without a readable body
        return ""


def setting(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        print(f"{name} is not set", file=sys.stderr)
        sys.exit(2)
    return value


def aim(manager, base_url: str) -> None:
    """The one change docs/sources/SDKS.md documents: requests go to the served reference; the SAS tokens are still
    signed for the connection string's HostName. Only a plain-HTTP port of 127.0.0.1 is taken."""
    if not base_url.startswith("http://127.0.0.1:"):
        print(f"the base URL must be http://127.0.0.1:<port>, not {base_url!r}", file=sys.stderr)
        sys.exit(2)
    manager.protocol.config.base_url = base_url

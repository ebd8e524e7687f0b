"""A child process that runs the `schemathesis` command again and again in one interpreter (`python -m
tests.support.schemathesis_worker`): one JSON request a line on stdin, one JSON answer a line on the stdout it started
with. Each request is the command line's arguments, run by the command's own entry point as `schemathesis ARGS` would
be; only the interpreter and its imports are kept, which spares the second or so each fresh command spends starting.

    request: {"args": ["run", "specs/…", "--url", …], "cwd": "/tmp/…", "output": "/tmp/…/out.txt"}
    answer:  {"code": 1}
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.support.line_worker import output_to


def run_once(args: list[str], cwd: str, output: str) -> int:
    from schemathesis.cli import schemathesis

    here = os.getcwd()
    with output_to(Path(output)):
        try:
            os.chdir(cwd)
            schemathesis.main(args=args, prog_name="schemathesis", standalone_mode=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:  # noqa: BLE001 - every request gets an answer; the parent judges it
            print(f"the schemathesis worker's run raised {type(exc).__name__}: {exc}", file=sys.stderr)
            code = -1
        finally:
            os.chdir(here)
    return code


def main() -> int:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing but answers on the answer channel
    for line in sys.stdin:
        if line.strip():
            request = json.loads(line)
            code = run_once([str(a) for a in request["args"]], request["cwd"], request["output"])
            answers.write(json.dumps({"code": code}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A run that ends early says "incomplete" everywhere, in real child processes: results.json, report.html, junit.xml,
the terminal table's last line and the exit code (3) agree, and the requirements it did not reach are marked so.

Zero tests selected, SIGINT and SIGTERM mid-run, a suite module that fails to import, Ctrl-C during collection and
during the run's start, and the run deadline."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.support import junit_schema
from tests.support.suite_runs import ROOT, run_suite

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

NOT_REACHED = "not reached: the run ended early"


def _cli(bundle, *extra, env=None) -> subprocess.CompletedProcess:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    child_env.update({"IOTHUB_MAX_EXAMPLES": "2", **(env or {})})
    return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(bundle), *extra],
                          cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=120)


def _agree(bundle, output: str, reason: str) -> dict:
    """Every place says incomplete, with the reason; returns results.json."""
    data = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    assert data["complete"] is False and reason in data["incomplete"], data["incomplete"]
    unreached = [r for r in data["requirements"] if r["detail"].startswith(NOT_REACHED)]
    assert data["not_reached"] == len(unreached) and all(r["status"] == "skip" for r in unreached)
    page = (bundle / "report.html").read_text(encoding="utf-8")
    assert '<p class="verdict incomplete">incomplete run (' in page and "all requirements pass" not in page
    root = junit_schema.validate(bundle / "junit.xml")
    error = junit_schema.run_complete_error(root)
    assert error is not None and error.get("message").startswith("incomplete: ") and reason in error.get("message")
    table = [line for line in output.splitlines() if line.startswith("  INCOMPLETE (")]
    assert table and reason in table[-1], output[-3000:]
    return data


def test_zero_tests_selected_is_incomplete_not_all_pass(tmp_path):
    done = _cli(tmp_path / "b", "--", "-k", "nothing_matches")
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    data = _agree(tmp_path / "b", done.stdout, "no tests selected")
    assert data["not_reached"] == len(data["requirements"]) and data["counts"]["pass"] == 0
    assert data["tests"] == {"selected": 0, "finished": 0}


def _run_until_progress_then(signum, bundle) -> tuple[int, str]:
    """Start a whole run, wait until a module has finished (its progress line), send `signum`, wait for the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    env.update({"IOTHUB_MAX_EXAMPLES": "2", "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(bundle)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    progressed = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line)
            if re.search(r"\[\s*\d+%\]", line):
                progressed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert progressed.wait(60), "".join(lines)[-2000:]
        proc.send_signal(signum)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    reader.join(timeout=10)
    return code, "".join(lines)


@pytest.mark.parametrize(("signum", "reason"), [(signal.SIGINT, "interrupted"),
                                                (signal.SIGTERM, "interrupted (signal SIGTERM)")],
                         ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_writes_the_bundle_marked_incomplete(tmp_path, signum, reason):
    code, output = _run_until_progress_then(signum, tmp_path / "b")
    assert code == 3, output[-3000:]
    data = _agree(tmp_path / "b", output, reason)
    # What ran before the signal keeps its verdict; what did not run is not reached, never a pass.
    assert data["counts"]["pass"] > 0 and data["not_reached"] > 0
    assert data["tests"]["finished"] < data["tests"]["selected"]
    assert f"report: {tmp_path / 'b' / 'junit.xml'}" in output


BROKEN_IMPORT = '''
import pytest


class _Unimportable(pytest.Module):
    def _getobj(self):
        raise ImportError("this suite module cannot be imported (a test plugin makes it so)")


def pytest_pycollect_makemodule(module_path, parent):
    if module_path.name == "test_jobs.py":
        return _Unimportable.from_parent(parent, path=module_path)
'''


@pytest.mark.parametrize("carry_on", [False, True], ids=["stops", "continue-on-collection-errors"])
def test_a_suite_module_that_fails_to_import_makes_the_run_incomplete(tmp_path, carry_on):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "broken_import.py").write_text(BROKEN_IMPORT, encoding="utf-8")
    extra = ["--continue-on-collection-errors"] if carry_on else []
    run = run_suite(tmp_path / "b", "suites/test_jobs.py", "-p", "broken_import", *extra, examples=2,
                    suites="suites/test_api_version.py", env={"PYTHONPATH": str(tmp_path / "plugins")})
    assert run.code == 3, run.output[-3000:]
    data = _agree(tmp_path / "b", run.output, "collection error in suites/test_jobs.py")
    jobs = [r for r in data["requirements"] if r["id"].startswith("JOB-")]
    assert jobs and all(r["detail"].startswith(NOT_REACHED) for r in jobs)
    if carry_on:  # the module that imported ran, and its verdicts stand
        assert data["counts"]["pass"] > 0 and "no tests" not in data["incomplete"]


INTERRUPT_AT = '''
import pytest


@pytest.hookimpl(tryfirst=True)
def {hook}({args}):
    raise KeyboardInterrupt
'''


@pytest.mark.parametrize(("hook", "args", "reason"), [
    ("pytest_collection_modifyitems", "session, config, items", "interrupted (Ctrl-C, SIGINT)"),
    ("pytest_sessionstart", "session", "the run stopped before its tests started"),
], ids=["during-collection", "during-start"])
def test_ctrl_c_before_any_test_still_writes_the_bundle(tmp_path, hook, args, reason):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "interrupt_early.py").write_text(INTERRUPT_AT.format(hook=hook, args=args), "utf-8")
    done = _cli(tmp_path / "b", "--", "-p", "interrupt_early", env={"PYTHONPATH": str(tmp_path / "plugins")})
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    bundle = tmp_path / "b"
    data = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    assert data["complete"] is False and reason in data["incomplete"]
    assert data["counts"]["pass"] == 0 and data["not_reached"] == len(data["requirements"])
    assert "incomplete run (" in (bundle / "report.html").read_text(encoding="utf-8")
    error = junit_schema.run_complete_error(junit_schema.validate(bundle / "junit.xml"))
    assert error is not None and reason in error.get("message")


def test_the_run_deadline_ends_the_run_incomplete_and_the_test_it_cut_is_not_an_error(tmp_path):
    started = time.monotonic()
    # 25 examples per operation: the whole run takes far longer than the deadline, so the deadline surely leaves
    # requirements unreached (with 2, a fast machine reaches them all within 3 s).
    done = _cli(tmp_path / "b", "--deadline", "3", env={"IOTHUB_MAX_EXAMPLES": "25"})
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    assert time.monotonic() - started < 60
    data = _agree(tmp_path / "b", done.stdout, "the run deadline of 3 s was reached")
    # A request refused after the deadline judged nothing: no requirement is an error for it.
    assert not [r for r in data["requirements"] if "RunDeadlineReached" in r["detail"]]
    assert data["not_reached"] > 0


def test_an_interrupt_traceback_loses_its_entries_without_a_line_number():
    # Python 3.11 leaves an entry with tb_lineno None when a signal lands on an instruction without a line; pytest's
    # report of the interrupt fails on it. The plugin relinks the chain around such entries before pytest reads it.
    from iothub_conformance.pytest_plugin.plugin import without_lineless_frames

    class Entry:
        def __init__(self, lineno, tb_next=None):
            self.tb_lineno, self.tb_next = lineno, tb_next

    chain = Entry(1, Entry(None, Entry(3, Entry(None, Entry(None, Entry(6))))))
    head = without_lineless_frames(chain)
    seen = []
    while head is not None:
        seen.append(head.tb_lineno)
        head = head.tb_next
    assert seen == [1, 3, 6]

"""Every run ends on its own, whatever the target does (the servers of tests/support/hostile.py), with reports that
parse, bounded memory and no secret in what it writes.

Each case is `iothub-conformance run` against one misbehaving target with small limits (--request-timeout 2 and a
short --deadline), in a child process whose timeout is the hang detector. The selected cases run three at a time
in each pytest worker (they mostly wait), each case once in a test run, so the file stays near a minute.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from tests.support import hostile, shared
from tests.support.runs import Finished, run_measured, tree_size
from tests.support.suite_runs import ROOT

pytestmark = pytest.mark.slow  # scheduled first (tests/support/scheduling.py)

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
CONNECTION_STRING = f"HostName=hostile.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
HANG = 120  # seconds: a run still going by then is hung (every case's --deadline is far below it)
PEAK_MB = 500  # the bound on memory against a target sending huge bodies
BUNDLE_MB = 20  # and on the bundle's size


@dataclass(frozen=True)
class Case:
    behaviour: str
    codes: frozenset[int]  # the exit codes the run may end with
    says: str = ""  # for a refused preflight, what its one line must name
    preflight: bool = True
    deadline: int = 20
    answers_nothing: bool = False  # no request gets an HTTP answer the suite could judge: nothing may pass

    @property
    def id(self) -> str:
        return self.behaviour + ("" if self.preflight else "/no-preflight")


REFUSED = frozenset({2})
RAN = frozenset({1, 3})  # a requirement failed or errored, or the run ended incomplete (the deadline)

CASES = [
    Case("always-500", REFUSED, "→ 500"),
    Case("always-401", REFUSED, "→ 401"),
    Case("redirect-all", REFUSED, "redirects"),
    Case("never-answer", REFUSED, "no complete answer within 2 s (--request-timeout)"),
    Case("trickle", REFUSED, "no complete answer within 2 s (--request-timeout)"),
    Case("stall", REFUSED, "no complete answer within 2 s (--request-timeout)"),
    Case("429-forever", REFUSED, "retry after 100000 s (Retry-After), beyond the 30 s a request may wait (--retry-wait)"),
    Case("garbage", REFUSED, "RemoteProtocolError"),
    Case("stream-10gb", REFUSED, "exceeds 8 MB (--max-body)"),
    Case("bodies-50mb", REFUSED, "exceeds 8 MB (--max-body): refused unread"),
    # These pass the preflight (a 404 for the probe device is what a hub says), so the run itself meets them.
    Case("always-404", RAN),
    Case("empty-200", RAN),
    # Its deadline is far from the silence (3 requests of 2 s): on a busy machine the run's start-up alone can take
    # most of 20 s, and then the deadline, not the silence, would end it.
    Case("silent-after-first", RAN, deadline=60),
    # Without the preflight the suite's own requests meet the target: the run must survive them too.
    Case("trickle", RAN, preflight=False, deadline=10, answers_nothing=True),
    Case("429-forever", RAN, preflight=False, deadline=10, answers_nothing=True),
    Case("garbage", RAN, preflight=False, deadline=10, answers_nothing=True),
    Case("stream-10gb", RAN, preflight=False, deadline=10, answers_nothing=True),
    Case("bodies-50mb", RAN, preflight=False, deadline=10, answers_nothing=True),
]
BY_ID = {case.id: case for case in CASES}


def _run(case: Case, bundle) -> Finished:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOTHUB_")}
    env["IOTHUB_MAX_EXAMPLES"] = "2"
    with hostile.serve(case.behaviour) as url:
        command = [sys.executable, "-m", "iothub_conformance.cli", "run", "--bundle", str(bundle), "--target", url,
                   "--connection-string", CONNECTION_STRING, "--request-timeout", "2", "--deadline", str(case.deadline),
                   *([] if case.preflight else ["--no-preflight"]),
                   # One line per failure: what is judged here is that the run ends and its files parse, and the
                   # default short tracebacks cost most of a failing run's CPU (pytest re-reads each frame's source).
                   "--", "--tb=line"]
        return run_measured(command, cwd=ROOT, env=env, timeout=HANG)


@pytest.fixture(scope="module")
def finished(request, tmp_path_factory):
    """case id → (its run, its bundle). The selected cases run three at a time in each pytest worker with tests here,
    each once in the whole test run: the worker that claims a case runs it, the other reads its result."""
    wanted = list(dict.fromkeys(item.callspec.params["case_id"] for item in request.session.items
                                if item.module is request.module and hasattr(item, "callspec")
                                and "case_id" in item.callspec.params))
    board = shared.run_root(tmp_path_factory) / "hostile"
    stop = threading.Event()

    def drain() -> None:
        for cid in wanted:
            if stop.is_set() or not shared.claim(board, _key(cid)):
                continue
            try:
                result = {"run": asdict(_run(BY_ID[cid], board / _key(cid)))}
            except Exception as exc:  # noqa: BLE001 - a claimed case is always answered: the other worker waits on it
                result = {"error": f"{type(exc).__name__}: {exc}"}
            shared.publish(board, _key(cid), result)

    threads = [threading.Thread(target=drain, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()

    def get(cid: str) -> tuple[Finished, Path]:
        # Every case ends within HANG of its start; the last of the list starts after the others ahead of it.
        result = shared.collect(board, _key(cid), timeout=HANG * (len(wanted) // len(threads) + 2))
        assert result is not None, f"{cid}: no result"
        assert "run" in result, f"{cid}: {result['error']}"
        return Finished(**result["run"]), board / _key(cid)

    yield get
    stop.set()
    for thread in threads:
        thread.join()


def _key(case_id: str) -> str:
    return case_id.replace("/", "-")


def _bundle_files(bundle):
    return [f for f in bundle.rglob("*") if f.is_file()] if bundle.exists() else []


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_the_run_ends_on_its_own_with_reports_that_parse(case_id, finished):
    case = BY_ID[case_id]
    run, bundle = finished(case_id)
    output = run.stdout + run.stderr
    assert not run.hung, f"{case_id}: still running after {HANG} s\n{output[-2000:]}"
    assert run.code in case.codes, f"{case_id}: exit {run.code}\n{output[-3000:]}"
    assert "Traceback" not in run.stderr, run.stderr[-2000:]

    if case.codes == REFUSED:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and case.says in lines[0], run.stderr

    results = bundle / "results.json"
    if results.exists():
        data = json.loads(results.read_text(encoding="utf-8"))
        passed = [r["id"] for r in data["requirements"] if r["status"] == "pass"]
        if case.answers_nothing:
            assert passed == [], f"{case_id}: passed with no answer from the target: {passed}"
        if run.code == 3:
            assert data["complete"] is False and data["incomplete"], "an incomplete run must say so"
    junit = bundle / "junit.xml"
    if junit.exists():
        ET.parse(junit)
    if not case.preflight:
        assert results.exists() and junit.exists(), "a run that reached its tests writes its bundle"

    for text in [output] + [f.read_text(encoding="utf-8", errors="replace") for f in _bundle_files(bundle)]:
        assert KEY not in text and not re.search(r"sig=[A-Za-z0-9%]{20,}", text), f"{case_id}: a secret was written"


@pytest.mark.parametrize("case_id", ["stream-10gb/no-preflight", "bodies-50mb/no-preflight"])
def test_huge_bodies_leave_memory_and_the_bundle_bounded(case_id, finished):
    run, bundle = finished(case_id)
    assert not run.hung
    assert run.max_rss_mb < PEAK_MB, f"{case_id}: peak memory {run.max_rss_mb:.0f} MB"
    assert tree_size(bundle) < BUNDLE_MB * 1024**2, f"{case_id}: bundle of {tree_size(bundle) / 1024**2:.1f} MB"


@pytest.mark.parametrize("behaviour", sorted(hostile.BEHAVIOURS))
def test_each_hostile_server_closes_promptly_with_a_client_still_connected(behaviour):
    def serve_and_leave():
        with hostile.serve(behaviour) as url:
            host, port = url.removeprefix("http://").split(":")
            client = socket.create_connection((host, int(port)), timeout=5)
            client.sendall(b"GET /devices/x HTTP/1.1\r\nHost: x\r\n\r\n")
        client.close()

    thread = threading.Thread(target=serve_and_leave, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), f"{behaviour}: the server did not close within 10 s"


@pytest.mark.parametrize("case_id", ["silent-after-first"])
def test_a_target_gone_silent_ends_the_run_incomplete_not_at_its_deadline(case_id, finished):
    run, bundle = finished(case_id)
    assert run.code == 3, run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    # The silence stopped it, not the run deadline: the reason says which.
    assert data["complete"] is False and "answered none of the last 3 requests" in data["incomplete"], data["incomplete"]

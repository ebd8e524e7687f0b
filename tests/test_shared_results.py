"""Work done once per test run whichever pytest-xdist worker asks (tests/support/shared.py): a result made once while
a second asker waits, a claim that goes to one asker, and its result reaching the others."""

from __future__ import annotations

import json
import threading

from tests.support import shared


def test_a_shared_result_is_made_once_and_the_second_asker_waits_for_it(tmp_path):
    made: list[str] = []
    started, release = threading.Event(), threading.Event()

    def make(directory):
        made.append(directory.name)
        started.set()
        release.wait(10)
        return {"made_in": str(directory)}

    answers: list[dict] = []
    first = threading.Thread(target=lambda: answers.append(shared.once(tmp_path, "baseline", make)))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: answers.append(shared.once(tmp_path, "baseline", make)))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting on the lock, not making it again
    release.set()
    first.join(10)
    second.join(10)
    assert made == ["baseline"] and answers == [{"made_in": str(tmp_path / "baseline")}] * 2


def test_a_claim_goes_to_one_asker_and_its_result_reaches_the_others(tmp_path):
    assert shared.claim(tmp_path, "case") and not shared.claim(tmp_path, "case")
    assert shared.collect(tmp_path, "case", timeout=0.3) is None  # claimed, not yet published
    threading.Timer(0.3, shared.publish, (tmp_path, "case", {"code": 3})).start()
    assert shared.collect(tmp_path, "case", timeout=10) == {"code": 3}
    assert json.loads((tmp_path / "case.json").read_text()) == {"code": 3}

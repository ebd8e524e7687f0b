"""suites/test_feedback.py on a target other than the embedded reference: the feedback queue is the whole hub's, so
its tests skip, naming --only-requirements, unless the run names their requirements there."""

from __future__ import annotations

from tests.support.suite_runs import run_suite


def test_feedback_tests_skip_on_an_external_target_unless_opted_in(served_hub, tmp_path):
    target = ("--iothub-target", served_hub.url, "--iothub-connection-string", served_hub.connection_string,
              "--iothub-api-version", "2021-04-12")
    plain = run_suite(tmp_path / "plain", *target, suites="suites/test_feedback.py", timeout=120)
    rows = {row["id"]: row for row in plain.rows if row["id"].startswith("FEEDBACK-")}
    assert rows and {row["status"] for row in rows.values()} == {"skip"}, plain.summary()
    assert "--only-requirements FEEDBACK-RECV-001" in rows["FEEDBACK-RECV-001"]["detail"], rows["FEEDBACK-RECV-001"]
    chosen = run_suite(tmp_path / "chosen", *target, "--iothub-only-requirements", "FEEDBACK-RECV-001",
                       suites="suites/test_feedback.py", timeout=120)
    assert chosen.statuses["FEEDBACK-RECV-001"] == "pass", chosen.summary()

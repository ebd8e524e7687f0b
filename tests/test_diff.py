"""`iothub-conformance diff OLD NEW`: each kind of change is sorted where it belongs, a regression exits 1, earlier
bundles (requirements.json) still compare, and bad input is one line and exit 2."""

import json
import subprocess
import sys

import pytest

from iothub_conformance.config import ConfigError
from iothub_conformance.report import diff
from tests.support.suite_runs import ROOT


def entry(rid, status, detail=""):
    return {"id": rid, "level": "MUST", "statement": f"statement of {rid}",
            "source": "docs/sources/create-a-new-device-identity.md", "profile_rule": None, "status": status,
            "detail": detail, "tests": [f"suites/test_x.py::test_{rid}"], "evidence": []}


def results(statuses: dict, profile="iothub", api_version="2016-02-03", url="http://127.0.0.1:8080", **details):
    counts = dict.fromkeys(("pass", "fail", "skip", "error"), 0)
    for status in statuses.values():
        counts[status] += 1
    return {"format": "iothub-conformance/results/1", "run_id": "ab12cd34", "started": "2026-11-26T01:00:00Z",
            "ended": "2026-11-26T01:05:00Z", "suite": {"version": "0.1.0", "commit": None}, "profile": profile,
            "api_version": api_version, "target": {"url": url, "embedded": True, "rp_url": None}, "counts": counts,
            "requirements": [entry(rid, status, details.get(rid.replace("-", "_"), ""))
                             for rid, status in statuses.items()]}


def bundle(tmp_path, name, data, file="results.json"):
    directory = tmp_path / name
    directory.mkdir()
    (directory / file).write_text(json.dumps(data))
    return directory


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "iothub_conformance.cli", "diff", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


OLD = {"A-PASS-001": "pass", "A-SKIP-001": "skip", "A-FAIL-001": "fail", "A-ERR-001": "error", "A-SAME-001": "pass",
       "A-TOSKIP-001": "pass", "A-GONE-001": "pass"}
NEW = {"A-PASS-001": "fail", "A-SKIP-001": "error", "A-FAIL-001": "pass", "A-ERR-001": "pass", "A-SAME-001": "pass",
       "A-TOSKIP-001": "skip", "A-NEWOK-001": "pass", "A-NEWBAD-001": "fail"}


def ids(changes):
    return [c.id for c in changes]


def test_each_change_is_sorted_into_its_category(tmp_path):
    old = diff.load(bundle(tmp_path, "old", results(OLD)))
    new = diff.load(bundle(tmp_path, "new", results(NEW, A_PASS_001="[A-PASS-001] got 500\nsecond line")))
    result = diff.compare(old, new)
    assert ids(result.regressions) == ["A-PASS-001", "A-SKIP-001", "A-NEWBAD-001"]
    assert ids(result.fixed) == ["A-FAIL-001", "A-ERR-001"]
    assert [(c.id, c.old, c.new) for c in result.changed] == [("A-TOSKIP-001", "pass", "skip")]
    assert ids(result.added) == ["A-NEWOK-001", "A-NEWBAD-001"]
    assert [(c.id, c.old, c.new) for c in result.removed] == [("A-GONE-001", "pass", None)]
    assert result.warnings == []
    assert result.regressions[0].detail == "[A-PASS-001] got 500"


def test_fail_to_error_is_a_status_change_not_a_regression(tmp_path):
    result = diff.compare(diff.load(bundle(tmp_path, "old", results({"A-X-001": "fail", "A-Y-001": "error"}))),
                          diff.load(bundle(tmp_path, "new", results({"A-X-001": "error", "A-Y-001": "skip"}))))
    assert not result.regressions and not result.fixed
    assert [(c.old, c.new) for c in result.changed] == [("fail", "error"), ("error", "skip")]


def test_render_has_the_sections_the_details_and_a_summary(tmp_path):
    old = diff.load(bundle(tmp_path, "old", results(OLD)))
    new = diff.load(bundle(tmp_path, "new", results(NEW, A_PASS_001="[A-PASS-001] got 500\nsecond line")))
    text = diff.render(diff.compare(old, new))
    for section in ("new failures (3):", "fixed (2):", "status changes (1):", "added (2):", "removed (1):"):
        assert section in text
    assert "A-PASS-001         pass → fail  statement of A-PASS-001\n      [A-PASS-001] got 500\n" in text
    assert "second line" not in text
    assert text.splitlines()[-1] == "3 new failures, 2 fixed, 1 other status changes, 2 added, 1 removed"


def test_cli_exits_1_on_a_regression_and_0_without(tmp_path):
    old = bundle(tmp_path, "old", results(OLD))
    new = bundle(tmp_path, "new", results(NEW))
    done = _cli(old, new)
    assert done.returncode == 1, done.stderr
    assert "new failures (3):" in done.stdout
    fixed_only = bundle(tmp_path, "fixed", results({**OLD, "A-FAIL-001": "pass"}))
    done = _cli(old, fixed_only)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fixed (1):" in done.stdout and "new failures (" not in done.stdout


def test_cli_takes_results_files_as_well_as_directories(tmp_path):
    old = bundle(tmp_path, "old", results(OLD))
    done = _cli(old / "results.json", old)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 new failures, 0 fixed, 0 other status changes, 0 added, 0 removed"


def test_cli_json_prints_the_diff(tmp_path):
    done = _cli(bundle(tmp_path, "old", results(OLD)), bundle(tmp_path, "new", results(NEW)), "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert [c["id"] for c in data["regressions"]] == ["A-PASS-001", "A-SKIP-001", "A-NEWBAD-001"]
    assert set(data) == {"old", "new", "regressions", "fixed", "changed", "added", "removed", "unreached",
                         "incomplete", "warnings"}
    assert data["incomplete"] is None and data["unreached"] == []


def test_an_earlier_bundle_with_requirements_json_still_compares(tmp_path):
    earlier = {"run_id": "old1", "target": "http://127.0.0.1:8080", "embedded": False, "api_version": "2016-02-03",
               "profile": "iothub", "requirements": [entry("A-FAIL-001", "fail"), entry("A-PASS-001", "pass")]}
    old = bundle(tmp_path, "old", earlier, file="requirements.json")
    new = bundle(tmp_path, "new", results({"A-FAIL-001": "pass", "A-PASS-001": "pass"}))
    loaded = diff.load(old)
    assert loaded.path.endswith("requirements.json") and loaded.target_url == "http://127.0.0.1:8080"
    done = _cli(old, new)
    assert done.returncode == 0, done.stderr
    assert "fixed (1):" in done.stdout and "warning" not in done.stdout


def test_results_json_is_preferred_over_requirements_json(tmp_path):
    directory = bundle(tmp_path, "run", results({"A-X-001": "pass"}))
    (directory / "requirements.json").write_text(json.dumps({"requirements": [entry("A-X-001", "fail")]}))
    assert diff.load(directory).requirements["A-X-001"]["status"] == "pass"


def test_different_profile_api_version_and_target_warn_but_still_compare(tmp_path):
    old = bundle(tmp_path, "old", results(OLD))
    new = bundle(tmp_path, "new", results({**OLD, "A-PASS-001": "fail"}, profile="docs-strict",
                                          api_version="2016-11-14", url="https://hub.example"))
    result = diff.compare(diff.load(old), diff.load(new))
    assert result.warnings == ["the runs differ in profile: iothub → docs-strict",
                               "the runs differ in api-version: 2016-02-03 → 2016-11-14",
                               "the runs differ in target URL: http://127.0.0.1:8080 → https://hub.example"]
    assert ids(result.regressions) == ["A-PASS-001"]
    done = _cli(old, new)
    assert done.returncode == 1
    assert "warning: the runs differ in profile: iothub → docs-strict" in done.stdout


def test_a_file_without_profile_or_target_does_not_warn(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"requirements": [entry("A-X-001", "pass")]}))
    result = diff.compare(diff.load(old), diff.load(bundle(tmp_path, "new", results({"A-X-001": "pass"}))))
    assert result.warnings == []


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "nowhere", "no such file or directory"),
    (lambda d: d, "holds no results.json or requirements.json"),
    (lambda d: (d / "r.json", (d / "r.json").write_text("{not json"))[0], "is not JSON"),
    (lambda d: (d / "r.json", (d / "r.json").write_text('{"run_id": "x"}'))[0], "has no requirements list"),
    (lambda d: (d / "r.json", (d / "r.json").write_text('[1, 2]'))[0], "has no requirements list"),
    (lambda d: (d / "r.json", (d / "r.json").write_text('{"requirements": [{"id": "A"}]}'))[0],
     "requirements[0] has no id and status"),
    (lambda d: (d / "r.json", (d / "r.json").write_bytes(b"\xff\xfe\x00"))[0], "cannot read it"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, make, message):
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = make(bad_dir)
    good = bundle(tmp_path, "good", results(OLD))
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        diff.load(bad)
    for args in ((bad, good), (good, bad)):
        done = _cli(*args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr and done.stderr.startswith("error: ")
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stdout + done.stderr and done.stdout == ""


def test_a_missing_argument_is_a_usage_error(tmp_path):
    done = _cli(bundle(tmp_path, "old", results(OLD)))
    assert done.returncode == 2 and "Traceback" not in done.stderr


UNREACHED = "not reached: the run ended early (interrupted (Ctrl-C, SIGINT))"


def test_an_incomplete_new_run_lists_what_it_did_not_reach_and_says_it_is_incomplete(tmp_path):
    new_data = results({"A-PASS-001": "pass", "A-FAIL-001": "skip", "A-SAME-001": "skip", "A-NEW-001": "skip"},
                       A_FAIL_001=UNREACHED, A_SAME_001=UNREACHED, A_NEW_001=UNREACHED)
    new_data.update(complete=False, incomplete="interrupted (Ctrl-C, SIGINT)")
    old = diff.load(bundle(tmp_path, "old", results({"A-PASS-001": "pass", "A-FAIL-001": "fail",
                                                     "A-SAME-001": "pass"})))
    result = diff.compare(old, diff.load(bundle(tmp_path, "new", new_data)))
    # Not reached is neither "fixed" (fail → skip) nor a status change (pass → skip) nor "added": it was not judged.
    assert ids(result.unreached) == ["A-FAIL-001", "A-SAME-001", "A-NEW-001"]
    assert not (result.fixed or result.changed or result.added or result.regressions)
    assert result.incomplete == "interrupted (Ctrl-C, SIGINT)"
    assert any("NEW is incomplete (interrupted" in w for w in result.warnings)
    text = diff.render(result)
    assert "not reached in NEW (it ended early) (3):" in text
    assert text.splitlines()[-1].startswith("NEW IS INCOMPLETE (interrupted (Ctrl-C, SIGINT)): 0 new failures")
    assert text.splitlines()[-1].endswith("3 not reached")


def test_a_requirement_an_incomplete_old_run_did_not_reach_is_added_in_new(tmp_path):
    old_data = results({"A-X-001": "skip"}, A_X_001=UNREACHED)
    old_data.update(complete=False, incomplete="the run deadline of 170 s was reached (--deadline)")
    result = diff.compare(diff.load(bundle(tmp_path, "old", old_data)),
                          diff.load(bundle(tmp_path, "new", results({"A-X-001": "fail"}))))
    assert [(c.id, c.old, c.new) for c in result.regressions] == [("A-X-001", None, "fail")]
    assert ids(result.added) == ["A-X-001"] and result.incomplete is None
    assert any(w.startswith("OLD is incomplete (the run deadline") for w in result.warnings)
